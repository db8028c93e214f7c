-- Indexes for more of the fields shops filter customers by (issue 12); the query-plan tests in
-- tests/store/query_plans.rs assert each one is used.

-- `firstName = "…"` (alone or sorted by it) had a column but no index.
CREATE INDEX customers_first_name_idx ON customers (project, first_name, id);

-- `companyName` lives only in the document. A generated column gives the query compiler a
-- column to compare (and sort by) and the index something to hold; no writer changes. The
-- document stores it as a string or not at all, so the column is exactly the field.
ALTER TABLE customers ADD COLUMN company_name TEXT COLLATE "C"
    GENERATED ALWAYS AS (doc ->> 'companyName') STORED;
CREATE INDEX customers_company_name_idx ON customers (project, company_name, id);
