-- Customer Search index in two B-trees instead of five (issue 14, write cost): the table is
-- clustered on its customer (WITHOUT ROWID), so a customer's entries sit together and writing
-- them touches a page or two, and one lookup index (project, field, lower_value; SQLite appends
-- the key: customer_id, text_value, dup) serves every test; case-sensitive ones narrow by
-- lower_value and compare text_value inside the index. The numeric index stays. Gone: the rowid
-- heap, the text_value index and the (customer_id, field) index, which the clustering replaces
-- (and which the foreign key's cascade uses).
--
-- dup keeps a key unique: a number repeated in a custom set counts once per element (sorting by
-- sum or avg sees each), while a repeated text (two addresses in one city) is one entry, which
-- no test or text sort can tell from two. The standard non-text fields (dates, the boolean)
-- keep their text as lower_value, so their ranges are ranges of the lookup index.
--
-- Existing entries are converted here, not rebuilt: a project with search on keeps answering
-- during and after the upgrade, and copying rows in key order is much faster than indexing the
-- documents again.
CREATE TABLE customer_search_entries (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    field       TEXT NOT NULL,
    text_value  TEXT NOT NULL,
    dup         INTEGER NOT NULL,
    project     TEXT NOT NULL,
    lower_value TEXT NOT NULL,
    num_value   REAL NULL,
    PRIMARY KEY (customer_id, field, text_value, dup)
) WITHOUT ROWID;

INSERT INTO customer_search_entries
    (customer_id, field, text_value, dup, project, lower_value, num_value)
SELECT customer_id, field, text_value, dup, project,
       CASE WHEN field IN ('isEmailVerified', 'dateOfBirth', 'createdAt', 'lastModifiedAt')
            THEN text_value ELSE lower_value END,
       num_value
FROM (SELECT customer_id, field, text_value, project, lower_value, num_value,
             ROW_NUMBER() OVER (PARTITION BY customer_id, field, text_value) - 1 AS dup
      FROM customer_search_values) v
WHERE num_value IS NOT NULL OR dup = 0
ORDER BY customer_id, field, text_value, dup;

DROP TABLE customer_search_values;
ALTER TABLE customer_search_entries RENAME TO customer_search_values;

CREATE INDEX customer_search_lookup_idx ON customer_search_values (project, field, lower_value);
CREATE INDEX customer_search_num_idx ON customer_search_values (project, field, num_value)
    WHERE num_value IS NOT NULL;
