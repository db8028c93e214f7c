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

-- Equality predicates on document fields (`addresses(country = "DE" and city = "Berlin")`,
-- `isEmailVerified = true`, …) carry a `doc @> $n::jsonb` pre-filter on PostgreSQL, which this
-- index serves. jsonb_path_ops: smaller and faster than the default opclass, and `@>` is the only
-- operator we emit.
CREATE INDEX customers_doc_gin_idx ON customers USING GIN (doc jsonb_path_ops);
