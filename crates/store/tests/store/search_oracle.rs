//! Customer Search against its oracle: for random customers and random search requests, what
//! `Store::search_customers` returns (total, ids, order, relevance) equals
//! `clientele_query::search::search_in_memory` over the same customers' index entries, on
//! SQLite always and on PostgreSQL when `CLIENTELE_TEST_POSTGRES_URL` is set. Also: customers
//! written without index entries are indexed by `index_unindexed_customers`, and deletes leave
//! no entries behind.
//!
//! Each case writes into a project of its own, so cases cannot see each other's rows.

use std::sync::Arc;

use clientele_domain::{Address, Customer, Version};
use clientele_query::search::{index_entries, parse_search_request, search_in_memory};
use clientele_store::Store;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use time::{Date, Duration, Month, OffsetDateTime};

use crate::common::customer;
use crate::predicate_oracle::{each_backend, new_scope, runtime};

// "ΟΔΥΣΣΕΑΣ": 'Σ' lowercases by what follows it, which a case-sensitive prefix narrowed by
// the lowercase index must not trip over.
const FIRST: &[&str] = &["Ann", "ann", "Anna", "Bob", "Émile", "Zoë", "ΟΔΥΣΣΕΑΣ"];
const LAST: &[&str] = &["Miller", "Mueller", "Müller", "Smith", "Smyth", "van Dyke"];
const LOCALS: &[&str] = &["ann", "Ann.Lee", "bob", "Émile"];
const DOMAINS: &[&str] = &["x.com", "X.com", "y.org"];
const COMPANIES: &[&str] = &["Acme Corp", "acme", "Dyke & Sons"];
const CITIES: &[&str] = &["Berlin", "Paris", "Bern", "NYC"];
const COUNTRIES: &[&str] = &["DE", "FR", "US"];
const INSTANTS: &[&str] = &[
    "2022-09-19T14:34:35.000Z",
    "2022-09-19T14:34:35.843Z",
    "2022-09-20T00:00:00.000Z",
    "2023-01-01T12:00:00.000Z",
];

/// What varies between generated customers.
#[derive(Debug, Clone)]
struct Spec {
    first: Option<usize>,
    last: Option<usize>,
    local: usize,
    domain: usize,
    company: Option<usize>,
    verified: bool,
    birth_year: Option<i32>,
    created_ms: i64,
    addresses: Vec<(usize, usize)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::option::of(0..FIRST.len()),
        proptest::option::of(0..LAST.len()),
        0..LOCALS.len(),
        0..DOMAINS.len(),
        proptest::option::of(0..COMPANIES.len()),
        any::<bool>(),
        proptest::option::of(1970..2000i32),
        0..200_000_000i64,
        proptest::collection::vec((0..CITIES.len(), 0..COUNTRIES.len()), 0..3),
    )
        .prop_map(
            |(first, last, local, domain, company, verified, birth_year, created_ms, addresses)| {
                Spec {
                    first,
                    last,
                    local,
                    domain,
                    company,
                    verified,
                    birth_year,
                    created_ms,
                    addresses,
                }
            },
        )
}

fn build(scope: &str, i: usize, s: &Spec) -> Customer {
    let mut c = customer(
        &format!("{}{i}@{}", LOCALS[s.local], DOMAINS[s.domain]),
        &[],
    );
    c.id = format!("{scope}-{i:02}");
    c.version = Version::FIRST;
    c.first_name = s.first.map(|f| FIRST[f].to_owned());
    c.last_name = s.last.map(|l| LAST[l].to_owned());
    c.company_name = s.company.map(|k| COMPANIES[k].to_owned());
    c.is_email_verified = s.verified;
    c.date_of_birth = s
        .birth_year
        .map(|y| Date::from_calendar_date(y, Month::June, 15).unwrap());
    c.created_at = OffsetDateTime::from_unix_timestamp(1_663_598_075).unwrap()
        + Duration::milliseconds(s.created_ms);
    c.last_modified_at = c.created_at;
    c.addresses = s
        .addresses
        .iter()
        .enumerate()
        .map(|(j, (city, country))| Address {
            id: Some(format!("a{i}{j}")),
            city: Some(CITIES[*city].to_owned()),
            country: COUNTRIES[*country].to_owned(),
            ..Address::default()
        })
        .collect();
    c
}

fn pick(items: &'static [&'static str]) -> BoxedStrategy<Value> {
    proptest::sample::select(items)
        .prop_map(|s| json!(s))
        .boxed()
}

/// A random simple expression over the generated fields.
fn leaf() -> BoxedStrategy<Value> {
    let ci = any::<bool>();
    let boost = proptest::sample::select(&[None, Some(1.0), Some(2.0), Some(0.5)][..]);
    let must = proptest::sample::select(&["any", "all"][..]);
    let body = prop_oneof![
        (pick(FIRST), ci).prop_map(|(v, ci)| json!({"exact": {"field": "firstName", "value": v, "caseInsensitive": ci}})),
        proptest::collection::vec(pick(LAST), 1..3)
            .prop_map(|vs| json!({"exact": {"field": "lastName", "values": vs}})),
        any::<bool>().prop_map(|b| json!({"exact": {"field": "isEmailVerified", "value": b}})),
        pick(COUNTRIES).prop_map(|v| json!({"exact": {"field": "addresses.country", "value": v}})),
        (pick(&["a", "A", "ann", "Ann.", "é", "b", "ΟΔΥΣ", "ΟΔΥΣΣΕΑΣ", "Zo"]), ci, pick(&["email", "firstName"]))
            .prop_map(|(v, ci, f)| json!({"prefix": {"field": f, "value": v, "caseInsensitive": ci}})),
        (pick(&["*@x.com", "a*", "?nn*", "*X*", "B*n", "*"]), ci, pick(&["email", "addresses.city"]))
            .prop_map(|(v, ci, f)| json!({"wildcard": {"field": f, "value": v, "caseInsensitive": ci}})),
        (pick(&["ann", "bob ann", "x com", "émile", "acme sons", "miller"]), must.clone())
            .prop_map(|(v, m)| json!({"fullText": {"field": "all", "value": v, "mustMatch": m}})),
        (pick(&["an", "sm", "van d", "mü"]), pick(&["lastName", "fullName", "all"]))
            .prop_map(|(v, f)| json!({"fullTextPrefix": {"field": f, "value": v}})),
        (pick(&["Miler", "Mueler", "smith", "Dike", "Anne"]), 0..3u8, must, pick(&["lastName", "all"]))
            .prop_map(|(v, l, m, f)| json!({"fuzzy": {"field": f, "value": v, "level": l, "mustMatch": m}})),
        (pick(INSTANTS), pick(&["gte", "gt", "lt", "lte"]))
            .prop_map(|(v, op)| json!({"range": {"field": "createdAt", op.as_str().unwrap(): v}})),
        (1970..2000i32).prop_map(|y| json!({"range": {"field": "dateOfBirth", "lt": format!("{y}-06-15")}})),
        pick(&["companyName", "addresses.city", "firstName", "dateOfBirth"])
            .prop_map(|f| json!({"exists": {"field": f}})),
    ];
    (body, boost)
        .prop_map(|(mut q, boost)| {
            if let (Some(b), Some(obj)) = (boost, q.as_object_mut()) {
                for v in obj.values_mut() {
                    v["boost"] = json!(b);
                }
            }
            q
        })
        .boxed()
}

fn query() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(2, 12, 3, |inner| {
            (
                proptest::sample::select(&["and", "or", "not", "filter"][..]),
                proptest::collection::vec(inner, 1..4),
            )
                .prop_map(|(k, parts)| json!({ k: parts }))
        })
        .boxed()
}

fn request() -> impl Strategy<Value = Value> {
    let sort = prop_oneof![
        Just(None),
        (
            pick(&[
                "lastName",
                "createdAt",
                "addresses.city",
                "score",
                "dateOfBirth"
            ]),
            pick(&["asc", "desc"]),
            proptest::option::of(pick(&["min", "max"])),
        )
            .prop_map(|(f, o, m)| {
                let mut s = json!({"field": f, "order": o});
                if let Some(m) = m {
                    if f != "score" {
                        s["mode"] = m;
                    }
                }
                Some(json!([s]))
            }),
    ];
    (proptest::option::of(query()), sort, 1..12u32, 0..12u32).prop_map(
        |(q, sort, limit, offset)| {
            let mut r = json!({"limit": limit, "offset": offset});
            if let Some(q) = q {
                r["query"] = q;
            }
            if let Some(s) = sort {
                r["sort"] = s;
            }
            r
        },
    )
}

async fn check_case(
    store: &Arc<dyn Store>,
    specs: &[(Spec, Option<Spec>)],
    requests: &[Value],
) -> Result<(), TestCaseError> {
    let scope = new_scope();
    let project = format!("p{scope}");
    crate::common::project_with_search(store, &project).await;
    let mut docs = Vec::new();
    for (i, (s, then)) in specs.iter().enumerate() {
        let mut c = build(&scope, i, s);
        store.insert_customer(&project, &c, vec![]).await.unwrap();
        // Some customers are updated once: half of them through the path of a caller that
        // read the customer (only the index entries that differ are rewritten), half without.
        if let Some(then) = then {
            let mut c2 = build(&scope, i, then);
            c2.version = Version::FIRST.next();
            c2.created_at = c.created_at;
            c2.last_modified_at = c.created_at + Duration::seconds(1);
            if i % 2 == 0 {
                store
                    .update_customer_from(&project, &c, &c2, Version::FIRST, vec![])
                    .await
                    .unwrap();
            } else {
                store
                    .update_customer(&project, &c2, Version::FIRST, vec![])
                    .await
                    .unwrap();
            }
            c = c2;
        }
        docs.push((
            c.id.clone(),
            index_entries(&serde_json::to_value(&c).unwrap()),
        ));
    }
    for body in requests {
        let request = parse_search_request(body).unwrap();
        let page = store.search_customers(&project, &request).await.unwrap();
        let (total, want) = search_in_memory(&request, &docs);
        let got: Vec<(String, f64)> = page
            .results
            .iter()
            .map(|h| (h.id.clone(), h.relevance))
            .collect();
        let want: Vec<(String, f64)> = want.into_iter().map(|h| (h.id, h.relevance)).collect();
        prop_assert_eq!(page.total, Some(total), "total of {}", body);
        prop_assert_eq!(got, want, "page of {}", body);
    }
    Ok(())
}

#[test]
fn customer_searches_agree_with_the_oracle() {
    let rt = runtime();
    each_backend(&rt, |rt, store| {
        let mut runner = TestRunner::new(Config {
            cases: 40,
            max_shrink_iters: 64,
            ..Config::default()
        });
        let strategy = (
            proptest::collection::vec((spec(), proptest::option::of(spec())), 10..25),
            proptest::collection::vec(request(), 10),
        );
        let result = runner.run(&strategy, |(specs, requests)| {
            rt.block_on(check_case(store, &specs, &requests))
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    });
}

#[test]
fn deleted_customers_leave_the_index_and_progress_counts_every_customer() {
    let rt = runtime();
    each_backend(&rt, |rt, store| {
        rt.block_on(async {
            let scope = new_scope();
            let project = format!("p{scope}");
            crate::common::project_with_search(store, &project).await;
            let spec = Spec {
                first: Some(0),
                last: Some(0),
                local: 0,
                domain: 0,
                company: None,
                verified: false,
                birth_year: None,
                created_ms: 0,
                addresses: vec![(0, 0)],
            };
            for i in 0..3 {
                store
                    .insert_customer(&project, &build(&scope, i, &spec), vec![])
                    .await
                    .unwrap();
            }
            assert_eq!(store.search_index_progress(&project).await.unwrap(), (3, 3));
            // Everything written through the store is indexed already.
            assert_eq!(
                store.index_unindexed_customers(&project, 10).await.unwrap(),
                0
            );
            store
                .delete_customer(
                    &project,
                    &format!("{scope}-01"),
                    Version::FIRST,
                    false,
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(store.search_index_progress(&project).await.unwrap(), (2, 2));
            let all = parse_search_request(
                &json!({"query": {"fullText": {"field": "all", "value": "ann"}}}),
            )
            .unwrap();
            let page = store.search_customers(&project, &all).await.unwrap();
            assert_eq!(page.total, Some(2));
            let ids: Vec<String> = page.results.into_iter().map(|h| h.id).collect();
            assert_eq!(ids, vec![format!("{scope}-00"), format!("{scope}-02")]);
        });
    });
}

/// An update that replaces many addresses at once changes more index pairs than are deleted
/// one by one (here over 16,000: one statement deleting each pair would bind more arguments
/// than SQLite takes): the customer's entries are then replaced whole, and searches see exactly
/// the new addresses.
#[test]
fn an_update_replacing_many_addresses_reindexes_the_customer() {
    let rt = runtime();
    each_backend(&rt, |rt, store| {
        rt.block_on(async {
            let scope = new_scope();
            let project = format!("p{scope}");
            crate::common::project_with_search(store, &project).await;
            let addresses = |city: &str| -> Vec<Address> {
                (0..4200)
                    .map(|j| Address {
                        id: Some(format!("a{j}")),
                        city: Some(format!("{city}{j}town")),
                        country: "DE".to_owned(),
                        ..Address::default()
                    })
                    .collect()
            };
            let mut c = customer(&format!("{scope}@x.com"), &[]);
            c.id = format!("{scope}-00");
            c.addresses = addresses("Old");
            store.insert_customer(&project, &c, vec![]).await.unwrap();
            let mut c2 = c.clone();
            c2.version = Version::FIRST.next();
            c2.addresses = addresses("New");
            store
                .update_customer_from(&project, &c, &c2, Version::FIRST, vec![])
                .await
                .unwrap();
            let city = |name: &str| {
                parse_search_request(
                    &json!({"query": {"exact": {"field": "addresses.city", "value": name}}}),
                )
                .unwrap()
            };
            let found = |page: clientele_store::Page<clientele_query::search::SearchHit>| {
                page.results.into_iter().map(|h| h.id).collect::<Vec<_>>()
            };
            let new = store.search_customers(&project, &city("New4199town")).await;
            assert_eq!(found(new.unwrap()), vec![c.id.clone()]);
            let old = store.search_customers(&project, &city("Old0town")).await;
            assert!(found(old.unwrap()).is_empty());
            let fulltext = parse_search_request(
                &json!({"query": {"fullText": {"field": "addresses.city", "value": "old17town"}}}),
            )
            .unwrap();
            let old_term = store.search_customers(&project, &fulltext).await;
            assert!(found(old_term.unwrap()).is_empty(), "old terms are gone");
        });
    });
}
