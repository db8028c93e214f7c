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

/// The columns of one `customer_tokens` row, in `SELECT` order of [`TOKEN_COLUMNS`].
pub(crate) struct TokenRow {
    pub(crate) id: String,
    pub(crate) customer_id: String,
    pub(crate) kind: String,
    pub(crate) value_hash: String,
    pub(crate) expires_at: String,
    pub(crate) created_at: String,
    pub(crate) used: bool,
}

/// The columns [`TokenRow`] is read from.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, customer_id, kind, value_hash, expires_at, created_at, used";

impl TokenRow {
    /// The record, or `Backend` for a row no writer of ours produces.
    pub(crate) fn into_record(self) -> Result<CustomerTokenRecord, StoreError> {
        let kind = match self.kind.as_str() {
            "password" => TokenKind::PasswordReset,
            "email" => TokenKind::EmailVerification,
            other => {
                return Err(StoreError::Backend(format!(
                    "corrupt customer token: unknown kind '{other}'"
                )))
            }
        };
        Ok(CustomerTokenRecord {
            id: self.id,
            customer_id: self.customer_id,
            kind,
            value_hash: self.value_hash,
            expires_at: parse_ts(&self.expires_at, "customer token expires_at")?,
            created_at: parse_ts(&self.created_at, "customer token created_at")?,
            used: self.used,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_the_column() {
        for kind in [TokenKind::PasswordReset, TokenKind::EmailVerification] {
            let row = TokenRow {
                id: "t".into(),
                customer_id: "c".into(),
                kind: kind_column(kind).into(),
                value_hash: "h".into(),
                expires_at: "2022-09-19T15:58:41.772Z".into(),
                created_at: "2022-09-19T15:55:41.775Z".into(),
                used: false,
            };
            assert_eq!(row.into_record().unwrap().kind, kind);
        }
    }
}
