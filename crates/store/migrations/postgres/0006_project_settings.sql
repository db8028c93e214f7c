-- The Project resource (`GET /{projectKey}`): its version, creation time and the configuration
-- objects the update actions change (JSON text of `ProjectSettings`; `{}` reads as every
-- default). Projects created before this migration get the migration time as `createdAt`.
ALTER TABLE projects ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN created_at TEXT COLLATE "C" NOT NULL
    DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
ALTER TABLE projects ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE projects ADD COLUMN settings TEXT COLLATE "C" NOT NULL DEFAULT '{}';
