-- Indexes for more of the fields shops filter customers by (issue 12); the query-plan tests in
-- tests/store/query_plans.rs assert each one is used.

-- `firstName = "…"` (alone or sorted by it) had a column but no index.
CREATE INDEX customers_first_name_idx ON customers (project, first_name, id);

-- `companyName` lived only in the document. A column of its own, written with the row like
-- first_name, gives the query compiler a column to compare and the index something to hold.
-- (Not a generated column over the JSONB document: every writer of the table, the seeder with
-- an older SQLite included, would then have to read JSONB.)
ALTER TABLE customers ADD COLUMN company_name TEXT NULL;
UPDATE customers SET company_name = json_extract(doc, '$.companyName');
CREATE INDEX customers_company_name_idx ON customers (project, company_name, id);

-- Planner statistics in the shape of 0003's (a project holds many rows; a first name is shared
-- by a few hundred customers, a company name by a few).
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('customers', 'customers_first_name_idx', '1000000 100000 200 1'),
    ('customers', 'customers_company_name_idx', '1000000 100000 5 1');
ANALYZE sqlite_master;
