//! The `expand` parameter: reference-expansion paths such as `customerGroup`,
//! `customerGroupAssignments[*].customerGroup`, `custom.type` or `customer.customerGroup`.
//!
//! Owns the path syntax only: `segment ("." segment)*`, `segment = name ["[*]"]`,
//! `name = [A-Za-z0-9_-]+`. Unknown field names are accepted (commercetools ignores paths that
//! lead nowhere); the server walks the structure over JSON. It must not resolve references.

use std::fmt;

use crate::error::{char_pos, QueryError};

/// One parsed expansion path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandPath {
    /// The segments, outermost first; never empty.
    pub segments: Vec<ExpandSegment>,
}

/// One step of an expansion path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandSegment {
    /// The JSON field name.
    pub name: String,
    /// `name[*]`: the field is an array and every element is expanded.
    pub all_elements: bool,
}

impl fmt::Display for ExpandPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&s.name)?;
            if s.all_elements {
                f.write_str("[*]")?;
            }
        }
        Ok(())
    }
}

fn syntax(detail: &str, input: &str, at: usize) -> QueryError {
    QueryError {
        message: format!(
            "Malformed parameter: expand: Syntax error while parsing 'expand'. {detail} at position {}.",
            char_pos(input, at)
        ),
        complexity: false,
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Parses one `expand` value. Surrounding whitespace is ignored.
pub(crate) fn parse_one(input: &str) -> Result<ExpandPath, QueryError> {
    let lead = input.len() - input.trim_start().len();
    let body = input.trim();
    if body.is_empty() {
        return Err(syntax("Empty expansion path", input, lead));
    }
    let mut segments = Vec::new();
    let mut offset = lead;
    for raw in body.split('.') {
        let name_len = raw.find(|c: char| !is_name_char(c)).unwrap_or(raw.len());
        if name_len == 0 {
            return Err(syntax("Empty path segment", input, offset));
        }
        let rest = &raw[name_len..];
        let (all_elements, tail) = match rest.strip_prefix("[*]") {
            Some(tail) => (true, tail),
            None => (false, rest),
        };
        if let Some(c) = tail.chars().next() {
            let at = offset + (raw.len() - tail.len());
            return Err(if c == '[' && !all_elements {
                syntax("Expected '[*]'", input, at)
            } else {
                syntax(&format!("Unexpected character '{c}'"), input, at)
            });
        }
        segments.push(ExpandSegment {
            name: raw[..name_len].to_owned(),
            all_elements,
        });
        offset += raw.len() + 1;
    }
    Ok(ExpandPath { segments })
}
