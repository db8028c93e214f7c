//! The machine's practical ceiling for a GET of a customer by id, for `docs/performance.md`:
//! the least a server can do for that request with the same stack (axum on tokio, SQLite in
//! WAL mode through rusqlite, one connection per runtime thread, the file mapped as the
//! readers map it) — no token check, no project or Store check, no JSON handling: the stored
//! document is returned as it is. Clientele's GET by id is measured against it, and against the
//! emulator, with the same load generator in the same run.
//!
//! ```sh
//! cargo build --release -p clientele-server --bench ceiling
//! target/release/deps/ceiling-* --database FILE --listen 127.0.0.1:18700
//! target/release/deps/load-* --base http://127.0.0.1:18700 --preseeded N --prefix seed \
//!   --scenarios get_by_id …        # a database seeded by scripts/seed.py
//! ```
//!
//! Must not be used for anything but that measurement: it answers any token request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

thread_local! {
    static CONN: RefCell<Option<rusqlite::Connection>> = const { RefCell::new(None) };
}

fn read_doc(file: &PathBuf, project: &str, id: &str) -> Option<String> {
    CONN.with(|cell| {
        let mut cell = cell.borrow_mut();
        let conn = cell.get_or_insert_with(|| {
            let c = rusqlite::Connection::open_with_flags(
                file,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .expect("open database");
            c.query_row("PRAGMA mmap_size = 1073741824", [], |_| Ok(()))
                .expect("mmap");
            c
        });
        let mut stmt = conn
            .prepare_cached("SELECT json(doc) FROM customers WHERE id = ?1 AND project = ?2")
            .expect("prepare");
        stmt.query_row([id, project], |r| r.get::<_, String>(0))
            .ok()
    })
}

async fn customer(
    State(file): State<PathBuf>,
    Path((project, id)): Path<(String, String)>,
) -> Response {
    match read_doc(&file, &project, &id) {
        Some(doc) => ([(header::CONTENT_TYPE, "application/json")], doc).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn token() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"access_token":"ceiling","token_type":"Bearer","expires_in":172800,"scope":"manage_project:demo"}"#,
    )
        .into_response()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut file, mut listen) = (None, "127.0.0.1:18700".to_owned());
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--database" => file = args.next().map(PathBuf::from),
            "--listen" => listen = args.next().expect("--listen ADDR"),
            _ => {}
        }
    }
    let file = file.expect("--database FILE");
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/{project}/customers/{id}", get(customer))
        .with_state(file);
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
