//! The `bodies` fuzz check: arbitrary bytes as every JSON request body the API reads — the
//! drafts (Customer, Customer Group, Store, Type), the update requests of all four resources and
//! the credential bodies (sign-in, password change and reset, token creation, email
//! verification) — and, where one deserialises, the domain's pure logic applied to it.
//!
//! Owns only the invariants checked here; it must not hold rules of its own. The fuzz target
//! `bodies` calls [`check`]; `crates/domain/tests/fuzz_corpus.rs` replays the committed corpus
//! through the same function (it includes this file), so the corpus runs in every `cargo test`.
//!
//! Invariants beyond "never panics": whatever the logic accepts serialises to JSON that reads
//! back as the same resource (the store keeps resources as JSON documents, so a resource that
//! does not read back would answer 500 on every later read).

use std::sync::OnceLock;

use clientele_domain::custom_type::{apply_type_actions, create_type, parse_type_action};
use clientele_domain::customer_group::{apply_customer_group_actions, create_customer_group};
use clientele_domain::newtypes::Email;
use clientele_domain::password::PasswordHash;
use clientele_domain::resolve::Resolved;
use clientele_domain::store::{apply_store_actions, create_store, parse_store_action};
use clientele_domain::token::{
    CustomerChangePassword, CustomerCreateEmailToken, CustomerCreatePasswordResetToken,
    CustomerEmailVerify, CustomerResetPassword, CustomerSignin,
};
use clientele_domain::{
    apply_all_with, create_customer_with, ApplyContext, Customer, CustomerDraft, CustomerGroup,
    CustomerGroupDraft, CustomerGroupUpdateAction, CustomerUpdate, DomainError, Project, Store,
    StoreDraft, Type, TypeDraft,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// The Customer Group update body as the server reads it.
#[derive(Deserialize)]
struct GroupUpdate {
    #[allow(dead_code)]
    version: i64,
    actions: Vec<CustomerGroupUpdateAction>,
}

/// The Store and Type update bodies as the server reads them (actions parsed one by one).
#[derive(Deserialize)]
struct JsonActionsUpdate {
    #[allow(dead_code)]
    version: i64,
    actions: Vec<Value>,
}

/// The resources the fuzzed bodies act on and may reference.
struct Fixture {
    project: Project,
    resolved: Resolved,
    customers: Vec<Customer>,
    group: CustomerGroup,
    store: Store,
    custom_type: Type,
}

/// A fixed request time, so runs are reproducible.
fn now() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000)
}

/// Stands in for Argon2 (the real hasher is slow and not under test here).
fn fake_hash(password: &str) -> Result<PasswordHash, DomainError> {
    Ok(PasswordHash::from_phc(format!("fake${}", password.len())))
}

/// Builds `value` as `T`, for fixtures that are known to be valid.
fn fixture_value<T: DeserializeOwned>(value: Value) -> T {
    match serde_json::from_value(value) {
        Ok(v) => v,
        Err(e) => unreachable!("fixture does not deserialise: {e}"),
    }
}

/// Unwraps a fixture step that is known to succeed.
fn fixture_ok<T>(r: Result<T, DomainError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => unreachable!("fixture rejected: {e:?}"),
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let project = Project {
            key: "fuzz".to_owned(),
            name: "fuzz".to_owned(),
            languages: vec!["en".to_owned(), "de-DE".to_owned()],
            countries: vec!["DE".to_owned(), "US".to_owned()],
            currencies: vec!["EUR".to_owned()],
        };
        // One Type with a field of every kind, usable everywhere a Type may be named.
        let custom_type = fixture_ok(create_type(
            fixture_value(serde_json::json!({
                "key": "fuzz-type",
                "name": {"en": "Fuzz"},
                "resourceTypeIds": ["customer", "customer-group", "store", "address"],
                "fieldDefinitions": [
                    {"name": "bo", "type": {"name": "Boolean"}, "required": false, "label": {"en": "b"}},
                    {"name": "st", "type": {"name": "String"}, "required": false, "label": {"en": "s"}},
                    {"name": "lst", "type": {"name": "LocalizedString"}, "required": false, "label": {"en": "ls"}},
                    {"name": "en", "type": {"name": "Enum", "values": [{"key": "a", "label": "A"}]}, "required": false, "label": {"en": "e"}},
                    {"name": "len", "type": {"name": "LocalizedEnum", "values": [{"key": "a", "label": {"en": "A"}}]}, "required": false, "label": {"en": "le"}},
                    {"name": "nu", "type": {"name": "Number"}, "required": false, "label": {"en": "n"}},
                    {"name": "mo", "type": {"name": "Money"}, "required": false, "label": {"en": "m"}},
                    {"name": "da", "type": {"name": "Date"}, "required": false, "label": {"en": "d"}},
                    {"name": "ti", "type": {"name": "Time"}, "required": false, "label": {"en": "t"}},
                    {"name": "dt", "type": {"name": "DateTime"}, "required": false, "label": {"en": "dt"}},
                    {"name": "re", "type": {"name": "Reference", "referenceTypeId": "customer"}, "required": false, "label": {"en": "r"}},
                    {"name": "set", "type": {"name": "Set", "elementType": {"name": "Number"}}, "required": false, "label": {"en": "set"}},
                    {"name": "req", "type": {"name": "String"}, "required": true, "label": {"en": "req"}}
                ]
            })),
            "type-1".to_owned(),
            now(),
        ));
        let mut resolved = Resolved {
            customer_groups: Vec::new(),
            types: vec![custom_type.clone()],
            stores: Vec::new(),
        };
        let group = fixture_ok(create_customer_group(
            fixture_value(serde_json::json!({"key": "vip", "groupName": "VIP"})),
            "group-1".to_owned(),
            now(),
            &resolved,
        ));
        resolved.customer_groups.push(group.clone());
        let store = fixture_ok(create_store(
            fixture_value(serde_json::json!({
                "key": "berlin", "name": {"en": "Berlin"}, "languages": ["en"],
                "countries": [{"code": "DE"}]
            })),
            "store-1".to_owned(),
            now(),
            &project,
            &resolved,
        ));
        resolved.stores.push(store.clone());
        let mut customers = Vec::new();
        for draft in [
            serde_json::json!({"email": "min@example.com", "password": "x"}),
            serde_json::json!({
                "email": "Rich@Example.com", "password": "secret", "key": "rich",
                "firstName": "Ann", "lastName": "Lee", "customerNumber": "n1", "locale": "en",
                "dateOfBirth": "1990-01-31", "stores": [{"typeId": "store", "key": "berlin"}],
                "customerGroup": {"typeId": "customer-group", "key": "vip"},
                "addresses": [
                    {"key": "home", "country": "DE", "city": "Berlin",
                     "custom": {"type": {"typeId": "type", "key": "fuzz-type"}, "fields": {"req": "x"}}},
                    {"key": "work", "country": "US"},
                    {"country": "DE"}
                ],
                "defaultShippingAddress": 0, "billingAddresses": [1, 2],
                "custom": {"type": {"typeId": "type", "key": "fuzz-type"},
                           "fields": {"req": "x", "nu": 3, "set": [1, 2], "en": "a"}}
            }),
        ] {
            let mut next = 0u32;
            let mut new_id = || {
                next += 1;
                format!("addr-{next}")
            };
            let mut hash = fake_hash;
            let mut ctx = ApplyContext {
                project: &project,
                now: now(),
                new_id: &mut new_id,
                hash_password: &mut hash,
            };
            let (customer, _) = fixture_ok(create_customer_with(
                fixture_value(draft),
                format!("customer-{}", customers.len() + 1),
                &mut ctx,
                &resolved,
            ));
            customers.push(customer);
        }
        Fixture {
            project,
            resolved,
            customers,
            group,
            store,
            custom_type,
        }
    })
}

/// Parses `data` as the server's body extractor does: one JSON value of type `T`, nothing after.
fn body<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    let mut de = serde_json::Deserializer::from_slice(data);
    let value = T::deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

/// Serialises `resource` and reads it back: the store's JSON round trip must keep it whole.
fn assert_round_trip<T: Serialize + DeserializeOwned>(resource: &T) {
    let json = match serde_json::to_value(resource) {
        Ok(json) => json,
        Err(e) => unreachable!("an accepted resource does not serialise: {e}"),
    };
    let back: T = match serde_json::from_value(json.clone()) {
        Ok(back) => back,
        Err(e) => unreachable!("an accepted resource does not read back: {e}\n{json}"),
    };
    let again = serde_json::to_value(&back).ok();
    assert_eq!(
        again.as_ref(),
        Some(&json),
        "the JSON round trip changed it"
    );
}

/// Runs one fuzz input through every body type and, where it parses, the domain logic.
pub fn check(data: &[u8]) {
    let f = fixture();
    let mut next = 0u32;
    let mut new_id = || {
        next += 1;
        format!("fuzz-addr-{next}")
    };
    let mut hash = fake_hash;
    let mut ctx = ApplyContext {
        project: &f.project,
        now: now(),
        new_id: &mut new_id,
        hash_password: &mut hash,
    };

    if let Some(draft) = body::<CustomerDraft>(data) {
        if let Ok((customer, messages)) =
            create_customer_with(draft, "fuzz-customer".to_owned(), &mut ctx, &f.resolved)
        {
            assert_round_trip(&customer);
            assert_eq!(customer.version.get(), 1);
            let _ = serde_json::to_value(&messages);
        }
    }
    if let Some(update) = body::<CustomerUpdate>(data) {
        for customer in &f.customers {
            match apply_all_with(customer.clone(), &update.actions, &mut ctx, &f.resolved) {
                Ok((next, messages)) => {
                    assert_round_trip(&next);
                    assert!(next.version >= customer.version);
                    if next == *customer {
                        assert!(messages.is_empty(), "a no-op update produced messages");
                    }
                    let _ = serde_json::to_value(&messages);
                }
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
    }
    if let Some(draft) = body::<CustomerGroupDraft>(data) {
        if let Ok(group) = create_customer_group(draft, "g".to_owned(), now(), &f.resolved) {
            assert_round_trip(&group);
        }
    }
    if let Some(update) = body::<GroupUpdate>(data) {
        if let Ok(group) =
            apply_customer_group_actions(f.group.clone(), &update.actions, now(), &f.resolved)
        {
            assert_round_trip(&group);
        }
    }
    if let Some(draft) = body::<StoreDraft>(data) {
        if let Ok(store) = create_store(draft, "s".to_owned(), now(), &f.project, &f.resolved) {
            assert_round_trip(&store);
        }
    }
    if let Some(update) = body::<JsonActionsUpdate>(data) {
        let store_actions = update
            .actions
            .iter()
            .map(parse_store_action)
            .collect::<Result<Vec<_>, _>>();
        if let Ok(actions) = store_actions {
            if let Ok(store) =
                apply_store_actions(f.store.clone(), &actions, now(), &f.project, &f.resolved)
            {
                assert_round_trip(&store);
            }
        }
        let type_actions = update
            .actions
            .iter()
            .map(parse_type_action)
            .collect::<Result<Vec<_>, _>>();
        if let Ok(actions) = type_actions {
            if let Ok(t) = apply_type_actions(f.custom_type.clone(), &actions, now()) {
                assert_round_trip(&t);
            }
        }
    }
    if let Some(draft) = body::<TypeDraft>(data) {
        if let Ok(t) = create_type(draft, "t".to_owned(), now()) {
            assert_round_trip(&t);
        }
    }
    if let Some(signin) = body::<CustomerSignin>(data) {
        let _ = signin.check_cart();
        let _ = Email::parse(&signin.email);
    }
    if let Some(b) = body::<CustomerCreatePasswordResetToken>(data) {
        let _ = Email::parse(&b.email);
    }
    let _ = body::<CustomerChangePassword>(data);
    let _ = body::<CustomerResetPassword>(data);
    let _ = body::<CustomerCreateEmailToken>(data);
    let _ = body::<CustomerEmailVerify>(data);
}
