//! Typed check: resolves every field of a parsed predicate against a [`Schema`], checks that
//! each operator and literal fits the field's type, binds and converts input variables, and
//! produces the checked tree ([`Cond`]) that both the SQL compiler and the evaluator consume.
//!
//! Owns all semantic errors (unknown field, type mismatch, missing variable, …) and literal
//! normalisation (datetimes to `YYYY-MM-DDTHH:MM:SS.mmmZ`, numbers to int/float). It must not
//! produce SQL or look at documents. Any column or JSON key in the checked tree comes from the
//! schema, except custom-field names, which the lexer restricted to `[A-Za-z0-9_-]`.
//!
//! Custom fields of the resource (`custom(fields(…))` at the top level) are typed by the
//! caller's [`CustomFieldTypes`] when it declares the name, and untyped otherwise.

use std::collections::HashMap;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::ast::{self, CmpOp, Expr, ListOperand, Literal, Name, Operand, Span};
use crate::custom::{CustomFieldTypes, TYPED_PREFIX};
use crate::schema::{
    element_index, key_index, Column, ElementIndex, Field, FieldType, Fields, KeyIndex, Schema,
};

/// A semantic error: detail and byte offset in the predicate text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CheckError {
    /// What is wrong, without the position.
    pub(crate) detail: String,
    /// Byte offset.
    pub(crate) at: usize,
}

/// A checked, typed predicate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    /// All hold (empty: true).
    And(Vec<Cond>),
    /// Some holds (empty: false).
    Or(Vec<Cond>),
    /// Logical negation of a definite boolean.
    Not(Box<Cond>),
    /// Descend into the value at `access` and evaluate `inner` there.
    Scope {
        /// The field descended into, relative to the current object.
        access: Access,
        /// How the value is descended into.
        mode: ScopeMode,
        /// The predicate on the nested object(s).
        inner: Box<Cond>,
    },
    /// `field(key = …)` / `field(key in (…))` on a top-level array of key references whose keys
    /// are mirrored in an indexed side table ([`KeyIndex`]). The SQL asks the side table; the
    /// evaluator (and the SQL wherever the side table does not apply) uses `json`, the plain
    /// scope it was rewritten from, so the semantics are the scope's by construction.
    KeyIn {
        /// Where the keys are mirrored.
        index: KeyIndex,
        /// Some key of the array equals one of these (never `index.reserved`).
        keys: Vec<String>,
        /// The equivalent JSON scope.
        json: Box<Cond>,
    },
    /// `field(…)` on a top-level array of objects whose elements are mirrored in an indexed side
    /// table ([`ElementIndex`]), with an inner predicate that only tests mirrored fields. The SQL
    /// asks the side table (`inner`, whose tests carry the side table's columns); the evaluator
    /// (and the SQL wherever the side table does not apply) uses `json`, the plain scope it was
    /// rewritten from, so the semantics are the scope's by construction.
    Elements {
        /// Where the elements are mirrored.
        index: ElementIndex,
        /// The scope's inner predicate with every test on a side-table column.
        inner: Box<Cond>,
        /// The equivalent JSON scope.
        json: Box<Cond>,
    },
    /// A test on the value at `access`.
    Test {
        /// The field, relative to the current object.
        access: Access,
        /// Which candidate values the field yields.
        shape: Shape,
        /// The test.
        test: Test,
    },
}

impl Cond {
    /// The number of nodes: what a query's complexity limit counts.
    pub(crate) fn size(&self) -> usize {
        match self {
            Cond::And(items) | Cond::Or(items) => 1 + items.iter().map(Cond::size).sum::<usize>(),
            Cond::Not(inner) | Cond::Scope { inner, .. } => 1 + inner.size(),
            Cond::KeyIn { json, .. } | Cond::Elements { json, .. } => 1 + json.size(),
            Cond::Test { .. } => 1,
        }
    }
}

/// A JSON object key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    /// A key from the schema.
    Static(&'static str),
    /// A custom-field name (`[A-Za-z0-9_-]+`, guaranteed by the lexer); bound as a parameter
    /// wherever SQL allows it.
    Dynamic(String),
}

impl Key {
    /// The key text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Static(s) => s,
            Key::Dynamic(s) => s,
        }
    }
}

/// Where a field's value is, relative to the current object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Access {
    /// The JSON key.
    pub(crate) key: Key,
    /// Its dedicated column, if any (used only when the current object is the row's document).
    pub(crate) column: Option<Column>,
    /// The value is the lowercased value of this sibling (the JSON has no such key).
    pub(crate) lowercase_of: Option<&'static str>,
}

/// How a nested predicate descends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeMode {
    /// Into an object; false if the value is not an object (unless `always_present`, where the
    /// SQL omits the check because the object is required).
    Object {
        /// The object is required on every resource.
        always_present: bool,
    },
    /// Into some element of an array of objects.
    Array,
    /// Into an untyped value: the object itself, or some object element of an array.
    Untyped,
}

/// Which candidate values a field contributes to a test (the test holds if some candidate
/// satisfies it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The value itself.
    Single,
    /// The elements of an array value (nothing if not an array).
    Array,
    /// Elements if an array, the value itself if a string, number or boolean.
    Untyped,
}

/// A typed, normalised value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Text (strings, dates, normalised datetimes).
    Str(String),
    /// An integer.
    Int(i64),
    /// A non-integer (or out-of-range integer) number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// The JSON kind of a value, which decides the type guard of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// JSON string.
    Str,
    /// JSON number.
    Num,
    /// JSON boolean.
    Bool,
}

impl Value {
    /// The JSON kind this value is compared with.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Value::Str(_) => Kind::Str,
            Value::Int(_) | Value::Float(_) => Kind::Num,
            Value::Bool(_) => Kind::Bool,
        }
    }
}

/// A checked test.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    /// Some candidate compares true (candidates of another kind never do).
    Cmp(CmpOp, Value),
    /// `in` (also `contains any`): some candidate equals a value. `not in`: some candidate of
    /// the kind of one of the values equals none of the values of that kind.
    In {
        /// `not in`
        negated: bool,
        /// At least one value.
        values: Vec<Value>,
    },
    /// Every value equals some candidate.
    ContainsAll(Vec<Value>),
    /// The field is present and not null (negated: absent or null).
    Defined(bool),
    /// The field is an empty array (negated: a non-empty array); false for anything else.
    Empty(bool),
}

/// What a typed leaf field expects from a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Str,
    Num,
    Bool,
    Date,
    Time,
    DateTime,
    Any,
}

impl Expect {
    fn describe(self) -> &'static str {
        match self {
            Expect::Str => "a string",
            Expect::Num => "a number",
            Expect::Bool => "a boolean",
            Expect::Date => "a date (YYYY-MM-DD)",
            Expect::Time => "a time (hh:mm:ss.sss)",
            Expect::DateTime => "a datetime (e.g. 2022-09-19T14:34:35.843Z)",
            Expect::Any => "any value",
        }
    }
}

fn describe_type(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::String => "a string",
        FieldType::Number => "a number",
        FieldType::Bool => "a boolean",
        FieldType::Date => "a date",
        FieldType::Time => "a time",
        FieldType::DateTime => "a datetime",
        FieldType::StringArray => "an array of strings",
        FieldType::Set(element) => match element {
            FieldType::String => "a set of strings",
            FieldType::Number => "a set of numbers",
            FieldType::Bool => "a set of booleans",
            FieldType::Date => "a set of dates",
            FieldType::Time => "a set of times",
            FieldType::DateTime => "a set of datetimes",
            _ => "a set",
        },
        FieldType::Object { .. } => "an object",
        FieldType::ObjectArray(_) => "an array of objects",
        FieldType::Untyped => "a custom field value",
    }
}

/// Checks the parsed predicate against `schema` (its custom fields typed by `custom`),
/// binding `vars`.
pub(crate) fn check(
    expr: &Expr,
    schema: &Schema,
    custom: &CustomFieldTypes,
    vars: &HashMap<String, Vec<String>>,
) -> Result<Cond, CheckError> {
    let cx = Checker {
        vars,
        table: schema.table,
        custom,
    };
    cx.expr(expr, Fields::Known(schema.fields), "")
}

struct Checker<'v> {
    vars: &'v HashMap<String, Vec<String>>,
    /// The schema's table, which decides the key-indexed fields.
    table: &'static str,
    /// The declared types of the resource's own custom fields.
    custom: &'v CustomFieldTypes,
}

fn err(detail: String, at: Span) -> CheckError {
    CheckError {
        detail,
        at: at.start,
    }
}

/// Looks up a variable by name; `var.name` keys are accepted too so callers may pass the query
/// parameters with or without the prefix.
fn lookup_var<'a>(vars: &'a HashMap<String, Vec<String>>, name: &str) -> Option<&'a Vec<String>> {
    vars.get(name).or_else(|| vars.get(&format!("var.{name}")))
}

impl Checker<'_> {
    fn expr(&self, e: &Expr, fields: Fields, prefix: &str) -> Result<Cond, CheckError> {
        match e {
            Expr::And(items) => Ok(Cond::And(
                items
                    .iter()
                    .map(|i| self.expr(i, fields, prefix))
                    .collect::<Result<_, _>>()?,
            )),
            Expr::Or(items) => Ok(Cond::Or(
                items
                    .iter()
                    .map(|i| self.expr(i, fields, prefix))
                    .collect::<Result<_, _>>()?,
            )),
            Expr::Not(inner, _) => Ok(Cond::Not(Box::new(self.expr(inner, fields, prefix)?))),
            Expr::Nested { field, inner } => {
                let Resolved {
                    field: f,
                    access,
                    path,
                } = resolve(fields, field, prefix, self.custom)?;
                let (mode, inner_fields) = match f.ty {
                    FieldType::Object {
                        fields,
                        always_present,
                    } => (ScopeMode::Object { always_present }, fields),
                    FieldType::ObjectArray(fields) => (ScopeMode::Array, fields),
                    FieldType::Untyped => (ScopeMode::Untyped, Fields::Any),
                    ref other => {
                        return Err(err(
                            format!(
                                "Field '{path}' is {} and has no nested fields",
                                describe_type(other)
                            ),
                            field.span,
                        ))
                    }
                };
                let scope = Cond::Scope {
                    access,
                    mode,
                    inner: Box::new(self.expr(inner, inner_fields, &path)?),
                };
                // Only top-level fields: the side table describes the row, not a nested value.
                let index = key_index(self.table, &field.text).filter(|_| prefix.is_empty());
                if let Some(index) = index {
                    return Ok(key_in(index, scope));
                }
                let elements = element_index(self.table, &field.text).filter(|_| prefix.is_empty());
                Ok(match elements {
                    Some(index) => elements_in(index, scope),
                    None => scope,
                })
            }
            Expr::Cond {
                field,
                test,
                op_span,
            } => {
                let r = resolve(fields, field, prefix, self.custom)?;
                self.condition(&r, field, test, *op_span)
            }
        }
    }

    fn condition(
        &self,
        r: &Resolved,
        name: &Name,
        test: &ast::Test,
        op_span: Span,
    ) -> Result<Cond, CheckError> {
        let (f, path, access) = (&r.field, r.path.as_str(), r.access.clone());
        let (shape, expect) = match f.ty {
            FieldType::String => (Some(Shape::Single), Expect::Str),
            FieldType::Number => (Some(Shape::Single), Expect::Num),
            FieldType::Bool => (Some(Shape::Single), Expect::Bool),
            FieldType::Date => (Some(Shape::Single), Expect::Date),
            FieldType::Time => (Some(Shape::Single), Expect::Time),
            FieldType::DateTime => (Some(Shape::Single), Expect::DateTime),
            FieldType::StringArray => (Some(Shape::Array), Expect::Str),
            FieldType::Set(element) => (Some(Shape::Array), scalar_expect(element)),
            FieldType::Untyped => (Some(Shape::Untyped), Expect::Any),
            // Objects only support existence (and arrays of them emptiness).
            FieldType::Object { .. } | FieldType::ObjectArray(_) => (None, Expect::Any),
        };
        let op_name = op_display(test);
        let not_supported = |why: &str| {
            err(
                format!(
                    "Operator '{op_name}' is not supported on field '{path}' ({}); {why}",
                    describe_type(&f.ty)
                ),
                op_span,
            )
        };
        let is_array = matches!(
            f.ty,
            FieldType::StringArray
                | FieldType::Set(_)
                | FieldType::ObjectArray(_)
                | FieldType::Untyped
        );
        let checked = match test {
            ast::Test::Defined { negated } => Test::Defined(*negated),
            ast::Test::Empty { negated } => {
                if !is_array {
                    return Err(not_supported("it requires an array field"));
                }
                Test::Empty(*negated)
            }
            ast::Test::WithinCircle(_) => {
                return Err(not_supported("it requires a geo location field"));
            }
            _ if shape.is_none() => {
                return Err(err(
                    format!(
                        "Field '{path}' is {}; query its fields with {}(…)",
                        describe_type(&f.ty),
                        name.text
                    ),
                    name.span,
                ));
            }
            ast::Test::Cmp(op, operand) => {
                let v = self.single(operand, expect, path)?;
                if v.kind() == Kind::Bool && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    return Err(err(
                        format!(
                            "Operator '{}' cannot compare booleans (field '{path}')",
                            op.as_str()
                        ),
                        op_span,
                    ));
                }
                Test::Cmp(*op, v)
            }
            ast::Test::In { negated, values } => Test::In {
                negated: *negated,
                values: self.list(values, expect, path)?,
            },
            ast::Test::Contains { all, values } => {
                if !is_array {
                    return Err(not_supported("it requires an array field"));
                }
                let values = self.list(values, expect, path)?;
                if *all {
                    Test::ContainsAll(values)
                } else {
                    Test::In {
                        negated: false,
                        values,
                    }
                }
            }
        };
        Ok(Cond::Test {
            access,
            shape: shape.unwrap_or(Shape::Single),
            test: checked,
        })
    }

    fn single(&self, op: &Operand, expect: Expect, path: &str) -> Result<Value, CheckError> {
        match op {
            Operand::Lit(lit, span) => convert_literal(lit, expect, path, *span),
            Operand::Var(name, span) => {
                let values = lookup_var(self.vars, name).ok_or_else(|| missing_var(name, *span))?;
                match values.as_slice() {
                    [one] => convert_var(one, name, expect, path, *span),
                    _ => Err(err(
                        format!(
                            "Input variable '{name}' has {} values, expected exactly one",
                            values.len()
                        ),
                        *span,
                    )),
                }
            }
        }
    }

    fn list(
        &self,
        list: &ListOperand,
        expect: Expect,
        path: &str,
    ) -> Result<Vec<Value>, CheckError> {
        match list {
            ListOperand::List(items) => {
                items.iter().map(|o| self.single(o, expect, path)).collect()
            }
            ListOperand::Var(name, span) => {
                let values = lookup_var(self.vars, name).ok_or_else(|| missing_var(name, *span))?;
                if values.is_empty() {
                    return Err(missing_var(name, *span));
                }
                values
                    .iter()
                    .map(|v| convert_var(v, name, expect, path, *span))
                    .collect()
            }
        }
    }
}

/// Rewrites `scope` (an array scope over a key-indexed field) to [`Cond::KeyIn`] when its inner
/// predicate is exactly `key = "…"` or `key in ("…", …)`; anything else stays a JSON scope.
fn key_in(index: KeyIndex, scope: Cond) -> Cond {
    let keys = match &scope {
        Cond::Scope {
            mode: ScopeMode::Array,
            inner,
            ..
        } => match inner.as_ref() {
            Cond::Test {
                access:
                    Access {
                        key: Key::Static("key"),
                        column: None,
                        lowercase_of: None,
                    },
                shape: Shape::Single,
                test,
            } => match test {
                Test::Cmp(CmpOp::Eq, v) => strings(std::slice::from_ref(v)),
                Test::In {
                    negated: false,
                    values,
                } => strings(values),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    match keys {
        Some(keys) if !keys.iter().any(|k| k == index.reserved) => Cond::KeyIn {
            index,
            keys,
            json: Box::new(scope),
        },
        _ => scope,
    }
}

/// Rewrites `scope` (an array scope over an element-indexed field) to [`Cond::Elements`] when
/// every test of its inner predicate is on a mirrored field; anything else stays a JSON scope.
fn elements_in(index: ElementIndex, scope: Cond) -> Cond {
    let inner = match &scope {
        Cond::Scope {
            mode: ScopeMode::Array,
            inner,
            ..
        } => on_columns(&index, inner),
        _ => None,
    };
    match inner {
        Some(inner) => Cond::Elements {
            index,
            inner: Box::new(inner),
            json: Box::new(scope),
        },
        None => scope,
    }
}

/// `c` (a predicate on one element) with every test moved to its side-table column, or `None`
/// when some part of it has no column. Only tests whose column form means what the JSON form
/// means qualify: comparisons, `[not] in` and `is [not] defined` on a single string value (the
/// column is NULL exactly where the element has no string there, and the column tests are
/// NULL-guarded), combined with and / or / not.
fn on_columns(index: &ElementIndex, c: &Cond) -> Option<Cond> {
    match c {
        Cond::And(items) => Some(Cond::And(
            items
                .iter()
                .map(|i| on_columns(index, i))
                .collect::<Option<_>>()?,
        )),
        Cond::Or(items) => Some(Cond::Or(
            items
                .iter()
                .map(|i| on_columns(index, i))
                .collect::<Option<_>>()?,
        )),
        Cond::Not(inner) => Some(Cond::Not(Box::new(on_columns(index, inner)?))),
        Cond::Test {
            access:
                Access {
                    key: Key::Static(name),
                    column: None,
                    lowercase_of: None,
                },
            shape: Shape::Single,
            test: test @ (Test::Cmp(..) | Test::In { .. } | Test::Defined(_)),
        } => {
            let column = index
                .columns
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, column)| *column)?;
            let values_are_strings = match test {
                Test::Cmp(_, v) => strings(std::slice::from_ref(v)).is_some(),
                Test::In { values, .. } => strings(values).is_some(),
                _ => true,
            };
            values_are_strings.then(|| Cond::Test {
                access: Access {
                    key: Key::Static(name),
                    column: Some(column),
                    lowercase_of: None,
                },
                shape: Shape::Single,
                test: test.clone(),
            })
        }
        _ => None,
    }
}

/// The values as strings, if they all are.
fn strings(values: &[Value]) -> Option<Vec<String>> {
    values
        .iter()
        .map(|v| match v {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn missing_var(name: &str, span: Span) -> CheckError {
    err(
        format!("Missing value for input variable '{name}' (query parameter 'var.{name}')"),
        span,
    )
}

/// The operator as the user would recognise it in an error message.
fn op_display(test: &ast::Test) -> String {
    match test {
        ast::Test::Cmp(op, _) => op.as_str().to_owned(),
        ast::Test::In { negated: false, .. } => "in".to_owned(),
        ast::Test::In { negated: true, .. } => "not in".to_owned(),
        ast::Test::Contains { all: true, .. } => "contains all".to_owned(),
        ast::Test::Contains { all: false, .. } => "contains any".to_owned(),
        ast::Test::Defined { negated: false } => "is defined".to_owned(),
        ast::Test::Defined { negated: true } => "is not defined".to_owned(),
        ast::Test::Empty { negated: false } => "is empty".to_owned(),
        ast::Test::Empty { negated: true } => "is not empty".to_owned(),
        ast::Test::WithinCircle(_) => "within circle".to_owned(),
    }
}

/// What a literal for a set element of type `element` must be.
fn scalar_expect(element: &FieldType) -> Expect {
    match element {
        FieldType::String => Expect::Str,
        FieldType::Number => Expect::Num,
        FieldType::Bool => Expect::Bool,
        FieldType::Date => Expect::Date,
        FieldType::Time => Expect::Time,
        FieldType::DateTime => Expect::DateTime,
        // `Set` elements are scalars by construction (`CustomFieldType::field_type`).
        _ => Expect::Any,
    }
}

/// A field found in the schema (or a custom field), with its access path and dotted name.
struct Resolved {
    field: Field,
    access: Access,
    path: String,
}

/// Resolves `name` in `fields`; the dotted path is for messages. Names under the resource's own
/// `custom.fields` get their type from `custom` when it declares them.
fn resolve(
    fields: Fields,
    name: &Name,
    prefix: &str,
    custom: &CustomFieldTypes,
) -> Result<Resolved, CheckError> {
    let path = if prefix.is_empty() {
        name.text.clone()
    } else {
        format!("{prefix}.{}", name.text)
    };
    match fields {
        Fields::Known(list) => match list.iter().find(|f| f.name == name.text) {
            Some(f) => Ok(Resolved {
                field: *f,
                access: Access {
                    key: Key::Static(f.name),
                    column: f.column,
                    lowercase_of: f.lowercase_of,
                },
                path,
            }),
            None => Err(err(
                format!("Unknown field '{}'", ast::truncate(&path)),
                name.span,
            )),
        },
        // Custom fields and language tags: any name (the lexer already restricted its
        // characters).
        Fields::Any | Fields::Localized => Ok(Resolved {
            field: Field {
                name: "",
                ty: match fields {
                    Fields::Localized => FieldType::String,
                    _ if prefix == TYPED_PREFIX => custom
                        .get(&name.text)
                        .map_or(FieldType::Untyped, |t| t.field_type()),
                    _ => FieldType::Untyped,
                },
                column: None,
                lowercase_of: None,
            },
            access: Access {
                key: Key::Dynamic(name.text.clone()),
                column: None,
                lowercase_of: None,
            },
            path,
        }),
    }
}

fn mismatch(path: &str, expect: Expect, got: &str, span: Span) -> CheckError {
    err(
        format!(
            "Type mismatch: field '{path}' expects {}, got {got}",
            expect.describe()
        ),
        span,
    )
}

fn convert_literal(
    lit: &Literal,
    expect: Expect,
    path: &str,
    span: Span,
) -> Result<Value, CheckError> {
    let quoted = |s: &str| {
        let mut q = String::new();
        // Writing to a String cannot fail.
        let _ = ast::write_string(&mut q, &ast::truncate(s));
        q
    };
    match (lit, expect) {
        (Literal::Str(s), Expect::Str | Expect::Any) => Ok(Value::Str(s.clone())),
        (Literal::Str(s), Expect::Date) => parse_date(s)
            .map(Value::Str)
            .ok_or_else(|| mismatch(path, expect, &quoted(s), span)),
        (Literal::Str(s), Expect::Time) => parse_time(s)
            .map(Value::Str)
            .ok_or_else(|| mismatch(path, expect, &quoted(s), span)),
        (Literal::Str(s), Expect::DateTime) => parse_datetime(s)
            .map(Value::Str)
            .ok_or_else(|| mismatch(path, expect, &quoted(s), span)),
        (Literal::Num(n), Expect::Num | Expect::Any) => parse_number(n).ok_or_else(|| {
            err(
                format!(
                    "Number {} is out of range (field '{path}')",
                    ast::truncate(n)
                ),
                span,
            )
        }),
        (Literal::Bool(b), Expect::Bool | Expect::Any) => Ok(Value::Bool(*b)),
        (Literal::Str(_), _) => Err(mismatch(path, expect, "a string", span)),
        (Literal::Num(_), _) => Err(mismatch(path, expect, "a number", span)),
        (Literal::Bool(_), _) => Err(mismatch(path, expect, "a boolean", span)),
    }
}

/// Converts a `var.*` value (always text) to the type of the field it is compared with. Values
/// compared with untyped custom fields stay strings: their type is unknown, and guessing would
/// turn the string "42" into a number.
fn convert_var(
    raw: &str,
    name: &str,
    expect: Expect,
    path: &str,
    span: Span,
) -> Result<Value, CheckError> {
    let converted = match expect {
        Expect::Str | Expect::Any => Some(Value::Str(raw.to_owned())),
        Expect::Date => parse_date(raw).map(Value::Str),
        Expect::Time => parse_time(raw).map(Value::Str),
        Expect::DateTime => parse_datetime(raw).map(Value::Str),
        Expect::Num => {
            let t = raw.trim();
            if crate::lexer::is_number(t) {
                parse_number(t)
            } else {
                None
            }
        }
        Expect::Bool => match raw.trim() {
            t if t.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            t if t.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
            _ => None,
        },
    };
    converted.ok_or_else(|| {
        let mut q = String::new();
        let _ = ast::write_string(&mut q, &ast::truncate(raw));
        mismatch(
            path,
            expect,
            &format!("{q} from input variable '{name}'"),
            span,
        )
    })
}

/// Parses a number literal's text: integers that fit are exact, everything else is a float.
pub(crate) fn parse_number(n: &str) -> Option<Value> {
    if !n.contains('.') {
        if let Ok(i) = n.parse::<i64>() {
            return Some(Value::Int(i));
        }
    }
    n.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::Float)
}

/// Validates a `YYYY-MM-DD` date.
pub(crate) fn parse_date(s: &str) -> Option<String> {
    let fmt = format_description!("[year]-[month]-[day]");
    time::Date::parse(s, fmt).ok().map(|_| s.to_owned())
}

/// Validates `hh:mm:ss` with an optional fraction and normalises it to the stored form of a
/// custom `Time` value, `hh:mm:ss.sss` (finer digits are truncated), so that text comparison is
/// time comparison.
pub(crate) fn parse_time(s: &str) -> Option<String> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let two_digits = |p: &str, max: u32| {
        if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse::<u32>().ok().filter(|n| *n <= max)
        } else {
            None
        }
    };
    let mut parts = hms.split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (h, m, sec) = (two_digits(h, 23)?, two_digits(m, 59)?, two_digits(sec, 59)?);
    let millis = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<3}").get(..3)?.parse::<u32>().ok()?
        }
        Some(_) => return None,
    };
    Some(format!("{h:02}:{m:02}:{sec:02}.{millis:03}"))
}

/// Parses an ISO-8601 datetime (or a date, meaning midnight UTC) and normalises it to the
/// stored form `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds; finer digits are truncated) so
/// that text comparison is time comparison.
pub(crate) fn parse_datetime(s: &str) -> Option<String> {
    let dt = match time::OffsetDateTime::parse(s, &Rfc3339) {
        Ok(dt) => dt,
        Err(_) => parse_date(s)
            .and_then(|_| time::Date::parse(s, format_description!("[year]-[month]-[day]")).ok())?
            .midnight()
            .assume_utc(),
    };
    let utc = dt.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&utc.year()) {
        return None;
    }
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_normalised() {
        assert_eq!(
            parse_datetime("2022-09-19T14:34:35.843Z").as_deref(),
            Some("2022-09-19T14:34:35.843Z")
        );
        assert_eq!(
            parse_datetime("2022-09-19T16:34:35+02:00").as_deref(),
            Some("2022-09-19T14:34:35.000Z")
        );
        assert_eq!(
            parse_datetime("2022-09-19T14:34:35.84399Z").as_deref(),
            Some("2022-09-19T14:34:35.843Z")
        );
        assert_eq!(
            parse_datetime("2022-09-19").as_deref(),
            Some("2022-09-19T00:00:00.000Z")
        );
        assert_eq!(parse_datetime("2022-13-19"), None);
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn times_are_normalised() {
        assert_eq!(parse_time("09:05:00").as_deref(), Some("09:05:00.000"));
        assert_eq!(parse_time("23:59:59.5").as_deref(), Some("23:59:59.500"));
        assert_eq!(
            parse_time("23:59:59.12345").as_deref(),
            Some("23:59:59.123")
        );
        for bad in [
            "24:00:00",
            "9:05:00",
            "09:05",
            "09:05:00.",
            "09:05:00:00",
            "09:60:00",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("42"), Some(Value::Int(42)));
        assert_eq!(parse_number("-1.5"), Some(Value::Float(-1.5)));
        assert_eq!(
            parse_number("99999999999999999999"),
            Some(Value::Float(1e20))
        );
    }
}
