-- `/me` and anonymous sessions (issue 13). What a customer-bound or anonymous OAuth token is
-- bound to, beside `customer_id`: the Store of an in-store password flow, the anonymous session
-- id, and `credential`, the SHA-256 of the customer's password hash when the token was issued.
-- A token whose credential no longer matches the customer's hash (password changed or reset)
-- is refused, so a token issued from a password that a concurrent reset replaced can never
-- stay usable. NULL everywhere for client-credentials tokens.
ALTER TABLE oauth_tokens ADD COLUMN store_key TEXT COLLATE "C" NULL;
ALTER TABLE oauth_tokens ADD COLUMN anonymous_id TEXT COLLATE "C" NULL;
ALTER TABLE oauth_tokens ADD COLUMN credential TEXT COLLATE "C" NULL;

-- Every anonymous session id ever issued, so a second anonymous-token request naming one is
-- refused (`AnonymousIdAlreadyInUse`); the primary key decides concurrent requests.
CREATE TABLE anonymous_ids (
    project_key  TEXT COLLATE "C" NOT NULL,
    anonymous_id TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (project_key, anonymous_id)
);
