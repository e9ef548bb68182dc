//! The personal store's schema and its numbered migrations (`PRAGMA user_version`), in the
//! same shape as the directory's: shipped steps are never edited, a change is a new number.
use rusqlite::Connection;

use crate::error::{Error, Result};

/// Migration N (1-based) brings a file from version N-1 to N.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this build writes.
pub const VERSION: u32 = MIGRATIONS.len() as u32;

/// Version 1. `saved` keeps the name as well as the id so the list still reads when a listing
/// has left the directory. `report.sent_at` stays NULL until the feed has accepted the report.
const V1: &str = r#"
CREATE TABLE saved (
    service_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    saved_at TEXT NOT NULL
) STRICT;
CREATE TABLE report (
    id INTEGER PRIMARY KEY,
    service_id TEXT NOT NULL,
    service_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('closed', 'wrong-details')),
    comment TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
) STRICT;
CREATE TABLE setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
"#;

/// Version 1, for tests that build a file as an older Signpost left it.
#[cfg(test)]
pub(crate) const V1_FOR_TESTS: &str = V1;

/// Version 2: the outbox. Everything the device sends the feed (problem reports, and a group's
/// listings and claims) waits here, durable, and goes in order. `wire_seq` is the number the
/// feed sees: given when an item is first sent (so removing a queued item leaves no gap), kept
/// for every retry (so the feed recognises one), never reused (`last_wire_seq` in `setting`).
/// Reports queued before this version move into it, still unsent.
const V2: &str = r#"
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('submission', 'claim', 'report')),
    service_id TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    wire_seq INTEGER UNIQUE,
    sent_at TEXT,
    remote_id TEXT,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'in_review', 'approved', 'rejected', 'invalid')),
    reason TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO outbox(kind, service_id, name, body, created_at)
    SELECT 'report', service_id, service_name,
        json_object('service_id', service_id, 'kind', kind, 'comment', comment,
                    'service_name', service_name),
        created_at
    FROM report ORDER BY id;
DROP TABLE report;
"#;

/// Version 3: the device's edit keys, one row per listing. `key_sha256` is the hash of the
/// device's current key for it; `key` is the key itself when no OS keyring keeps it (NULL when
/// one does). A `pending` key was sent (as its hash) with `outbox_id`'s new listing, claim or
/// unverified update and becomes `active` when the moderators approve one that names it. The
/// row changes in the same transaction as the outbox item that uses the key.
const V3: &str = r#"
CREATE TABLE edit_key (
    service_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    key_sha256 TEXT NOT NULL,
    key TEXT,
    outbox_id INTEGER,
    updated_at TEXT NOT NULL
) STRICT;
"#;

/// Bring `conn` to [`VERSION`], one transaction per step; refuse files from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: VERSION,
        });
    }
    for version in found..VERSION {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}
