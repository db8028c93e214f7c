//! The searchable Customer fields (`customer-search.md` §6) and the flattening of a customer
//! document into index entries: one entry per (field, value), plus one per analysed term under
//! the field name prefixed with [`TOKEN_PREFIX`] (and under `~all` for the fields `all` covers).
//!
//! Must not know how entries are stored.

use serde_json::Value;

use super::{SearchField, ValueKind};

/// Prefix of the index field that holds a field's analysed terms.
pub const TOKEN_PREFIX: &str = "~";

/// How many leading characters of a value (and of a term) are indexed. Search values are at most
/// 256 characters (`customer-search.md` §7), so exact, prefix, range and fuzzy tests decide
/// within this many characters; only a wildcard reaching past them, and the order of two values
/// equal in their first 512 characters, see the cut. It keeps every index row far below
/// PostgreSQL's B-tree row limit (about 2.7 kB), which a 4,096-character name or a 65,536-character
/// custom field value would otherwise exceed and turn into a failed write.
pub const MAX_INDEXED_CHARS: usize = 512;

/// `text` cut to its first [`MAX_INDEXED_CHARS`] characters, as index entries keep it (the
/// store cuts the values it looks up the same way).
pub fn indexed(text: &str) -> &str {
    match text.char_indices().nth(MAX_INDEXED_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// One index entry of a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// The index field name (terms: `~` + field name).
    pub field: String,
    /// The value as text (numbers in their JSON form).
    pub text: String,
    /// `text` lowercased (for case-insensitive tests).
    pub lower: String,
    /// The value of a number.
    pub num: Option<f64>,
}

/// Whether the entries of `field` keep their text unchanged as their lowercase form: the
/// standard fields that are not text (dates, times of day, a boolean), whose values no test
/// lowercases. Their tests then compare `lower`, which the store's one lookup index orders, so
/// a range or an exact value is one range of that index.
pub fn lower_is_text(field: &SearchField) -> bool {
    field.kind != ValueKind::Text
        && field.kind != ValueKind::Number
        && TOP.iter().any(|s| s.name == field.name)
}

/// Whether the entries of the index field `field` are derived from other entries of the same
/// customer and so need not be stored: the terms of `all` and of `fullName` are exactly the
/// union of the terms of the fields they are made of ([`term_fields`]). An index that leaves
/// them out reads those fields' terms instead.
pub fn derived(field: &str) -> bool {
    field
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|name| name == "all" || name == "fullName")
}

/// The index fields that hold the terms of the searchable field `name` without [`derived`]
/// entries: for `all` the term fields of the fields it covers, for `fullName` those of the
/// first, middle and last name (joined by a space, whose terms are theirs), otherwise its own.
pub fn term_fields(name: &str) -> Vec<String> {
    let names: Vec<&str> = match name {
        "all" => TOP.iter().filter(|s| s.in_all).map(|s| s.name).collect(),
        "fullName" => vec!["firstName", "middleName", "lastName"],
        other => vec![other],
    };
    names
        .into_iter()
        .map(|n| format!("{TOKEN_PREFIX}{n}"))
        .collect()
}

/// How a standard field is read from the document.
struct Standard {
    name: &'static str,
    kind: ValueKind,
    analysed: bool,
    in_all: bool,
}

const fn f(name: &'static str, kind: ValueKind, analysed: bool, in_all: bool) -> Standard {
    Standard {
        name,
        kind,
        analysed,
        in_all,
    }
}

use ValueKind::{Bool, Date, DateTime, Text};

/// Top-level standard fields, by JSON name.
const TOP: &[Standard] = &[
    f("id", Text, false, false),
    f("key", Text, true, true),
    f("email", Text, true, true),
    f("firstName", Text, true, true),
    f("lastName", Text, true, true),
    f("middleName", Text, true, true),
    f("companyName", Text, true, true),
    f("customerNumber", Text, true, true),
    f("externalId", Text, true, true),
    f("vatId", Text, true, false),
    f("title", Text, true, false),
    f("salutation", Text, true, false),
    f("locale", Text, false, false),
    f("authenticationMode", Text, false, false),
    f("isEmailVerified", Bool, false, false),
    f("dateOfBirth", Date, false, false),
    f("createdAt", DateTime, false, false),
    f("lastModifiedAt", DateTime, false, false),
];

/// Address fields (`addresses.<name>`), each multi-valued.
const ADDRESS: &[&str] = &[
    "firstName",
    "lastName",
    "streetName",
    "streetNumber",
    "postalCode",
    "city",
    "region",
    "state",
    "country",
    "company",
    "phone",
    "mobile",
    "email",
];

/// Reference fields with their JSON paths.
const REFERENCES: &[&str] = &[
    "customerGroup.id",
    "customerGroupAssignments.customerGroup.id",
    "stores.key",
];

/// The standard field called `name`, if it is searchable. `fullName` is the first, middle and
/// last name joined by spaces.
pub(super) fn standard_field(name: &str) -> Option<SearchField> {
    let field = |kind, analysed| {
        Some(SearchField {
            name: name.to_owned(),
            kind,
            analysed,
        })
    };
    if let Some(s) = TOP.iter().find(|s| s.name == name) {
        return field(s.kind, s.analysed);
    }
    if name == "fullName" {
        return field(Text, true);
    }
    if let Some(rest) = name.strip_prefix("addresses.") {
        if ADDRESS.contains(&rest) {
            return field(Text, rest != "country");
        }
    }
    if REFERENCES.contains(&name) {
        return field(Text, false);
    }
    None
}

/// Splits `text` into lowercase terms at every character that is not alphanumeric.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Collects entries for one document.
#[derive(Default)]
struct Entries {
    out: Vec<IndexEntry>,
    all_terms: Vec<String>,
}

impl Entries {
    fn text(&mut self, field: &str, text: &str, analysed: bool, in_all: bool) {
        self.out.push(IndexEntry {
            field: field.to_owned(),
            text: indexed(text).to_owned(),
            lower: indexed(&text.to_lowercase()).to_owned(),
            num: None,
        });
        if analysed {
            let mut terms: Vec<String> = tokenize(text)
                .into_iter()
                .map(|t| indexed(&t).to_owned())
                .collect();
            terms.sort();
            terms.dedup();
            for t in &terms {
                self.out.push(IndexEntry {
                    field: format!("{TOKEN_PREFIX}{field}"),
                    text: t.clone(),
                    lower: t.clone(),
                    num: None,
                });
            }
            if in_all {
                self.all_terms.extend(terms);
            }
        }
    }

    /// A value of a standard field that is not text ([`lower_is_text`]).
    fn verbatim(&mut self, field: &str, text: &str) {
        let text = indexed(text).to_owned();
        self.out.push(IndexEntry {
            field: field.to_owned(),
            lower: text.clone(),
            text,
            num: None,
        });
    }

    fn number(&mut self, field: &str, n: f64) {
        let text = n.to_string();
        self.out.push(IndexEntry {
            field: field.to_owned(),
            lower: text.clone(),
            text,
            num: Some(n),
        });
    }

    /// One custom field value (sets: one entry per element). Strings are analysed; objects
    /// (LocalizedString, Money, Reference) are not indexed.
    fn custom(&mut self, field: &str, v: &Value) {
        match v {
            Value::String(s) => self.text(field, s, true, false),
            Value::Bool(b) => self.text(field, if *b { "true" } else { "false" }, false, false),
            Value::Number(n) => {
                if let Some(n) = n.as_f64() {
                    self.number(field, n);
                }
            }
            Value::Array(items) => {
                for item in items {
                    if !item.is_array() {
                        self.custom(field, item);
                    }
                }
            }
            Value::Null | Value::Object(_) => {}
        }
    }
}

/// The index entries of a customer's API JSON.
pub fn index_entries(doc: &Value) -> Vec<IndexEntry> {
    let mut e = Entries::default();
    for s in TOP {
        match doc.get(s.name) {
            Some(Value::String(v)) if s.kind != Text => e.verbatim(s.name, v),
            Some(Value::String(v)) => e.text(s.name, v, s.analysed, s.in_all),
            Some(Value::Bool(b)) => e.verbatim(s.name, if *b { "true" } else { "false" }),
            _ => {}
        }
    }
    let names: Vec<&str> = ["firstName", "middleName", "lastName"]
        .iter()
        .filter_map(|n| doc.get(*n).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .collect();
    if !names.is_empty() {
        e.text("fullName", &names.join(" "), true, false);
    }
    if let Some(Value::Array(addresses)) = doc.get("addresses") {
        for a in addresses {
            for name in ADDRESS {
                if let Some(Value::String(v)) = a.get(*name) {
                    e.text(&format!("addresses.{name}"), v, *name != "country", false);
                }
            }
        }
    }
    if let Some(id) = doc.pointer("/customerGroup/id").and_then(Value::as_str) {
        e.text("customerGroup.id", id, false, false);
    }
    if let Some(Value::Array(items)) = doc.get("customerGroupAssignments") {
        for a in items {
            if let Some(id) = a.pointer("/customerGroup/id").and_then(Value::as_str) {
                e.text(
                    "customerGroupAssignments.customerGroup.id",
                    id,
                    false,
                    false,
                );
            }
        }
    }
    if let Some(Value::Array(items)) = doc.get("stores") {
        for s in items {
            if let Some(key) = s.get("key").and_then(Value::as_str) {
                e.text("stores.key", key, false, false);
            }
        }
    }
    if let Some(Value::Object(fields)) = doc.pointer("/custom/fields") {
        for (name, v) in fields {
            e.custom(&format!("custom.{name}"), v);
        }
    }
    let mut all = std::mem::take(&mut e.all_terms);
    all.sort();
    all.dedup();
    for t in all {
        e.out.push(IndexEntry {
            field: format!("{TOKEN_PREFIX}all"),
            text: t.clone(),
            lower: t,
            num: None,
        });
    }
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The terms of index field `field` among `entries`, as a set.
    fn terms_of<'e>(
        entries: &'e [IndexEntry],
        fields: &[String],
    ) -> std::collections::BTreeSet<&'e str> {
        entries
            .iter()
            .filter(|e| fields.contains(&e.field))
            .map(|e| e.lower.as_str())
            .collect()
    }

    #[test]
    fn derived_terms_are_the_terms_of_the_fields_they_are_made_of() {
        let long = format!("{} tail", "Ω".repeat(600));
        let docs = [
            serde_json::json!({
                "key": "Key-ONE", "email": "Ann.Lee@Example.com", "firstName": "Ann Marie",
                "middleName": "", "lastName": "Lee-Lee", "companyName": "ACME Σigma ΟΔΟΣ",
                "customerNumber": "N° 42", "externalId": "ext_9", "vatId": "DE123",
                "title": "Dr", "salutation": "Dear", "custom": {"fields": {"note": "ann extra"}},
                "addresses": [{"city": "Annville", "firstName": "Zed"}]
            }),
            serde_json::json!({ "lastName": long, "email": "x@y" }),
            serde_json::json!({ "firstName": "  ", "middleName": "Mid", "companyName": "Mid" }),
            serde_json::json!({ "email": "only@example.com" }),
        ];
        for doc in &docs {
            let entries = index_entries(doc);
            for name in ["all", "fullName"] {
                let derived_field = format!("{TOKEN_PREFIX}{name}");
                assert!(derived(&derived_field));
                let stored = terms_of(&entries, std::slice::from_ref(&derived_field));
                assert_eq!(
                    stored,
                    terms_of(&entries, &term_fields(name)),
                    "{name} of {doc}"
                );
                // Every derived entry is a term (text and lowercase form alike).
                assert!(entries
                    .iter()
                    .filter(|e| e.field == derived_field)
                    .all(|e| e.text == e.lower && e.num.is_none()));
            }
            for (name, stored) in [("lastName", "~lastName"), ("custom.note", "~custom.note")] {
                assert!(!derived(stored));
                assert_eq!(term_fields(name), vec![stored.to_owned()]);
            }
        }
        assert!(!derived("fullName") && !derived("all") && !derived("~all2"));
    }

    #[test]
    fn long_values_and_terms_are_indexed_by_their_first_512_characters() {
        let long = "ä".repeat(4_096);
        let entries = index_entries(&serde_json::json!({ "firstName": long, "lastName": "Ok" }));
        let first = entries.iter().find(|e| e.field == "firstName").unwrap();
        assert_eq!(first.text.chars().count(), MAX_INDEXED_CHARS);
        assert_eq!(first.lower.chars().count(), MAX_INDEXED_CHARS);
        assert!(first.text.chars().all(|c| c == 'ä'));
        let term = entries.iter().find(|e| e.field == "~firstName").unwrap();
        assert_eq!(term.text.chars().count(), MAX_INDEXED_CHARS);
        let last = entries.iter().find(|e| e.field == "lastName").unwrap();
        assert_eq!((last.text.as_str(), last.lower.as_str()), ("Ok", "ok"));
    }
}
