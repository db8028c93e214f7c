//! One statement of either database: its SQL text with `$n` placeholders, which both SQLite and
//! PostgreSQL accept, and its bound values in placeholder order. Runs nothing: `db` runs
//! statements through sqlx, `readers` through rusqlite.

use clientele_query::SqlParam;

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
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

/// `$first, $first+1, …` for `n` placeholders (an `IN (…)` list).
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Statements with more arguments than this are bound by position on SQLite
/// ([`Sql::anonymous`]).
const NUMBERED_ARGS_AT_MOST: usize = 32;

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
    pub(crate) fn bind_all<A: Into<Arg>>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// This statement with its `$n` placeholders turned into anonymous `?`s and its arguments
    /// repeated in the order the placeholders occur, when it has more than
    /// [`NUMBERED_ARGS_AT_MOST`] arguments (for SQLite).
    ///
    /// SQLite keeps numbered and named parameters in a list that it searches from the start when
    /// it prepares each one and again when sqlx asks each one's name while binding: both quadratic
    /// in the number of parameters. A multi-row `INSERT` of 6,000 arguments spent over half of an
    /// import's CPU there (perf, 20k customers). Anonymous parameters have no names to search.
    /// Quoted text (`'$.path'`, `"column"`) is left as it is.
    pub(crate) fn anonymous(self) -> Sql {
        let sql = self;
        // Small statements keep their text, so that sqlx's statement cache keys stay short.
        if sql.args.len() <= NUMBERED_ARGS_AT_MOST {
            return sql;
        }
        // Each placeholder's byte range and argument index, in text order.
        let bytes = sql.text.as_bytes();
        let mut found: Vec<(usize, usize, usize)> = Vec::with_capacity(sql.args.len());
        let (mut i, mut quote) = (0, None::<u8>);
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'\'' || b == b'"' => quote = Some(b),
                None if b == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                    let end = (i + 1..bytes.len())
                        .find(|&j| !bytes[j].is_ascii_digit())
                        .unwrap_or(bytes.len());
                    let arg = sql.text[i + 1..end]
                        .parse::<usize>()
                        .ok()
                        .and_then(|n| n.checked_sub(1))
                        .filter(|n| *n < sql.args.len());
                    // A placeholder without an argument stays numbered, for SQLite to report.
                    if let Some(arg) = arg {
                        found.push((i, end, arg));
                    }
                    i = end;
                    continue;
                }
                None => {}
            }
            i += 1;
        }
        if found.is_empty() {
            return sql;
        }
        // An argument's last use takes it; earlier uses (a repeated `$n`) copy it. Statements
        // of thousands of documents were copying every one of them.
        let mut uses = vec![0usize; sql.args.len()];
        for (.., arg) in &found {
            uses[*arg] += 1;
        }
        let mut owned: Vec<Option<Arg>> = sql.args.into_iter().map(Some).collect();
        let mut text = String::with_capacity(sql.text.len());
        let mut args = Vec::with_capacity(found.len());
        let mut copied = 0;
        for (start, end, arg) in found {
            text.push_str(&sql.text[copied..start]);
            text.push('?');
            copied = end;
            uses[arg] -= 1;
            let value = if uses[arg] == 0 {
                owned[arg].take()
            } else {
                owned[arg].clone()
            };
            args.extend(value);
        }
        text.push_str(&sql.text[copied..]);
        Sql { text, args }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &Sql) -> Vec<String> {
        sql.args
            .iter()
            .map(|a| match a {
                Arg::Int(i) => i.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn small_statements_keep_their_numbered_placeholders() {
        let sql = Sql::new("SELECT $1, $2, $1").bind(1).bind(2);
        let out = sql.anonymous();
        assert_eq!(out.text, "SELECT $1, $2, $1");
        assert_eq!(texts(&out), ["1", "2"]);
    }

    #[test]
    fn large_statements_bind_by_position_with_repeats_and_leave_quoted_text_alone() {
        let mut sql = Sql::new(
            "INSERT INTO t (p, a, j) VALUES ".to_owned()
                + &{
                    (0..40)
                        .map(|i| format!("($1, ${}, json_extract('{{}}', '$.x'))", i + 2))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
                + " ON CONFLICT DO NOTHING -- \"$9\"",
        );
        sql = sql.bind(100);
        for i in 0..40 {
            sql = sql.bind(i);
        }
        let out = sql.anonymous();
        assert!(out.text.starts_with(
            "INSERT INTO t (p, a, j) VALUES (?, ?, json_extract('{}', '$.x')), (?, ?, "
        ));
        assert!(out.text.ends_with("ON CONFLICT DO NOTHING -- \"$9\""));
        assert_eq!(out.text.matches('?').count(), 80);
        let expected: Vec<String> = (0..40)
            .flat_map(|i| ["100".to_owned(), i.to_string()])
            .collect();
        assert_eq!(texts(&out), expected);
    }
}
