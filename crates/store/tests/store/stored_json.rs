//! Conformance stories for [`Store::get_customer_json`] and [`Store::query_customers_json`]: the
//! stored text a plain GET or query page answers with must be byte for byte the serialization
//! of the customer [`Store::get_customer`] / [`Store::query_customers`] read, for a customer
//! with every field set, after an update, and by id, key and email. On
//! PostgreSQL (JSONB documents) and for rows whose text is not that JSON it answers with the
//! parsed customer instead.

use std::sync::Arc;

use crate::common::{created, each_backend_at, message, seed_resource, seed_stores};
use clientele_domain::{Customer, MessagePayload, PasswordHash, Version};
use clientele_store::{CustomerJson, CustomerLookup, ResourceQuery, Store};
use serde_json::json;

const P: &str = "proj";
const GROUP_ID: &str = "6a3936b4-a1a2-4b1f-8d6c-6e4b9a1d2f01";
const TYPE_ID: &str = "0f9b6f5e-2c4d-4a8e-9b1f-3d2c1b0a9e87";
const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";

/// A customer with every field of the API's JSON set, custom fields of every JSON kind (text
/// that needs escaping, non-ASCII text, integers, fractions, exponents, nesting) included.
fn every_field() -> Customer {
    let address = |id: &str, key: &str| {
        json!({
            "id": id, "key": key, "country": "DE", "title": "Dr.", "salutation": "Hi",
            "firstName": "Änne", "lastName": "O'Brien", "streetName": "Hauptstraße",
            "streetNumber": "1a", "additionalStreetInfo": "Hinterhaus", "postalCode": "10115",
            "city": "Berlin", "region": "BE", "state": "Berlin", "company": "ACME \"GmbH\"",
            "department": "IT", "building": "B", "apartment": "3", "pOBox": "42",
            "phone": "+49 30 1", "mobile": "+49 170 1", "email": "a@example.com", "fax": "0",
            "additionalAddressInfo": "line\nbreak", "externalId": "ext-a",
            "custom": {"type": {"typeId": "type", "id": TYPE_ID}, "fields": {"floor": 3}}
        })
    };
    let fields = json!({
        "text": "quote \" backslash \\ slash / tab \t control \u{1} emoji 😀 é",
        "int": 42, "negative": -7, "big": 9007199254740993u64, "fraction": 1.5,
        "tiny": 1e-7, "huge": 1.0e300, "yes": true, "none": [],
        "money": {"type": "centPrecision", "currencyCode": "EUR", "centAmount": 1999,
            "fractionDigits": 2},
        "localized": {"en": "Hello", "de": "Hallo"}, "set": ["b", "a", "b"],
        "nested": {"z": {"y": [1, {"x": null}]}}
    });
    let mut c: Customer = serde_json::from_value(json!({
        "id": "5d9a1c1e-7c55-4d2a-9f0e-1b2c3d4e5f60", "version": 1, "key": "every-field",
        "customerNumber": "C-1", "externalId": "X-1",
        "createdAt": "2024-02-29T23:59:59.123Z", "lastModifiedAt": "2024-03-01T00:00:00.001Z",
        "lastModifiedBy": {"clientId": "client", "isPlatformClient": false,
            "customer": {"typeId": "customer", "id": "5d9a1c1e-7c55-4d2a-9f0e-1b2c3d4e5f60"}},
        "createdBy": {"clientId": "client", "externalUserId": "u-1", "anonymousId": "anon",
            "isPlatformClient": true},
        "email": "Every.Field@Example.com", "firstName": "Zoë", "lastName": "Ünal",
        "middleName": "M", "title": "Prof.", "dateOfBirth": "1990-12-31",
        "companyName": "ACME", "vatId": "DE123",
        "addresses": [address("a1", "home"), address("a2", "work")],
        "defaultShippingAddressId": "a1", "shippingAddressIds": ["a1"],
        "defaultBillingAddressId": "a2", "billingAddressIds": ["a2", "a1"],
        "isEmailVerified": true,
        "customerGroup": {"typeId": "customer-group", "id": GROUP_ID},
        "customerGroupAssignments": [{"customerGroup": {"typeId": "customer-group", "id": GROUP_ID}}],
        "custom": {"type": {"typeId": "type", "id": TYPE_ID}, "fields": fields},
        "locale": "de-DE", "salutation": "Dear", "stores": [{"typeId": "store", "key": "shop"}],
        "authenticationMode": "Password"
    }))
    .expect("customer JSON");
    c.password = Some(PasswordHash::from_phc(PHC.to_owned()));
    c
}

/// What `get_customer_json` gives for `lookup`, checked against `get_customer`: the stored text
/// is the parsed customer's serialization. Returns whether the stored text was used.
async fn same_as_parsed(store: &Arc<dyn Store>, lookup: &CustomerLookup) -> bool {
    let parsed = store
        .get_customer(P, lookup)
        .await
        .expect("get customer")
        .expect("customer exists");
    match store
        .get_customer_json(P, lookup)
        .await
        .expect("get customer JSON")
        .expect("customer exists as JSON")
    {
        CustomerJson::Stored(text) => {
            let expected = serde_json::to_string(&parsed).expect("serialize");
            assert_eq!(text, expected, "stored text for {lookup:?}");
            true
        }
        CustomerJson::Parsed(customer) => {
            assert_eq!(*customer, parsed, "parsed customer for {lookup:?}");
            false
        }
    }
}

fn lookups(c: &Customer) -> [CustomerLookup; 3] {
    [
        CustomerLookup::Id(c.id.clone()),
        CustomerLookup::Key(c.key.clone().unwrap_or_default()),
        CustomerLookup::Email {
            email: c.email.to_uppercase(),
            store: Some("shop".to_owned()),
        },
    ]
}

#[tokio::test]
async fn a_plain_read_answers_with_the_stored_text_when_it_is_the_api_json() {
    each_backend_at(|store, url| async move {
        let text_kept = url.starts_with("sqlite");
        seed_stores(&store, P, &["shop"]).await;
        seed_resource(&store, P, "customer-group", GROUP_ID).await;
        seed_resource(&store, P, "type", TYPE_ID).await;
        let mut c = every_field();
        store
            .insert_customer(P, &c, vec![created(&c)])
            .await
            .expect("insert");
        for lookup in lookups(&c) {
            assert_eq!(same_as_parsed(&store, &lookup).await, text_kept);
        }

        // An update rewrites the text, and the text is still the customer's JSON.
        let previous = c.clone();
        c.version = Version::FIRST.next();
        c.first_name = Some("Zoé \u{2028}".to_owned());
        c.password = Some(PasswordHash::from_phc(format!("{PHC}x")));
        let changed = message(
            &c.id,
            2,
            MessagePayload::CustomerFirstNameSet {
                first_name: c.first_name.clone(),
            },
        );
        store
            .update_customer_from(P, &previous, &c, Version::FIRST, vec![changed])
            .await
            .expect("update");
        for lookup in lookups(&c) {
            assert_eq!(same_as_parsed(&store, &lookup).await, text_kept);
        }

        // A masked-only password is in the text but not in the row's hash column, so reading
        // the row back shows none: that text is not the API JSON and the row is parsed.
        let mut masked = every_field();
        masked.id = "9e8d7c6b-5a49-4838-a726-150493827160".to_owned();
        masked.key = Some("masked".to_owned());
        masked.email = "masked@example.com".to_owned();
        masked.customer_number = Some("C-2".to_owned());
        masked.password = Some(PasswordHash::from_masked(
            PasswordHash::from_phc(PHC.to_owned()).masked(),
        ));
        store
            .insert_customer(P, &masked, vec![created(&masked)])
            .await
            .expect("insert masked");
        for lookup in lookups(&masked) {
            assert!(!same_as_parsed(&store, &lookup).await);
        }

        // A page holds stored texts and parsed customers side by side, each what the parsed
        // page serializes to, in the same order with the same total.
        let query = ResourceQuery {
            limit: 10,
            with_total: true,
            ..ResourceQuery::default()
        };
        let parsed = store.query_customers(P, &query).await.expect("query");
        let page = store
            .query_customers_json(P, &query)
            .await
            .expect("query JSON");
        assert_eq!(page.total, parsed.total);
        assert_eq!(page.results.len(), 2);
        let mut stored = 0;
        for (json, customer) in page.results.iter().zip(&parsed.results) {
            match json {
                CustomerJson::Stored(text) => {
                    stored += 1;
                    assert_eq!(text, &serde_json::to_string(customer).expect("serialize"));
                }
                CustomerJson::Parsed(c) => assert_eq!(&**c, customer),
            }
        }
        assert_eq!(stored, usize::from(text_kept));

        let missing = CustomerLookup::Key("nobody".to_owned());
        assert_eq!(
            store.get_customer_json(P, &missing).await.expect("lookup"),
            None
        );
    })
    .await;
}
