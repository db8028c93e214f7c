//! Customer tokens for password reset and email verification, and the request bodies of the
//! token flows.

use crate::error::DomainError;
use crate::logging::ClientLogging;
use crate::newtypes::Version;
use crate::reference::ResourceIdentifier;
use crate::serde_formats::datetime;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A password-reset or email-verification token as returned on creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerToken {
    /// Token id.
    pub id: String,
    /// When it was created.
    #[serde(with = "datetime")]
    pub created_at: OffsetDateTime,
    /// Equal to `createdAt`.
    #[serde(with = "datetime")]
    pub last_modified_at: OffsetDateTime,
    /// The API client that created it (commercetools' examples show it, the type omits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<ClientLogging>,
    /// The API client that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ClientLogging>,
    /// The customer the token belongs to.
    pub customer_id: String,
    /// When the token stops working.
    #[serde(with = "datetime")]
    pub expires_at: OffsetDateTime,
    /// The secret value; only its hash is stored.
    pub value: String,
    /// Whether creating it invalidated older tokens of its kind.
    pub invalidate_older_tokens: bool,
}

/// Which flow a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Password reset (`customer-password-token`).
    PasswordReset,
    /// Email verification (`customer-email-token`).
    EmailVerification,
}

impl TokenKind {
    /// The reference type id used in Messages.
    pub fn type_id(self) -> &'static str {
        match self {
            TokenKind::PasswordReset => "customer-password-token",
            TokenKind::EmailVerification => "customer-email-token",
        }
    }
}

/// `CustomerChangePassword`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerChangePassword {
    /// Customer id.
    pub id: String,
    /// Expected version.
    pub version: Version,
    /// Must match the stored password.
    pub current_password: String,
    /// The new password.
    pub new_password: String,
}

/// `CustomerCreatePasswordResetToken`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCreatePasswordResetToken {
    /// Customer email, matched case-insensitively.
    pub email: String,
    /// Validity in minutes (default 34560, as the reference page says).
    #[serde(default)]
    pub ttl_minutes: Option<i64>,
    /// Invalidate this customer's older password tokens.
    #[serde(default)]
    pub invalidate_older_tokens: Option<bool>,
}

/// `CustomerResetPassword`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerResetPassword {
    /// The token value.
    pub token_value: String,
    /// The new password.
    pub new_password: String,
    /// Expected version, checked when given.
    #[serde(default)]
    pub version: Option<Version>,
}

/// `CustomerCreateEmailToken`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCreateEmailToken {
    /// Customer id.
    pub id: String,
    /// Expected version, checked when given.
    #[serde(default)]
    pub version: Option<Version>,
    /// Validity in minutes; required.
    pub ttl_minutes: i64,
    /// Invalidate this customer's older email tokens.
    #[serde(default)]
    pub invalidate_older_tokens: Option<bool>,
}

/// `CustomerEmailVerify`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerEmailVerify {
    /// The token value.
    pub token_value: String,
    /// Expected version, checked when given.
    #[serde(default)]
    pub version: Option<Version>,
}

/// `CustomerSignin`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSignin {
    /// Email, matched case-insensitively.
    pub email: String,
    /// Password.
    pub password: String,
    /// Deprecated cart id.
    #[serde(default)]
    pub anonymous_cart_id: Option<String>,
    /// Anonymous cart to merge.
    #[serde(default)]
    pub anonymous_cart: Option<ResourceIdentifier>,
    /// Merge mode.
    #[serde(default)]
    pub anonymous_cart_sign_in_mode: Option<AnonymousCartSignInMode>,
    /// Anonymous session id.
    #[serde(default)]
    pub anonymous_id: Option<String>,
    /// Whether to refresh product data in the cart.
    #[serde(default)]
    pub update_product_data: Option<bool>,
}

impl CustomerSignin {
    /// Checks the cart fields. Clientele has no Carts, so a sign-in naming one (by
    /// `anonymousCart` or the deprecated `anonymousCartId`) gets `ReferencedResourceNotFound`;
    /// an `anonymousCart` without exactly one of `id` and `key` is `InvalidJsonInput`.
    pub fn check_cart(&self) -> Result<(), DomainError> {
        crate::reference::reject_named_cart(
            self.anonymous_cart.as_ref(),
            self.anonymous_cart_id.as_ref(),
        )
    }
}

/// How an anonymous cart is treated on sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnonymousCartSignInMode {
    /// Merge into the customer's active cart (default).
    MergeWithExistingCustomerCart,
    /// Use the anonymous cart as the new active cart.
    UseAsNewActiveCustomerCart,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn signin(extra: serde_json::Value) -> CustomerSignin {
        let mut v = json!({"email": "a@example.com", "password": "pw"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_sign_in_without_a_cart_passes_the_cart_check() {
        let s = signin(json!({"anonymousId": "a1", "updateProductData": true,
            "anonymousCartSignInMode": "UseAsNewActiveCustomerCart"}));
        assert_eq!(s.check_cart(), Ok(()));
    }

    #[test]
    fn a_named_cart_is_not_found() {
        let by_id = signin(json!({"anonymousCart": {"typeId": "cart", "id": "c1"}}));
        assert!(matches!(
            by_id.check_cart(),
            Err(DomainError::ReferencedResourceNotFound { ref type_id, id: Some(ref id), .. })
                if type_id == "cart" && id == "c1"
        ));
        let by_key = signin(json!({"anonymousCart": {"key": "k1"}}));
        assert!(matches!(
            by_key.check_cart(),
            Err(DomainError::ReferencedResourceNotFound { key: Some(_), .. })
        ));
        let legacy = signin(json!({"anonymousCartId": "c2"}));
        assert!(matches!(
            legacy.check_cart(),
            Err(DomainError::ReferencedResourceNotFound { id: Some(_), .. })
        ));
        let both = signin(json!({"anonymousCart": {"id": "c", "key": "k"}}));
        assert!(matches!(
            both.check_cart(),
            Err(DomainError::InvalidJsonInput { .. })
        ));
    }
}
