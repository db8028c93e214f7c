//! Tests of `create_customer`, every update action (state, exact Messages, each error) and
//! `apply_all` (atomicity, version bump, no-op, action limit).

use super::test_support::{address, minimal_draft, s, stored, TestEnv, NOW};
use super::{apply_all, ApplyContext};
use crate::action::CustomerUpdateAction as A;
use crate::address::{AddressDraft, AddressRole};
use crate::custom::CustomFieldsDraft;
use crate::customer::{AuthenticationMode, CustomerDraft, CustomerGroupAssignmentDraft};
use crate::error::DomainError;
use crate::message::MessagePayload as M;
use crate::newtypes::Version;
use crate::password::PasswordHash;
use crate::reference::ResourceIdentifier;
use serde_json::json;
use time::macros::{date, datetime};

fn invalid_op(msg: &str) -> DomainError {
    DomainError::InvalidOperation(msg.to_owned())
}

fn ri_key(key: &str) -> ResourceIdentifier {
    ResourceIdentifier {
        type_id: None,
        id: None,
        key: s(key),
    }
}

fn custom_draft() -> CustomFieldsDraft {
    CustomFieldsDraft {
        type_: ri_key("my-type"),
        fields: None,
    }
}

// ---------------------------------------------------------------- create_customer

#[test]
fn create_minimal_customer() {
    let mut env = TestEnv::new();
    let (c, msgs) = env.create(minimal_draft()).unwrap();
    assert_eq!(c.id, "cust-1");
    assert_eq!(c.version, Version::FIRST);
    assert_eq!(c.created_at, NOW);
    assert_eq!(c.last_modified_at, NOW);
    assert_eq!(c.email, "jane@example.com");
    assert_eq!(c.password, Some(env.hash("secret")));
    assert!(!c.is_email_verified);
    assert_eq!(c.authentication_mode, AuthenticationMode::Password);
    assert!(c.addresses.is_empty() && c.shipping_address_ids.is_empty());
    assert!(c.stores.is_empty() && c.customer_group_assignments.is_empty());
    assert_eq!(
        msgs,
        vec![M::CustomerCreated {
            customer: Box::new(c.clone())
        }]
    );
}

#[test]
fn create_copies_every_scalar_field() {
    let mut env = TestEnv::new();
    let draft = CustomerDraft {
        key: s("jane-key"),
        customer_number: s("C-1"),
        external_id: s("ext-1"),
        email: "Jane@Example.com".to_owned(),
        first_name: s("Jane"),
        last_name: s("Doe"),
        middle_name: s("M"),
        title: s("Dr"),
        date_of_birth: Some(date!(1990 - 02 - 03)),
        company_name: s("ACME"),
        vat_id: s("DE123"),
        is_email_verified: Some(true),
        locale: s("de-DE"),
        salutation: s("Ms"),
        stores: Some(vec![]),
        customer_group_assignments: Some(vec![]),
        anonymous_id: s("anon-1"),
        ..minimal_draft()
    };
    let (c, _) = env.create(draft).unwrap();
    assert_eq!(c.key, s("jane-key"));
    assert_eq!(c.customer_number, s("C-1"));
    assert_eq!(c.external_id, s("ext-1"));
    assert_eq!(c.email, "Jane@Example.com", "email keeps its case");
    assert_eq!(c.first_name, s("Jane"));
    assert_eq!(c.last_name, s("Doe"));
    assert_eq!(c.middle_name, s("M"));
    assert_eq!(c.title, s("Dr"));
    assert_eq!(c.date_of_birth, Some(date!(1990 - 02 - 03)));
    assert_eq!(c.company_name, s("ACME"));
    assert_eq!(c.vat_id, s("DE123"));
    assert!(c.is_email_verified);
    assert_eq!(c.locale, s("de-DE"));
    assert_eq!(c.salutation, s("Ms"));
}

#[test]
fn create_maps_address_indices_to_generated_ids() {
    let mut env = TestEnv::new();
    let mut first = address("home", "DE");
    first.id = s("client-id-ignored");
    let draft = CustomerDraft {
        addresses: Some(vec![first, address("work", "US"), address("other", "US")]),
        shipping_addresses: Some(vec![2, 0, 2]),
        default_shipping_address: Some(1),
        default_billing_address: Some(0),
        ..minimal_draft()
    };
    let (c, _) = env.create(draft).unwrap();
    let ids: Vec<_> = c.addresses.iter().map(|a| a.id.clone().unwrap()).collect();
    assert_eq!(ids, ["addr-1", "addr-2", "addr-3"]);
    assert_eq!(c.addresses[0], stored("addr-1", "home", "DE"));
    assert_eq!(c.shipping_address_ids, ["addr-3", "addr-1", "addr-2"]);
    assert_eq!(c.default_shipping_address_id, s("addr-2"));
    assert_eq!(c.billing_address_ids, ["addr-1"]);
    assert_eq!(c.default_billing_address_id, s("addr-1"));
}

#[test]
fn create_requires_a_password_in_password_mode() {
    let mut env = TestEnv::new();
    let required = DomainError::RequiredField {
        field: "password".to_owned(),
    };
    for password in [None, s("")] {
        let draft = CustomerDraft {
            password,
            ..minimal_draft()
        };
        let err = env.create(draft).unwrap_err();
        assert_eq!(err, required);
        assert_eq!(err.to_string(), "A value is required for field password.");
    }
}

#[test]
fn create_in_external_auth_mode_stores_no_password() {
    let mut env = TestEnv::new();
    for password in [None, s("ignored")] {
        let draft = CustomerDraft {
            password,
            authentication_mode: Some(AuthenticationMode::ExternalAuth),
            ..minimal_draft()
        };
        let (c, _) = env.create(draft).unwrap();
        assert_eq!(c.password, None);
        assert_eq!(c.authentication_mode, AuthenticationMode::ExternalAuth);
    }
}

#[test]
fn create_rejects_invalid_email_and_key() {
    let mut env = TestEnv::new();
    let err = env
        .create(CustomerDraft {
            email: " ".to_owned(),
            ..minimal_draft()
        })
        .unwrap_err();
    assert!(matches!(err, DomainError::InvalidInput(_)), "{err:?}");
    let err = env
        .create(CustomerDraft {
            key: s("a"),
            ..minimal_draft()
        })
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::InvalidInput(m) if m.starts_with("Invalid key 'a'")),
        "{err:?}"
    );
}

#[test]
fn create_checks_locale_against_project_languages() {
    let mut env = TestEnv::new();
    let err = env
        .create(CustomerDraft {
            locale: s("fr"),
            ..minimal_draft()
        })
        .unwrap_err();
    assert_eq!(
        err,
        DomainError::InvalidField {
            field: "locale".to_owned(),
            invalid_value: json!("fr"),
            allowed_values: Some(vec![json!("en"), json!("de-DE")]),
        }
    );
    let (c, _) = env
        .create(CustomerDraft {
            locale: s("EN"),
            ..minimal_draft()
        })
        .unwrap();
    assert_eq!(c.locale, s("EN"));
}

#[test]
fn create_rejects_unresolved_references() {
    let mut env = TestEnv::new();
    // Without a resolver every named group, type or store is not found.
    let not_found = |type_id: &str, key: &str| DomainError::ReferencedResourceNotFound {
        type_id: type_id.to_owned(),
        predicate: format!("with key '{key}'"),
        id: None,
        key: s(key),
    };
    assert_eq!(
        env.create(CustomerDraft {
            stores: Some(vec![ri_key("store-a")]),
            ..minimal_draft()
        })
        .unwrap_err(),
        not_found("store", "store-a")
    );
    let cases = [
        (
            CustomerDraft {
                customer_group: Some(ri_key("vip")),
                ..minimal_draft()
            },
            not_found("customer-group", "vip"),
        ),
        (
            CustomerDraft {
                customer_group_assignments: Some(vec![CustomerGroupAssignmentDraft {
                    customer_group: ri_key("vip"),
                }]),
                ..minimal_draft()
            },
            not_found("customer-group", "vip"),
        ),
        (
            CustomerDraft {
                custom: Some(custom_draft()),
                ..minimal_draft()
            },
            not_found("type", "my-type"),
        ),
        (
            CustomerDraft {
                addresses: Some(vec![AddressDraft {
                    custom: Some(custom_draft()),
                    ..address("home", "DE")
                }]),
                ..minimal_draft()
            },
            not_found("type", "my-type"),
        ),
    ];
    for (draft, expected) in cases {
        assert_eq!(env.create(draft).unwrap_err(), expected);
    }
}

#[test]
fn create_with_an_anonymous_cart_reports_the_cart_as_not_found() {
    let mut env = TestEnv::new();
    let err = env
        .create(CustomerDraft {
            anonymous_cart: Some(ResourceIdentifier {
                type_id: s("cart"),
                id: s("cart-1"),
                key: None,
            }),
            ..minimal_draft()
        })
        .unwrap_err();
    assert_eq!(
        err,
        DomainError::ReferencedResourceNotFound {
            type_id: "cart".to_owned(),
            predicate: "with id 'cart-1'".to_owned(),
            id: s("cart-1"),
            key: None,
        }
    );
    let err = env
        .create(CustomerDraft {
            anonymous_cart: Some(ri_key("cart-key")),
            ..minimal_draft()
        })
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::ReferencedResourceNotFound { key, .. } if *key == s("cart-key"))
    );
    let err = env
        .create(CustomerDraft {
            anonymous_cart_id: s("cart-2"),
            ..minimal_draft()
        })
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::ReferencedResourceNotFound { type_id, id, .. } if type_id == "cart" && *id == s("cart-2"))
    );
    let err = env
        .create(CustomerDraft {
            anonymous_cart: Some(ResourceIdentifier::default()),
            ..minimal_draft()
        })
        .unwrap_err();
    assert!(matches!(err, DomainError::InvalidJsonInput { .. }));
}

#[test]
fn create_validates_addresses() {
    let mut env = TestEnv::new();
    let with = |addresses: Vec<AddressDraft>| CustomerDraft {
        addresses: Some(addresses),
        ..minimal_draft()
    };
    let err = env.create(with(vec![address("home", "de")])).unwrap_err();
    assert_eq!(
        err,
        DomainError::InvalidInput(
            "Invalid addresses.country 'de'. It must be a two-letter ISO 3166-1 country code (^[A-Z]{2}$)."
                .to_owned()
        )
    );
    let err = env.create(with(vec![address("h", "DE")])).unwrap_err();
    assert!(
        matches!(&err, DomainError::InvalidInput(m) if m.starts_with("Invalid addresses.key 'h'")),
        "{err:?}"
    );
    let err = env
        .create(with(vec![address("home", "DE"), address("home", "US")]))
        .unwrap_err();
    assert_eq!(
        err,
        DomainError::DuplicateField {
            field: "addresses.key".to_owned(),
            duplicate_value: json!("home"),
        }
    );
    // Addresses without keys never clash.
    let keyless = AddressDraft {
        key: None,
        ..address("x", "DE")
    };
    assert!(env.create(with(vec![keyless.clone(), keyless])).is_ok());
}

#[test]
fn create_rejects_out_of_range_address_indices() {
    let mut env = TestEnv::new();
    let base = || CustomerDraft {
        addresses: Some(vec![address("home", "DE")]),
        ..minimal_draft()
    };
    let cases = [
        (
            CustomerDraft {
                default_shipping_address: Some(1),
                ..base()
            },
            "The value '1' of field 'defaultShippingAddress' is not a valid index into 'addresses', which has 1 entries.",
        ),
        (
            CustomerDraft {
                shipping_addresses: Some(vec![0, -1]),
                ..base()
            },
            "The value '-1' of field 'shippingAddresses' is not a valid index into 'addresses', which has 1 entries.",
        ),
        (
            CustomerDraft {
                default_billing_address: Some(5),
                ..base()
            },
            "The value '5' of field 'defaultBillingAddress' is not a valid index into 'addresses', which has 1 entries.",
        ),
        (
            CustomerDraft {
                billing_addresses: Some(vec![3]),
                ..base()
            },
            "The value '3' of field 'billingAddresses' is not a valid index into 'addresses', which has 1 entries.",
        ),
    ];
    for (draft, message) in cases {
        assert_eq!(env.create(draft).unwrap_err(), invalid_op(message));
    }
}

#[test]
fn create_hashes_only_after_everything_else_validated() {
    let env = TestEnv::new();
    let mut new_id = || "id".to_owned();
    let mut hash_password =
        |_: &str| -> Result<PasswordHash, DomainError> { panic!("must not hash") };
    let mut ctx = ApplyContext {
        project: &env.project,
        now: NOW,
        new_id: &mut new_id,
        hash_password: &mut hash_password,
    };
    let draft = CustomerDraft {
        addresses: Some(vec![address("home", "DE")]),
        default_billing_address: Some(9),
        ..minimal_draft()
    };
    let err = super::create_customer(draft, "c".to_owned(), &mut ctx).unwrap_err();
    assert!(matches!(err, DomainError::InvalidOperation(_)));
}

// ---------------------------------------------------------------- scalar actions

#[test]
fn change_email_resets_verification_and_reports_old_email() {
    let mut env = TestEnv::new();
    let mut c = env.customer();
    c.is_email_verified = true;
    let (after, msgs) = env.ok(
        &c,
        A::ChangeEmail {
            email: "New@Example.com".to_owned(),
        },
    );
    assert_eq!(after.email, "New@Example.com");
    assert!(!after.is_email_verified);
    assert_eq!(
        msgs,
        vec![M::CustomerEmailChanged {
            email: "New@Example.com".to_owned(),
            old_email: "jane@example.com".to_owned(),
        }]
    );
    let err = env.err(
        &c,
        A::ChangeEmail {
            email: String::new(),
        },
    );
    assert!(matches!(err, DomainError::InvalidInput(_)));
    // Same email: nothing changes, no Message.
    let (same, msgs) = env.ok(
        &c,
        A::ChangeEmail {
            email: "jane@example.com".to_owned(),
        },
    );
    assert_eq!(same, c);
    assert!(msgs.is_empty());
}

#[test]
fn name_like_setters_set_remove_and_report() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let dob = date!(2015 - 10 - 21);
    // (set action, remove action, set message, remove message, read field)
    type Read = fn(&crate::customer::Customer) -> Option<String>;
    let cases: Vec<(A, A, M, M, Read)> = vec![
        (
            A::SetFirstName {
                first_name: s("John"),
            },
            A::SetFirstName { first_name: None },
            M::CustomerFirstNameSet {
                first_name: s("John"),
            },
            M::CustomerFirstNameSet { first_name: None },
            |c| c.first_name.clone(),
        ),
        (
            A::SetLastName {
                last_name: s("Person"),
            },
            A::SetLastName { last_name: None },
            M::CustomerLastNameSet {
                last_name: s("Person"),
            },
            M::CustomerLastNameSet { last_name: None },
            |c| c.last_name.clone(),
        ),
        (
            A::SetTitle { title: s("Dr") },
            A::SetTitle { title: None },
            M::CustomerTitleSet { title: s("Dr") },
            M::CustomerTitleSet { title: None },
            |c| c.title.clone(),
        ),
        (
            A::SetCompanyName {
                company_name: s("Company Ltd."),
            },
            A::SetCompanyName { company_name: None },
            M::CustomerCompanyNameSet {
                company_name: s("Company Ltd."),
            },
            M::CustomerCompanyNameSet { company_name: None },
            |c| c.company_name.clone(),
        ),
        (
            A::SetExternalId {
                external_id: s("123"),
            },
            A::SetExternalId { external_id: None },
            M::CustomerExternalIdSet {
                external_id: s("123"),
            },
            M::CustomerExternalIdSet { external_id: None },
            |c| c.external_id.clone(),
        ),
        (
            A::SetDateOfBirth {
                date_of_birth: Some(dob),
            },
            A::SetDateOfBirth {
                date_of_birth: None,
            },
            M::CustomerDateOfBirthSet {
                date_of_birth: Some(dob),
            },
            M::CustomerDateOfBirthSet {
                date_of_birth: None,
            },
            |c| c.date_of_birth.map(|d| d.to_string()),
        ),
    ];
    for (set, remove, set_msg, remove_msg, read) in cases {
        let (with, msgs) = env.ok(&c, set.clone());
        assert!(read(&with).is_some(), "{set:?}");
        assert_eq!(msgs, vec![set_msg], "{set:?}");
        // Setting the same value again changes nothing and reports nothing.
        let (again, msgs) = env.ok(&with, set.clone());
        assert_eq!(again, with);
        assert!(msgs.is_empty(), "{set:?}");
        let (without, msgs) = env.ok(&with, remove.clone());
        assert_eq!(read(&without), None, "{remove:?}");
        assert_eq!(without, c);
        assert_eq!(msgs, vec![remove_msg], "{remove:?}");
    }
}

#[test]
fn silent_setters_change_state_without_messages() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (after, msgs) = env.ok(
        &c,
        A::SetMiddleName {
            middle_name: s("M"),
        },
    );
    assert_eq!(after.middle_name, s("M"));
    assert!(msgs.is_empty());
    let (after, msgs) = env.ok(
        &c,
        A::SetSalutation {
            salutation: s("Mr"),
        },
    );
    assert_eq!(after.salutation, s("Mr"));
    assert!(msgs.is_empty());
    let (after, msgs) = env.ok(&c, A::SetVatId { vat_id: s("vatId") });
    assert_eq!(after.vat_id, s("vatId"));
    assert!(msgs.is_empty());
    let (removed, _) = env.ok(&after, A::SetVatId { vat_id: None });
    assert_eq!(removed.vat_id, None);
}

#[test]
fn set_locale_checks_project_languages() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (after, msgs) = env.ok(&c, A::SetLocale { locale: s("de-DE") });
    assert_eq!(after.locale, s("de-DE"));
    assert!(msgs.is_empty());
    let (removed, _) = env.ok(&after, A::SetLocale { locale: None });
    assert_eq!(removed.locale, None);
    let err = env.err(&c, A::SetLocale { locale: s("fr-FR") });
    assert_eq!(
        err,
        DomainError::InvalidField {
            field: "locale".to_owned(),
            invalid_value: json!("fr-FR"),
            allowed_values: Some(vec![json!("en"), json!("de-DE")]),
        }
    );
    assert_eq!(
        err.to_string(),
        "The value \"fr-FR\" is not valid for field locale."
    );
}

#[test]
fn set_key_validates_and_removes() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (after, msgs) = env.ok(&c, A::SetKey { key: s("newKey") });
    assert_eq!(after.key, s("newKey"));
    assert!(msgs.is_empty());
    let (removed, _) = env.ok(&after, A::SetKey { key: None });
    assert_eq!(removed.key, None);
    let err = env.err(&c, A::SetKey { key: s("bad key") });
    assert!(
        matches!(&err, DomainError::InvalidInput(m) if m.starts_with("Invalid key 'bad key'")),
        "{err:?}"
    );
}

#[test]
fn customer_number_can_be_set_once() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (set, msgs) = env.ok(
        &c,
        A::SetCustomerNumber {
            customer_number: s("123"),
        },
    );
    assert_eq!(set.customer_number, s("123"));
    assert!(msgs.is_empty());
    let locked = invalid_op("The customerNumber is already set and cannot be changed.");
    assert_eq!(
        env.err(
            &set,
            A::SetCustomerNumber {
                customer_number: s("456")
            }
        ),
        locked
    );
    assert_eq!(
        env.err(
            &set,
            A::SetCustomerNumber {
                customer_number: None
            }
        ),
        locked
    );
    // The identical value is not a change.
    let (same, _) = env.ok(
        &set,
        A::SetCustomerNumber {
            customer_number: s("123"),
        },
    );
    assert_eq!(same, set);
}

#[test]
fn authentication_mode_switches_delete_and_require_the_password() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let err = env.err(
        &c,
        A::SetAuthenticationMode {
            auth_mode: AuthenticationMode::Password,
            password: s("x"),
        },
    );
    assert_eq!(
        err,
        invalid_op("The customer is already using the authentication mode 'Password'.")
    );
    let (external, msgs) = env.ok(
        &c,
        A::SetAuthenticationMode {
            auth_mode: AuthenticationMode::ExternalAuth,
            password: None,
        },
    );
    assert_eq!(
        external.authentication_mode,
        AuthenticationMode::ExternalAuth
    );
    assert_eq!(external.password, None);
    assert!(msgs.is_empty());
    assert_eq!(
        env.err(
            &external,
            A::SetAuthenticationMode {
                auth_mode: AuthenticationMode::ExternalAuth,
                password: None,
            }
        ),
        invalid_op("The customer is already using the authentication mode 'ExternalAuth'.")
    );
    for password in [None, s("")] {
        assert_eq!(
            env.err(
                &external,
                A::SetAuthenticationMode {
                    auth_mode: AuthenticationMode::Password,
                    password,
                }
            ),
            DomainError::RequiredField {
                field: "password".to_owned()
            }
        );
    }
    let (back, msgs) = env.ok(
        &external,
        A::SetAuthenticationMode {
            auth_mode: AuthenticationMode::Password,
            password: s("newSecret"),
        },
    );
    assert_eq!(back.authentication_mode, AuthenticationMode::Password);
    assert_eq!(back.password, Some(env.hash("newSecret")));
    assert!(msgs.is_empty());
}

#[test]
fn store_actions_need_resolved_stores() {
    let mut env = TestEnv::new();
    let c = env.customer();
    // Setting no stores on a global customer changes nothing, so nothing needs resolving.
    let (same, msgs) = env.ok(&c, A::SetStores { stores: vec![] });
    assert_eq!((same, msgs.len()), (c.clone(), 0));
    for action in [
        A::SetStores {
            stores: vec![ri_key("s1")],
        },
        A::AddStore {
            store: ri_key("s1"),
        },
        A::RemoveStore {
            store: ri_key("s1"),
        },
    ] {
        assert!(matches!(
            env.err(&c, action),
            DomainError::ReferencedResourceNotFound { ref type_id, .. } if type_id == "store"
        ));
    }
}

// ---------------------------------------------------------------- address actions

#[test]
fn add_address_assigns_a_fresh_id() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let mut draft = address("exampleKey", "DE");
    draft.id = s("client-id");
    let (after, msgs) = env.ok(&c, A::AddAddress { address: draft });
    let added = stored("addr-1", "exampleKey", "DE");
    assert_eq!(after.addresses, vec![added.clone()]);
    assert_eq!(msgs, vec![M::CustomerAddressAdded { address: added }]);
}

#[test]
fn add_address_errors() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    assert_eq!(
        env.err(
            &c,
            A::AddAddress {
                address: address("home", "FR")
            }
        ),
        DomainError::DuplicateField {
            field: "addresses.key".to_owned(),
            duplicate_value: json!("home"),
        }
    );
    assert_eq!(
        env.err(
            &c,
            A::AddAddress {
                address: address("new", "Germany")
            }
        ),
        DomainError::InvalidInput(
            "Invalid address.country 'Germany'. It must be a two-letter ISO 3166-1 country code (^[A-Z]{2}$)."
                .to_owned()
        )
    );
    let err = env.err(
        &c,
        A::AddAddress {
            address: address("x", "DE"),
        },
    );
    assert!(
        matches!(&err, DomainError::InvalidInput(m) if m.starts_with("Invalid address.key 'x'")),
        "{err:?}"
    );
    assert_eq!(
        env.err(
            &c,
            A::AddAddress {
                address: AddressDraft {
                    custom: Some(custom_draft()),
                    ..address("new", "DE")
                }
            }
        ),
        DomainError::ReferencedResourceNotFound {
            type_id: "type".to_owned(),
            predicate: "with key 'my-type'".to_owned(),
            id: None,
            key: s("my-type"),
        }
    );
}

#[test]
fn change_address_keeps_the_id_and_reports_roles() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    let (after, msgs) = env.ok(
        &c,
        A::ChangeAddress {
            address_id: s("addr-1"),
            address_key: None,
            address: address("home2", "US"),
        },
    );
    let changed = stored("addr-1", "home2", "US");
    assert_eq!(after.addresses[0], changed);
    assert_eq!(after.addresses[1], c.addresses[1]);
    assert_eq!(
        msgs,
        vec![M::CustomerAddressChanged {
            address: changed,
            address_roles: vec![AddressRole::Shipping, AddressRole::Billing],
        }]
    );
    // By key, keeping its own key, roles = Billing only.
    let (after, msgs) = env.ok(
        &c,
        A::ChangeAddress {
            address_id: None,
            address_key: s("work"),
            address: address("work", "DE"),
        },
    );
    assert_eq!(after.addresses[1], stored("addr-2", "work", "DE"));
    assert_eq!(
        msgs,
        vec![M::CustomerAddressChanged {
            address: stored("addr-2", "work", "DE"),
            address_roles: vec![AddressRole::Billing],
        }]
    );
    // Identical content: no change, no Message.
    let (same, msgs) = env.ok(
        &c,
        A::ChangeAddress {
            address_id: s("addr-2"),
            address_key: None,
            address: address("work", "US"),
        },
    );
    assert_eq!(same, c);
    assert!(msgs.is_empty());
}

#[test]
fn change_address_errors() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    let change = |id: Option<String>, key: Option<String>, draft: AddressDraft| A::ChangeAddress {
        address_id: id,
        address_key: key,
        address: draft,
    };
    assert_eq!(
        env.err(&c, change(s("addr-1"), None, address("work", "DE"))),
        DomainError::DuplicateField {
            field: "addresses.key".to_owned(),
            duplicate_value: json!("work"),
        }
    );
    assert_eq!(
        env.err(&c, change(s("nope"), None, address("home", "DE"))),
        invalid_op("The customer does not have an address with id 'nope'.")
    );
    assert_eq!(
        env.err(&c, change(None, s("nope"), address("home", "DE"))),
        invalid_op("The customer does not have an address with key 'nope'.")
    );
    assert_eq!(
        env.err(&c, change(s("addr-1"), s("home"), address("home", "DE"))),
        DomainError::InvalidInput(
            "Either 'addressId' or 'addressKey' must be set, not both.".to_owned()
        )
    );
    assert_eq!(
        env.err(&c, change(None, None, address("home", "DE"))),
        DomainError::InvalidInput(
            "One of the fields 'addressId' or 'addressKey' must be set.".to_owned()
        )
    );
    assert!(matches!(
        env.err(&c, change(s("addr-1"), None, address("home", "xx"))),
        DomainError::InvalidInput(_)
    ));
}

#[test]
fn remove_address_drops_every_mention() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    let (after, msgs) = env.ok(
        &c,
        A::RemoveAddress {
            address_id: None,
            address_key: s("home"),
        },
    );
    assert_eq!(after.addresses, vec![c.addresses[1].clone()]);
    assert_eq!(after.default_shipping_address_id, None);
    assert!(after.shipping_address_ids.is_empty());
    assert_eq!(after.billing_address_ids, ["addr-2"]);
    assert_eq!(after.default_billing_address_id, s("addr-2"));
    assert_eq!(
        msgs,
        vec![M::CustomerAddressRemoved {
            address: c.addresses[0].clone(),
            address_roles: vec![AddressRole::Shipping, AddressRole::Billing],
        }]
    );
    let (after, _) = env.ok(
        &c,
        A::RemoveAddress {
            address_id: s("addr-2"),
            address_key: None,
        },
    );
    assert_eq!(after.default_billing_address_id, None);
    assert_eq!(after.billing_address_ids, ["addr-1"]);
    assert_eq!(
        env.err(
            &c,
            A::RemoveAddress {
                address_id: s("addr-9"),
                address_key: None
            }
        ),
        invalid_op("The customer does not have an address with id 'addr-9'.")
    );
    assert!(matches!(
        env.err(
            &c,
            A::RemoveAddress {
                address_id: None,
                address_key: None
            }
        ),
        DomainError::InvalidInput(_)
    ));
}

#[test]
fn set_default_shipping_address_lists_it_and_unsets_without_address() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    let (after, msgs) = env.ok(
        &c,
        A::SetDefaultShippingAddress {
            address_id: None,
            address_key: s("work"),
        },
    );
    assert_eq!(after.default_shipping_address_id, s("addr-2"));
    assert_eq!(after.shipping_address_ids, ["addr-1", "addr-2"]);
    assert_eq!(
        msgs,
        vec![M::CustomerDefaultShippingAddressSet {
            address: Some(c.addresses[1].clone())
        }]
    );
    // Already the default: no change.
    let (same, msgs) = env.ok(
        &c,
        A::SetDefaultShippingAddress {
            address_id: s("addr-1"),
            address_key: None,
        },
    );
    assert_eq!(same, c);
    assert!(msgs.is_empty());
    // Neither id nor key: unset the default, keep the list.
    let (unset, msgs) = env.ok(
        &c,
        A::SetDefaultShippingAddress {
            address_id: None,
            address_key: None,
        },
    );
    assert_eq!(unset.default_shipping_address_id, None);
    assert_eq!(unset.shipping_address_ids, ["addr-1"]);
    assert_eq!(
        msgs,
        vec![M::CustomerDefaultShippingAddressSet { address: None }]
    );
    let (still, msgs) = env.ok(
        &unset,
        A::SetDefaultShippingAddress {
            address_id: None,
            address_key: None,
        },
    );
    assert_eq!(still, unset);
    assert!(msgs.is_empty());
    assert_eq!(
        env.err(
            &c,
            A::SetDefaultShippingAddress {
                address_id: s("zzz"),
                address_key: None
            }
        ),
        invalid_op("The customer does not have an address with id 'zzz'.")
    );
    assert!(matches!(
        env.err(
            &c,
            A::SetDefaultShippingAddress {
                address_id: s("addr-1"),
                address_key: s("home")
            }
        ),
        DomainError::InvalidInput(_)
    ));
}

#[test]
fn set_default_billing_address_lists_it_and_unsets_without_address() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    let (after, msgs) = env.ok(
        &c,
        A::SetDefaultBillingAddress {
            address_id: s("addr-1"),
            address_key: None,
        },
    );
    assert_eq!(after.default_billing_address_id, s("addr-1"));
    assert_eq!(after.billing_address_ids, c.billing_address_ids);
    assert_eq!(
        msgs,
        vec![M::CustomerDefaultBillingAddressSet {
            address: Some(c.addresses[0].clone())
        }]
    );
    let (unset, msgs) = env.ok(
        &c,
        A::SetDefaultBillingAddress {
            address_id: None,
            address_key: None,
        },
    );
    assert_eq!(unset.default_billing_address_id, None);
    assert_eq!(unset.billing_address_ids, c.billing_address_ids);
    assert_eq!(
        msgs,
        vec![M::CustomerDefaultBillingAddressSet { address: None }]
    );
    assert_eq!(
        env.err(
            &c,
            A::SetDefaultBillingAddress {
                address_id: None,
                address_key: s("zzz")
            }
        ),
        invalid_op("The customer does not have an address with key 'zzz'.")
    );
}

#[test]
fn add_shipping_and_billing_address_ids_are_idempotent() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    let (after, msgs) = env.ok(
        &c,
        A::AddShippingAddressId {
            address_id: None,
            address_key: s("work"),
        },
    );
    assert_eq!(after.shipping_address_ids, ["addr-1", "addr-2"]);
    assert_eq!(after.default_shipping_address_id, s("addr-1"));
    assert_eq!(
        msgs,
        vec![M::CustomerShippingAddressAdded {
            address: c.addresses[1].clone()
        }]
    );
    let (same, msgs) = env.ok(
        &after,
        A::AddShippingAddressId {
            address_id: s("addr-2"),
            address_key: None,
        },
    );
    assert_eq!(same, after);
    assert!(msgs.is_empty());

    let base = env.customer();
    let (with_address, _) = env.ok(
        &base,
        A::AddAddress {
            address: address("a1", "DE"),
        },
    );
    let id = with_address.addresses[0].id.clone();
    let (after, msgs) = env.ok(
        &with_address,
        A::AddBillingAddressId {
            address_id: id.clone(),
            address_key: None,
        },
    );
    assert_eq!(after.billing_address_ids, vec![id.clone().unwrap()]);
    assert_eq!(after.default_billing_address_id, None);
    assert_eq!(
        msgs,
        vec![M::CustomerBillingAddressAdded {
            address: with_address.addresses[0].clone()
        }]
    );
    let (_, msgs) = env.ok(
        &after,
        A::AddBillingAddressId {
            address_id: id,
            address_key: None,
        },
    );
    assert!(msgs.is_empty());
    assert_eq!(
        env.err(
            &c,
            A::AddBillingAddressId {
                address_id: s("nope"),
                address_key: None
            }
        ),
        invalid_op("The customer does not have an address with id 'nope'.")
    );
    assert!(matches!(
        env.err(
            &c,
            A::AddShippingAddressId {
                address_id: None,
                address_key: None
            }
        ),
        DomainError::InvalidInput(_)
    ));
}

#[test]
fn remove_shipping_and_billing_address_ids_unset_defaults() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    let (after, msgs) = env.ok(
        &c,
        A::RemoveShippingAddressId {
            address_id: s("addr-1"),
            address_key: None,
        },
    );
    assert!(after.shipping_address_ids.is_empty());
    assert_eq!(after.default_shipping_address_id, None);
    assert_eq!(after.addresses, c.addresses);
    assert_eq!(
        msgs,
        vec![M::CustomerShippingAddressRemoved {
            address: c.addresses[0].clone()
        }]
    );
    assert_eq!(
        env.err(
            &c,
            A::RemoveShippingAddressId {
                address_id: s("addr-2"),
                address_key: None
            }
        ),
        invalid_op("The address with id 'addr-2' is not in 'shippingAddressIds'.")
    );

    // addr-1 is a billing address but not the default billing address.
    let (after, msgs) = env.ok(
        &c,
        A::RemoveBillingAddressId {
            address_id: None,
            address_key: s("home"),
        },
    );
    assert_eq!(after.billing_address_ids, ["addr-2"]);
    assert_eq!(after.default_billing_address_id, s("addr-2"));
    assert_eq!(
        msgs,
        vec![M::CustomerBillingAddressRemoved {
            address: c.addresses[0].clone()
        }]
    );
    let (after, _) = env.ok(
        &c,
        A::RemoveBillingAddressId {
            address_id: s("addr-2"),
            address_key: None,
        },
    );
    assert_eq!(after.billing_address_ids, ["addr-1"]);
    assert_eq!(after.default_billing_address_id, None);
    let (no_billing, _) = env.ok(
        &after,
        A::RemoveBillingAddressId {
            address_id: s("addr-1"),
            address_key: None,
        },
    );
    assert_eq!(
        env.err(
            &no_billing,
            A::RemoveBillingAddressId {
                address_id: s("addr-1"),
                address_key: None
            }
        ),
        invalid_op("The address with id 'addr-1' is not in 'billingAddressIds'.")
    );
    assert_eq!(
        env.err(
            &c,
            A::RemoveBillingAddressId {
                address_id: None,
                address_key: s("nope")
            }
        ),
        invalid_op("The customer does not have an address with key 'nope'.")
    );
}

#[test]
fn address_roles_reflect_lists_and_defaults() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    assert_eq!(
        c.address_roles("addr-1"),
        [AddressRole::Shipping, AddressRole::Billing]
    );
    assert_eq!(c.address_roles("addr-2"), [AddressRole::Billing]);
    assert!(c.address_roles("nope").is_empty());
}

// ---------------------------------------------------------------- apply_all

#[test]
fn apply_all_bumps_the_version_once_per_changing_request() {
    let mut env = TestEnv::new();
    let mut c = env.customer();
    c.last_modified_at = datetime!(2020-01-01 00:00:00 UTC);
    let actions = [
        A::SetFirstName {
            first_name: s("John"),
        },
        A::SetLastName {
            last_name: s("Doe"),
        },
        A::SetVatId { vat_id: s("V") },
    ];
    let (after, msgs) = env.run(|ctx| apply_all(c.clone(), &actions, ctx)).unwrap();
    assert_eq!(after.version, Version::FIRST.next());
    assert_eq!(after.last_modified_at, NOW);
    assert_eq!(after.created_at, c.created_at);
    assert_eq!(after.first_name, s("John"));
    assert_eq!(after.vat_id, s("V"));
    assert_eq!(
        msgs,
        vec![
            M::CustomerFirstNameSet {
                first_name: s("John")
            },
            M::CustomerLastNameSet {
                last_name: s("Doe")
            },
        ]
    );
}

#[test]
fn apply_all_is_all_or_nothing() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let actions = [
        A::SetFirstName {
            first_name: s("John"),
        },
        A::SetLocale { locale: s("xx") },
        A::SetLastName {
            last_name: s("Doe"),
        },
    ];
    let err = env
        .run(|ctx| apply_all(c.clone(), &actions, ctx))
        .unwrap_err();
    assert!(matches!(err, DomainError::InvalidField { .. }));
}

#[test]
fn apply_all_without_effect_keeps_version_and_reports_nothing() {
    let mut env = TestEnv::new();
    let c = env.create(CustomerDraft {
        first_name: s("Jane"),
        ..minimal_draft()
    });
    let c = c.unwrap().0;
    let same = [A::SetFirstName {
        first_name: s("Jane"),
    }];
    let (after, msgs) = env.run(|ctx| apply_all(c.clone(), &same, ctx)).unwrap();
    assert_eq!(after, c);
    assert!(msgs.is_empty());
    // Changed and changed back within one request: no net change.
    let round_trip = [
        A::SetFirstName {
            first_name: s("Other"),
        },
        A::SetFirstName {
            first_name: s("Jane"),
        },
    ];
    let (after, msgs) = env
        .run(|ctx| apply_all(c.clone(), &round_trip, ctx))
        .unwrap();
    assert_eq!(after, c);
    assert!(msgs.is_empty());
    let (after, msgs) = env.run(|ctx| apply_all(c.clone(), &[], ctx)).unwrap();
    assert_eq!(after, c);
    assert!(msgs.is_empty());
}

#[test]
fn apply_all_allows_at_most_500_actions() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let action = A::SetVatId { vat_id: s("V") };
    let ok = vec![action.clone(); 500];
    assert!(env.run(|ctx| apply_all(c.clone(), &ok, ctx)).is_ok());
    let too_many = vec![action; 501];
    let err = env
        .run(|ctx| apply_all(c.clone(), &too_many, ctx))
        .unwrap_err();
    assert_eq!(
        err,
        DomainError::InvalidInput(
            "Too many update actions: 501. A request may contain at most 500 update actions."
                .to_owned()
        )
    );
}

#[test]
fn apply_all_sees_earlier_actions_of_the_same_request() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let actions = [
        A::AddAddress {
            address: address("new", "DE"),
        },
        A::SetDefaultBillingAddress {
            address_id: None,
            address_key: s("new"),
        },
        A::ChangeAddress {
            address_id: None,
            address_key: s("new"),
            address: address("renamed", "US"),
        },
    ];
    let (after, msgs) = env.run(|ctx| apply_all(c.clone(), &actions, ctx)).unwrap();
    assert_eq!(after.addresses, vec![stored("addr-1", "renamed", "US")]);
    assert_eq!(after.default_billing_address_id, s("addr-1"));
    assert_eq!(after.billing_address_ids, ["addr-1"]);
    assert_eq!(msgs.len(), 3);
    assert_eq!(after.version.get(), 2);
}
