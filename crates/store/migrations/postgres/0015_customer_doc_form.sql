-- Which rows' documents are byte for byte the API's JSON of the customer (issue 12, reads).
-- Written by the same statements as on SQLite; PostgreSQL never reads it, because `doc` is
-- JSONB here and `doc::text` orders keys by length and spaces them, unlike the API's JSON, so
-- every read still parses the document. A constant default rewrites no row (PostgreSQL 11+).
ALTER TABLE customers ADD COLUMN doc_form BIGINT NOT NULL DEFAULT 0;
