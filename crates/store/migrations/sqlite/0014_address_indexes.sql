-- Indexes for address, customer group and email-verification predicates (issue 12); the
-- query-plan tests in tests/store/query_plans.rs assert each one is used.

-- One row per address of a customer, written in the same transaction as the customer row (and
-- deleted with it by the cascade), so `addresses(country = "DE" and city = "Berlin")` is an
-- index lookup instead of a walk through every document's address array. Only the fields shops
-- filter addresses by have a column; a predicate on any other field keeps the JSON form.
-- `position` is the address's index in the document's array. WITHOUT ROWID: the probe of one
-- customer's addresses (the correlated EXISTS of a page query) reads the table itself.
CREATE TABLE customer_addresses (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    project     TEXT NOT NULL,
    country     TEXT NULL,
    city        TEXT NULL,
    postal_code TEXT NULL,
    PRIMARY KEY (customer_id, position)
) WITHOUT ROWID;
-- Each index leads with the address field, so the compiled predicate (which does not know the
-- project: customer ids are globally unique) can use it, and continues with the project and the
-- customer id, so the capped total of a project counts distinct customers in index order.
CREATE INDEX customer_addresses_country_idx ON customer_addresses (country, project, customer_id);
CREATE INDEX customer_addresses_country_city_idx
    ON customer_addresses (country, city, project, customer_id);
CREATE INDEX customer_addresses_city_idx ON customer_addresses (city, project, customer_id);
CREATE INDEX customer_addresses_postal_code_idx
    ON customer_addresses (postal_code, project, customer_id);
INSERT INTO customer_addresses (customer_id, position, project, country, city, postal_code)
SELECT c.id, a.key, c.project, a.value ->> '$.country', a.value ->> '$.city',
       a.value ->> '$.postalCode'
FROM customers AS c, json_each(c.doc, '$.addresses') AS a
WHERE json_type(c.doc, '$.addresses') = 'array';

-- `customerGroup(id = "…")` and `isEmailVerified = …` lived only in the document; columns of
-- their own, written with the row like company_name (0010), give the query compiler columns to
-- compare. NULL where the document has no value, exactly as the JSON test sees it. The indexes
-- end with the default sort order, so a page in that order is read off the index.
ALTER TABLE customers ADD COLUMN customer_group_id TEXT NULL;
ALTER TABLE customers ADD COLUMN is_email_verified BOOLEAN NULL;
UPDATE customers SET
    customer_group_id = CASE WHEN json_type(doc, '$.customerGroup.id') = 'text'
                             THEN doc ->> '$.customerGroup.id' END,
    is_email_verified = CASE json_type(doc, '$.isEmailVerified')
                             WHEN 'true' THEN 1 WHEN 'false' THEN 0 END;
CREATE INDEX customers_customer_group_idx
    ON customers (project, customer_group_id, created_at, id);
CREATE INDEX customers_email_verified_idx
    ON customers (project, is_email_verified, created_at, id);

-- Planner statistics in the shape of 0003's: a country holds many addresses, a city fewer, a
-- postal code a few; a customer has about one address; a customer group holds many customers,
-- and email verification splits a project in two.
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('customer_addresses', 'sqlite_autoindex_customer_addresses_1', '1000000 1 1'),
    ('customer_addresses', 'customer_addresses_country_idx', '1000000 20000 2000 1'),
    ('customer_addresses', 'customer_addresses_country_city_idx', '1000000 20000 200 20 1'),
    ('customer_addresses', 'customer_addresses_city_idx', '1000000 200 20 1'),
    ('customer_addresses', 'customer_addresses_postal_code_idx', '1000000 20 2 1'),
    ('customers', 'customers_customer_group_idx', '1000000 100000 5000 2 1'),
    ('customers', 'customers_email_verified_idx', '1000000 100000 50000 2 1');
ANALYZE sqlite_master;
