//! [`Directory`]: the public API over one directory database.
use std::collections::hash_map::{Entry, HashMap};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::changeset::{Changeset, Snapshot};
use crate::error::{Error, RecordError, Result};
use crate::import::{self, PreparedBatch, RawRecord};
use crate::model::Service;
use crate::region::Region;
use crate::schedule;
use crate::search::{Hit, NearQuery, SearchIndex};
use crate::taxonomy::{Attendance, Facets};
use crate::{db, wal, write};

/// Listings written per transaction. A crash loses at most the batch in flight, never half of
/// one, and readers never see a half-written batch.
const WRITE_BATCH: usize = 10_000;

/// A feed's batch (one changeset) also ends once its records reach this many bytes of JSON, so
/// large records neither hold memory by the ten thousand nor make changesets clients cannot hold.
const CHANGESET_BYTES: usize = 16 * 1024 * 1024;

/// The first batch of an import; later ones grow to [`WRITE_BATCH`].
const FIRST_WRITE_BATCH: usize = 500;

/// When a listing was last checked by its publisher, and who to ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Freshness {
    /// The listing.
    pub service_id: String,
    /// Its name.
    pub name: String,
    /// HSDS `assured_date` as stored, if any.
    pub assured_date: Option<String>,
    /// The listing's email, else its organization's.
    pub email: Option<String>,
}

/// One session: its start and end.
pub type Session = (DateTime<Utc>, DateTime<Utc>);

/// What an import did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    /// New listings.
    pub inserted: usize,
    /// Listings whose content changed and were replaced.
    pub replaced: usize,
    /// Listings already present with identical content.
    pub unchanged: usize,
    /// Records skipped (each record once, however many of its fields are wrong).
    pub skipped: usize,
    /// Why records were skipped, by file, record and field.
    pub errors: Vec<RecordError>,
    /// Records stored with a caveat, or with a value normalised or removed.
    pub warnings: Vec<RecordError>,
    /// Listings deleted (sync tombstones).
    pub deleted: usize,
}

impl std::fmt::Display for ImportReport {
    /// The one-line summary: "3 new, 1 updated, 10 unchanged, 2 skipped, 0 warnings".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} new, {} updated, {} unchanged, {} skipped, {} warnings",
            self.inserted,
            self.replaced,
            self.unchanged,
            self.skipped,
            self.warnings.len()
        )?;
        if self.deleted > 0 {
            write!(f, ", {} deleted", self.deleted)?;
        }
        Ok(())
    }
}

impl ImportReport {
    /// Listings now in the directory from this import: new, updated or already there.
    pub fn imported(&self) -> usize {
        self.inserted + self.replaced + self.unchanged
    }

    fn absorb(&mut self, other: ImportReport) {
        self.inserted += other.inserted;
        self.replaced += other.replaced;
        self.unchanged += other.unchanged;
        self.deleted += other.deleted;
        self.skipped += other.skipped;
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
    }
}

/// Import progress, for a progress bar: records handled so far out of the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Records written or skipped so far.
    pub done: usize,
    /// All records being imported.
    pub total: usize,
}

/// One near-me result, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearResult {
    /// HSDS service id.
    pub service_id: String,
    /// HSDS location id of the nearest location.
    pub location_id: String,
    /// Service name.
    pub name: String,
    /// Organization name, if any.
    pub organization: Option<String>,
    /// Great-circle distance in metres.
    pub distance_m: f64,
    /// Location latitude.
    pub latitude: f64,
    /// Location longitude.
    pub longitude: f64,
    /// Access term code, or `None` when the listing does not say.
    pub access: Option<&'static str>,
    /// Free, costs money, or not stated.
    pub free: Option<bool>,
    /// Open at the evaluation time; `None` when the listing has no usable schedule.
    pub open_now: Option<bool>,
    /// Start of the next session (UTC), if known within 60 days.
    pub next_opens_at: Option<DateTime<Utc>>,
    /// Postcode of the location, if known.
    pub postcode: Option<String>,
    /// When the listing was last checked by its publisher (HSDS `assured_date`), if stated.
    pub assured_date: Option<String>,
    /// Meets at a physical place.
    pub in_person: bool,
    /// Can be joined online.
    pub online: bool,
}

/// One listing in full, for `show`.
#[derive(Debug, Clone, Serialize)]
pub struct ListingDetail {
    /// The typed record.
    pub service: Service,
    /// When it runs, in plain English (`None` when it has no schedules).
    pub when: Option<String>,
    /// Access code.
    pub access: Option<&'static str>,
    /// Free?
    pub free: Option<bool>,
    /// Wheelchair accessible.
    pub wheelchair: bool,
    /// Taxonomy term names, e.g. "Walking".
    pub terms: Vec<String>,
    /// The stored record, verbatim.
    pub record: Value,
    /// Where it came from.
    pub source: Option<String>,
}

pub use crate::changeset::LogEntry as ChangesetInfo;

/// The end of a feed's log, as `head.json` lists it (see [`crate::changeset::LogPage`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogTail {
    /// Full pages in the log.
    pub pages: u64,
    /// The newest full page's hash ("" when there is none).
    pub page: String,
    /// The changesets after the newest full page, oldest first.
    pub recent: Vec<ChangesetInfo>,
}

/// A published snapshot, as listed in `/sync/head`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotInfo {
    /// The changeset it is the state after.
    pub seq: u64,
    /// Hex SHA-256 of its canonical bytes; also its URL.
    pub hash: String,
    /// Listings in it.
    pub records: u64,
    /// Uncompressed size, so a client can bound what it inflates.
    pub bytes: u64,
}

/// Counts for `signpost stats` and for benchmarks.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Listings of any status.
    pub listings: usize,
    /// Active listings.
    pub active: usize,
    /// Locations.
    pub locations: usize,
    /// Locations not indexed because their coordinates are missing or wrong.
    pub unindexed_locations: usize,
}

/// Where some of a directory's listings came from, and how many.
#[derive(Debug, Clone, Serialize)]
pub struct SourceCount {
    /// A region, a feed or imported files.
    pub kind: SourceKind,
    /// The region's name, the feed's address, or the imported file.
    pub name: String,
    /// What a region holds (empty for the others).
    pub description: String,
    /// Lines to show wherever a region's data is shown.
    pub attribution: Vec<String>,
    /// Listings from it now.
    pub listings: usize,
}

/// The kinds of [`SourceCount`], in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A region (bundled, a folder or a file).
    Region,
    /// A regional feed this directory follows.
    Feed,
    /// Files imported with `signpost import`.
    Imported,
}

/// Validate every record received from a feed; one bad record rejects them all.
fn prepare_all(source: &str, records: &[Value], what: &str) -> Result<PreparedBatch> {
    let mut batch = PreparedBatch::default();
    for (i, record) in records.iter().enumerate() {
        import::prepare(source, i, record.clone(), &mut batch);
    }
    match batch.errors.first() {
        Some(e) => Err(Error::Changeset(format!(
            "{what} has an invalid record, so none of it was applied: {e}"
        ))),
        None => Ok(batch),
    }
}

/// Refuse a changeset that does not follow the cursor (`seq`, `hash`).
fn follows(seq: u64, hash: &str, changeset: &Changeset) -> Result<()> {
    if changeset.seq != seq + 1 || changeset.prev != hash {
        return Err(Error::Changeset(format!(
            "changeset {} does not follow {} (expected seq {} after {:?}, got prev {:?})",
            changeset.seq,
            seq,
            seq + 1,
            hash,
            changeset.prev
        )));
    }
    Ok(())
}

/// Where a client stands in a feed's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncCursor {
    /// The last changeset applied (0 before the first).
    pub seq: u64,
    /// Its hash ("" before the first).
    pub hash: String,
    /// The id of the feed's log it was applied from ("" if the feed published none, or the
    /// cursor predates feed ids).
    pub feed_id: String,
}

/// A client starting again from a feed's current state: the newest snapshot (if any) and the
/// changesets after it, all in one transaction. See [`Directory::resync`].
pub struct Resync<'a> {
    tx: rusqlite::Transaction<'a>,
    index: &'a mut Arc<SharedIndex>,
    publishing: bool,
    feed: &'a str,
    feed_id: &'a str,
    seq: u64,
    hash: String,
    /// Ids the new state holds so far.
    keep: HashSet<String>,
    report: ImportReport,
}

impl Resync<'_> {
    /// Begin from a verified snapshot; only as the first step.
    pub fn apply_snapshot(&mut self, snapshot: &Snapshot) -> Result<()> {
        if self.seq != 0 {
            return Err(Error::Changeset(
                "a snapshot can only begin a new start".into(),
            ));
        }
        let source = format!("{}#snapshot{}", self.feed, snapshot.seq);
        let what = format!("snapshot {}", snapshot.seq);
        let mut batch = prepare_all(&source, &snapshot.records, &what)?;
        self.keep
            .extend(batch.listings.iter().map(|l| l.service.id.clone()));
        let report = crate::feeds::write_feed_batch(
            &self.tx,
            self.publishing,
            self.feed,
            &source,
            &mut batch,
            &[],
        )?;
        self.report.absorb(report);
        self.seq = snapshot.seq;
        self.hash = snapshot.head.clone();
        Ok(())
    }

    /// Apply the next verified changeset of the new log.
    pub fn apply_changeset(&mut self, changeset: &Changeset) -> Result<()> {
        follows(self.seq, &self.hash, changeset)?;
        let source = format!("{}#{}", self.feed, changeset.seq);
        let what = format!("changeset {}", changeset.seq);
        let mut batch = prepare_all(&source, &changeset.upserts, &what)?;
        self.keep
            .extend(batch.listings.iter().map(|l| l.service.id.clone()));
        for id in &changeset.deletes {
            self.keep.remove(id);
        }
        let report = crate::feeds::write_feed_batch(
            &self.tx,
            self.publishing,
            self.feed,
            &source,
            &mut batch,
            &changeset.deletes,
        )?;
        self.report.absorb(report);
        self.seq = changeset.seq;
        self.hash = changeset.hash();
        Ok(())
    }

    /// The last changeset (or snapshot) applied so far.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Swap the new state in: listings (and waiting versions) from this feed that it does not
    /// hold are removed, as the feed's deletions are (another feed's version of one is shown
    /// instead), the cursor is replaced, and all of it commits at once.
    pub fn commit(mut self) -> Result<ImportReport> {
        let mut gone: Vec<String> = crate::feeds::feed_ids(&self.tx, self.feed)?
            .into_iter()
            .filter(|id| !self.keep.contains(id))
            .collect();
        gone.sort();
        let report = crate::feeds::write_feed_batch(
            &self.tx,
            self.publishing,
            self.feed,
            "delete",
            &mut PreparedBatch::default(),
            &gone,
        )?;
        self.report.absorb(report);
        write::set_cursor(
            &self.tx,
            &write::Cursor {
                feed: self.feed,
                feed_id: self.feed_id,
                seq: self.seq,
                hash: &self.hash,
            },
        )?;
        self.tx.commit()?;
        *self.index = Arc::default();
        Ok(self.report)
    }
}

/// Read-only directories opened together on one file (a server's readers): the search index
/// they share now, and when it was made. When one of them sees that the data changed, it makes
/// a new one unless another reader already made one after that moment; the old index goes
/// when the last reader using it moves on.
#[derive(Default)]
struct ReaderGroup {
    latest: Mutex<(Option<std::time::Instant>, Arc<SharedIndex>)>,
}

/// A search index that read-only directories on one file share: a server's readers build it
/// once between them, not once each (it is tens of megabytes at 100k listings).
#[derive(Default)]
struct SharedIndex {
    built: OnceLock<SearchIndex>,
    /// Held while building, so readers asking at once wait for one build.
    building: Mutex<()>,
}

/// Which state of its data a connection sees (see [`Directory::data_version`]). Only values
/// from the same [`Directory`] compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion {
    /// `PRAGMA data_version`: changes when another connection (or process) commits.
    others: i64,
    /// This connection's own changes, which `data_version` does not count.
    own: u64,
}

/// A directory database and its search index.
pub struct Directory {
    conn: Connection,
    index: Arc<SharedIndex>,
    /// A feed's directory: every change is also appended to the changeset log, atomically.
    publishing: bool,
    /// Counts the ORUK lists report, for the data as it was last counted.
    pub(crate) totals: crate::catalogue::Totals,
    /// The readers this one was opened with (see [`Directory::open_readers`]).
    group: Option<Arc<ReaderGroup>>,
    /// The state of the data when the index in use was chosen (see
    /// [`Directory::refresh_index`]).
    seen: Option<DataVersion>,
}

impl Directory {
    /// Open or create the database at `path`, migrating it if needed.
    pub fn open(path: &Path) -> Result<Directory> {
        let conn = db::open(path)?;
        Directory::from_connection(conn)
    }

    /// Open the database at `path` for reading only (see [`db::open_read_only`]): nothing in
    /// it changes, not even the taxonomy seeded on creation. A file that does not exist is read
    /// as an empty directory and is not created.
    pub fn open_read_only(path: &Path) -> Result<Directory> {
        if !path.exists() {
            return Directory::open_in_memory();
        }
        Ok(Directory {
            conn: db::open_read_only(path)?,
            index: Arc::default(),
            publishing: false,
            totals: Default::default(),
            group: None,
            seen: None,
        })
    }

    /// A private in-memory directory (tests, benchmarks).
    pub fn open_in_memory() -> Result<Directory> {
        let mut conn = Connection::open_in_memory()?;
        db::configure(&conn)?;
        crate::schema::migrate(&mut conn)?;
        Directory::from_connection(conn)
    }

    fn from_connection(mut conn: Connection) -> Result<Directory> {
        let tx = conn.transaction()?;
        write::seed_taxonomy(&tx)?;
        tx.commit()?;
        Ok(Directory {
            conn,
            index: Arc::default(),
            publishing: false,
            totals: Default::default(),
            group: None,
            seen: None,
        })
    }

    /// Open `count` read-only connections to the directory at `path`, for a server's parallel
    /// readers, sharing one search index. SQLite refuses any write through them; nothing is
    /// migrated or seeded, so the file must already have been opened by [`Directory::open`] or
    /// [`Directory::open_publisher`]. With WAL, they read while a writer writes.
    ///
    /// Other connections and processes go on writing; call [`Directory::refresh_index`] before
    /// each use so searches see what they wrote.
    pub fn open_readers(path: &Path, count: usize) -> Result<Vec<Directory>> {
        let group = Arc::<ReaderGroup>::default();
        let index = group
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
            .clone();
        (0..count)
            .map(|_| {
                let mut d = Directory {
                    conn: db::open_read_only(path)?,
                    index: index.clone(),
                    publishing: false,
                    totals: Default::default(),
                    group: Some(group.clone()),
                    seen: None,
                };
                d.seen = Some(d.data_version()?);
                Ok(d)
            })
            .collect()
    }

    /// Make sure the search index reflects every commit made before this call, by any
    /// connection or process: when the data changed since the index in use was chosen, take
    /// one made after this moment (building it on first use). Cheap when nothing changed: one
    /// look at the write-ahead log's header. Returns whether the data had changed.
    pub fn refresh_index(&mut self) -> Result<bool> {
        let now = self.data_version()?;
        let changed = self.seen.is_some_and(|seen| seen != now);
        self.seen = Some(now);
        if !changed {
            return Ok(false);
        }
        let noticed = std::time::Instant::now();
        match &self.group {
            Some(group) => {
                let mut latest = group
                    .latest
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // Made after this reader saw the change, another reader's new index holds it.
                if latest.0.is_none_or(|made| made < noticed) {
                    *latest = (Some(std::time::Instant::now()), Arc::default());
                }
                self.index = latest.1.clone();
            }
            None => self.index = Arc::default(),
        }
        self.totals = Default::default();
        Ok(true)
    }

    /// Open a feed's directory: like [`Directory::open`], and every change it makes is published
    /// as a changeset in the same transaction.
    pub fn open_publisher(path: &Path) -> Result<Directory> {
        let mut d = Directory::open(path)?;
        d.publishing = true;
        Ok(d)
    }

    /// The state of the data this connection sees: a different value after any commit, by
    /// this connection, another, or another process. What was read for one value can be kept
    /// until it changes; asking costs a check of the write-ahead log's header, not a query.
    pub fn data_version(&self) -> Result<DataVersion> {
        Ok(DataVersion {
            others: self
                .conn
                .prepare_cached("PRAGMA data_version")?
                .query_row([], |r| r.get(0))?,
            own: self.conn.total_changes(),
        })
    }

    /// How long a statement waits for a lock another connection holds before failing as busy
    /// (5 s when opened). Zero for a check that must never wait, such as one made on an async
    /// runtime's thread.
    pub fn set_busy_wait(&self, wait: std::time::Duration) -> Result<()> {
        Ok(self.conn.busy_timeout(wait)?)
    }

    /// The underlying connection, for read-only use by benchmarks and tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Load `regions` if this database has never had a region or any listing and follows no
    /// feed (a feed's copy must hold what the feed holds, and nothing else). Returns one report
    /// per region loaded; none when it loaded nothing.
    pub fn ensure_regions(&mut self, regions: &[Region]) -> Result<Vec<ImportReport>> {
        let had_region: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'region'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let listings: i64 = self
            .conn
            .query_row("SELECT count(*) FROM service", [], |r| r.get(0))?;
        let feeds: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sync_state", [], |r| r.get(0))?;
        if had_region.is_some() || listings > 0 || feeds > 0 {
            return Ok(Vec::new());
        }
        regions
            .iter()
            .map(|region| self.load_region(region, &mut |_| {}))
            .collect()
    }

    /// Import every source of a region and record it. Loading a region again updates its
    /// listings in place (their ids are stable), so it is also how a region is refreshed.
    pub fn load_region(
        &mut self,
        region: &Region,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let report = self.import_sources(region.records()?, progress)?;
        // A list of strings always serialises.
        let attribution =
            serde_json::to_string(&region.manifest.attribution).unwrap_or_else(|_| "[]".into());
        let tx = self.conn.transaction()?;
        write::record_region(
            &tx,
            &region.manifest.name,
            &region.manifest.description,
            &attribution,
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// Remove a region: every listing it brought and its record, in one transaction (published
    /// as one changeset of deletions when this directory publishes). Returns how many listings
    /// went. A region of that name that is not loaded is an error.
    pub fn remove_region(&mut self, name: &str) -> Result<usize> {
        let prefix = format!("region:{name}/");
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM service WHERE substr(source, 1, ?2) = ?1")?;
            let rows = stmt.query_map(
                rusqlite::params![prefix, prefix.chars().count() as i64],
                |r| r.get(0),
            )?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let tx = self.conn.transaction()?;
        let known = write::forget_region(&tx, name)?;
        if known == 0 && ids.is_empty() {
            return Err(Error::Region {
                name: name.into(),
                message: "no region of that name is loaded".into(),
            });
        }
        let report = write_batch(
            &tx,
            self.publishing,
            "delete",
            &mut PreparedBatch::default(),
            &ids,
        )?;
        tx.commit()?;
        if report.deleted > 0 {
            self.index = Arc::default();
        }
        Ok(report.deleted)
    }

    /// Where this directory's listings came from, each with its count: the regions loaded (in
    /// name order), then each feed followed, then files imported. A region whose listings were
    /// all replaced by a feed's is still listed, with 0.
    pub fn sources(&self) -> Result<Vec<SourceCount>> {
        let mut regions: Vec<SourceCount> = {
            let mut stmt = self
                .conn
                .prepare("SELECT name, description, attribution FROM region ORDER BY name")?;
            let rows = stmt.query_map([], |r| {
                let attribution: String = r.get(2)?;
                Ok(SourceCount {
                    kind: SourceKind::Region,
                    name: r.get(0)?,
                    description: r.get(1)?,
                    attribution: serde_json::from_str(&attribution).unwrap_or_default(),
                    listings: 0,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let feeds: Vec<String> = {
            let mut stmt = self.conn.prepare("SELECT feed FROM sync_state")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut others: Vec<SourceCount> = Vec::new();
        let mut stmt = self
            .conn
            .prepare("SELECT source, count(*) FROM service GROUP BY source")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let source: Option<String> = row.get(0)?;
            let count = row.get::<_, i64>(1)? as usize;
            let source = source.unwrap_or_default();
            let (kind, name) = if let Some(rest) = source.strip_prefix("region:") {
                let name = rest.rsplit_once('/').map_or(rest, |(n, _)| n);
                (SourceKind::Region, name.to_string())
            } else if let Some(feed) = feeds.iter().find(|f| {
                source
                    .strip_prefix(f.as_str())
                    .is_some_and(|r| r.starts_with('#'))
            }) {
                (SourceKind::Feed, feed.clone())
            } else {
                (SourceKind::Imported, source)
            };
            let list = if kind == SourceKind::Region {
                &mut regions
            } else {
                &mut others
            };
            match list.iter_mut().find(|s| s.kind == kind && s.name == name) {
                Some(s) => s.listings += count,
                None => list.push(SourceCount {
                    kind,
                    name,
                    description: String::new(),
                    attribution: Vec::new(),
                    listings: count,
                }),
            }
        }
        others.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        regions.extend(others);
        Ok(regions)
    }

    /// Import files or folders. Every path is read and parsed before anything is written, so a
    /// path that is not an importable file is one error and the database is unchanged. No file
    /// may hold more than [`import::MAX_FILE_BYTES`], decompressed.
    pub fn import_paths(
        &mut self,
        paths: &[&Path],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        self.import_paths_limited(paths, import::MAX_FILE_BYTES, progress)
    }

    /// [`Directory::import_paths`] with a limit of `max_bytes` for each file, decompressed.
    pub fn import_paths_limited(
        &mut self,
        paths: &[&Path],
        max_bytes: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let mut sources = Vec::new();
        for path in paths {
            sources.push((
                path.display().to_string(),
                import::read_path_limited(path, max_bytes)?,
            ));
        }
        self.import_sources(sources, progress)
    }

    /// Import records (values, or JSON text as [`crate::import::read_path`] leaves it), grouped
    /// by source name.
    ///
    /// Validation runs on a second thread, one batch ahead of the writer, so both cores work.
    pub fn import_sources<R: Into<RawRecord> + Send>(
        &mut self,
        sources: Vec<(String, Vec<R>)>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let total: usize = sources.iter().map(|(_, r)| r.len()).sum();
        let mut done = 0;
        let mut report = ImportReport::default();
        progress(Progress { done, total });
        // Small batches first, growing, so the writer starts at once and never waits: each
        // batch is validated while the one before it is written, which takes about 1.6 times
        // as long. A feed's batches stay whole (up to CHANGESET_BYTES), because each is a
        // changeset its clients fetch.
        let publishing = self.publishing;
        let first_batch = if publishing {
            WRITE_BATCH
        } else {
            FIRST_WRITE_BATCH
        };
        std::thread::scope(|scope| {
            let (sender, batches) = std::sync::mpsc::sync_channel::<(String, PreparedBatch)>(1);
            // Named so profiles and debuggers tell the validating thread from the writer.
            let validator = std::thread::Builder::new().name("signpost-validate".into());
            validator
                .spawn_scoped(scope, move || {
                    let mut size = first_batch;
                    for (source, records) in sources {
                        let mut position = 0;
                        let mut seen = import::SeenIds::default();
                        let mut records = records.into_iter().peekable();
                        while records.peek().is_some() {
                            let mut batch = PreparedBatch {
                                listings: Vec::with_capacity(size),
                                ..Default::default()
                            };
                            let mut bytes = 0;
                            for record in records.by_ref().take(size) {
                                let listed = batch.listings.len();
                                import::prepare_record(
                                    &source,
                                    position,
                                    record.into(),
                                    &mut batch,
                                );
                                seen.note(&source, position, listed, &mut batch);
                                position += 1;
                                bytes += batch.listings[listed..]
                                    .iter()
                                    .map(|l| l.record.len())
                                    .sum::<usize>();
                                if publishing && bytes >= CHANGESET_BYTES {
                                    break;
                                }
                            }
                            size = (size * 3 / 2).min(WRITE_BATCH);
                            if sender.send((source.clone(), batch)).is_err() {
                                return; // The writer stopped on an error.
                            }
                        }
                    }
                })
                .expect("the operating system starts a thread");
            let mut checkpointer = wal::Checkpointer::start(scope, &self.conn)?;
            let written = (|| {
                for (source, mut batch) in batches {
                    let handled = batch.listings.len() + batch.skipped;
                    report.absorb(self.write_changes(&source, &mut batch, &[])?);
                    checkpointer.committed(batch, handled);
                    done += handled;
                    progress(Progress { done, total });
                }
                Ok::<(), Error>(())
            })();
            checkpointer.finish(&self.conn)?;
            written
        })?;
        Ok(report)
    }

    /// Write listings and deletions in one transaction. The batch's errors and warnings move
    /// into the report; its listings are left to the caller.
    fn write_changes(
        &mut self,
        source: &str,
        batch: &mut PreparedBatch,
        deletes: &[String],
    ) -> Result<ImportReport> {
        let tx = self.conn.transaction()?;
        let report = write_batch(&tx, self.publishing, source, batch, deletes)?;
        tx.commit()?;
        if report.inserted + report.replaced + report.deleted > 0 {
            self.index = Arc::default();
        }
        Ok(report)
    }

    /// Write a feed's records and deletions with its new cursor in one transaction, by the rule
    /// for several feeds (see `feeds.rs`).
    fn write_feed_changes(
        &mut self,
        source: &str,
        batch: &mut PreparedBatch,
        deletes: &[String],
        cursor: &write::Cursor<'_>,
    ) -> Result<ImportReport> {
        let tx = self.conn.transaction()?;
        let report = crate::feeds::write_feed_batch(
            &tx,
            self.publishing,
            cursor.feed,
            source,
            batch,
            deletes,
        )?;
        write::set_cursor(&tx, cursor)?;
        tx.commit()?;
        if report.inserted + report.replaced + report.deleted > 0 {
            self.index = Arc::default();
        }
        Ok(report)
    }

    /// The feeds this directory follows, in address order: each with its cursor, the listings
    /// shown from it, those of its listings another feed's version outranks, and when the
    /// directory was last known to be up to date with it.
    pub fn feeds(&self) -> Result<Vec<crate::FeedInfo>> {
        crate::feeds::feeds(&self.conn)
    }

    /// Follow `feed` before its first sync, so it is listed (with nothing from it yet, never
    /// updated) and the next update of every feed fetches it. Returns whether it was new.
    pub fn follow_feed(&mut self, feed: &str) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let new = write::follow_feed(&tx, feed)?;
        tx.commit()?;
        Ok(new)
    }

    /// Record that a sync found `feed` had nothing new: settings shows it as updated now.
    /// Returns whether the feed is followed.
    pub fn confirm_feed(&mut self, feed: &str) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let known = write::confirm_feed(&tx, feed)?;
        tx.commit()?;
        Ok(known)
    }

    /// Stop following `feed`, in one transaction: its listings go (where another feed
    /// publishes one, that feed's version is shown instead), its waiting versions and its
    /// cursor too. Returns how many listings stopped being shown. A feed not followed is an
    /// error.
    pub fn unfollow_feed(&mut self, feed: &str) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut ids: Vec<String> = crate::feeds::feed_ids(&tx, feed)?.into_iter().collect();
        ids.sort();
        let report = crate::feeds::write_feed_batch(
            &tx,
            self.publishing,
            feed,
            "delete",
            &mut PreparedBatch::default(),
            &ids,
        )?;
        if !write::forget_feed(&tx, feed)? {
            return Err(Error::NotFollowed(feed.to_string()));
        }
        tx.commit()?;
        self.index = Arc::default();
        Ok(report.deleted)
    }

    /// Apply a verified changeset from `feed`, whose log is `feed_id` (`""` if it publishes
    /// none): every record is validated first, and a single bad record rejects the whole
    /// changeset with nothing applied. Records, deletions and the new cursor (with the feed id)
    /// are committed in one transaction, so a crash at any instant leaves either the previous
    /// state or the new one.
    ///
    /// Several feeds can be followed at once. A listing another feed also publishes is shown
    /// once: the version with the later `assured_date` (a date beats none; on a tie, the feed
    /// whose address sorts first), whatever order the feeds synced in; the other version is
    /// kept aside in the same transaction. A deletion removes only this feed's version: a
    /// listing shown from another feed, a region or a file stays, and one shown from this feed
    /// gives way to the best version another feed publishes, if any (see `feeds.rs`).
    pub fn apply_changeset(
        &mut self,
        feed: &str,
        feed_id: &str,
        changeset: &Changeset,
    ) -> Result<ImportReport> {
        let (seq, hash) = self.sync_cursor(feed)?;
        follows(seq, &hash, changeset)?;
        let source = format!("{feed}#{}", changeset.seq);
        let mut batch = prepare_all(
            &source,
            &changeset.upserts,
            &format!("changeset {}", changeset.seq),
        )?;
        let this_hash = changeset.hash();
        self.write_feed_changes(
            &source,
            &mut batch,
            &changeset.deletes,
            &write::Cursor {
                feed,
                feed_id,
                seq: changeset.seq,
                hash: &this_hash,
            },
        )
    }

    /// The last changeset applied from `feed`: (seq, hash), or (0, "") before the first sync.
    pub fn sync_cursor(&self, feed: &str) -> Result<(u64, String)> {
        let c = self.sync_position(feed)?;
        Ok((c.seq, c.hash))
    }

    /// Where this directory stands in `feed`'s log, with the id of that log.
    pub fn sync_position(&self, feed: &str) -> Result<SyncCursor> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, hash, feed_id FROM sync_state WHERE feed = ?1",
                [feed],
                |r| {
                    Ok(SyncCursor {
                        seq: r.get::<_, i64>(0)? as u64,
                        hash: r.get(1)?,
                        feed_id: r.get(2)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    /// This directory's own log id, which a feed publishes in `/sync/head`: random, made when
    /// the database was created, so a feed rebuilt in a fresh data folder has a new one.
    pub fn feed_id(&self) -> Result<String> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'feed_id'", [], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| Error::Corrupt("the directory has no feed_id".into()))
    }

    /// Start again from `feed`'s current state, for a client whose cursor is not on the feed's
    /// log any more (the feed was rebuilt, or its log diverged). Everything happens in one
    /// transaction that [`Resync::commit`] ends: until then (and for ever, if it is dropped)
    /// readers see the data as it was, and a kill loses nothing.
    pub fn resync<'a>(&'a mut self, feed: &'a str, feed_id: &'a str) -> Result<Resync<'a>> {
        let Directory {
            conn,
            index,
            publishing,
            ..
        } = self;
        Ok(Resync {
            tx: conn.transaction()?,
            index,
            publishing: *publishing,
            feed,
            feed_id,
            seq: 0,
            hash: String::new(),
            keep: HashSet::new(),
            report: ImportReport::default(),
        })
    }

    /// The published log after `seq`: (seq, hash, prev, upserts, deletes, bytes), at most `limit`.
    pub fn changesets_after(&self, seq: u64, limit: usize) -> Result<Vec<ChangesetInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, hash, prev, upserts, deletes, bytes FROM changeset WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![seq as i64, limit as i64], write::log_entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The newest changeset, if any.
    pub fn changeset_head(&self) -> Result<Option<ChangesetInfo>> {
        let last: Option<i64> = self
            .conn
            .query_row("SELECT max(seq) FROM changeset", [], |r| r.get(0))?;
        match last {
            None => Ok(None),
            Some(seq) => Ok(self.changesets_after(seq as u64 - 1, 1)?.pop()),
        }
    }

    /// Publish a snapshot of the whole directory as of the newest changeset: (seq, hash).
    pub fn publish_snapshot(&mut self) -> Result<Option<(u64, String)>> {
        let tx = self.conn.transaction()?;
        let made = write::append_snapshot(&tx)?;
        tx.commit()?;
        Ok(made)
    }

    /// The newest snapshot (with its size, as `/sync/head` describes it), if any.
    pub fn newest_snapshot(&self) -> Result<Option<SnapshotInfo>> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, hash, records, bytes FROM snapshot ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok(SnapshotInfo {
                        seq: r.get::<_, i64>(0)? as u64,
                        hash: r.get(1)?,
                        records: r.get::<_, i64>(2)? as u64,
                        bytes: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .optional()?)
    }

    /// A published snapshot's gzip body, by hash.
    pub fn snapshot_body(&self, hash: &str) -> Result<Vec<u8>> {
        self.body_named("SELECT body FROM snapshot WHERE hash = ?1", hash)
    }

    /// Start from a verified snapshot: only for a directory that has applied nothing from `feed`.
    /// Every record is validated first; all of them and the cursor (the snapshot's `seq` and
    /// `head`, and the feed's id) are committed in one transaction.
    pub fn apply_snapshot(
        &mut self,
        feed: &str,
        feed_id: &str,
        snapshot: &Snapshot,
    ) -> Result<ImportReport> {
        if self.sync_cursor(feed)?.0 != 0 {
            return Err(Error::Changeset(
                "a snapshot is only applied to a directory that has not synced from this feed"
                    .into(),
            ));
        }
        let source = format!("{feed}#snapshot{}", snapshot.seq);
        let mut batch = prepare_all(
            &source,
            &snapshot.records,
            &format!("snapshot {}", snapshot.seq),
        )?;
        self.write_feed_changes(
            &source,
            &mut batch,
            &[],
            &write::Cursor {
                feed,
                feed_id,
                seq: snapshot.seq,
                hash: &snapshot.head,
            },
        )
    }

    /// A published changeset's gzip body, by hash.
    pub fn changeset_body(&self, hash: &str) -> Result<Vec<u8>> {
        self.body_named("SELECT body FROM changeset WHERE hash = ?1", hash)
    }

    /// The log as `head.json` describes it: how many full pages it has, the newest one's hash
    /// ("" when none) and the changesets after it (fewer than a page).
    pub fn log_tail(&self) -> Result<LogTail> {
        let newest: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT n, hash FROM log_page ORDER BY n DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (pages, page) = newest.map_or((0, String::new()), |(n, h)| (n as u64, h));
        Ok(LogTail {
            pages,
            page,
            recent: self.changesets_after(pages * crate::changeset::LOG_PAGE, usize::MAX)?,
        })
    }

    /// A stored body (changeset, snapshot or log page) by the hash that names it.
    fn body_named(&self, sql: &'static str, hash: &str) -> Result<Vec<u8>> {
        self.conn
            .query_row(sql, [hash], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::NotFound(hash.to_string()))
    }

    /// A full log page's canonical bytes, by hash.
    pub fn log_page_body(&self, hash: &str) -> Result<Vec<u8>> {
        self.body_named("SELECT body FROM log_page WHERE hash = ?1", hash)
    }

    /// Every full log page's hash, oldest first.
    pub fn log_page_hashes(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT hash FROM log_page ORDER BY n")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Delete a listing. Returns whether it existed.
    pub fn delete(&mut self, id: &str) -> Result<bool> {
        Ok(self.delete_all(&[id.to_string()])? == 1)
    }

    /// Delete listings in one transaction, published as one changeset of tombstones (a feed
    /// that drops a thousand listings moves its clients' head by one, not a thousand). Returns
    /// how many existed.
    pub fn delete_all(&mut self, ids: &[String]) -> Result<usize> {
        let report = self.write_changes("delete", &mut PreparedBatch::default(), ids)?;
        Ok(report.deleted)
    }

    /// The search index, built on first use after opening or after a change.
    pub fn index(&self) -> Result<&SearchIndex> {
        if let Some(i) = self.index.built.get() {
            return Ok(i);
        }
        let _building = self
            .index
            .building
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = self.index.built.get() {
            return Ok(i);
        }
        let built = SearchIndex::load(&self.conn)?;
        Ok(self.index.built.get_or_init(|| built))
    }

    /// Exact nearest listings (index hits only, no row fetches).
    pub fn search(&self, q: &NearQuery) -> Result<Vec<Hit>> {
        self.index()?.search(&self.conn, q)
    }

    /// Every listing within the radius that passes the filters, in no particular order (see
    /// [`SearchIndex::search_all`]).
    ///
    /// [`SearchIndex::search_all`]: crate::search::SearchIndex::search_all
    pub fn search_all(&self, q: &NearQuery) -> Result<Vec<Hit>> {
        self.index()?.search_all(&self.conn, q)
    }

    /// For each origin, the nearest listing that passes `filters`, however far; `None` when
    /// none does (see [`SearchIndex::nearest_each`]).
    ///
    /// [`SearchIndex::nearest_each`]: crate::search::SearchIndex::nearest_each
    pub fn nearest_each(
        &self,
        filters: &crate::search::Filters,
        origins: &[(f64, f64)],
    ) -> Result<Vec<Option<Hit>>> {
        self.index()?.nearest_each(&self.conn, filters, origins)
    }

    /// Near-me search with each result's details, `open_now` evaluated at `now`.
    pub fn near(&self, q: &NearQuery, now: DateTime<Utc>) -> Result<Vec<NearResult>> {
        let hits = self.search(q)?;
        self.describe_hits(&hits, now)
    }

    /// The same answer by scanning every point (the reference for tests and benchmarks).
    pub fn near_brute_force(&self, q: &NearQuery, now: DateTime<Utc>) -> Result<Vec<NearResult>> {
        let hits = self.index()?.brute_force(&self.conn, q)?;
        self.describe_hits(&hits, now)
    }

    /// What a result row shows for each hit (names, postcode, `open_now` at `now`, the next
    /// session), in the order given.
    pub fn describe_hits(&self, hits: &[Hit], now: DateTime<Utc>) -> Result<Vec<NearResult>> {
        let index = self.index()?;
        // From the index's memory: no row read from SQLite, no schedule parsed, per result.
        let texts = index.row_texts(&self.conn)?;
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let s = index.service(hit.service);
            let p = index.point(hit.point);
            let service = texts.service(hit.service);
            let (location_id, postcode) = texts.location(p.location_rowid);
            let evaluable = index.schedules_at(&self.conn, hit)?;
            out.push(NearResult {
                service_id: service.id.to_string(),
                location_id: location_id.to_string(),
                name: service.name.to_string(),
                organization: service.organization.map(str::to_string),
                distance_m: hit.distance_m,
                latitude: p.latitude,
                longitude: p.longitude,
                access: s.access.map(|a| a.code()),
                free: s.free,
                open_now: schedule::open_at(evaluable, now),
                next_opens_at: evaluable
                    .iter()
                    .filter_map(|e| e.next_session(now, 60))
                    .map(|(s, _)| s)
                    .min(),
                postcode: postcode.map(str::to_string),
                assured_date: service.assured_date.map(str::to_string),
                in_person: s.attendance & Attendance::InPerson.bit() != 0,
                online: s.attendance & Attendance::Online.bit() != 0,
            });
        }
        Ok(out)
    }

    /// The sessions of a hit's service at its location that start within `days` local days
    /// from `now`'s day; `None` when its schedules give no times (so nothing can be said).
    pub fn sessions(
        &self,
        hit: &Hit,
        now: DateTime<Utc>,
        days: u32,
    ) -> Result<Option<Vec<Session>>> {
        self.index()?.sessions(&self.conn, hit, now, days)
    }

    /// Whether a hit's place has schedules that give times (see [`SearchIndex::has_times`]).
    ///
    /// [`SearchIndex::has_times`]: crate::search::SearchIndex::has_times
    pub fn has_times(&self, hit: &Hit) -> Result<bool> {
        self.index()?.has_times(&self.conn, hit)
    }

    /// What the search index holds about a listing (its facets), by id; `None` when the
    /// directory does not hold it or it has no indexed point.
    pub fn service_entry(&self, service_id: &str) -> Result<Option<&crate::search::ServiceEntry>> {
        let rowid: Option<i64> = self
            .conn
            .prepare_cached("SELECT rowid FROM service WHERE id = ?1")?
            .query_row([service_id], |r| r.get(0))
            .optional()?;
        Ok(match rowid {
            Some(r) => self.index()?.entry_for_rowid(r),
            None => None,
        })
    }

    /// A hit's service id, name and organisation name: what a list of suggestions shows.
    pub fn hit_names(&self, hit: &Hit) -> Result<(String, String, Option<String>)> {
        let texts = self.index()?.row_texts(&self.conn)?.service(hit.service);
        Ok((
            texts.id.to_string(),
            texts.name.to_string(),
            texts.organization.map(str::to_string),
        ))
    }

    /// The nearest point of one service to a place, as a search hit: to ask of one listing the
    /// questions a search asks of many. `None` when the listing is unknown or has no point.
    pub fn hit_for(&self, service_id: &str, latitude: f64, longitude: f64) -> Result<Option<Hit>> {
        let rowid: Option<i64> = self
            .conn
            .prepare_cached("SELECT rowid FROM service WHERE id = ?1")?
            .query_row([service_id], |r| r.get(0))
            .optional()?;
        let Some(rowid) = rowid else {
            return Ok(None);
        };
        Ok(self.index()?.hit_for_rowid(rowid, latitude, longitude))
    }

    /// A listing's content hash (hex), which changes whenever its record does; `None` when the
    /// directory does not hold it.
    pub fn content_hash(&self, service_id: &str) -> Result<Option<String>> {
        let hash: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT content_hash FROM service WHERE id = ?1")?
            .query_row([service_id], |r| r.get(0))
            .optional()?;
        Ok(hash.map(hex::encode))
    }

    /// A listing's stored record (as validated) and its source.
    pub(crate) fn stored_record(&self, id: &str) -> Result<(Value, Option<String>)> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT r.record, s.source FROM service s JOIN service_record r ON r.service_rowid = s.rowid
                 WHERE s.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (record, source) = row.ok_or_else(|| Error::NotFound(id.to_string()))?;
        let record = serde_json::from_str(&record).map_err(|e| Error::Corrupt(e.to_string()))?;
        Ok((record, source))
    }

    /// One listing in full.
    pub fn listing(&self, id: &str) -> Result<ListingDetail> {
        let (record, source) = self.stored_record(id)?;
        let service: Service =
            serde::Deserialize::deserialize(&record).map_err(|e| Error::BadQuery(e.to_string()))?;
        let facets = Facets::of(&service);
        let mut all_schedules = service.schedules.clone();
        for sal in &service.service_at_locations {
            all_schedules.extend(sal.schedules.iter().cloned());
        }
        let terms = service
            .attributes
            .iter()
            .filter_map(|a| match crate::taxonomy::term_label(a)? {
                (Some(group), name) => Some(format!("{group}: {name}")),
                (None, name) => Some(name),
            })
            .collect();
        Ok(ListingDetail {
            when: (!all_schedules.is_empty()).then(|| schedule::describe_all(&all_schedules)),
            access: facets.access.map(|a| a.code()),
            free: facets.free,
            wheelchair: facets.wheelchair,
            terms,
            service,
            record,
            source,
        })
    }

    /// The languages active listings are offered in, as their names (or codes where no name is
    /// given), for a filter's choices. Sorted, without duplicates.
    pub fn languages(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT coalesce(nullif(trim(l.name), ''), trim(l.code)) AS n
             FROM language l JOIN service s ON s.rowid = l.service_rowid
             WHERE s.status = 'active' AND n IS NOT NULL AND n != '' ORDER BY n COLLATE NOCASE",
        )?;
        let names = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    /// Every active listing with when its publisher last checked it and where to write to it
    /// (its own email, else its organization's): what freshness reminders are sent from.
    pub fn freshness(&self) -> Result<Vec<Freshness>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.name, s.assured_date, coalesce(nullif(s.email, ''), nullif(o.email, ''))
             FROM service s LEFT JOIN organization o ON o.id = s.organization_id
             WHERE s.status = 'active' ORDER BY s.id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Freshness {
                    service_id: r.get(0)?,
                    name: r.get(1)?,
                    assured_date: r.get(2)?,
                    email: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Ids of the listings last written from `source` (a file path or feed URL).
    pub fn ids_from_source(&self, source: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM service WHERE source = ?1 ORDER BY id")?;
        let ids = stmt
            .query_map([source], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// A digest of the whole directory: SHA-256 over every listing's id and content hash, in id
    /// order. Two directories have the same digest exactly when they hold the same listings
    /// (same ids, same canonical records), however and in whatever order they were loaded.
    pub fn digest(&self) -> Result<String> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, content_hash FROM service ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut hasher = Sha256::new();
        while let Some(r) = rows.next()? {
            let id = r.get_ref(0)?.as_bytes().map_err(rusqlite::Error::from)?;
            // Length-prefixed, so no two different lists can hash the same bytes.
            hasher.update((id.len() as u64).to_be_bytes());
            hasher.update(id);
            hasher.update(r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    /// Counts.
    pub fn stats(&self) -> Result<Stats> {
        let count = |sql: &str| -> Result<usize> {
            Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as usize)
        };
        Ok(Stats {
            listings: count("SELECT count(*) FROM service")?,
            active: count("SELECT count(*) FROM service WHERE status = 'active'")?,
            locations: count("SELECT count(*) FROM location")?,
            unindexed_locations: count("SELECT count(*) FROM location WHERE coord_status != 'ok'")?,
        })
    }
}

impl ImportReport {
    /// A report starting with what a batch skipped, and its errors and warnings (moved out).
    pub(crate) fn taking_problems(batch: &mut PreparedBatch) -> ImportReport {
        ImportReport {
            skipped: std::mem::take(&mut batch.skipped),
            errors: std::mem::take(&mut batch.errors),
            warnings: std::mem::take(&mut batch.warnings),
            ..Default::default()
        }
    }
}

/// Write a batch's listings and `deletes` inside `tx`, publishing a changeset of what changed
/// when `publishing`. The batch's errors and warnings move into the report; its listings are
/// left to the caller.
fn write_batch(
    tx: &rusqlite::Transaction<'_>,
    publishing: bool,
    source: &str,
    batch: &mut PreparedBatch,
    deletes: &[String],
) -> Result<ImportReport> {
    let mut report = ImportReport::taking_problems(batch);
    let listings: Vec<(&str, &import::Prepared)> =
        batch.listings.iter().map(|l| (source, l)).collect();
    write_listings(tx, publishing, &listings, deletes, &mut report)?;
    Ok(report)
}

/// Write listings, each with its own source, then delete `deletes`, inside `tx`, publishing a
/// changeset of what changed when `publishing`; counts go into `report`.
pub(crate) fn write_listings(
    tx: &rusqlite::Transaction<'_>,
    publishing: bool,
    listings: &[(&str, &import::Prepared)],
    deletes: &[String],
    report: &mut ImportReport,
) -> Result<()> {
    let mut written: Vec<(i64, &import::Prepared)> = Vec::with_capacity(listings.len());
    // Where each id is in `written`: an id that comes twice in one batch keeps only its
    // later version there, so the earlier one is neither indexed for text nor published.
    let mut position: HashMap<&str, usize> = HashMap::with_capacity(listings.len());
    let mut memo = write::BatchMemo::default();
    for &(source, listing) in listings {
        let rowid = match write::upsert_listing(tx, listing, source, &mut memo)? {
            write::Outcome::Inserted(rowid) => {
                report.inserted += 1;
                rowid
            }
            write::Outcome::Replaced(rowid) => {
                report.replaced += 1;
                rowid
            }
            write::Outcome::Unchanged => {
                report.unchanged += 1;
                continue;
            }
        };
        if publishing {
            write::insert_oruk_text(tx, rowid, crate::oruk::parse(&listing.record)?)?;
        }
        match position.entry(listing.service.id.as_str()) {
            Entry::Occupied(at) => written[*at.get()] = (rowid, listing),
            Entry::Vacant(at) => {
                at.insert(written.len());
                written.push((rowid, listing));
            }
        }
    }
    for (rowid, listing) in &written {
        write::insert_fts(tx, *rowid, &listing.service)?;
    }
    let mut deleted = Vec::new();
    for id in deletes {
        if write::delete_listing(tx, id)? {
            deleted.push(id.clone());
        }
    }
    if publishing && !(written.is_empty() && deleted.is_empty()) {
        // Only what changed is published: a re-import of unchanged data publishes nothing.
        let upserts = written
            .iter()
            .map(|(_, l)| {
                serde_json::from_str(&l.record).map_err(|e| Error::Corrupt(e.to_string()))
            })
            .collect::<Result<Vec<Value>>>()?;
        write::append_changeset(tx, upserts, deleted.clone())?;
    }
    report.deleted += deleted.len();
    Ok(())
}
