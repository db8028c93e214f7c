-- Indexes for address, customer group and email-verification predicates (issue 12); the
-- query-plan tests in tests/store/query_plans.rs assert each one is used.

-- One row per address of a customer, written in the same transaction as the customer row (and
-- deleted with it by the cascade), so `addresses(country = "DE" and city = "Berlin")` is an
-- index lookup instead of a walk through every document's address array. Only the fields shops
-- filter addresses by have a column; a predicate on any other field keeps the JSON form.
-- `position` is the address's index in the document's array.
CREATE TABLE customer_addresses (
    customer_id TEXT COLLATE "C" NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    project     TEXT COLLATE "C" NOT NULL,
    country     TEXT COLLATE "C" NULL,
    city        TEXT COLLATE "C" NULL,
    postal_code TEXT COLLATE "C" NULL,
    PRIMARY KEY (customer_id, position)
);
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
SELECT c.id, a.ord - 1, c.project, a.v ->> 'country', a.v ->> 'city',
       a.v ->> 'postalCode'
FROM customers AS c
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(c.doc -> 'addresses') = 'array' THEN c.doc -> 'addresses'
         ELSE '[]'::jsonb END) WITH ORDINALITY AS a(v, ord);

-- `customerGroup(id = "…")` and `isEmailVerified = …` lived only in the document; columns of
-- their own, written with the row like company_name (0009), give the query compiler columns to
-- compare. NULL where the document has no value, exactly as the JSON test sees it. The indexes
-- end with the default sort order, so a page in that order is read off the index.
ALTER TABLE customers ADD COLUMN customer_group_id TEXT COLLATE "C" NULL;
ALTER TABLE customers ADD COLUMN is_email_verified BOOLEAN NULL;
UPDATE customers SET
    customer_group_id = CASE WHEN jsonb_typeof(doc -> 'customerGroup' -> 'id') = 'string'
                             THEN doc -> 'customerGroup' ->> 'id' END,
    is_email_verified = CASE WHEN jsonb_typeof(doc -> 'isEmailVerified') = 'boolean'
                             THEN (doc -> 'isEmailVerified')::boolean END;
CREATE INDEX customers_customer_group_idx
    ON customers (project, customer_group_id, created_at, id);
CREATE INDEX customers_email_verified_idx
    ON customers (project, is_email_verified, created_at, id);
