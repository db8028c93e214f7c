-- Password-reset and email-verification tokens (digest §9.2, §9.3). Only the SHA-256 of a
-- token's value is stored; `used` marks a token redeemed or invalidated, which a redemption sets
-- with a conditional UPDATE (`WHERE used = false`) so exactly one concurrent redemption wins.
-- Timestamps are TEXT in the API format, which sorts chronologically.

CREATE TABLE customer_tokens (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    project     TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind        TEXT COLLATE "C" NOT NULL CHECK (kind IN ('password', 'email')),
    value_hash  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    used        BOOLEAN NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX customer_tokens_value_hash_uidx ON customer_tokens (value_hash);
-- Invalidating a customer's tokens of one kind, and the cascade on customer deletion.
CREATE INDEX customer_tokens_customer_idx ON customer_tokens (customer_id, kind);
