//! Size and character limits on every string a JSON request body carries, checked once over
//! the parsed body before any draft or update action is applied, so that no draft type and no
//! update action can forget them.
//!
//! The limits per field kind (documented in `docs/design.md`, "Input limits"):
//! - every string and every object key: no NUL character (PostgreSQL `text` and `jsonb` cannot
//!   hold it, so both backends refuse it alike, before the store);
//! - `email` fields: no control characters, at most [`MAX_EMAIL_CHARS`] characters;
//! - `password`, `newPassword`, `currentPassword`: at most [`MAX_PASSWORD_CHARS`] characters,
//!   which bounds the cost of hashing;
//! - custom field values (anything under a `fields` object, and the `value` of a
//!   `set…CustomField` action): at most [`MAX_CUSTOM_FIELD_CHARS`] characters per string;
//! - the fields the store keeps in indexed columns (`firstName`, `lastName`, `companyName`,
//!   `customerNumber`, `externalId`, and an address's `city` and `postalCode`, wherever they
//!   appear): at most [`MAX_INDEXED_TEXT_CHARS`]
//!   characters, so that one index entry stays within PostgreSQL's B-tree row limit (about
//!   2.7 kB) on both backends alike;
//! - every other string (addresses, free text): at most [`MAX_TEXT_CHARS`] characters.
//!
//! Keys (`[A-Za-z0-9_-]`, 2–256) are checked by [`Key::parse`](crate::Key::parse) where a
//! resource's own key is set. This module only reads a `serde_json::Value`; it does no IO.

use crate::error::DomainError;
use serde_json::Value;

/// Longest email address, in characters.
pub const MAX_EMAIL_CHARS: usize = 256;
/// Longest password, in characters: long passphrases fit, megabytes never reach the hasher.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest string inside a custom field value, in characters.
pub const MAX_CUSTOM_FIELD_CHARS: usize = 65_536;
/// Longest other string (address lines, descriptions), in characters.
pub const MAX_TEXT_CHARS: usize = 4_096;
/// Longest value of a field kept in an indexed column, in characters (as keys and emails):
/// 256 characters of at most 4 bytes each fit a PostgreSQL B-tree entry with room to spare.
pub const MAX_INDEXED_TEXT_CHARS: usize = 256;

/// Fields the store keeps in indexed columns.
const INDEXED_FIELDS: &[&str] = &[
    "firstName",
    "lastName",
    "companyName",
    "customerNumber",
    "externalId",
    "city",
    "postalCode",
];

/// Fields holding a password.
const PASSWORD_FIELDS: &[&str] = &["password", "newPassword", "currentPassword"];

/// Checks every string of a request body against the limits of its field kind; the error is
/// `InvalidInput` naming the field by its path (`actions[0].firstName`).
pub fn check_body(body: &Value) -> Result<(), DomainError> {
    walk(body, &mut String::new(), Kind::Text)
}

/// What the strings at a place in the body are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    CustomField,
}

fn walk(value: &Value, path: &mut String, kind: Kind) -> Result<(), DomainError> {
    match value {
        Value::String(s) => check_string(s, path, kind),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, kind)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            let sets_custom_field = map
                .get("action")
                .and_then(Value::as_str)
                .is_some_and(|a| a.ends_with("CustomField"));
            for (name, child) in map {
                if name.contains('\0') {
                    return Err(nul(path));
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                let child_kind = if name == "fields" || (sets_custom_field && name == "value") {
                    Kind::CustomField
                } else {
                    kind
                };
                let result = match (name.as_str(), child) {
                    ("email", Value::String(s)) if kind == Kind::Text => check_email(s, path),
                    (field, Value::String(s))
                        if kind == Kind::Text && PASSWORD_FIELDS.contains(&field) =>
                    {
                        check_length(s, path, MAX_PASSWORD_CHARS)
                    }
                    (field, Value::String(s))
                        if kind == Kind::Text && INDEXED_FIELDS.contains(&field) =>
                    {
                        check_length(s, path, MAX_INDEXED_TEXT_CHARS)
                    }
                    _ => walk(child, path, child_kind),
                };
                result?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn check_string(s: &str, path: &str, kind: Kind) -> Result<(), DomainError> {
    let max = match kind {
        Kind::Text => MAX_TEXT_CHARS,
        Kind::CustomField => MAX_CUSTOM_FIELD_CHARS,
    };
    check_length(s, path, max)
}

fn check_length(s: &str, path: &str, max: usize) -> Result<(), DomainError> {
    if s.contains('\0') {
        return Err(nul(path));
    }
    // Bytes bound characters from above, so most strings skip the count.
    if s.len() > max && s.chars().count() > max {
        return Err(DomainError::InvalidInput(format!(
            "Invalid value for field '{}': it is longer than {max} characters.",
            field_name(path)
        )));
    }
    Ok(())
}

fn check_email(s: &str, path: &str) -> Result<(), DomainError> {
    check_length(s, path, MAX_EMAIL_CHARS)?;
    if s.chars().any(char::is_control) {
        return Err(DomainError::InvalidInput(format!(
            "Invalid value for field '{}': an email may not contain control characters.",
            field_name(path)
        )));
    }
    Ok(())
}

fn nul(path: &str) -> DomainError {
    DomainError::InvalidInput(format!(
        "Invalid value for field '{}': it contains the NUL character (U+0000).",
        field_name(path)
    ))
}

fn field_name(path: &str) -> &str {
    if path.is_empty() {
        "body"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(body: Value) -> String {
        match check_body(&body) {
            Err(DomainError::InvalidInput(m)) => m,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn ordinary_bodies_pass() {
        let body = json!({"email": "a@example.com", "password": "secret123", "firstName": "Ann",
            "addresses": [{"streetName": "Main"}], "custom": {"fields": {"note": "x"}}});
        assert!(check_body(&body).is_ok());
    }

    #[test]
    fn each_field_kind_has_its_limit_and_errors_name_the_field() {
        let long = |n: usize| "x".repeat(n);
        assert!(check_body(&json!({"streetName": long(MAX_TEXT_CHARS)})).is_ok());
        assert!(message(json!({"streetName": long(MAX_TEXT_CHARS + 1)})).contains("'streetName'"));
        for field in INDEXED_FIELDS {
            assert!(check_body(&json!({ *field: long(MAX_INDEXED_TEXT_CHARS) })).is_ok());
            let m = message(json!({ *field: long(MAX_INDEXED_TEXT_CHARS + 1) }));
            assert_eq!(
                m,
                format!("Invalid value for field '{field}': it is longer than 256 characters.")
            );
        }
        assert!(message(json!({"password": long(MAX_PASSWORD_CHARS + 1)})).contains("'password'"));
        let action = json!({"actions": [{"action": "setFirstName", "firstName": long(300)}]});
        assert!(message(action).contains("'actions[0].firstName'"));
        let custom = json!({"custom": {"fields": {"note": long(MAX_TEXT_CHARS + 1)}}});
        assert!(check_body(&custom).is_ok());
        let custom = json!({"custom": {"fields": {"note": long(MAX_CUSTOM_FIELD_CHARS + 1)}}});
        assert!(message(custom).contains("'custom.fields.note'"));
        let set = json!({"actions": [{"action": "setCustomField", "name": "n", "value": long(MAX_TEXT_CHARS + 1)}]});
        assert!(check_body(&set).is_ok());
        assert!(message(json!({"email": long(MAX_EMAIL_CHARS + 1)})).contains("'email'"));
        // Multi-byte characters count as one.
        assert!(check_body(&json!({"firstName": "é".repeat(MAX_INDEXED_TEXT_CHARS)})).is_ok());
        assert!(check_body(&json!({"streetName": "é".repeat(MAX_TEXT_CHARS)})).is_ok());
    }

    #[test]
    fn nul_and_control_characters_are_refused() {
        assert!(message(json!({"email": "a\u{0}@example.com"})).contains("NUL"));
        assert!(message(json!({"firstName": "a\u{0}"})).contains("'firstName'"));
        assert!(message(json!({"x": {"a\u{0}": 1}})).contains("NUL"));
        assert!(message(json!({"email": "a\n@example.com"})).contains("control"));
        assert!(
            message(json!({"addresses": [{"email": "a\u{7}@x"}]})).contains("addresses[0].email")
        );
    }
}
