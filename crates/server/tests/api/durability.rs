//! Durability on the embedded default: every write the API acknowledged is still there after the
//! server process is killed with SIGKILL (no shutdown, no flush) and started again on the same
//! SQLite file.

use crate::two_processes::serve;
use serde_json::{json, Value};

/// The demo client's id and secret from the banner `serve` prints on a fresh database.
pub(crate) fn demo_credentials(banner: &str) -> (String, String) {
    let field = |name: &str| {
        banner
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} in banner:\n{banner}"))
    };
    (field("client id:"), field("client secret:"))
}

/// A client-credentials token of the demo client.
pub(crate) async fn token(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> String {
    let body: Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn acknowledged_writes_survive_a_sigkill_of_the_server() {
    let file = std::env::temp_dir().join(format!("clientele-kill9-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", file.display());
    let http = reqwest::Client::new();

    let first = serve(&url).await;
    let (id, secret) = demo_credentials(&first.banner);
    let tok = token(&http, &first.base, &id, &secret).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let r = http
            .post(format!("{}/demo/customers", first.base))
            .bearer_auth(&tok)
            .json(&json!({"email": format!("k{i}@example.com"), "authenticationMode": "ExternalAuth"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let body: Value = r.json().await.unwrap();
        ids.push(body["customer"]["id"].as_str().unwrap().to_owned());
    }
    let r = http
        .post(format!("{}/demo/customers/{}", first.base, ids[0]))
        .bearer_auth(&tok)
        .json(&json!({"version": 1, "actions": [{"action": "setFirstName", "firstName": "Kept"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    first.kill9().await;

    let second = serve(&url).await;
    assert!(
        !second.banner.contains("client id"),
        "the demo project survived, so nothing is seeded again"
    );
    // The token was stored in the database too, so it still works on the new process.
    let listing: Value = http
        .get(format!("{}/demo/customers?limit=500", second.base))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listing["total"], 20);
    let kept: Value = http
        .get(format!("{}/demo/customers/{}", second.base, ids[0]))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept["firstName"], "Kept");
    assert_eq!(kept["version"], 2);
    second.kill9().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}
