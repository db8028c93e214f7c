//! Customer tokens for password reset and email verification, and the request bodies of the
//! token flows.

use crate::newtypes::Version;
use crate::serde_formats::datetime;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A password-reset or email-verification token as returned on creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerToken {
    /// Token id.
    pub id: String,
    /// The customer the token belongs to.
    pub customer_id: String,
    /// The secret value; only its hash is stored.
    pub value: String,
    /// When the token stops working.
    #[serde(with = "datetime")]
    pub expires_at: OffsetDateTime,
    /// Whether creating it invalidated older tokens of its kind.
    pub invalidate_older_tokens: bool,
    /// When it was created.
    #[serde(with = "datetime")]
    pub created_at: OffsetDateTime,
    /// Equal to `createdAt`.
    #[serde(with = "datetime")]
    pub last_modified_at: OffsetDateTime,
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
    pub anonymous_cart: Option<crate::reference::ResourceIdentifier>,
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

/// How an anonymous cart is treated on sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnonymousCartSignInMode {
    /// Merge into the customer's active cart (default).
    MergeWithExistingCustomerCart,
    /// Use the anonymous cart as the new active cart.
    UseAsNewActiveCustomerCart,
}
