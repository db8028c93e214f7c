//! `clientele export` and `clientele import` against the suite's backend (SQLite, or
//! PostgreSQL with `CLIENTELE_TEST_API_BACKEND=postgres`): export → import into a fresh
//! database → export is byte-identical and logins keep working with `--with-credentials`; a
//! re-run changes nothing; bad lines are reported with their line number and error code and
//! counted, the rest imported; Import API lines and updates go through the API's rules and
//! Messages; `--from-api` pulls every customer from a real Clientele page by page. Lines are
//! written in batches: a duplicate or bad line fails alone whether it shares its batch or not,
//! upserts mix with inserts, and lines about one customer apply in file order.

use crate::helpers::{spawn_app_with, TestApp, TestDb};
use serde_json::{json, Value};
use std::process::Output;

/// A server over `db`, which the test keeps so the CLI can open the same database.
async fn app_on(db: &TestDb) -> TestApp {
    let url = db.url();
    spawn_app_with(move |c| c.database.database_url = url).await
}

async fn clientele(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_clientele"));
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .env_remove("CLIENTELE_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        });
    let mut child = cmd.spawn().expect("clientele runs");
    if let Some(text) = stdin {
        use tokio::io::AsyncWriteExt;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).await.unwrap();
        drop(pipe);
    }
    child.wait_with_output().await.expect("clientele ends")
}

/// Asserts two exports are identical, showing the first differing line in full.
#[track_caller]
fn assert_same(left: &str, right: &str, what: &str) {
    for (i, (l, r)) in left.lines().zip(right.lines()).enumerate() {
        assert_eq!(l, r, "{what}: line {} differs", i + 1);
    }
    assert_eq!(
        left.lines().count(),
        right.lines().count(),
        "{what}: line count"
    );
    assert_eq!(left, right, "{what}");
}

/// An export as it looks once imported without credentials: no `password` fields.
fn without_passwords(export: &str) -> String {
    export
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().shift_remove("password");
            v.to_string() + "\n"
        })
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_file(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "clientele-transfer-{}-{name}",
        uuid::Uuid::new_v4()
    ))
}

async fn export(db: &TestDb, extra: &[&str]) -> String {
    let path = temp_file("export.ndjson");
    let url = db.url();
    let mut args = vec![
        "export",
        "--project",
        "demo",
        "--database",
        &url,
        "--output",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = clientele(&args, None).await;
    assert!(out.status.success(), "export failed: {}", stderr(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    text
}

async fn import(db: &TestDb, text: &str) -> Output {
    import_with(db, text, &[]).await
}

/// `clientele import` of `text` on stdin with `extra` arguments.
async fn import_with(db: &TestDb, text: &str, extra: &[&str]) -> Output {
    let url = db.url();
    let mut args = vec!["import", "--project", "demo", "--database", &url];
    args.extend_from_slice(extra);
    args.push("-");
    clientele(&args, Some(text)).await
}

/// Seeds customers of every shape the round trip must keep.
async fn seed(app: &TestApp, token: &str) {
    app.post("/demo/stores", token, json!({"key": "berlin"}))
        .await
        .ok(201);
    app.create_customer(
        token,
        json!({"email": "Pat@Example.com", "password": "pat-password", "key": "pat",
               "firstName": "Pat", "dateOfBirth": "1990-02-03", "locale": "en",
               "addresses": [{"key": "home", "country": "DE", "city": "Berlin"},
                             {"key": "work", "country": "US"}],
               "defaultShippingAddress": 0, "billingAddresses": [1]}),
    )
    .await;
    app.external_customer(token, "ext@example.com", json!({"customerNumber": "C-1"}))
        .await;
    app.create_customer(
        token,
        json!({"email": "shopper@example.com", "password": "shop-password",
               "stores": [{"key": "berlin"}]}),
    )
    .await;
    for i in 0..4 {
        app.external_customer(token, &format!("bulk{i}@example.com"), json!({}))
            .await;
    }
}

#[tokio::test]
async fn export_import_export_is_identical_and_logins_survive() {
    let source_db = TestDb::for_suite().await;
    let source = app_on(&source_db).await;
    let token = source.admin().await;
    seed(&source, &token).await;
    let first = export(&source_db, &["--with-credentials", "--page-size", "3"]).await;
    assert_eq!(first.lines().count(), 7);
    let ids: Vec<String> = first
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "exported in id order");
    assert!(first.contains("\"passwordHash\":\"$argon2id$"));
    // Each line is the customer exactly as the API shows it (plus the hash).
    let pat: Value =
        serde_json::from_str(first.lines().find(|l| l.contains("\"pat\"")).unwrap()).unwrap();
    let mut api = source
        .get("/demo/customers/key=pat", &token)
        .await
        .ok(200)
        .clone();
    api["passwordHash"] = pat["passwordHash"].clone();
    assert_eq!(pat, api);
    let plain = export(&source_db, &[]).await;
    assert!(!plain.contains("passwordHash") && !plain.contains("$argon2"));

    let target_db = TestDb::for_suite().await;
    let target = app_on(&target_db).await;
    let target_token = target.admin().await;
    target
        .post("/demo/stores", &target_token, json!({"key": "berlin"}))
        .await
        .ok(201);
    let out = import(&target_db, &first).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("imported 7, updated 0, unchanged 0, failed 0"),
        "{}",
        stderr(&out)
    );
    let second = export(&target_db, &["--with-credentials", "--page-size", "2"]).await;
    assert_same(&first, &second, "export → import → export");

    // Passwords came along: the customers sign in on the target with their old passwords.
    target
        .post(
            "/demo/login",
            &target_token,
            json!({"email": "pat@example.com", "password": "pat-password"}),
        )
        .await
        .ok(200);
    target
        .post(
            "/demo/in-store/key=berlin/login",
            &target_token,
            json!({"email": "shopper@example.com", "password": "shop-password"}),
        )
        .await
        .ok(200);
    // The import wrote the Messages the API would: one CustomerCreated per customer.
    let messages = target.get("/demo/messages?limit=100", &target_token).await;
    let created = messages.ok(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "CustomerCreated")
        .count();
    assert_eq!(created, 7);

    // Re-running converges: nothing changes, nothing fails.
    let again = import(&target_db, &first).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("imported 0, updated 0, unchanged 7, failed 0"));
    assert_same(
        &export(&target_db, &["--with-credentials"]).await,
        &first,
        "after a re-run",
    );

    // Without credentials the customers arrive but cannot sign in until they reset.
    let bare_db = TestDb::for_suite().await;
    let bare = app_on(&bare_db).await;
    let bare_token = bare.admin().await;
    bare.post("/demo/stores", &bare_token, json!({"key": "berlin"}))
        .await
        .ok(201);
    let out = import(&bare_db, &plain).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_same(
        &export(&bare_db, &[]).await,
        &without_passwords(&plain),
        "without credentials",
    );
    bare.post(
        "/demo/login",
        &bare_token,
        json!({"email": "pat@example.com", "password": "pat-password"}),
    )
    .await
    .error(400, "InvalidCredentials");
}

#[tokio::test]
async fn bad_lines_are_reported_counted_and_skipped() {
    let db = TestDb::for_suite().await;
    let app = app_on(&db).await;
    let token = app.admin().await;
    app.post(
        "/demo/customer-groups",
        &token,
        json!({"key": "gold", "groupName": "Gold"}),
    )
    .await
    .ok(201);
    app.post(
        "/demo/types",
        &token,
        json!({"key": "loyalty", "name": {"en": "loyalty"}, "resourceTypeIds": ["customer"],
               "fieldDefinitions": [{"name": "points", "label": {"en": "points"},
                                     "required": false, "type": {"name": "Number"}}]}),
    )
    .await
    .ok(201);
    let lines = [
        // 1: a CustomerDraft
        json!({"key": "first", "email": "first@example.com", "password": "first-password"}).to_string(),
        // 2: not JSON
        "{\"email\": ".to_owned(),
        // 3: an invalid key
        json!({"key": "x", "email": "short-key@example.com", "authenticationMode": "ExternalAuth"}).to_string(),
        // 4: another customer's email
        json!({"key": "second", "email": "FIRST@example.com", "authenticationMode": "ExternalAuth"}).to_string(),
        // 5: an unknown Customer Group
        json!({"key": "third", "email": "third@example.com", "authenticationMode": "ExternalAuth",
               "customerGroup": {"typeId": "customer-group", "key": "platinum"}}).to_string(),
        // 6: a custom field the Type does not define
        json!({"key": "fourth", "email": "fourth@example.com", "authenticationMode": "ExternalAuth",
               "custom": {"type": {"key": "loyalty"}, "fields": {"colour": "red"}}}).to_string(),
        // 7: an Import API CustomerImport: references by key, typed custom field values
        json!({"key": "imported", "email": "imp@example.com", "authenticationMode": "Password",
               "customerGroup": {"typeId": "customer-group", "key": "gold"},
               "addresses": [{"key": "a1", "country": "DE"}], "defaultBillingAddress": 0,
               "custom": {"type": {"typeId": "type", "key": "loyalty"},
                          "fields": {"points": {"type": "Number", "value": 42}}}}).to_string(),
        // 8: not an object
        "[1, 2]".to_owned(),
    ];
    let out = import(&db, &(lines.join("\n") + "\n")).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for expected in [
        "line 2: InvalidJsonInput ",
        "line 3: InvalidInput ",
        "line 4: DuplicateField ",
        "line 5: ReferencedResourceNotFound ",
        "line 6: InvalidField ",
        "line 8: InvalidJsonInput ",
    ] {
        assert!(err.contains(expected), "{expected} in:\n{err}");
    }
    assert!(
        err.contains("imported 2, updated 0, unchanged 0, failed 6"),
        "{err}"
    );
    assert!(
        !err.contains("line 1:") && !err.contains("line 7:"),
        "{err}"
    );

    let imported = app.get("/demo/customers/key=imported", &token).await;
    let imported = imported.ok(200);
    assert_eq!(imported["custom"]["fields"]["points"], 42);
    assert_eq!(imported["customerGroup"]["typeId"], "customer-group");
    assert_eq!(
        imported["defaultBillingAddressId"],
        imported["addresses"][0]["id"]
    );
    assert!(
        imported.get("password").is_none(),
        "imported without a password"
    );
    assert_eq!(app.customer_total(&token).await, 2);

    // A changed line updates through update actions, with their Messages and one version.
    let change = json!({"key": "imported", "email": "imp@example.com",
                        "authenticationMode": "Password", "firstName": "Imke",
                        "customerGroup": {"typeId": "customer-group", "key": "gold"},
                        "addresses": [{"key": "a1", "country": "DE"}], "defaultBillingAddress": 0,
                        "custom": {"type": {"typeId": "type", "key": "loyalty"},
                                   "fields": {"points": {"type": "Number", "value": 43}}}});
    let out = import(&db, &change.to_string()).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("imported 0, updated 1, unchanged 0, failed 0"));
    let after = app.get("/demo/customers/key=imported", &token).await;
    let after = after.ok(200);
    assert_eq!(after["version"], imported["version"].as_u64().unwrap() + 1);
    assert_eq!(after["firstName"], "Imke");
    assert_eq!(after["custom"]["fields"]["points"], 43);
    assert_eq!(after["addresses"], imported["addresses"]);
    let types: Vec<Value> = app
        .messages_of(&token, after["id"].as_str().unwrap())
        .await
        .iter()
        .map(|m| m["type"].clone())
        .collect();
    assert_eq!(
        types,
        vec![
            json!("CustomerCreated"),
            json!("CustomerFirstNameSet"),
            json!("CustomerCustomTypeSet")
        ]
    );
    let out = import(&db, &change.to_string()).await;
    assert!(stderr(&out).contains("imported 0, updated 0, unchanged 1, failed 0"));
}

#[tokio::test]
async fn import_from_api_pulls_every_customer_page_by_page() {
    let source_db = TestDb::for_suite().await;
    let source = app_on(&source_db).await;
    let token = source.admin().await;
    seed(&source, &token).await;
    let (client_id, client_secret) = source.api_client("view_customers:demo").await;

    let target_db = TestDb::for_suite().await;
    let target = app_on(&target_db).await;
    let target_token = target.admin().await;
    target
        .post("/demo/stores", &target_token, json!({"key": "berlin"}))
        .await
        .ok(201);
    let url = target_db.url();
    let out = clientele(
        &[
            "import",
            "--project",
            "demo",
            "--database",
            &url,
            "--from-api",
            &source.base,
            "--client-id",
            &client_id,
            "--client-secret",
            &client_secret,
            "--page-size",
            "2",
        ],
        None,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("imported 7, updated 0, unchanged 0, failed 0"),
        "{}",
        stderr(&out)
    );
    assert_eq!(target.customer_total(&target_token).await, 7);
    // Same customers, same ids and versions; passwords could not be read, so the customers
    // have none and signing in fails until a reset.
    assert_same(
        &export(&target_db, &[]).await,
        &without_passwords(&export(&source_db, &[]).await),
        "from the API",
    );
    target
        .post(
            "/demo/login",
            &target_token,
            json!({"email": "pat@example.com", "password": "pat-password"}),
        )
        .await
        .error(400, "InvalidCredentials");

    // Wrong credentials: a clear error, non-zero exit, nothing imported.
    let out = clientele(
        &[
            "import",
            "--project",
            "demo",
            "--database",
            &url,
            "--from-api",
            &source.base,
            "--client-id",
            &client_id,
            "--client-secret",
            "wrong",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no access token"), "{}", stderr(&out));
}

/// Ten lines mixing inserts, upserts, duplicates (inside the batch and against the database),
/// a bad line and three lines about one customer, imported in batches of 4 and in one batch.
#[tokio::test]
async fn batches_fail_only_their_bad_lines_and_apply_lines_in_file_order() {
    let ext = |v: Value| {
        let mut v = v;
        v["authenticationMode"] = json!("ExternalAuth");
        v.to_string()
    };
    let lines = [
        // 1: new
        ext(json!({"key": "a1", "email": "a1@example.com", "customerNumber": "N-1"})),
        // 2: line 1's customerNumber, in the same batch
        ext(json!({"key": "a2", "email": "a2@example.com", "customerNumber": "N-1"})),
        // 3: an upsert of a customer in the database
        ext(
            json!({"key": "old", "email": "old@example.com", "customerNumber": "N-OLD",
                   "firstName": "Updated"}),
        ),
        // 4: line 1's email in another case
        ext(json!({"key": "a3", "email": "A1@EXAMPLE.COM"})),
        // 5: not JSON
        "{\"key\": ".to_owned(),
        // 6: the customerNumber of a customer in the database
        ext(json!({"key": "a4", "email": "a4@example.com", "customerNumber": "N-OLD"})),
        // 7, 8: line 1's customer changed twice
        ext(
            json!({"key": "a1", "email": "a1@example.com", "customerNumber": "N-1",
                   "firstName": "Second"}),
        ),
        ext(
            json!({"key": "a1", "email": "a1@example.com", "customerNumber": "N-1",
                   "firstName": "Third"}),
        ),
        // 9, 10: new
        ext(json!({"key": "a5", "email": "a5@example.com", "stores": [{"key": "berlin"}]})),
        ext(json!({"key": "a6", "email": "a6@example.com"})),
    ];
    let text = lines.join("\n") + "\n";
    for batch in ["4", "1000"] {
        let db = TestDb::for_suite().await;
        let app = app_on(&db).await;
        let token = app.admin().await;
        app.post("/demo/stores", &token, json!({"key": "berlin"}))
            .await
            .ok(201);
        app.external_customer(
            &token,
            "old@example.com",
            json!({"key": "old", "customerNumber": "N-OLD"}),
        )
        .await;

        let out = import_with(&db, &text, &["--batch-size", batch]).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "batch {batch}: {err}");
        for expected in [
            "line 2: DuplicateField ",
            "line 4: DuplicateField ",
            "line 5: InvalidJsonInput ",
            "line 6: DuplicateField ",
        ] {
            assert!(
                err.contains(expected),
                "batch {batch}: {expected} in:\n{err}"
            );
        }
        assert!(
            err.contains("imported 3, updated 3, unchanged 0, failed 4"),
            "batch {batch}: {err}"
        );
        for key in ["a2", "a3", "a4"] {
            app.get(&format!("/demo/customers/key={key}"), &token)
                .await
                .error(404, "ResourceNotFound");
        }
        let old = app.get("/demo/customers/key=old", &token).await;
        assert_eq!(old.ok(200)["firstName"], "Updated", "batch {batch}");
        assert_eq!(old.ok(200)["version"], 2, "batch {batch}");
        let a1 = app.get("/demo/customers/key=a1", &token).await;
        let a1 = a1.ok(200).clone();
        assert_eq!(a1["firstName"], "Third", "batch {batch}");
        assert_eq!(a1["version"], 3, "batch {batch}");
        let types: Vec<Value> = app
            .messages_of(&token, a1["id"].as_str().unwrap())
            .await
            .iter()
            .map(|m| json!([m["type"], m["sequenceNumber"], m["resourceVersion"]]))
            .collect();
        assert_eq!(
            types,
            vec![
                json!(["CustomerCreated", 1, 1]),
                json!(["CustomerFirstNameSet", 2, 2]),
                json!(["CustomerFirstNameSet", 3, 3]),
            ],
            "batch {batch}"
        );
        let a5 = app.get("/demo/customers/key=a5", &token).await;
        assert_eq!(a5.ok(200)["stores"][0]["key"], "berlin", "batch {batch}");
        assert_eq!(app.customer_total(&token).await, 4, "batch {batch}");

        // A re-run ends in the same state: the same lines fail, line 1 takes `a1` back
        // through Second to Third, and nothing else changes.
        let out = import_with(&db, &text, &["--batch-size", batch]).await;
        let err = stderr(&out);
        assert!(
            err.contains("imported 0, updated 3, unchanged 3, failed 4"),
            "batch {batch}: {err}"
        );
        let a1 = app.get("/demo/customers/key=a1", &token).await;
        assert_eq!(a1.ok(200)["firstName"], "Third", "batch {batch}");
        assert_eq!(app.customer_total(&token).await, 4, "batch {batch}");
    }
}

/// An import writes through the same store operations as the API: the imported customers are
/// found by Customer Search at once, and a Subscription receives their Messages and
/// `ResourceCreated` / `ResourceUpdated` changes, batched or not.
#[tokio::test]
async fn imported_customers_are_searchable_at_once_and_reach_subscriptions() {
    use crate::subscriptions::{rabbit, Queue};
    let db = TestDb::for_suite().await;
    let app = app_on(&db).await;
    let token = app.admin().await;
    let version = app.get("/demo", &token).await.ok(200)["version"].clone();
    app.post(
        "/demo",
        &token,
        json!({"version": version,
               "actions": [{"action": "changeCustomerSearchStatus", "status": "Activated"}]}),
    )
    .await
    .ok(200);
    let queue = Queue::declare().await;
    app.post(
        "/demo/subscriptions",
        &token,
        json!({"destination": rabbit(&queue.name),
               "messages": [{"resourceTypeId": "customer"}],
               "changes": [{"resourceTypeId": "customer"}]}),
    )
    .await
    .ok(201);
    let wait = std::time::Duration::from_secs(10);
    assert_eq!(queue.take(1, wait).await.len(), 1, "test notification");

    let lines = "{\"email\":\"imp1@example.com\",\"key\":\"imp-1\",\"lastName\":\"Importa\"}\n\
                 {\"email\":\"imp2@example.com\",\"key\":\"imp-2\",\"lastName\":\"Importa\"}\n\
                 {\"email\":\"imp1@example.com\",\"key\":\"imp-1\",\"lastName\":\"Importb\"}\n";
    let out = import_with(&db, lines, &["--batch-size", "2"]).await;
    assert!(out.status.success(), "{}", stderr(&out));

    let found = app
        .post(
            "/demo/customers/search",
            &token,
            json!({"query": {"exact": {"field": "lastName", "value": "Importa"}}}),
        )
        .await;
    let found = found.ok(200);
    assert_eq!(found["total"], 1, "{found}");
    let updated = app
        .post(
            "/demo/customers/search",
            &token,
            json!({"query": {"exact": {"field": "lastName", "value": "Importb"}}}),
        )
        .await;
    assert_eq!(updated.ok(200)["total"], 1);

    // Two creates (Message + ResourceCreated each) and one update (Message + ResourceUpdated).
    let got = queue.take(6, wait).await;
    let kinds: Vec<String> = got
        .iter()
        .map(|n| match n["notificationType"].as_str() {
            Some("Message") => n["type"].as_str().unwrap_or_default().to_owned(),
            other => other.unwrap_or_default().to_owned(),
        })
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(count("CustomerCreated"), 2, "{kinds:?}");
    assert_eq!(count("ResourceCreated"), 2, "{kinds:?}");
    assert_eq!(count("CustomerLastNameSet"), 1, "{kinds:?}");
    assert_eq!(count("ResourceUpdated"), 1, "{kinds:?}");
}

/// Batches commit while the next ones are planned: failures of lines in later batches keep
/// their line numbers, a refusal against a customer an earlier batch is still committing is
/// seen, and a line naming the old email of a customer that an earlier line changes is matched
/// against what that line wrote (a new customer), not against the customer as it was.
#[tokio::test]
async fn overlapping_batches_report_each_line_and_see_earlier_batches() {
    let ext = |v: Value| {
        let mut v = v;
        v["authenticationMode"] = json!("ExternalAuth");
        v.to_string()
    };
    let mut lines = vec![
        // 1, 2: new
        ext(json!({"key": "k1", "email": "e1@example.com", "customerNumber": "N-1"})),
        ext(json!({"key": "k2", "email": "e2@example.com"})),
        // 3: k1 moves to another email
        ext(json!({"key": "k1", "email": "e1-new@example.com", "customerNumber": "N-1"})),
        // 4: k1's customerNumber
        ext(json!({"key": "k4", "email": "e4@example.com", "customerNumber": "N-1"})),
        // 5: not JSON
        "{\"key\": ".to_owned(),
        // 6: k1's old email, without a key: nobody has it once line 3 is written
        ext(json!({"email": "e1@example.com", "firstName": "Six"})),
        // 7, 8: new, then line 7's email again
        ext(json!({"key": "k7", "email": "e7@example.com"})),
        ext(json!({"key": "k8", "email": "E7@example.com"})),
    ];
    // 9 to 14: new
    for i in 9..=14 {
        lines.push(ext(
            json!({"key": format!("k{i}"), "email": format!("e{i}@example.com")}),
        ));
    }
    // 15: k1's customerNumber, many batches later
    lines.push(ext(
        json!({"key": "k15", "email": "e15@example.com", "customerNumber": "N-1"}),
    ));
    let text = lines.join("\n") + "\n";
    for batch in ["2", "3", "1000"] {
        let db = TestDb::for_suite().await;
        let app = app_on(&db).await;
        let token = app.admin().await;
        let out = import_with(&db, &text, &["--batch-size", batch]).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "batch {batch}: {err}");
        let failed: Vec<&str> = err.lines().filter(|l| l.starts_with("line ")).collect();
        assert_eq!(failed.len(), 4, "batch {batch}: {err}");
        for expected in [
            "line 4: DuplicateField ",
            "line 5: InvalidJsonInput ",
            "line 8: DuplicateField ",
            "line 15: DuplicateField ",
        ] {
            assert!(
                failed.iter().any(|l| l.starts_with(expected)),
                "batch {batch}: {expected} in:\n{err}"
            );
        }
        assert!(
            err.contains("imported 10, updated 1, unchanged 0, failed 4"),
            "batch {batch}: {err}"
        );
        let k1 = app.get("/demo/customers/key=k1", &token).await;
        assert_eq!(k1.ok(200)["email"], "e1-new@example.com", "batch {batch}");
        assert_eq!(k1.ok(200)["version"], 2, "batch {batch}");
        let exported = export(&db, &[]).await;
        let six: Vec<Value> = exported
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|c| c["email"] == "e1@example.com")
            .collect();
        assert_eq!(six.len(), 1, "batch {batch}: {exported}");
        assert_eq!(six[0]["firstName"], "Six", "batch {batch}");
        assert_eq!(six[0]["version"], 1, "batch {batch}");
        assert_eq!(app.customer_total(&token).await, 10, "batch {batch}");
    }
}

/// `clientele project create demo` on `db`, with no server running on it.
async fn project_without_server(db: &TestDb) {
    let url = db.url();
    let args = [
        "project",
        "create",
        "demo",
        "--languages",
        "en,de",
        "--database",
        &url,
    ];
    let out = clientele(&args, None).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `clientele import` of the file `path` into `db` with `extra` arguments.
async fn import_file(db: &TestDb, path: &std::path::Path, extra: &[&str]) -> Output {
    let url = db.url();
    let mut args = vec!["import", "--project", "demo", "--database", &url];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    clientele(&args, None).await
}

/// `--exclusive` on SQLite drops the non-unique indexes for the load (forced here with a
/// threshold of one line) and re-creates them: the database exports exactly as after a normal
/// import, and a server on it afterwards answers queries. On PostgreSQL it is refused with a
/// clear error and imports nothing.
#[tokio::test]
async fn an_exclusive_import_exports_what_a_normal_import_does() {
    let source_db = TestDb::for_suite().await;
    let source = app_on(&source_db).await;
    let token = source.admin().await;
    source
        .create_customer(
            &token,
            json!({"email": "Pat@Example.com", "password": "pat-password", "key": "pat",
                   "firstName": "Pat", "lastName": "Doe", "locale": "en",
                   "addresses": [{"key": "home", "country": "DE", "city": "Berlin"},
                                 {"key": "work", "country": "US"}],
                   "defaultShippingAddress": 0, "billingAddresses": [1]}),
        )
        .await;
    for i in 0..12 {
        source
            .external_customer(
                &token,
                &format!("bulk{i}@example.com"),
                json!({"key": format!("k{i}"), "lastName": format!("L{}", i % 3),
                       "customerNumber": format!("C-{i}"),
                       "addresses": [{"country": "DE", "city": format!("City{}", i % 4)}]}),
            )
            .await;
    }
    let first = export(&source_db, &["--with-credentials"]).await;
    let path = temp_file("exclusive.ndjson");
    std::fs::write(&path, &first).unwrap();

    let normal_db = TestDb::for_suite().await;
    project_without_server(&normal_db).await;
    let normal = import_file(&normal_db, &path, &[]).await;
    assert!(normal.status.success(), "{}", stderr(&normal));
    let normal_export = export(&normal_db, &["--with-credentials"]).await;
    assert_same(&first, &normal_export, "normal import");

    let exclusive_db = TestDb::for_suite().await;
    project_without_server(&exclusive_db).await;
    let out = import_file(
        &exclusive_db,
        &path,
        &["--exclusive", "--suspend-from", "1"],
    )
    .await;
    let err = stderr(&out);
    if matches!(exclusive_db, TestDb::Postgres(_)) {
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("--exclusive is implemented for SQLite only"),
            "{err}"
        );
        assert_eq!(export(&exclusive_db, &[]).await, "");
        let _ = std::fs::remove_file(&path);
        return;
    }
    assert!(out.status.success(), "{err}");
    assert!(err.contains("dropped "), "{err}");
    assert!(err.contains("re-created "), "{err}");
    assert!(
        err.contains("imported 13, updated 0, unchanged 0, failed 0"),
        "{err}"
    );
    let exclusive_export = export(&exclusive_db, &["--with-credentials"]).await;
    assert_same(&normal_export, &exclusive_export, "exclusive import");

    // Re-run exclusively over its own result (the threshold keeps the indexes now: the
    // database holds as many customers as the file): nothing changes.
    let again = import_file(&exclusive_db, &path, &["--exclusive"]).await;
    let err = stderr(&again);
    assert!(again.status.success(), "{err}");
    assert!(!err.contains("dropped "), "{err}");
    assert!(
        err.contains("imported 0, updated 0, unchanged 13, failed 0"),
        "{err}"
    );
    let _ = std::fs::remove_file(&path);

    let target = app_on(&exclusive_db).await;
    let target_token = target.admin().await;
    let found = target
        .get("/demo/customers?where=lastName%3D%22L1%22", &target_token)
        .await;
    assert_eq!(found.ok(200)["total"], 4);
    target
        .post(
            "/demo/login",
            &target_token,
            json!({"email": "pat@example.com", "password": "pat-password"}),
        )
        .await
        .ok(200);
}

/// While a server has the database open, an exclusive import is refused (it would have to
/// lock the server out) and the server keeps answering.
#[tokio::test]
async fn an_exclusive_import_is_refused_while_a_server_uses_the_database() {
    let db = TestDb::for_suite().await;
    if matches!(db, TestDb::Postgres(_)) {
        return;
    }
    let app = app_on(&db).await;
    let token = app.admin().await;
    app.external_customer(&token, "before@example.com", json!({}))
        .await;
    let line = json!({"email": "new@example.com", "authenticationMode": "ExternalAuth"});
    let out = import_with(&db, &format!("{line}\n"), &["--exclusive"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("needs the database to itself"), "{err}");
    let page = app.get("/demo/customers", &token).await;
    assert_eq!(page.ok(200)["total"], 1);
}
