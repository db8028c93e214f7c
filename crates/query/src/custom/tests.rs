//! Typed custom fields through the whole pipeline: declaration merging, every type's literal and
//! variable checks (exact messages), evaluator semantics, SQL text for both dialects, and sort.

use std::collections::HashMap;

use serde_json::json;

use crate::{
    compile_order_by, compile_where, evaluate, parse_sort_with, parse_where, parse_where_with,
    schema, CustomFieldType as T, CustomFieldTypes, Dialect, Predicate, SqlParam,
};

fn types() -> CustomFieldTypes {
    [
        ("tier", T::Enum),
        ("level", T::LocalizedEnum),
        ("note", T::String),
        ("score", T::Number),
        ("vip", T::Boolean),
        ("since", T::Date),
        ("opens", T::Time),
        ("at", T::DateTime),
        ("title", T::LocalizedString),
        ("price", T::Money),
        ("owner", T::Reference),
        ("tags", T::Set(Box::new(T::String))),
        ("scores", T::Set(Box::new(T::Number))),
        ("flags", T::Set(Box::new(T::Boolean))),
        ("days", T::Set(Box::new(T::Date))),
        ("hours", T::Set(Box::new(T::Time))),
        ("moments", T::Set(Box::new(T::DateTime))),
        ("prices", T::Set(Box::new(T::Money))),
        ("names", T::Set(Box::new(T::LocalizedString))),
        ("refs", T::Set(Box::new(T::Reference))),
    ]
    .into_iter()
    .collect()
}

fn vars() -> HashMap<String, Vec<String>> {
    [
        ("n", vec!["2"]),
        ("ns", vec!["1", "2.5"]),
        ("bad", vec!["x"]),
        ("yes", vec!["true"]),
        ("t", vec!["09:30:00"]),
        ("when", vec!["2022-09-19T16:34:35.843+02:00"]),
        ("tiers", vec!["gold", "silver"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect()
}

fn parse(input: &str) -> Result<Predicate, String> {
    parse_where_with(
        &[input.to_owned()],
        &vars(),
        &schema::customer_schema(),
        &types(),
    )
    .map_err(|e| e.message)
}

fn sql(input: &str, dialect: Dialect) -> (String, Vec<SqlParam>) {
    let f = compile_where(&parse(input).unwrap(), dialect, 3);
    (f.sql, f.params)
}

/// A customer with a value of the declared type in every custom field.
fn doc() -> serde_json::Value {
    json!({"id": "c1", "custom": {"type": {"typeId": "type", "id": "t1"}, "fields": {
        "tier": "gold",
        "level": "high",
        "note": "Hello",
        "score": 3,
        "vip": true,
        "since": "2020-02-29",
        "opens": "09:30:00.000",
        "at": "2022-09-19T14:34:35.843Z",
        "title": {"en": "Mr", "de": "Herr"},
        "price": {"type": "centPrecision", "currencyCode": "EUR", "centAmount": 1250, "fractionDigits": 2},
        "owner": {"typeId": "customer", "id": "o1"},
        "tags": ["a", "b"],
        "scores": [1, 2.5],
        "flags": [],
        "days": ["2020-01-01"],
        "hours": ["23:00:00.000"],
        "moments": ["2021-01-01T00:00:00.000Z"],
        "prices": [{"type": "centPrecision", "currencyCode": "USD", "centAmount": 5, "fractionDigits": 2}],
        "names": [{"en": "x"}],
        "refs": [{"typeId": "customer", "id": "r1"}, {"typeId": "customer", "id": "r2"}],
        "untyped": 42
    }}})
}

#[test]
fn declarations_merge_and_conflicts_become_untyped() {
    let mut t = CustomFieldTypes::new();
    assert!(t.is_empty());
    t.declare("a", T::Number);
    t.declare("a", T::Number);
    t.declare("b", T::Number);
    t.declare("b", T::String);
    // A third, agreeing declaration does not revive a conflict.
    t.declare("b", T::Number);
    assert_eq!(t.get("a"), Some(&T::Number));
    assert_eq!(t.get("b"), None);
    assert_eq!(t.get("c"), None);
    assert!(!t.is_empty());
    let only_conflict: CustomFieldTypes =
        [("b", T::Number), ("b", T::Boolean)].into_iter().collect();
    assert!(only_conflict.is_empty());
    // The conflicting name accepts any literal, like an undeclared one.
    let p = parse_where_with(
        &["custom(fields(b = \"x\" or b = 1))".to_owned()],
        &HashMap::new(),
        &schema::customer_schema(),
        &t,
    );
    assert!(p.is_ok());
}

#[test]
fn literals_must_fit_the_declared_type() {
    for (input, detail) in [
        ("custom(fields(score = \"3\"))", "Type mismatch: field 'custom.fields.score' expects a number, got a string at position 22."),
        ("custom(fields(tier = 1))", "Type mismatch: field 'custom.fields.tier' expects a string, got a number at position 21."),
        ("custom(fields(level in (\"a\", true)))", "Type mismatch: field 'custom.fields.level' expects a string, got a boolean at position 29."),
        ("custom(fields(note != false))", "Type mismatch: field 'custom.fields.note' expects a string, got a boolean at position 22."),
        ("custom(fields(vip = \"true\"))", "Type mismatch: field 'custom.fields.vip' expects a boolean, got a string at position 20."),
        ("custom(fields(since < \"2020-02-30\"))", "Type mismatch: field 'custom.fields.since' expects a date (YYYY-MM-DD), got \"2020-02-30\" at position 22."),
        ("custom(fields(opens > \"9:30\"))", "Type mismatch: field 'custom.fields.opens' expects a time (hh:mm:ss.sss), got \"9:30\" at position 22."),
        ("custom(fields(opens > 930))", "Type mismatch: field 'custom.fields.opens' expects a time (hh:mm:ss.sss), got a number at position 22."),
        ("custom(fields(at >= \"tomorrow\"))", "Type mismatch: field 'custom.fields.at' expects a datetime (e.g. 2022-09-19T14:34:35.843Z), got \"tomorrow\" at position 20."),
        ("custom(fields(title(en = 1)))", "Type mismatch: field 'custom.fields.title.en' expects a string, got a number at position 25."),
        ("custom(fields(price(centAmount > \"100\")))", "Type mismatch: field 'custom.fields.price.centAmount' expects a number, got a string at position 33."),
        ("custom(fields(price(currencyCode = 978)))", "Type mismatch: field 'custom.fields.price.currencyCode' expects a string, got a number at position 35."),
        ("custom(fields(owner(id = 7)))", "Type mismatch: field 'custom.fields.owner.id' expects a string, got a number at position 25."),
        ("custom(fields(tags contains any (\"a\", 1)))", "Type mismatch: field 'custom.fields.tags' expects a string, got a number at position 38."),
        ("custom(fields(scores contains all (1, \"2\")))", "Type mismatch: field 'custom.fields.scores' expects a number, got a string at position 38."),
        ("custom(fields(flags = 1))", "Type mismatch: field 'custom.fields.flags' expects a boolean, got a number at position 22."),
        ("custom(fields(days = \"2020\"))", "Type mismatch: field 'custom.fields.days' expects a date (YYYY-MM-DD), got \"2020\" at position 21."),
        ("custom(fields(hours = \"25:00:00\"))", "Type mismatch: field 'custom.fields.hours' expects a time (hh:mm:ss.sss), got \"25:00:00\" at position 22."),
        ("custom(fields(moments = 1))", "Type mismatch: field 'custom.fields.moments' expects a datetime (e.g. 2022-09-19T14:34:35.843Z), got a number at position 24."),
        ("custom(fields(prices(centAmount = \"5\")))", "Type mismatch: field 'custom.fields.prices.centAmount' expects a number, got a string at position 34."),
        ("custom(fields(names(en = false)))", "Type mismatch: field 'custom.fields.names.en' expects a string, got a boolean at position 25."),
        ("custom(fields(score = :bad))", "Type mismatch: field 'custom.fields.score' expects a number, got \"x\" from input variable 'bad' at position 22."),
        ("custom(fields(vip = :n))", "Type mismatch: field 'custom.fields.vip' expects a boolean, got \"2\" from input variable 'n' at position 20."),
        ("custom(fields(opens = :bad))", "Type mismatch: field 'custom.fields.opens' expects a time (hh:mm:ss.sss), got \"x\" from input variable 'bad' at position 22."),
    ] {
        assert_eq!(
            parse(input).unwrap_err(),
            format!("Malformed parameter: where: {detail}"),
            "{input}"
        );
    }
}

#[test]
fn operators_must_suit_the_declared_type() {
    for (input, detail) in [
        ("custom(fields(score contains any (1)))", "Operator 'contains any' is not supported on field 'custom.fields.score' (a number); it requires an array field at position 20."),
        ("custom(fields(tier is empty))", "Operator 'is empty' is not supported on field 'custom.fields.tier' (a string); it requires an array field at position 19."),
        ("custom(fields(vip < true))", "Operator '<' cannot compare booleans (field 'custom.fields.vip') at position 18."),
        ("custom(fields(flags >= false))", "Operator '>=' cannot compare booleans (field 'custom.fields.flags') at position 20."),
        ("custom(fields(price = 1))", "Field 'custom.fields.price' is an object; query its fields with price(…) at position 14."),
        ("custom(fields(title = \"Mr\"))", "Field 'custom.fields.title' is an object; query its fields with title(…) at position 14."),
        ("custom(fields(owner is empty))", "Operator 'is empty' is not supported on field 'custom.fields.owner' (an object); it requires an array field at position 20."),
        ("custom(fields(prices contains any (1)))", "Field 'custom.fields.prices' is an array of objects; query its fields with prices(…) at position 14."),
        ("custom(fields(price(amount = 1)))", "Unknown field 'custom.fields.price.amount' at position 20."),
        ("custom(fields(owner(key = \"k\")))", "Unknown field 'custom.fields.owner.key' at position 20."),
        ("custom(fields(tags(x = \"a\")))", "Field 'custom.fields.tags' is a set of strings and has no nested fields at position 14."),
        ("custom(fields(score(x = 1)))", "Field 'custom.fields.score' is a number and has no nested fields at position 14."),
        ("custom(fields(title(en(x = 1))))", "Field 'custom.fields.title.en' is a string and has no nested fields at position 20."),
    ] {
        assert_eq!(
            parse(input).unwrap_err(),
            format!("Malformed parameter: where: {detail}"),
            "{input}"
        );
    }
}

#[test]
fn undeclared_and_nested_custom_fields_stay_untyped() {
    for ok in [
        "custom(fields(untyped = \"x\" or untyped = 1 or untyped = true))",
        "custom(fields(untyped(a = 1)))",
        "custom(fields(untyped contains any (1, \"a\")))",
        // An address's custom fields belong to another Type: not typed by the customer's.
        "addresses(custom(fields(score = \"x\" and price = 1)))",
    ] {
        assert!(parse(ok).is_ok(), "{ok}");
    }
    // Variables compared with an undeclared field stay strings.
    let p = parse("custom(fields(untyped = :n))").unwrap();
    assert!(!evaluate(&p, &doc()));
    let mut d = doc();
    d["custom"]["fields"]["untyped"] = json!("2");
    assert!(evaluate(&p, &d));
    // `parse_where` types nothing.
    assert!(parse_where(
        &["custom(fields(score = \"x\"))".to_owned()],
        &HashMap::new(),
        &schema::customer_schema()
    )
    .is_ok());
}

#[test]
fn typed_predicates_evaluate() {
    let d = doc();
    for (pred, want) in [
        ("custom(fields(tier = \"gold\"))", true),
        ("custom(fields(tier in :tiers))", true),
        ("custom(fields(tier != \"gold\"))", false),
        ("custom(fields(level = \"high\"))", true),
        (
            "custom(fields(note > \"Apple\" and note < \"hello\"))",
            true,
        ),
        ("custom(fields(score = 3.0))", true),
        ("custom(fields(score > :n))", true),
        ("custom(fields(score in :ns))", false),
        ("custom(fields(vip = :yes))", true),
        ("custom(fields(since >= \"2020-01-01\"))", true),
        ("custom(fields(opens = :t))", true),
        ("custom(fields(opens = \"09:30:00\"))", true),
        ("custom(fields(opens < \"09:30:00.001\"))", true),
        ("custom(fields(at = :when))", true),
        (
            "custom(fields(at > \"2022-09-19T16:34:35.843+02:00\"))",
            false,
        ),
        ("custom(fields(title(en = \"Mr\")))", true),
        ("custom(fields(title(de = \"Mr\")))", false),
        ("custom(fields(title(fr is defined)))", false),
        (
            "custom(fields(price(centAmount > 1000 and currencyCode = \"EUR\")))",
            true,
        ),
        (
            "custom(fields(price(centAmount > 1000 and currencyCode = \"USD\")))",
            false,
        ),
        (
            "custom(fields(owner(id = \"o1\" and typeId = \"customer\")))",
            true,
        ),
        ("custom(fields(tags = \"b\"))", true),
        ("custom(fields(tags contains all (\"a\", \"b\")))", true),
        ("custom(fields(tags contains all (\"a\", \"c\")))", false),
        ("custom(fields(tags is not empty))", true),
        ("custom(fields(scores contains any (2.5, 7)))", true),
        ("custom(fields(scores > 2))", true),
        ("custom(fields(flags is empty))", true),
        ("custom(fields(flags = false))", false),
        ("custom(fields(days = \"2020-01-01\"))", true),
        ("custom(fields(hours >= \"22:00:00\"))", true),
        (
            "custom(fields(moments < \"2021-01-01T01:00:00+01:00\"))",
            false,
        ),
        (
            "custom(fields(moments <= \"2021-01-01T01:00:00+01:00\"))",
            true,
        ),
        (
            "custom(fields(prices(centAmount = 5 and currencyCode = \"USD\")))",
            true,
        ),
        (
            "custom(fields(prices(centAmount = 5 and currencyCode = \"EUR\")))",
            false,
        ),
        ("custom(fields(names(en = \"x\")))", true),
        ("custom(fields(refs(id = \"r2\")))", true),
        ("custom(fields(prices is not empty))", true),
        // Absent fields match nothing, also under `!=`.
        ("custom(fields(missing = 1))", false),
        ("custom(fields(missing != 1))", false),
    ] {
        assert_eq!(evaluate(&parse(pred).unwrap(), &d), want, "{pred}");
    }
    // A value that does not fit the declared type never compares.
    let mut odd = doc();
    odd["custom"]["fields"]["score"] = json!("3");
    odd["custom"]["fields"]["tags"] = json!("a");
    for pred in [
        "custom(fields(score = 3))",
        "custom(fields(score != 3))",
        "custom(fields(tags = \"a\"))",
        "custom(fields(tags is empty))",
    ] {
        assert!(!evaluate(&parse(pred).unwrap(), &odd), "{pred}");
    }
}

#[test]
fn typed_literals_and_variables_are_converted() {
    assert_eq!(
        sql("custom(fields(score = :n))", Dialect::Sqlite).1,
        vec![
            SqlParam::Text("$.\"custom\".\"fields\".\"score\"".into()),
            SqlParam::Text("$.\"custom\".\"fields\".\"score\"".into()),
            SqlParam::Int(2)
        ]
    );
    let (_, params) = sql(
        "custom(fields(opens < :t and at > \"2022-09-19T16:34:35+02:00\"))",
        Dialect::Postgres,
    );
    assert!(
        params.contains(&SqlParam::Text("09:30:00.000".into())),
        "{params:?}"
    );
    assert!(
        params.contains(&SqlParam::Text("2022-09-19T14:34:35.000Z".into())),
        "{params:?}"
    );
    let (_, params) = sql("custom(fields(vip = :yes))", Dialect::Postgres);
    assert!(params.contains(&SqlParam::Bool(true)), "{params:?}");
}

#[test]
fn typed_sql_text() {
    let path = |p: &str| SqlParam::Text(format!("$.\"custom\".\"fields\".{p}"));
    // A typed number: one guarded numeric comparison, no any-element subquery.
    assert_eq!(
        sql("custom(fields(score > 2))", Dialect::Sqlite),
        (
            "CASE WHEN json_type(doc, '$.custom') = 'object' THEN CASE WHEN json_type(doc, '$.custom.fields') = 'object' THEN \
             CASE WHEN json_type(doc, ?) IN ('integer', 'real') THEN json_extract(doc, ?) > ? ELSE FALSE END \
             ELSE FALSE END ELSE FALSE END"
                .to_owned(),
            vec![path("\"score\""), path("\"score\""), SqlParam::Int(2)]
        )
    );
    assert_eq!(
        sql("custom(fields(score > 2))", Dialect::Postgres).0,
        "CASE WHEN jsonb_typeof((doc -> 'custom')) = 'object' THEN CASE WHEN jsonb_typeof((doc -> 'custom' -> 'fields')) = 'object' THEN \
         CASE WHEN jsonb_typeof((doc -> 'custom' -> 'fields' -> $3::text)) = 'number' THEN (doc -> 'custom' -> 'fields' -> $4::text)::numeric > $5::numeric ELSE FALSE END \
         ELSE FALSE END ELSE FALSE END"
    );
    // A typed string equality gets the GIN-servable containment pre-filter on PostgreSQL.
    assert_eq!(
        sql("custom(fields(tier = \"gold\"))", Dialect::Postgres),
        (
            "(doc @> $3::jsonb AND CASE WHEN jsonb_typeof((doc -> 'custom')) = 'object' THEN CASE WHEN jsonb_typeof((doc -> 'custom' -> 'fields')) = 'object' THEN \
             CASE WHEN jsonb_typeof((doc -> 'custom' -> 'fields' -> $4::text)) = 'string' THEN (doc -> 'custom' -> 'fields' ->> $5::text) = $6 ELSE FALSE END \
             ELSE FALSE END ELSE FALSE END)"
                .to_owned(),
            vec![
                SqlParam::Text(r#"{"custom":{"fields":{"tier":"gold"}}}"#.into()),
                SqlParam::Text("tier".into()),
                SqlParam::Text("tier".into()),
                SqlParam::Text("gold".into()),
            ]
        )
    );
    // Money: an object scope with typed members.
    assert_eq!(
        sql("custom(fields(price(centAmount > 100 and currencyCode = \"EUR\")))", Dialect::Sqlite),
        (
            "CASE WHEN json_type(doc, '$.custom') = 'object' THEN CASE WHEN json_type(doc, '$.custom.fields') = 'object' THEN \
             CASE WHEN json_type(doc, ?) = 'object' THEN \
             (CASE WHEN json_type(doc, ?) IN ('integer', 'real') THEN json_extract(doc, ?) > ? ELSE FALSE END \
             AND CASE WHEN json_type(doc, ?) = 'text' THEN json_extract(doc, ?) = ? ELSE FALSE END) \
             ELSE FALSE END ELSE FALSE END ELSE FALSE END"
                .to_owned(),
            vec![
                path("\"price\""),
                path("\"price\".\"centAmount\""),
                path("\"price\".\"centAmount\""),
                SqlParam::Int(100),
                path("\"price\".\"currencyCode\""),
                path("\"price\".\"currencyCode\""),
                SqlParam::Text("EUR".into()),
            ]
        )
    );
    assert_eq!(
        sql(
            "custom(fields(price(centAmount > 100 and currencyCode = \"EUR\")))",
            Dialect::Postgres
        )
        .1[0],
        SqlParam::Text(r#"{"custom":{"fields":{"price":{"currencyCode":"EUR"}}}}"#.into())
    );
    // A set: array elements only (a scalar value is not a candidate), one subquery per value.
    assert_eq!(
        sql("custom(fields(tags contains all (\"a\", \"b\")))", Dialect::Postgres).0,
        "(doc @> $3::jsonb AND CASE WHEN jsonb_typeof((doc -> 'custom')) = 'object' THEN CASE WHEN jsonb_typeof((doc -> 'custom' -> 'fields')) = 'object' THEN \
         (EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof((doc -> 'custom' -> 'fields' -> $4::text)) = 'array' THEN (doc -> 'custom' -> 'fields' -> $5::text) ELSE '[]'::jsonb END) AS e1(v) \
         WHERE CASE WHEN jsonb_typeof((e1.v)) = 'string' THEN ((e1.v) #>> '{}') IN ($6) ELSE FALSE END) \
         AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof((doc -> 'custom' -> 'fields' -> $7::text)) = 'array' THEN (doc -> 'custom' -> 'fields' -> $8::text) ELSE '[]'::jsonb END) AS e2(v) \
         WHERE CASE WHEN jsonb_typeof((e2.v)) = 'string' THEN ((e2.v) #>> '{}') IN ($9) ELSE FALSE END)) \
         ELSE FALSE END ELSE FALSE END)"
    );
    // Untyped fields keep the untyped shapes and have no pre-filter.
    assert!(!sql("custom(fields(untyped = \"x\"))", Dialect::Postgres)
        .0
        .contains("@>"));
    // Custom-field names stay out of the SQL text.
    for d in [Dialect::Sqlite, Dialect::Postgres] {
        let (s, _) = sql("custom(fields(title(en = \"Mr\") and tier = \"gold\"))", d);
        assert!(
            !s.contains("title") && !s.contains("tier") && !s.contains("'en'"),
            "{s}"
        );
    }
}

fn order_by(sorts: &[&str], dialect: Dialect) -> Result<String, String> {
    let c = schema::customer_schema();
    let s: Vec<String> = sorts.iter().map(|s| (*s).to_owned()).collect();
    parse_sort_with(&s, &c, &types())
        .map(|k| compile_order_by(&k, dialect, &c))
        .map_err(|e| e.message)
}

#[test]
fn typed_sort() {
    use Dialect::{Postgres, Sqlite};
    for (sort, sqlite, postgres) in [
        (
            "custom.fields.score desc",
            "json_extract(doc, '$.custom.fields.\"score\"') DESC NULLS FIRST, id ASC",
            "CASE WHEN jsonb_typeof(doc -> 'custom' -> 'fields' -> 'score') = 'number' THEN (doc -> 'custom' -> 'fields' -> 'score')::numeric END DESC NULLS FIRST, id ASC",
        ),
        (
            "custom.fields.tier",
            "json_extract(doc, '$.custom.fields.\"tier\"') ASC NULLS LAST, id ASC",
            "(doc -> 'custom' -> 'fields' ->> 'tier') COLLATE \"C\" ASC NULLS LAST, id ASC",
        ),
        (
            "custom.fields.vip",
            "json_extract(doc, '$.custom.fields.\"vip\"') ASC NULLS LAST, id ASC",
            "CASE WHEN jsonb_typeof(doc -> 'custom' -> 'fields' -> 'vip') = 'boolean' THEN (doc -> 'custom' -> 'fields' -> 'vip')::boolean END ASC NULLS LAST, id ASC",
        ),
        (
            "custom.fields.opens",
            "json_extract(doc, '$.custom.fields.\"opens\"') ASC NULLS LAST, id ASC",
            "(doc -> 'custom' -> 'fields' ->> 'opens') COLLATE \"C\" ASC NULLS LAST, id ASC",
        ),
        (
            "custom.fields.price.centAmount",
            "json_extract(doc, '$.custom.fields.\"price\".centAmount') ASC NULLS LAST, id ASC",
            "CASE WHEN jsonb_typeof(doc -> 'custom' -> 'fields' -> 'price' -> 'centAmount') = 'number' THEN (doc -> 'custom' -> 'fields' -> 'price' -> 'centAmount')::numeric END ASC NULLS LAST, id ASC",
        ),
        (
            "custom.fields.title.en",
            "json_extract(doc, '$.custom.fields.\"title\".\"en\"') ASC NULLS LAST, id ASC",
            "(doc -> 'custom' -> 'fields' -> 'title' ->> 'en') COLLATE \"C\" ASC NULLS LAST, id ASC",
        ),
        (
            "custom.fields.untyped",
            "json_extract(doc, '$.custom.fields.\"untyped\"') ASC NULLS LAST, id ASC",
            "(doc -> 'custom' -> 'fields' -> 'untyped') ASC NULLS LAST, id ASC",
        ),
    ] {
        assert_eq!(order_by(&[sort], Sqlite).unwrap(), sqlite, "{sort}");
        assert_eq!(order_by(&[sort], Postgres).unwrap(), postgres, "{sort}");
    }
    const M: &str = "Malformed parameter: sort: ";
    for (sort, detail) in [
        (
            "custom.fields.tags",
            "Field 'custom.fields.tags' is not sortable (arrays cannot be sorted by)",
        ),
        (
            "custom.fields.prices.centAmount",
            "Field 'custom.fields.prices.centAmount' is not sortable (arrays cannot be sorted by)",
        ),
        (
            "custom.fields.price",
            "Field 'custom.fields.price' is not sortable (objects cannot be sorted by)",
        ),
        (
            "custom.fields.title",
            "Field 'custom.fields.title' is not sortable (objects cannot be sorted by)",
        ),
        (
            "custom.fields.score.x",
            "Field 'custom.fields.score' has no nested fields",
        ),
        (
            "custom.fields.price.x",
            "Unknown field 'custom.fields.price.x'",
        ),
    ] {
        assert_eq!(
            order_by(&[sort], Sqlite).unwrap_err(),
            format!("{M}{detail} at position 0."),
            "{sort}"
        );
    }
}
