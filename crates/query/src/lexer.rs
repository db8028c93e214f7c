//! Tokeniser for `where` predicates: turns the input into tokens with byte spans.
//!
//! Owns the lexical rules (string escapes, number and identifier shapes, operators, `:var`).
//! It must not interpret keywords (`and`, `not`, `in`, … are plain identifiers here; the parser
//! decides by context and compares them case-insensitively) and must not know about fields.

use crate::ast::Span;

/// The kind of a token, carrying its decoded payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A word made of `[A-Za-z0-9_-]` that is not a number: a field name or a keyword.
    Ident(String),
    /// A decoded string literal.
    Str(String),
    /// A number literal's source text (`-?[0-9]+(\.[0-9]+)?`).
    Num(String),
    /// An input variable `:name` (the name without the colon).
    Var(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<>`
    LtGt,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A token and where it is in the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// What was read.
    pub(crate) tok: Tok,
    /// Its byte range in the input.
    pub(crate) span: Span,
}

/// A lexical error: a human-readable detail and the byte offset it refers to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LexError {
    /// What is wrong, e.g. `Unterminated string literal`.
    pub(crate) detail: String,
    /// Byte offset in the input.
    pub(crate) at: usize,
}

/// Characters a word (identifier or number) is made of. `.` is included so that `1.5` is one
/// word and `a.b` is reported as one invalid word instead of two confusing tokens.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// True if `w` is `-?[0-9]+(\.[0-9]+)?`.
pub(crate) fn is_number(w: &str) -> bool {
    let digits = w.strip_prefix('-').unwrap_or(w);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && frac.is_none_or(all_digits)
}

/// True if `w` is a valid identifier: `[A-Za-z0-9_-]+`, not starting with `-`, not a number.
pub(crate) fn is_ident(w: &str) -> bool {
    !w.is_empty()
        && !w.starts_with('-')
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !is_number(w)
}

/// Splits `input` into tokens.
pub(crate) fn lex(input: &str) -> Result<Vec<Token>, LexError> {
    let mut out = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = |tok: Tok| Token {
            tok,
            span: Span::new(start, start + 1),
        };
        match c {
            '(' | ')' | ',' | '=' => {
                chars.next();
                out.push(single(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    ',' => Tok::Comma,
                    _ => Tok::Eq,
                }));
            }
            '!' => {
                chars.next();
                if chars.next_if(|&(_, n)| n == '=').is_some() {
                    out.push(Token {
                        tok: Tok::Ne,
                        span: Span::new(start, start + 2),
                    });
                } else {
                    return Err(LexError {
                        detail: "Unexpected character '!', expected '!='".to_owned(),
                        at: start,
                    });
                }
            }
            '<' | '>' => {
                chars.next();
                let (tok, len) = match (c, chars.peek().map(|&(_, n)| n)) {
                    ('<', Some('=')) => (Tok::Le, 2),
                    ('<', Some('>')) => (Tok::LtGt, 2),
                    ('>', Some('=')) => (Tok::Ge, 2),
                    ('<', _) => (Tok::Lt, 1),
                    _ => (Tok::Gt, 1),
                };
                if len == 2 {
                    chars.next();
                }
                out.push(Token {
                    tok,
                    span: Span::new(start, start + len),
                });
            }
            '"' => {
                chars.next();
                let (s, end) = lex_string(input, start, &mut chars)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    span: Span::new(start, end),
                });
            }
            ':' => {
                chars.next();
                let mut end = start + 1;
                while let Some((i, n)) = chars.next_if(|&(_, n)| n.is_ascii_alphanumeric()) {
                    end = i + n.len_utf8();
                }
                if end == start + 1 {
                    return Err(LexError {
                        detail: "Expected a variable name ([a-zA-Z0-9]+) after ':'".to_owned(),
                        at: start,
                    });
                }
                out.push(Token {
                    tok: Tok::Var(input[start + 1..end].to_owned()),
                    span: Span::new(start, end),
                });
            }
            c if is_word_char(c) => {
                let mut end = start;
                while let Some((i, n)) = chars.next_if(|&(_, n)| is_word_char(n)) {
                    end = i + n.len_utf8();
                }
                let word = &input[start..end];
                let tok = if is_number(word) {
                    Tok::Num(word.to_owned())
                } else if is_ident(word) {
                    Tok::Ident(word.to_owned())
                } else {
                    let what = if word.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
                        "number"
                    } else {
                        "identifier"
                    };
                    return Err(LexError {
                        detail: format!("Invalid {what} '{}'", crate::ast::truncate(word)),
                        at: start,
                    });
                };
                out.push(Token {
                    tok,
                    span: Span::new(start, end),
                });
            }
            other => {
                return Err(LexError {
                    detail: format!("Unexpected character '{other}'"),
                    at: start,
                });
            }
        }
    }
    Ok(out)
}

/// Reads a string body after the opening quote at `start`; returns the decoded text and the
/// byte offset just past the closing quote.
fn lex_string(
    input: &str,
    start: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<(String, usize), LexError> {
    let mut s = String::new();
    let unterminated = || LexError {
        detail: "Unterminated string literal".to_owned(),
        at: start,
    };
    loop {
        let Some((i, c)) = chars.next() else {
            return Err(unterminated());
        };
        match c {
            '"' => return Ok((s, i + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err(unterminated());
                };
                match e {
                    '"' => s.push('"'),
                    '\\' => s.push('\\'),
                    '/' => s.push('/'),
                    'n' => s.push('\n'),
                    'r' => s.push('\r'),
                    't' => s.push('\t'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    'u' => s.push(lex_unicode_escape(input, i, chars)?),
                    other => {
                        return Err(LexError {
                            detail: format!("Invalid escape sequence '\\{other}'"),
                            at: i,
                        })
                    }
                }
            }
            c => s.push(c),
        }
    }
}

/// Reads the four hex digits of `\uXXXX` (the backslash is at `at`), combining surrogate pairs
/// written as two escapes, as JSON does.
fn lex_unicode_escape(
    input: &str,
    at: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<char, LexError> {
    let invalid = || LexError {
        detail: "Invalid unicode escape sequence".to_owned(),
        at,
    };
    let hex4 = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        let mut v: u32 = 0;
        for _ in 0..4 {
            let (_, c) = chars.next().ok_or_else(invalid)?;
            v = v * 16 + c.to_digit(16).ok_or_else(invalid)?;
        }
        Ok::<u32, LexError>(v)
    };
    let hi = hex4(chars)?;
    if (0xD800..0xDC00).contains(&hi) {
        // A high surrogate must be followed by `\u` and a low surrogate.
        let rest = input.get(chars.peek().map_or(input.len(), |&(i, _)| i)..);
        if !rest.is_some_and(|r| r.starts_with("\\u")) {
            return Err(invalid());
        }
        chars.next();
        chars.next();
        let lo = hex4(chars)?;
        if !(0xDC00..0xE000).contains(&lo) {
            return Err(invalid());
        }
        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        return char::from_u32(cp).ok_or_else(invalid);
    }
    char::from_u32(hi).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_and_words() {
        assert_eq!(
            toks(r#"a=1 b!=-2.5 c<>"x" d<e<=f>g>=:v(,)"#),
            vec![
                Tok::Ident("a".into()),
                Tok::Eq,
                Tok::Num("1".into()),
                Tok::Ident("b".into()),
                Tok::Ne,
                Tok::Num("-2.5".into()),
                Tok::Ident("c".into()),
                Tok::LtGt,
                Tok::Str("x".into()),
                Tok::Ident("d".into()),
                Tok::Lt,
                Tok::Ident("e".into()),
                Tok::Le,
                Tok::Ident("f".into()),
                Tok::Gt,
                Tok::Ident("g".into()),
                Tok::Ge,
                Tok::Var("v".into()),
                Tok::LParen,
                Tok::Comma,
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            toks(r#""a\"b\\c\/\n\t\r\b\f\u00e9\ud83d\ude00""#),
            vec![Tok::Str("a\"b\\c/\n\t\r\u{8}\u{c}é😀".into())]
        );
    }

    #[test]
    fn spans_are_bytes() {
        let t = lex("é = \"ü\"");
        // `é` is not a word character.
        assert_eq!(
            t.unwrap_err(),
            LexError {
                detail: "Unexpected character 'é'".into(),
                at: 0
            }
        );
        let t = lex("a = \"ü\" ").unwrap();
        assert_eq!(t[2].span, Span::new(4, 8));
    }

    #[test]
    fn errors() {
        let e = |s: &str| lex(s).unwrap_err();
        assert_eq!(e("a = \"abc").detail, "Unterminated string literal");
        assert_eq!(e("a = \"abc").at, 4);
        assert_eq!(e(r#"a = "\q""#).detail, "Invalid escape sequence '\\q'");
        assert_eq!(e(r#"a = "\q""#).at, 5);
        assert_eq!(e(r#"a = "\u12""#).detail, "Invalid unicode escape sequence");
        assert_eq!(
            e(r#"a = "\ud800x""#).detail,
            "Invalid unicode escape sequence"
        );
        assert_eq!(e("a = 1.").detail, "Invalid number '1.'");
        assert_eq!(e("a.b = 1").detail, "Invalid identifier 'a.b'");
        assert_eq!(
            e("a = : ").detail,
            "Expected a variable name ([a-zA-Z0-9]+) after ':'"
        );
        assert_eq!(e("a ! b").detail, "Unexpected character '!', expected '!='");
        assert_eq!(e("a # b").detail, "Unexpected character '#'");
    }
}
