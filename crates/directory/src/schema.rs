//! The SQLite schema and its numbered migrations.
//!
//! The version lives in `PRAGMA user_version`. A new database gets every migration in order, an
//! older one gets the ones it lacks, and a newer one is refused rather than misread. Shipped
//! migrations are never edited: a change is a new number.
//!
//! Why not a migration crate: `rusqlite_migration` 2.6 needs rusqlite 0.40 and 2.5 needs 0.39,
//! and `refinery` stops at 0.37, while the workspace pins rusqlite 0.41. This is the
//! mozilla/application-services shape instead: a list of steps applied in one transaction each.
use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};

/// A step that needs Rust as well as SQL (a data backfill).
type Backfill = fn(&Transaction<'_>) -> Result<()>;

/// One migration: SQL, then optionally a Rust backfill.
struct Migration {
    sql: &'static str,
    backfill: Option<Backfill>,
}

/// Migration N (1-based) brings a database from version N-1 to N.
const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: V1_HSDS_TABLES,
        backfill: None,
    },
    Migration {
        sql: V2_SEARCH,
        backfill: Some(crate::write::backfill_search_columns),
    },
    Migration {
        sql: V3_CHANGESETS,
        backfill: None,
    },
    Migration {
        sql: V4_ATTENDANCE,
        backfill: Some(crate::write::backfill_attendance),
    },
    Migration {
        sql: V5_DROP_TERM_INDEX,
        backfill: None,
    },
    Migration {
        sql: V6_LANGUAGE_LINES,
        backfill: Some(crate::write::backfill_languages),
    },
    Migration {
        sql: V7_FEED_ID,
        backfill: None,
    },
    Migration {
        sql: V8_ORUK_TEXT,
        backfill: Some(crate::write::backfill_oruk_text),
    },
    Migration {
        sql: V9_REGIONS,
        backfill: None,
    },
    Migration {
        sql: V10_FEED_SHADOWS,
        backfill: None,
    },
    Migration {
        sql: V11_LOG_PAGES,
        backfill: Some(crate::write::backfill_log_pages),
    },
];

/// The schema version this build writes.
pub const VERSION: u32 = MIGRATIONS.len() as u32;

/// Version 1: the HSDS 3.0 entities.
///
/// Every foreign key column is indexed: SQLite does not do it for us, and without the index a
/// cascading delete scans the whole child table.
///
/// Shared entities (organization, location, taxonomy, taxonomy_term) are keyed by their HSDS id.
/// Everything a service owns carries `service_rowid` with `ON DELETE CASCADE`, so replacing a
/// listing is one delete and one insert, and a half-written listing can never survive a rollback.
/// `service_record.record` keeps the record exactly as validated (canonical JSON), in its own
/// table so that scanning `service` (to build the search index) reads narrow rows, and
/// `service.content_hash` is its SHA-256, which is how re-imports of unchanged data become no-ops.
const V1_HSDS_TABLES: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

CREATE TABLE organization (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    email TEXT,
    website TEXT
) STRICT;

CREATE TABLE service (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    organization_id TEXT REFERENCES organization(id),
    name TEXT NOT NULL,
    alternate_name TEXT,
    description TEXT,
    url TEXT,
    email TEXT,
    status TEXT NOT NULL,
    application_process TEXT,
    fees_description TEXT,
    eligibility_description TEXT,
    minimum_age REAL,
    maximum_age REAL,
    assured_date TEXT,
    last_modified TEXT,
    source TEXT,
    content_hash BLOB NOT NULL
) STRICT;
CREATE INDEX service_organization ON service(organization_id);

-- The record as validated, kept apart so scans of `service` stay narrow.
CREATE TABLE service_record (
    service_rowid INTEGER PRIMARY KEY REFERENCES service(rowid) ON DELETE CASCADE,
    record TEXT NOT NULL
) STRICT;

CREATE TABLE location (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    location_type TEXT,
    name TEXT,
    description TEXT,
    latitude REAL,
    longitude REAL,
    -- 'ok', or why the point is not indexed: 'missing', 'zero', 'out_of_range', 'swapped'.
    coord_status TEXT NOT NULL
) STRICT;

CREATE TABLE service_at_location (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    service_rowid INTEGER NOT NULL REFERENCES service(rowid) ON DELETE CASCADE,
    location_rowid INTEGER NOT NULL REFERENCES location(rowid),
    description TEXT
) STRICT;
CREATE INDEX sal_service ON service_at_location(service_rowid);
CREATE INDEX sal_location ON service_at_location(location_rowid);

CREATE TABLE address (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    location_rowid INTEGER NOT NULL REFERENCES location(rowid) ON DELETE CASCADE,
    address_1 TEXT, address_2 TEXT, city TEXT, region TEXT, state_province TEXT,
    postal_code TEXT, country TEXT, address_type TEXT
) STRICT;
CREATE INDEX address_location ON address(location_rowid);

CREATE TABLE accessibility (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    location_rowid INTEGER NOT NULL REFERENCES location(rowid) ON DELETE CASCADE,
    description TEXT, details TEXT, url TEXT
) STRICT;
CREATE INDEX accessibility_location ON accessibility(location_rowid);

CREATE TABLE phone (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    service_rowid INTEGER NOT NULL REFERENCES service(rowid) ON DELETE CASCADE,
    sal_rowid INTEGER REFERENCES service_at_location(rowid) ON DELETE CASCADE,
    contact_id TEXT,
    number TEXT NOT NULL, type TEXT, description TEXT
) STRICT;
CREATE INDEX phone_service ON phone(service_rowid);
CREATE INDEX phone_sal ON phone(sal_rowid);

CREATE TABLE schedule (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    service_rowid INTEGER NOT NULL REFERENCES service(rowid) ON DELETE CASCADE,
    sal_rowid INTEGER REFERENCES service_at_location(rowid) ON DELETE CASCADE,
    valid_from TEXT, valid_to TEXT, dtstart TEXT, until TEXT, count INTEGER,
    freq TEXT, interval INTEGER, byday TEXT, bymonthday TEXT,
    opens_at TEXT, closes_at TEXT, description TEXT
) STRICT;
CREATE INDEX schedule_service ON schedule(service_rowid);
CREATE INDEX schedule_sal ON schedule(sal_rowid);

CREATE TABLE taxonomy (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, uri TEXT, version TEXT
) STRICT;

CREATE TABLE taxonomy_term (
    id TEXT PRIMARY KEY, code TEXT, name TEXT NOT NULL, description TEXT,
    parent_id TEXT, taxonomy TEXT, taxonomy_id TEXT
) STRICT;

CREATE TABLE attribute (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    service_rowid INTEGER NOT NULL REFERENCES service(rowid) ON DELETE CASCADE,
    taxonomy_term_id TEXT NOT NULL,
    value TEXT
) STRICT;
CREATE INDEX attribute_service ON attribute(service_rowid);
CREATE INDEX attribute_term ON attribute(taxonomy_term_id);

CREATE TABLE cost_option (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    service_rowid INTEGER NOT NULL REFERENCES service(rowid) ON DELETE CASCADE,
    option TEXT, currency TEXT, amount REAL, amount_description TEXT
) STRICT;
CREATE INDEX cost_option_service ON cost_option(service_rowid);

CREATE TABLE language (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    service_rowid INTEGER NOT NULL REFERENCES service(rowid) ON DELETE CASCADE,
    location_rowid INTEGER REFERENCES location(rowid) ON DELETE CASCADE,
    name TEXT, code TEXT, note TEXT
) STRICT;
CREATE INDEX language_service ON language(service_rowid);
CREATE INDEX language_location ON language(location_rowid);

CREATE TABLE contact (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    service_rowid INTEGER NOT NULL REFERENCES service(rowid) ON DELETE CASCADE,
    sal_rowid INTEGER REFERENCES service_at_location(rowid) ON DELETE CASCADE,
    name TEXT, title TEXT, email TEXT
) STRICT;
CREATE INDEX contact_service ON contact(service_rowid);
CREATE INDEX contact_sal ON contact(sal_rowid);

CREATE TABLE service_area (
    rowid INTEGER PRIMARY KEY,
    id TEXT,
    service_rowid INTEGER NOT NULL REFERENCES service(rowid) ON DELETE CASCADE,
    name TEXT, description TEXT
) STRICT;
CREATE INDEX service_area_service ON service_area(service_rowid);
"#;

/// Version 2: what near-me search reads.
///
/// `service_facet` caches what `Facets::of` derives from each record, in narrow rows, so the
/// in-memory index is built from one fast scan instead of joins over `attribute`. The FTS5
/// table indexes name, description, organization and taxonomy term names, Porter-stemmed. It is
/// contentless (the text is already in `service`) and keeps no positions (`detail=none`):
/// Signpost asks "which listings have these words", never for phrases.
const V2_SEARCH: &str = r#"
CREATE TABLE service_facet (
    service_rowid INTEGER PRIMARY KEY REFERENCES service(rowid) ON DELETE CASCADE,
    active INTEGER NOT NULL,
    access TEXT,
    is_free INTEGER,
    wheelchair INTEGER NOT NULL,
    domain_bits INTEGER NOT NULL,
    interest_bits INTEGER NOT NULL,
    languages TEXT NOT NULL
) STRICT;
CREATE VIRTUAL TABLE service_fts USING fts5(
    name, description, organization, terms,
    tokenize = 'porter unicode61 remove_diacritics 2',
    content = '', contentless_delete = 1, detail = none
);
"#;

/// Version 3: the changeset log a feed publishes (see `changeset.rs`), and a client's cursor. `body` is the gzip of the
/// canonical bytes whose SHA-256 is `hash`. Rows are only ever appended, in the same transaction
/// as the listing changes they describe.
const V3_CHANGESETS: &str = r#"
CREATE TABLE changeset (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    prev TEXT NOT NULL,
    upserts INTEGER NOT NULL,
    deletes INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Snapshots of the whole directory a feed publishes, so new clients need not replay the log.
CREATE TABLE snapshot (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    head TEXT NOT NULL,
    records INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- A client's position in each feed it syncs from: the last changeset applied. Written in the
-- same transaction as that changeset's records.
CREATE TABLE sync_state (
    feed TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    synced_at TEXT NOT NULL
) STRICT;
"#;

/// Version 4: whether a listing meets in person, online, or both (bit 1 and bit 2), derived
/// from the `attendance` taxonomy terms or, failing those, from its locations' types.
const V4_ATTENDANCE: &str = r#"
ALTER TABLE service_facet ADD COLUMN attendance INTEGER NOT NULL DEFAULT 0;
"#;

/// Version 5: drop the index of attributes by term. No query looks attributes up by term
/// (filters use `service_facet`; the ORUK API's term filter goes through the service), and
/// keeping it cost an eighth of an import's writing time (measured at 100k listings).
const V5_DROP_TERM_INDEX: &str = r#"
DROP INDEX attribute_term;
"#;

/// Version 6: `service_facet.languages` holds one language a line, not one a space, so that a
/// name with spaces ("British Sign Language") stays one language. No structure changes; the
/// backfill rewrites the column from the stored records.
const V6_LANGUAGE_LINES: &str = "";

/// Version 7: which log a cursor follows.
///
/// Every directory gets a random `feed_id` when it is created (or upgraded); a feed publishes its
/// own in `/sync/head`, so a feed rebuilt from a fresh data folder at the same URL is a different
/// log, and a client can tell even when the new log's numbers pass its cursor. A client keeps the
/// id of the log its cursor is on beside the cursor (`''` for a cursor written before this).
const V7_FEED_ID: &str = r#"
INSERT INTO meta(key, value) VALUES ('feed_id', lower(hex(randomblob(16))));
ALTER TABLE sync_state ADD COLUMN feed_id TEXT NOT NULL DEFAULT '';
"#;

/// Version 8: a feed's records as its ORUK API serves them (see `oruk.rs`), so a page of a list
/// is stored texts joined rather than every record parsed, filled and serialised per request.
///
/// Derived, like `service_facet`: written with the listing, removed with it (cascade), and only
/// in a directory that publishes (one with changesets; the backfill fills those). A directory
/// that only follows a feed, such as the app's, keeps none: it never serves ORUK, and the text
/// would nearly double its records' size and slow its imports. In their own tables, so that
/// scans of `service_at_location` (the search index's) stay narrow. A change to what `oruk.rs`
/// fills in needs a new migration that rewrites them.
///
/// Also an index of services at locations by id: `/service_at_locations/{id}` scanned the
/// whole table for one (100k rows per request).
const V8_ORUK_TEXT: &str = r#"
CREATE INDEX service_at_location_id ON service_at_location(id);
CREATE TABLE service_oruk (
    service_rowid INTEGER PRIMARY KEY REFERENCES service(rowid) ON DELETE CASCADE,
    record TEXT NOT NULL
) STRICT;
CREATE TABLE service_at_location_oruk (
    sal_rowid INTEGER PRIMARY KEY REFERENCES service_at_location(rowid) ON DELETE CASCADE,
    record TEXT NOT NULL
) STRICT;
"#;

/// Version 9: the regions loaded, by name, with what to show for them (several can be loaded,
/// and each can be removed). Which listings a region holds is not stored twice: each listing's
/// `source` names its region (`region:NAME/FILE`). `meta.region` stays, meaning "a region was
/// once loaded here", so a directory whose regions were all removed is not refilled.
const V9_REGIONS: &str = r#"
CREATE TABLE region (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    attribution TEXT NOT NULL DEFAULT '[]',
    loaded_at TEXT NOT NULL
) STRICT;
INSERT INTO region(name, loaded_at)
    SELECT value, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM meta WHERE key = 'region';
"#;

/// Version 10: several feeds at once.
///
/// A listing two feeds publish is shown once, from the feed whose version wins (see
/// `Directory::apply_changeset`); every other feed's version of it waits in `feed_shadow`, as
/// the validated record it published and the `source` it would be shown with, so that when the
/// winning feed deletes it, stops publishing it or is unfollowed, the best remaining version is
/// shown instead, without asking any feed again. `assured_date` is the record's, kept beside it
/// so choosing needs no parse.
///
/// `sync_state.updated_at`: when this directory was last known to be up to date with the feed
/// (its cursor moved, or a sync found nothing new), which settings shows as "last update".
/// `synced_at` stays: when the cursor last moved.
const V10_FEED_SHADOWS: &str = r#"
CREATE TABLE feed_shadow (
    feed TEXT NOT NULL,
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    assured_date TEXT,
    record TEXT NOT NULL,
    PRIMARY KEY (feed, id)
) STRICT;
CREATE INDEX feed_shadow_id ON feed_shadow(id);
ALTER TABLE sync_state ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE sync_state SET updated_at = synced_at;
"#;

/// Version 11: the log's full pages (`changeset::LogPage`), each named by its hash, so the log
/// can be read as static files: `head.json` names the newest page and each page the one
/// before. Written in the transaction that appends a page's last changeset, like the log
/// itself; the backfill pages a feed's existing log.
const V11_LOG_PAGES: &str = r#"
CREATE TABLE log_page (
    n INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL
) STRICT;
"#;

/// Bring `conn` to [`VERSION`], one transaction per step. Refuses databases from the future.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, VERSION)
}

/// Bring `conn` to `target` (≤ [`VERSION`]). Tests use this to build old-version databases.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: VERSION,
        });
    }
    for version in found..target.min(VERSION) {
        let step = &MIGRATIONS[version as usize];
        let tx = conn.transaction()?;
        tx.execute_batch(step.sql)?;
        if let Some(backfill) = step.backfill {
            backfill(&tx)?;
        }
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}
