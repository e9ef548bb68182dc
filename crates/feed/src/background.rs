//! Serving from a program that is not itself async.
use std::net::SocketAddr;

use axum::Router;

/// A server on its own runtime, in the background; it stops when dropped.
///
/// For embedding a feed in a synchronous program: the CLI's and the app's tests serve a real
/// feed (or a stand-in that injects faults) this way, on 127.0.0.1 and a port the system picks.
pub struct Background {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl Background {
    /// Serve `app` at `addr`; port 0 takes any free port.
    pub fn serve(addr: SocketAddr, app: Router) -> std::io::Result<Background> {
        let runtime = crate::runtime()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(addr))?;
        let addr = listener.local_addr()?;
        runtime.spawn(async move {
            let limits = crate::Limits::default().within_descriptors();
            let forever = std::future::pending();
            if let Err(e) = crate::serve(listener, app, limits, forever).await {
                tracing::error!(error = %e, "the background server stopped");
            }
        });
        Ok(Background {
            addr,
            _runtime: runtime,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
