//! One statement of either database: its SQL text with `$n` placeholders, which both SQLite and
//! PostgreSQL accept, and its bound values in placeholder order. Runs nothing: `db` runs
//! statements through sqlx, `readers` through rusqlite.

use clientele_query::SqlParam;

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// Text or NULL.
    Text(Option<String>),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}

impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<&SqlParam> for Arg {
    fn from(p: &SqlParam) -> Self {
        match p {
            SqlParam::Text(s) => Arg::Text(Some(s.clone())),
            SqlParam::Int(i) => Arg::Int(*i),
            SqlParam::Float(f) => Arg::Float(*f),
            SqlParam::Bool(b) => Arg::Bool(*b),
        }
    }
}

/// One statement: SQL text with `$n` placeholders and its arguments in placeholder order.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// A statement without arguments yet.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// The SQL text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The arguments, in placeholder order.
    pub(crate) fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Binds the next placeholders, in order.
    pub(crate) fn bind_all<'a>(mut self, args: impl IntoIterator<Item = &'a SqlParam>) -> Self {
        self.args.extend(args.into_iter().map(Arg::from));
        self
    }
}
