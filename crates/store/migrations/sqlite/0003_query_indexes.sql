-- Indexes that let common query predicates be served without scanning a project's customers or
-- messages (the query-plan tests in tests/query_plans.rs assert each one is used).

-- `email = "…"` is case-sensitive, so it cannot use the lowercase_email index.
CREATE INDEX customers_email_idx ON customers (project, email);

-- `stores(key = "…")` compiles to `id IN (SELECT customer_id FROM customer_emails WHERE scope IN
-- (…))`. The compiled predicate does not know the project, so the existing
-- (project, scope, customer_id) index cannot serve it; customer ids are globally unique, so the
-- project is not needed for correctness.
CREATE INDEX customer_emails_scope_customer_idx ON customer_emails (scope, customer_id);

-- `type = "CustomerCreated"` (optionally with a createdAt range) on the Messages endpoint.
CREATE INDEX messages_type_idx ON messages (project, type, created_at, id);

-- Planner statistics. Without them SQLite assumes an equality on an index's first column leaves
-- ~10 rows, and since every index here leads with `project`, `project = ?` alone looks as
-- selective as `project = ? AND email = ?`; it then walks customers_created_at_idx for the
-- default `ORDER BY created_at, id` and filters every customer of the project. These hand-written
-- rows (https://www.sqlite.org/optoverview.html#manual_control_of_query_plans_using_sqlite_stat_tables)
-- describe the shape of a real installation instead: a project holds many rows, the other
-- indexed columns are (nearly) unique. Format: rows in the index, then the average number of
-- rows per distinct value of each prefix of its columns. A later ANALYZE replaces them with
-- measured values, which keep the same shape on real data.
ANALYZE sqlite_master;
DELETE FROM sqlite_stat1 WHERE tbl IN ('customers', 'customer_emails', 'messages');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('customers', 'sqlite_autoindex_customers_1', '1000000 1'),
    ('customers', 'customers_key_uidx', '1000000 100000 1'),
    ('customers', 'customers_customer_number_uidx', '1000000 100000 1'),
    ('customers', 'customers_lowercase_email_idx', '1000000 100000 1'),
    ('customers', 'customers_email_idx', '1000000 100000 1'),
    ('customers', 'customers_external_id_idx', '1000000 100000 2'),
    ('customers', 'customers_last_name_idx', '1000000 100000 20 1'),
    ('customers', 'customers_created_at_idx', '1000000 100000 2 1'),
    ('customers', 'customers_last_modified_at_idx', '1000000 100000 2 1'),
    ('customer_emails', 'sqlite_autoindex_customer_emails_1', '1000000 100000 1 1'),
    ('customer_emails', 'customer_emails_scope_idx', '1000000 100000 1000 1'),
    ('customer_emails', 'customer_emails_scope_customer_idx', '1000000 1000 1'),
    ('customer_emails', 'customer_emails_customer_idx', '1000000 1'),
    ('messages', 'sqlite_autoindex_messages_1', '1000000 1'),
    ('messages', 'messages_resource_sequence_uidx', '1000000 10 1'),
    ('messages', 'messages_created_at_idx', '1000000 100000 2 1'),
    ('messages', 'messages_type_idx', '1000000 100000 5000 2 1');
-- Loads the rows into this connection; connections opened later read them at open.
ANALYZE sqlite_master;
