//! The sync client: brings a local directory up to date from a regional feed.
//!
//! It reads the feed's log after the local cursor, fetches each changeset by its hash, checks
//! the hash, the chain (`seq` and `prev`) and every record's schema, and applies it with the new
//! cursor in one SQLite transaction ([`Directory::apply_changeset`]). A cut or a kill at any
//! point leaves the last applied changeset in place, and the next run resumes after it without
//! fetching it again. Network failures are retried with backoff; a feed that cannot be reached at
//! all is reported as [`Outcome::Offline`], a normal state that keeps the data already held.
#![deny(missing_docs)]

use std::io::Read;
use std::time::Duration;

use serde::Deserialize;
use signpost_directory::changeset::Changeset;
use signpost_directory::Directory;

/// Why a sync stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The feed answered, but with something unusable (bad status, bad JSON).
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
    /// The feed could not be reached; the local directory is unchanged and still usable.
    Offline {
        /// The last error, in plain words.
        reason: String,
    },
}

#[derive(Deserialize)]
struct Head {
    seq: u64,
    #[serde(default)]
    snapshot: Option<SnapshotRef>,
}

#[derive(Deserialize)]
struct SnapshotRef {
    seq: u64,
    hash: String,
}

#[derive(Deserialize)]
struct LogEntry {
    seq: u64,
    hash: String,
    upserts: u64,
    deletes: u64,
    bytes: u64,
}

#[derive(Deserialize)]
struct Log {
    changesets: Vec<LogEntry>,
}

/// The HTTP side, with retries.
struct Client {
    http: reqwest::blocking::Client,
    feed: String,
    attempts: u32,
}

enum Fetch {
    Body(Vec<u8>),
    Unreachable(String),
}

impl Client {
    fn get(&self, path: &str) -> Result<Fetch> {
        let url = format!("{}{path}", self.feed.trim_end_matches('/'));
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                std::thread::sleep(delay);
                delay *= 2;
            }
            match self.http.get(&url).send() {
                Ok(r) if r.status().is_success() => match r.bytes() {
                    Ok(b) => return Ok(Fetch::Body(b.to_vec())),
                    Err(e) => last = format!("reading {url}: {e}"),
                },
                Ok(r) if r.status().is_server_error() => {
                    last = format!("{url}: HTTP {}", r.status())
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
        match self.get(path)? {
            Fetch::Unreachable(reason) => Ok(Err(reason)),
            Fetch::Body(b) => serde_json::from_slice(&b)
                .map(Ok)
                .map_err(|e| SyncError::Feed {
                    feed: self.feed.clone(),
                    message: format!("{path}: not the sync API ({e})"),
                }),
        }
    }
}

/// Options for [`sync`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Tries per request before the feed counts as unreachable.
    pub attempts: u32,
    /// Time limit per request.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            attempts: 4,
            timeout: Duration::from_secs(30),
        }
    }
}

fn gunzip(gz: &[u8], what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            signpost_directory::Error::Changeset(format!("{what} is not valid gzip: {e}"))
        })?;
    Ok(bytes)
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
    let head: Head = match client.json("/sync/head")? {
        Ok(h) => h,
        Err(reason) => return Ok(Outcome::Offline { reason }),
    };
    let (mut seq, _) = directory.sync_cursor(feed)?;
    let mut applied = 0;
    // A new client starts from the newest snapshot instead of replaying the whole log.
    if let Some(snap) = head.snapshot.as_ref().filter(|s| seq == 0 && s.seq > 0) {
        let gz = match client.get(&format!("/sync/snapshots/{}", snap.hash))? {
            Fetch::Body(b) => b,
            Fetch::Unreachable(reason) => return Ok(Outcome::Offline { reason }),
        };
        let bytes = gunzip(&gz, "snapshot")?;
        let snapshot = signpost_directory::changeset::Snapshot::verify(&bytes, &snap.hash)?;
        directory.apply_snapshot(feed, &snapshot)?;
        seq = snapshot.seq;
        applied += 1;
    }
    let mut pending: Vec<LogEntry> = Vec::new();
    let mut after = seq;
    while after < head.seq {
        let log: Log = match client.json(&format!("/sync/changesets?after={after}"))? {
            Ok(l) => l,
            Err(reason) => return Ok(Outcome::Offline { reason }),
        };
        let Some(last) = log.changesets.last() else {
            break;
        };
        after = last.seq;
        pending.extend(log.changesets);
    }
    let mut p = SyncProgress {
        changesets_total: pending.len() as u64,
        records_total: pending.iter().map(|c| c.upserts + c.deletes).sum(),
        bytes_total: pending.iter().map(|c| c.bytes).sum(),
        ..SyncProgress::default()
    };
    progress(p);
    for entry in pending {
        let gz = match client.get(&format!("/sync/changesets/{}", entry.hash))? {
            Fetch::Body(b) => b,
            Fetch::Unreachable(reason) => return Ok(Outcome::Offline { reason }),
        };
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut bytes)
            .map_err(|e| {
                signpost_directory::Error::Changeset(format!(
                    "changeset {} is not valid gzip: {e}",
                    entry.seq
                ))
            })?;
        let changeset = Changeset::verify(&bytes, &entry.hash)?;
        if changeset.seq != entry.seq {
            return Err(signpost_directory::Error::Changeset(format!(
                "the log lists seq {} but the changeset says {}",
                entry.seq, changeset.seq
            ))
            .into());
        }
        directory.apply_changeset(feed, &changeset)?;
        seq = changeset.seq;
        applied += 1;
        p.changesets_done += 1;
        p.records_done += entry.upserts + entry.deletes;
        p.bytes_done += entry.bytes;
        progress(p);
    }
    Ok(Outcome::UpToDate { seq, applied })
}
