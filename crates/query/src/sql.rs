//! Compiles a checked predicate to a boolean SQL expression for SQLite or PostgreSQL.
//!
//! Owns the dialect seam ([`Dialect`]) and the SQL shapes. Rules it keeps:
//! - every user value is a bound parameter; SQL text only ever contains column names and JSON
//!   keys from the schema (custom-field names are bound as parameters too);
//! - every compiled test is a *definite* boolean (never NULL), so `NOT`, `AND`, `OR` behave like
//!   the evaluator (`eval`) — that is why JSON tests are `CASE WHEN <type guard> THEN … ELSE
//!   FALSE END` and nullable columns are guarded with `IS NOT NULL AND …`;
//! - indexed fields compile to plain column comparisons so indexes can serve them, and
//!   `stores(key = …)` asks the indexed side table (`Cond::KeyIn`) instead of the JSON;
//! - on PostgreSQL, a predicate that implies some JSON containment (equality tests on document
//!   fields, possibly inside `field(…)`, ANDed) is prefixed with `doc @> $n::jsonb AND …`: a
//!   necessary condition only (the exact test still follows), which the GIN index on `doc` can
//!   serve and which is far cheaper per row than the `jsonb_array_elements` subqueries;
//! - PostgreSQL casts a JSON value only inside a `CASE` that checked its type (casting a string
//!   to numeric would abort the query), and compares text with `COLLATE "C"` for `<`/`>` so the
//!   order is byte order, as in SQLite and the evaluator.
//!
//! It must not decide semantics (the evaluator is the reference) nor read the schema beyond what
//! the checked tree carries.

use serde_json::Value as Json;

use crate::ast::CmpOp;
use crate::check::{Access, Cond, Key, Kind, ScopeMode, Shape, Test, Value};
use crate::schema::{Column, ElementIndex, KeyIndex};

/// The SQL dialect to compile for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3 with the JSON1 functions; the document column holds JSON text.
    Sqlite,
    /// PostgreSQL; the document column is `jsonb`.
    Postgres,
}

/// A bound SQL parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// Floating point.
    Float(f64),
    /// Boolean.
    Bool(bool),
}

/// A piece of SQL with its parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlFragment {
    /// The SQL text. Placeholders are `?` for SQLite and `$N` for PostgreSQL, numbered from the
    /// `first_param` passed to the compiler.
    pub sql: String,
    /// Parameters, in order.
    pub params: Vec<SqlParam>,
}

/// Compiles `cond`; placeholders for PostgreSQL start at `$first_param`.
pub(crate) fn compile(
    cond: &Cond,
    doc_column: &'static str,
    dialect: Dialect,
    first_param: usize,
) -> SqlFragment {
    let mut b = Builder {
        dialect,
        first_param,
        doc_column,
        sql: String::new(),
        params: Vec::new(),
        aliases: 0,
    };
    let root = Ctx {
        base: Base::Doc,
        path: Vec::new(),
    };
    match containment(cond).filter(|_| dialect == Dialect::Postgres) {
        Some(pattern) => {
            b.w("(");
            b.w(doc_column);
            b.w(" @> ");
            b.param(SqlParam::Text(pattern.to_string()));
            b.w("::jsonb AND ");
            b.cond(cond, &root);
            b.w(")");
        }
        None => b.cond(cond, &root),
    }
    SqlFragment {
        sql: b.sql,
        params: b.params,
    }
}

/// Compiles `cond`, a predicate whose tests are all on columns of the table it runs against
/// (the inner predicate of an element-indexed lookup), without any containment pre-filter.
pub(crate) fn compile_columns(cond: &Cond, dialect: Dialect, first_param: usize) -> SqlFragment {
    let mut b = Builder {
        dialect,
        first_param,
        doc_column: "",
        sql: String::new(),
        params: Vec::new(),
        aliases: 0,
    };
    let root = Ctx {
        base: Base::Doc,
        path: Vec::new(),
    };
    b.cond(cond, &root);
    SqlFragment {
        sql: b.sql,
        params: b.params,
    }
}

/// A JSON document that the row's document must contain (`@>`) whenever `cond` holds, or `None`
/// when no such pattern is cheap to state. Only ever weaker than `cond`: equality with a string
/// or boolean on a document field (not a column, not derived), `contains all`/`any` of strings,
/// descents into objects and arrays of objects, and conjunctions of those. Numbers are left out
/// because `1` and `1.0` are one value to the evaluator but spelled differently in JSON.
fn containment(cond: &Cond) -> Option<Json> {
    match cond {
        Cond::And(items) => items.iter().filter_map(containment).reduce(merge_patterns),
        Cond::Scope {
            access,
            mode,
            inner,
        } => {
            let key = json_key(access)?;
            let inner = containment(inner)?;
            let pattern = match mode {
                ScopeMode::Object { .. } => inner,
                ScopeMode::Array => Json::Array(vec![inner]),
                // An untyped value may be an object or an array of objects: no single pattern.
                ScopeMode::Untyped => return None,
            };
            Some(json_object(key, pattern))
        }
        Cond::Test {
            access,
            shape,
            test,
        } => {
            let key = json_key(access)?;
            let pattern = match (shape, test) {
                (Shape::Single, Test::Cmp(CmpOp::Eq, v)) => scalar_pattern(v)?,
                (
                    Shape::Single,
                    Test::In {
                        negated: false,
                        values,
                    },
                ) if values.len() == 1 => scalar_pattern(&values[0])?,
                (Shape::Array, Test::Cmp(CmpOp::Eq, v)) => Json::Array(vec![scalar_pattern(v)?]),
                (
                    Shape::Array,
                    Test::In {
                        negated: false,
                        values,
                    },
                ) if values.len() == 1 => Json::Array(vec![scalar_pattern(&values[0])?]),
                (Shape::Array, Test::ContainsAll(values)) => Json::Array(
                    values
                        .iter()
                        .map(scalar_pattern)
                        .collect::<Option<Vec<_>>>()?,
                ),
                _ => return None,
            };
            Some(json_object(key, pattern))
        }
        // Or / not have no common pattern; the side tables serve `KeyIn` and `Elements` better
        // than the GIN.
        Cond::Or(_) | Cond::Not(_) | Cond::KeyIn { .. } | Cond::Elements { .. } => None,
    }
}

/// The JSON key of a document field, or `None` for columns and derived fields. Custom-field
/// names qualify: the pattern is a bound parameter, and only typed custom fields reach here
/// (untyped ones are `Shape::Untyped` / `ScopeMode::Untyped`, which have no pattern).
fn json_key(access: &Access) -> Option<&str> {
    match (&access.key, access.column, access.lowercase_of) {
        (k, None, None) => Some(k.as_str()),
        _ => None,
    }
}

fn scalar_pattern(v: &Value) -> Option<Json> {
    match v {
        Value::Str(s) => Some(Json::String(s.clone())),
        Value::Bool(b) => Some(Json::Bool(*b)),
        Value::Int(_) | Value::Float(_) => None,
    }
}

fn json_object(key: &str, value: Json) -> Json {
    let mut m = serde_json::Map::new();
    m.insert(key.to_owned(), value);
    Json::Object(m)
}

/// A pattern contained wherever both `a` and `b` are: objects merge key by key, arrays
/// concatenate (each pattern element matches some element on its own), and on any other clash
/// `a` wins, which only weakens the pattern.
fn merge_patterns(a: Json, b: Json) -> Json {
    match (a, b) {
        (Json::Object(mut a), Json::Object(b)) => {
            for (k, bv) in b {
                let merged = match a.remove(&k) {
                    Some(av) => merge_patterns(av, bv),
                    None => bv,
                };
                a.insert(k, merged);
            }
            Json::Object(a)
        }
        (Json::Array(mut a), Json::Array(b)) => {
            a.extend(b);
            Json::Array(a)
        }
        (a, _) => a,
    }
}

/// Whether `inner` holds only where some equality on a [`ElementIndex::selective`] field holds
/// (then the side table's index should drive the lookup).
fn selective(index: &ElementIndex, inner: &Cond) -> bool {
    match inner {
        Cond::And(items) => items.iter().any(|i| selective(index, i)),
        Cond::Or(items) => !items.is_empty() && items.iter().all(|i| selective(index, i)),
        Cond::Test {
            access,
            test: Test::Cmp(CmpOp::Eq, _) | Test::In { negated: false, .. },
            ..
        } => index.selective.contains(&access.key.as_str()),
        _ => false,
    }
}

/// Whether `c`, evaluated where the row's columns apply, is false whenever every column it
/// tests is NULL: it is a conjunction with such a test, or a disjunction of them, and each is a
/// NULL-guarded column comparison or `is defined` (never `is not defined` or a `not`, which
/// hold on NULL, and never a document test).
fn false_on_null_columns(c: &Cond) -> bool {
    match c {
        Cond::And(items) => items.iter().any(false_on_null_columns),
        Cond::Or(items) => !items.is_empty() && items.iter().all(false_on_null_columns),
        Cond::Test {
            access: Access {
                column: Some(col), ..
            },
            test,
            ..
        } => matches!(
            (test, col.nullable),
            (Test::Cmp(..) | Test::In { .. }, true) | (Test::Defined(false), _)
        ),
        _ => false,
    }
}

/// The JSON value a context's paths are relative to.
#[derive(Debug, Clone, PartialEq)]
enum Base {
    /// The row's document column.
    Doc,
    /// The `n`th array-element alias of an enclosing `EXISTS`.
    Elem(usize),
}

/// Where we are: a base value and the object path below it.
#[derive(Debug, Clone)]
struct Ctx {
    base: Base,
    path: Vec<Key>,
}

impl Ctx {
    fn with(&self, key: &Key) -> Vec<Key> {
        let mut p = self.path.clone();
        p.push(key.clone());
        p
    }

    /// Columns describe the row, so they only apply when the current object is the document
    /// itself or an object nested in it (never an array element).
    fn columns_apply(&self) -> bool {
        self.base == Base::Doc
    }
}

/// A JSON location: base plus keys (keys empty only for an array element itself).
struct Loc<'a> {
    base: &'a Base,
    keys: Vec<Key>,
}

struct Builder {
    dialect: Dialect,
    first_param: usize,
    doc_column: &'static str,
    sql: String,
    params: Vec<SqlParam>,
    aliases: usize,
}

impl Builder {
    fn w(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    fn param(&mut self, p: SqlParam) {
        match self.dialect {
            Dialect::Sqlite => self.sql.push('?'),
            Dialect::Postgres => {
                let n = self.first_param + self.params.len();
                self.sql.push('$');
                self.sql.push_str(&n.to_string());
            }
        }
        self.params.push(p);
    }

    fn value_param(&mut self, v: &Value) {
        let p = match v {
            Value::Str(s) => SqlParam::Text(s.clone()),
            Value::Int(i) => SqlParam::Int(*i),
            Value::Float(f) => SqlParam::Float(*f),
            Value::Bool(b) => SqlParam::Bool(*b),
        };
        self.param(p);
        // PostgreSQL compares a numeric JSON value; cast so int8/float8 parameters compare exactly.
        if self.dialect == Dialect::Postgres && v.kind() == Kind::Num {
            self.w("::numeric");
        }
    }

    fn new_alias(&mut self) -> usize {
        self.aliases += 1;
        self.aliases
    }

    fn base_sql(&self, base: &Base) -> String {
        match (base, self.dialect) {
            (Base::Doc, _) => self.doc_column.to_owned(),
            (Base::Elem(n), Dialect::Sqlite) => format!("e{n}.value"),
            (Base::Elem(n), Dialect::Postgres) => format!("e{n}.v"),
        }
    }

    // ---- SQLite JSON access -------------------------------------------------------------

    /// Writes a SQLite JSON path argument: a literal for schema keys, a parameter when a
    /// custom-field name is part of it.
    fn sqlite_path(&mut self, keys: &[Key]) {
        if keys.iter().all(|k| matches!(k, Key::Static(_))) {
            self.w("'$");
            for k in keys {
                self.w(".");
                self.w(k.as_str());
            }
            self.w("'");
        } else {
            let mut p = String::from("$");
            for k in keys {
                // Keys are `[A-Za-z0-9_-]+`, so quoting cannot be broken out of.
                p.push_str(".\"");
                p.push_str(k.as_str());
                p.push('"');
            }
            self.param(SqlParam::Text(p));
        }
    }

    /// `json_type(…)` / `eN.type` (SQLite) or `jsonb_typeof(…)` (PostgreSQL) of a location.
    fn type_of(&mut self, loc: &Loc<'_>) {
        match self.dialect {
            Dialect::Sqlite => {
                if let (Base::Elem(n), true) = (loc.base, loc.keys.is_empty()) {
                    self.w(&format!("e{n}.type"));
                } else {
                    let b = self.base_sql(loc.base);
                    self.w(&format!("json_type({b}, "));
                    self.sqlite_path(&loc.keys);
                    self.w(")");
                }
            }
            Dialect::Postgres => {
                self.w("jsonb_typeof(");
                self.pg_json(loc);
                self.w(")");
            }
        }
    }

    /// PostgreSQL `jsonb` expression of a location: `(doc -> 'a' -> 'b')`.
    fn pg_json(&mut self, loc: &Loc<'_>) {
        let b = self.base_sql(loc.base);
        self.w("(");
        self.w(&b);
        for k in &loc.keys {
            self.pg_key(k, "->");
        }
        self.w(")");
    }

    fn pg_key(&mut self, k: &Key, op: &str) {
        self.w(" ");
        self.w(op);
        self.w(" ");
        match k {
            Key::Static(s) => {
                self.w("'");
                self.w(s);
                self.w("'");
            }
            Key::Dynamic(s) => {
                self.param(SqlParam::Text(s.clone()));
                self.w("::text");
            }
        }
    }

    /// The SQL value of a location for comparison with a value of `kind` (only evaluated where
    /// its type was checked).
    fn value_of(&mut self, loc: &Loc<'_>, kind: Kind) {
        match self.dialect {
            Dialect::Sqlite => {
                if let (Base::Elem(n), true) = (loc.base, loc.keys.is_empty()) {
                    self.w(&format!("e{n}.value"));
                } else {
                    let b = self.base_sql(loc.base);
                    self.w(&format!("json_extract({b}, "));
                    self.sqlite_path(&loc.keys);
                    self.w(")");
                }
            }
            Dialect::Postgres => match kind {
                Kind::Str => match loc.keys.split_last() {
                    Some((last, init)) => {
                        let b = self.base_sql(loc.base);
                        self.w("(");
                        self.w(&b);
                        for k in init {
                            self.pg_key(k, "->");
                        }
                        self.pg_key(last, "->>");
                        self.w(")");
                    }
                    None => {
                        // Parenthesised so a following `COLLATE` applies to the whole value.
                        self.w("(");
                        self.pg_json(loc);
                        self.w(" #>> '{}')");
                    }
                },
                Kind::Num => {
                    self.pg_json(loc);
                    self.w("::numeric");
                }
                Kind::Bool => {
                    self.pg_json(loc);
                    self.w("::boolean");
                }
            },
        }
    }

    fn type_guard(&mut self, loc: &Loc<'_>, kind: Kind) {
        self.type_of(loc);
        let g = match (self.dialect, kind) {
            (Dialect::Sqlite, Kind::Str) => " = 'text'",
            (Dialect::Sqlite, Kind::Num) => " IN ('integer', 'real')",
            (Dialect::Sqlite, Kind::Bool) => " IN ('true', 'false')",
            (Dialect::Postgres, Kind::Str) => " = 'string'",
            (Dialect::Postgres, Kind::Num) => " = 'number'",
            (Dialect::Postgres, Kind::Bool) => " = 'boolean'",
        };
        self.w(g);
    }

    // ---- predicate ----------------------------------------------------------------------

    fn cond(&mut self, c: &Cond, ctx: &Ctx) {
        match c {
            Cond::And(items) => self.junction(items, " AND ", "TRUE", ctx),
            Cond::Or(items) => self.junction(items, " OR ", "FALSE", ctx),
            Cond::Not(inner) => {
                self.w("NOT (");
                self.cond(inner, ctx);
                self.w(")");
            }
            Cond::KeyIn { index, keys, json } => {
                if ctx.columns_apply() && ctx.path.is_empty() {
                    self.key_in(index, keys);
                } else {
                    self.cond(json, ctx);
                }
            }
            Cond::Elements { index, inner, json } => {
                if ctx.columns_apply() && ctx.path.is_empty() {
                    self.elements_in(index, inner);
                } else {
                    self.cond(json, ctx);
                }
            }
            Cond::Scope {
                access,
                mode,
                inner,
            } => self.scope(access, *mode, inner, ctx),
            Cond::Test {
                access,
                shape,
                test,
            } => self.test(access, *shape, test, ctx),
        }
    }

    /// `id IN (SELECT owner FROM side WHERE key IN (…))`: never NULL, since neither the row's
    /// id nor the side table's owner column is nullable.
    fn key_in(&mut self, index: &KeyIndex, keys: &[String]) {
        self.w(&format!(
            "{} IN (SELECT {} FROM {} WHERE {} IN (",
            index.id_column, index.owner_column, index.table, index.key_column
        ));
        for (i, k) in keys.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.param(SqlParam::Text(k.clone()));
        }
        self.w("))");
    }

    /// Some side-table row of the element index satisfies `inner` (whose tests are on the side
    /// table's columns). Never NULL: `IN` over non-nullable ids and `EXISTS` are definite.
    ///
    /// Measured on both databases (docs/performance.md): a correlated `EXISTS` lets a page in
    /// the resource's order stop after the first matches, where `IN` would first collect every
    /// match (a fifth of all customers for a country); `IN` wins when the side table's index
    /// leaves a handful of rows, which an equality on a [`ElementIndex::selective`] field does.
    fn elements_in(&mut self, index: &ElementIndex, inner: &Cond) {
        let root = Ctx {
            base: Base::Doc,
            path: Vec::new(),
        };
        if selective(index, inner) {
            self.w(&format!(
                "{} IN (SELECT {} FROM {} WHERE ",
                index.id_column, index.owner_column, index.table
            ));
        } else {
            self.w(&format!(
                "EXISTS (SELECT 1 FROM {} WHERE {} = {} AND ",
                index.table, index.owner_column, index.id_column
            ));
        }
        self.cond(inner, &root);
        self.w(")");
    }

    fn junction(&mut self, items: &[Cond], sep: &str, empty: &str, ctx: &Ctx) {
        if items.is_empty() {
            self.w(empty);
            return;
        }
        self.w("(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.w(sep);
            }
            self.cond(item, ctx);
        }
        self.w(")");
    }

    fn scope(&mut self, access: &Access, mode: ScopeMode, inner: &Cond, ctx: &Ctx) {
        let keys = ctx.with(&access.key);
        match mode {
            ScopeMode::Object {
                always_present: true,
            } => {
                let sub = Ctx {
                    base: ctx.base.clone(),
                    path: keys,
                };
                self.cond(inner, &sub);
            }
            // Column tests that are false on NULL need no guard: the object's absence leaves
            // its columns NULL (`customerGroup(id = …)` stays an index lookup).
            ScopeMode::Object {
                always_present: false,
            } if ctx.columns_apply() && false_on_null_columns(inner) => {
                let sub = Ctx {
                    base: ctx.base.clone(),
                    path: keys,
                };
                self.cond(inner, &sub);
            }
            ScopeMode::Object {
                always_present: false,
            } => self.object_scope(ctx, keys, inner),
            ScopeMode::Array => self.array_scope(ctx, keys, inner),
            ScopeMode::Untyped => {
                self.w("(");
                self.object_scope(ctx, keys.clone(), inner);
                self.w(" OR ");
                self.array_scope(ctx, keys, inner);
                self.w(")");
            }
        }
    }

    /// `CASE WHEN <value is an object> THEN <inner> ELSE FALSE END`
    fn object_scope(&mut self, ctx: &Ctx, keys: Vec<Key>, inner: &Cond) {
        let loc = Loc {
            base: &ctx.base,
            keys: keys.clone(),
        };
        self.w("CASE WHEN ");
        self.type_of(&loc);
        self.w(" = 'object' THEN ");
        let sub = Ctx {
            base: ctx.base.clone(),
            path: keys,
        };
        self.cond(inner, &sub);
        self.w(" ELSE FALSE END");
    }

    /// `EXISTS (SELECT 1 FROM <elements> WHERE <element is an object> AND <inner>)`
    fn array_scope(&mut self, ctx: &Ctx, keys: Vec<Key>, inner: &Cond) {
        let loc = Loc {
            base: &ctx.base,
            keys,
        };
        let n = self.elements(&loc, Shape::Array);
        let elem = Loc {
            base: &Base::Elem(n),
            keys: Vec::new(),
        };
        self.type_of(&elem);
        self.w(" = 'object' AND ");
        let sub = Ctx {
            base: Base::Elem(n),
            path: Vec::new(),
        };
        self.cond(inner, &sub);
        self.w(")");
    }

    /// Opens `EXISTS (SELECT 1 FROM <candidates of loc> AS eN WHERE ` (the caller writes the
    /// condition and the closing parenthesis) and returns `N`.
    ///
    /// SQLite's `json_each` yields the elements of an array, the members of an object and the
    /// value itself for a scalar, so the array/object case is excluded by a guard on the
    /// containing value. PostgreSQL's `jsonb_array_elements` fails on non-arrays, so the
    /// candidates are built as an array in a `CASE` first.
    fn elements(&mut self, loc: &Loc<'_>, shape: Shape) -> usize {
        let n = self.new_alias();
        match self.dialect {
            Dialect::Sqlite => {
                let b = self.base_sql(loc.base);
                self.w(&format!("EXISTS (SELECT 1 FROM json_each({b}, "));
                self.sqlite_path(&loc.keys);
                self.w(&format!(") AS e{n} WHERE "));
                self.type_of(loc);
                if shape == Shape::Untyped {
                    self.w(" <> 'object' AND ");
                } else {
                    self.w(" = 'array' AND ");
                }
            }
            Dialect::Postgres => {
                self.w("EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN ");
                self.type_of(loc);
                self.w(" = 'array' THEN ");
                self.pg_json(loc);
                if shape == Shape::Untyped {
                    self.w(" WHEN ");
                    self.type_of(loc);
                    self.w(" IN ('string', 'number', 'boolean') THEN jsonb_build_array(");
                    self.pg_json(loc);
                    self.w(")");
                }
                self.w(&format!(" ELSE '[]'::jsonb END) AS e{n}(v) WHERE "));
            }
        }
        n
    }

    fn test(&mut self, access: &Access, shape: Shape, test: &Test, ctx: &Ctx) {
        if let (Some(col), true) = (access.column, ctx.columns_apply()) {
            self.column_test(col, test);
            return;
        }
        let loc = Loc {
            base: &ctx.base,
            keys: ctx.with(&access.key),
        };
        match test {
            Test::Defined(negated) => {
                self.w("COALESCE(");
                self.type_of(&loc);
                self.w(if *negated {
                    ", 'null') = 'null'"
                } else {
                    ", 'null') <> 'null'"
                });
            }
            Test::Empty(negated) => {
                self.w("CASE WHEN ");
                self.type_of(&loc);
                self.w(" = 'array' THEN ");
                match self.dialect {
                    Dialect::Sqlite => {
                        let b = self.base_sql(loc.base);
                        self.w(&format!("json_array_length({b}, "));
                        self.sqlite_path(&loc.keys);
                        self.w(")");
                    }
                    Dialect::Postgres => {
                        self.w("jsonb_array_length(");
                        self.pg_json(&loc);
                        self.w(")");
                    }
                }
                self.w(if *negated { " > 0" } else { " = 0" });
                self.w(" ELSE FALSE END");
            }
            Test::ContainsAll(values) => {
                self.w("(");
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        self.w(" AND ");
                    }
                    let n = self.elements(&loc, shape);
                    let elem = Loc {
                        base: &Base::Elem(n),
                        keys: Vec::new(),
                    };
                    self.scalar_in(&elem, false, std::slice::from_ref(v));
                    self.w(")");
                }
                self.w(")");
            }
            Test::Cmp(..) | Test::In { .. } => {
                if shape == Shape::Single {
                    self.scalar_test(&loc, test);
                } else {
                    let n = self.elements(&loc, shape);
                    let elem = Loc {
                        base: &Base::Elem(n),
                        keys: Vec::new(),
                    };
                    self.scalar_test(&elem, test);
                    self.w(")");
                }
            }
        }
    }

    /// A comparison or membership test on one JSON value.
    fn scalar_test(&mut self, loc: &Loc<'_>, test: &Test) {
        match test {
            Test::Cmp(op, v) => {
                self.w("CASE WHEN ");
                self.type_guard(loc, v.kind());
                self.w(" THEN ");
                self.value_of(loc, v.kind());
                self.cmp_op(*op, v.kind());
                self.value_param(v);
                self.w(" ELSE FALSE END");
            }
            Test::In { negated, values } => self.scalar_in(loc, *negated, values),
            Test::ContainsAll(_) | Test::Defined(_) | Test::Empty(_) => self.w("FALSE"),
        }
    }

    /// `[NOT] IN` on one JSON value, one type-guarded `CASE` per kind of value in the list.
    fn scalar_in(&mut self, loc: &Loc<'_>, negated: bool, values: &[Value]) {
        let kinds: Vec<Kind> = [Kind::Str, Kind::Num, Kind::Bool]
            .into_iter()
            .filter(|k| values.iter().any(|v| v.kind() == *k))
            .collect();
        if kinds.len() > 1 {
            self.w("(");
        }
        for (i, kind) in kinds.iter().enumerate() {
            if i > 0 {
                self.w(" OR ");
            }
            self.w("CASE WHEN ");
            self.type_guard(loc, *kind);
            self.w(" THEN ");
            self.value_of(loc, *kind);
            self.w(if negated { " NOT IN (" } else { " IN (" });
            let mut first = true;
            for v in values.iter().filter(|v| v.kind() == *kind) {
                if !first {
                    self.w(", ");
                }
                first = false;
                self.value_param(v);
            }
            self.w(") ELSE FALSE END");
        }
        if kinds.len() > 1 {
            self.w(")");
        }
    }

    fn cmp_op(&mut self, op: CmpOp, kind: Kind) {
        let sql = match op {
            CmpOp::Eq => " = ",
            CmpOp::Ne => " <> ",
            CmpOp::Lt => " < ",
            CmpOp::Le => " <= ",
            CmpOp::Gt => " > ",
            CmpOp::Ge => " >= ",
        };
        if self.dialect == Dialect::Postgres
            && kind == Kind::Str
            && !matches!(op, CmpOp::Eq | CmpOp::Ne)
        {
            // Byte order, as SQLite's BINARY collation and the evaluator.
            self.w(" COLLATE \"C\"");
        }
        self.w(sql);
    }

    /// A test on a dedicated column: a plain comparison so an index can serve it; nullable
    /// columns get `col IS NOT NULL AND …` so the result is never NULL.
    fn column_test(&mut self, col: Column, test: &Test) {
        let guard = |b: &mut Self| {
            if col.nullable {
                b.w(&format!("({} IS NOT NULL AND ", col.name));
            }
        };
        let close = |b: &mut Self| {
            if col.nullable {
                b.w(")");
            }
        };
        match test {
            Test::Defined(negated) => {
                self.w(col.name);
                self.w(if *negated { " IS NULL" } else { " IS NOT NULL" });
            }
            Test::Cmp(op, v) => {
                guard(self);
                self.w(col.name);
                self.cmp_op(*op, v.kind());
                self.column_param(v);
                close(self);
            }
            Test::In { negated, values } => {
                guard(self);
                self.w(col.name);
                self.w(if *negated { " NOT IN (" } else { " IN (" });
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        self.w(", ");
                    }
                    self.column_param(v);
                }
                self.w(")");
                close(self);
            }
            // Columns hold scalars; the checker never produces these for them.
            Test::ContainsAll(_) | Test::Empty(_) => self.w("FALSE"),
        }
    }

    /// A parameter compared with a column: no cast, so the comparison stays index-friendly.
    fn column_param(&mut self, v: &Value) {
        let p = match v {
            Value::Str(s) => SqlParam::Text(s.clone()),
            Value::Int(i) => SqlParam::Int(*i),
            Value::Float(f) => SqlParam::Float(*f),
            Value::Bool(b) => SqlParam::Bool(*b),
        };
        self.param(p);
    }
}
