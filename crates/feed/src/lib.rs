//! The regional feed server: publishes a Signpost directory through the ORUK 3.0 API, the open
//! read-only API UK councils publish, so any ORUK client can read it, and through Signpost's
//! sync API, a hash-chained log of changesets that clients apply (see `sync.rs`).
//!
//! The HTTP layer is thin: handlers parse parameters, call `signpost-directory` on a blocking
//! thread, and shape the response. [`router`] builds the whole app so tests can serve it on a
//! random port.
#![deny(missing_docs)]

mod background;
mod error;
pub mod export;
mod group;
mod moderate;
mod oruk;
mod page;
pub mod publish;
pub mod pull;
mod server;
mod submissions;
mod sync;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use deadpool::unmanaged::Pool;
use signpost_directory::Directory;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use background::Background;
pub use error::ApiError;
pub use page::CONTENT_SECURITY_POLICY;
pub use server::{serve, Limits};

/// No request body is larger than this (the ORUK API takes none; submissions will be small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// No request runs longer than this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A snapshot is published once this many changesets have accumulated since the last one, so a
/// new client never replays more than this many.
pub const SNAPSHOT_EVERY: u64 = 64;

/// Publish a snapshot if [`SNAPSHOT_EVERY`] changesets have been published since the last one.
/// The feed's commands call this after every change, which makes snapshots periodic.
pub fn snapshot_if_due(
    directory: &mut Directory,
) -> signpost_directory::Result<Option<(u64, String)>> {
    let head = directory.changeset_head()?.map_or(0, |h| h.seq);
    let last = directory.newest_snapshot()?.map_or(0, |s| s.seq);
    if head >= last + SNAPSHOT_EVERY {
        directory.publish_snapshot()
    } else {
        Ok(None)
    }
}

/// Read-only connections for the sync API alone: a client's `/sync/head` and changeset
/// fetches never queue behind ORUK list pages.
const SYNC_READERS: usize = 2;

/// Read-only connections for the ORUK routes: one per core, since their work is CPU-bound.
fn oruk_readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// The runtime to serve on: its blocking threads are capped at the readers there are to use
/// (and two more: the sync head's reads and the writer's).
///
/// Tokio starts a blocking thread whenever none is idle at the instant work is handed over,
/// up to 512: at 15k requests a second it had started 29 for 5 connections, and with mimalloc each
/// kept memory freed on it, which took the server from 85 to 236 MB once heavy pages ran on
/// them (measured). Work beyond the cap waits for a thread, as it waits for a reader anyway.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(oruk_readers() + SYNC_READERS + 2)
        .build()
}

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The one connection that may write (submissions will); reads never wait for it, except
    /// for a directory with no file of its own (in memory), which has no readers.
    writer: Arc<Mutex<Directory>>,
    readers: Option<Readers>,
    /// What groups send, held for moderators (none: the feed takes no submissions).
    moderation: Option<Arc<Mutex<signpost_moderation::Moderation>>>,
    /// Mark the moderators' cookies Secure (the feed is served over HTTPS, perhaps behind a
    /// proxy), so a browser never sends them over plain HTTP.
    secure_cookies: bool,
    /// `/sync/head`, on a connection of its own (none for a directory without a file).
    head: Option<Arc<sync::HeadCache>>,
}

/// Pools of read-only connections (SQLite in WAL mode reads in parallel, beside a writer).
#[derive(Clone)]
struct Readers {
    /// ORUK lists and records: one connection per core, since their work is CPU-bound; more
    /// requests wait for a free one, without a thread, so memory stays bounded too.
    oruk: Pool<Directory>,
    /// The sync API, apart.
    sync: Pool<Directory>,
}

/// Which readers a request uses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lane {
    Oruk,
    Sync,
}

impl AppState {
    /// Serve this directory: reads go to read-only connections opened on its file.
    pub fn new(directory: Directory) -> AppState {
        let path = directory
            .connection()
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from);
        let oruk = oruk_readers();
        let readers = path.as_ref().and_then(|path| {
            match Directory::open_readers(path, oruk + SYNC_READERS) {
                Ok(mut all) => {
                    let sync = all.split_off(oruk);
                    Some(Readers {
                        oruk: Pool::from(all),
                        sync: Pool::from(sync),
                    })
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no read-only connections; reads share the writer");
                    None
                }
            }
        });
        let head = path.and_then(|path| {
            let reader = Directory::open_readers(&path, 1).map(|mut one| one.pop());
            match reader.and_then(|one| one.map(sync::HeadCache::new).transpose()) {
                Ok(cache) => cache.map(Arc::new),
                Err(e) => {
                    tracing::warn!(error = %e, "no connection for /sync/head; it uses the sync readers");
                    None
                }
            }
        });
        AppState {
            writer: Arc::new(Mutex::new(directory)),
            readers,
            moderation: None,
            secure_cookies: false,
            head,
        }
    }

    /// Take submissions, claims and reports into this moderation store.
    pub fn with_moderation(mut self, store: signpost_moderation::Moderation) -> AppState {
        self.moderation = Some(Arc::new(Mutex::new(store)));
        self
    }

    /// Mark the moderators' session cookies Secure.
    pub fn with_secure_cookies(mut self, secure: bool) -> AppState {
        self.secure_cookies = secure;
        self
    }

    /// Run `f` with a read-only directory of `lane` on a blocking thread, so SQLite never
    /// stalls the async runtime.
    pub(crate) async fn read<T, F>(&self, lane: Lane, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Directory) -> Result<T, ApiError> + Send + 'static,
    {
        let Some(readers) = &self.readers else {
            let writer = self.writer.clone();
            return blocking(move || {
                let guard = writer
                    .lock()
                    .map_err(|_| ApiError::Internal("directory lock poisoned".into()))?;
                f(&guard)
            })
            .await;
        };
        let pool = match lane {
            Lane::Oruk => &readers.oruk,
            Lane::Sync => &readers.sync,
        };
        let mut reader = pool
            .get()
            .await
            .map_err(|e| ApiError::Internal(format!("{lane:?} readers: {e}")))?;
        blocking(move || {
            // What another process imported, or a moderator approved, since the index in use
            // was made is searched too.
            reader.refresh_index()?;
            f(&reader)
        })
        .await
    }

    /// [`AppState::read`] for the ORUK API.
    pub(crate) async fn with_directory<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Directory) -> Result<T, ApiError> + Send + 'static,
    {
        self.read(Lane::Oruk, f).await
    }
}

async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// The whole HTTP app.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(oruk::api_details))
        .route("/openapi.json", get(oruk::openapi))
        .route("/services", get(oruk::services))
        .route("/services/{id}", get(oruk::service))
        .route("/service_at_locations", get(oruk::service_at_locations))
        .route("/service_at_locations/{id}", get(oruk::service_at_location))
        .route("/sync/head", get(sync::head))
        .route("/sync/head.json", get(sync::head_file))
        .route("/sync/log/{hash}", get(sync::log_page))
        .route("/sync/changesets", get(sync::list))
        .route("/sync/changesets/{hash}", get(sync::changeset))
        .route("/sync/snapshots/{hash}", get(sync::snapshot))
        .route("/submissions/{id}", get(submissions::status))
        .merge(submissions::write_routes())
        .route("/taxonomies", get(oruk::taxonomies))
        .route("/taxonomies/{id}", get(oruk::taxonomy))
        .route("/taxonomy_terms", get(oruk::taxonomy_terms))
        .route("/taxonomy_terms/{id}", get(oruk::taxonomy_term))
        .route("/organizations", get(oruk::organizations))
        .route("/organizations/{id}", get(oruk::organization))
        // Any site may read the open API; none may read the moderators' pages.
        .layer(CorsLayer::new().allow_origin(Any).allow_methods(Any))
        .merge(moderate::routes())
        .merge(group::routes())
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    /// Requests on `lane` that hold every one of its readers until the senders are dropped.
    async fn hold_every_reader(
        state: &AppState,
        lane: Lane,
    ) -> (
        Vec<std::sync::mpsc::Sender<()>>,
        Vec<tokio::task::JoinHandle<Result<(), ApiError>>>,
    ) {
        let readers = state.readers.as_ref().expect("a file has readers");
        let size = match lane {
            Lane::Oruk => readers.oruk.status().max_size,
            Lane::Sync => readers.sync.status().max_size,
        };
        let (started, running) = std::sync::mpsc::channel();
        let mut releases = Vec::new();
        let mut held = Vec::new();
        for _ in 0..size {
            let (release, wait) = std::sync::mpsc::channel::<()>();
            releases.push(release);
            let started = started.clone();
            let state = state.clone();
            held.push(tokio::spawn(async move {
                state
                    .read(lane, move |_| {
                        started.send(()).unwrap();
                        let _ = wait.recv();
                        Ok(())
                    })
                    .await
            }));
        }
        for _ in 0..size {
            running
                .recv_timeout(Duration::from_secs(30))
                .expect("each reader is taken");
        }
        (releases, held)
    }

    /// However much blocking work arrives at once, the server's runtime runs it on no more
    /// threads than its cap; tokio's default would start one per task here.
    #[test]
    fn the_runtime_keeps_few_blocking_threads() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cap = oruk_readers() + SYNC_READERS + 2;
        let runtime = runtime().unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..cap * 4)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                runtime.spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Long enough for every task to have been handed to a thread.
                    std::thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        runtime.block_on(async {
            for t in tasks {
                t.await.unwrap();
            }
        });
        let most = most.load(Ordering::SeqCst);
        assert!(
            most <= cap,
            "{most} blocking threads at once; the cap is {cap}"
        );
        assert!(most > 1, "the tasks overlapped");
    }

    async fn head_of(state: &AppState) -> serde_json::Value {
        let response = sync::head(axum::extract::State(state.clone()))
            .await
            .unwrap()
            .into_response();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// Every ORUK reader held by a request that does not finish: the sync API still answers,
    /// from its own readers. With one connection behind one lock, it waited.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sync_api_answers_while_every_oruk_reader_is_busy() {
        let folder = tempfile::tempdir().unwrap();
        let writer = Directory::open_publisher(&folder.path().join("feed.db")).unwrap();
        let state = AppState::new(writer);
        let (releases, held) = hold_every_reader(&state, Lane::Oruk).await;
        let log = tokio::time::timeout(
            Duration::from_secs(30),
            sync::list(
                axum::extract::State(state.clone()),
                axum::extract::Query(Default::default()),
            ),
        )
        .await
        .expect("the changeset log does not wait for ORUK readers")
        .unwrap();
        assert_eq!(log.0["changesets"], serde_json::json!([]));
        drop(releases);
        for h in held {
            h.await.unwrap().unwrap();
        }
    }

    /// `/sync/head` takes no reader from a pool: with every reader of both kinds busy it still
    /// answers, and what it keeps between requests never hides a commit made meanwhile by
    /// another connection (as `signpost-feed import` makes from another process).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_head_needs_no_reader_and_follows_other_connections_commits() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("feed.db");
        let state = AppState::new(Directory::open_publisher(&path).unwrap());
        let (oruk, oruk_held) = hold_every_reader(&state, Lane::Oruk).await;
        let (sync, sync_held) = hold_every_reader(&state, Lane::Sync).await;
        let before = head_of(&state).await;
        assert_eq!(before["seq"], 0);
        assert_eq!(before["feed_id"].as_str().unwrap().len(), 32);

        let mut other = Directory::open_publisher(&path).unwrap();
        let record = serde_json::json!({"id": "a", "name": "A", "status": "active"});
        other
            .import_sources(vec![("other".into(), vec![record])], &mut |_| {})
            .unwrap();
        other.publish_snapshot().unwrap();
        let expected = other.changeset_head().unwrap().unwrap();
        let after = head_of(&state).await;
        assert_eq!(after["seq"], 1, "{after}");
        assert_eq!(after["hash"], expected.hash.as_str());
        assert_eq!(after["feed_id"], before["feed_id"]);
        assert_eq!(after["snapshot"]["seq"], 1, "{after}");
        drop((oruk, sync));
        for h in oruk_held.into_iter().chain(sync_held) {
            h.await.unwrap().unwrap();
        }
    }
}
