#!/usr/bin/env python3
"""Bulk-seed a Clientele database for benchmarks, straight into the tables (HTTP seeding of
millions of customers takes too long). The rows are exactly what the API writes for an
ExternalAuth customer with one address (its customer_addresses row and the customer_group_id /
is_email_verified columns included), and the ids, keys and emails follow the formulas the
load generator's --preseeded mode uses:

  id    = 00000000-0000-4000-8000-{i:012d}     key   = {prefix}-{i}
  email = {prefix}-{i}@Example.com              lastName = Last{i % 1000}

On SQLite the server stores documents as JSONB (`jsonb(?)`, SQLite 3.45+), so the seeded
documents are JSONB too. The SQL is run through Python's sqlite3 module; where its SQLite is older
than 3.45 (Debian 12 ships 3.40), `jsonb()` is supplied by `jsonb_encode` below, which writes the
documented format (https://sqlite.org/jsonb.html) that the server's SQLite reads. The SQLite
documents have the API's key order (the order the server serializes a Customer in), so their rows
are marked `doc_form = 1` as the server marks its own (a plain GET then answers with the stored
text); on PostgreSQL documents are JSONB, key order is lost and the column is not read.

usage: seed.py sqlite FILE N [PREFIX]          (run `clientele project create demo` first)
       seed.py postgres URL N [PREFIX]
"""
import json
import sqlite3
import subprocess
import sys

CITIES = [("DE", "Berlin"), ("DE", "Munich"), ("US", "Boston"), ("US", "Denver"),
          ("FR", "Paris"), ("GB", "London"), ("NL", "Utrecht"), ("IT", "Rome")]


def city_case(col_country: bool, n: str) -> str:
    arms = " ".join(
        f"WHEN {i} THEN '{c if col_country else city}'" for i, (c, city) in enumerate(CITIES))
    return f"(CASE ({n}) % {len(CITIES)} {arms} END)"


# JSONB element types (https://sqlite.org/jsonb.html, "2.3 Element types").
_NULL, _TRUE, _FALSE, _INT, _FLOAT, _TEXT, _TEXTRAW, _ARRAY, _OBJECT = 0, 1, 2, 3, 5, 7, 10, 11, 12


def _element(kind: int, payload: bytes) -> bytes:
    """One JSONB element: a header (type in the low nibble, payload size in the high nibble or
    in 1, 2, 4 or 8 big-endian bytes after it) followed by the payload."""
    n = len(payload)
    if n <= 11:
        head = bytes([n << 4 | kind])
    else:
        code, width = next((c, w) for c, w in ((12, 1), (13, 2), (14, 4), (15, 8)) if n < 1 << 8 * w)
        head = bytes([code << 4 | kind]) + n.to_bytes(width, "big")
    return head + payload


def jsonb_encode(v) -> bytes:
    """The JSONB encoding of a parsed JSON value."""
    if v is None:
        return _element(_NULL, b"")
    if v is True:
        return _element(_TRUE, b"")
    if v is False:
        return _element(_FALSE, b"")
    if isinstance(v, int):
        return _element(_INT, str(v).encode())
    if isinstance(v, float):
        return _element(_FLOAT, json.dumps(v).encode())
    if isinstance(v, str):
        raw = v.encode()
        # TEXT is for strings that print as JSON without escaping; anything else is TEXTRAW.
        plain = not any(c in '"\\' or ord(c) < 0x20 for c in v)
        return _element(_TEXT if plain else _TEXTRAW, raw)
    if isinstance(v, list):
        return _element(_ARRAY, b"".join(jsonb_encode(x) for x in v))
    if isinstance(v, dict):
        return _element(_OBJECT, b"".join(jsonb_encode(k) + jsonb_encode(x) for k, x in v.items()))
    raise TypeError(f"not a JSON value: {v!r}")


def sqlite_sql(n: int, prefix: str) -> str:
    i = "x.i"
    doc = f"""json_object(
      'id', printf('00000000-0000-4000-8000-%012d', {i}), 'version', 1,
      'key', '{prefix}-' || {i},
      'createdAt', strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + {i}, 'unixepoch') || printf('.%03dZ', {i} % 1000),
      'lastModifiedAt', strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + {i}, 'unixepoch') || printf('.%03dZ', {i} % 1000),
      'email', '{prefix}-' || {i} || '@Example.com',
      'firstName', 'First' || ({i} % 97), 'lastName', 'Last' || ({i} % 1000),
      'companyName', 'Company ' || ({i} % 5000),
      'addresses', json_array(json_object('id', printf('a0000000-0000-4000-8000-%012d', {i}),
          'country', {city_case(True, i)}, 'streetName', 'Main Street',
          'streetNumber', '' || ({i} % 300), 'city', {city_case(False, i)})),
      'defaultShippingAddressId', printf('a0000000-0000-4000-8000-%012d', {i}),
      'shippingAddressIds', json_array(printf('a0000000-0000-4000-8000-%012d', {i})),
      'billingAddressIds', json_array(), 'isEmailVerified', json('false'),
      'customerGroupAssignments', json_array(), 'stores', json_array(),
      'authenticationMode', 'ExternalAuth')"""
    return f"""
-- A seeded file is a benchmark fixture, not data to protect: no rollback journal while
-- seeding (a WAL would grow to the whole size of the one transaction) and a large page cache,
-- then back to the WAL mode the server uses.
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-1000000;
BEGIN;
WITH RECURSIVE x(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM x WHERE i + 1 < {n})
INSERT INTO customers (id, project, version, key, email, lowercase_email, customer_number,
  external_id, first_name, last_name, created_at, last_modified_at, password_hash, doc,
  company_name, customer_group_id, is_email_verified, doc_form)
SELECT printf('00000000-0000-4000-8000-%012d', i), 'demo', 1, '{prefix}-' || i,
  '{prefix}-' || i || '@Example.com', lower('{prefix}-' || i || '@Example.com'), NULL, NULL,
  'First' || (i % 97), 'Last' || (i % 1000),
  strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + i, 'unixepoch') || printf('.%03dZ', i % 1000),
  strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + i, 'unixepoch') || printf('.%03dZ', i % 1000),
  NULL, jsonb({doc}), 'Company ' || (i % 5000), NULL, 0, 1 FROM x;
INSERT INTO customer_emails (project, scope, lowercase_email, customer_id)
  SELECT project, '', lowercase_email, id FROM customers WHERE key LIKE '{prefix}-%';
WITH RECURSIVE x(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM x WHERE i + 1 < {n})
INSERT INTO customer_addresses (customer_id, position, project, country, city, postal_code)
SELECT printf('00000000-0000-4000-8000-%012d', i), 0, 'demo', {city_case(True, 'i')},
  {city_case(False, 'i')}, NULL FROM x;
COMMIT;
ANALYZE;
PRAGMA journal_mode=WAL;
"""


def postgres_sql(n: int, prefix: str) -> str:
    ts = "to_char(to_timestamp(1735689600 + i) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.' || lpad((i % 1000)::text, 3, '0') || 'Z'"
    cid = "'00000000-0000-4000-8000-' || lpad(i::text, 12, '0')"
    aid = "'a0000000-0000-4000-8000-' || lpad(i::text, 12, '0')"
    doc = f"""jsonb_build_object(
      'id', {cid}, 'version', 1, 'key', '{prefix}-' || i, 'createdAt', {ts}, 'lastModifiedAt', {ts},
      'email', '{prefix}-' || i || '@Example.com', 'firstName', 'First' || (i % 97),
      'lastName', 'Last' || (i % 1000), 'companyName', 'Company ' || (i % 5000),
      'addresses', jsonb_build_array(jsonb_build_object('id', {aid}, 'country', {city_case(True, 'i')},
          'city', {city_case(False, 'i')}, 'streetName', 'Main Street', 'streetNumber', (i % 300)::text)),
      'defaultShippingAddressId', {aid}, 'shippingAddressIds', jsonb_build_array({aid}),
      'billingAddressIds', '[]'::jsonb, 'isEmailVerified', false, 'customerGroupAssignments', '[]'::jsonb,
      'stores', '[]'::jsonb, 'authenticationMode', 'ExternalAuth')"""
    return f"""
BEGIN;
INSERT INTO customers (id, project, version, key, email, lowercase_email, customer_number,
  external_id, first_name, last_name, created_at, last_modified_at, password_hash, doc,
  company_name, customer_group_id, is_email_verified)
SELECT {cid}, 'demo', 1, '{prefix}-' || i, '{prefix}-' || i || '@Example.com',
  lower('{prefix}-' || i || '@Example.com'), NULL, NULL, 'First' || (i % 97), 'Last' || (i % 1000),
  {ts}, {ts}, NULL, {doc}, 'Company ' || (i % 5000), NULL, false
  FROM generate_series(0, {n - 1}) AS i;
INSERT INTO customer_emails (project, scope, lowercase_email, customer_id)
  SELECT project, '', lowercase_email, id FROM customers WHERE key LIKE '{prefix}-%';
INSERT INTO customer_addresses (customer_id, position, project, country, city, postal_code)
  SELECT {cid}, 0, 'demo', {city_case(True, 'i')}, {city_case(False, 'i')}, NULL
  FROM generate_series(0, {n - 1}) AS i;
COMMIT;
VACUUM ANALYZE;
"""


def main() -> None:
    kind, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prefix = sys.argv[4] if len(sys.argv) > 4 else "seed"
    if kind == "sqlite":
        conn = sqlite3.connect(target, isolation_level=None)
        if sqlite3.sqlite_version_info < (3, 45, 0):
            conn.create_function("jsonb", 1, lambda text: jsonb_encode(json.loads(text)),
                                 deterministic=True)
        conn.executescript(sqlite_sql(n, prefix))
        conn.close()
    elif kind == "postgres":
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", target],
                       input=postgres_sql(n, prefix), text=True, check=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
