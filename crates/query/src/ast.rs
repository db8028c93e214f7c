//! The untyped syntax tree of a `where` predicate, with source spans, and its canonical printer.
//!
//! Owns the shape of what the parser produced and how it prints (`Display`): lower-case
//! keywords, single spaces, `!=` for both `!=` and `<>`, strings re-escaped, parentheses only
//! where precedence needs them. `parse(print(ast)) == ast` holds for every tree the parser can
//! produce. It must not know about fields or types (that is `check`).

use std::fmt;

/// A byte range in the predicate text.
///
/// Spans never take part in equality: two trees that differ only in where their parts were
/// written are the same predicate (this is what makes the print/parse round trip comparable).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Span {
    /// First byte.
    pub(crate) start: usize,
    /// One past the last byte.
    pub(crate) end: usize,
}

impl Span {
    /// A span from `start` to `end` (bytes).
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A field name as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Name {
    /// The identifier.
    pub(crate) text: String,
    /// Where it was written.
    pub(crate) span: Span,
}

/// A comparison operator. `<>` is parsed as [`CmpOp::Ne`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The canonical spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    /// A decoded string.
    Str(String),
    /// A number, as its source text (`-?[0-9]+(\.[0-9]+)?`), so printing is exact.
    Num(String),
    /// `true` / `false` (any letter case in the input).
    Bool(bool),
}

/// A single value position: a literal or an input variable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// A literal written in the predicate.
    Lit(Literal, Span),
    /// `:name`, bound from `var.name`.
    Var(String, Span),
}

/// The right-hand side of `in`, `not in`, `contains any|all`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ListOperand {
    /// `(v1, v2, …)`, at least one value.
    List(Vec<Operand>),
    /// `:name`; every `var.name` value is one element.
    Var(String, Span),
}

/// What a condition tests about its field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    /// `field op value`
    Cmp(CmpOp, Operand),
    /// `field [not] in …`
    In {
        /// `not in`
        negated: bool,
        /// The values.
        values: ListOperand,
    },
    /// `field contains any|all …`
    Contains {
        /// `all` (else `any`)
        all: bool,
        /// The values.
        values: ListOperand,
    },
    /// `field is [not] defined`
    Defined {
        /// `is not defined`
        negated: bool,
    },
    /// `field is [not] empty`
    Empty {
        /// `is not empty`
        negated: bool,
    },
    /// `field within circle(lng, lat, radius)`; numbers as source text.
    WithinCircle([String; 3]),
}

/// A predicate expression.
///
/// Invariant kept by the parser (and the printer relies on it): an `And` never directly holds an
/// `And`, an `Or` never directly holds an `Or`, and both hold at least two operands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// Conjunction.
    And(Vec<Expr>),
    /// Disjunction.
    Or(Vec<Expr>),
    /// `not(…)`; the span is the `not` keyword.
    Not(Box<Expr>, Span),
    /// `field(…)`: descend into an object or some element of an array of objects.
    Nested {
        /// The field.
        field: Name,
        /// The predicate on the nested object.
        inner: Box<Expr>,
    },
    /// A condition on a field.
    Cond {
        /// The field.
        field: Name,
        /// The test.
        test: Test,
        /// Where the operator (keyword) was written.
        op_span: Span,
    },
}

impl Expr {
    /// Builds a conjunction, flattening nested conjunctions (keeps the invariant).
    pub(crate) fn and(items: Vec<Expr>) -> Expr {
        Self::flatten(items, true)
    }

    /// Builds a disjunction, flattening nested disjunctions (keeps the invariant).
    pub(crate) fn or(items: Vec<Expr>) -> Expr {
        Self::flatten(items, false)
    }

    fn flatten(items: Vec<Expr>, is_and: bool) -> Expr {
        let mut out = Vec::with_capacity(items.len());
        for e in items {
            match e {
                Expr::And(inner) if is_and => out.extend(inner),
                Expr::Or(inner) if !is_and => out.extend(inner),
                other => out.push(other),
            }
        }
        if out.len() == 1 {
            if let Some(only) = out.pop() {
                return only;
            }
        }
        if is_and {
            Expr::And(out)
        } else {
            Expr::Or(out)
        }
    }
}

/// Shortens user text quoted in error messages so messages stay bounded.
pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 30;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

/// Writes `s` as a predicate string literal, escaping what the lexer would not read back raw.
pub(crate) fn write_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write_string(f, s),
            Literal::Num(n) => f.write_str(n),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Lit(l, _) => l.fmt(f),
            Operand::Var(v, _) => write!(f, ":{v}"),
        }
    }
}

impl fmt::Display for ListOperand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListOperand::Var(v, _) => write!(f, ":{v}"),
            ListOperand::List(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Test::Cmp(op, v) => write!(f, "{} {v}", op.as_str()),
            Test::In { negated, values } => {
                write!(f, "{}in {values}", if *negated { "not " } else { "" })
            }
            Test::Contains { all, values } => {
                write!(f, "contains {} {values}", if *all { "all" } else { "any" })
            }
            Test::Defined { negated } => {
                write!(f, "is {}defined", if *negated { "not " } else { "" })
            }
            Test::Empty { negated } => write!(f, "is {}empty", if *negated { "not " } else { "" }),
            Test::WithinCircle([a, b, c]) => write!(f, "within circle({a}, {b}, {c})"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    // `or` binds looser than `and`, so an `or` operand needs parentheses.
                    if matches!(e, Expr::Or(_)) {
                        write!(f, "({e})")?;
                    } else {
                        e.fmt(f)?;
                    }
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    e.fmt(f)?;
                }
                Ok(())
            }
            Expr::Not(e, _) => write!(f, "not({e})"),
            Expr::Nested { field, inner } => write!(f, "{}({inner})", field.text),
            Expr::Cond { field, test, .. } => write!(f, "{} {test}", field.text),
        }
    }
}
