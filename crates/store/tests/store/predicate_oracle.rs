//! Property and table tests: what `query_customers` / `query_messages` return through the
//! `Store` trait is exactly what the in-memory oracle (`clientele_query::evaluate`) selects on the
//! resources' API JSON, on SQLite always and on PostgreSQL when `CLIENTELE_TEST_POSTGRES_URL` is
//! set; and both paging styles walk every customer exactly once.
//!
//! One database per backend serves every generated case: each case writes into a project of its
//! own, so cases cannot see each other's rows.
//!
//! Customers carry custom fields: declared ones (typed through `CustomFieldTypes`, usually with
//! a value of their type, sometimes not) and undeclared, untyped ones.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use clientele_domain::serde_formats::format_datetime;
use clientele_domain::{
    Address, AuthenticationMode, CustomFields, Customer, KeyReference, Message, MessagePayload,
    Reference, Version,
};
use clientele_query::schema::{customer_schema, message_schema};
use clientele_query::{
    evaluate, parse_sort, parse_sort_with, parse_where, parse_where_with, CustomFieldType,
    CustomFieldTypes,
};
use clientele_store::{open, ResourceQuery, Store, StoreOptions};

use crate::common::postgres_or_notice;
use clientele_testing::PgDatabase;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use time::{Date, Duration, Month, OffsetDateTime};
use tokio::runtime::Runtime;

// ---- backends -------------------------------------------------------------------------------

pub(crate) fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `body` against an in-memory SQLite store, then (when configured) against a fresh
/// PostgreSQL database, which is dropped afterwards even if `body` panics.
pub(crate) fn each_backend(rt: &Runtime, body: impl Fn(&Runtime, &Arc<dyn Store>)) {
    let store = rt
        .block_on(open("sqlite::memory:", StoreOptions::default()))
        .unwrap();
    eprintln!("running on sqlite");
    body(rt, &store);
    rt.block_on(store.close());

    let Some(admin_url) = postgres_or_notice() else {
        return;
    };
    // Thousands of one-row commits: durability of a throw-away test database is not what is
    // under test here.
    let db = rt.block_on(PgDatabase::create(
        &admin_url,
        "clientele_oracle_",
        &["synchronous_commit = off"],
    ));
    let store = rt.block_on(open(&db.url, StoreOptions::default())).unwrap();
    eprintln!("running on postgres");
    body(rt, &store);
    rt.block_on(store.close());
}

pub(crate) fn new_scope() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

// ---- random customers -----------------------------------------------------------------------

const LOCALS: &[&str] = &["ann", "Ann", "BOB", "bob", "Émile"];
const DOMAINS: &[&str] = &["x.com", "X.com", "y.org"];
const NAMES: &[&str] = &["Ann", "ann", "Bob", "Émile", "Zoë", "", "O\"Neil"];
const EXTERNAL_IDS: &[&str] = &["e1", "e2", "E1"];
const TITLES: &[&str] = &["Dr", "Prof"];
const DATES: &[(i32, Month, u8)] = &[
    (1980, Month::February, 29),
    (1990, Month::January, 1),
    (2000, Month::December, 31),
];
const DATE_LITERALS: &[&str] = &["1980-02-29", "1990-01-01", "2000-12-31", "1995-06-15"];
/// Milliseconds after 2022-09-19T14:34:35.000Z.
const INSTANTS: &[i64] = &[0, 843, 844, 3_600_000, -86_400_000];
const TIME_LITERALS: &[&str] = &[
    "2022-09-19T14:34:35.000Z",
    "2022-09-19T14:34:35.843Z",
    "2022-09-19T16:34:35.844+02:00",
    "2022-09-19",
    "2022-09-19T15:34:35.000Z",
    "2022-09-18T14:34:35.000Z",
];
const COUNTRIES: &[&str] = &["DE", "US", "FR"];
const CITIES: &[&str] = &["Berlin", "Paris", "NYC"];
const POSTAL_CODES: &[&str] = &["10115", "75001"];
const ADDRESS_KEYS: &[&str] = &["home", "work"];
const STORES: &[&str] = &["s1", "s2"];
/// Customers per case.
const CUSTOMERS: std::ops::RangeInclusive<usize> = 20..=30;
/// Stands for "the case's id prefix" in generated id literals.
const ID_PREFIX: &str = "ID:";

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_663_598_075).unwrap() + Duration::milliseconds(ms)
}

fn pick(items: &'static [&'static str]) -> BoxedStrategy<String> {
    proptest::sample::select(items)
        .prop_map(str::to_owned)
        .boxed()
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![Just(None), s.prop_map(Some)].boxed()
}

/// The parts of a customer that are random; ids and unique values derive from its position.
#[derive(Debug, Clone)]
struct Spec {
    has_key: bool,
    has_number: bool,
    external_id: Option<String>,
    local: String,
    domain: String,
    first_name: Option<String>,
    last_name: Option<String>,
    middle_name: Option<String>,
    title: Option<String>,
    date_of_birth: Option<usize>,
    verified: bool,
    external_auth: bool,
    version: i64,
    created: usize,
    modified_later: bool,
    addresses: Vec<(String, Option<String>, Option<String>)>,
    shipping_mask: Vec<bool>,
    stores: Vec<String>,
    custom: Option<Vec<(String, serde_json::Value)>>,
}

// ---- custom fields --------------------------------------------------------------------------

const TIERS: &[&str] = &["gold", "silver", "bronze"];
const CLOCK: &[&str] = &["09:00:00.000", "12:30:00.000", "23:59:59.999"];
const STAMPS: &[&str] = &[
    "2022-09-19T14:34:35.843Z",
    "2022-09-19T14:34:35.844Z",
    "2023-06-30T23:59:59.999Z",
];
const CURRENCIES: &[&str] = &["EUR", "USD"];
const TAGS: &[&str] = &["a", "b", "c"];
const TYPED: &[&str] = &[
    "tier", "score", "vip", "since", "opens", "at", "title", "budget", "owner", "labels", "scores",
    "budgets",
];

/// The declared custom fields; `rank` and `misc` stay untyped.
fn custom_types() -> CustomFieldTypes {
    use CustomFieldType as T;
    [
        ("tier", T::Enum),
        ("score", T::Number),
        ("vip", T::Boolean),
        ("since", T::Date),
        ("opens", T::Time),
        ("at", T::DateTime),
        ("title", T::LocalizedString),
        ("budget", T::Money),
        ("owner", T::Reference),
        ("labels", T::Set(Box::new(T::String))),
        ("scores", T::Set(Box::new(T::Number))),
        ("budgets", T::Set(Box::new(T::Money))),
    ]
    .into_iter()
    .collect()
}

/// Input variables the predicates may use.
fn variables() -> HashMap<String, Vec<String>> {
    [
        ("n", vec!["2"]),
        ("tiers", vec!["gold", "bronze"]),
        ("t", vec!["12:30:00"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect()
}

fn money() -> BoxedStrategy<serde_json::Value> {
    (
        pick(CURRENCIES),
        proptest::sample::select(&[0i64, 100, 1250][..]),
    )
        .prop_map(|(c, cents)| {
            serde_json::json!({"type": "centPrecision", "currencyCode": c, "centAmount": cents,
                               "fractionDigits": 2})
        })
        .boxed()
}

/// A value of any JSON type (what an untyped field may hold, and a misfit for a typed one).
fn any_value() -> BoxedStrategy<serde_json::Value> {
    use serde_json::json;
    prop_oneof![
        (-3i64..6).prop_map(|n| json!(n)),
        Just(json!(2.5)),
        pick(TAGS).prop_map(|s| json!(s)),
        any::<bool>().prop_map(|b| json!(b)),
        proptest::collection::vec(pick(TAGS), 0..3).prop_map(|v| json!(v)),
        Just(json!([1, "a", true])),
        Just(json!({"centAmount": 100, "currencyCode": "EUR", "en": "Ann"})),
    ]
    .boxed()
}

/// A value for declared field `name`: usually of its type, sometimes anything.
fn typed_value(name: &'static str) -> BoxedStrategy<serde_json::Value> {
    use serde_json::json;
    let fitting = match name {
        "tier" => pick(TIERS).prop_map(|s| json!(s)).boxed(),
        "score" => prop_oneof![(-3i64..6).prop_map(|n| json!(n)), Just(json!(2.5))].boxed(),
        "vip" => any::<bool>().prop_map(|b| json!(b)).boxed(),
        "since" => pick(DATE_LITERALS).prop_map(|s| json!(s)).boxed(),
        "opens" => pick(CLOCK).prop_map(|s| json!(s)).boxed(),
        "at" => pick(STAMPS).prop_map(|s| json!(s)).boxed(),
        "title" => (opt(pick(NAMES)), opt(pick(NAMES)))
            .prop_map(|(en, de)| {
                let mut m = serde_json::Map::new();
                if let Some(en) = en {
                    m.insert("en".into(), json!(en));
                }
                if let Some(de) = de {
                    m.insert("de".into(), json!(de));
                }
                serde_json::Value::Object(m)
            })
            .boxed(),
        "budget" => money(),
        "owner" => pick(&["o1", "o2"])
            .prop_map(|id| json!({"typeId": "customer", "id": id}))
            .boxed(),
        "labels" => proptest::collection::vec(pick(TAGS), 0..3)
            .prop_map(|v| json!(v))
            .boxed(),
        "scores" => proptest::collection::vec(-3i64..6, 0..3)
            .prop_map(|v| json!(v))
            .boxed(),
        _ => proptest::collection::vec(money(), 0..3)
            .prop_map(|v| json!(v))
            .boxed(),
    };
    prop_oneof![6 => fitting, 1 => any_value()].boxed()
}

fn custom_fields() -> BoxedStrategy<Option<Vec<(String, serde_json::Value)>>> {
    let typed = proptest::sample::subsequence(TYPED, 0..=6).prop_flat_map(|names| {
        names
            .into_iter()
            .map(|n| typed_value(n).prop_map(move |v| (n.to_owned(), v)))
            .collect::<Vec<_>>()
    });
    let untyped = proptest::collection::vec((pick(&["rank", "misc"]), any_value()), 0..2);
    opt((typed, untyped).prop_map(|(mut t, u)| {
        t.extend(u);
        t
    }))
}

fn spec() -> impl Strategy<Value = Spec> {
    let a = (
        any::<bool>(),
        any::<bool>(),
        opt(pick(EXTERNAL_IDS)),
        pick(LOCALS),
        pick(DOMAINS),
        opt(pick(NAMES)),
        opt(pick(NAMES)),
        opt(pick(NAMES)),
        opt(pick(TITLES)),
        opt(0..DATES.len()),
    );
    let b = (
        any::<bool>(),
        any::<bool>(),
        1i64..5,
        0..INSTANTS.len(),
        any::<bool>(),
        proptest::collection::vec(
            (pick(COUNTRIES), opt(pick(CITIES)), opt(pick(ADDRESS_KEYS))),
            0..3,
        ),
        proptest::collection::vec(any::<bool>(), 3),
        proptest::sample::subsequence(STORES, 0..=STORES.len()),
    );
    (a, b, custom_fields()).prop_map(
        |(
            (has_key, has_number, external_id, local, domain, first, last, middle, title, dob),
            (verified, external_auth, version, created, modified_later, addresses, mask, stores),
            custom,
        )| Spec {
            has_key,
            has_number,
            external_id,
            local,
            domain,
            first_name: first,
            last_name: last,
            middle_name: middle,
            title,
            date_of_birth: dob,
            verified,
            external_auth,
            version,
            created,
            modified_later,
            addresses,
            shipping_mask: mask,
            stores: stores.into_iter().map(str::to_owned).collect(),
            custom,
        },
    )
}

/// The id of the case's Type: resource ids are unique across projects, so each case's
/// project gets its own.
fn type_id(scope: &str) -> String {
    format!("{scope}-t1")
}

fn build(scope: &str, i: usize, s: &Spec) -> Customer {
    let created = at(INSTANTS[s.created]);
    let addresses: Vec<Address> = s
        .addresses
        .iter()
        .enumerate()
        .map(|(j, (country, city, key))| Address {
            id: Some(format!("a{i}{j}")),
            key: key.clone(),
            country: country.clone(),
            city: city.clone(),
            // A postal code on some addresses (indexed like country and city), derived so the
            // generated customers keep their shape.
            postal_code: key
                .as_ref()
                .map(|_| POSTAL_CODES[j % POSTAL_CODES.len()].to_owned()),
            ..Address::default()
        })
        .collect();
    let shipping = addresses
        .iter()
        .zip(&s.shipping_mask)
        .filter(|(_, m)| **m)
        .filter_map(|(a, _)| a.id.clone())
        .collect();
    Customer {
        id: format!("{scope}-{i:02}"),
        version: Version::parse(s.version).unwrap(),
        key: s.has_key.then(|| format!("k{i}")),
        customer_number: s.has_number.then(|| format!("n{i}")),
        external_id: s.external_id.clone(),
        created_at: created,
        last_modified_at: if s.modified_later {
            created + Duration::milliseconds(1000)
        } else {
            created
        },
        last_modified_by: None,
        created_by: None,
        email: format!("{}{i}@{}", s.local, s.domain),
        password: None,
        first_name: s.first_name.clone(),
        last_name: s.last_name.clone(),
        middle_name: s.middle_name.clone(),
        title: s.title.clone(),
        date_of_birth: s.date_of_birth.map(|d| {
            let (y, m, day) = DATES[d];
            Date::from_calendar_date(y, m, day).unwrap()
        }),
        company_name: None,
        vat_id: None,
        addresses,
        default_shipping_address_id: None,
        shipping_address_ids: shipping,
        default_billing_address_id: None,
        billing_address_ids: Vec::new(),
        is_email_verified: s.verified,
        customer_group: None,
        customer_group_assignments: Vec::new(),
        custom: s.custom.as_ref().map(|fields| CustomFields {
            type_: Reference::new("type", type_id(scope)),
            fields: fields.iter().cloned().collect(),
        }),
        locale: None,
        salutation: None,
        stores: s
            .stores
            .iter()
            .map(|k| KeyReference {
                type_id: "store".to_owned(),
                key: k.clone(),
            })
            .collect(),
        authentication_mode: if s.external_auth {
            AuthenticationMode::ExternalAuth
        } else {
            AuthenticationMode::Password
        },
    }
}

// ---- random predicates ----------------------------------------------------------------------

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn str_lit(items: &'static [&'static str]) -> BoxedStrategy<String> {
    pick(items).prop_map(|s| quoted(&s)).boxed()
}

/// `"<prefix><n>"` literals such as `"k7"`, hitting the positional unique values.
fn numbered(prefix: &'static str) -> BoxedStrategy<String> {
    (0usize..32)
        .prop_map(move |n| quoted(&format!("{prefix}{n:02}")))
        .boxed()
}

fn positional(prefix: &'static str) -> BoxedStrategy<String> {
    (0usize..32)
        .prop_map(move |n| quoted(&format!("{prefix}{n}")))
        .boxed()
}

fn email_lit(lower: bool) -> BoxedStrategy<String> {
    (pick(LOCALS), 0usize..32, pick(DOMAINS))
        .prop_map(move |(l, n, d)| {
            let e = format!("{l}{n}@{d}");
            quoted(&if lower { e.to_lowercase() } else { e })
        })
        .boxed()
}

fn list_of(lit: BoxedStrategy<String>) -> BoxedStrategy<String> {
    proptest::collection::vec(lit, 1..4)
        .prop_map(|v| format!("({})", v.join(", ")))
        .boxed()
}

/// Comparisons, `[not] in`, `is [not] defined` on `field`.
fn scalar_leaf(field: &'static str, lit: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop_oneof![
        3 => (pick(&["=", "!=", "<", "<=", ">", ">="]), lit.clone())
            .prop_map(move |(op, v)| format!("{field} {op} {v}")),
        2 => (any::<bool>(), list_of(lit))
            .prop_map(move |(neg, l)| format!("{field} {}in {l}", if neg { "not " } else { "" })),
        1 => any::<bool>()
            .prop_map(move |neg| format!("{field} is {}defined", if neg { "not " } else { "" })),
    ]
    .boxed()
}

fn equality_leaf(field: &'static str, lit: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop_oneof![
        (pick(&["=", "!="]), lit.clone()).prop_map(move |(op, v)| format!("{field} {op} {v}")),
        (any::<bool>(), list_of(lit))
            .prop_map(move |(neg, l)| format!("{field} {}in {l}", if neg { "not " } else { "" })),
    ]
    .boxed()
}

fn boolean_tree(leaf: BoxedStrategy<String>, depth: u32) -> BoxedStrategy<String> {
    leaf.prop_recursive(depth, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" and ")),
            proptest::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" or "))),
            inner.prop_map(|a| format!("not({a})")),
        ]
    })
    .boxed()
}

fn address_predicate() -> BoxedStrategy<String> {
    boolean_tree(
        prop_oneof![
            scalar_leaf("country", str_lit(COUNTRIES)),
            scalar_leaf("city", str_lit(CITIES)),
            scalar_leaf("postalCode", str_lit(POSTAL_CODES)),
            scalar_leaf("key", str_lit(ADDRESS_KEYS)),
            scalar_leaf("id", str_lit(&["a00", "a10", "a11", "a21"])),
        ]
        .boxed(),
        2,
    )
}

fn store_predicate() -> BoxedStrategy<String> {
    let key = prop_oneof![4 => str_lit(STORES), 1 => str_lit(&["s3", ""])].boxed();
    prop_oneof![
        // The side-table forms.
        4 => key.clone().prop_map(|k| format!("key = {k}")),
        3 => list_of(key.clone()).prop_map(|l| format!("key in {l}")),
        // JSON forms.
        2 => scalar_leaf("key", key),
        1 => Just("typeId = \"store\"".to_owned()),
        1 => (str_lit(STORES), str_lit(&["store", "channel"]))
            .prop_map(|(k, t)| format!("key = {k} and typeId = {t}")),
    ]
    .boxed()
}

fn empty_test(field: &'static str) -> BoxedStrategy<String> {
    any::<bool>()
        .prop_map(move |n| format!("{field} is {}empty", if n { "not " } else { "" }))
        .boxed()
}

fn customer_leaf() -> BoxedStrategy<String> {
    prop_oneof![
        scalar_leaf("email", email_lit(false)),
        scalar_leaf("lowercaseEmail", email_lit(true)),
        scalar_leaf("firstName", str_lit(NAMES)),
        scalar_leaf("lastName", str_lit(NAMES)),
        scalar_leaf("middleName", str_lit(NAMES)),
        scalar_leaf("title", str_lit(TITLES)),
        scalar_leaf("key", positional("k")),
        scalar_leaf("customerNumber", positional("n")),
        scalar_leaf("externalId", str_lit(EXTERNAL_IDS)),
        scalar_leaf("id", numbered(ID_PREFIX)),
        scalar_leaf(
            "version",
            prop_oneof![
                (0i64..6).prop_map(|n| n.to_string()),
                Just("2.5".to_owned())
            ]
            .boxed()
        ),
        scalar_leaf("dateOfBirth", str_lit(DATE_LITERALS)),
        scalar_leaf("createdAt", str_lit(TIME_LITERALS)),
        scalar_leaf("lastModifiedAt", str_lit(TIME_LITERALS)),
        (pick(&["=", "!="]), pick(&["true", "false"]))
            .prop_map(|(op, v)| format!("isEmailVerified {op} {v}")),
        equality_leaf("authenticationMode", str_lit(&["Password", "ExternalAuth"])),
        scalar_leaf("shippingAddressIds", str_lit(&["a00", "a10", "a11", "a21"])),
        (
            pick(&["any", "all"]),
            list_of(str_lit(&["a00", "a01", "a10", "a11"]))
        )
            .prop_map(|(m, l)| format!("shippingAddressIds contains {m} {l}")),
        empty_test("shippingAddressIds"),
        address_predicate().prop_map(|p| format!("addresses({p})")),
        empty_test("addresses"),
        store_predicate().prop_map(|p| format!("stores({p})")),
        store_predicate().prop_map(|p| format!("not(stores({p}))")),
        empty_test("stores"),
    ]
    .boxed()
}

/// A test on a custom field, as `custom(fields(…))`: declared fields with literals of their
/// type, undeclared ones with any literal.
fn custom_leaf() -> BoxedStrategy<String> {
    let number = prop_oneof![
        (-3i64..7).prop_map(|n| n.to_string()),
        Just("2.5".to_owned()),
        Just("-0.5".to_owned())
    ]
    .boxed();
    let set_test = |field: &'static str, lit: BoxedStrategy<String>| {
        prop_oneof![
            scalar_leaf(field, lit.clone()),
            (pick(&["any", "all"]), list_of(lit))
                .prop_map(move |(m, l)| format!("{field} contains {m} {l}")),
            empty_test(field),
        ]
        .boxed()
    };
    let money = prop_oneof![
        scalar_leaf(
            "centAmount",
            prop_oneof![
                Just("100".to_owned()),
                Just("1250".to_owned()),
                number.clone()
            ]
            .boxed()
        ),
        scalar_leaf("currencyCode", str_lit(CURRENCIES)),
    ]
    .boxed();
    let money = (money.clone(), opt(money))
        .prop_map(|(a, b)| b.map_or(a.clone(), |b| format!("{a} and {b}")))
        .boxed();
    let any_lit = prop_oneof![
        number.clone(),
        str_lit(TAGS),
        Just("true".to_owned()),
        Just("false".to_owned())
    ]
    .boxed();
    let ordered_lit = prop_oneof![number.clone(), str_lit(TAGS)].boxed();
    prop_oneof![
        scalar_leaf("tier", str_lit(TIERS)),
        Just("tier in :tiers".to_owned()),
        scalar_leaf("score", number.clone()),
        Just("score >= :n".to_owned()),
        (pick(&["=", "!="]), pick(&["true", "false"])).prop_map(|(op, v)| format!("vip {op} {v}")),
        scalar_leaf("since", str_lit(DATE_LITERALS)),
        scalar_leaf(
            "opens",
            str_lit(&["09:00:00", "12:30:00.000", "23:59:59.9990"])
        ),
        Just("opens < :t".to_owned()),
        scalar_leaf("at", str_lit(TIME_LITERALS)),
        scalar_leaf("en", str_lit(NAMES)).prop_map(|l| format!("title({l})")),
        scalar_leaf("de", str_lit(NAMES)).prop_map(|l| format!("title({l})")),
        money.clone().prop_map(|l| format!("budget({l})")),
        scalar_leaf("id", str_lit(&["o1", "o2"])).prop_map(|l| format!("owner({l})")),
        set_test("labels", str_lit(TAGS)),
        set_test("scores", number.clone()),
        money.prop_map(|l| format!("budgets({l})")),
        empty_test("budgets"),
        // Undeclared: any literal, compared with values of its own JSON type.
        (pick(&["=", "!=", "<", ">="]), ordered_lit).prop_map(|(op, v)| format!("rank {op} {v}")),
        (pick(&["=", "!="]), pick(&["true", "false"])).prop_map(|(op, v)| format!("rank {op} {v}")),
        (pick(&["any", "all"]), list_of(any_lit))
            .prop_map(|(m, l)| format!("misc contains {m} {l}")),
        empty_test("misc"),
        scalar_leaf("centAmount", number).prop_map(|l| format!("misc({l})")),
    ]
    .prop_map(|l| format!("custom(fields({l}))"))
    .boxed()
}

fn customer_predicate() -> BoxedStrategy<String> {
    boolean_tree(
        prop_oneof![3 => customer_leaf(), 1 => custom_leaf()].boxed(),
        3,
    )
}

/// One query of a case: `where` (one or two parameters), an optional in-store restriction and a
/// sort (results are compared as sets, but every sort must compile and run).
#[derive(Debug, Clone)]
struct Probe {
    wheres: Vec<String>,
    store: Option<String>,
    sort: Option<String>,
}

fn probe() -> impl Strategy<Value = Probe> {
    (
        customer_predicate(),
        opt(customer_predicate()),
        prop_oneof![3 => Just(None), 1 => pick(STORES).prop_map(Some)],
        opt(pick(&[
            "lastName desc",
            "createdAt asc",
            "id desc",
            "email",
            "dateOfBirth desc",
            "custom.fields.score desc",
            "custom.fields.tier",
            "custom.fields.title.en",
            "custom.fields.budget.centAmount desc",
            "custom.fields.rank",
        ])),
    )
        .prop_map(|(p, q, store, sort)| Probe {
            wheres: std::iter::once(p).chain(q).collect(),
            store,
            sort,
        })
}

// ---- the property ---------------------------------------------------------------------------

/// Inserts the case's customers into a fresh project and compares every probe with the oracle.
async fn check_case(
    store: &Arc<dyn Store>,
    specs: &[Spec],
    probes: &[Probe],
) -> Result<(), TestCaseError> {
    let scope = new_scope();
    let project = format!("p{scope}");
    let customers: Vec<Customer> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| build(&scope, i, s))
        .collect();
    // What the customers may reference must exist in the project.
    crate::common::seed_stores(store, &project, STORES).await;
    crate::common::seed_resource(store, &project, "type", &type_id(&scope)).await;
    for c in &customers {
        store
            .insert_customer(&project, c, Vec::new())
            .await
            .map_err(|e| TestCaseError::fail(format!("insert {}: {e}", c.id)))?;
    }
    let docs: Vec<serde_json::Value> = customers
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    let schema = customer_schema();
    for p in probes {
        let wheres: Vec<String> = p
            .wheres
            .iter()
            .map(|w| w.replace(ID_PREFIX, &format!("{scope}-")))
            .collect();
        let predicate = parse_where_with(&wheres, &variables(), &schema, &custom_types())
            .map_err(|e| TestCaseError::fail(format!("{wheres:?}: {}", e.message)))?;
        let want: BTreeSet<&str> = customers
            .iter()
            .zip(&docs)
            .filter(|(c, doc)| {
                evaluate(&predicate, doc)
                    && p.store
                        .as_ref()
                        .is_none_or(|s| c.stores.is_empty() || c.stores.iter().any(|r| &r.key == s))
            })
            .map(|(c, _)| c.id.as_str())
            .collect();
        let sort =
            parse_sort_with(&Vec::from_iter(p.sort.clone()), &schema, &custom_types()).unwrap();
        let query = ResourceQuery {
            predicate: Some(predicate),
            sort,
            limit: 500,
            offset: 0,
            with_total: true,
            store: p.store.clone(),
        };
        let page = store
            .query_customers(&project, &query)
            .await
            .map_err(|e| TestCaseError::fail(format!("{wheres:?}: {e}")))?;
        let got: BTreeSet<&str> = page.results.iter().map(|c| c.id.as_str()).collect();
        prop_assert_eq!(&got, &want, "where {:?} store {:?}", wheres, p.store);
        // Compared as a set above; a customer listed twice must fail too.
        prop_assert_eq!(
            page.results.len(),
            want.len(),
            "rows of {:?} store {:?}",
            wheres,
            p.store
        );
        prop_assert_eq!(page.total, Some(want.len() as u64), "total of {:?}", wheres);
    }
    Ok(())
}

/// `default` cases, or `PROPTEST_CASES` when set: CI's longer oracle step raises it.
fn oracle_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn customer_queries_agree_with_the_oracle() {
    let rt = runtime();
    each_backend(&rt, |rt, store| {
        let mut runner = TestRunner::new(Config {
            cases: oracle_cases(48),
            // Shrinking re-inserts whole customer sets per step; the failing predicate is
            // readable enough as generated.
            max_shrink_iters: 64,
            ..Config::default()
        });
        let strategy = (
            CUSTOMERS.prop_flat_map(|n| proptest::collection::vec(spec(), n)),
            proptest::collection::vec(probe(), 8),
        );
        let result = runner.run(&strategy, |(specs, probes)| {
            rt.block_on(check_case(store, &specs, &probes))
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    });
}

// ---- paging ---------------------------------------------------------------------------------

#[test]
fn cursor_and_offset_paging_visit_every_customer_once() {
    let rt = runtime();
    each_backend(&rt, |rt, store| {
        rt.block_on(async {
            let scope = new_scope();
            let project = format!("p{scope}");
            let spec = Spec {
                has_key: false,
                has_number: false,
                external_id: None,
                local: "p".to_owned(),
                domain: "x.com".to_owned(),
                first_name: None,
                last_name: None,
                middle_name: None,
                title: None,
                date_of_birth: None,
                verified: false,
                external_auth: false,
                version: 1,
                created: 0,
                modified_later: false,
                addresses: Vec::new(),
                shipping_mask: Vec::new(),
                stores: Vec::new(),
                custom: None,
            };
            let mut ids = Vec::new();
            for i in 0..23 {
                let mut c = build(&scope, i, &spec);
                // Random ids, and creation times shared by three customers each, so ties in
                // the default order are broken by id.
                c.id = uuid::Uuid::new_v4().to_string();
                c.created_at = at((i / 3) as i64);
                store
                    .insert_customer(&project, &c, Vec::new())
                    .await
                    .unwrap();
                ids.push((format_datetime(c.created_at), c.id));
            }
            let schema = customer_schema();

            // Cursor paging: sort=id asc, where=id > "<last id of the previous page>".
            let mut seen = Vec::new();
            loop {
                let wheres: Vec<String> = seen
                    .last()
                    .map(|last: &String| format!("id > {}", quoted(last)))
                    .into_iter()
                    .collect();
                let query = ResourceQuery {
                    predicate: Some(parse_where(&wheres, &HashMap::new(), &schema).unwrap()),
                    sort: parse_sort(&["id asc".to_owned()], &schema).unwrap(),
                    limit: 5,
                    offset: 0,
                    with_total: false,
                    store: None,
                };
                let page = store.query_customers(&project, &query).await.unwrap();
                if page.results.is_empty() {
                    break;
                }
                seen.extend(page.results.into_iter().map(|c| c.id));
            }
            let mut by_id: Vec<String> = ids.iter().map(|(_, id)| id.clone()).collect();
            by_id.sort();
            assert_eq!(seen, by_id);

            // Offset paging in the default order (createdAt, then id), twice: stable.
            let mut default_order = ids.clone();
            default_order.sort();
            let want: Vec<String> = default_order.into_iter().map(|(_, id)| id).collect();
            for _ in 0..2 {
                let mut walked = Vec::new();
                for offset in (0..30).step_by(4) {
                    let query = ResourceQuery {
                        limit: 4,
                        offset,
                        with_total: true,
                        ..ResourceQuery::default()
                    };
                    let page = store.query_customers(&project, &query).await.unwrap();
                    assert_eq!(page.total, Some(23));
                    walked.extend(page.results.into_iter().map(|c| c.id));
                }
                assert_eq!(walked, want);
            }
        });
    });
}

// ---- messages -------------------------------------------------------------------------------

fn message(c: &Customer, resource_version: u64, ms: i64, payload: MessagePayload) -> Message {
    Message {
        id: uuid::Uuid::new_v4().to_string(),
        version: 1,
        sequence_number: 0,
        resource: Reference::new("customer", &c.id),
        resource_version,
        resource_user_provided_identifiers: None,
        created_at: at(ms),
        last_modified_at: at(ms),
        created_by: None,
        last_modified_by: None,
        payload,
    }
}

#[test]
fn message_queries_agree_with_the_oracle() {
    let rt = runtime();
    each_backend(&rt, |rt, store| {
        rt.block_on(async {
            let scope = new_scope();
            let project = format!("p{scope}");
            let spec = spec_for_messages();
            let mut customers = Vec::new();
            for i in 0..4 {
                let c = build(&scope, i, &spec);
                let base = i as i64 * 10_000;
                let mut messages = vec![message(
                    &c,
                    1,
                    base,
                    MessagePayload::CustomerCreated {
                        customer: Box::new(c.clone()),
                    },
                )];
                // Customer i gets i follow-up messages of varying types and versions.
                for j in 0..i {
                    let v = j as u64 + 2;
                    let payload = if j % 2 == 0 {
                        MessagePayload::CustomerLastNameSet {
                            last_name: Some(format!("L{j}")),
                        }
                    } else {
                        MessagePayload::CustomerFirstNameSet { first_name: None }
                    };
                    messages.push(message(&c, v, base + 1000 * v as i64, payload));
                }
                store.insert_customer(&project, &c, messages).await.unwrap();
                customers.push(c);
            }
            let schema = message_schema();
            let everything = ResourceQuery {
                limit: 500,
                ..ResourceQuery::default()
            };
            // The stored messages (with store-assigned sequence numbers) are the oracle's input.
            let all = store.query_messages(&project, &everything).await.unwrap().results;
            assert_eq!(all.len(), 1 + 2 + 3 + 4);
            let docs: Vec<serde_json::Value> =
                all.iter().map(|m| serde_json::to_value(m).unwrap()).collect();
            let id = |i: usize| quoted(&customers[i].id);
            let table: Vec<(String, usize)> = vec![
                (r#"type = "CustomerCreated""#.to_owned(), 4),
                (r#"type = "CustomerLastNameSet""#.to_owned(), 4),
                (r#"type in ("CustomerFirstNameSet", "CustomerLastNameSet")"#.to_owned(), 6),
                (r#"type != "CustomerCreated""#.to_owned(), 6),
                (format!("resource(id = {})", id(3)), 4),
                (format!("resource(id in ({}, {}))", id(1), id(2)), 5),
                (r#"resource(typeId = "customer")"#.to_owned(), 10),
                (format!("resource(id = {} and typeId = \"customer\")", id(2)), 3),
                ("resourceVersion >= 3".to_owned(), 3),
                ("resourceVersion = 1".to_owned(), 4),
                ("sequenceNumber = 1".to_owned(), 4),
                ("sequenceNumber > 2".to_owned(), 3),
                (format!("resource(id = {}) and sequenceNumber >= 2", id(3)), 3),
                (r#"createdAt >= "2022-09-19T14:34:55.000Z""#.to_owned(), 7),
                (
                    r#"createdAt > "2022-09-19T14:34:45.000Z" and createdAt < "2022-09-19T14:35:05.000Z""#
                        .to_owned(),
                    4,
                ),
                (r#"createdAt = "2022-09-19T14:35:07.000Z""#.to_owned(), 1),
                (
                    r#"not(type = "CustomerCreated") or resourceVersion = 1"#.to_owned(),
                    10,
                ),
                (
                    r#"(type = "CustomerLastNameSet" or sequenceNumber = 3) and not(resourceVersion > 3)"#
                        .to_owned(),
                    5,
                ),
                ("version = 1".to_owned(), 10),
                (r#"lastModifiedAt < "2022-09-19T14:34:56.000Z""#.to_owned(), 4),
            ];
            for (pred, count) in table {
                let predicate =
                    parse_where(std::slice::from_ref(&pred), &HashMap::new(), &schema).unwrap();
                let want: BTreeSet<&str> = all
                    .iter()
                    .zip(&docs)
                    .filter(|(_, d)| evaluate(&predicate, d))
                    .map(|(m, _)| m.id.as_str())
                    .collect();
                let query = ResourceQuery {
                    predicate: Some(predicate),
                    limit: 500,
                    with_total: true,
                    ..ResourceQuery::default()
                };
                let page = store.query_messages(&project, &query).await.unwrap();
                let got: BTreeSet<&str> = page.results.iter().map(|m| m.id.as_str()).collect();
                assert_eq!(got, want, "{pred}");
                // The hand count keeps the oracle honest (it would agree with a broken store
                // that returned nothing if it selected nothing too).
                assert_eq!(want.len(), count, "{pred}");
                assert_eq!(page.total, Some(count as u64), "{pred}");
            }
        });
    });
}

fn spec_for_messages() -> Spec {
    Spec {
        has_key: true,
        has_number: false,
        external_id: None,
        local: "m".to_owned(),
        domain: "x.com".to_owned(),
        first_name: None,
        last_name: None,
        middle_name: None,
        title: None,
        date_of_birth: None,
        verified: false,
        external_auth: false,
        version: 1,
        created: 0,
        modified_later: false,
        addresses: Vec::new(),
        shipping_mask: Vec::new(),
        stores: Vec::new(),
        custom: None,
    }
}
