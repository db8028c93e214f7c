//! Recursive-descent parser for `where` predicates (grammar in the crate docs).
//!
//! Owns syntax: precedence (`not` > `and` > `or`), keyword recognition (any letter case,
//! by context, so a custom field may be called `and`), the nesting-depth limit, and "the whole
//! input is consumed or it is an error". It must not resolve fields or types (that is `check`).
//! Recursion only happens on `(`, so the depth limit also bounds the stack.

use crate::ast::{CmpOp, Expr, ListOperand, Literal, Name, Operand, Span, Test};
use crate::lexer::{lex, Tok, Token};

/// Maximum number of nested parenthesised groups (`(…)`, `not(…)`, `field(…)`).
pub(crate) const MAX_DEPTH: usize = 10;

/// A parse failure: detail and byte offset; `complexity` when the depth limit was hit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParseError {
    /// What is wrong, without the position.
    pub(crate) detail: String,
    /// Byte offset in the input.
    pub(crate) at: usize,
    /// True for the nesting-depth limit.
    pub(crate) complexity: bool,
}

/// Parses one predicate.
pub(crate) fn parse(input: &str) -> Result<Expr, ParseError> {
    let tokens = lex(input).map_err(|e| ParseError {
        detail: e.detail,
        at: e.at,
        complexity: false,
    })?;
    let mut p = Parser {
        input,
        tokens,
        pos: 0,
        depth: 0,
    };
    let e = p.or_expr()?;
    if p.peek().is_some() {
        return Err(p.unexpected("'and', 'or' or end of input"));
    }
    Ok(e)
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

const EXPECT_CONDITION: &str = "a field name, 'not' or '('";
const EXPECT_OPERATOR: &str =
    "an operator (=, !=, <>, <, <=, >, >=, in, not in, contains, is, within) or '('";
const EXPECT_VALUE: &str = "a value (string, number, true, false or :variable)";

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok> {
        self.tokens.get(self.pos + offset).map(|t| &t.tok)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// True if the next token is the keyword `kw` (any letter case).
    fn at_keyword(&self, kw: &str) -> bool {
        matches!(self.peek_tok(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }

    /// Consumes the keyword `kw` if it is next.
    fn eat_keyword(&mut self, kw: &str) -> Option<Span> {
        if self.at_keyword(kw) {
            self.bump().map(|t| t.span)
        } else {
            None
        }
    }

    /// `Unexpected <next token>, expected <what>` at the next token (or the end).
    fn unexpected(&self, what: &str) -> ParseError {
        match self.peek() {
            Some(t) => {
                let text = self.input.get(t.span.start..t.span.end).unwrap_or("");
                ParseError {
                    detail: format!(
                        "Unexpected '{}', expected {what}",
                        crate::ast::truncate(text)
                    ),
                    at: t.span.start,
                    complexity: false,
                }
            }
            None => ParseError {
                detail: format!("Unexpected end of input, expected {what}"),
                at: self.input.len(),
                complexity: false,
            },
        }
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<Span, ParseError> {
        match self.peek() {
            Some(t) if &t.tok == tok => {
                let span = t.span;
                self.pos += 1;
                Ok(span)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// Parses `( predicate )` after the `(` at `open` was consumed, counting the depth.
    fn group(&mut self, open: Span) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError {
                detail: format!("Query too complex: more than {MAX_DEPTH} nested levels"),
                at: open.start,
                complexity: true,
            });
        }
        let e = self.or_expr()?;
        self.expect(&Tok::RParen, "'and', 'or' or ')'")?;
        self.depth -= 1;
        Ok(e)
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.and_expr()?];
        while self.eat_keyword("or").is_some() {
            items.push(self.and_expr()?);
        }
        Ok(Expr::or(items))
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.unary()?];
        while self.eat_keyword("and").is_some() {
            items.push(self.unary()?);
        }
        Ok(Expr::and(items))
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        match self.peek_tok() {
            Some(Tok::LParen) => {
                let open = self.bump().map(|t| t.span).unwrap_or_default();
                self.group(open)
            }
            // `not` is negation only when a `(` follows; otherwise it is a field name.
            Some(Tok::Ident(w))
                if w.eq_ignore_ascii_case("not") && self.peek_at(1) == Some(&Tok::LParen) =>
            {
                let not = self.bump().map(|t| t.span).unwrap_or_default();
                let open = self.bump().map(|t| t.span).unwrap_or_default();
                Ok(Expr::Not(Box::new(self.group(open)?), not))
            }
            Some(Tok::Ident(_)) => self.condition(),
            _ => Err(self.unexpected(EXPECT_CONDITION)),
        }
    }

    fn condition(&mut self) -> Result<Expr, ParseError> {
        let Some(Token {
            tok: Tok::Ident(text),
            span,
        }) = self.bump()
        else {
            return Err(self.unexpected(EXPECT_CONDITION));
        };
        let field = Name { text, span };
        let Some(next) = self.peek().cloned() else {
            return Err(self.unexpected(EXPECT_OPERATOR));
        };
        let op_span = next.span;
        let op = match &next.tok {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne | Tok::LtGt => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let value = self.operand()?;
            return Ok(Expr::Cond {
                field,
                test: Test::Cmp(op, value),
                op_span,
            });
        }
        if next.tok == Tok::LParen {
            self.pos += 1;
            let inner = self.group(op_span)?;
            return Ok(Expr::Nested {
                field,
                inner: Box::new(inner),
            });
        }
        let test = if self.eat_keyword("in").is_some() {
            Test::In {
                negated: false,
                values: self.list_operand()?,
            }
        } else if self.eat_keyword("not").is_some() {
            if self.eat_keyword("in").is_none() {
                return Err(self.unexpected("'in'"));
            }
            Test::In {
                negated: true,
                values: self.list_operand()?,
            }
        } else if self.eat_keyword("contains").is_some() {
            let all = if self.eat_keyword("all").is_some() {
                true
            } else if self.eat_keyword("any").is_some() {
                false
            } else {
                return Err(self.unexpected("'any' or 'all'"));
            };
            Test::Contains {
                all,
                values: self.list_operand()?,
            }
        } else if self.eat_keyword("is").is_some() {
            let negated = self.eat_keyword("not").is_some();
            if self.eat_keyword("defined").is_some() {
                Test::Defined { negated }
            } else if self.eat_keyword("empty").is_some() {
                Test::Empty { negated }
            } else if negated {
                return Err(self.unexpected("'defined' or 'empty'"));
            } else {
                return Err(self.unexpected("'defined', 'empty' or 'not'"));
            }
        } else if self.eat_keyword("within").is_some() {
            self.within_circle()?
        } else {
            return Err(self.unexpected(EXPECT_OPERATOR));
        };
        Ok(Expr::Cond {
            field,
            test,
            op_span,
        })
    }

    fn within_circle(&mut self) -> Result<Test, ParseError> {
        if self.eat_keyword("circle").is_none() {
            return Err(self.unexpected("'circle'"));
        }
        self.expect(&Tok::LParen, "'('")?;
        let mut nums: [String; 3] = Default::default();
        for (i, slot) in nums.iter_mut().enumerate() {
            if i > 0 {
                self.expect(&Tok::Comma, "','")?;
            }
            match self.peek_tok() {
                Some(Tok::Num(n)) => {
                    *slot = n.clone();
                    self.pos += 1;
                }
                _ => return Err(self.unexpected("a number")),
            }
        }
        self.expect(&Tok::RParen, "')'")?;
        Ok(Test::WithinCircle(nums))
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.unexpected(EXPECT_VALUE));
        };
        let lit = match t.tok {
            Tok::Str(s) => Literal::Str(s),
            Tok::Num(n) => Literal::Num(n),
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Var(v) => {
                self.pos += 1;
                return Ok(Operand::Var(v, t.span));
            }
            _ => return Err(self.unexpected(EXPECT_VALUE)),
        };
        self.pos += 1;
        Ok(Operand::Lit(lit, t.span))
    }

    fn list_operand(&mut self) -> Result<ListOperand, ParseError> {
        match self.peek().cloned() {
            Some(Token {
                tok: Tok::Var(v),
                span,
            }) => {
                self.pos += 1;
                Ok(ListOperand::Var(v, span))
            }
            Some(Token {
                tok: Tok::LParen, ..
            }) => {
                self.pos += 1;
                let mut items = vec![self.operand()?];
                loop {
                    match self.peek_tok() {
                        Some(Tok::Comma) => {
                            self.pos += 1;
                            items.push(self.operand()?);
                        }
                        Some(Tok::RParen) => {
                            self.pos += 1;
                            return Ok(ListOperand::List(items));
                        }
                        _ => return Err(self.unexpected("',' or ')'")),
                    }
                }
            }
            _ => Err(self.unexpected("'(' or an input variable")),
        }
    }
}
