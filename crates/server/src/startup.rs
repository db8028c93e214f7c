//! Building and running the server: `Application::build` opens the store, seeds a demo
//! project on an empty database, binds the listener (port 0 allowed) and assembles the router;
//! `run_until_stopped` serves until Ctrl-C / SIGTERM, drains (`serve`), and only then closes
//! the database pool, so no running request ever loses its connection.

use crate::api;
use crate::clock::{Clock, Random};
use crate::config::ServeConfig;
use crate::hashing::HashPool;
use crate::serve::ConnectionLimits;
use crate::state::{AppState, Shared};
use crate::throttle::LoginThrottle;
use clientele_domain::{PasswordHasher, Project};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened or migrated.
    #[error("cannot open database: {0}")]
    Database(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {cause}")]
    Bind {
        /// The address.
        address: String,
        /// Why.
        cause: std::io::Error,
    },
    /// Anything else during start-up.
    #[error("{0}")]
    Other(String),
}

/// A bound, ready-to-serve Clientele.
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    state: AppState,
    max_body_bytes: usize,
    limits: ConnectionLimits,
    bootstrap: Option<String>,
    delivery: Option<crate::delivery::worker::DeliverySettings>,
}

impl Application {
    /// Opens the database (applying migrations), seeds `demo` on an empty one, binds.
    pub async fn build(
        config: ServeConfig,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
    ) -> Result<Self, StartupError> {
        let options = clientele_store::StoreOptions {
            pool_size: Some(config.db_pool_size),
            ..Default::default()
        };
        let store = clientele_store::open(&config.database.database_url, options)
            .await
            .map_err(|e| StartupError::Database(e.to_string()))?;
        let hasher = PasswordHasher::owasp().map_err(|e| StartupError::Other(e.to_string()))?;
        let workers = config.hash_workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2)
        });
        let hasher =
            HashPool::new(hasher, workers, config.hash_queue).with_max_wait(config.hash_queue_wait);
        let state = AppState::new(Shared {
            store,
            clock,
            random,
            metrics: crate::metrics::Metrics::new(hasher.rejections()),
            hasher,
            access_token_ttl_secs: config.access_token_ttl_secs,
            throttle: Arc::new(LoginThrottle::new(config.login_throttle)),
        });
        let bootstrap = seed_demo(&state, &config).await?;
        let listener =
            crate::serve::bind(&config.listen, config.listen_backlog).map_err(|cause| {
                StartupError::Bind {
                    address: config.listen.clone(),
                    cause,
                }
            })?;
        let address = listener
            .local_addr()
            .map_err(|e| StartupError::Other(e.to_string()))?;
        Ok(Application {
            listener,
            address,
            state,
            max_body_bytes: config.max_body_bytes,
            limits: ConnectionLimits {
                header_read_timeout: config.header_read_timeout,
                idle_timeout: config.idle_timeout,
                max_connections: config.max_connections,
                shutdown_grace: config.shutdown_grace,
            },
            bootstrap,
            delivery: (!config.delivery.disabled).then(|| config.delivery.settings()),
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Hashes passwords with `hasher` from now on, at most `workers` at a time with `queue`
    /// more waiting. Test servers use a cheap cost, so suites spend their time on behaviour.
    pub fn with_hasher(mut self, hasher: PasswordHasher, workers: usize, queue: usize) -> Self {
        let parts = self.state.parts_mut();
        let max_wait = parts.hasher.max_wait();
        parts.hasher = HashPool::new(hasher, workers, queue).with_max_wait(max_wait);
        // The metrics count the rejections of the pool that serves.
        parts.metrics = crate::metrics::Metrics::new(parts.hasher.rejections());
        self
    }

    /// The shared state, for tests that need the store or the clock.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The credentials text printed once when the demo project was just created.
    pub fn bootstrap_credentials(&self) -> Option<&str> {
        self.bootstrap.as_deref()
    }

    /// Serves until the process is asked to stop, drains, then closes the database pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, drains, then closes the database pool.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let worker = self
            .delivery
            .map(|settings| crate::delivery::worker::Worker::spawn(self.state.clone(), settings));
        let app = api::router(self.state, self.max_body_bytes);
        let served = crate::serve::serve(self.listener, app, self.limits, stop).await;
        if let Some(worker) = worker {
            worker.stop().await;
        }
        tracing::info!("drained; closing the database pool");
        store.close().await;
        served
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// On a database without projects: creates project `demo` and a `manage_project:demo` client,
/// and returns the text to print once. Of several processes starting on one empty database,
/// the one whose project insert wins does this; the others start without seeding.
async fn seed_demo(state: &AppState, config: &ServeConfig) -> Result<Option<String>, StartupError> {
    let count = state
        .store
        .count_projects()
        .await
        .map_err(|e| StartupError::Database(e.to_string()))?;
    if count > 0 {
        return Ok(None);
    }
    let project = Project {
        key: "demo".to_owned(),
        name: "Demo".to_owned(),
        languages: vec!["en".to_owned(), "de".to_owned()],
        countries: vec!["DE".to_owned(), "US".to_owned()],
        currencies: vec!["EUR".to_owned(), "USD".to_owned()],
    };
    match state
        .store
        .create_project(&project, state.clock.now())
        .await
    {
        Ok(()) => {}
        // Another node starting on the same empty database seeded it first; only that one
        // prints credentials.
        Err(clientele_store::StoreError::DuplicateField { .. }) => return Ok(None),
        Err(e) => return Err(StartupError::Database(e.to_string())),
    }
    let (id, secret) = crate::service::api_clients::create(
        state.store.as_ref(),
        state.clock.as_ref(),
        state.random.as_ref(),
        "demo",
        "manage_project:demo",
        None,
        None,
    )
    .await
    .map_err(StartupError::Other)?;
    let host = config.listen.replace("0.0.0.0", "127.0.0.1");
    Ok(Some(format!(
        "Created project 'demo' and an API client (shown only this once):\n  client id:     {id}\n  client secret: {secret}\n  scope:         manage_project:demo\nGet a token:\n  curl -s -u '{id}:{secret}' -X POST 'http://{host}/oauth/token' -d grant_type=client_credentials"
    )))
}
