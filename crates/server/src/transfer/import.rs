//! `clientele import FILE|-`: reads NDJSON lines, turns each into a `CustomerDraft` (plus what
//! an exported customer preserves) and hands it to `service::import`, several lines at once so
//! password hashing keeps every core busy. A bad line is reported as
//! `line N: <code> <message>` and the import goes on; the summary counts imported, updated,
//! unchanged and failed lines, and any failure makes the exit status non-zero.
//!
//! Lines are matched with the customers they update up to 500 at a time (two store reads for
//! all of them), planned concurrently (validation, password hashing) and their writes committed
//! a batch at a time in one store transaction, so the cost of a commit is shared by up to
//! `--batch-size` lines (never more: lines waiting, being planned and planned all count).
//!
//! A batch commits on a task of its own while the next batch is read, matched and planned, so
//! the database and the planning each keep a core busy; batches still commit one at a time, in
//! file order. Lines naming the same customer are never in flight together: each line holds
//! its id, key and email and, once matched, the id, key and email of the customer it matched,
//! until its batch committed. A line naming something held commits its batch and waits for
//! every commit first, so a file that changes one customer twice applies the changes in file
//! order and each line is matched and planned against what the lines before it wrote.

use super::progress::Progress;
use super::{open_for_import, ImportArgs};
use crate::cli::CliResult;
use crate::error::ApiError;
use crate::service::import::{
    commit, existing, plan_customer, Outcome, Plan, Preserved, References,
};
use crate::service::Actor;
use crate::state::AppState;
use clientele_domain::{Customer, CustomerDraft, DomainError, PasswordHash, Project};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use tokio::task::{JoinHandle, JoinSet};

/// The client id the import writes as `createdBy` / `lastModifiedBy` and in Messages.
pub const IMPORT_CLIENT_ID: &str = "clientele-import";

/// Turns one line into a draft and, for an exported customer, what it preserves. Accepted:
/// a `CustomerDraft`; an exported customer (has `id`, `version` and `createdAt`; with
/// `passwordHash` when exported `--with-credentials`); an Import API `CustomerImport`
/// (references by key, typed custom field values `{"type": …, "value": …}`).
pub fn parse_line(text: &str) -> Result<(CustomerDraft, Option<Preserved>), ApiError> {
    let bad = |detail: String| ApiError::invalid_json(detail);
    let value: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let Some(object) = value.as_object() else {
        return Err(bad("a line must be a JSON object".to_owned()));
    };
    let exported = ["id", "version", "createdAt"]
        .iter()
        .all(|f| object.contains_key(*f));
    let (mut draft, preserved) = if exported {
        // Read from the parsed line in place rather than from a copy of it.
        let customer = Customer::deserialize(&value)
            .map_err(|e| bad(format!("not an exported customer: {e}")))?;
        let password = match object.get("passwordHash").and_then(Value::as_str) {
            Some(phc) => Some(PasswordHash::from_phc(phc.to_owned())),
            None => customer.password.clone(),
        };
        let preserved = Preserved {
            id: customer.id.clone(),
            version: customer.version,
            created_at: customer.created_at,
            last_modified_at: customer.last_modified_at,
            created_by: customer.created_by.clone(),
            last_modified_by: customer.last_modified_by.clone(),
            address_ids: customer
                .addresses
                .iter()
                .filter_map(|a| a.id.clone())
                .collect(),
            password,
        };
        (draft_of_exported(object), Some(preserved))
    } else {
        match value {
            Value::Object(object) => (object, None),
            _ => return Err(bad("a line must be a JSON object".to_owned())),
        }
    };
    unwrap_typed_fields(draft.get_mut("custom"));
    if let Some(Value::Array(addresses)) = draft.get_mut("addresses") {
        for address in addresses {
            unwrap_typed_fields(address.get_mut("custom"));
        }
    }
    let draft: CustomerDraft = serde_json::from_value(Value::Object(draft))
        .map_err(|e| bad(format!("not a customer draft: {e}")))?;
    Ok((draft, preserved))
}

/// A reference as a draft's ResourceIdentifier: by the expanded object's key when the export
/// carried one (a migration maps ids of the source to the target by key), else by id.
fn identifier(reference: &Value) -> Value {
    let mut out = Map::new();
    out.insert("typeId".to_owned(), reference["typeId"].clone());
    match reference["obj"]["key"].as_str() {
        Some(key) => out.insert("key".to_owned(), Value::from(key)),
        None => out.insert("id".to_owned(), reference["id"].clone()),
    };
    Value::Object(out)
}

fn custom_draft(custom: &Value) -> Value {
    let mut out = custom.clone();
    if let Some(map) = out.as_object_mut() {
        map.insert("type".to_owned(), identifier(&custom["type"]));
    }
    out
}

/// The draft that recreates an exported customer (address ids become indices).
fn draft_of_exported(c: &Map<String, Value>) -> Map<String, Value> {
    const COPIED: [&str; 16] = [
        "key",
        "customerNumber",
        "externalId",
        "email",
        "firstName",
        "lastName",
        "middleName",
        "title",
        "dateOfBirth",
        "companyName",
        "vatId",
        "isEmailVerified",
        "locale",
        "salutation",
        "authenticationMode",
        "stores",
    ];
    let mut d: Map<String, Value> = COPIED
        .iter()
        .filter_map(|f| Some(((*f).to_owned(), c.get(*f)?.clone())))
        .collect();
    let addresses: Vec<Value> = c
        .get("addresses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let index = |id: &Value| addresses.iter().position(|a| &a["id"] == id);
    let drafts: Vec<Value> = addresses
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if let Some(map) = a.as_object_mut() {
                map.remove("id");
                if let Some(custom) = map.get("custom").cloned() {
                    map.insert("custom".to_owned(), custom_draft(&custom));
                }
            }
            a
        })
        .collect();
    d.insert("addresses".to_owned(), Value::Array(drafts));
    for (from, to) in [
        ("defaultShippingAddressId", "defaultShippingAddress"),
        ("defaultBillingAddressId", "defaultBillingAddress"),
    ] {
        if let Some(i) = c.get(from).and_then(index) {
            d.insert(to.to_owned(), Value::from(i));
        }
    }
    for (from, to) in [
        ("shippingAddressIds", "shippingAddresses"),
        ("billingAddressIds", "billingAddresses"),
    ] {
        if let Some(ids) = c.get(from).and_then(Value::as_array) {
            let list: Vec<Value> = ids.iter().filter_map(index).map(Value::from).collect();
            d.insert(to.to_owned(), Value::Array(list));
        }
    }
    if let Some(group) = c.get("customerGroup").filter(|g| !g.is_null()) {
        d.insert("customerGroup".to_owned(), identifier(group));
    }
    if let Some(list) = c.get("customerGroupAssignments").and_then(Value::as_array) {
        let list = list
            .iter()
            .map(|a| serde_json::json!({"customerGroup": identifier(&a["customerGroup"])}))
            .collect();
        d.insert("customerGroupAssignments".to_owned(), Value::Array(list));
    }
    if let Some(custom) = c.get("custom").filter(|c| !c.is_null()) {
        d.insert("custom".to_owned(), custom_draft(custom));
    }
    d
}

/// Import API custom fields carry `{"type": "String", "value": …}`; drafts carry the value.
fn unwrap_typed_fields(custom: Option<&mut Value>) {
    let Some(Value::Object(fields)) = custom.and_then(|c| c.get_mut("fields")) else {
        return;
    };
    for value in fields.values_mut() {
        let typed = value
            .as_object()
            .is_some_and(|o| o.len() == 2 && o.contains_key("type") && o.contains_key("value"));
        if typed {
            *value = value["value"].take();
        }
    }
}

/// Counts of what the lines did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// New customers.
    pub imported: u64,
    /// Changed customers.
    pub updated: u64,
    /// Customers that already had the line's state.
    pub unchanged: u64,
    /// Lines that failed.
    pub failed: u64,
}

impl Counts {
    fn done(&self) -> u64 {
        self.imported + self.updated + self.unchanged + self.failed
    }
}

/// Line number, progress amount, busy keys, plan.
type Finished = (usize, u64, Vec<String>, Result<Plan, ApiError>);

/// A planned line waiting for its batch's commit: line number, progress amount, busy keys, plan.
type Waiting = (usize, u64, Vec<String>, Plan);

/// A parsed line waiting to be matched: line number, progress amount, busy keys, what it says.
type Parsed = (usize, u64, Vec<String>, (CustomerDraft, Option<Preserved>));

/// Most parsed lines matched against the database with one pair of reads.
const MATCHED_AT_ONCE: usize = 500;

/// A batch whose commit runs on a task of its own: per write, its line number, progress amount
/// and held keys, in line order; and the task, which answers each write's result in that order.
type Committing = (
    Vec<(usize, u64, Vec<String>)>,
    JoinHandle<Vec<Result<Outcome, ApiError>>>,
);

/// Runs lines through `service::import` with bounded concurrency, writing them in batches and
/// reporting as they finish.
pub struct Importer {
    state: AppState,
    project: Arc<Project>,
    references: Arc<References>,
    limit: usize,
    batch_size: usize,
    tasks: JoinSet<Finished>,
    pending: Vec<Parsed>,
    ready: Vec<Waiting>,
    /// The batch being committed, if any.
    committing: Option<Committing>,
    /// Keys held by lines in flight, with how many lines hold each (a line may hold a key of
    /// the customer it matched that another line of its batch names too).
    busy: HashMap<String, usize>,
    counts: Counts,
    progress: Progress,
    /// The most lines one commit was given (never more than `batch_size`).
    largest_batch: usize,
    /// Customers written so far, and how many written make the store refresh its statistics
    /// next (see [`Importer::settle`]).
    written: u64,
    analyze_at: u64,
    /// Whether the store's bulk indexes were suspended for this import (`--exclusive`), so
    /// that [`Importer::finish`] re-creates them.
    suspended: bool,
}

/// Customers written before the store's statistics are first refreshed; then each refresh
/// waits for [`ANALYZE_GROWTH`] times as many.
const FIRST_ANALYZE: u64 = 1000;
const ANALYZE_GROWTH: u64 = 8;

impl Importer {
    /// An importer into `project` with at most `limit` lines being planned and at most
    /// `batch_size` writes per transaction.
    pub fn new(
        state: AppState,
        project: Project,
        limit: usize,
        batch_size: usize,
        progress: Progress,
    ) -> Self {
        Importer {
            state,
            project: Arc::new(project),
            references: Arc::new(References::default()),
            limit: limit.max(1),
            batch_size: batch_size.max(1),
            tasks: JoinSet::new(),
            pending: Vec::new(),
            ready: Vec::new(),
            committing: None,
            busy: HashMap::new(),
            counts: Counts::default(),
            progress,
            largest_batch: 0,
            written: 0,
            analyze_at: FIRST_ANALYZE,
            suspended: false,
        }
    }

    fn report(&mut self, line: usize, result: Result<Outcome, ApiError>, amount: u64) {
        match result {
            Ok(Outcome::Imported) => self.counts.imported += 1,
            Ok(Outcome::Updated) => self.counts.updated += 1,
            Ok(Outcome::Unchanged) => self.counts.unchanged += 1,
            Err(e) => {
                self.counts.failed += 1;
                let (code, _) = e.code_and_status();
                let detail = match &e {
                    ApiError::Domain(DomainError::InvalidJsonInput { detail }) => {
                        format!(" ({detail})")
                    }
                    _ => String::new(),
                };
                self.progress
                    .println(&format!("line {line}: {code} {e}{detail}"));
            }
        }
        self.progress.advance(amount, self.counts.done());
    }

    fn hold(&mut self, keys: &[String]) {
        for k in keys {
            *self.busy.entry(k.clone()).or_default() += 1;
        }
    }

    fn release(&mut self, keys: &[String]) {
        for k in keys {
            if let Some(n) = self.busy.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    self.busy.remove(k);
                }
            }
        }
    }

    /// Waits for one planned line: a write joins the batch, anything else is reported.
    async fn join_one(&mut self) {
        if let Some(joined) = self.tasks.join_next().await {
            match joined {
                Ok((line, amount, keys, Ok(Plan::Unchanged))) => {
                    self.release(&keys);
                    self.report(line, Ok(Outcome::Unchanged), amount);
                }
                Ok((line, amount, keys, Ok(plan))) => self.ready.push((line, amount, keys, plan)),
                Ok((line, amount, keys, Err(e))) => {
                    self.release(&keys);
                    self.report(line, Err(e), amount);
                }
                Err(e) => {
                    self.counts.failed += 1;
                    self.progress
                        .println(&format!("an import task failed: {e}"));
                }
            }
        }
    }

    /// Lines of the current batch: waiting to be matched, being planned, or planned.
    fn in_batch(&self) -> usize {
        self.pending.len() + self.tasks.len() + self.ready.len()
    }

    /// Matches the pending lines with the customers they update (two reads for all of them)
    /// and starts planning them, at most `limit` at once.
    ///
    /// A line whose matched customer another line in flight before it names (its id, key or
    /// email; for instance an earlier line of the same group that changes that customer's
    /// email) was matched against a state that is about to change: the lines before it are
    /// committed and waited for, and it and the lines after it are matched again.
    async fn dispatch(&mut self) {
        loop {
            let pending = std::mem::take(&mut self.pending);
            if pending.is_empty() {
                return;
            }
            let rest = self.dispatch_group(pending).await;
            if rest.is_empty() {
                return;
            }
            self.commit_ready().await;
            self.settle().await;
            self.pending = rest;
        }
    }

    /// [`Importer::dispatch`] of one group; the lines that must be matched again, in order.
    async fn dispatch_group(&mut self, pending: Vec<Parsed>) -> Vec<Parsed> {
        let lines: Vec<_> = pending.iter().map(|(.., (d, p))| (d, p.as_ref())).collect();
        let matched = existing(&self.state, &self.project.key, &lines).await;
        let mut matched = match matched {
            Ok(all) => all.into_iter().map(Ok).collect(),
            // Matched one by one, so the error goes to the line it belongs to.
            Err(_) => {
                let mut each = Vec::with_capacity(lines.len());
                for line in &lines {
                    let one = existing(&self.state, &self.project.key, &[*line]).await;
                    each.push(one.map(|mut v| v.pop().flatten()));
                }
                each
            }
        }
        .into_iter();
        // The group's keys are held again line by line, so that each line is checked against
        // the lines before it only.
        for (_, _, keys, _) in &pending {
            self.release(keys);
        }
        let mut group = pending.into_iter();
        while let Some((line, amount, mut keys, parsed)) = group.next() {
            let current = match matched.next() {
                Some(Ok(current)) => current,
                Some(Err(e)) => {
                    self.report(line, Err(e), amount);
                    continue;
                }
                None => None,
            };
            // The matched customer's id, key and email are held too: a later line naming any
            // of them must see what this line writes (its key or email may change).
            if let Some(c) = &current {
                let mut theirs = vec![format!("id:{}", c.id), email_key(&c.email)];
                theirs.extend(c.key.as_ref().map(|k| format!("key:{k}")));
                theirs.retain(|k| !keys.contains(k));
                if theirs.iter().any(|k| self.busy.contains_key(k)) {
                    let mut rest = vec![(line, amount, keys, parsed)];
                    rest.extend(group);
                    for (_, _, keys, _) in &rest {
                        self.hold(keys);
                    }
                    return rest;
                }
                keys.extend(theirs);
            }
            self.hold(&keys);
            while self.tasks.len() >= self.limit {
                self.join_one().await;
            }
            let (state, project) = (self.state.clone(), self.project.clone());
            let references = self.references.clone();
            self.tasks.spawn(async move {
                let actor = Actor::client(IMPORT_CLIENT_ID.to_owned());
                let result =
                    plan_customer(&state, &project, &actor, &references, parsed, current).await;
                (line, amount, keys, result)
            });
        }
        Vec::new()
    }

    /// Matches and plans what is pending, then commits the batch (see
    /// [`Importer::commit_ready`]).
    async fn flush(&mut self) {
        self.dispatch().await;
        self.commit_ready().await;
    }

    /// Waits for every line being planned, then for the previous batch's commit, and starts
    /// committing the planned lines (see [`Importer::settle`]).
    async fn commit_ready(&mut self) {
        while !self.tasks.is_empty() {
            self.join_one().await;
        }
        let mut batch = std::mem::take(&mut self.ready);
        self.settle().await;
        if batch.is_empty() {
            return;
        }
        batch.sort_by_key(|(line, ..)| *line);
        self.largest_batch = self.largest_batch.max(batch.len());
        let mut lines = Vec::with_capacity(batch.len());
        let mut plans = Vec::with_capacity(batch.len());
        for (line, amount, keys, plan) in batch {
            lines.push((line, amount, keys));
            plans.push(plan);
        }
        let (state, project) = (self.state.clone(), self.project.key.clone());
        let task = tokio::spawn(async move { commit(&state, &project, plans).await });
        self.committing = Some((lines, task));
    }

    /// Waits for the batch being committed, if any, reports its lines and releases their keys.
    async fn settle(&mut self) {
        let Some((lines, task)) = self.committing.take() else {
            return;
        };
        match task.await {
            Ok(results) => {
                for ((line, amount, keys), result) in lines.into_iter().zip(results) {
                    self.release(&keys);
                    if result.is_ok() {
                        self.written += 1;
                    }
                    self.report(line, result, amount);
                }
            }
            // The commit task cannot be cancelled, so this is a panic in it: whether its
            // transaction committed is unknown, and each of its lines says so.
            Err(e) => {
                for (line, amount, keys) in lines {
                    self.release(&keys);
                    let error = ApiError::Internal(format!("the batch's commit failed: {e}"));
                    self.report(line, Err(error), amount);
                }
            }
        }
        // Where autovacuum does not run, a database filled from empty keeps the statistics
        // of its empty tables, and PostgreSQL then looks lines up by scanning whole tables: at
        // 50,000 customers each batch lookup took a second. Refreshed as the tables grow.
        if self.written >= self.analyze_at {
            self.analyze_at = self.written.saturating_mul(ANALYZE_GROWTH);
            if let Err(e) = self.state.store.analyze_customers().await {
                tracing::warn!(error = %e, "could not refresh the database's statistics");
            }
        }
    }

    /// Takes line number `line` (1-based) with its text; `amount` is how far it moves the
    /// progress bar (bytes of a file, or 1 per customer).
    pub async fn submit(&mut self, line: usize, text: &str, amount: u64) {
        let (draft, preserved) = match parse_line(text) {
            Ok(parsed) => parsed,
            Err(e) => return self.report(line, Err(e), amount),
        };
        let mut keys = vec![email_key(&draft.email)];
        if let Some(key) = &draft.key {
            keys.push(format!("key:{key}"));
        }
        if let Some(p) = &preserved {
            keys.push(format!("id:{}", p.id));
        }
        // A full batch commits while later lines go on, so a batch never has more than
        // `batch_size` lines. A line naming a customer a line in flight names (checked after
        // that flush, which holds what its lines matched) commits the batch and waits for it
        // and the one before it.
        if self.in_batch() >= self.batch_size {
            self.flush().await;
        }
        if keys.iter().any(|k| self.busy.contains_key(k)) {
            self.flush().await;
            self.settle().await;
        }
        self.hold(&keys);
        self.pending.push((line, amount, keys, (draft, preserved)));
        if self.pending.len() >= MATCHED_AT_ONCE {
            self.dispatch().await;
        }
    }

    /// Commits what is pending, closes the store, prints the summary, and returns the counts.
    /// Drops the store's non-unique secondary indexes for the rest of the import (an exclusive
    /// SQLite store only, see `Store::suspend_bulk_indexes`); [`Importer::finish`] re-creates
    /// them. Call before the first line.
    pub async fn suspend_indexes(&mut self) -> Result<usize, String> {
        let n = self
            .state
            .store
            .suspend_bulk_indexes()
            .await
            .map_err(|e| format!("cannot drop the indexes for the load: {e}"))?;
        self.suspended = true;
        Ok(n)
    }

    /// Waits for every line, re-creates suspended indexes, closes the store and prints the
    /// summary; the counts, or why the indexes could not be re-created (the next opening of
    /// the database re-creates them then).
    pub async fn finish(mut self) -> Result<Counts, String> {
        self.flush().await;
        self.settle().await;
        let restored = if self.suspended {
            let started = std::time::Instant::now();
            let restored = self.state.store.restore_bulk_indexes().await;
            if let Ok(n) = &restored {
                self.progress.println(&format!(
                    "re-created {n} indexes in {:.1}s",
                    started.elapsed().as_secs_f64()
                ));
            }
            restored.map_err(|e| {
                format!(
                    "cannot re-create the indexes dropped for the load ({e}); the next opening \
                     of the database re-creates them"
                )
            })
        } else {
            Ok(0)
        };
        // Closing the last connection copies the bulk writer's WAL into the database file
        // (it checkpoints late, see `StoreOptions::bulk_writes`), so the import leaves a
        // checkpointed file rather than up to 200 MiB of WAL for the next opener.
        self.state.store.close().await;
        let c = self.counts;
        self.progress.finish(
            &format!(
                "imported {}, updated {}, unchanged {}, failed {}",
                c.imported, c.updated, c.unchanged, c.failed
            ),
            c.done(),
        );
        restored.map(|_| c)
    }
}

/// The key a line holds for `email` (emails are unique without regard to case).
fn email_key(email: &str) -> String {
    format!("email:{}", email.to_lowercase())
}

/// `Ok` when no line failed, else the error `main` prints (exit status 1).
pub fn verdict(counts: Counts) -> CliResult {
    if counts.failed == 0 {
        Ok(())
    } else {
        Err(format!("{} line(s) failed", counts.failed))
    }
}

/// Whether an exclusive import of a file of `lines` lines into a database of `existing`
/// customers drops the indexes for the load. Below `from` lines (`--suspend-from`, 200,000),
/// the indexes of what it writes stay in the writer's page cache and maintaining them row by
/// row costs less than building them again; and re-creating them reads every row of the
/// tables, the existing ones too, so it pays only when the file brings at least as many
/// customers as there are (docs/performance.md, "Exclusive import").
fn worth_suspending(lines: u64, existing: u64, from: u64) -> bool {
    lines >= from && lines >= existing
}

/// The lines of the file at `path` (its newlines, plus an unterminated last line).
async fn count_lines(path: &str) -> Result<u64, String> {
    let owned = path.to_owned();
    let counted = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        use std::io::Read;
        let mut file = std::fs::File::open(&owned)?;
        let mut buf = vec![0u8; 1 << 20];
        let (mut lines, mut last) = (0u64, b'\n');
        loop {
            let n = file.read(&mut buf)?;
            let Some(read) = buf.get(..n).filter(|r| !r.is_empty()) else {
                break;
            };
            lines += read.iter().filter(|&&b| b == b'\n').count() as u64;
            last = read.last().copied().unwrap_or(last);
        }
        Ok(lines + u64::from(last != b'\n'))
    })
    .await
    .map_err(|e| format!("cannot count the lines of {path}: {e}"))?;
    counted.map_err(|e| format!("cannot count the lines of {path}: {e}"))
}

/// Runs `clientele import` from a file or stdin (`--from-api` is `transfer::from_api`).
pub async fn run(args: ImportArgs) -> CliResult {
    let (state, project, limit) = open_for_import(&args).await?;
    let path = args.file.as_deref().unwrap_or("-");
    let (reader, size): (Box<dyn tokio::io::AsyncRead + Unpin + Send>, Option<u64>) = if path == "-"
    {
        (Box::new(tokio::io::stdin()), None)
    } else {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| format!("cannot open {path}: {e}"))?;
        let size = file.metadata().await.ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let mut importer = Importer::new(
        state,
        project,
        limit,
        args.batch_size,
        Progress::start(size),
    );
    if args.exclusive && path != "-" {
        let lines = count_lines(path).await?;
        let existing = importer
            .state
            .store
            .count_all_customers()
            .await
            .map_err(|e| format!("cannot count the customers: {e}"))?;
        if worth_suspending(lines, existing, args.suspend_from) {
            let n = importer.suspend_indexes().await?;
            importer.progress.println(&format!(
                "{lines} lines into {existing} customers: dropped {n} indexes for the load"
            ));
        }
    }
    let mut lines = tokio::io::BufReader::new(reader).lines();
    let mut number = 0usize;
    loop {
        let text = match lines.next_line().await {
            Ok(Some(text)) => text,
            Ok(None) => break,
            Err(e) => {
                let _ = importer.finish().await;
                return Err(format!("cannot read {path} after line {number}: {e}"));
            }
        };
        number += 1;
        let amount = text.len() as u64 + 1;
        if text.trim().is_empty() {
            importer.progress.advance(amount, importer.counts.done());
        } else {
            importer.submit(number, &text, amount).await;
        }
    }
    verdict(importer.finish().await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseArgs;

    /// With more lines in flight (`limit`) than fit a batch, no commit gets more than
    /// `batch_size` lines, and every line is still imported.
    #[tokio::test]
    async fn batches_never_exceed_the_batch_size() {
        let dir = std::env::temp_dir().join(format!(
            "clientele-batches-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let database = DatabaseArgs {
            database_url: format!("sqlite://{}", dir.join("db.sqlite").display()),
        };
        let state = super::super::offline_state(&database, 4, false)
            .await
            .unwrap();
        let project = Project {
            key: "demo".to_owned(),
            name: "demo".to_owned(),
            languages: vec!["en".to_owned()],
            countries: vec![],
            currencies: vec![],
        };
        state
            .store
            .create_project(&project, state.clock.now())
            .await
            .unwrap();
        let mut importer = Importer::new(state, project, 8, 3, Progress::start(None));
        for i in 1..=20 {
            let line = format!(r#"{{"email": "c{i}@example.com", "key": "c{i}"}}"#);
            importer.submit(i, &line, 1).await;
        }
        importer.flush().await;
        assert!(
            importer.largest_batch <= 3 && importer.largest_batch > 0,
            "a batch of {} lines",
            importer.largest_batch
        );
        let counts = importer.finish().await.unwrap();
        assert_eq!((counts.imported, counts.failed), (20, 0));
        // The bulk writer checkpoints late; finishing closes the store, which copies the WAL
        // into the database file and removes it.
        let wal = dir.join("db.sqlite-wal");
        let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(wal_bytes, 0, "{} left behind", wal.display());
        std::fs::remove_dir_all(&dir).ok();
    }
}
