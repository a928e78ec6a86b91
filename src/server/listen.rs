//! The accept loop: HTTP/1.1 connections served by hyper with a cap on how many are open at
//! once and a deadline for each request's headers, so that slow or idle clients (a slow-loris
//! attack: many connections trickling a byte a second) cannot hold every slot.
//!
//! At the cap the loop stops accepting: new connections wait in the kernel's backlog until one
//! closes (they are not refused). A connection whose request headers have not all arrived within
//! the deadline is closed; the deadline runs from the moment the server starts reading a request,
//! so an idle keep-alive connection is closed after it too. A request whose body has not all
//! arrived within the body deadline is answered 408 (a middleware of [`super::router`]). On shutdown the loop stops accepting
//! and waits for the open connections to finish their requests.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Limits on client connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once; more wait to be accepted (default 256).
    pub max_connections: usize,
    /// Longest a client may take to send a request's headers, counted from when the server
    /// starts reading it (also the keep-alive idle limit); then the connection is closed
    /// (default 10 s).
    pub header_timeout: Duration,
    /// Longest a client may take to send a request's body once its headers are in; then the
    /// request is answered 408 and its connection closed (default 30 s: a body at the 64 KiB
    /// limit arrives within it at 2.2 KB/s).
    pub body_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then waits for the
/// open connections to finish (at most 30 s).
///
/// Errors: none; a failed `accept` (e.g. out of file descriptors) is logged and retried after
/// 100 ms, and a connection's error is logged at debug level.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, shutdown: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!("accept failed: {e}; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer} ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open 30 s after shutdown began");
    }
}
