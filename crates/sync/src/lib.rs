//! The sync client: brings a local directory up to date from a regional feed, or from any
//! static copy of one (`signpost-feed publish`: an object store, a CDN, a folder on a web
//! server). Both are read the same way: `sync/head.json` names the newest changeset and
//! snapshot and lists the changesets after the newest full log page; a client further behind
//! walks back through the pages (`sync/log/{hash}`), each checked against its hash. A feed
//! server older than that layout answers `/sync/head` and `/sync/changesets?after=` instead.
//!
//! It reads the feed's log after the local cursor, fetches each changeset by its hash, checks
//! the hash, the chain (`seq` and `prev`) and every record's schema, and applies it with the new
//! cursor in one SQLite transaction ([`Directory::apply_changeset`]). A cut or a kill at any
//! point leaves the last applied changeset in place, and the next run resumes after it without
//! fetching it again. Network failures are retried with backoff; a feed that cannot be reached
//! before anything was applied is [`Outcome::Offline`], a normal state that keeps the data
//! already held, and one lost after some changesets were applied is [`Outcome::Partial`].
//!
//! **Nothing the feed sends is trusted to be small.** Every response is read with a size limit,
//! and a changeset is inflated only up to the size its log entry declares (a snapshot up to the
//! size `/sync/head` declares), both capped by [`Options`]: a gzip bomb is rejected after
//! inflating no more than it claimed to be.
//!
//! **A rebuilt feed is caught.** `/sync/head` names the feed's log (`feed_id`, made anew with a
//! fresh data folder), and the cursor keeps the id it was applied from. A cursor that is not on
//! the feed's chain (another id, a different hash at its `seq`, a next changeset whose `prev`
//! is not its hash, or a head behind it when no id tells the log) starts again from the newest snapshot and the
//! changesets after it, or, if the feed has published no snapshot, from changeset 1: all in
//! one transaction ([`Directory::resync`]), so the old data stays until the new state is
//! complete ([`Outcome::StartedAgain`]).
//!
//! **A stale copy only delays.** A head behind the cursor on the same log (the same `feed_id`)
//! is what a cache not yet refreshed serves, so it changes nothing ([`Outcome::Behind`]); a log
//! restored from a backup looks the same until it passes the cursor, and is then caught as above.
#![deny(missing_docs)]

pub mod outbox;
use std::time::Duration;

use serde::Deserialize;
use signpost_directory::changeset::{Changeset, LogEntry, LogPage, Snapshot, LOG_PAGE};
use signpost_directory::import::read_at_most;
use signpost_directory::{Directory, SyncCursor};

/// Why a sync stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The feed answered, but with something unusable (bad status, bad JSON, too large).
    #[error("feed {feed}: {message}")]
    Feed {
        /// The feed URL.
        feed: String,
        /// What was wrong.
        message: String,
    },
    /// A changeset failed verification or a local write failed; nothing of it was applied.
    #[error(transparent)]
    Directory(#[from] signpost_directory::Error),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, SyncError>;

/// How far a sync has got, for a progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// Changesets applied so far in this run.
    pub changesets_done: u64,
    /// Changesets this run will apply.
    pub changesets_total: u64,
    /// Records (upserts and deletes) applied so far.
    pub records_done: u64,
    /// Records this run will apply.
    pub records_total: u64,
    /// Uncompressed bytes applied so far.
    pub bytes_done: u64,
    /// Uncompressed bytes this run will apply.
    pub bytes_total: u64,
}

/// How a sync ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Up to date with the feed's head at `seq`.
    UpToDate {
        /// The feed's sequence number now held locally.
        seq: u64,
        /// Changesets applied in this run.
        applied: u64,
    },
    /// The feed's log no longer continues the one this directory followed (the feed was
    /// rebuilt, or its log diverged), so the directory started again from the feed's current
    /// state: it now holds what the feed holds at `seq`, swapped in at once; listings from the
    /// old log that the new state lacks were removed.
    StartedAgain {
        /// The feed's sequence number now held locally.
        seq: u64,
        /// The snapshot (if any) and changesets applied.
        applied: u64,
        /// Why the old cursor was given up, in plain words.
        reason: String,
    },
    /// Some changesets were applied, then the feed could not be reached. The directory is
    /// consistent at `seq`, short of the feed's `head`; the next sync resumes from there.
    Partial {
        /// Changesets (and a starting snapshot) applied in this run.
        applied: u64,
        /// The feed's sequence number now held locally.
        seq: u64,
        /// The feed's newest sequence number.
        head: u64,
        /// The last error, in plain words.
        reason: String,
    },
    /// The copy of the feed answering is older than this directory: a static copy or a cache
    /// not refreshed yet (the same log, by its id, but its head is behind the cursor). Nothing
    /// changed; a later sync, or a fresher copy, brings what is newer. (A log restored from a
    /// backup looks the same until it passes the cursor, and is then started again from.)
    Behind {
        /// The changeset held locally.
        seq: u64,
        /// The newest changeset the copy has.
        copy: u64,
    },
    /// The feed could not be reached before anything was applied; the local directory is
    /// unchanged and still usable.
    Offline {
        /// The last error, in plain words.
        reason: String,
    },
}

#[derive(Deserialize)]
struct Head {
    seq: u64,
    #[serde(default)]
    hash: String,
    /// Absent from feeds older than feed ids: then only the chain is checked.
    #[serde(default)]
    feed_id: String,
    #[serde(default)]
    snapshot: Option<SnapshotRef>,
    /// The end of the log, for reading it as static files; absent from `/sync/head` of feeds
    /// older than the static layout (then `/sync/changesets?after=` lists it).
    #[serde(default)]
    log: Option<LogTail>,
}

/// `head.json`'s `log`: the newest full page and the changesets after it.
#[derive(Deserialize)]
struct LogTail {
    pages: u64,
    #[serde(default)]
    page: String,
    recent: Vec<LogEntry>,
}

#[derive(Deserialize)]
struct SnapshotRef {
    seq: u64,
    hash: String,
    /// Uncompressed size; absent from older feeds (then [`Options::max_snapshot_bytes`]).
    #[serde(default)]
    bytes: Option<u64>,
}

#[derive(Deserialize)]
struct Log {
    changesets: Vec<LogEntry>,
}

/// The largest `/sync/head` or log page read: a page of 1,000 entries is about 250 KB.
const MAX_JSON_BYTES: u64 = 16 * 1024 * 1024;
/// The most changesets one sync lists: a feed appends one per import or approval, so a real
/// log grows by thousands a year; a head claiming more is refused before anything is read.
const MAX_PENDING: u64 = 1_000_000;
/// The largest static log page read: 64 entries are about 16 KB.
const MAX_PAGE_BYTES: u64 = 1024 * 1024;

/// The most a gzip body of `inflated` bytes can take: deflate's stored blocks add 5 bytes per
/// 64 KiB, and the gzip header and trailer a few dozen.
fn gzip_limit(inflated: u64) -> u64 {
    inflated.saturating_add(inflated / 100).saturating_add(1024)
}

/// The HTTP side, with retries.
struct Client {
    http: reqwest::blocking::Client,
    feed: String,
    attempts: u32,
}

enum Fetch {
    Body(Vec<u8>),
    /// 404: for `head.json`, a feed server older than the static layout.
    NotFound,
    Unreachable(String),
}

impl Client {
    /// GET `path`, reading at most `limit` bytes of body; a longer body is an error, not a
    /// reason to retry.
    fn get(&self, path: &str, limit: u64) -> Result<Fetch> {
        let url = format!("{}{path}", self.feed.trim_end_matches('/'));
        let too_large = || SyncError::Feed {
            feed: self.feed.clone(),
            message: format!("{path}: the response is larger than the {limit} bytes expected"),
        };
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                std::thread::sleep(delay);
                delay *= 2;
            }
            match self.http.get(&url).send() {
                Ok(r) if r.status().is_success() => {
                    if r.content_length().is_some_and(|n| n > limit) {
                        return Err(too_large());
                    }
                    let mut body = Vec::new();
                    match read_at_most(r, limit, &mut body) {
                        Ok(false) => return Err(too_large()),
                        Ok(true) => return Ok(Fetch::Body(body)),
                        Err(e) => last = format!("reading {url}: {e}"),
                    }
                }
                Ok(r) if r.status().is_server_error() => {
                    last = format!("{url}: HTTP {}", r.status())
                }
                Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                    return Ok(Fetch::NotFound)
                }
                Ok(r) => {
                    return Err(SyncError::Feed {
                        feed: self.feed.clone(),
                        message: format!("{url}: HTTP {}", r.status()),
                    })
                }
                Err(e) => last = format!("{url}: {e}"),
            }
        }
        Ok(Fetch::Unreachable(last))
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<std::result::Result<T, String>> {
        match self.get(path, MAX_JSON_BYTES)? {
            Fetch::Unreachable(reason) => Ok(Err(reason)),
            Fetch::NotFound => Err(self.not_found(path)),
            Fetch::Body(b) => serde_json::from_slice(&b)
                .map(Ok)
                .map_err(|e| self.bad(format!("{path}: not the sync API ({e})"))),
        }
    }

    fn not_found(&self, path: &str) -> SyncError {
        self.bad(format!(
            "{}{path}: HTTP 404 Not Found",
            self.feed.trim_end_matches('/')
        ))
    }

    /// The head: `/sync/head.json` (a feed server, or a static copy of one), or `/sync/head`
    /// from a feed server older than the static layout.
    fn head(&self) -> Result<std::result::Result<Head, String>> {
        let body = match self.get("/sync/head.json", MAX_JSON_BYTES)? {
            Fetch::NotFound => return self.json("/sync/head"),
            Fetch::Unreachable(reason) => return Ok(Err(reason)),
            Fetch::Body(b) => b,
        };
        serde_json::from_slice(&body)
            .map(Ok)
            .map_err(|e| self.bad(format!("/sync/head.json: not the sync API ({e})")))
    }

    /// The log after `after`: from the head's tail and its pages when the head has them (a
    /// static copy can answer nothing else), otherwise from `/sync/changesets?after=`.
    fn log(&self, after: u64, head: &Head) -> Result<std::result::Result<Vec<LogEntry>, String>> {
        let behind = head.seq.saturating_sub(after);
        if behind > MAX_PENDING {
            return Err(self.bad(format!(
                "its log is {behind} changesets ahead of this directory, more than the \
                 {MAX_PENDING} one sync reads; a feed publishes a snapshot long before that"
            )));
        }
        match &head.log {
            Some(tail) => self.static_log(after, head.seq, tail),
            None => self.listed_log(after, head.seq),
        }
    }

    /// The changesets after `after` from the head's tail, walking back through full pages (each
    /// verified by the hash that names it) as far as needed.
    fn static_log(
        &self,
        after: u64,
        head: u64,
        tail: &LogTail,
    ) -> Result<std::result::Result<Vec<LogEntry>, String>> {
        let paged = tail.pages.saturating_mul(LOG_PAGE);
        let consecutive = tail
            .recent
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == paged + 1 + i as u64);
        if !consecutive || paged + tail.recent.len() as u64 != head {
            return Err(self.bad(format!(
                "/sync/head.json: its log does not end at changeset {head} after {} full pages",
                tail.pages
            )));
        }
        // Pages newest first, joined oldest first once the walk ends.
        let mut pages: Vec<Vec<LogEntry>> = Vec::new();
        let mut next = (tail.pages, tail.page.clone());
        // Page n lists changesets (n - 1) * LOG_PAGE + 1 ..= n * LOG_PAGE.
        while next.0 > 0 && next.0 * LOG_PAGE > after {
            let (n, hash) = next;
            let path = format!("/sync/log/{hash}");
            let bytes = match self.get(&path, MAX_PAGE_BYTES)? {
                Fetch::Body(b) => b,
                Fetch::NotFound => return Err(self.not_found(&path)),
                Fetch::Unreachable(reason) => return Ok(Err(reason)),
            };
            let page = LogPage::verify(&bytes, &hash)?;
            if page.number() != n {
                return Err(signpost_directory::Error::Changeset(format!(
                    "log page {hash} is page {}, where page {n} was named",
                    page.number()
                ))
                .into());
            }
            next = (n - 1, page.prev.clone());
            pages.push(page.changesets);
        }
        let mut entries: Vec<LogEntry> = pages.into_iter().rev().flatten().collect();
        entries.extend(tail.recent.iter().cloned());
        entries.retain(|e| e.seq > after);
        Ok(Ok(entries))
    }

    fn bad(&self, message: String) -> SyncError {
        SyncError::Feed {
            feed: self.feed.clone(),
            message,
        }
    }

    /// The log after `after`, up to `head`, listed by a feed server and checked to be
    /// consecutive.
    fn listed_log(
        &self,
        mut after: u64,
        head: u64,
    ) -> Result<std::result::Result<Vec<LogEntry>, String>> {
        let mut pending: Vec<LogEntry> = Vec::new();
        while after < head {
            let log: Log = match self.json(&format!("/sync/changesets?after={after}"))? {
                Ok(l) => l,
                Err(reason) => return Ok(Err(reason)),
            };
            if log.changesets.is_empty() {
                break;
            }
            for entry in log.changesets {
                if entry.seq != after + 1 {
                    return Err(self.bad(format!(
                        "/sync/changesets?after={after}: lists changeset {} where {} comes next",
                        entry.seq,
                        after + 1
                    )));
                }
                after = entry.seq;
                pending.push(entry);
            }
        }
        Ok(Ok(pending))
    }

    /// Fetch, inflate (within the declared size) and verify the snapshot `head` names.
    fn snapshot(
        &self,
        snap: &SnapshotRef,
        options: &Options,
    ) -> Result<std::result::Result<Snapshot, String>> {
        let what = format!("snapshot {} ({})", snap.seq, snap.hash);
        let limit = match snap.bytes {
            Some(declared) if declared > options.max_snapshot_bytes => {
                return Err(too_big(&what, declared, options.max_snapshot_bytes))
            }
            Some(declared) => declared,
            None => options.max_snapshot_bytes,
        };
        let path = format!("/sync/snapshots/{}", snap.hash);
        let gz = match self.get(&path, gzip_limit(limit))? {
            Fetch::Body(b) => b,
            Fetch::NotFound => return Err(self.not_found(&path)),
            Fetch::Unreachable(reason) => return Ok(Err(reason)),
        };
        let bytes = inflate(&gz, limit, &what)?;
        drop(gz);
        Ok(Ok(Snapshot::verify(&bytes, &snap.hash)?))
    }

    /// Fetch, inflate (within the size its log entry declares) and verify one changeset.
    fn changeset(
        &self,
        entry: &LogEntry,
        options: &Options,
    ) -> Result<std::result::Result<Changeset, String>> {
        let what = format!("changeset {} ({})", entry.seq, entry.hash);
        if entry.bytes > options.max_changeset_bytes {
            return Err(too_big(&what, entry.bytes, options.max_changeset_bytes));
        }
        let path = format!("/sync/changesets/{}", entry.hash);
        let gz = match self.get(&path, gzip_limit(entry.bytes))? {
            Fetch::Body(b) => b,
            Fetch::NotFound => return Err(self.not_found(&path)),
            Fetch::Unreachable(reason) => return Ok(Err(reason)),
        };
        let bytes = inflate(&gz, entry.bytes, &what)?;
        drop(gz);
        let changeset = Changeset::verify(&bytes, &entry.hash)?;
        if changeset.seq != entry.seq {
            return Err(signpost_directory::Error::Changeset(format!(
                "the log lists seq {} but the changeset says {}",
                entry.seq, changeset.seq
            ))
            .into());
        }
        Ok(Ok(changeset))
    }
}

fn too_big(what: &str, declared: u64, max: u64) -> SyncError {
    signpost_directory::Error::Changeset(format!(
        "{what} declares {declared} bytes, more than the {max} this client accepts"
    ))
    .into()
}

/// Inflate at most `limit` bytes: the size the feed declared, which the canonical bytes (and so
/// the hash) must match exactly. More is refused as soon as it appears. A body that is not gzip
/// (a cache or proxy that decoded the stored gzip on the way) is taken as it is, within the
/// same limit: the hash decides either way.
fn inflate(gz: &[u8], limit: u64, what: &str) -> Result<Vec<u8>> {
    if !gz.starts_with(&[0x1f, 0x8b]) && gz.first() == Some(&b'{') {
        if gz.len() as u64 > limit {
            return Err(signpost_directory::Error::Changeset(format!(
                "{what} is more than the {limit} bytes the feed declared"
            ))
            .into());
        }
        return Ok(gz.to_vec());
    }
    let mut bytes = Vec::with_capacity(limit.min(64 * 1024 * 1024) as usize);
    let within =
        read_at_most(flate2::read::GzDecoder::new(gz), limit, &mut bytes).map_err(|e| {
            signpost_directory::Error::Changeset(format!("{what} is not valid gzip: {e}"))
        })?;
    if !within {
        return Err(signpost_directory::Error::Changeset(format!(
            "{what} inflates to more than the {limit} bytes the feed declared"
        ))
        .into());
    }
    Ok(bytes)
}

/// Options for [`sync`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Tries per request before the feed counts as unreachable.
    pub attempts: u32,
    /// Time limit per request.
    pub timeout: Duration,
    /// The largest changeset (uncompressed) accepted, whatever its log entry declares. A feed
    /// writes at most 10,000 listings per changeset, about 20 MB.
    pub max_changeset_bytes: u64,
    /// The largest snapshot (uncompressed) accepted, and the limit for a snapshot whose size
    /// the feed does not declare.
    pub max_snapshot_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            attempts: 4,
            timeout: Duration::from_secs(30),
            max_changeset_bytes: 256 * 1024 * 1024,
            max_snapshot_bytes: 512 * 1024 * 1024,
        }
    }
}

/// Whether the cursor and the head name the same log by id (both ids known and equal).
fn same_log(cursor: &SyncCursor, head: &Head) -> bool {
    !cursor.feed_id.is_empty() && cursor.feed_id == head.feed_id
}

/// Why `cursor` is not on the chain `head` describes, if that can be told from the head alone.
/// A cursor behind the head is checked against the next changeset's `prev` once the log is read.
fn off_chain(cursor: &SyncCursor, head: &Head) -> Option<String> {
    if cursor.seq == 0 {
        return None;
    }
    if !cursor.feed_id.is_empty() && !head.feed_id.is_empty() && cursor.feed_id != head.feed_id {
        return Some(format!(
            "the feed was rebuilt (its id is now {}, was {})",
            head.feed_id, cursor.feed_id
        ));
    }
    if head.seq < cursor.seq && !same_log(cursor, head) {
        return Some(format!(
            "the feed's newest changeset is {}, behind the {} this directory applied",
            head.seq, cursor.seq
        ));
    }
    if head.seq == cursor.seq && head.hash != cursor.hash {
        return Some(format!(
            "the feed's changeset {} is not the one this directory applied",
            cursor.seq
        ));
    }
    None
}

/// Bring `directory` up to date from the feed at `feed` (its base URL). `applied` in the
/// outcome counts changesets and a starting snapshot.
pub fn sync(
    directory: &mut Directory,
    feed: &str,
    options: &Options,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<Outcome> {
    let client = Client {
        http: reqwest::blocking::Client::builder()
            .timeout(options.timeout)
            .build()
            .map_err(|e| SyncError::Feed {
                feed: feed.to_string(),
                message: e.to_string(),
            })?,
        feed: feed.to_string(),
        attempts: options.attempts.max(1),
    };
    let head: Head = match client.head()? {
        Ok(h) => h,
        Err(reason) => return Ok(Outcome::Offline { reason }),
    };
    let cursor = directory.sync_position(feed)?;
    if let Some(reason) = off_chain(&cursor, &head) {
        return start_again(directory, &client, &head, reason, options, progress);
    }
    if head.seq < cursor.seq {
        // The same log, older: a stale copy delays, it never moves a directory back.
        return Ok(Outcome::Behind {
            seq: cursor.seq,
            copy: head.seq,
        });
    }
    let mut applied = 0;
    let mut after = cursor.seq;
    // A new client starts from the newest snapshot instead of replaying the whole log.
    if let Some(snap) = head.snapshot.as_ref().filter(|s| after == 0 && s.seq > 0) {
        let snapshot = match client.snapshot(snap, options)? {
            Ok(s) => s,
            Err(reason) => return Ok(Outcome::Offline { reason }),
        };
        directory.apply_snapshot(feed, &head.feed_id, &snapshot)?;
        after = snapshot.seq;
        applied += 1;
    }
    let pending = match client.log(after, &head)? {
        Ok(p) => p,
        Err(reason) => return cut(directory, feed, &head, applied, reason),
    };
    if let Some(next) = pending.first().filter(|_| applied == 0 && after > 0) {
        if next.prev != cursor.hash {
            let reason = format!(
                "the feed's changeset {} does not follow the {} this directory applied (its log diverged)",
                next.seq, cursor.seq
            );
            return start_again(directory, &client, &head, reason, options, progress);
        }
    }
    let feed_id = head.feed_id.as_str();
    let fetched = apply_all(&client, &pending, options, progress, &mut |changeset| {
        directory.apply_changeset(feed, feed_id, changeset)?;
        Ok(())
    })?;
    applied += fetched.applied;
    match fetched.cut {
        Some(reason) => cut(directory, feed, &head, applied, reason),
        None => Ok(Outcome::UpToDate {
            seq: directory.sync_cursor(feed)?.0,
            applied,
        }),
    }
}

/// The feed went away: offline if nothing was applied in this run, else how far it got.
fn cut(
    directory: &Directory,
    feed: &str,
    head: &Head,
    applied: u64,
    reason: String,
) -> Result<Outcome> {
    if applied == 0 {
        return Ok(Outcome::Offline { reason });
    }
    Ok(Outcome::Partial {
        applied,
        seq: directory.sync_cursor(feed)?.0,
        head: head.seq,
        reason,
    })
}

struct Applied {
    applied: u64,
    /// Why fetching stopped early, if the feed went away.
    cut: Option<String>,
}

/// Fetch and verify each changeset of `pending` in order and hand it to `apply`.
fn apply_all(
    client: &Client,
    pending: &[LogEntry],
    options: &Options,
    progress: &mut dyn FnMut(SyncProgress),
    apply: &mut dyn FnMut(&Changeset) -> Result<()>,
) -> Result<Applied> {
    let mut p = SyncProgress {
        changesets_total: pending.len() as u64,
        records_total: pending.iter().map(|c| c.upserts + c.deletes).sum(),
        bytes_total: pending.iter().map(|c| c.bytes).sum(),
        ..SyncProgress::default()
    };
    progress(p);
    for entry in pending {
        let changeset = match client.changeset(entry, options)? {
            Ok(c) => c,
            Err(reason) => {
                return Ok(Applied {
                    applied: p.changesets_done,
                    cut: Some(reason),
                })
            }
        };
        apply(&changeset)?;
        p.changesets_done += 1;
        p.records_done += entry.upserts + entry.deletes;
        p.bytes_done += entry.bytes;
        progress(p);
    }
    Ok(Applied {
        applied: p.changesets_done,
        cut: None,
    })
}

/// Start again from the feed's newest snapshot (or its first changeset) in one transaction,
/// keeping the old data until the new state is complete.
fn start_again(
    directory: &mut Directory,
    client: &Client,
    head: &Head,
    reason: String,
    options: &Options,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<Outcome> {
    let feed = client.feed.as_str();
    let mut resync = directory.resync(feed, &head.feed_id)?;
    let mut applied = 0;
    if let Some(snap) = head.snapshot.as_ref().filter(|s| s.seq > 0) {
        let snapshot = match client.snapshot(snap, options)? {
            Ok(s) => s,
            Err(reason) => return Ok(Outcome::Offline { reason }),
        };
        resync.apply_snapshot(&snapshot)?;
        applied += 1;
    }
    let pending = match client.log(resync.seq(), head)? {
        Ok(p) => p,
        Err(reason) => return Ok(Outcome::Offline { reason }),
    };
    let fetched = apply_all(client, &pending, options, progress, &mut |changeset| {
        resync.apply_changeset(changeset)?;
        Ok(())
    })?;
    if let Some(reason) = fetched.cut {
        // Dropping `resync` rolls everything back: the old data is still there.
        return Ok(Outcome::Offline { reason });
    }
    let seq = resync.seq();
    resync.commit()?;
    Ok(Outcome::StartedAgain {
        seq,
        applied: applied + fetched.applied,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn inflation_stops_at_the_declared_size() {
        let plain = vec![b'a'; 100_000];
        let gz = gzip(&plain);
        assert_eq!(inflate(&gz, 100_000, "changeset 1").unwrap(), plain);
        let err = inflate(&gz, 99_999, "changeset 1").unwrap_err().to_string();
        assert!(
            err.contains("changeset 1 inflates to more than the 99999 bytes"),
            "{err}"
        );
        assert!(inflate(&gz[..gz.len() / 2], 100_000, "changeset 1")
            .unwrap_err()
            .to_string()
            .contains("not valid gzip"));
    }

    #[test]
    fn a_gzip_body_of_a_declared_size_fits_its_limit() {
        // Random bytes do not compress: the worst case for the body limit.
        let mut state = 0x2545f491_u64;
        let plain: Vec<u8> = (0..300_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(gzip(&plain).len() as u64 <= gzip_limit(plain.len() as u64));
        assert!(gzip(b"").len() as u64 <= gzip_limit(0));
    }
}
