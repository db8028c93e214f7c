//! The `sort` parameter: `fieldPath [asc|desc]` with dotted paths (`lastName`, `createdAt`,
//! `resource.id`, `custom.fields.myField`), parsed against a schema and compiled to an
//! `ORDER BY` list that always ends with the unique tie-breaker column.
//!
//! Owns sort syntax, sortability (scalars outside arrays; custom fields, typed by the caller's
//! declaration where it has one), and the ORDER BY text.
//! ORDER BY has no parameters in the public interface, so the only user text that can reach it is
//! a custom-field name, which is restricted to `[A-Za-z0-9_-]` before it is embedded (it can
//! neither close a quoted JSON path nor a string literal). It must not touch `where` semantics.

use crate::check::Key;
use crate::custom::{CustomFieldTypes, TYPED_PREFIX};
use crate::error::{char_pos, QueryError};
use crate::lexer::is_ident;
use crate::schema::{Column, Field, FieldType, Fields, Schema};
use crate::sql::Dialect;

/// One parsed and checked `sort` key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    path: String,
    src: Src,
    kind: SortKind,
    descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Src {
    Column(Column),
    Json(Vec<Key>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKind {
    Text,
    Number,
    Bool,
    Untyped,
}

impl SortKey {
    /// The field path as written (dotted), e.g. `custom.fields.rank`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// True for `desc`.
    pub fn descending(&self) -> bool {
        self.descending
    }
}

fn syntax(detail: &str, input: &str, at: usize) -> QueryError {
    QueryError {
        message: format!(
            "Malformed parameter: sort: Syntax error while parsing 'sort'. {detail} at position {}.",
            char_pos(input, at)
        ),
        complexity: false,
    }
}

fn semantic(detail: &str, input: &str, at: usize) -> QueryError {
    QueryError {
        message: format!(
            "Malformed parameter: sort: {detail} at position {}.",
            char_pos(input, at)
        ),
        complexity: false,
    }
}

/// Parses one `sort` parameter value.
pub(crate) fn parse_one(
    input: &str,
    schema: &Schema,
    custom: &CustomFieldTypes,
) -> Result<SortKey, QueryError> {
    // Whitespace-separated words with their byte offsets.
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in input
        .char_indices()
        .chain(std::iter::once((input.len(), ' ')))
    {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push((s, &input[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    let Some(&(path_at, path)) = words.first() else {
        return Err(syntax(
            "Unexpected end of input, expected a field name",
            input,
            input.len(),
        ));
    };
    let descending = match words.get(1) {
        None => false,
        Some((_, w)) if w.eq_ignore_ascii_case("asc") => false,
        Some((_, w)) if w.eq_ignore_ascii_case("desc") => true,
        Some((at, w)) => {
            return Err(syntax(
                &format!(
                    "Unexpected '{}', expected 'asc' or 'desc'",
                    crate::ast::truncate(w)
                ),
                input,
                *at,
            ))
        }
    };
    if let Some((at, w)) = words.get(2) {
        return Err(syntax(
            &format!(
                "Unexpected '{}', expected end of input",
                crate::ast::truncate(w)
            ),
            input,
            *at,
        ));
    }
    let segments: Vec<&str> = path.split('.').collect();
    if !segments.iter().all(|s| is_ident(s)) {
        return Err(syntax(
            &format!("Invalid field path '{}'", crate::ast::truncate(path)),
            input,
            path_at,
        ));
    }
    let (src, kind) =
        resolve(&segments, schema, custom).map_err(|d| semantic(&d, input, path_at))?;
    Ok(SortKey {
        path: path.to_owned(),
        src,
        kind,
        descending,
    })
}

fn resolve(
    segments: &[&str],
    schema: &Schema,
    custom: &CustomFieldTypes,
) -> Result<(Src, SortKind), String> {
    let mut fields = Fields::Known(schema.fields);
    let mut keys = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let so_far = segments[..=i].join(".");
        let f = match fields {
            Fields::Known(list) => {
                let f = list
                    .iter()
                    .find(|f| f.name == *seg)
                    .ok_or_else(|| format!("Unknown field '{}'", crate::ast::truncate(&so_far)))?;
                keys.push(Key::Static(f.name));
                *f
            }
            Fields::Localized => {
                keys.push(Key::Dynamic((*seg).to_owned()));
                dynamic(FieldType::String)
            }
            Fields::Any => {
                let declared = (segments[..i].join(".") == TYPED_PREFIX)
                    .then(|| custom.get(seg))
                    .flatten();
                let Some(ty) = declared else {
                    // An untyped custom field: the rest of the path addresses into its JSON value.
                    keys.extend(segments[i..].iter().map(|s| Key::Dynamic((*s).to_owned())));
                    return Ok((Src::Json(keys), SortKind::Untyped));
                };
                keys.push(Key::Dynamic((*seg).to_owned()));
                dynamic(ty.field_type())
            }
        };
        let kind = match f.ty {
            FieldType::String | FieldType::Date | FieldType::Time | FieldType::DateTime => {
                SortKind::Text
            }
            FieldType::Number => SortKind::Number,
            FieldType::Bool => SortKind::Bool,
            FieldType::Untyped => {
                keys.extend(
                    segments[i + 1..]
                        .iter()
                        .map(|s| Key::Dynamic((*s).to_owned())),
                );
                return Ok((Src::Json(keys), SortKind::Untyped));
            }
            FieldType::StringArray | FieldType::Set(_) | FieldType::ObjectArray(_) => {
                return Err(format!(
                    "Field '{}' is not sortable (arrays cannot be sorted by)",
                    segments.join(".")
                ))
            }
            FieldType::Object { fields: inner, .. } => {
                if last {
                    return Err(format!(
                        "Field '{so_far}' is not sortable (objects cannot be sorted by)"
                    ));
                }
                fields = inner;
                continue;
            }
        };
        if !last {
            return Err(format!("Field '{so_far}' has no nested fields"));
        }
        let src = match f.column {
            Some(c) => Src::Column(c),
            None => Src::Json(keys),
        };
        return Ok((src, kind));
    }
    // `segments` is never empty (`split` yields at least one item); treat it as unknown anyway.
    Err("Unknown field ''".to_owned())
}

/// A field with a name that is not in the schema (a typed custom field or a language tag).
fn dynamic(ty: FieldType) -> Field {
    Field {
        name: "",
        ty,
        column: None,
        lowercase_of: None,
    }
}

/// Compiles sort keys to an ORDER BY list; see [`crate::compile_order_by`].
pub(crate) fn compile(keys: &[SortKey], dialect: Dialect, schema: &Schema) -> String {
    if keys.is_empty() {
        return schema.default_order_by.to_owned();
    }
    let mut parts: Vec<String> = keys.iter().map(|k| key_sql(k, dialect, schema)).collect();
    let has_tie_breaker = keys
        .iter()
        .any(|k| matches!(k.src, Src::Column(c) if c.name == schema.tie_breaker));
    if !has_tie_breaker {
        parts.push(format!("{} ASC", schema.tie_breaker));
    }
    parts.join(", ")
}

fn key_sql(k: &SortKey, dialect: Dialect, schema: &Schema) -> String {
    let dir = if k.descending { "DESC" } else { "ASC" };
    // Missing values sort as the greatest value in both dialects (PostgreSQL's default).
    let nulls = if k.descending {
        " NULLS FIRST"
    } else {
        " NULLS LAST"
    };
    let collate = if dialect == Dialect::Postgres && k.kind == SortKind::Text {
        " COLLATE \"C\""
    } else {
        ""
    };
    match &k.src {
        Src::Column(c) => format!(
            "{}{collate} {dir}{}",
            c.name,
            if c.nullable { nulls } else { "" }
        ),
        Src::Json(keys) => {
            let doc = schema.doc_column;
            let expr = match dialect {
                Dialect::Sqlite => {
                    let mut p = String::from("$");
                    for key in keys {
                        match key {
                            Key::Static(s) => {
                                p.push('.');
                                p.push_str(s);
                            }
                            // `[A-Za-z0-9_-]+` (checked in `parse_one`), safe inside quotes.
                            Key::Dynamic(s) => {
                                p.push_str(".\"");
                                p.push_str(s);
                                p.push('"');
                            }
                        }
                    }
                    format!("json_extract({doc}, '{p}')")
                }
                Dialect::Postgres => {
                    let mut j = doc.to_owned();
                    let (last, init) = match keys.split_last() {
                        Some(x) => x,
                        None => return format!("{doc} {dir}"),
                    };
                    for key in init {
                        j.push_str(&format!(" -> '{}'", key.as_str()));
                    }
                    let last = last.as_str();
                    match k.kind {
                        SortKind::Text => format!("({j} ->> '{last}')"),
                        SortKind::Number => format!(
                            "CASE WHEN jsonb_typeof({j} -> '{last}') = 'number' THEN ({j} -> '{last}')::numeric END"
                        ),
                        SortKind::Bool => format!(
                            "CASE WHEN jsonb_typeof({j} -> '{last}') = 'boolean' THEN ({j} -> '{last}')::boolean END"
                        ),
                        SortKind::Untyped => format!("({j} -> '{last}')"),
                    }
                }
            };
            format!("{expr}{collate} {dir}{nulls}")
        }
    }
}
