//! Backend-neutral pieces of customer-token storage: the `kind` column's values and reading a
//! `customer_tokens` row back into a [`CustomerTokenRecord`].
//!
//! Pure: the SQL lives in each backend, so both store byte-identical values.

use crate::rows::parse_ts;
use crate::{CustomerTokenRecord, StoreError, TokenKind};

/// The `customer_tokens.kind` value of `kind`.
pub(crate) fn kind_column(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::PasswordReset => "password",
        TokenKind::EmailVerification => "email",
    }
}

/// The columns [`TokenRow`] is read from.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, customer_id, kind, value_hash, expires_at, created_at, used";

/// One `customer_tokens` row as [`TOKEN_COLUMNS`] selects it.
pub(crate) type TokenRow = (String, String, String, String, String, String, bool);

/// The record of `row`, or `Backend` for a row no writer of ours produces.
pub(crate) fn token_record(row: TokenRow) -> Result<CustomerTokenRecord, StoreError> {
    let (id, customer_id, kind, value_hash, expires_at, created_at, used) = row;
    let kind = match kind.as_str() {
        "password" => TokenKind::PasswordReset,
        "email" => TokenKind::EmailVerification,
        other => {
            return Err(StoreError::Backend(format!(
                "corrupt customer token: unknown kind '{other}'"
            )))
        }
    };
    Ok(CustomerTokenRecord {
        id,
        customer_id,
        kind,
        value_hash,
        expires_at: parse_ts(&expires_at, "customer token expires_at")?,
        created_at: parse_ts(&created_at, "customer token created_at")?,
        used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_the_column() {
        for kind in [TokenKind::PasswordReset, TokenKind::EmailVerification] {
            let row: TokenRow = (
                "t".into(),
                "c".into(),
                kind_column(kind).into(),
                "h".into(),
                "2022-09-19T15:58:41.772Z".into(),
                "2022-09-19T15:55:41.775Z".into(),
                false,
            );
            assert_eq!(token_record(row).unwrap().kind, kind);
        }
    }
}
