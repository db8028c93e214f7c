-- Customer Search index (customer-search.md): one row per (customer, field, value) flattened by
-- clientele_query::search::index_entries, written in the customer's own write transaction, plus
-- analysed terms under '~<field>' (and '~all'). customer_search_docs marks customers indexed, so
-- activation can index customers written before this migration and report progress.
CREATE TABLE customer_search_values (
    project     TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    field       TEXT NOT NULL,
    text_value  TEXT NOT NULL,
    lower_value TEXT NOT NULL,
    num_value   REAL NULL
);
-- customer_id ends each value index, so a search finds its customers from the index alone.
CREATE INDEX customer_search_lower_idx ON customer_search_values (project, field, lower_value, customer_id);
CREATE INDEX customer_search_text_idx ON customer_search_values (project, field, text_value, customer_id);
CREATE INDEX customer_search_num_idx ON customer_search_values (project, field, num_value, customer_id)
    WHERE num_value IS NOT NULL;
CREATE INDEX customer_search_customer_idx ON customer_search_values (customer_id, field);

CREATE TABLE customer_search_docs (
    customer_id TEXT NOT NULL PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    project     TEXT NOT NULL
);
CREATE INDEX customer_search_docs_project_idx ON customer_search_docs (project, customer_id);
