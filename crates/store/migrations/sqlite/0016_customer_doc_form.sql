-- Which rows' documents are byte for byte the API's JSON of the customer (issue 12, reads):
-- the server writes `doc` by serializing the Customer, so reading that text back is what
-- parsing it and serializing it again would give, and a GET can answer with the stored text.
-- Rows written some other way (an older server, a script, a migration) keep 0 and are parsed
-- as before, which also normalises them (field order, defaults). A constant default costs
-- nothing here: SQLite records it in the schema and rewrites no row.
ALTER TABLE customers ADD COLUMN doc_form INTEGER NOT NULL DEFAULT 0;
