-- Clientele schema for PostgreSQL. Timestamps are TEXT in the API format
-- (2022-09-19T14:34:35.843Z), which sorts chronologically; documents are JSONB. Every text column
-- uses the "C" collation so ORDER BY and comparisons are bytewise, exactly as on SQLite, and the
-- btree indexes serve them.

CREATE TABLE projects (
    key        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    languages  TEXT COLLATE "C" NOT NULL,
    countries  TEXT COLLATE "C" NOT NULL,
    currencies TEXT COLLATE "C" NOT NULL
);

CREATE TABLE api_clients (
    client_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    secret_hash TEXT COLLATE "C" NOT NULL,
    project_key TEXT COLLATE "C" NOT NULL,
    scope       TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE oauth_tokens (
    token_hash  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    kind        TEXT COLLATE "C" NOT NULL,
    client_id   TEXT COLLATE "C" NOT NULL,
    project_key TEXT COLLATE "C" NOT NULL,
    scope       TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NULL,
    expires_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX oauth_tokens_customer_idx ON oauth_tokens (project_key, customer_id);

CREATE TABLE customers (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    project          TEXT COLLATE "C" NOT NULL,
    version          BIGINT NOT NULL,
    key              TEXT COLLATE "C" NULL,
    email            TEXT COLLATE "C" NOT NULL,
    lowercase_email  TEXT COLLATE "C" NOT NULL,
    customer_number  TEXT COLLATE "C" NULL,
    external_id      TEXT COLLATE "C" NULL,
    first_name       TEXT COLLATE "C" NULL,
    last_name        TEXT COLLATE "C" NULL,
    created_at       TEXT COLLATE "C" NOT NULL,
    last_modified_at TEXT COLLATE "C" NOT NULL,
    password_hash    TEXT COLLATE "C" NULL,
    doc              JSONB NOT NULL
);
CREATE UNIQUE INDEX customers_key_uidx ON customers (project, key) WHERE key IS NOT NULL;
CREATE UNIQUE INDEX customers_customer_number_uidx ON customers (project, customer_number)
    WHERE customer_number IS NOT NULL;
CREATE INDEX customers_lowercase_email_idx ON customers (project, lowercase_email);
CREATE INDEX customers_external_id_idx ON customers (project, external_id);
CREATE INDEX customers_last_name_idx ON customers (project, last_name, id);
CREATE INDEX customers_created_at_idx ON customers (project, created_at, id);
CREATE INDEX customers_last_modified_at_idx ON customers (project, last_modified_at, id);

-- Email uniqueness (digest §9.1): one row per scope a customer occupies; scope '' is global,
-- otherwise a store key. The primary key rejects same-scope duplicates; the cross-scope rule
-- (global overlaps every store) is checked inside the serialized write transaction. The key
-- leads with the email so that check and sign-in lookups are one index probe; the scope index
-- serves in-store listings.
CREATE TABLE customer_emails (
    project         TEXT COLLATE "C" NOT NULL,
    scope           TEXT COLLATE "C" NOT NULL,
    lowercase_email TEXT COLLATE "C" NOT NULL,
    customer_id     TEXT COLLATE "C" NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    PRIMARY KEY (project, lowercase_email, scope)
);
CREATE INDEX customer_emails_scope_idx ON customer_emails (project, scope, customer_id);
CREATE INDEX customer_emails_customer_idx ON customer_emails (customer_id);

CREATE TABLE messages (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    project          TEXT COLLATE "C" NOT NULL,
    resource_id      TEXT COLLATE "C" NOT NULL,
    resource_type_id TEXT COLLATE "C" NOT NULL,
    sequence_number  BIGINT NOT NULL,
    resource_version BIGINT NOT NULL,
    type             TEXT COLLATE "C" NOT NULL,
    created_at       TEXT COLLATE "C" NOT NULL,
    doc              JSONB NOT NULL
);
CREATE UNIQUE INDEX messages_resource_sequence_uidx ON messages (resource_id, sequence_number);
CREATE INDEX messages_created_at_idx ON messages (project, created_at, id);
