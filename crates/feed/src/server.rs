//! Accepting connections so that slow, idle or too many clients cannot lock others out.
//!
//! `axum::serve` keeps every connection for as long as the client likes, and accepts until the
//! process runs out of file descriptors, after which no one is served ("accept error: Too many
//! open files"). Here every connection holds a permit of a fixed number; one that arrives when
//! none is left is closed at once, and a connection that has not sent a complete request head
//! within the header timeout (idle between keep-alive requests, or half-sent) is closed.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How many connections a server holds, and how long it waits for a request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; more are closed as soon as they are accepted. Keep it below
    /// the process's file-descriptor limit (see [`Limits::within_descriptors`]).
    pub max_connections: usize,
    /// How long a connection may take to send a whole request head, counted from the moment it
    /// is ready for one: a keep-alive connection idle for this long is closed too.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 10_000,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// File descriptors kept back from the connection cap for SQLite's files, the listener and logs.
const RESERVED_DESCRIPTORS: u64 = 128;

/// How long shutdown waits for requests in flight to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Pause after a failed accept (out of descriptors or memory), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

impl Limits {
    /// These limits with the connection cap lowered to fit the process's file-descriptor limit
    /// (first raised to its hard limit), so the cap, not the kernel, turns connections away.
    pub fn within_descriptors(self) -> Limits {
        let descriptors = rlimit::increase_nofile_limit(u64::MAX)
            .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
            .unwrap_or(1024);
        let fits = descriptors.saturating_sub(RESERVED_DESCRIPTORS).max(1);
        Limits {
            max_connections: self.max_connections.min(fits as usize),
            ..self
        }
    }
}

/// Serve `app` on `listener` within `limits` until `shutdown` completes, then let requests in
/// flight finish (for at most [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection refused: too many open"
            );
            drop(stream);
            continue;
        };
        // Responses are written whole; Nagle's delay would only hold back their last packet.
        let _ = stream.set_nodelay(true);
        let connection = graceful.watch(http.serve_connection(
            TokioIo::new(stream),
            // The peer's address, for the write endpoints' rate limit per address.
            TowerToHyperService::new(tower_http::add_extension::AddExtension::new(
                app.clone(),
                axum::extract::ConnectInfo(peer),
            )),
        ));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
    Ok(())
}
