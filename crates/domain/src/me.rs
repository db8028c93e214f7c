//! The `/me` bodies (digest §3.1 `MyCustomerDraft`, `MyCustomerSignin`, the `My*` password and
//! email bodies, §4.2 `MyCustomerUpdateAction`) as rules over the raw JSON: which fields and
//! actions a customer may send about itself. Each rule turns a `My*` body into the body of the
//! matching project endpoint, so `/me` shares every validation, Message and version rule with
//! it; nothing here decides who the customer is (that comes from the token, never the body).
//! Pure: no IO.

use crate::error::DomainError;
use serde_json::{Map, Value};

/// The 21 update actions allowed on `POST /me` (digest §4.2).
pub const MY_CUSTOMER_UPDATE_ACTIONS: &[&str] = &[
    "addAddress",
    "addBillingAddressId",
    "addShippingAddressId",
    "changeAddress",
    "changeEmail",
    "removeAddress",
    "removeBillingAddressId",
    "removeShippingAddressId",
    "setCompanyName",
    "setCustomField",
    "setCustomType",
    "setDateOfBirth",
    "setDefaultBillingAddress",
    "setDefaultShippingAddress",
    "setFirstName",
    "setLastName",
    "setLocale",
    "setMiddleName",
    "setSalutation",
    "setTitle",
    "setVatId",
];

/// `CustomerDraft` fields a `MyCustomerDraft` does not have: a customer signing itself up must
/// not choose its key, number, group, verification state or authentication mode. The
/// `anonymousCart` fields are not listed: they reach the shared draft check, which answers
/// `ReferencedResourceNotFound` (Clientele has no Carts).
const NOT_IN_MY_CUSTOMER_DRAFT: &[&str] = &[
    "key",
    "customerNumber",
    "externalId",
    "anonymousId",
    "shippingAddresses",
    "billingAddresses",
    "isEmailVerified",
    "customerGroup",
    "customerGroupAssignments",
    "authenticationMode",
];

/// Fields the project endpoints' bodies have but the `My*` password and email bodies do not:
/// the customer is the token's, and these bodies carry no version.
const NOT_IN_MY_TOKEN_BODIES: &[&str] = &["id", "version"];

fn object(body: Value, type_name: &str) -> Result<Map<String, Value>, DomainError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(DomainError::invalid_json(format!(
            "A {type_name} must be a JSON object."
        ))),
    }
}

fn refuse_fields(
    map: &Map<String, Value>,
    fields: &[&str],
    type_name: &str,
) -> Result<(), DomainError> {
    match fields.iter().find(|f| map.contains_key(**f)) {
        Some(field) => Err(DomainError::invalid_json(format!(
            "The field '{field}' is not part of a {type_name}."
        ))),
        None => Ok(()),
    }
}

/// A `MyCustomerDraft` as the `CustomerDraft` JSON the sign-up shares with `POST /customers`:
/// fields only the back office may set are refused (`InvalidJsonInput` naming the field), and
/// `password` is required (`InvalidJsonInput`), as `authenticationMode` cannot be
/// `ExternalAuth` here.
pub fn customer_draft(body: Value) -> Result<Value, DomainError> {
    let map = object(body, "MyCustomerDraft")?;
    refuse_fields(&map, NOT_IN_MY_CUSTOMER_DRAFT, "MyCustomerDraft")?;
    if !matches!(map.get("password"), Some(Value::String(_))) {
        return Err(DomainError::invalid_json(
            "Missing required field 'password' (a string) of the MyCustomerDraft.",
        ));
    }
    Ok(Value::Object(map))
}

/// A `MyCustomerSignin` as the `CustomerSignin` JSON `/login` takes: `activeCartSignInMode`
/// becomes `anonymousCartSignInMode`; `anonymousId` is refused (the anonymous session is the
/// token's); `anonymousCart` fields pass through to the shared cart check.
pub fn customer_signin(body: Value) -> Result<Value, DomainError> {
    let mut map = object(body, "MyCustomerSignin")?;
    refuse_fields(
        &map,
        &["anonymousId", "anonymousCartSignInMode"],
        "MyCustomerSignin",
    )?;
    if let Some(mode) = map.remove("activeCartSignInMode") {
        map.insert("anonymousCartSignInMode".to_owned(), mode);
    }
    Ok(Value::Object(map))
}

/// A `MyCustomerChangePassword` (`version`, `currentPassword`, `newPassword`) as the
/// `CustomerChangePassword` of customer `customer_id`; an `id` in the body is refused.
pub fn change_password(body: Value, customer_id: &str) -> Result<Value, DomainError> {
    let mut map = object(body, "MyCustomerChangePassword")?;
    refuse_fields(&map, &["id"], "MyCustomerChangePassword")?;
    map.insert("id".to_owned(), Value::String(customer_id.to_owned()));
    Ok(Value::Object(map))
}

/// A `MyCustomerResetPassword` or `MyCustomerEmailVerify` (`type_name`) as the project
/// endpoint's body: `id` and `version` are refused.
pub fn token_body(body: Value, type_name: &str) -> Result<Value, DomainError> {
    let map = object(body, type_name)?;
    refuse_fields(&map, NOT_IN_MY_TOKEN_BODIES, type_name)?;
    Ok(Value::Object(map))
}

/// Checks a `MyCustomerUpdate`'s actions: each must be an object whose `action` is one of
/// [`MY_CUSTOMER_UPDATE_ACTIONS`]; any other is `InvalidJsonInput` naming it.
pub fn check_update_actions(body: &Value) -> Result<(), DomainError> {
    let Some(actions) = body.get("actions").and_then(Value::as_array) else {
        // The shared CustomerUpdate parse reports a missing or malformed list.
        return Ok(());
    };
    for action in actions {
        let name = action.get("action").and_then(Value::as_str);
        match name {
            Some(n) if MY_CUSTOMER_UPDATE_ACTIONS.contains(&n) => {}
            Some(n) => {
                return Err(DomainError::invalid_json(format!(
                    "The update action '{n}' is not a MyCustomerUpdateAction: a customer cannot \
                     use it on its own profile."
                )))
            }
            None => {
                return Err(DomainError::invalid_json(
                    "Every update action needs an 'action' name.",
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drafts_refuse_back_office_fields_and_require_a_password() {
        assert!(customer_draft(json!({"email": "a@b.c", "password": "x"})).is_ok());
        for field in NOT_IN_MY_CUSTOMER_DRAFT {
            let mut body = json!({"email": "a@b.c", "password": "x"});
            body[*field] = json!("v");
            let err = customer_draft(body).unwrap_err();
            assert!(err.to_string().contains("JSON"), "{field}");
        }
        assert!(customer_draft(json!({"email": "a@b.c"})).is_err());
        assert!(customer_draft(json!({"email": "a@b.c", "password": 5})).is_err());
        assert!(customer_draft(json!([])).is_err());
        // Carts are left to the shared check.
        assert!(customer_draft(
            json!({"email": "a@b.c", "password": "x", "anonymousCart": {"id": "c"}})
        )
        .is_ok());
    }

    #[test]
    fn sign_ins_rename_the_cart_mode_and_refuse_an_anonymous_id() {
        let s = customer_signin(json!({"email": "a", "password": "b",
            "activeCartSignInMode": "UseAsNewActiveCustomerCart"}))
        .unwrap();
        assert_eq!(s["anonymousCartSignInMode"], "UseAsNewActiveCustomerCart");
        assert!(s.get("activeCartSignInMode").is_none());
        assert!(
            customer_signin(json!({"email": "a", "password": "b", "anonymousId": "x"})).is_err()
        );
    }

    #[test]
    fn password_and_token_bodies_never_name_a_customer() {
        let b = change_password(
            json!({"version": 1, "currentPassword": "a", "newPassword": "b"}),
            "me",
        )
        .unwrap();
        assert_eq!(b["id"], "me");
        assert!(change_password(json!({"id": "other", "version": 1}), "me").is_err());
        assert!(token_body(json!({"tokenValue": "t", "newPassword": "n"}), "T").is_ok());
        assert!(token_body(json!({"tokenValue": "t", "version": 2}), "T").is_err());
    }

    #[test]
    fn only_my_customer_update_actions_pass() {
        assert_eq!(MY_CUSTOMER_UPDATE_ACTIONS.len(), 21);
        let ok = json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": "J"}]});
        assert!(check_update_actions(&ok).is_ok());
        for bad in [
            "setKey",
            "setCustomerGroup",
            "addStore",
            "setAuthenticationMode",
        ] {
            let body =
                json!({"version": 1, "actions": [{"action": "setFirstName"}, {"action": bad}]});
            let err = check_update_actions(&body).unwrap_err();
            assert!(
                matches!(&err, DomainError::InvalidJsonInput { detail } if detail.contains(bad))
            );
        }
        assert!(check_update_actions(&json!({"version": 1, "actions": [{}]})).is_err());
    }
}
