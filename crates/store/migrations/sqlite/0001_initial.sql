-- Clientele schema for SQLite. Timestamps are TEXT in the API format (2022-09-19T14:34:35.843Z),
-- which sorts chronologically; documents are JSON text queried with the JSON1 functions.

CREATE TABLE projects (
    key        TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    languages  TEXT NOT NULL,
    countries  TEXT NOT NULL,
    currencies TEXT NOT NULL
);

CREATE TABLE api_clients (
    client_id   TEXT NOT NULL PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    project_key TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE oauth_tokens (
    token_hash  TEXT NOT NULL PRIMARY KEY,
    kind        TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    project_key TEXT NOT NULL,
    scope       TEXT NOT NULL,
    customer_id TEXT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX oauth_tokens_customer_idx ON oauth_tokens (project_key, customer_id);

CREATE TABLE customers (
    id               TEXT NOT NULL PRIMARY KEY,
    project          TEXT NOT NULL,
    version          BIGINT NOT NULL,
    key              TEXT NULL,
    email            TEXT NOT NULL,
    lowercase_email  TEXT NOT NULL,
    customer_number  TEXT NULL,
    external_id      TEXT NULL,
    first_name       TEXT NULL,
    last_name        TEXT NULL,
    created_at       TEXT NOT NULL,
    last_modified_at TEXT NOT NULL,
    password_hash    TEXT NULL,
    doc              TEXT NOT NULL
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
    project         TEXT NOT NULL,
    scope           TEXT NOT NULL,
    lowercase_email TEXT NOT NULL,
    customer_id     TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    PRIMARY KEY (project, lowercase_email, scope)
) WITHOUT ROWID;
CREATE INDEX customer_emails_scope_idx ON customer_emails (project, scope, customer_id);
CREATE INDEX customer_emails_customer_idx ON customer_emails (customer_id);

CREATE TABLE messages (
    id               TEXT NOT NULL PRIMARY KEY,
    project          TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    resource_type_id TEXT NOT NULL,
    sequence_number  BIGINT NOT NULL,
    resource_version BIGINT NOT NULL,
    type             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    doc              TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_resource_sequence_uidx ON messages (resource_id, sequence_number);
CREATE INDEX messages_created_at_idx ON messages (project, created_at, id);
