-- The generic resource table: Customer Groups, Types and later resources that need no columns of
-- their own beyond id, key, version and timestamps. The API JSON lives in `doc`; `type_id` is the
-- commercetools typeId (`customer-group`, `type`, …). Keys are unique per project and type.

CREATE TABLE resources (
    id               TEXT NOT NULL PRIMARY KEY,
    project          TEXT NOT NULL,
    type_id          TEXT NOT NULL,
    key              TEXT NULL,
    version          BIGINT NOT NULL,
    created_at       TEXT NOT NULL,
    last_modified_at TEXT NOT NULL,
    doc              TEXT NOT NULL
);
CREATE UNIQUE INDEX resources_key_uidx ON resources (project, type_id, key) WHERE key IS NOT NULL;
CREATE INDEX resources_created_at_idx ON resources (project, type_id, created_at, id);
