//! A bounded pool for Argon2id work, so a burst of sign-ups or logins never stalls the async
//! executor and never queues without bound: past the queue limit a request gets a prompt 503,
//! and so does a request that waited for a worker longer than the pool's wait bound, when one
//! is set (past capacity the queue then sheds waiters instead of growing everyone's latency).
//! Each running hash borrows an Argon2 memory block kept between hashes (at most one per
//! worker), so a hash does not allocate and fault in 19 MiB each time. A block grown past the
//! configured cost (verifying a costlier hash imported from elsewhere) is freed after that
//! verification (`PasswordHasher::verify_in`), so the pool keeps at most workers × the cost.

use crate::error::ApiError;
use clientele_domain::{HashMemory, PasswordHash, PasswordHasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Runs hashing and verification on blocking threads, at most `workers` at a time, with at
/// most `queue` more waiting.
#[derive(Clone)]
pub struct HashPool {
    hasher: Arc<PasswordHasher>,
    /// Memory blocks of finished hashes, for the next ones (at most `worker_count`).
    memory: Arc<Mutex<Vec<HashMemory>>>,
    workers: Arc<Semaphore>,
    admission: Arc<Semaphore>,
    /// Counts verifications, so tests can prove the unknown-email path verifies too.
    verifications: Arc<std::sync::atomic::AtomicU64>,
    worker_count: usize,
    admission_count: usize,
    /// Longest an admitted request waits for a worker before it is refused (`None`: no bound).
    max_wait: Option<Duration>,
    /// Requests refused with 503 because the queue was full (exported as a metric).
    rejections: prometheus_client::metrics::counter::Counter,
}

/// How busy the pool is right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    /// Hashes or verifications running on a worker.
    pub running: usize,
    /// Admitted requests waiting for a worker.
    pub queued: usize,
}

impl HashPool {
    /// A pool with `workers` concurrent hashes and room for `queue` waiting requests.
    pub fn new(hasher: PasswordHasher, workers: usize, queue: usize) -> Self {
        let worker_count = workers.max(1);
        let admission_count = worker_count + queue;
        HashPool {
            hasher: Arc::new(hasher),
            memory: Arc::default(),
            workers: Arc::new(Semaphore::new(worker_count)),
            admission: Arc::new(Semaphore::new(admission_count)),
            verifications: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            worker_count,
            admission_count,
            max_wait: None,
            rejections: Default::default(),
        }
    }

    /// This pool with `max_wait` as the longest an admitted request waits for a worker.
    pub fn with_max_wait(mut self, max_wait: Option<Duration>) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The longest an admitted request waits for a worker, if bounded.
    pub fn max_wait(&self) -> Option<Duration> {
        self.max_wait
    }

    /// The counter of refused requests, shared with the metrics registry.
    pub fn rejections(&self) -> prometheus_client::metrics::counter::Counter {
        self.rejections.clone()
    }

    /// Running and queued work now (two unsynchronised reads: a sample, not a snapshot).
    pub fn occupancy(&self) -> Occupancy {
        let running = self.worker_count - self.workers.available_permits().min(self.worker_count);
        let admitted =
            self.admission_count - self.admission.available_permits().min(self.admission_count);
        Occupancy {
            running,
            queued: admitted.saturating_sub(running),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&PasswordHasher, &mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _admitted = self.admission.clone().try_acquire_owned().map_err(|_| {
            self.rejections.inc();
            ApiError::OverCapacity
        })?;
        let worker = self.workers.clone().acquire_owned();
        let waited = match self.max_wait {
            Some(bound) => tokio::time::timeout(bound, worker).await.ok(),
            None => Some(worker.await),
        };
        let Some(Ok(_worker)) = waited else {
            // Waiting longer would only make this and every later request slower.
            self.rejections.inc();
            return Err(ApiError::OverCapacity);
        };
        let hasher = self.hasher.clone();
        let spare = self.memory.clone();
        let keep = self.worker_count;
        tokio::task::spawn_blocking(move || {
            let mut memory = spare
                .lock()
                .ok()
                .and_then(|mut s| s.pop())
                .unwrap_or_default();
            let result = job(&hasher, &mut memory);
            if let Ok(mut spare) = spare.lock() {
                if spare.len() < keep {
                    spare.push(memory);
                }
            }
            result
        })
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task failed: {e}")))
    }

    /// Hashes `password` with `salt`.
    pub async fn hash(&self, password: String, salt: [u8; 16]) -> Result<PasswordHash, ApiError> {
        self.run(move |h, m| h.hash_in(&password, salt, m))
            .await?
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Verifies `password` against `hash` (or against a dummy hash when `None`, taking as long).
    pub async fn verify(
        &self,
        password: String,
        hash: Option<PasswordHash>,
    ) -> Result<bool, ApiError> {
        self.verifications
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.run(move |h, m| h.verify_in(&password, hash.as_ref(), m))
            .await
    }

    /// How many verifications ran so far.
    pub fn verification_count(&self) -> u64 {
        self.verifications
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}
