//! [`Directory`]: the public API over one directory database.
use std::cell::OnceCell;
use std::collections::hash_map::{Entry, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::changeset::{Changeset, Snapshot};
use crate::error::{Error, RecordError, Result};
use crate::import::{self, PreparedBatch, RawRecord};
use crate::model::{ScheduleRecord, Service};
use crate::region::Region;
use crate::schedule::{self, Schedule};
use crate::search::{Hit, NearQuery, SearchIndex};
use crate::taxonomy::{Attendance, Facets};
use crate::{db, wal, write};

/// Listings written per transaction. A crash loses at most the batch in flight, never half of
/// one, and readers never see a half-written batch.
const WRITE_BATCH: usize = 10_000;

/// The first batch of an import; later ones grow to [`WRITE_BATCH`].
const FIRST_WRITE_BATCH: usize = 500;

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

/// A changeset as listed in a feed's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangesetInfo {
    /// Position in the log.
    pub seq: u64,
    /// Hex SHA-256 of its canonical bytes; also its URL.
    pub hash: String,
    /// The previous changeset's hash ("" for the first).
    pub prev: String,
    /// Records upserted.
    pub upserts: u64,
    /// Ids deleted.
    pub deletes: u64,
    /// Uncompressed size.
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
    /// Name of the loaded region, if any.
    pub region: Option<String>,
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

/// A directory database and its search index.
pub struct Directory {
    conn: Connection,
    index: OnceCell<SearchIndex>,
    /// A feed's directory: every change is also appended to the changeset log, atomically.
    publishing: bool,
}

impl Directory {
    /// Open or create the database at `path`, migrating it if needed.
    pub fn open(path: &Path) -> Result<Directory> {
        let conn = db::open(path)?;
        Directory::from_connection(conn)
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
            index: OnceCell::new(),
            publishing: false,
        })
    }

    /// Open a feed's directory: like [`Directory::open`], and every change it makes is published
    /// as a changeset in the same transaction.
    pub fn open_publisher(path: &Path) -> Result<Directory> {
        let mut d = Directory::open(path)?;
        d.publishing = true;
        Ok(d)
    }

    /// The underlying connection, for read-only use by benchmarks and tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Load `region` if this database has never had a region or any listing. Returns the
    /// report when it loaded.
    pub fn ensure_region(&mut self, region: &Region) -> Result<Option<ImportReport>> {
        let has_region: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'region'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let listings: i64 = self
            .conn
            .query_row("SELECT count(*) FROM service", [], |r| r.get(0))?;
        if has_region.is_some() || listings > 0 {
            return Ok(None);
        }
        self.load_region(region, &mut |_| {}).map(Some)
    }

    /// Import every source of a region and record its name.
    pub fn load_region(
        &mut self,
        region: &Region,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let report = self.import_sources(region.records()?, progress)?;
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES ('region', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [&region.manifest.name],
        )?;
        Ok(report)
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
        // as long. A feed's batches stay whole, because each is a changeset its clients fetch.
        let first_batch = if self.publishing {
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
                    report.absorb(self.write_changes(&source, &mut batch, &[], None)?);
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

    /// Write listings and deletions in one transaction, with the feed cursor if syncing. The
    /// batch's errors and warnings move into the report; its listings are left to the caller.
    fn write_changes(
        &mut self,
        source: &str,
        batch: &mut PreparedBatch,
        deletes: &[String],
        cursor: Option<(&str, u64, &str)>,
    ) -> Result<ImportReport> {
        let mut report = ImportReport {
            skipped: std::mem::take(&mut batch.skipped),
            errors: std::mem::take(&mut batch.errors),
            warnings: std::mem::take(&mut batch.warnings),
            ..Default::default()
        };
        let tx = self.conn.transaction()?;
        let mut written: Vec<(i64, &import::Prepared)> = Vec::with_capacity(batch.listings.len());
        // Where each id is in `written`: an id that comes twice in one batch keeps only its
        // later version there, so the earlier one is neither indexed for text nor published.
        let mut position: HashMap<&str, usize> = HashMap::with_capacity(batch.listings.len());
        let mut memo = write::BatchMemo::default();
        for listing in &batch.listings {
            let rowid = match write::upsert_listing(&tx, listing, source, &mut memo)? {
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
            match position.entry(listing.service.id.as_str()) {
                Entry::Occupied(at) => written[*at.get()] = (rowid, listing),
                Entry::Vacant(at) => {
                    at.insert(written.len());
                    written.push((rowid, listing));
                }
            }
        }
        for (rowid, listing) in &written {
            write::insert_fts(&tx, *rowid, &listing.service)?;
        }
        let mut deleted = Vec::new();
        for id in deletes {
            if write::delete_listing(&tx, id)? {
                deleted.push(id.clone());
            }
        }
        if self.publishing && !(written.is_empty() && deleted.is_empty()) {
            // Only what changed is published: a re-import of unchanged data publishes nothing.
            let upserts = written
                .iter()
                .map(|(_, l)| {
                    serde_json::from_str(&l.record).map_err(|e| Error::Corrupt(e.to_string()))
                })
                .collect::<Result<Vec<Value>>>()?;
            write::append_changeset(&tx, upserts, deleted.clone())?;
        }
        if let Some((feed, seq, hash)) = cursor {
            write::set_cursor(&tx, feed, seq, hash)?;
        }
        tx.commit()?;
        report.deleted = deleted.len();
        if report.inserted + report.replaced + report.deleted > 0 {
            self.index = OnceCell::new();
        }
        Ok(report)
    }

    /// Apply a verified changeset from `feed`: every record is validated first, and a single
    /// bad record rejects the whole changeset with nothing applied. Records, deletions and the
    /// new cursor are committed in one transaction, so a crash at any instant leaves either the
    /// previous state or the new one.
    pub fn apply_changeset(&mut self, feed: &str, changeset: &Changeset) -> Result<ImportReport> {
        let (seq, hash) = self.sync_cursor(feed)?;
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
        let source = format!("{feed}#{}", changeset.seq);
        let mut batch = prepare_all(
            &source,
            &changeset.upserts,
            &format!("changeset {}", changeset.seq),
        )?;
        let this_hash = changeset.hash();
        self.write_changes(
            &source,
            &mut batch,
            &changeset.deletes,
            Some((feed, changeset.seq, &this_hash)),
        )
    }

    /// The last changeset applied from `feed`: (seq, hash), or (0, "") before the first sync.
    pub fn sync_cursor(&self, feed: &str) -> Result<(u64, String)> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, hash FROM sync_state WHERE feed = ?1",
                [feed],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, String::new())))
    }

    /// The published log after `seq`: (seq, hash, prev, upserts, deletes, bytes), at most `limit`.
    pub fn changesets_after(&self, seq: u64, limit: usize) -> Result<Vec<ChangesetInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, hash, prev, upserts, deletes, bytes FROM changeset WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![seq as i64, limit as i64], |r| {
            Ok(ChangesetInfo {
                seq: r.get::<_, i64>(0)? as u64,
                hash: r.get(1)?,
                prev: r.get(2)?,
                upserts: r.get::<_, i64>(3)? as u64,
                deletes: r.get::<_, i64>(4)? as u64,
                bytes: r.get::<_, i64>(5)? as u64,
            })
        })?;
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

    /// The newest snapshot: (seq, hash).
    pub fn snapshot_head(&self) -> Result<Option<(u64, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, hash FROM snapshot ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
    }

    /// A published snapshot's gzip body, by hash.
    pub fn snapshot_body(&self, hash: &str) -> Result<Vec<u8>> {
        self.conn
            .query_row("SELECT body FROM snapshot WHERE hash = ?1", [hash], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| Error::NotFound(hash.to_string()))
    }

    /// Start from a verified snapshot: only for a directory that has applied nothing from `feed`.
    /// Every record is validated first; all of them and the cursor (the snapshot's `seq` and
    /// `head`) are committed in one transaction.
    pub fn apply_snapshot(&mut self, feed: &str, snapshot: &Snapshot) -> Result<ImportReport> {
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
        self.write_changes(
            &source,
            &mut batch,
            &[],
            Some((feed, snapshot.seq, &snapshot.head)),
        )
    }

    /// A published changeset's gzip body, by hash.
    pub fn changeset_body(&self, hash: &str) -> Result<Vec<u8>> {
        self.conn
            .query_row("SELECT body FROM changeset WHERE hash = ?1", [hash], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| Error::NotFound(hash.to_string()))
    }

    /// Delete a listing. Returns whether it existed.
    pub fn delete(&mut self, id: &str) -> Result<bool> {
        let report = self.write_changes(
            "delete",
            &mut PreparedBatch::default(),
            &[id.to_string()],
            None,
        )?;
        Ok(report.deleted == 1)
    }

    /// The search index, built on first use after opening or after a change.
    pub fn index(&self) -> Result<&SearchIndex> {
        if let Some(i) = self.index.get() {
            return Ok(i);
        }
        let built = SearchIndex::load(&self.conn)?;
        Ok(self.index.get_or_init(|| built))
    }

    /// Exact nearest listings (index hits only, no row fetches).
    pub fn search(&self, q: &NearQuery) -> Result<Vec<Hit>> {
        self.index()?.search(&self.conn, q)
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

    fn describe_hits(&self, hits: &[Hit], now: DateTime<Utc>) -> Result<Vec<NearResult>> {
        let index = self.index()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, s.name, o.name, l.id,
                    (SELECT postal_code FROM address a WHERE a.location_rowid = l.rowid LIMIT 1),
                    s.assured_date
             FROM service s LEFT JOIN organization o ON o.id = s.organization_id, location l
             WHERE s.rowid = ?1 AND l.rowid = ?2",
        )?;
        let mut out = Vec::with_capacity(hits.len());
        for hit in hits {
            let s = index.service(hit.service);
            let p = index.point(hit.point);
            let (service_id, name, organization, location_id, postcode, assured_date): (
                String,
                String,
                Option<String>,
                String,
                Option<String>,
                Option<String>,
            ) = stmt.query_row(params![s.rowid, p.location_rowid], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            let schedules = self.schedules_for(s.rowid, Some(p.sal_rowid))?;
            let evaluable: Vec<Schedule> =
                schedules.iter().filter_map(Schedule::from_record).collect();
            out.push(NearResult {
                service_id,
                location_id,
                name,
                organization,
                distance_m: hit.distance_m,
                latitude: p.latitude,
                longitude: p.longitude,
                access: s.access.map(|a| a.code()),
                free: s.free,
                open_now: schedule::open_at(&evaluable, now),
                next_opens_at: evaluable
                    .iter()
                    .filter_map(|e| e.next_session(now, 60))
                    .map(|(s, _)| s)
                    .min(),
                postcode,
                assured_date,
                in_person: s.attendance & Attendance::InPerson.bit() != 0,
                online: s.attendance & Attendance::Online.bit() != 0,
            });
        }
        Ok(out)
    }

    /// Schedules that apply at a service-at-location: its own if it has any, else the service's.
    fn schedules_for(
        &self,
        service_rowid: i64,
        sal_rowid: Option<i64>,
    ) -> Result<Vec<ScheduleRecord>> {
        let read = |sql: &str, id: i64| -> Result<Vec<ScheduleRecord>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows = stmt.query_map([id], |r| {
                Ok(ScheduleRecord {
                    id: r.get(0)?,
                    valid_from: r.get(1)?,
                    valid_to: r.get(2)?,
                    dtstart: r.get(3)?,
                    until: r.get(4)?,
                    count: r.get(5)?,
                    freq: r.get(6)?,
                    interval: r.get(7)?,
                    byday: r.get(8)?,
                    bymonthday: r.get(9)?,
                    opens_at: r.get(10)?,
                    closes_at: r.get(11)?,
                    description: r.get(12)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        const COLS: &str = "id, valid_from, valid_to, dtstart, until, count, freq, interval, byday, bymonthday, opens_at, closes_at, description";
        if let Some(sal) = sal_rowid {
            let own = read(
                &format!("SELECT {COLS} FROM schedule WHERE sal_rowid = ?1 ORDER BY rowid"),
                sal,
            )?;
            if !own.is_empty() {
                return Ok(own);
            }
        }
        read(
            &format!("SELECT {COLS} FROM schedule WHERE service_rowid = ?1 AND sal_rowid IS NULL ORDER BY rowid"),
            service_rowid,
        )
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
            region: self
                .conn
                .query_row("SELECT value FROM meta WHERE key = 'region'", [], |r| {
                    r.get(0)
                })
                .optional()?,
        })
    }
}
