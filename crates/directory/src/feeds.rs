//! Several feeds followed at once: which feed's version of a listing is shown, and what waits
//! behind it.
//!
//! A listing is shown once, by id. When two feeds publish the same id, **the version with the
//! later `assured_date` wins** (its publisher checked it more recently); a version with a date
//! beats one without; on equal dates (or none) **the feed whose address sorts first wins**. The
//! rule looks only at the versions, never at when they arrived, so whichever feed syncs first,
//! the same version is shown. Every other feed's version waits in `feed_shadow` (migration 10),
//! so that when the shown one's feed deletes it, stops publishing it (a rebuilt feed) or is
//! unfollowed, the best remaining version is validated again and shown in its place, in the
//! same transaction. A feed's deletion removes only its own version: a listing shown from
//! another feed, a region or an imported file stays.
//!
//! A listing from a region or an imported file is replaced by a feed's version, as it always
//! was (the feed is the newer word on it), and is not kept behind it.
use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;

use crate::error::Result;
use crate::import::{self, Prepared, PreparedBatch};
use crate::store::{write_listings, ImportReport};
use crate::write;

/// A feed this directory follows, for settings and `signpost feeds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedInfo {
    /// The feed's base URL.
    pub feed: String,
    /// The id of the feed's log the cursor is on ("" if it publishes none).
    pub feed_id: String,
    /// The last changeset applied.
    pub seq: u64,
    /// Listings shown from this feed.
    pub listings: usize,
    /// Listings this feed publishes that another feed's version outranks.
    pub shadowed: usize,
    /// When the directory was last known to be up to date with it (UTC, RFC 3339; "" if never
    /// recorded).
    pub updated_at: String,
}

/// The feed a listing's `source` names (`FEED#SEQ` or `FEED#snapshotSEQ`), if it came from one.
pub(crate) fn feed_of(source: &str) -> Option<&str> {
    let (feed, at) = source.rsplit_once('#')?;
    let seq = at.strip_prefix("snapshot").unwrap_or(at);
    (!seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit())).then_some(feed)
}

/// How a version ranks under the rule: the larger wins.
fn rank<'a>(
    assured_date: Option<&'a str>,
    feed: &'a str,
) -> (Option<&'a str>, std::cmp::Reverse<&'a str>) {
    (assured_date, std::cmp::Reverse(feed))
}

/// Another feed's waiting version of a listing.
struct Shadow {
    feed: String,
    source: String,
    assured_date: Option<String>,
    record: String,
}

/// Other feeds' waiting versions of `id` (not `feed`'s), best first.
fn shadows_of(tx: &Transaction<'_>, id: &str, feed: &str) -> Result<Vec<Shadow>> {
    let mut shadows: Vec<Shadow> = tx
        .prepare_cached(
            "SELECT feed, source, assured_date, record FROM feed_shadow WHERE id = ?1 AND feed != ?2",
        )?
        .query_map([id, feed], |r| {
            Ok(Shadow {
                feed: r.get(0)?,
                source: r.get(1)?,
                assured_date: r.get(2)?,
                record: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    shadows.sort_by(|a, b| {
        rank(b.assured_date.as_deref(), &b.feed).cmp(&rank(a.assured_date.as_deref(), &a.feed))
    });
    Ok(shadows)
}

/// The shown listing `id`: its source and `assured_date`.
fn shown(tx: &Transaction<'_>, id: &str) -> Result<Option<(Option<String>, Option<String>)>> {
    Ok(tx
        .prepare_cached("SELECT source, assured_date FROM service WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The stored record of the shown listing `id`.
fn shown_record(tx: &Transaction<'_>, id: &str) -> Result<String> {
    Ok(tx
        .prepare_cached(
            "SELECT r.record FROM service s JOIN service_record r ON r.service_rowid = s.rowid
             WHERE s.id = ?1",
        )?
        .query_row([id], |r| r.get(0))?)
}

/// Validate a waiting version again before it is shown; `None` if it no longer passes (it is
/// then dropped, and the next best is tried).
fn prepare_shadow(shadow: &Shadow) -> Option<Prepared> {
    let value = serde_json::from_str(&shadow.record).ok()?;
    let mut batch = PreparedBatch::default();
    import::prepare(&shadow.source, 0, value, &mut batch);
    if batch.errors.is_empty() {
        batch.listings.pop()
    } else {
        None
    }
}

/// The feeds this directory follows, with `feed` (which may be syncing for the first time).
fn followed(tx: &Transaction<'_>, feed: &str) -> Result<HashSet<String>> {
    let mut feeds: HashSet<String> = tx
        .prepare_cached("SELECT feed FROM sync_state")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    feeds.insert(feed.to_string());
    Ok(feeds)
}

/// What is shown instead, for [`write_feed_batch`].
enum Show {
    /// The batch's listing at this index.
    New(usize),
    /// Another feed's version, promoted.
    Promoted(Box<Prepared>, String),
}

/// Write `feed`'s records (from `batch`, all with `source`) and deletions inside `tx` by the
/// rule in this module's documentation: winners are written through the normal write path (and
/// published when `publishing`), losers kept in `feed_shadow`. An id both upserted and deleted
/// is deleted, as a changeset's deletions come after its records.
pub(crate) fn write_feed_batch(
    tx: &Transaction<'_>,
    publishing: bool,
    feed: &str,
    source: &str,
    batch: &mut PreparedBatch,
    deletes: &[String],
) -> Result<ImportReport> {
    let mut report = ImportReport::taking_problems(batch);
    let followed = followed(tx, feed)?;
    // Most directories follow one feed and hold no waiting versions: then no listing needs its
    // own look for them (this batch only adds ones for ids it has already passed).
    let any_shadows: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM feed_shadow)", [], |r| {
        r.get(0)
    })?;
    let owner = |source: &Option<String>| -> Option<String> {
        source
            .as_deref()
            .and_then(feed_of)
            .filter(|f| followed.contains(*f))
            .map(str::to_string)
    };
    let deleting: HashSet<&str> = deletes.iter().map(String::as_str).collect();
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(batch.listings.len());
    for (i, l) in batch.listings.iter().enumerate() {
        if !deleting.contains(l.service.id.as_str()) {
            last.insert(l.service.id.as_str(), i);
        }
    }
    let mut show: Vec<Show> = Vec::new();
    // Ids shown now from another feed or another kind of source: their stored source must name
    // the winner even when its content is the same (an unchanged upsert writes nothing).
    let mut retitle: Vec<(String, String)> = Vec::new();
    for (i, listing) in batch.listings.iter().enumerate() {
        let id = listing.service.id.as_str();
        if last.get(id) != Some(&i) {
            continue;
        }
        let assured = listing.service.assured_date.as_deref();
        let current = shown(tx, id)?;
        let current_owner = current.as_ref().and_then(|(source, _)| owner(source));
        if let (Some(other), Some((Some(other_source), other_assured))) =
            (current_owner.as_deref().filter(|o| *o != feed), &current)
        {
            if rank(assured, feed) > rank(other_assured.as_deref(), other) {
                let record = shown_record(tx, id)?;
                write::put_shadow(
                    tx,
                    other,
                    id,
                    other_source,
                    other_assured.as_deref(),
                    &record,
                )?;
                write::drop_shadow(tx, feed, id)?;
                show.push(Show::New(i));
                retitle.push((id.to_string(), source.to_string()));
            } else {
                write::put_shadow(tx, feed, id, source, assured, &listing.record)?;
            }
            continue;
        }
        // Shown from this feed, a region or a file, or not at all: this version is shown
        // unless another feed's waiting version outranks it.
        let mut promoted = false;
        let waiting = if any_shadows {
            shadows_of(tx, id, feed)?
        } else {
            Vec::new()
        };
        for shadow in waiting {
            if rank(shadow.assured_date.as_deref(), &shadow.feed) < rank(assured, feed) {
                break;
            }
            write::drop_shadow(tx, &shadow.feed, id)?;
            if let Some(p) = prepare_shadow(&shadow) {
                write::put_shadow(tx, feed, id, source, assured, &listing.record)?;
                retitle.push((id.to_string(), shadow.source.clone()));
                show.push(Show::Promoted(Box::new(p), shadow.source));
                promoted = true;
                break;
            }
        }
        if !promoted {
            if any_shadows {
                write::drop_shadow(tx, feed, id)?;
            }
            if current_owner.as_deref() != Some(feed) && current.is_some() {
                retitle.push((id.to_string(), source.to_string()));
            }
            show.push(Show::New(i));
        }
    }
    let mut removed = Vec::new();
    let mut seen = HashSet::new();
    for id in deletes {
        if !seen.insert(id.as_str()) {
            continue;
        }
        write::drop_shadow(tx, feed, id)?;
        let current = shown(tx, id)?;
        if current
            .as_ref()
            .and_then(|(source, _)| owner(source))
            .as_deref()
            != Some(feed)
        {
            continue; // Another feed's, a region's or a file's listing, or none: it stays.
        }
        let mut promoted = false;
        for shadow in shadows_of(tx, id, feed)? {
            write::drop_shadow(tx, &shadow.feed, id)?;
            if let Some(p) = prepare_shadow(&shadow) {
                retitle.push((id.clone(), shadow.source.clone()));
                show.push(Show::Promoted(Box::new(p), shadow.source));
                promoted = true;
                break;
            }
        }
        if !promoted {
            removed.push(id.clone());
        }
    }
    let listings: Vec<(&str, &Prepared)> = show
        .iter()
        .map(|s| match s {
            Show::New(i) => (source, &batch.listings[*i]),
            Show::Promoted(p, source) => (source.as_str(), &**p),
        })
        .collect();
    write_listings(tx, publishing, &listings, &removed, &mut report)?;
    for (id, source) in &retitle {
        write::set_source(tx, id, source)?;
    }
    Ok(report)
}

/// Ids of listings shown from `feed`, and of its waiting versions.
pub(crate) fn feed_ids(tx: &Transaction<'_>, feed: &str) -> Result<HashSet<String>> {
    let prefix = format!("{feed}#");
    let mut ids: HashSet<String> = tx
        .prepare("SELECT id, source FROM service WHERE substr(source, 1, length(?1)) = ?1")?
        .query_map([&prefix], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .filter(|row| !matches!(row, Ok((_, source)) if feed_of(source) != Some(feed)))
        .map(|row| row.map(|(id, _)| id))
        .collect::<rusqlite::Result<_>>()?;
    let shadows: Vec<String> = tx
        .prepare("SELECT id FROM feed_shadow WHERE feed = ?1")?
        .query_map([feed], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.extend(shadows);
    Ok(ids)
}

/// The feeds followed, in address order, with their counts.
pub(crate) fn feeds(conn: &rusqlite::Connection) -> Result<Vec<FeedInfo>> {
    let mut feeds: Vec<FeedInfo> = conn
        .prepare("SELECT feed, feed_id, seq, updated_at FROM sync_state ORDER BY feed")?
        .query_map([], |r| {
            Ok(FeedInfo {
                feed: r.get(0)?,
                feed_id: r.get(1)?,
                seq: r.get::<_, i64>(2)? as u64,
                listings: 0,
                shadowed: 0,
                updated_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut sources = conn.prepare("SELECT source, count(*) FROM service GROUP BY source")?;
    let mut rows = sources.query([])?;
    while let Some(row) = rows.next()? {
        let source: Option<String> = row.get(0)?;
        let Some(feed) = source.as_deref().and_then(feed_of) else {
            continue;
        };
        if let Some(f) = feeds.iter_mut().find(|f| f.feed == feed) {
            f.listings += row.get::<_, i64>(1)? as usize;
        }
    }
    let mut shadows = conn.prepare("SELECT count(*) FROM feed_shadow WHERE feed = ?1")?;
    for f in &mut feeds {
        f.shadowed = shadows.query_row([&f.feed], |r| r.get::<_, i64>(0))? as usize;
    }
    Ok(feeds)
}
