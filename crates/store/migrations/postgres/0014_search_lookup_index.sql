-- Customer Search index in three B-trees instead of four (issue 14, write cost): the lookup
-- index (project, field, lower_value, customer_id) serves every test; case-sensitive ones narrow
-- by lower_value and compare text_value in the rows found, so the text_value index goes.
-- text_value stays out of the lookup index: with both 512-character columns an entry could pass
-- PostgreSQL's B-tree row limit (about 2.7 kB), which each column alone stays under. The
-- (customer_id, field) index stays: a customer's entries are contiguous in it (one leaf page
-- per write), and per-customer tests, sort keys and the cascade use it.
--
-- dup keeps a customer's entries keyed as on SQLite (which clusters on them): a number repeated
-- in a custom set counts once per element (sorting by sum or avg sees each), while a repeated
-- text (two addresses in one city) is one entry, which no test or text sort can tell from two.
-- The standard non-text fields (dates, the boolean) keep their text as lower_value, so their
-- ranges are ranges of the lookup index.
--
-- Existing entries are converted here, not rebuilt: a project with search on keeps answering.
ALTER TABLE customer_search_values ADD COLUMN dup INTEGER NOT NULL DEFAULT 0;

WITH numbered AS (
    SELECT ctid AS row_id, num_value,
           ROW_NUMBER() OVER (PARTITION BY customer_id, field, text_value) - 1 AS n
    FROM customer_search_values
)
DELETE FROM customer_search_values v USING numbered
WHERE v.ctid = numbered.row_id AND numbered.n > 0 AND numbered.num_value IS NULL;

WITH numbered AS (
    SELECT ctid AS row_id,
           ROW_NUMBER() OVER (PARTITION BY customer_id, field, text_value) - 1 AS n
    FROM customer_search_values
)
UPDATE customer_search_values v SET dup = numbered.n FROM numbered
WHERE v.ctid = numbered.row_id AND numbered.n > 0;

UPDATE customer_search_values SET lower_value = text_value
WHERE field IN ('isEmailVerified', 'dateOfBirth', 'createdAt', 'lastModifiedAt')
  AND lower_value <> text_value;

DROP INDEX customer_search_text_idx;
