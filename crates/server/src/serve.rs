//! The connection layer: binds the listening socket (with a deep backlog, so a burst of
//! connects is queued instead of dropped), accepts at most `max_connections` connections at a
//! time, serves HTTP/1.1 on each with hyper, closes connections whose request head arrives too
//! slowly or that sit idle too long, and drains on shutdown.
//!
//! Drain (SIGTERM / Ctrl-C): the connections already in the kernel's backlog are accepted, then
//! the listener is closed, so later connects are refused. Every connection opened before the
//! signal gets its request answered (one whose request is still arriving, body included, is
//! served to the end) with `Connection: close`; kept-alive connections with nothing in flight
//! are closed. After `shutdown_grace`, requests still running are answered 503 and every
//! connection is closed. Only then does `serve` return, so the caller can close the database
//! pool under no running request.
//!
//! This module knows nothing of the API: it takes an axum `Router` and owns sockets and timers.

use crate::error::ApiError;
use axum::http::{header, HeaderValue, Request};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// Limits and timeouts of the connection layer.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Longest time from a request's first byte to its complete head.
    pub header_read_timeout: Duration,
    /// Longest time a connection may wait for its next request with nothing in flight.
    pub idle_timeout: Duration,
    /// Most connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// How long a drain waits for running requests before answering them 503.
    pub shutdown_grace: Duration,
}

/// Where the server is in its life; connections watch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Draining,
    Expired,
}

/// Binds `address` with a listen backlog of `backlog` (the kernel caps it at `somaxconn`).
pub fn bind(address: &str, backlog: i32) -> io::Result<TcpListener> {
    let addr: SocketAddr = match address.parse() {
        Ok(addr) => addr,
        Err(_) => std::net::ToSocketAddrs::to_socket_addrs(address)?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?,
    };
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    // A restarted server may bind while the old one's connections linger in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    TcpListener::from_std(socket.into())
}

/// Serves `app` on `listener` until `shutdown` completes, then drains (see the module docs).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let open = Arc::new(OpenConnections::default());
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                spawn_connection(stream, &app, &limits, &phase_rx, &open, Some(permit));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    let _ = phase_tx.send(Phase::Draining);
    // The connections the kernel already completed belong to clients that connected before the
    // signal: take them all, then close the listener so later connects are refused.
    let listener = listener.into_std()?;
    listener.set_nonblocking(true)?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(true)?;
                let stream = TcpStream::from_std(stream)?;
                spawn_connection(stream, &app, &limits, &phase_rx, &open, None);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed while draining");
                break;
            }
        }
    }
    drop(listener);
    tracing::info!(connections = open.count.load(Ordering::SeqCst), "draining");
    let deadline = Instant::now() + limits.shutdown_grace;
    open.wait_until_none(deadline).await;
    let _ = phase_tx.send(Phase::Expired);
    // Late requests now get their 503 and their connections close; give the writes a moment.
    open.wait_until_none(Instant::now() + Duration::from_secs(5))
        .await;
    Ok(())
}

/// Counts open connections and wakes the drain when one closes.
#[derive(Default)]
struct OpenConnections {
    count: AtomicUsize,
    closed: Notify,
}

impl OpenConnections {
    async fn wait_until_none(&self, deadline: Instant) {
        loop {
            let notified = self.closed.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

/// Decrements the open count when a connection task ends, however it ends.
struct OpenGuard(Arc<OpenConnections>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::SeqCst);
        self.0.closed.notify_waiters();
    }
}

/// What one connection is doing, as its request service and its socket see it.
struct ConnState {
    born: Instant,
    in_flight: AtomicUsize,
    served: AtomicU64,
    /// Milliseconds since `born` + 1 when the first byte of a request head arrived; 0 if none.
    head_since: AtomicU64,
    /// Milliseconds since `born` when the connection last became idle.
    idle_since: AtomicU64,
}

impl ConnState {
    fn new() -> Self {
        ConnState {
            born: Instant::now(),
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn saw_bytes(&self) {
        if self.in_flight.load(Ordering::SeqCst) == 0 && self.head_since.load(Ordering::SeqCst) == 0
        {
            self.head_since
                .store(self.now_ms().saturating_add(1), Ordering::SeqCst);
        }
    }
}

/// Marks a request in flight for as long as it lives.
struct InFlight(Arc<ConnState>);

impl InFlight {
    fn start(conn: Arc<ConnState>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::SeqCst);
        conn.head_since.store(0, Ordering::SeqCst);
        InFlight(conn)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.served.fetch_add(1, Ordering::SeqCst);
        self.0.idle_since.store(self.0.now_ms(), Ordering::SeqCst);
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The socket, noting when bytes arrive so the header-read timeout knows a request began.
struct Tracked {
    stream: TcpStream,
    conn: Arc<ConnState>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.conn.saw_bytes();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// How the watchdog wants a connection closed.
enum Close {
    /// Let the request in flight finish (or close at once when idle).
    Graceful,
    /// Drop the socket now.
    Hard,
}

fn spawn_connection(
    stream: TcpStream,
    app: &Router,
    limits: &Arc<ConnectionLimits>,
    phase: &watch::Receiver<Phase>,
    open: &Arc<OpenConnections>,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
) {
    let _ = stream.set_nodelay(true);
    open.count.fetch_add(1, Ordering::SeqCst);
    let guard = OpenGuard(open.clone());
    let conn = Arc::new(ConnState::new());
    let io = TokioIo::new(Tracked {
        stream,
        conn: conn.clone(),
    });
    let service = {
        let (app, conn, phase) = (app.clone(), conn.clone(), phase.clone());
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let (app, conn, phase) = (app.clone(), conn.clone(), phase.clone());
            async move {
                let _in_flight = InFlight::start(conn);
                let mut expired = phase.clone();
                let late = async move {
                    if expired.wait_for(|p| *p == Phase::Expired).await.is_err() {
                        std::future::pending::<()>().await;
                    }
                };
                let mut response = tokio::select! {
                    response = app.oneshot(request) => match response {
                        Ok(response) => response,
                        Err(never) => match never {},
                    },
                    _ = late => ApiError::ShuttingDown.into_response(),
                };
                if *phase.borrow() != Phase::Running {
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(response)
            }
        })
    };
    let limits = limits.clone();
    let mut phase = phase.clone();
    let mut expiry = phase.clone();
    tokio::spawn(async move {
        let _guard = guard;
        let _permit = permit;
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(None)
            .keep_alive(true);
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        let mut closing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    break;
                }
                close = watchdog(&conn, &limits, &mut phase), if !closing => match close {
                    Close::Hard => break,
                    Close::Graceful => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                },
                _ = expired_for_a_while(&mut expiry), if closing => break,
            }
        }
    });
}

/// Completes 5 s after the grace period ended: by then a late 503 has been written.
async fn expired_for_a_while(phase: &mut watch::Receiver<Phase>) {
    if phase.wait_for(|p| *p == Phase::Expired).await.is_err() {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
}

/// Waits until the connection should close, and says how.
async fn watchdog(
    conn: &ConnState,
    limits: &ConnectionLimits,
    phase: &mut watch::Receiver<Phase>,
) -> Close {
    let tick = (limits.header_read_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(10), Duration::from_millis(500));
    loop {
        let now = conn.now_ms();
        let current = *phase.borrow_and_update();
        let in_flight = conn.in_flight.load(Ordering::SeqCst) > 0;
        let head_since = conn.head_since.load(Ordering::SeqCst);
        if in_flight {
            if current != Phase::Running {
                return Close::Graceful;
            }
        } else {
            if current == Phase::Expired {
                return Close::Hard;
            }
            if head_since != 0 {
                let waited = Duration::from_millis(now.saturating_sub(head_since - 1));
                if waited >= limits.header_read_timeout {
                    return Close::Hard;
                }
            } else {
                let idle = Duration::from_millis(
                    now.saturating_sub(conn.idle_since.load(Ordering::SeqCst)),
                );
                if idle >= limits.idle_timeout {
                    return Close::Graceful;
                }
                // Draining: a kept-alive connection with nothing in flight is done. One that
                // has not sent its first request yet came from the backlog and is waited for.
                if current == Phase::Draining && conn.served.load(Ordering::SeqCst) > 0 {
                    return Close::Graceful;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            changed = phase.changed() => {
                if changed.is_err() {
                    tokio::time::sleep(tick).await;
                }
            }
        }
    }
}
