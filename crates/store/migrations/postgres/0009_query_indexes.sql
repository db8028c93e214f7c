-- Indexes for more of the fields shops filter customers by (issue 12); the query-plan tests in
-- tests/store/query_plans.rs assert each one is used.

-- `firstName = "…"` (alone or sorted by it) had a column but no index.
CREATE INDEX customers_first_name_idx ON customers (project, first_name, id);

-- `companyName` lived only in the document. A column of its own, written with the row like
-- first_name, gives the query compiler a column to compare (and sort by) and the index
-- something to hold.
ALTER TABLE customers ADD COLUMN company_name TEXT COLLATE "C" NULL;
UPDATE customers SET company_name = doc ->> 'companyName';
CREATE INDEX customers_company_name_idx ON customers (project, company_name, id);
