-- The terms of `all` and `fullName` are read from the fields they are made of
-- (`clientele_query::search::term_fields`) instead of being stored as entries of their own
-- (about a quarter of a customer's entries, each a page of the lookup index to write). Entries
-- of those two fields written by earlier builds are never read again: reclaim them.
DELETE FROM customer_search_values WHERE field IN ('~all', '~fullName');
