//! Accepting connections, guarded against slow or oversized requests and
//! slow readers, and shutting down gracefully: on Ctrl-C or SIGTERM the
//! relay stops accepting and finishes the requests in flight.

mod connection;

use crate::error::RelayError;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use connection::Connection;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Request headers larger than this are refused (431): hyper's minimum, and
/// room enough for an SSO proxy's session cookies and signed assertion.
/// It also bounds what hyper queues for writing before it asks the
/// response body for more.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// How long requests in flight may take to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// What a client turned away at the connection cap is told to wait.
pub const OVER_CAPACITY_RETRY_SECS: u64 = 5;
/// Connections beyond the cap still answered (health checks, a 503 for the
/// rest), each given one second for its request; beyond these too, a new
/// connection is closed at once, so a flood cannot run the relay out of
/// file descriptors.
pub const OVER_CAPACITY_CONNECTIONS: usize = 64;
const OVER_CAPACITY_HEADER_TIMEOUT: Duration = Duration::from_secs(1);
/// File descriptors the relay needs beyond its client connections: Adapty,
/// the JWKS, the audit log, the panel's files, the runtime.
const SPARE_FILES: u64 = 256;

/// What the operator sets for connections.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: NonZeroUsize,
    /// Requests handled at once (the HTTP layer holds them to it); here,
    /// for the files they may open.
    pub max_concurrent_requests: NonZeroUsize,
}

/// Raises the soft limit of open files to the hard one, and says (an error
/// to refuse the start) when even that cannot hold every connection the
/// flags allow: the connection cap must come before the system's limit, or
/// a flood of connections takes `/healthz` down with the rest.
pub fn ensure_open_files(limits: &Limits) -> Result<(), String> {
    let needed = (limits.max_connections.get() + OVER_CAPACITY_CONNECTIONS) as u64
        + limits.max_concurrent_requests.get() as u64
        + SPARE_FILES;
    let available = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|error| format!("cannot read the limit of open files: {error}"))?;
    if available < needed {
        return Err(format!(
            "--max-connections {} with --max-concurrent-requests {} needs {needed} open files, \
             and the limit is {available}: raise it (ulimit -n, or LimitNOFILE= for systemd) \
             or lower --max-connections",
            limits.max_connections, limits.max_concurrent_requests
        ));
    }
    Ok(())
}

/// Marks a request that came on a connection beyond the cap.
#[derive(Clone, Copy)]
pub struct OverCapacity;

pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEADER_BYTES);
    // Beyond the cap, a connection gets one answer, soon, and is closed.
    let mut over_capacity = http.clone();
    over_capacity
        .keep_alive(false)
        .header_read_timeout(OVER_CAPACITY_HEADER_TIMEOUT);
    let open = Arc::new(Semaphore::new(limits.max_connections.get()));
    let spare = Arc::new(Semaphore::new(OVER_CAPACITY_CONNECTIONS));
    let mut last_accept_warning: Option<std::time::Instant> = None;
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause, don't spin,
                    // and say so once in a while, not twenty times a second.
                    if last_accept_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                        tracing::warn!(%error, "accept failed");
                        last_accept_warning = Some(std::time::Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small responses go out at once instead of waiting on Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let (permit, over) = match open.clone().try_acquire_owned() {
            Ok(permit) => (permit, false),
            Err(_) => match spare.clone().try_acquire_owned() {
                Ok(permit) => (permit, true),
                // Beyond the cap and its spare room too: closed at once.
                Err(_) => continue,
            },
        };
        let stream = Connection::new(stream, limits.write_timeout);
        let service = TowerToHyperService::new(app.clone().map_request(
            move |mut request: axum::http::Request<Incoming>| {
                // The client's address, for what is counted per client (the audit log's share).
                request.extensions_mut().insert(ConnectInfo(peer));
                if over {
                    request.extensions_mut().insert(OverCapacity);
                }
                request
            },
        ));
        let builder = if over { &over_capacity } else { &http };
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the drain timeout were cut off");
    }
}

/// On a connection beyond the cap, only health checks are answered; the
/// rest get 503 with `Retry-After` (and the connection closes).
pub async fn refuse_over_capacity(request: Request, next: Next) -> Response {
    let over = request.extensions().get::<OverCapacity>().is_some();
    if over && request.uri().path() != "/healthz" {
        return RelayError::Busy {
            retry_after_secs: OVER_CAPACITY_RETRY_SECS,
        }
        .into_response();
    }
    next.run(request).await
}
