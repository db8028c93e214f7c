-- Documents become SQLite's binary JSON (JSONB, SQLite 3.45+). json_extract, json_type and
-- json_each read JSONB without re-parsing text, which is most of the cost of a predicate that no
-- index serves (a scan over every document). The store writes `jsonb(?)` and reads `json(doc)`,
-- so the Rust side still sees JSON text; the JSON functions accept either form, so rows written
-- before this migration would still read correctly, but converting them keeps one format.
-- The columns keep their declared TEXT type: without STRICT it is only an affinity, and a BLOB
-- value is stored as it is.
UPDATE customers SET doc = jsonb(doc);
UPDATE messages SET doc = jsonb(doc);
UPDATE resources SET doc = jsonb(doc);
