//! Writing prepared listings into the HSDS tables. All SQL that changes listings lives here.
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use crate::changeset::{self, Changeset};
use crate::coords::CoordStatus;
use crate::error::{Error, Result};
use crate::import::Prepared;
use crate::model::{Phone, ScheduleRecord, Service};
use crate::oruk;
use crate::taxonomy::{self, Facets, Taxonomy};

/// What happened to one listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// New id, stored at this `service.rowid`.
    Inserted(i64),
    /// Same id, different content: the old version was replaced; the new one is at this rowid.
    Replaced(i64),
    /// Same id, same content hash: nothing written.
    Unchanged,
}

/// Index a stored listing for text search.
///
/// Callers add the FTS rows of a batch after its other rows: interleaving FTS5 inserts with
/// the table inserts makes both slower (measured: import throughput up by half).
pub fn insert_fts(tx: &Transaction<'_>, rowid: i64, s: &Service) -> Result<()> {
    let org = s
        .organization
        .as_ref()
        .map(|o| o.name.as_str())
        .unwrap_or_default();
    tx.prepare_cached(
        "INSERT INTO service_fts(rowid, name, description, organization, terms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![rowid, s.name, s.description, org, term_names(s)])?;
    Ok(())
}

/// Insert the Signpost taxonomy and its terms, so attributes that use them resolve.
pub fn seed_taxonomy(tx: &Transaction<'_>) -> Result<()> {
    let t = Taxonomy::signpost();
    tx.execute(
        "INSERT INTO taxonomy(id, name, description, uri, version) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, description = excluded.description,
             uri = excluded.uri, version = excluded.version",
        params![
            t.header.id,
            t.header.name,
            t.header.description,
            t.header.uri,
            t.header.version
        ],
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO taxonomy_term(id, code, name, description, parent_id, taxonomy, taxonomy_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET code = excluded.code, name = excluded.name,
             description = excluded.description, parent_id = excluded.parent_id",
    )?;
    for (id, group, term) in t.terms() {
        stmt.execute(params![
            id,
            term.code,
            term.name,
            term.description,
            format!("{}:{}", taxonomy::TAXONOMY_ID, group.code),
            taxonomy::TAXONOMY_ID,
            taxonomy::TAXONOMY_ID
        ])?;
    }
    Ok(())
}

fn term_names(service: &Service) -> String {
    service
        .attributes
        .iter()
        .filter_map(|a| taxonomy::term_label(a).map(|(_, name)| name))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Delete a listing and everything it owns. Returns whether it existed.
pub fn delete_listing(tx: &Transaction<'_>, id: &str) -> Result<bool> {
    let rowid: Option<i64> = tx
        .prepare_cached("SELECT rowid FROM service WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(rowid) = rowid {
        tx.prepare_cached("DELETE FROM service_fts WHERE rowid = ?1")?
            .execute([rowid])?;
        tx.prepare_cached("DELETE FROM service WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    Ok(rowid.is_some())
}

/// What one write transaction has already written, so shared records are written once.
#[derive(Default)]
pub struct BatchMemo {
    /// Hashes of (id, fields) of organizations upserted in this transaction.
    organizations: HashSet<u64>,
}

/// Insert or replace one listing. Unchanged content is detected by hash and not rewritten.
pub fn upsert_listing(
    tx: &Transaction<'_>,
    p: &Prepared,
    source: &str,
    memo: &mut BatchMemo,
) -> Result<Outcome> {
    let s = &p.service;
    let org_key = |o: &crate::model::Organization| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&o.id, &o.name, &o.description, &o.email, &o.website).hash(&mut h);
        h.finish()
    };
    // Before the service, which refers to it; unchanged, it is left unwritten (the WHERE), so
    // re-importing unchanged data still writes nothing.
    if let Some(o) = s
        .organization
        .as_ref()
        .filter(|o| memo.organizations.insert(org_key(o)))
    {
        tx.prepare_cached(
            "INSERT INTO organization(id, name, description, email, website) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, description = excluded.description,
                 email = excluded.email, website = excluded.website
             WHERE name IS NOT excluded.name OR description IS NOT excluded.description
                 OR email IS NOT excluded.email OR website IS NOT excluded.website",
        )?
        .execute(params![o.id, o.name, o.description, o.email, o.website])?;
    }
    let f = &p.facets;
    // Most listings in an import are new, so the insert is tried first and what holds the id
    // is looked at only when it is taken: one statement, not two, for a new listing.
    let (service_rowid, replacing) = match insert_service(tx, p, source)? {
        Some(rowid) => (rowid, false),
        None => {
            let hash: Vec<u8> = tx
                .prepare_cached("SELECT content_hash FROM service WHERE id = ?1")?
                .query_row([&s.id], |r| r.get(0))?;
            if hash == p.hash {
                return Ok(Outcome::Unchanged);
            }
            delete_listing(tx, &s.id)?;
            let rowid = insert_service(tx, p, source)?.ok_or_else(|| {
                Error::Corrupt(format!(
                    "listing {} was still there after its deletion",
                    s.id
                ))
            })?;
            (rowid, true)
        }
    };
    tx.prepare_cached("INSERT INTO service_record(service_rowid, record) VALUES (?1, ?2)")?
        .execute(params![service_rowid, p.record])?;
    insert_facets(tx, service_rowid, s, f)?;

    for (i, sal) in s.service_at_locations.iter().enumerate() {
        let l = &sal.location;
        let status = p
            .coord_status
            .get(i)
            .copied()
            .unwrap_or(CoordStatus::Missing);
        // As for the service: insert first, and update only when the id is taken.
        let inserted = tx
            .prepare_cached(
                "INSERT INTO location(id, location_type, name, description, latitude, longitude, coord_status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING",
            )?
            .execute(params![l.id, l.location_type, l.name, l.description, l.latitude, l.longitude, status.as_str()])?
            == 1;
        let location_rowid = match inserted.then(|| tx.last_insert_rowid()) {
            Some(rowid) => rowid,
            None => {
                let rowid: i64 = tx
                    .prepare_cached("SELECT rowid FROM location WHERE id = ?1")?
                    .query_row([&l.id], |r| r.get(0))?;
                tx.prepare_cached(
                    "UPDATE location SET location_type = ?2, name = ?3, description = ?4, latitude = ?5,
                         longitude = ?6, coord_status = ?7 WHERE rowid = ?1",
                )?
                .execute(params![rowid, l.location_type, l.name, l.description, l.latitude, l.longitude, status.as_str()])?;
                tx.prepare_cached("DELETE FROM address WHERE location_rowid = ?1")?
                    .execute([rowid])?;
                tx.prepare_cached("DELETE FROM accessibility WHERE location_rowid = ?1")?
                    .execute([rowid])?;
                rowid
            }
        };
        for a in &l.addresses {
            tx.prepare_cached(
                "INSERT INTO address(id, location_rowid, address_1, address_2, city, region, state_province,
                     postal_code, country, address_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                a.id, location_rowid, a.address_1, a.address_2, a.city, a.region, a.state_province,
                a.postal_code, a.country, a.address_type
            ])?;
        }
        for a in &l.accessibility {
            tx.prepare_cached(
                "INSERT INTO accessibility(id, location_rowid, description, details, url) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![a.id, location_rowid, a.description, a.details, a.url])?;
        }
        tx.prepare_cached(
            "INSERT INTO service_at_location(id, service_rowid, location_rowid, description)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            sal.id,
            service_rowid,
            location_rowid,
            sal.description
        ])?;
        let sal_rowid = tx.last_insert_rowid();
        for sched in &sal.schedules {
            insert_schedule(tx, service_rowid, Some(sal_rowid), sched)?;
        }
        for phone in &sal.phones {
            insert_phone(tx, service_rowid, Some(sal_rowid), None, phone)?;
        }
        for lang in &l.languages {
            tx.prepare_cached(
                "INSERT INTO language(id, service_rowid, location_rowid, name, code, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![lang.id, service_rowid, location_rowid, lang.name, lang.code, lang.note])?;
        }
        for c in &sal.contacts {
            insert_contact(tx, service_rowid, Some(sal_rowid), c)?;
        }
    }
    for sched in &s.schedules {
        insert_schedule(tx, service_rowid, None, sched)?;
    }
    for phone in &s.phones {
        insert_phone(tx, service_rowid, None, None, phone)?;
    }
    for c in &s.contacts {
        insert_contact(tx, service_rowid, None, c)?;
    }
    for lang in &s.languages {
        tx.prepare_cached(
            "INSERT INTO language(id, service_rowid, name, code, note) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            lang.id,
            service_rowid,
            lang.name,
            lang.code,
            lang.note
        ])?;
    }
    for c in &s.cost_options {
        tx.prepare_cached(
            "INSERT INTO cost_option(id, service_rowid, option, currency, amount, amount_description)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![c.id, service_rowid, c.option, c.currency, c.amount, c.amount_description])?;
    }
    for a in &s.service_areas {
        tx.prepare_cached("INSERT INTO service_area(id, service_rowid, name, description) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![a.id, service_rowid, a.name, a.description])?;
    }
    for a in &s.attributes {
        let Some(term_id) = a.term_id() else {
            continue;
        };
        if let Some(t) = &a.taxonomy_term {
            // Feed terms are recorded; Signpost's own are never overwritten by a feed.
            tx.prepare_cached(
                "INSERT INTO taxonomy_term(id, code, name, description, parent_id, taxonomy, taxonomy_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING",
            )?
            .execute(params![
                t.id,
                t.code,
                t.name.clone().unwrap_or_else(|| t.id.clone()),
                t.description,
                t.parent_id,
                t.taxonomy,
                t.taxonomy_id
            ])?;
        }
        tx.prepare_cached("INSERT INTO attribute(id, service_rowid, taxonomy_term_id, value) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![a.id, service_rowid, term_id, a.value])?;
    }
    Ok(if replacing {
        Outcome::Replaced(service_rowid)
    } else {
        Outcome::Inserted(service_rowid)
    })
}

/// Insert the service row; `None` when its id is already taken.
///
/// Its rowid comes from `last_insert_rowid`, not `RETURNING`: SQLite runs a RETURNING insert
/// through a temporary table, and dropping that made the writer a quarter faster (measured).
fn insert_service(tx: &Transaction<'_>, p: &Prepared, source: &str) -> Result<Option<i64>> {
    let s = &p.service;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO service(id, organization_id, name, alternate_name, description, url, email, status,
                 application_process, fees_description, eligibility_description, minimum_age, maximum_age,
                 assured_date, last_modified, source, content_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT(id) DO NOTHING",
        )?
        .execute(params![
            s.id,
            s.organization.as_ref().map(|o| &o.id),
            s.name,
            s.alternate_name,
            s.description,
            s.url,
            s.email,
            s.status,
            s.application_process,
            s.fees_description,
            s.eligibility_description,
            s.minimum_age,
            s.maximum_age,
            s.assured_date,
            s.last_modified,
            source,
            &p.hash[..],
        ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

fn insert_schedule(
    tx: &Transaction<'_>,
    service_rowid: i64,
    sal_rowid: Option<i64>,
    s: &ScheduleRecord,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO schedule(id, service_rowid, sal_rowid, valid_from, valid_to, dtstart, until, count, freq,
             interval, byday, bymonthday, opens_at, closes_at, description)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        s.id, service_rowid, sal_rowid, s.valid_from, s.valid_to, s.dtstart, s.until, s.count, s.freq,
        s.interval, s.byday, s.bymonthday, s.opens_at, s.closes_at, s.description
    ])?;
    Ok(())
}

fn insert_phone(
    tx: &Transaction<'_>,
    service_rowid: i64,
    sal_rowid: Option<i64>,
    contact_id: Option<&str>,
    p: &Phone,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO phone(id, service_rowid, sal_rowid, contact_id, number, type, description)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        p.id,
        service_rowid,
        sal_rowid,
        contact_id,
        p.number,
        p.kind,
        p.description
    ])?;
    Ok(())
}

fn insert_contact(
    tx: &Transaction<'_>,
    service_rowid: i64,
    sal_rowid: Option<i64>,
    c: &crate::model::Contact,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO contact(id, service_rowid, sal_rowid, name, title, email) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![c.id, service_rowid, sal_rowid, c.name, c.title, c.email])?;
    for p in &c.phones {
        insert_phone(tx, service_rowid, sal_rowid, c.id.as_deref(), p)?;
    }
    Ok(())
}

/// Record what the search index filters on.
fn insert_facets(tx: &Transaction<'_>, rowid: i64, s: &Service, f: &Facets) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO service_facet(service_rowid, active, access, is_free, wheelchair, domain_bits,
             interest_bits, languages, attendance) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        rowid,
        s.status == "active",
        f.access.map(|a| a.code()),
        f.free,
        f.wheelchair,
        f.domains as i64,
        f.interests as i64,
        languages_column(f),
        f.attendance_bits()
    ])?;
    Ok(())
}

/// `service_facet.languages`: the listing's language codes and names, one a line, since a
/// name may hold spaces ("British Sign Language").
fn languages_column(f: &Facets) -> String {
    f.languages.join("\n")
}

/// Migration 2's backfill: derive the facet columns and the FTS rows from stored records.
pub fn backfill_search_columns(tx: &Transaction<'_>) -> Result<()> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT service_rowid, record FROM service_record")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (rowid, record) in rows {
        let Ok(service) = serde_json::from_str::<Service>(&record) else {
            continue;
        };
        // Version 2's columns only: later migrations backfill the columns they add.
        let f = Facets::of(&service);
        tx.prepare_cached(
            "INSERT INTO service_facet(service_rowid, active, access, is_free, wheelchair,
                 domain_bits, interest_bits, languages) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            rowid,
            service.status == "active",
            f.access.map(|a| a.code()),
            f.free,
            f.wheelchair,
            f.domains as i64,
            f.interests as i64,
            languages_column(&f)
        ])?;
        insert_fts(tx, rowid, &service)?;
    }
    Ok(())
}

/// Migration 4's backfill: the attendance column, from stored records.
pub fn backfill_attendance(tx: &Transaction<'_>) -> Result<()> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT service_rowid, record FROM service_record")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update =
        tx.prepare("UPDATE service_facet SET attendance = ?2 WHERE service_rowid = ?1")?;
    for (rowid, record) in rows {
        let Ok(service) = serde_json::from_str::<Service>(&record) else {
            continue;
        };
        update.execute(params![rowid, Facets::of(&service).attendance_bits()])?;
    }
    Ok(())
}

/// Migration 6's backfill: the languages column again, one language a line (it was one
/// language a space, which split "British Sign Language" into three words no filter matched).
pub fn backfill_languages(tx: &Transaction<'_>) -> Result<()> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT service_rowid, record FROM service_record")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update =
        tx.prepare("UPDATE service_facet SET languages = ?2 WHERE service_rowid = ?1")?;
    for (rowid, record) in rows {
        let Ok(service) = serde_json::from_str::<Service>(&record) else {
            continue;
        };
        update.execute(params![rowid, languages_column(&Facets::of(&service))])?;
    }
    Ok(())
}

/// Store a published listing's ORUK texts (see `oruk.rs`): its service's, and each of its
/// services at locations'. `record` is the listing's stored record, parsed.
pub fn insert_oruk_text(tx: &Transaction<'_>, service_rowid: i64, record: Value) -> Result<()> {
    let service = oruk::conform(record);
    tx.prepare_cached("INSERT INTO service_oruk(service_rowid, record) VALUES (?1, ?2)")?
        .execute(params![service_rowid, oruk::to_text(&service)])?;
    let sals: Vec<(i64, String)> = tx
        .prepare_cached("SELECT rowid, id FROM service_at_location WHERE service_rowid = ?1")?
        .query_map([service_rowid], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO service_at_location_oruk(sal_rowid, record) VALUES (?1, ?2)",
    )?;
    for (sal_rowid, sal_id) in sals {
        if let Some(sal) = oruk::service_at_location(&service, &sal_id) {
            insert.execute(params![sal_rowid, oruk::to_text(&sal)])?;
        }
    }
    Ok(())
}

/// Migration 8's backfill: the ORUK texts of every listing of a directory that publishes (one
/// with changesets), read from the stored records one at a time.
pub fn backfill_oruk_text(tx: &Transaction<'_>) -> Result<()> {
    let publishing: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM changeset)", [], |r| r.get(0))?;
    if !publishing {
        return Ok(());
    }
    let mut stmt = tx.prepare("SELECT service_rowid, record FROM service_record")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let record: String = row.get(1)?;
        // As the other backfills: a record that does not parse is left as it is (and is an
        // error when it is read, as before).
        let Ok(record) = serde_json::from_str::<Value>(&record) else {
            continue;
        };
        insert_oruk_text(tx, row.get(0)?, record)?;
    }
    Ok(())
}

/// Append a changeset of these upserts (canonical records) and deletes to the published log.
pub fn append_changeset(
    tx: &Transaction<'_>,
    upserts: Vec<serde_json::Value>,
    deletes: Vec<String>,
) -> Result<Changeset> {
    let (last_seq, prev): (i64, String) = tx.query_row(
        "SELECT coalesce(max(seq), 0), coalesce((SELECT hash FROM changeset ORDER BY seq DESC LIMIT 1), '') FROM changeset",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let changeset = Changeset {
        seq: last_seq as u64 + 1,
        prev,
        upserts,
        deletes,
    };
    let bytes = changeset.canonical_bytes();
    let body = gzip(&bytes);
    tx.execute(
        "INSERT INTO changeset(seq, hash, prev, upserts, deletes, bytes, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
        params![
            changeset.seq as i64,
            changeset::hash_bytes(&bytes),
            changeset.prev,
            changeset.upserts.len() as i64,
            changeset.deletes.len() as i64,
            bytes.len() as i64,
            body
        ],
    )?;
    if changeset.seq.is_multiple_of(changeset::LOG_PAGE) {
        append_log_page(tx, changeset.seq / changeset::LOG_PAGE)?;
    }
    Ok(changeset)
}

/// A log entry from a row of `SELECT seq, hash, prev, upserts, deletes, bytes FROM changeset`.
pub(crate) fn log_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<changeset::LogEntry> {
    Ok(changeset::LogEntry {
        seq: r.get::<_, i64>(0)? as u64,
        hash: r.get(1)?,
        prev: r.get(2)?,
        upserts: r.get::<_, i64>(3)? as u64,
        deletes: r.get::<_, i64>(4)? as u64,
        bytes: r.get::<_, i64>(5)? as u64,
    })
}

/// Store page `n` of the log (see [`changeset::LogPage`]): its changesets must all be there.
fn append_log_page(tx: &Transaction<'_>, n: u64) -> Result<()> {
    let prev: String = match n {
        1 => String::new(),
        _ => tx
            .query_row(
                "SELECT hash FROM log_page WHERE n = ?1",
                [n as i64 - 1],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::Corrupt(format!("log page {} is missing", n - 1)))?,
    };
    let first = (n - 1) * changeset::LOG_PAGE + 1;
    let mut stmt = tx.prepare_cached(
        "SELECT seq, hash, prev, upserts, deletes, bytes FROM changeset
         WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
    )?;
    let changesets = stmt
        .query_map(
            params![first as i64, (first + changeset::LOG_PAGE - 1) as i64],
            log_entry,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if changesets.len() as u64 != changeset::LOG_PAGE {
        return Err(Error::Corrupt(format!(
            "log page {n} has {} of its changesets",
            changesets.len()
        )));
    }
    let bytes = changeset::LogPage { prev, changesets }.canonical_bytes();
    tx.execute(
        "INSERT INTO log_page(n, hash, body) VALUES (?1, ?2, ?3)",
        params![n as i64, changeset::hash_bytes(&bytes), bytes],
    )?;
    Ok(())
}

/// Migration 10's backfill: the pages of a feed's log so far.
pub fn backfill_log_pages(tx: &Transaction<'_>) -> Result<()> {
    let last: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM changeset", [], |r| {
        r.get(0)
    })?;
    for n in 1..=(last as u64 / changeset::LOG_PAGE) {
        append_log_page(tx, n)?;
    }
    Ok(())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, bytes).expect("writing to a Vec cannot fail");
    gz.finish().expect("writing to a Vec cannot fail")
}

/// Store a snapshot of every listing as of the newest changeset. Returns (seq, hash), or None
/// when nothing has been published yet.
pub fn append_snapshot(tx: &Transaction<'_>) -> Result<Option<(u64, String)>> {
    let head: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM changeset ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((seq, head)) = head else {
        return Ok(None);
    };
    let mut stmt = tx.prepare("SELECT r.record FROM service s JOIN service_record r ON r.service_rowid = s.rowid ORDER BY s.id")?;
    let records = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .map(|row| -> Result<serde_json::Value> {
            serde_json::from_str(&row?).map_err(|e| Error::Corrupt(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let snapshot = changeset::Snapshot {
        seq: seq as u64,
        head,
        records,
    };
    let bytes = snapshot.canonical_bytes();
    let hash = changeset::hash_bytes(&bytes);
    tx.execute(
        "INSERT INTO snapshot(seq, hash, head, records, bytes, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         ON CONFLICT(seq) DO NOTHING",
        params![
            seq,
            hash,
            snapshot.head,
            snapshot.records.len() as i64,
            bytes.len() as i64,
            gzip(&bytes)
        ],
    )?;
    Ok(Some((seq as u64, hash)))
}

/// Where a client stands in a feed's log: the last changeset applied (`seq`, `hash`) and the id
/// of the log it belongs to.
pub struct Cursor<'a> {
    /// The feed's base URL.
    pub feed: &'a str,
    /// The feed's id ('' when the feed does not publish one).
    pub feed_id: &'a str,
    /// The last changeset applied.
    pub seq: u64,
    /// Its hash.
    pub hash: &'a str,
}

/// Record a region as loaded (again), and that this directory has had one (so a directory
/// whose regions are all removed later is not filled with the defaults again).
pub fn record_region(
    tx: &Transaction<'_>,
    name: &str,
    description: &str,
    attribution_json: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO region(name, description, attribution, loaded_at)
         VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         ON CONFLICT(name) DO UPDATE SET description = excluded.description,
             attribution = excluded.attribution, loaded_at = excluded.loaded_at",
        rusqlite::params![name, description, attribution_json],
    )?;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('region', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [name],
    )?;
    Ok(())
}

/// Forget a region's record (its listings are deleted as any listings are). Returns how many
/// records went: 1, or 0 when it was not recorded.
pub fn forget_region(tx: &Transaction<'_>, name: &str) -> Result<usize> {
    Ok(tx.execute("DELETE FROM region WHERE name = ?1", [name])?)
}

/// Record that `feed` has been applied up to `cursor`; the directory is up to date with it as of
/// now (`updated_at`).
pub fn set_cursor(tx: &Transaction<'_>, cursor: &Cursor<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO sync_state(feed, seq, hash, feed_id, synced_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         ON CONFLICT(feed) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, feed_id = excluded.feed_id,
             synced_at = excluded.synced_at, updated_at = excluded.updated_at",
        params![cursor.feed, cursor.seq as i64, cursor.hash, cursor.feed_id],
    )?;
    Ok(())
}

/// Follow `feed` from the start of its log: the next sync fetches everything (a cursor at 0
/// is a first sync). Returns whether it was new; a feed already followed is left as it is.
pub fn follow_feed(tx: &Transaction<'_>, feed: &str) -> Result<bool> {
    Ok(tx.execute(
        "INSERT INTO sync_state(feed, seq, hash, feed_id, synced_at, updated_at)
         VALUES (?1, 0, '', '', '', '') ON CONFLICT(feed) DO NOTHING",
        [feed],
    )? == 1)
}

/// Record that a sync found nothing new in `feed`: the directory is up to date with it as of
/// now. Returns whether the feed is followed.
pub fn confirm_feed(tx: &Transaction<'_>, feed: &str) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE sync_state SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE feed = ?1",
        [feed],
    )? == 1)
}

/// Forget `feed`'s cursor (its listings and shadows are removed as any are). Returns whether it
/// was followed.
pub fn forget_feed(tx: &Transaction<'_>, feed: &str) -> Result<bool> {
    Ok(tx.execute("DELETE FROM sync_state WHERE feed = ?1", [feed])? == 1)
}

/// Keep `feed`'s version of listing `id`, which another version outranks, for when that one
/// goes (migration 10). Replaces the feed's earlier version of it.
pub fn put_shadow(
    tx: &Transaction<'_>,
    feed: &str,
    id: &str,
    source: &str,
    assured_date: Option<&str>,
    record: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO feed_shadow(feed, id, source, assured_date, record) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(feed, id) DO UPDATE SET source = excluded.source,
             assured_date = excluded.assured_date, record = excluded.record",
    )?
    .execute(params![feed, id, source, assured_date, record])?;
    Ok(())
}

/// Drop `feed`'s waiting version of listing `id`. Returns whether there was one.
pub fn drop_shadow(tx: &Transaction<'_>, feed: &str, id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("DELETE FROM feed_shadow WHERE feed = ?1 AND id = ?2")?
        .execute([feed, id])?
        == 1)
}

/// Show a listing as coming from `source` when its stored content is already the version that
/// won (an unchanged upsert writes nothing, so it would keep the loser's source).
pub fn set_source(tx: &Transaction<'_>, id: &str, source: &str) -> Result<()> {
    tx.prepare_cached("UPDATE service SET source = ?2 WHERE id = ?1 AND source IS NOT ?2")?
        .execute([id, source])?;
    Ok(())
}
