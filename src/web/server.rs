//! The HTTP server loop: accepts connections on the listener and serves the router on each
//! with the limits a public-facing service needs.
//!
//! - **HTTP/1.1** (a TLS proxy in front may speak HTTP/2 to browsers).
//! - **Header-read timeout** (`[http] header_timeout_secs`): a connection that has not sent a
//!   whole request head within it is closed. hyper runs the same timer while a keep-alive
//!   connection waits for its next request, so it is also the idle timeout: a slowloris
//!   client that trickles header bytes, or a socket opened and left idle, is dropped.
//! - **Connection limit** (`[http] max_connections`): past it the loop stops accepting and new
//!   clients wait in the kernel's backlog instead of exhausting file descriptors.
//! - **Shutdown with a deadline** (`[http] shutdown_grace_secs`): when `shutdown` completes the
//!   listener closes, open connections finish the request in flight (event streams end on
//!   their own, see `actions::events`), and whatever is still open at the deadline is dropped.
//!
//! Each request carries the peer address as `ConnectInfo<SocketAddr>` (the login's
//! per-client limit reads it). It must not know any route: it serves whatever router it is
//! given.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::config::HttpSettings;

/// Pause after a failed `accept` (for example EMFILE), so the loop does not spin while the
/// process is out of descriptors.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The server's limits, from `[http]`.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl ServerLimits {
    pub fn from_settings(http: &HttpSettings) -> ServerLimits {
        ServerLimits {
            header_timeout: Duration::from_secs(http.header_timeout_secs),
            max_connections: http.max_connections,
            shutdown_grace: Duration::from_secs(http.shutdown_grace_secs),
        }
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits::from_settings(&HttpSettings::default())
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains open connections
/// for at most `limits.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
) -> std::io::Result<()> {
    // HTTP/1.1 only: a version-sniffing (HTTP/2 cleartext) server reads the first bytes before
    // any timeout runs, so a client that sends nothing would hold its connection for ever.
    // Browsers reach earshot over HTTP/1.1, or over HTTP/2 to a TLS proxy in front.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(error = %error, "Could not accept a connection.");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = tower::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request)
        });
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "Connection closed with an error.");
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = limits.max_connections.max(1) - slots.available_permits();
    tracing::info!(open, "Web server stopping: finishing open requests.");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(
                grace_secs = limits.shutdown_grace.as_secs(),
                "Connections still open at the shutdown deadline were dropped."
            );
        }
    }
    Ok(())
}
