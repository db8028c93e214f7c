//! [`QueryError`], the one error of this crate, and the character positions its messages
//! quote. Data only; the wording of each message lives where the error is found.

/// Why a query parameter was rejected (always a 400 `InvalidInput` or
/// `QueryComplexityLimitExceeded` at the HTTP layer).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// The commercetools-style message, e.g. `Malformed parameter: where: Syntax error while parsing 'where'. ...`.
    pub message: String,
    /// True when the complexity/length limit was hit (`QueryComplexityLimitExceeded`).
    pub complexity: bool,
}

/// 0-based character position of byte offset `at` in `input` (clamped to the input).
pub(crate) fn char_pos(input: &str, at: usize) -> usize {
    let at = at.min(input.len());
    input.char_indices().take_while(|(i, _)| *i < at).count()
}
