-- The Project resource (`GET /{projectKey}`): its version, creation time and the configuration
-- objects the update actions change (JSON text of `ProjectSettings`; `{}` reads as every
-- default). Projects created before this migration get the migration time as `createdAt`.
ALTER TABLE projects ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
UPDATE projects SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
