//! Importing one customer (`clientele import`): upsert a `CustomerDraft`-shaped line through the
//! same domain rules, reference resolution, store checks and Messages as the API.
//!
//! A line matches an existing customer by the exported `id`, else by `key`, else (lines without
//! a key) by email in its scope. No match: the customer is created as `POST /customers` would
//! (with `CustomerCreated`); an exported customer keeps its id, version, timestamps, address
//! ids and password (the hash with `--with-credentials`; without it the customer has no
//! password and must reset it). A match: the line is the customer's whole new state; the differences become
//! the update actions a client would send (so validation and Messages are the API's), and no
//! difference means no write, which makes re-running an import converge. Updates never touch
//! the password, `isEmailVerified` or `authenticationMode` (no update action sets them freely).
//!
//! Lines are matched many at a time ([`existing`]), planned one by one ([`plan_customer`]:
//! validation, hashing) and written
//! many at a time ([`commit`]: one store transaction for a batch, a refused write failing only
//! its own line). References are resolved once per import run ([`References`]): Stores,
//! Customer Groups and Types do not change while an import runs, and the store still checks
//! that each one exists when it writes.
//!
//! This module must not read files or talk HTTP (that is `crate::transfer`), nor SQL.

use super::customers::{pending_hash, settle_password};
use super::references::resolve;
use super::{envelopes, Actor};
use crate::error::ApiError;
use crate::state::AppState;
use clientele_domain::{
    apply_all_with, create_customer_with, ApplyContext, AuthenticationMode, ClientLogging,
    Customer, CustomerDraft, CustomerUpdateAction, DomainError, MessagePayload, PasswordHash,
    Project, Resolved, Version, Wanted,
};
use clientele_store::{CustomerLookup, CustomerWrite, StoreError};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// What an exported customer carries over into the target database unchanged.
#[derive(Debug, Clone)]
pub struct Preserved {
    /// The customer's id.
    pub id: String,
    /// Its version.
    pub version: Version,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was last changed.
    pub last_modified_at: OffsetDateTime,
    /// Who created it.
    pub created_by: Option<ClientLogging>,
    /// Who last changed it.
    pub last_modified_by: Option<ClientLogging>,
    /// Its address ids, in order.
    pub address_ids: Vec<String>,
    /// The password hash (with credentials) or its masked form; `None` when it had none.
    pub password: Option<PasswordHash>,
}

/// What an import line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new customer was created.
    Imported,
    /// An existing customer was changed.
    Updated,
    /// An existing customer already had this state; nothing was written.
    Unchanged,
}

/// What a line will write, decided before anything is written.
#[derive(Debug)]
pub enum Plan {
    /// The customer already has the line's state; nothing to write.
    Unchanged,
    /// A write, and what it makes of the line once stored.
    Write {
        /// `Imported` for an insert, `Updated` for an update.
        outcome: Outcome,
        /// The store write (boxed: a customer is large, and most plans of a re-run are
        /// `Unchanged`).
        write: Box<CustomerWrite>,
    },
}

/// References resolved during one import run, by what a line wants.
#[derive(Debug, Default)]
pub struct References {
    cache: Mutex<HashMap<String, Resolved>>,
}

impl References {
    /// What `wanted` names, from the cache or (once per distinct list) from the store.
    async fn resolve(
        &self,
        state: &AppState,
        project: &str,
        wanted: &Wanted,
    ) -> Result<Resolved, ApiError> {
        if wanted.is_empty() {
            return Ok(Resolved::default());
        }
        let key = format!("{wanted:?}");
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(hit);
        }
        let resolved = resolve(state, project, wanted).await?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, resolved.clone());
        }
        Ok(resolved)
    }
}

/// Stands in for a missing password while the domain validates a `Password`-mode draft; it is
/// never hashed nor stored (the customer is stored without a password and must reset it).
const NO_PASSWORD: &str = "\u{0}clientele-import-without-password";

/// Runs `f` with an [`ApplyContext`] whose address ids come from `ids` first, and whose
/// password callback only remembers the password (hashed later by `settle_password`).
fn in_context<T>(
    state: &AppState,
    project: &Project,
    now: OffsetDateTime,
    ids: Vec<String>,
    f: impl FnOnce(&mut ApplyContext<'_>) -> Result<T, DomainError>,
) -> Result<(T, Option<String>), DomainError> {
    let random = state.random.clone();
    let mut ids = ids.into_iter();
    let mut new_id = move || ids.next().unwrap_or_else(|| random.uuid());
    let mut requested: Option<String> = None;
    let result = {
        let mut hash_password = |plain: &str| {
            requested = Some(plain.to_owned());
            Ok(pending_hash())
        };
        let mut ctx = ApplyContext {
            project,
            now,
            new_id: &mut new_id,
            hash_password: &mut hash_password,
        };
        f(&mut ctx)?
    };
    Ok((result, requested))
}

/// The customers that lines match (see the module documentation), in order: two store reads
/// for all of them (exported ids first, then keys or emails of the lines not found by id)
/// instead of up to two per line.
pub async fn existing(
    state: &AppState,
    project: &str,
    lines: &[(&CustomerDraft, Option<&Preserved>)],
) -> Result<Vec<Option<Customer>>, ApiError> {
    let mut slots: Vec<usize> = Vec::new();
    let mut lookups: Vec<CustomerLookup> = Vec::new();
    for (i, (_, preserved)) in lines.iter().enumerate() {
        if let Some(p) = preserved {
            slots.push(i);
            lookups.push(CustomerLookup::Id(p.id.clone()));
        }
    }
    let mut found: Vec<Option<Customer>> = vec![None; lines.len()];
    for (slot, customer) in slots
        .iter()
        .zip(state.store.get_customers(project, &lookups).await?)
    {
        if let Some(f) = found.get_mut(*slot) {
            *f = customer;
        }
    }
    let (mut slots, mut lookups) = (Vec::new(), Vec::new());
    for (i, (draft, _)) in lines.iter().enumerate() {
        if found.get(i).is_some_and(Option::is_some) {
            continue;
        }
        slots.push(i);
        lookups.push(match &draft.key {
            Some(key) => CustomerLookup::Key(key.clone()),
            None => CustomerLookup::Email {
                email: draft.email.clone(),
                store: draft
                    .stores
                    .as_ref()
                    .and_then(|s| s.first())
                    .and_then(|s| s.key.clone()),
            },
        });
    }
    for (slot, customer) in slots
        .iter()
        .zip(state.store.get_customers(project, &lookups).await?)
    {
        if let Some(f) = found.get_mut(*slot) {
            *f = customer;
        }
    }
    Ok(found)
}

/// Writes the plans' writes in one store transaction; each plan's own result, in order.
pub async fn commit(
    state: &AppState,
    project: &str,
    plans: Vec<Plan>,
) -> Vec<Result<Outcome, ApiError>> {
    let mut results: Vec<Result<Outcome, ApiError>> = Vec::with_capacity(plans.len());
    let mut writes = Vec::new();
    // Per write: its slot in `results` and what to say when the store refuses it.
    let mut slots: Vec<(usize, Option<(String, u64)>)> = Vec::new();
    for plan in plans {
        match plan {
            Plan::Unchanged => results.push(Ok(Outcome::Unchanged)),
            Plan::Write { outcome, write } => {
                let subject = match write.as_ref() {
                    CustomerWrite::Insert { .. } => None,
                    CustomerWrite::Update {
                        customer, expected, ..
                    } => Some((customer.id.clone(), expected.get())),
                };
                slots.push((results.len(), subject));
                results.push(Ok(outcome));
                writes.push(*write);
            }
        }
    }
    if writes.is_empty() {
        return results;
    }
    let refused = |e: StoreError, subject: &Option<(String, u64)>| match subject {
        None => ApiError::from(e),
        Some((id, expected)) => super::customers::write_error(e, id, *expected),
    };
    match state.store.write_customers(project, writes).await {
        Ok(outcomes) => {
            for ((slot, subject), outcome) in slots.iter().zip(outcomes) {
                if let (Err(e), Some(r)) = (outcome, results.get_mut(*slot)) {
                    *r = Err(refused(e, subject));
                }
            }
        }
        // The store writes a failed batch again write by write, so this is only reached when
        // it could not start at all; every write gets that error as it is.
        Err(e) => {
            for (slot, _) in &slots {
                if let Some(r) = results.get_mut(*slot) {
                    *r = Err(ApiError::from(e.clone()));
                }
            }
        }
    }
    results
}

/// Decides what the line `draft` describes does (see the module documentation), given the
/// customer it matches ([`existing`]): validates and hashes as the API does, and returns the
/// write.
pub async fn plan_customer(
    state: &AppState,
    project: &Project,
    actor: &Actor,
    references: &References,
    (mut draft, preserved): (CustomerDraft, Option<Preserved>),
    current: Option<Customer>,
) -> Result<Plan, ApiError> {
    let now = state.clock.now();
    let without_password = draft.password.as_deref().is_none_or(str::is_empty)
        && draft.authentication_mode.unwrap_or_default() == AuthenticationMode::Password;
    if without_password {
        draft.password = Some(NO_PASSWORD.to_owned());
    }
    let resolved = references
        .resolve(state, &project.key, &Wanted::for_draft(&draft))
        .await?;
    let (id, ids) = match (&current, &preserved) {
        (Some(c), _) => (
            c.id.clone(),
            c.addresses.iter().filter_map(|a| a.id.clone()).collect(),
        ),
        (None, Some(p)) => (p.id.clone(), p.address_ids.clone()),
        (None, None) => (state.random.time_ordered_uuid(now), Vec::new()),
    };
    let ((mut target, payloads), requested) = in_context(state, project, now, ids, |ctx| {
        create_customer_with(draft, id, ctx, &resolved)
    })?;
    match current {
        None => {
            match preserved {
                Some(p) => {
                    target.version = p.version;
                    target.created_at = p.created_at;
                    target.last_modified_at = p.last_modified_at;
                    target.created_by = p.created_by;
                    target.last_modified_by = p.last_modified_by;
                    // A masked password (exported without credentials, or read through an
                    // API) cannot verify anything: the customer is stored without one.
                    target.password = p
                        .password
                        .filter(|h| !h.is_masked_only())
                        .filter(|_| target.authentication_mode == AuthenticationMode::Password);
                }
                None => {
                    if without_password {
                        target.password = None;
                    } else {
                        settle_password(state, &mut target, requested).await?;
                    }
                    target.created_by = Some(actor.logging());
                    target.last_modified_by = Some(actor.logging());
                }
            }
            let payloads = payloads
                .into_iter()
                .map(|p| match p {
                    MessagePayload::CustomerCreated { .. } => MessagePayload::CustomerCreated {
                        customer: Box::new(target.clone()),
                    },
                    other => other,
                })
                .collect();
            let messages = envelopes(state, &target, target.version.get(), payloads, actor, now);
            Ok(Plan::Write {
                outcome: Outcome::Imported,
                write: Box::new(CustomerWrite::Insert {
                    customer: target,
                    messages,
                }),
            })
        }
        Some(current) => update_to(state, project, actor, references, current, &target, now).await,
    }
}

/// The write that changes `current` into `target` with the update actions a client would send.
async fn update_to(
    state: &AppState,
    project: &Project,
    actor: &Actor,
    references: &References,
    current: Customer,
    target: &Customer,
    now: OffsetDateTime,
) -> Result<Plan, ApiError> {
    let actions = diff(&current, target)?;
    if actions.is_empty() {
        return Ok(Plan::Unchanged);
    }
    let expected = current.version;
    let resolved: Resolved = references
        .resolve(state, &project.key, &Wanted::for_update(&current, &actions))
        .await?;
    // Added addresses get the ids the target was built with, so a re-run compares equal.
    let new_ids = target
        .addresses
        .iter()
        .skip(current.addresses.len())
        .filter_map(|a| a.id.clone())
        .collect();
    let ((mut next, payloads), _) = in_context(state, project, now, new_ids, |ctx| {
        apply_all_with(current, &actions, ctx, &resolved)
    })?;
    if next.version == expected {
        return Ok(Plan::Unchanged);
    }
    next.last_modified_by = Some(actor.logging());
    let messages = envelopes(state, &next, next.version.get(), payloads, actor, now);
    Ok(Plan::Write {
        outcome: Outcome::Updated,
        write: Box::new(CustomerWrite::Update {
            customer: next,
            expected,
            messages,
        }),
    })
}

fn to_object(customer: &Customer) -> Result<Map<String, Value>, ApiError> {
    match serde_json::to_value(customer) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::Internal("a customer is not a JSON object".into())),
        Err(e) => Err(ApiError::Internal(format!("serialize customer: {e}"))),
    }
}

/// `{"typeId": …, "id": …}` of a reference, without any expansion.
fn reference(value: &Value) -> Value {
    json!({"typeId": value["typeId"], "id": value["id"]})
}

/// The update actions that turn `current` into `target`, in an order the domain accepts:
/// fields, then addresses (changed in place, removed, added), then address roles.
fn diff(current: &Customer, target: &Customer) -> Result<Vec<CustomerUpdateAction>, ApiError> {
    let cur = to_object(current)?;
    let tgt = to_object(target)?;
    let get = |m: &Map<String, Value>, k: &str| m.get(k).cloned().unwrap_or(Value::Null);
    let mut actions: Vec<Value> = Vec::new();
    let mut set = |action: &str, field: &str| {
        let (c, t) = (get(&cur, field), get(&tgt, field));
        if c != t {
            let mut a = json!({ "action": action });
            if !t.is_null() {
                a[field] = t;
            }
            actions.push(a);
        }
    };
    set("setKey", "key");
    set("setCustomerNumber", "customerNumber");
    set("setExternalId", "externalId");
    set("setFirstName", "firstName");
    set("setLastName", "lastName");
    set("setMiddleName", "middleName");
    set("setTitle", "title");
    set("setSalutation", "salutation");
    set("setDateOfBirth", "dateOfBirth");
    set("setCompanyName", "companyName");
    set("setVatId", "vatId");
    set("setLocale", "locale");
    if current.email != target.email {
        actions.push(json!({"action": "changeEmail", "email": target.email}));
    }
    if get(&cur, "customerGroup") != get(&tgt, "customerGroup") {
        let mut a = json!({"action": "setCustomerGroup"});
        if let Some(g) = tgt.get("customerGroup").filter(|g| !g.is_null()) {
            a["customerGroup"] = reference(g);
        }
        actions.push(a);
    }
    if get(&cur, "customerGroupAssignments") != get(&tgt, "customerGroupAssignments") {
        let list: Vec<Value> = target
            .customer_group_assignments
            .iter()
            .map(|a| json!({"customerGroup": {"typeId": "customer-group", "id": a.customer_group.id}}))
            .collect();
        actions.push(
            json!({"action": "setCustomerGroupAssignments", "customerGroupAssignments": list}),
        );
    }
    if get(&cur, "stores") != get(&tgt, "stores") {
        actions.push(json!({"action": "setStores", "stores": get(&tgt, "stores")}));
    }
    if get(&cur, "custom") != get(&tgt, "custom") {
        let mut a = json!({"action": "setCustomType"});
        if let Some(c) = tgt.get("custom").filter(|c| !c.is_null()) {
            a["type"] = reference(&c["type"]);
            a["fields"] = c["fields"].clone();
        }
        actions.push(a);
    }
    // Addresses: the target was built with the current ids in order, so equal positions with
    // equal content compare equal.
    let (ca, ta) = (&current.addresses, &target.addresses);
    for (c, t) in ca.iter().zip(ta.iter()) {
        if c != t {
            actions.push(json!({"action": "changeAddress", "addressId": c.id, "address": t}));
        }
    }
    for c in ca.iter().skip(ta.len()) {
        actions.push(json!({"action": "removeAddress", "addressId": c.id}));
    }
    for t in ta.iter().skip(ca.len()) {
        actions.push(json!({"action": "addAddress", "address": t}));
    }
    let kept: Vec<&String> = ta.iter().filter_map(|a| a.id.as_ref()).collect();
    roles(
        &mut actions,
        (
            "setDefaultShippingAddress",
            "addShippingAddressId",
            "removeShippingAddressId",
        ),
        (
            &current.default_shipping_address_id,
            &current.shipping_address_ids,
        ),
        (
            &target.default_shipping_address_id,
            &target.shipping_address_ids,
        ),
        &kept,
    );
    roles(
        &mut actions,
        (
            "setDefaultBillingAddress",
            "addBillingAddressId",
            "removeBillingAddressId",
        ),
        (
            &current.default_billing_address_id,
            &current.billing_address_ids,
        ),
        (
            &target.default_billing_address_id,
            &target.billing_address_ids,
        ),
        &kept,
    );
    serde_json::from_value(Value::Array(actions))
        .map_err(|e| ApiError::Internal(format!("import built an invalid update action: {e}")))
}

/// Actions for one address role (shipping or billing): the listed ids, then the default.
fn roles(
    actions: &mut Vec<Value>,
    (set_default, add, remove): (&str, &str, &str),
    (cur_default, cur_ids): (&Option<String>, &Vec<String>),
    (tgt_default, tgt_ids): (&Option<String>, &Vec<String>),
    kept: &[&String],
) {
    for id in tgt_ids.iter().filter(|id| !cur_ids.contains(id)) {
        actions.push(json!({"action": add, "addressId": id}));
    }
    // Ids of removed addresses are gone from every role already (removeAddress did that).
    for id in cur_ids
        .iter()
        .filter(|id| !tgt_ids.contains(id) && kept.contains(id))
    {
        actions.push(json!({"action": remove, "addressId": id}));
    }
    let cur_default = cur_default.as_ref().filter(|id| kept.contains(id));
    if cur_default != tgt_default.as_ref() {
        let mut a = json!({ "action": set_default });
        if let Some(id) = tgt_default {
            a["addressId"] = json!(id);
        }
        actions.push(a);
    }
}
