//! Unit tests of the whole pipeline: parser structure and canonical printing, every error
//! message (exact text, pinned), variable binding, evaluator semantics, SQL text for both
//! dialects, sort, expand, limits, and a print/parse round-trip property.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::ast::{CmpOp, Expr, ListOperand, Literal, Name, Operand, Span, Test};

fn vars(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
        .collect()
}

fn customer(input: &str) -> Result<Predicate, QueryError> {
    parse_where(
        &[input.to_owned()],
        &vars(&[("one", &["1"]), ("two", &["a", "b"])]),
        &schema::customer_schema(),
    )
}

fn err(input: &str) -> String {
    match customer(input) {
        Ok(p) => panic!("{input:?} parsed: {p:?}"),
        Err(e) => {
            assert!(!e.complexity, "{input:?}");
            e.message
        }
    }
}

/// Canonical print of a parsed predicate.
fn canon(input: &str) -> String {
    parser::parse(input).unwrap().to_string()
}

/// Fully parenthesised structure, for precedence tests.
fn tree(e: &Expr) -> String {
    match e {
        Expr::And(items) => format!(
            "(and {})",
            items.iter().map(tree).collect::<Vec<_>>().join(" ")
        ),
        Expr::Or(items) => format!(
            "(or {})",
            items.iter().map(tree).collect::<Vec<_>>().join(" ")
        ),
        Expr::Not(inner, _) => format!("(not {})", tree(inner)),
        Expr::Nested { field, inner } => format!("({} {})", field.text, tree(inner)),
        Expr::Cond { field, .. } => field.text.clone(),
    }
}

fn structure(input: &str) -> String {
    tree(&parser::parse(input).unwrap())
}

// ---- parser -------------------------------------------------------------------------------

#[test]
fn every_operator_parses_and_prints_canonically() {
    for (input, want) in [
        ("a=1", "a = 1"),
        ("a != \"x\"", "a != \"x\""),
        ("a <> \"x\"", "a != \"x\""),
        ("a<1", "a < 1"),
        ("a<=1.5", "a <= 1.5"),
        ("a>-1", "a > -1"),
        ("a>=-0.25", "a >= -0.25"),
        ("a = TRUE", "a = true"),
        ("a = False", "a = false"),
        ("a in (1, \"b\", true)", "a in (1, \"b\", true)"),
        ("a NOT IN (1)", "a not in (1)"),
        ("a in :xs", "a in :xs"),
        ("a contains any (\"x\")", "a contains any (\"x\")"),
        (
            "a Contains All (\"x\",\"y\")",
            "a contains all (\"x\", \"y\")",
        ),
        ("a contains all :v", "a contains all :v"),
        ("a is defined", "a is defined"),
        ("a IS NOT DEFINED", "a is not defined"),
        ("a is empty", "a is empty"),
        ("a is not empty", "a is not empty"),
        ("a = :v1", "a = :v1"),
        (
            "g within circle(13.37, 52.5, 1000)",
            "g within circle(13.37, 52.5, 1000)",
        ),
        ("a(b = 1 and c(d = 2))", "a(b = 1 and c(d = 2))"),
        ("NOT (a = 1)", "not(a = 1)"),
        ("((a = 1))", "a = 1"),
        ("\n\ta\r\n=  1 ", "a = 1"),
    ] {
        assert_eq!(canon(input), want, "{input}");
    }
}

#[test]
fn precedence_not_over_and_over_or() {
    assert_eq!(structure("a = 1 or b = 2 and c = 3"), "(or a (and b c))");
    assert_eq!(structure("a = 1 and b = 2 or c = 3"), "(or (and a b) c)");
    assert_eq!(structure("(a = 1 or b = 2) and c = 3"), "(and (or a b) c)");
    assert_eq!(
        structure("not(a = 1) and b = 2 or not(c = 3 or d = 4)"),
        "(or (and (not a) b) (not (or c d)))"
    );
    // Groups of the same operator flatten.
    assert_eq!(structure("a = 1 and (b = 2 and c = 3)"), "(and a b c)");
    assert_eq!(structure("(a = 1 or b = 2) or c = 3"), "(or a b c)");
    // Parentheses are printed only where needed.
    assert_eq!(
        canon("(a = 1 or b = 2) and (c = 3 and d = 4)"),
        "(a = 1 or b = 2) and c = 3 and d = 4"
    );
    assert_eq!(
        canon("(a = 1 and b = 2) or c = 3"),
        "a = 1 and b = 2 or c = 3"
    );
}

#[test]
fn keywords_are_contextual_and_case_insensitive() {
    // A field may be called like a keyword; `not` negates only before `(`.
    assert_eq!(
        structure("and = 1 AND or = 2 Or not = 3"),
        "(or (and and or) not)"
    );
    assert_eq!(structure("NoT(in = 1)"), "(not in)");
    assert_eq!(
        canon("a IN (1) aNd b iS nOt EmPtY"),
        "a in (1) and b is not empty"
    );
}

#[test]
fn string_escapes() {
    let e = parser::parse(r#"a = "q\" b\\ s\/ n\n t\t u\u00e9 \ud83d\ude00 raw ü""#).unwrap();
    let Expr::Cond {
        test: Test::Cmp(CmpOp::Eq, Operand::Lit(Literal::Str(s), _)),
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(s, "q\" b\\ s/ n\n t\t ué 😀 raw ü");
    assert_eq!(e.to_string(), r#"a = "q\" b\\ s/ n\n t\t ué 😀 raw ü""#);
}

#[test]
fn spans_point_at_tokens() {
    let e = parser::parse("  email  =  \"x\"").unwrap();
    let Expr::Cond { field, op_span, .. } = e else {
        panic!()
    };
    assert_eq!((field.span.start, field.span.end), (2, 7));
    assert_eq!((op_span.start, op_span.end), (9, 10));
}

// ---- error messages -----------------------------------------------------------------------

const SYNTAX: &str = "Malformed parameter: where: Syntax error while parsing 'where'. ";

#[test]
fn syntax_error_messages() {
    for (input, detail) in [
        ("", "Unexpected end of input, expected a field name, 'not' or '(' at position 0."),
        ("   ", "Unexpected end of input, expected a field name, 'not' or '(' at position 3."),
        ("email =", "Unexpected end of input, expected a value (string, number, true, false or :variable) at position 7."),
        ("email = \"a\" and", "Unexpected end of input, expected a field name, 'not' or '(' at position 15."),
        ("email = \"a\" extra", "Unexpected 'extra', expected 'and', 'or' or end of input at position 12."),
        ("(email = \"a\"", "Unexpected end of input, expected 'and', 'or' or ')' at position 12."),
        ("email = \"a\")", "Unexpected ')', expected 'and', 'or' or end of input at position 11."),
        ("email \"a\"", "Unexpected '\"a\"', expected an operator (=, !=, <>, <, <=, >, >=, in, not in, contains, is, within) or '(' at position 6."),
        ("email", "Unexpected end of input, expected an operator (=, !=, <>, <, <=, >, >=, in, not in, contains, is, within) or '(' at position 5."),
        ("email is", "Unexpected end of input, expected 'defined', 'empty' or 'not' at position 8."),
        ("email is not", "Unexpected end of input, expected 'defined' or 'empty' at position 12."),
        ("email is nothing", "Unexpected 'nothing', expected 'defined', 'empty' or 'not' at position 9."),
        ("email not", "Unexpected end of input, expected 'in' at position 9."),
        ("email contains", "Unexpected end of input, expected 'any' or 'all' at position 14."),
        ("email contains any 1", "Unexpected '1', expected '(' or an input variable at position 19."),
        ("email in ()", "Unexpected ')', expected a value (string, number, true, false or :variable) at position 10."),
        ("email in (\"a\" \"b\")", "Unexpected '\"b\"', expected ',' or ')' at position 14."),
        ("email in (\"a\",)", "Unexpected ')', expected a value (string, number, true, false or :variable) at position 14."),
        ("g within", "Unexpected end of input, expected 'circle' at position 8."),
        ("g within circle(1, 2)", "Unexpected ')', expected ',' at position 20."),
        ("g within circle(1, \"x\", 2)", "Unexpected '\"x\"', expected a number at position 19."),
        ("not email = \"x\"", "Unexpected 'email', expected an operator (=, !=, <>, <, <=, >, >=, in, not in, contains, is, within) or '(' at position 4."),
        ("= 1", "Unexpected '=', expected a field name, 'not' or '(' at position 0."),
        ("email = 1e5", "Unexpected '1e5', expected a value (string, number, true, false or :variable) at position 8."),
        ("email = \"abc", "Unterminated string literal at position 8."),
        ("email = \"a\\", "Unterminated string literal at position 8."),
        ("email = \"\\x\"", "Invalid escape sequence '\\x' at position 9."),
        ("email = \"\\u00zz\"", "Invalid unicode escape sequence at position 9."),
        ("version = 1.", "Invalid number '1.' at position 10."),
        ("version = --1", "Invalid number '--1' at position 10."),
        ("a.b = 1", "Invalid identifier 'a.b' at position 0."),
        ("email = :", "Expected a variable name ([a-zA-Z0-9]+) after ':' at position 8."),
        ("email ! \"a\"", "Unexpected character '!', expected '!=' at position 6."),
        ("email = 'a'", "Unexpected character ''' at position 8."),
        ("ü = 1", "Unexpected character 'ü' at position 0."),
        // Positions count characters, not bytes.
        ("email = \"üü\" foo", "Unexpected 'foo', expected 'and', 'or' or end of input at position 13."),
        ("custom(fields(x = 1) and", "Unexpected end of input, expected a field name, 'not' or '(' at position 24."),
        (
            "email = \"a very long string literal that goes on and on\" x",
            "Unexpected 'x', expected 'and', 'or' or end of input at position 57.",
        ),
        (
            "email \"a very long string literal that goes on and on\"",
            "Unexpected '\"a very long string literal th…', expected an operator (=, !=, <>, <, <=, >, >=, in, not in, contains, is, within) or '(' at position 6.",
        ),
    ] {
        assert_eq!(err(input), format!("{SYNTAX}{detail}"), "{input}");
    }
}

#[test]
fn semantic_error_messages() {
    for (input, detail) in [
        ("foo = 1", "Unknown field 'foo' at position 0."),
        ("email = \"ü\" and foo = 1", "Unknown field 'foo' at position 16."),
        ("addresses(foo = 1)", "Unknown field 'addresses.foo' at position 10."),
        ("customerGroup(id = \"x\" and name = \"y\")", "Unknown field 'customerGroup.name' at position 27."),
        ("password = \"x\"", "Unknown field 'password' at position 0."),
        ("email = 5", "Type mismatch: field 'email' expects a string, got a number at position 8."),
        ("version = \"x\"", "Type mismatch: field 'version' expects a number, got a string at position 10."),
        ("version in (1, true)", "Type mismatch: field 'version' expects a number, got a boolean at position 15."),
        ("isEmailVerified = \"yes\"", "Type mismatch: field 'isEmailVerified' expects a boolean, got a string at position 18."),
        ("dateOfBirth = \"1990-13-01\"", "Type mismatch: field 'dateOfBirth' expects a date (YYYY-MM-DD), got \"1990-13-01\" at position 14."),
        ("dateOfBirth = 1990", "Type mismatch: field 'dateOfBirth' expects a date (YYYY-MM-DD), got a number at position 14."),
        ("createdAt > \"yesterday\"", "Type mismatch: field 'createdAt' expects a datetime (e.g. 2022-09-19T14:34:35.843Z), got \"yesterday\" at position 12."),
        ("addresses(country = 1)", "Type mismatch: field 'addresses.country' expects a string, got a number at position 20."),
        ("shippingAddressIds contains any (1)", "Type mismatch: field 'shippingAddressIds' expects a string, got a number at position 33."),
        ("isEmailVerified > true", "Operator '>' cannot compare booleans (field 'isEmailVerified') at position 16."),
        ("custom(fields(flag <= false))", "Operator '<=' cannot compare booleans (field 'custom.fields.flag') at position 19."),
        ("email is empty", "Operator 'is empty' is not supported on field 'email' (a string); it requires an array field at position 6."),
        ("email contains any (\"a\")", "Operator 'contains any' is not supported on field 'email' (a string); it requires an array field at position 6."),
        ("email within circle(1, 2, 3)", "Operator 'within circle' is not supported on field 'email' (a string); it requires a geo location field at position 6."),
        ("addresses = \"x\"", "Field 'addresses' is an array of objects; query its fields with addresses(…) at position 0."),
        ("customerGroup = \"x\"", "Field 'customerGroup' is an object; query its fields with customerGroup(…) at position 0."),
        ("stores contains any (\"x\")", "Field 'stores' is an array of objects; query its fields with stores(…) at position 0."),
        ("email(x = 1)", "Field 'email' is a string and has no nested fields at position 0."),
        ("shippingAddressIds(x = 1)", "Field 'shippingAddressIds' is an array of strings and has no nested fields at position 0."),
        ("version = :missing", "Missing value for input variable 'missing' (query parameter 'var.missing') at position 10."),
        ("version in :missing", "Missing value for input variable 'missing' (query parameter 'var.missing') at position 11."),
        ("version = :two", "Input variable 'two' has 2 values, expected exactly one at position 10."),
        ("version in :two", "Type mismatch: field 'version' expects a number, got \"a\" from input variable 'two' at position 11."),
        ("isEmailVerified = :one", "Type mismatch: field 'isEmailVerified' expects a boolean, got \"1\" from input variable 'one' at position 18."),
    ] {
        assert_eq!(
            err(input),
            format!("Malformed parameter: where: {detail}"),
            "{input}"
        );
    }
}

#[test]
fn messages_schema_errors() {
    let e = parse_where(
        &["email = \"x\"".to_owned()],
        &HashMap::new(),
        &schema::message_schema(),
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "Malformed parameter: where: Unknown field 'email' at position 0."
    );
}

#[test]
fn error_in_a_later_where_parameter_reports_its_own_position() {
    let e = parse_where(
        &["email = \"a\"".to_owned(), "  foo = 1".to_owned()],
        &HashMap::new(),
        &schema::customer_schema(),
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "Malformed parameter: where: Unknown field 'foo' at position 2."
    );
}

// ---- limits -------------------------------------------------------------------------------

fn nested(depth: usize) -> String {
    format!("{}email = \"x\"{}", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn nesting_limit() {
    assert!(customer(&nested(MAX_NESTING)).is_ok());
    let e = customer(&nested(MAX_NESTING + 1)).unwrap_err();
    assert!(e.complexity);
    assert_eq!(
        e.message,
        "Malformed parameter: where: Query too complex: more than 10 nested levels at position 10."
    );
    // not(…) and field(…) count as levels too.
    let deep = format!(
        "{}addresses(city = \"x\"){}",
        "not(".repeat(10),
        ")".repeat(10)
    );
    assert!(customer(&deep).unwrap_err().complexity);
    // Very deep input fails fast, without exhausting the stack.
    assert!(customer(&nested(5000)).unwrap_err().complexity);
}

#[test]
fn length_limit() {
    let ok = format!("email = \"{}\"", "x".repeat(MAX_PREDICATE_BYTES - 10));
    assert_eq!(ok.len(), MAX_PREDICATE_BYTES);
    assert!(customer(&ok).is_ok());
    let long = format!("email = \"{}\"", "x".repeat(MAX_PREDICATE_BYTES));
    let e = customer(&long).unwrap_err();
    assert!(e.complexity);
    assert_eq!(
        e.message,
        "Malformed parameter: where: Query too complex: the predicate is 10010 bytes long, the limit is 10000."
    );
}

// ---- variables ----------------------------------------------------------------------------

#[test]
fn variables_are_bound_and_converted() {
    let s = schema::customer_schema();
    let v = vars(&[
        ("name", &["John"]),
        ("n", &["2"]),
        ("ns", &["1", "2.5"]),
        ("yes", &["TRUE"]),
        ("when", &["2022-09-19T16:34:35.843+02:00"]),
        ("var.prefixed", &["x"]),
    ]);
    let sql = |w: &str| {
        let p = parse_where(&[w.to_owned()], &v, &s).unwrap();
        compile_where(&p, Dialect::Sqlite, 1)
    };
    assert_eq!(
        sql("firstName = :name").params,
        vec![SqlParam::Text("John".into())]
    );
    assert_eq!(sql("version > :n").params, vec![SqlParam::Int(2)]);
    assert_eq!(
        sql("version in :ns").params,
        vec![SqlParam::Int(1), SqlParam::Float(2.5)]
    );
    assert_eq!(
        sql("version in (:n, 3)").params,
        vec![SqlParam::Int(2), SqlParam::Int(3)]
    );
    assert_eq!(
        sql("isEmailVerified = :yes").params,
        vec![SqlParam::Bool(true)]
    );
    assert_eq!(
        sql("createdAt >= :when").params,
        vec![SqlParam::Text("2022-09-19T14:34:35.843Z".into())]
    );
    assert_eq!(
        sql("key = :prefixed").params,
        vec![SqlParam::Text("x".into())]
    );
    // Custom fields are untyped: variable values stay strings.
    let p = parse_where(&["custom(fields(rank = :n))".to_owned()], &v, &s).unwrap();
    assert!(evaluate(&p, &json!({"custom": {"fields": {"rank": "2"}}})));
    assert!(!evaluate(&p, &json!({"custom": {"fields": {"rank": 2}}})));
}

// ---- evaluator semantics ------------------------------------------------------------------

fn eval_on(pred: &str, doc: serde_json::Value) -> bool {
    evaluate(&customer(pred).unwrap(), &doc)
}

#[test]
fn absent_fields_are_false_for_every_operator_and_not_negates() {
    let doc = json!({"email": "A@x.com", "addresses": [], "shippingAddressIds": []});
    for p in [
        "firstName = \"x\"",
        "firstName != \"x\"",
        "firstName < \"x\"",
        "firstName in (\"x\")",
        "firstName not in (\"x\")",
        "firstName is defined",
        "shippingAddressIds = \"x\"",
        "shippingAddressIds != \"x\"",
        "customerGroup(id is not defined)",
        "custom(fields(x is empty))",
        "custom(fields(x is not empty))",
    ] {
        assert!(!eval_on(p, doc.clone()), "{p}");
        assert!(eval_on(&format!("not({p})"), doc.clone()), "not({p})");
    }
    assert!(eval_on("firstName is not defined", doc.clone()));
    assert!(eval_on("shippingAddressIds is empty", doc.clone()));
    assert!(eval_on("lowercaseEmail = \"a@x.com\"", doc.clone()));
    assert!(!eval_on("email = \"a@x.com\"", doc));
    // JSON null counts as absent.
    assert!(eval_on(
        "firstName is not defined",
        json!({"firstName": null})
    ));
}

#[test]
fn arrays_use_any_element_semantics() {
    let doc = json!({
        "addresses": [{"country": "DE", "city": "Paris"}, {"country": "FR", "city": "Berlin"}],
        "shippingAddressIds": ["a", "b"],
    });
    assert!(!eval_on(
        "addresses(country = \"DE\" and city = \"Berlin\")",
        doc.clone()
    ));
    assert!(eval_on(
        "addresses(country = \"DE\") and addresses(city = \"Berlin\")",
        doc.clone()
    ));
    assert!(eval_on("shippingAddressIds = \"b\"", doc.clone()));
    assert!(eval_on("shippingAddressIds != \"b\"", doc.clone()));
    assert!(eval_on(
        "shippingAddressIds contains all (\"b\", \"a\")",
        doc.clone()
    ));
    assert!(!eval_on(
        "shippingAddressIds contains all (\"b\", \"c\")",
        doc.clone()
    ));
    assert!(eval_on(
        "shippingAddressIds contains any (\"c\", \"a\")",
        doc.clone()
    ));
    assert!(eval_on("addresses is not empty", doc));
}

#[test]
fn values_compare_by_type() {
    let doc = json!({
        "version": 3, "dateOfBirth": "1990-05-01", "createdAt": "2022-09-19T14:34:35.843Z",
        "custom": {"fields": {"n": 2.5, "s": "2.5", "b": true, "set": [1, "x"]}},
    });
    assert!(eval_on("version = 3.0", doc.clone()));
    assert!(eval_on("version > -1 and version < 3.5", doc.clone()));
    assert!(eval_on("dateOfBirth >= \"1990-05-01\"", doc.clone()));
    assert!(eval_on(
        "createdAt = \"2022-09-19T16:34:35.843+02:00\"",
        doc.clone()
    ));
    assert!(eval_on("createdAt > \"2022-09-19\"", doc.clone()));
    assert!(eval_on("custom(fields(n = 2.5))", doc.clone()));
    assert!(!eval_on("custom(fields(n = \"2.5\"))", doc.clone()));
    assert!(!eval_on("custom(fields(n != \"2.5\"))", doc.clone()));
    assert!(eval_on("custom(fields(s = \"2.5\"))", doc.clone()));
    assert!(eval_on("custom(fields(b = true))", doc.clone()));
    assert!(eval_on(
        "custom(fields(set = \"x\" and set = 1))",
        doc.clone()
    ));
    assert!(!eval_on("custom(fields(set not in (1)))", doc.clone()));
    assert!(eval_on("custom(fields(set not in (2)))", doc));
}

#[test]
fn several_where_parameters_are_anded() {
    let p = parse_where(
        &["version = 1".to_owned(), "email = \"a\"".to_owned()],
        &HashMap::new(),
        &schema::customer_schema(),
    )
    .unwrap();
    assert!(evaluate(&p, &json!({"version": 1, "email": "a"})));
    assert!(!evaluate(&p, &json!({"version": 1, "email": "b"})));
    assert_eq!(
        compile_where(&p, Dialect::Postgres, 1).sql,
        "(version = $1 AND email = $2)"
    );
    let all = parse_where(&[], &HashMap::new(), &schema::customer_schema()).unwrap();
    assert!(evaluate(&all, &json!({})));
    assert_eq!(compile_where(&all, Dialect::Sqlite, 1).sql, "TRUE");
}

// ---- SQL text -----------------------------------------------------------------------------

fn sql(schema: &schema::Schema, pred: &str, dialect: Dialect) -> SqlFragment {
    let p = parse_where(&[pred.to_owned()], &HashMap::new(), schema).unwrap();
    compile_where(&p, dialect, 3)
}

#[test]
fn sql_indexed_columns_are_plain_comparisons() {
    let c = schema::customer_schema();
    let f = sql(
        &c,
        "email = \"a@x.com\" and lowercaseEmail in (\"a\", \"b\")",
        Dialect::Sqlite,
    );
    assert_eq!(f.sql, "(email = ? AND lowercase_email IN (?, ?))");
    assert_eq!(
        f.params,
        vec![
            SqlParam::Text("a@x.com".into()),
            SqlParam::Text("a".into()),
            SqlParam::Text("b".into())
        ]
    );
    let f = sql(&c, "key != \"k\" or not(version >= 2)", Dialect::Postgres);
    assert_eq!(
        f.sql,
        "((key IS NOT NULL AND key <> $3) OR NOT (version >= $4))"
    );
    assert_eq!(f.params, vec![SqlParam::Text("k".into()), SqlParam::Int(2)]);
    assert_eq!(
        sql(&c, "lastName < \"B\"", Dialect::Postgres).sql,
        "(last_name IS NOT NULL AND last_name COLLATE \"C\" < $3)"
    );
    assert_eq!(
        sql(
            &c,
            "createdAt > \"2022-01-01\" and key is not defined",
            Dialect::Sqlite
        )
        .sql,
        "(created_at > ? AND key IS NULL)"
    );
    let m = schema::message_schema();
    let f = sql(
        &m,
        "resource(id = \"r\" and typeId = \"customer\") and sequenceNumber > 3",
        Dialect::Postgres,
    );
    assert_eq!(
        f.sql,
        "((resource_id = $3 AND resource_type_id = $4) AND sequence_number > $5)"
    );
}

#[test]
fn sql_document_fields() {
    let c = schema::customer_schema();
    let f = sql(&c, "middleName = \"M\"", Dialect::Sqlite);
    assert_eq!(
        f.sql,
        "CASE WHEN json_type(doc, '$.middleName') = 'text' THEN json_extract(doc, '$.middleName') = ? ELSE FALSE END"
    );
    let f = sql(
        &c,
        "title = \"Dr\" and dateOfBirth < \"2000-01-01\"",
        Dialect::Postgres,
    );
    assert_eq!(
        f.sql,
        "(doc @> $3::jsonb AND (CASE WHEN jsonb_typeof((doc -> 'title')) = 'string' THEN (doc ->> 'title') = $4 ELSE FALSE END \
         AND CASE WHEN jsonb_typeof((doc -> 'dateOfBirth')) = 'string' THEN (doc ->> 'dateOfBirth') COLLATE \"C\" < $5 ELSE FALSE END))"
    );
    assert_eq!(
        f.params,
        vec![
            SqlParam::Text(r#"{"title":"Dr"}"#.into()),
            SqlParam::Text("Dr".into()),
            SqlParam::Text("2000-01-01".into())
        ]
    );
    // isEmailVerified and customerGroup.id have columns (nullable: NULL where the document has
    // no value), compared without the document so that their indexes serve them.
    let f = sql(&c, "isEmailVerified = true", Dialect::Postgres);
    assert_eq!(
        f.sql,
        "(is_email_verified IS NOT NULL AND is_email_verified = $3)"
    );
    assert_eq!(f.params, vec![SqlParam::Bool(true)]);
    assert_eq!(
        sql(&c, "customerGroup(id = \"g1\")", Dialect::Sqlite).sql,
        "(customer_group_id IS NOT NULL AND customer_group_id = ?)"
    );
    // A test that holds on NULL keeps the object's guard.
    assert_eq!(
        sql(&c, "customerGroup(id is not defined)", Dialect::Sqlite).sql,
        "CASE WHEN json_type(doc, '$.customerGroup') = 'object' THEN customer_group_id IS NULL ELSE FALSE END"
    );
    let m = schema::message_schema();
    assert_eq!(
        sql(&m, "version > 0.5", Dialect::Postgres).sql,
        "CASE WHEN jsonb_typeof((doc -> 'version')) = 'number' THEN (doc -> 'version')::numeric > $3::numeric ELSE FALSE END"
    );
    assert_eq!(
        sql(&c, "middleName is defined", Dialect::Sqlite).sql,
        "COALESCE(json_type(doc, '$.middleName'), 'null') <> 'null'"
    );
}

#[test]
fn sql_arrays() {
    let c = schema::customer_schema();
    // A field without a side-table column (streetName) keeps the JSON form.
    assert_eq!(
        sql(&c, "addresses(country = \"DE\" and streetName = \"Main\")", Dialect::Sqlite).sql,
        "EXISTS (SELECT 1 FROM json_each(doc, '$.addresses') AS e1 WHERE json_type(doc, '$.addresses') = 'array' AND e1.type = 'object' \
         AND (CASE WHEN json_type(e1.value, '$.country') = 'text' THEN json_extract(e1.value, '$.country') = ? ELSE FALSE END \
         AND CASE WHEN json_type(e1.value, '$.streetName') = 'text' THEN json_extract(e1.value, '$.streetName') = ? ELSE FALSE END))"
    );
    assert_eq!(
        sql(&c, "addresses(country = \"DE\" and streetName = \"Main\")", Dialect::Postgres).sql,
        "(doc @> $3::jsonb AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof((doc -> 'addresses')) = 'array' THEN (doc -> 'addresses') ELSE '[]'::jsonb END) AS e1(v) \
         WHERE jsonb_typeof((e1.v)) = 'object' \
         AND (CASE WHEN jsonb_typeof((e1.v -> 'country')) = 'string' THEN (e1.v ->> 'country') = $4 ELSE FALSE END \
         AND CASE WHEN jsonb_typeof((e1.v -> 'streetName')) = 'string' THEN (e1.v ->> 'streetName') = $5 ELSE FALSE END)))"
    );
    // Country, city and postal code alone: the customer_addresses side table, correlated…
    assert_eq!(
        sql(
            &c,
            "addresses(country = \"DE\" and city = \"Berlin\")",
            Dialect::Postgres
        )
        .sql,
        "EXISTS (SELECT 1 FROM customer_addresses WHERE customer_id = customers.id AND \
         ((country IS NOT NULL AND country = $3) AND (city IS NOT NULL AND city = $4)))"
    );
    // …or, when a postal code narrows it to a few rows, driven by the side table's index.
    assert_eq!(
        sql(&c, "addresses(postalCode in (\"10115\") and not(city = \"B\"))", Dialect::Sqlite).sql,
        "customers.id IN (SELECT customer_id FROM customer_addresses WHERE \
         ((postal_code IS NOT NULL AND postal_code IN (?)) AND NOT ((city IS NOT NULL AND city = ?))))"
    );

    assert_eq!(
        sql(&c, "shippingAddressIds = \"a\"", Dialect::Postgres).sql,
        "(doc @> $3::jsonb AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof((doc -> 'shippingAddressIds')) = 'array' THEN (doc -> 'shippingAddressIds') ELSE '[]'::jsonb END) AS e1(v) \
         WHERE CASE WHEN jsonb_typeof((e1.v)) = 'string' THEN ((e1.v) #>> '{}') = $4 ELSE FALSE END))"
    );
    assert_eq!(
        sql(&c, "shippingAddressIds is empty", Dialect::Sqlite).sql,
        "CASE WHEN json_type(doc, '$.shippingAddressIds') = 'array' THEN json_array_length(doc, '$.shippingAddressIds') = 0 ELSE FALSE END"
    );
}

/// The `doc @> …` pre-filter pattern of a PostgreSQL compilation, if any.
fn pg_pattern(schema: &schema::Schema, pred: &str) -> Option<serde_json::Value> {
    let f = sql(schema, pred, Dialect::Postgres);
    if !f.sql.starts_with("(doc @> $3::jsonb AND ") {
        return None;
    }
    match &f.params[0] {
        SqlParam::Text(t) => Some(serde_json::from_str(t).unwrap()),
        other => panic!("pattern parameter is {other:?}"),
    }
}

#[test]
fn sql_postgres_containment_prefilter_is_implied_by_the_predicate() {
    let c = schema::customer_schema();
    assert_eq!(
        pg_pattern(&c, "addresses(country = \"DE\" and streetName = \"Main\")"),
        Some(json!({"addresses": [{"country": "DE", "streetName": "Main"}]}))
    );
    // The side table serves address lookups on its columns better than the GIN.
    assert_eq!(
        pg_pattern(&c, "addresses(country = \"DE\" and city = \"Berlin\")"),
        None
    );
    // Separate scopes may be met by separate elements: the arrays concatenate.
    assert_eq!(
        pg_pattern(
            &c,
            "addresses(country = \"DE\" and streetName = \"S\") and addresses(key in (\"X\")) and title = \"Dr\" and shippingAddressIds contains all (\"a\", \"b\")"
        ),
        Some(json!({
            "addresses": [{"country": "DE", "streetName": "S"}, {"key": "X"}],
            "title": "Dr",
            "shippingAddressIds": ["a", "b"]
        }))
    );
    // Only the conjuncts that imply a pattern contribute.
    assert_eq!(
        pg_pattern(
            &c,
            "addresses(country = \"DE\" and streetName != \"X\") and (title = \"a\" or title = \"b\")"
        ),
        Some(json!({"addresses": [{"country": "DE"}]}))
    );
    for none in [
        "title != \"Dr\"",
        "not(title = \"Dr\")",
        "title = \"a\" or middleName = \"b\"",
        "title in (\"a\", \"b\")",
        "version = 1",
        "lastName = \"x\"",
        "lowercaseEmail = \"x\"",
        "custom(fields(f = \"x\"))",
        "addresses(streetName != \"DE\")",
        "stores(key = \"s1\")",
    ] {
        assert_eq!(pg_pattern(&c, none), None, "{none}");
    }
    // SQLite has no pre-filter.
    assert!(!sql(&c, "title = \"Dr\"", Dialect::Sqlite)
        .sql
        .contains("@>"));
}

#[test]
fn sql_store_keys_use_the_side_table() {
    let c = schema::customer_schema();
    let f = sql(&c, "stores(key = \"s1\")", Dialect::Sqlite);
    assert_eq!(
        f.sql,
        "id IN (SELECT customer_id FROM customer_emails WHERE scope IN (?))"
    );
    assert_eq!(f.params, vec![SqlParam::Text("s1".into())]);
    let f = sql(
        &c,
        "not(stores(key in (\"s1\", \"s2\")))",
        Dialect::Postgres,
    );
    assert_eq!(
        f.sql,
        "NOT (id IN (SELECT customer_id FROM customer_emails WHERE scope IN ($3, $4)))"
    );
    // Other shapes, the reserved global scope and other schemas stay JSON.
    for json_form in [
        "stores(key != \"s1\")",
        "stores(key = \"s1\" and typeId = \"store\")",
        "stores(key = \"\")",
        "stores(key in (\"s1\", \"\"))",
    ] {
        let f = sql(&c, json_form, Dialect::Sqlite);
        assert!(!f.sql.contains("customer_emails"), "{json_form}: {}", f.sql);
    }
    for (pred, doc, want) in [
        (
            "stores(key = \"s1\")",
            json!({"stores": [{"typeId": "store", "key": "s1"}]}),
            true,
        ),
        ("stores(key = \"s1\")", json!({"stores": []}), false),
        (
            "stores(key in (\"s2\", \"s1\"))",
            json!({"stores": [{"key": "s1"}]}),
            true,
        ),
        ("not(stores(key = \"s1\"))", json!({}), true),
    ] {
        assert_eq!(eval_on(pred, doc), want, "{pred}");
    }
}

#[test]
fn sql_custom_field_names_are_parameters_never_sql_text() {
    let c = schema::customer_schema();
    let f = sql(&c, "custom(fields(my-Field_1 = \"v\"))", Dialect::Sqlite);
    assert!(!f.sql.contains("my-Field_1"), "{}", f.sql);
    assert_eq!(
        f.sql,
        "CASE WHEN json_type(doc, '$.custom') = 'object' THEN CASE WHEN json_type(doc, '$.custom.fields') = 'object' THEN \
         EXISTS (SELECT 1 FROM json_each(doc, ?) AS e1 WHERE json_type(doc, ?) <> 'object' \
         AND CASE WHEN e1.type = 'text' THEN e1.value = ? ELSE FALSE END) ELSE FALSE END ELSE FALSE END"
    );
    let path = SqlParam::Text("$.\"custom\".\"fields\".\"my-Field_1\"".into());
    assert_eq!(
        f.params,
        vec![path.clone(), path, SqlParam::Text("v".into())]
    );
    let f = sql(&c, "custom(fields(my-Field_1 = \"v\"))", Dialect::Postgres);
    assert!(!f.sql.contains("my-Field_1"), "{}", f.sql);
    assert!(
        f.sql.contains("(doc -> 'custom' -> 'fields' -> $3::text)"),
        "{}",
        f.sql
    );
    assert_eq!(f.params.len(), 5);
    assert_eq!(f.params[4], SqlParam::Text("v".into()));
}

#[test]
fn user_text_never_reaches_sql() {
    let c = schema::customer_schema();
    let evil = "x'); DROP TABLE customers; --";
    for p in [
        format!("email = {}", json!(evil)),
        format!("addresses(city in ({}, \"y\"))", json!(evil)),
        format!("custom(fields(a = {}))", json!(evil)),
    ] {
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let f = sql(&c, &p, d);
            assert!(!f.sql.contains("DROP"), "{}", f.sql);
            assert!(f.params.contains(&SqlParam::Text(evil.into())));
        }
    }
}

// ---- sort ---------------------------------------------------------------------------------

fn order_by(sorts: &[&str], dialect: Dialect) -> Result<String, String> {
    let c = schema::customer_schema();
    let s: Vec<String> = sorts.iter().map(|s| (*s).to_owned()).collect();
    parse_sort(&s, &c)
        .map(|k| compile_order_by(&k, dialect, &c))
        .map_err(|e| e.message)
}

#[test]
fn sort_compiles_with_a_tie_breaker() {
    use Dialect::{Postgres, Sqlite};
    assert_eq!(order_by(&[], Sqlite).unwrap(), "created_at ASC, id ASC");
    assert_eq!(
        order_by(&["lastName desc", "createdAt"], Sqlite).unwrap(),
        "last_name DESC NULLS FIRST, created_at ASC, id ASC"
    );
    assert_eq!(
        order_by(&["lastName desc", "createdAt"], Postgres).unwrap(),
        "last_name COLLATE \"C\" DESC NULLS FIRST, created_at COLLATE \"C\" ASC, id ASC"
    );
    assert_eq!(
        order_by(&["  email   DESC  "], Sqlite).unwrap(),
        "email DESC, id ASC"
    );
    assert_eq!(order_by(&["id desc"], Sqlite).unwrap(), "id DESC");
    assert_eq!(
        order_by(&["custom.fields.rank asc", "key AsC"], Sqlite).unwrap(),
        "json_extract(doc, '$.custom.fields.\"rank\"') ASC NULLS LAST, key ASC NULLS LAST, id ASC"
    );
    assert_eq!(
        order_by(&["custom.fields.rank"], Postgres).unwrap(),
        "(doc -> 'custom' -> 'fields' -> 'rank') ASC NULLS LAST, id ASC"
    );
    assert_eq!(
        order_by(
            &["customerGroup.id", "version DESC", "isEmailVerified"],
            Postgres
        )
        .unwrap(),
        "customer_group_id COLLATE \"C\" ASC NULLS LAST, version DESC, \
         is_email_verified ASC NULLS LAST, id ASC"
    );
    assert_eq!(
        order_by(&["dateOfBirth"], Sqlite).unwrap(),
        "json_extract(doc, '$.dateOfBirth') ASC NULLS LAST, id ASC"
    );
    let m = schema::message_schema();
    let k = parse_sort(
        &["sequenceNumber asc".to_owned(), "resource.id".to_owned()],
        &m,
    )
    .unwrap();
    assert_eq!(
        compile_order_by(&k, Sqlite, &m),
        "sequence_number ASC, resource_id ASC, id ASC"
    );
    assert_eq!(k[0].path(), "sequenceNumber");
    assert!(!k[0].descending());
}

#[test]
fn sort_error_messages() {
    const S: &str = "Malformed parameter: sort: Syntax error while parsing 'sort'. ";
    const M: &str = "Malformed parameter: sort: ";
    for (input, want) in [
        ("", format!("{S}Unexpected end of input, expected a field name at position 0.")),
        ("foo", format!("{M}Unknown field 'foo' at position 0.")),
        (" custom.type.name", format!("{M}Unknown field 'custom.type.name' at position 1.")),
        ("addresses.country asc", format!("{M}Field 'addresses.country' is not sortable (arrays cannot be sorted by) at position 0.")),
        ("shippingAddressIds", format!("{M}Field 'shippingAddressIds' is not sortable (arrays cannot be sorted by) at position 0.")),
        ("customerGroup", format!("{M}Field 'customerGroup' is not sortable (objects cannot be sorted by) at position 0.")),
        ("custom.fields", format!("{M}Field 'custom.fields' is not sortable (objects cannot be sorted by) at position 0.")),
        ("email.x", format!("{M}Field 'email' has no nested fields at position 0.")),
        ("lastName up", format!("{S}Unexpected 'up', expected 'asc' or 'desc' at position 9.")),
        ("lastName asc x", format!("{S}Unexpected 'x', expected end of input at position 13.")),
        ("a..b", format!("{S}Invalid field path 'a..b' at position 0.")),
        ("custom.fields.x'y", format!("{S}Invalid field path 'custom.fields.x'y' at position 0.")),
    ] {
        assert_eq!(order_by(&[input], Dialect::Sqlite).unwrap_err(), want, "{input}");
    }
}

// ---- expand -------------------------------------------------------------------------------

#[test]
fn expand_paths() {
    let p = parse_expand(&[
        "customerGroup".to_owned(),
        "customerGroupAssignments[*].customerGroup".to_owned(),
        " stores[*] ".to_owned(),
        "customer.customerGroup".to_owned(),
        "unknownThing.whatever".to_owned(),
    ])
    .unwrap();
    assert_eq!(
        p[1].segments,
        vec![
            ExpandSegment {
                name: "customerGroupAssignments".into(),
                all_elements: true
            },
            ExpandSegment {
                name: "customerGroup".into(),
                all_elements: false
            },
        ]
    );
    let printed: Vec<String> = p.iter().map(ToString::to_string).collect();
    assert_eq!(
        printed,
        [
            "customerGroup",
            "customerGroupAssignments[*].customerGroup",
            "stores[*]",
            "customer.customerGroup",
            "unknownThing.whatever"
        ]
    );
    assert_eq!(parse_expand(&[]).unwrap(), vec![]);
}

#[test]
fn expand_error_messages() {
    const S: &str = "Malformed parameter: expand: Syntax error while parsing 'expand'. ";
    for (input, detail) in [
        ("", "Empty expansion path at position 0."),
        ("  ", "Empty expansion path at position 2."),
        ("a..b", "Empty path segment at position 2."),
        (".a", "Empty path segment at position 0."),
        ("a.", "Empty path segment at position 2."),
        ("[*]", "Empty path segment at position 0."),
        ("[", "Empty path segment at position 0."),
        ("a[", "Expected '[*]' at position 1."),
        ("a[0]", "Expected '[*]' at position 1."),
        ("a[*]x", "Unexpected character 'x' at position 4."),
        ("a[*][*]", "Unexpected character '[' at position 4."),
        ("a b", "Unexpected character ' ' at position 1."),
    ] {
        assert_eq!(
            parse_expand(&[input.to_owned()]).unwrap_err().message,
            format!("{S}{detail}"),
            "{input}"
        );
    }
}

// ---- round trip ---------------------------------------------------------------------------

fn name(text: impl Into<String>) -> Name {
    Name {
        text: text.into(),
        span: Span::default(),
    }
}

fn arb_field() -> impl Strategy<Value = String> {
    // Includes keyword-like names (`in`, `and`, …) and a digit-first custom-field name.
    prop_oneof![
        proptest::sample::select(vec![
            "email", "version", "in", "and", "or", "is", "true", "x-y_z", "9lives", "NOT"
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_][a-zA-Z0-9_-]{0,8}",
    ]
    // `not` directly before `(` would be negation; a nested field named `not` is unprintable.
    .prop_filter("not a negation", |s| !s.eq_ignore_ascii_case("not"))
}

fn arb_literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<String>().prop_map(Literal::Str),
        "\\PC{0,6}".prop_map(Literal::Str),
        any::<i64>().prop_map(|n| Literal::Num(n.to_string())),
        ("-?[0-9]{1,5}", "[0-9]{1,4}").prop_map(|(i, f)| Literal::Num(format!("{i}.{f}"))),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

fn arb_operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        4 => arb_literal().prop_map(|l| Operand::Lit(l, Span::default())),
        1 => "[a-zA-Z0-9]{1,6}".prop_map(|v| Operand::Var(v, Span::default())),
    ]
}

fn arb_list() -> impl Strategy<Value = ListOperand> {
    prop_oneof![
        proptest::collection::vec(arb_operand(), 1..4).prop_map(ListOperand::List),
        "[a-zA-Z0-9]{1,6}".prop_map(|v| ListOperand::Var(v, Span::default())),
    ]
}

fn arb_test() -> impl Strategy<Value = Test> {
    let op = proptest::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ]);
    prop_oneof![
        (op, arb_operand()).prop_map(|(o, v)| Test::Cmp(o, v)),
        (any::<bool>(), arb_list()).prop_map(|(negated, values)| Test::In { negated, values }),
        (any::<bool>(), arb_list()).prop_map(|(all, values)| Test::Contains { all, values }),
        any::<bool>().prop_map(|negated| Test::Defined { negated }),
        any::<bool>().prop_map(|negated| Test::Empty { negated }),
        ("-?[0-9]{1,3}", "[0-9]{1,3}", "[0-9]{1,3}\\.[0-9]")
            .prop_map(|(a, b, c)| Test::WithinCircle([a, b, c])),
    ]
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    let leaf = (arb_field(), arb_test()).prop_map(|(f, test)| Expr::Cond {
        field: name(f),
        test,
        op_span: Span::default(),
    });
    // Depth 4 keeps every tree within the nesting limit.
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::and),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::or),
            inner
                .clone()
                .prop_map(|e| Expr::Not(Box::new(e), Span::default())),
            (arb_field(), inner).prop_map(|(f, e)| Expr::Nested {
                field: name(f),
                inner: Box::new(e),
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_round_trips(e in arb_expr()) {
        let printed = e.to_string();
        let parsed = parser::parse(&printed)
            .map_err(|err| TestCaseError::fail(format!("{printed}: {err:?}")))?;
        prop_assert_eq!(&parsed, &e, "{}", printed);
        // Canonical: printing is a fixed point.
        prop_assert_eq!(parsed.to_string(), printed);
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,40}") {
        let _ = customer(&s);
        let _ = parse_sort(std::slice::from_ref(&s), &schema::customer_schema());
        let _ = parse_expand(std::slice::from_ref(&s));
    }
}
