//! The personal store's schema and its numbered migrations (`PRAGMA user_version`), in the
//! same shape as the directory's: shipped steps are never edited, a change is a new number.
use rusqlite::Connection;

use crate::error::{Error, Result};

/// Migration N (1-based) brings a file from version N-1 to N.
const MIGRATIONS: &[&str] = &[V1];

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
