//! The sync API: Signpost's own, because HSDS has no deletions and no integrity checks.
//!
//! - `GET /sync/head`: the newest changeset's `seq` and `hash` (`seq` 0 when none), the feed's
//!   `feed_id` (random, made with its data folder: a rebuilt feed has a new one, so its clients
//!   know to start again), and the newest snapshot's `seq`, `hash` and uncompressed `bytes`.
//! - `GET /sync/changesets?after=N&limit=M`: the log after `seq` N, oldest first.
//! - `GET /sync/changesets/{hash}`: one changeset, gzip-encoded, immutable: its URL is the
//!   SHA-256 of its canonical bytes, so it can be cached forever by anything in between.
//! - `GET /sync/snapshots/{hash}`: the whole directory as of a changeset, the same way, named in
//!   `/sync/head` so a new client starts there instead of replaying the log.
//! - `GET /sync/head.json`: the head, with the end of the log (`log`: the newest full page's hash
//!   and the changesets after it), and `GET /sync/log/{hash}`: a full page of 64 log entries,
//!   immutable, naming the page before. With these four kinds of file the log is readable
//!   without any query, so `signpost-feed publish` copies exactly this tree (`sync/…`) to an
//!   object store or a folder, and a client syncs from either the same way (see `publish.rs`).
use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use signpost_directory::{DataVersion, Directory};

use crate::{ApiError, AppState, Lane};

/// The most changesets one `/sync/changesets` answer lists (and its default).
pub(crate) const MAX_LIST: u64 = 1000;
/// `after` is a sequence number, which SQLite stores as a signed 64-bit integer.
pub(crate) const MAX_AFTER: u64 = i64::MAX as u64;

/// `GET /sync/head`: the feed's id, the newest changeset and, when there is one, the newest
/// snapshot. Served from [`HeadCache`]: while the data is unchanged, on the async runtime with
/// no pool, no blocking thread and no query.
pub async fn head(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let body = match state.head.clone() {
        Some(cache) => match cache.unchanged() {
            Some(body) => body,
            None => crate::blocking(move || cache.current()).await?,
        },
        None => state.read(Lane::Sync, |d| Ok(head_body(d)?.1)).await?,
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body))
}

/// `/sync/head`'s body, serialised, for one state of the data, on a connection of its own.
///
/// Feeds change through other processes (`signpost-feed import`, `import-oruk`, `delete`) while
/// the server runs, and SQLite tells no one of a commit, so each request asks whether the data
/// changed (`PRAGMA data_version`: a look at the write-ahead log's header, a few microseconds)
/// and the head is read again, on a blocking thread, only when it did. A client always gets
/// the head as of its request.
///
/// The look is the one SQLite call the server makes on the async runtime: through a blocking
/// thread, a head request waited for a thread to be scheduled beside the list pages using both
/// cores, which set its p99 (measured: 13.9 ms against 7.0 ms on the runtime). It cannot hold
/// the runtime up: the connection never waits for a lock (busy wait zero), and the mutex is
/// only tried; either being busy sends the request to a blocking thread.
pub(crate) struct HeadCache(Mutex<(Directory, Option<(DataVersion, Bytes)>)>);

/// How long a head read on a blocking thread waits for a lock, as other connections do.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl HeadCache {
    pub(crate) fn new(directory: Directory) -> signpost_directory::Result<HeadCache> {
        directory.set_busy_wait(std::time::Duration::ZERO)?;
        Ok(HeadCache(Mutex::new((directory, None))))
    }

    /// The body kept, if the data has not changed since it was read; `None` if it has, or if
    /// finding out would mean waiting.
    fn unchanged(&self) -> Option<Bytes> {
        let guard = self.0.try_lock().ok()?;
        let now = guard.0.data_version().ok()?;
        guard
            .1
            .as_ref()
            .filter(|(read, _)| *read == now)
            .map(|(_, body)| body.clone())
    }

    /// The body for the data as it is now, read again if it changed (on a blocking thread).
    fn current(&self) -> Result<Bytes, ApiError> {
        let mut guard = self
            .0
            .lock()
            .map_err(|_| ApiError::Internal("sync head lock poisoned".into()))?;
        let (directory, kept) = &mut *guard;
        directory.set_busy_wait(BUSY_WAIT)?;
        let read = (|| {
            let now = directory.data_version()?;
            if let Some((_, body)) = kept.as_ref().filter(|(read, _)| *read == now) {
                return Ok(body.clone());
            }
            let (read, body) = head_body(directory)?;
            *kept = Some((read, body.clone()));
            Ok(body)
        })();
        directory.set_busy_wait(std::time::Duration::ZERO)?;
        read
    }
}

/// The version of the data read, and `/sync/head`'s body for it.
fn head_body(d: &Directory) -> Result<(DataVersion, Bytes), ApiError> {
    let read = || -> signpost_directory::Result<_> {
        // The version first: data committed after it is read again at the next look.
        Ok((
            d.data_version()?,
            d.feed_id()?,
            d.changeset_head()?,
            d.newest_snapshot()?,
        ))
    };
    let (version, feed_id, head, snapshot) = read()?;
    let tail = d.log_tail()?;
    let body = head_json(feed_id, head, snapshot, tail);
    let bytes = serde_json::to_vec(&body).expect("a JSON value always serialises");
    Ok((version, Bytes::from(bytes)))
}

/// The head: `/sync/head`, `/sync/head.json` and a published copy's `sync/head.json` are all
/// this.
pub(crate) fn head_json(
    feed_id: String,
    head: Option<signpost_directory::ChangesetInfo>,
    snapshot: Option<signpost_directory::SnapshotInfo>,
    tail: signpost_directory::LogTail,
) -> Value {
    let mut body = match head {
        Some(h) => json!({"seq": h.seq, "hash": h.hash}),
        None => json!({"seq": 0, "hash": ""}),
    };
    body["feed_id"] = json!(feed_id);
    if let Some(s) = snapshot {
        body["snapshot"] = json!({"seq": s.seq, "hash": s.hash, "bytes": s.bytes});
    }
    body["log"] = json!(tail);
    body
}

/// How long a cache may keep the head: short, since it is the one file that changes. A client
/// that gets an older head is only delayed (see `signpost_sync::Outcome::Behind`).
pub(crate) const HEAD_CACHE_CONTROL: &str = "public, max-age=60";
/// Every other file of the layout is named by its SHA-256 and never changes.
pub(crate) const IMMUTABLE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// `GET /sync/head.json`: the head as a static copy serves it, with its cache header.
pub async fn head_file(state: State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let body = head(state).await?;
    Ok(([(header::CACHE_CONTROL, HEAD_CACHE_CONTROL)], body))
}

/// `GET /sync/log/{hash}`: a full page of the log, immutable.
pub async fn log_page(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    immutable(state, "log page", hash, None, |d, h| d.log_page_body(h)).await
}

/// `GET /sync/snapshots/{hash}`: a whole-directory snapshot, gzip-encoded, immutable.
pub async fn snapshot(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    immutable(state, "snapshot", hash, Some("gzip"), |d, h| {
        d.snapshot_body(h)
    })
    .await
}

/// `GET /sync/changesets`.
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let after = crate::oruk::number(&params, "after", 0, (0, MAX_AFTER))?;
    let limit = crate::oruk::number(&params, "limit", MAX_LIST, (1, MAX_LIST))?;
    let changesets = state
        .read(Lane::Sync, move |d| {
            Ok(d.changesets_after(after, limit as usize)?)
        })
        .await?;
    Ok(Json(json!({ "changesets": changesets })))
}

/// `GET /sync/changesets/{hash}`.
pub async fn changeset(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    immutable(state, "changeset", hash, Some("gzip"), |d, h| {
        d.changeset_body(h)
    })
    .await
}

/// A body named by its SHA-256 (of its content before any `encoding`), cacheable forever.
async fn immutable(
    state: AppState,
    kind: &'static str,
    hash: String,
    encoding: Option<&'static str>,
    body: fn(&signpost_directory::Directory, &str) -> signpost_directory::Result<Vec<u8>>,
) -> Result<impl IntoResponse, ApiError> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(
            "changesets and snapshots are named by their 64-digit hex SHA-256".into(),
        ));
    }
    let etag = format!("\"{hash}\"");
    let missing = ApiError::looking_for(kind, "hash");
    let body = state
        .read(Lane::Sync, move |d| body(d, &hash).map_err(missing))
        .await?;
    let mut response = (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CACHE_CONTROL, IMMUTABLE_CACHE_CONTROL.to_string()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response();
    if let Some(encoding) = encoding {
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            axum::http::HeaderValue::from_static(encoding),
        );
    }
    Ok(response)
}
