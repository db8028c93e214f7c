-- The generic resource table: Customer Groups, Types and later resources that need no columns of
-- their own beyond id, key, version and timestamps. The API JSON lives in `doc`; `type_id` is the
-- commercetools typeId (`customer-group`, `type`, …). Keys are unique per project and type.
-- Text columns use the "C" collation, as in 0001, so ordering matches SQLite.

CREATE TABLE resources (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    project          TEXT COLLATE "C" NOT NULL,
    type_id          TEXT COLLATE "C" NOT NULL,
    key              TEXT COLLATE "C" NULL,
    version          BIGINT NOT NULL,
    created_at       TEXT COLLATE "C" NOT NULL,
    last_modified_at TEXT COLLATE "C" NOT NULL,
    doc              JSONB NOT NULL
);
CREATE UNIQUE INDEX resources_key_uidx ON resources (project, type_id, key) WHERE key IS NOT NULL;
CREATE INDEX resources_created_at_idx ON resources (project, type_id, created_at, id);
