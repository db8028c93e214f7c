//! Strict parsing of a `CustomerSearchRequest` body into a [`SearchRequest`]: every key must
//! be known, every value of the field's type, every limit kept (`customer-search.md` §7);
//! anything else is a [`SearchError`] naming the problem, never an ignored clause.
//!
//! Must not evaluate or compile the request.

use serde_json::{Map, Value};

use super::fields::standard_field;
use super::{
    Leaf, LeafTest, SearchField, SearchQuery, SearchRequest, SearchSort, SearchValue, SortMode,
    SortTarget, ValueKind, DEFAULT_LIMIT, MAX_BOOST, MAX_EXPRESSIONS, MAX_LIMIT, MAX_OFFSET,
    MAX_SORT_ENTRIES, MAX_VALUE_CHARS,
};
use crate::check::{parse_date, parse_datetime, parse_time};

/// Why a search request is refused (400 `InvalidInput` with this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SearchError {
    /// What is wrong, naming the offending part.
    pub message: String,
}

fn err<T>(message: impl Into<String>) -> Result<T, SearchError> {
    Err(SearchError {
        message: message.into(),
    })
}

/// Parses and checks a `CustomerSearchRequest` body.
pub fn parse_search_request(body: &Value) -> Result<SearchRequest, SearchError> {
    let Some(obj) = body.as_object() else {
        return err("The search request must be a JSON object.");
    };
    for key in obj.keys() {
        if !["query", "sort", "limit", "offset"].contains(&key.as_str()) {
            return err(format!("Unknown field '{key}' in the search request."));
        }
    }
    let limit = bounded(obj.get("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)?;
    let offset = bounded(obj.get("offset"), "offset", 0, MAX_OFFSET, 0)?;
    let query = match obj.get("query") {
        None | Some(Value::Null) => None,
        Some(q) => {
            let mut count = 0;
            Some(parse_query(q, &mut count, "query")?)
        }
    };
    let sort = match obj.get("sort") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() > MAX_SORT_ENTRIES => {
            return err(format!(
                "Invalid sort. It may hold at most {MAX_SORT_ENTRIES} SearchSorting entries."
            ))
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, s)| parse_sort(s, &format!("sort[{i}]")))
            .collect::<Result<_, _>>()?,
        Some(_) => return err("Invalid sort. It must be an array of SearchSorting."),
    };
    Ok(SearchRequest {
        query,
        sort,
        limit,
        offset,
    })
}

/// An optional integer parameter within `min..=max`.
fn bounded(
    v: Option<&Value>,
    name: &str,
    min: u32,
    max: u32,
    default: u32,
) -> Result<u32, SearchError> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|n| (u64::from(min)..=u64::from(max)).contains(n))
            .and_then(|n| u32::try_from(n).ok())
            .map_or_else(
                || {
                    err(format!(
                        "Invalid {name}. It may be a number between {min} and {max}."
                    ))
                },
                Ok,
            ),
    }
}

/// The one key of a single-key object, with its value.
fn single_key<'a>(v: &'a Value, at: &str) -> Result<(&'a str, &'a Value), SearchError> {
    match v.as_object() {
        Some(o) if o.len() == 1 => o
            .iter()
            .next()
            .map(|(k, v)| (k.as_str(), v))
            .map_or_else(|| err(format!("Invalid {at}.")), Ok),
        Some(o) => err(format!(
            "Invalid {at}: a SearchQuery must have exactly one key (an expression), found {}.",
            o.len()
        )),
        None => err(format!(
            "Invalid {at}: a SearchQuery must be a JSON object."
        )),
    }
}

fn parse_query(v: &Value, count: &mut usize, at: &str) -> Result<SearchQuery, SearchError> {
    *count += 1;
    if *count > MAX_EXPRESSIONS {
        return err(format!(
            "The query has too many expressions: at most {MAX_EXPRESSIONS} are allowed."
        ));
    }
    let (key, value) = single_key(v, at)?;
    let compound = |count: &mut usize| -> Result<Vec<SearchQuery>, SearchError> {
        let items = match value.as_array() {
            Some(items) if !items.is_empty() => items,
            _ => {
                return err(format!(
                    "Invalid {at}.{key}: it must be a non-empty array of SearchQuery."
                ))
            }
        };
        items
            .iter()
            .enumerate()
            .map(|(i, q)| parse_query(q, count, &format!("{at}.{key}[{i}]")))
            .collect()
    };
    Ok(match key {
        "and" => SearchQuery::And(compound(count)?),
        "or" => SearchQuery::Or(compound(count)?),
        "not" => SearchQuery::Not(compound(count)?),
        "filter" => SearchQuery::Filter(compound(count)?),
        simple => SearchQuery::Leaf(parse_leaf(simple, value, &format!("{at}.{key}"))?),
    })
}

/// Keys every simple expression allows, besides its own.
const COMMON: &[&str] = &["field", "boost", "fieldType"];

fn parse_leaf(kind: &str, v: &Value, at: &str) -> Result<Leaf, SearchError> {
    let own: &[&str] = match kind {
        "exact" => &["value", "values", "language", "caseInsensitive"],
        "fullText" | "fullTextPrefix" => &["value", "language", "mustMatch"],
        "prefix" | "wildcard" => &["value", "language", "caseInsensitive"],
        "fuzzy" => &["value", "level", "language", "mustMatch"],
        "range" => &["gt", "gte", "lt", "lte"],
        "exists" => &["language"],
        other => return err(format!("Unknown expression '{other}' at {at}.")),
    };
    let Some(o) = v.as_object() else {
        return err(format!("Invalid {at}: it must be a JSON object."));
    };
    for key in o.keys() {
        if !COMMON.contains(&key.as_str()) && !own.contains(&key.as_str()) {
            return err(format!("Unknown field '{key}' in {at}."));
        }
    }
    if o.contains_key("language") {
        return err(format!(
            "Invalid {at}.language: no searchable Customer field is localized."
        ));
    }
    let field = parse_field(o, at)?;
    let boost = match o.get("boost") {
        None => 1.0,
        Some(b) => match b.as_f64() {
            Some(b) if b.is_finite() && b > 0.0 && b <= MAX_BOOST => b,
            _ => {
                return err(format!(
                    "Invalid {at}.boost: it must be a positive number of at most {MAX_BOOST}."
                ))
            }
        },
    };
    let analysed = || {
        if field.analysed {
            Ok(())
        } else {
            err(format!(
                "The field '{}' does not support {kind} (it is not a text field that is analysed).",
                field.name
            ))
        }
    };
    let text_only = || {
        if field.kind == ValueKind::Text && field.name != "all" {
            Ok(())
        } else {
            err(format!(
                "The field '{}' does not support {kind} (text fields only).",
                field.name
            ))
        }
    };
    let not_all = || {
        if field.name == "all" {
            err(format!(
                "The field 'all' supports fullText, fullTextPrefix and fuzzy only, not {kind}."
            ))
        } else {
            Ok(())
        }
    };
    let ci = flag(o, "caseInsensitive", at)?;
    let test = match kind {
        "exact" => {
            not_all()?;
            let values = match (o.get("value"), o.get("values")) {
                (Some(v), None) => vec![typed(v, &field, &format!("{at}.value"))?],
                (None, Some(Value::Array(vs))) if !vs.is_empty() && vs.len() <= 100 => vs
                    .iter()
                    .enumerate()
                    .map(|(i, v)| typed(v, &field, &format!("{at}.values[{i}]")))
                    .collect::<Result<_, _>>()?,
                (None, Some(_)) => {
                    return err(format!(
                        "Invalid {at}.values: it must be an array of 1 to 100 values."
                    ))
                }
                _ => return err(format!("{at} needs exactly one of 'value' and 'values'.")),
            };
            if ci && field.kind != ValueKind::Text {
                return err(format!(
                    "Invalid {at}.caseInsensitive: the field '{}' is not a text field.",
                    field.name
                ));
            }
            let values = values
                .into_iter()
                .map(|v| match v {
                    SearchValue::Text(s) if ci => SearchValue::Text(s.to_lowercase()),
                    other => other,
                })
                .collect();
            LeafTest::Exact {
                values,
                case_insensitive: ci,
            }
        }
        "prefix" | "wildcard" => {
            text_only()?;
            let value = string(o, "value", at)?;
            let value = if ci { value.to_lowercase() } else { value };
            if kind == "prefix" {
                LeafTest::Prefix {
                    value,
                    case_insensitive: ci,
                }
            } else {
                LeafTest::Wildcard {
                    pattern: value,
                    case_insensitive: ci,
                }
            }
        }
        "fullText" | "fullTextPrefix" => {
            analysed()?;
            let terms = terms(o, at)?;
            LeafTest::FullText {
                terms,
                all: must_match_all(o, at)?,
                last_is_prefix: kind == "fullTextPrefix",
            }
        }
        "fuzzy" => {
            analysed()?;
            let level = match o.get("level").and_then(Value::as_u64) {
                Some(l) if l <= 2 => l as u8,
                _ => return err(format!("Invalid {at}.level: it must be 0, 1 or 2.")),
            };
            let terms = terms(o, at)?
                .into_iter()
                .map(|t| {
                    let effective = super::fuzzy_level(&t, level);
                    (t, effective)
                })
                .collect();
            LeafTest::Fuzzy {
                terms,
                all: must_match_all(o, at)?,
            }
        }
        "range" => {
            not_all()?;
            if field.kind == ValueKind::Text || field.kind == ValueKind::Bool {
                return err(format!(
                    "The field '{}' does not support range (numbers, dates and times only).",
                    field.name
                ));
            }
            let bound = |name: &str| {
                o.get(name)
                    .map(|v| typed(v, &field, &format!("{at}.{name}")))
                    .transpose()
            };
            let (gt, gte, lt, lte) = (bound("gt")?, bound("gte")?, bound("lt")?, bound("lte")?);
            if gt.is_none() && gte.is_none() && lt.is_none() && lte.is_none() {
                return err(format!("{at} needs at least one of gt, gte, lt and lte."));
            }
            LeafTest::Range { gt, gte, lt, lte }
        }
        _ => {
            not_all()?;
            LeafTest::Exists
        }
    };
    Ok(Leaf { field, boost, test })
}

/// The field named by `o.field` (with `o.fieldType` for custom fields).
fn parse_field(o: &Map<String, Value>, at: &str) -> Result<SearchField, SearchError> {
    let Some(name) = o.get("field").and_then(Value::as_str) else {
        return err(format!("{at} needs a 'field' (a string)."));
    };
    let field_type = match o.get("fieldType") {
        None => None,
        Some(Value::String(t)) => Some(t.as_str()),
        Some(_) => return err(format!("Invalid {at}.fieldType: it must be a string.")),
    };
    resolve_field(name, field_type, at)
}

/// A field by name: `all`, a standard field, or `custom.<name>` typed by `field_type`.
fn resolve_field(
    name: &str,
    field_type: Option<&str>,
    at: &str,
) -> Result<SearchField, SearchError> {
    if let Some(t) = field_type {
        if !FIELD_TYPES.contains(&t) {
            return err(format!(
                "Invalid {at}.fieldType: '{t}' is not a SearchFieldType."
            ));
        }
    }
    if name == "all" {
        return Ok(SearchField {
            name: "all".to_owned(),
            kind: ValueKind::Text,
            analysed: true,
        });
    }
    if let Some(custom) = name.strip_prefix("custom.") {
        if custom.is_empty() || custom.contains('.') {
            return err(format!(
                "Invalid {at}.field: '{name}' is not a custom field path."
            ));
        }
        let Some(t) = field_type else {
            return err(format!(
                "{at} names the custom field '{name}' and so needs a 'fieldType'."
            ));
        };
        let kind = match t.strip_prefix("set_").unwrap_or(t) {
            "boolean" => ValueKind::Bool,
            "text" | "enum" | "lenum" => ValueKind::Text,
            "number" => ValueKind::Number,
            "date" => ValueKind::Date,
            "datetime" => ValueKind::DateTime,
            "time" => ValueKind::Time,
            other => {
                return err(format!(
                    "Invalid {at}.fieldType: custom fields of type '{other}' are not searchable."
                ))
            }
        };
        return Ok(SearchField {
            name: name.to_owned(),
            kind,
            analysed: kind == ValueKind::Text,
        });
    }
    standard_field(name).map_or_else(
        || {
            err(format!(
                "The field '{name}' is not a searchable Customer field ({at})."
            ))
        },
        Ok,
    )
}

/// `SearchFieldType` values.
const FIELD_TYPES: &[&str] = &[
    "boolean",
    "text",
    "ltext",
    "enum",
    "lenum",
    "number",
    "money",
    "date",
    "datetime",
    "time",
    "reference",
    "set_boolean",
    "set_text",
    "set_ltext",
    "set_enum",
    "set_lenum",
    "set_number",
    "set_money",
    "set_date",
    "set_datetime",
    "set_time",
    "set_reference",
];

fn flag(o: &Map<String, Value>, name: &str, at: &str) -> Result<bool, SearchError> {
    match o.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => err(format!("Invalid {at}.{name}: it must be a boolean.")),
    }
}

fn checked_len(s: &str, at: &str) -> Result<(), SearchError> {
    if s.chars().count() > MAX_VALUE_CHARS {
        return err(format!(
            "Invalid {at}. It may be a string of at most {MAX_VALUE_CHARS} characters."
        ));
    }
    Ok(())
}

fn string(o: &Map<String, Value>, name: &str, at: &str) -> Result<String, SearchError> {
    match o.get(name) {
        Some(Value::String(s)) if !s.is_empty() => {
            checked_len(s, &format!("{at}.{name}"))?;
            Ok(s.clone())
        }
        _ => err(format!(
            "Invalid {at}.{name}: it must be a non-empty string."
        )),
    }
}

/// The analysed terms of `o.value` (at least one).
fn terms(o: &Map<String, Value>, at: &str) -> Result<Vec<String>, SearchError> {
    let value = string(o, "value", at)?;
    let terms = super::tokenize(&value);
    if terms.is_empty() {
        return err(format!("Invalid {at}.value: it holds no searchable term."));
    }
    Ok(terms)
}

fn must_match_all(o: &Map<String, Value>, at: &str) -> Result<bool, SearchError> {
    match o.get("mustMatch") {
        None => Ok(true),
        Some(Value::String(s)) if s == "all" => Ok(true),
        Some(Value::String(s)) if s == "any" => Ok(false),
        Some(_) => err(format!(
            "Invalid {at}.mustMatch: it must be 'any' or 'all'."
        )),
    }
}

/// `v` as a value of `field`'s kind.
fn typed(v: &Value, field: &SearchField, at: &str) -> Result<SearchValue, SearchError> {
    let text = |s: &str| -> Result<(), SearchError> { checked_len(s, at) };
    match (field.kind, v) {
        (ValueKind::Text, Value::String(s)) => {
            text(s)?;
            Ok(SearchValue::Text(s.clone()))
        }
        (ValueKind::Bool, Value::Bool(b)) => Ok(SearchValue::Text(b.to_string())),
        (ValueKind::Number, Value::Number(n)) => n
            .as_f64()
            .map(SearchValue::Number)
            .map_or_else(|| err(format!("Invalid {at}: not a finite number.")), Ok),
        (ValueKind::Date, Value::String(s)) => parse_date(s).map(SearchValue::Text).map_or_else(
            || err(format!("Invalid {at}: '{s}' is not a date (YYYY-MM-DD).")),
            Ok,
        ),
        (ValueKind::DateTime, Value::String(s)) => {
            parse_datetime(s).map(SearchValue::Text).map_or_else(
                || err(format!("Invalid {at}: '{s}' is not a datetime.")),
                Ok,
            )
        }
        (ValueKind::Time, Value::String(s)) => parse_time(s)
            .map(SearchValue::Text)
            .map_or_else(|| err(format!("Invalid {at}: '{s}' is not a time.")), Ok),
        (kind, _) => err(format!(
            "Invalid {at}: the field '{}' expects {}.",
            field.name,
            match kind {
                ValueKind::Text => "a string",
                ValueKind::Bool => "a boolean",
                ValueKind::Number => "a number",
                ValueKind::Date => "a date string",
                ValueKind::DateTime => "a datetime string",
                ValueKind::Time => "a time string",
            }
        )),
    }
}

fn parse_sort(v: &Value, at: &str) -> Result<SearchSort, SearchError> {
    let Some(o) = v.as_object() else {
        return err(format!("Invalid {at}: it must be a JSON object."));
    };
    for key in o.keys() {
        match key.as_str() {
            "field" | "order" | "mode" | "fieldType" => {}
            "language" => {
                return err(format!(
                    "Invalid {at}.language: no sortable field is localized."
                ))
            }
            "filter" => {
                return err(format!(
                    "Invalid {at}.filter: sort filters are not supported."
                ))
            }
            other => return err(format!("Unknown field '{other}' in {at}.")),
        }
    }
    let desc = match o.get("order").and_then(Value::as_str) {
        Some("asc") => false,
        Some("desc") => true,
        _ => return err(format!("Invalid {at}.order: it must be 'asc' or 'desc'.")),
    };
    let Some(name) = o.get("field").and_then(Value::as_str) else {
        return err(format!("{at} needs a 'field' (a string)."));
    };
    let mode = match o.get("mode") {
        None => None,
        Some(Value::String(m)) => Some(match m.as_str() {
            "min" => SortMode::Min,
            "max" => SortMode::Max,
            "avg" => SortMode::Avg,
            "sum" => SortMode::Sum,
            _ => {
                return err(format!(
                    "Invalid {at}.mode: it must be min, max, avg or sum."
                ))
            }
        }),
        Some(_) => return err(format!("Invalid {at}.mode: it must be a string.")),
    };
    if name == "score" {
        if mode.is_some() {
            return err(format!(
                "Invalid {at}.mode: sorting by score takes no mode."
            ));
        }
        return Ok(SearchSort {
            target: SortTarget::Score,
            desc,
        });
    }
    let field = parse_field(o, at)?;
    if field.name == "all" {
        return err(format!("Invalid {at}.field: 'all' cannot be sorted by."));
    }
    let mode = mode.unwrap_or(if desc { SortMode::Max } else { SortMode::Min });
    if matches!(mode, SortMode::Avg | SortMode::Sum) && field.kind != ValueKind::Number {
        return err(format!(
            "Invalid {at}.mode: avg and sum need a number field, '{}' is not one.",
            field.name
        ));
    }
    Ok(SearchSort {
        target: SortTarget::Field(field, mode),
        desc,
    })
}
