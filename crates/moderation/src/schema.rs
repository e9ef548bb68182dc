//! The moderation file's schema and its numbered migrations (`PRAGMA user_version`), in the
//! same shape as the directory's.
use rusqlite::Connection;

use crate::error::{Error, Result};

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// The schema version this build writes.
pub const VERSION: u32 = MIGRATIONS.len() as u32;

/// Version 1.
///
/// `device` holds the last number applied per device, written in the same transaction as the
/// item it numbers: a retry is recognised, a gap refused. An item keeps the body as sent;
/// nothing reaches the published directory until a moderator approves it. `audit` is every
/// decision and every field it changed.
const V1: &str = r#"
CREATE TABLE device (
    client_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) STRICT;
CREATE TABLE item (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('submission', 'claim', 'report')),
    client_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    service_id TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_review', 'approved', 'rejected', 'invalid')),
    field TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    submitted_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    UNIQUE (client_id, seq)
) STRICT;
CREATE INDEX item_pending ON item(submitted_at) WHERE status = 'in_review';
CREATE INDEX item_service ON item(service_id);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES item(id),
    service_id TEXT NOT NULL,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT '',
    old_value TEXT,
    new_value TEXT
) STRICT;
CREATE INDEX audit_service ON audit(service_id, id);
"#;

/// Version 2: the moderators' accounts and their sessions.
///
/// A password is kept only as an argon2 PHC string, and a session only as the SHA-256 of its
/// token, so a copy of this file lets nobody sign in. Each session has its own CSRF token,
/// which every form a moderator posts must carry back. A disabled account keeps its row (the
/// audit names it) but has no sessions and cannot sign in.
const V2: &str = r#"
CREATE TABLE account (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'moderator')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT
) STRICT;
CREATE TABLE session (
    token_sha256 TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account(id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX session_account ON session(account_id);
"#;

/// Version 3: freshness reminders, one row per listing, check date and step (10, 11 or 12
/// months), so each is sent once; a renewed check date starts the steps again.
const V3: &str = r#"
CREATE TABLE reminder (
    service_id TEXT NOT NULL,
    assured_date TEXT NOT NULL,
    months INTEGER NOT NULL CHECK (months IN (10, 11, 12)),
    sent_at TEXT NOT NULL,
    sent_to TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('smtp', 'outbox')),
    PRIMARY KEY (service_id, assured_date, months)
) STRICT;
"#;

/// Version 4: edit keys. A group proves it may update a listing with a key made on its own
/// device; this file keeps only SHA-256 hashes of keys, never a key.
///
/// `edit_key` is each listing's current key (granted when a submission or claim carrying a
/// hash is approved; replaced at once, in the transaction that stores the update, when an
/// update proves the current key and names the next one). `retired_edit_key` keeps every
/// replaced hash, so a replayed key is told apart from a wrong one. On `item`, `edit_key` says
/// how the sender stood: `verified` (it gave the current key), `none` (it gave none: a new
/// listing, a claim, or an update of a listing that had no key, which the moderator sees as
/// unverified), `refused` (a wrong, used or missing key: the item is invalid) or empty (a
/// report); `grant_sha256` is the hash that becomes the listing's key if it is approved.
const V4: &str = r#"
ALTER TABLE item ADD COLUMN edit_key TEXT NOT NULL DEFAULT ''
    CHECK (edit_key IN ('', 'verified', 'none', 'refused'));
ALTER TABLE item ADD COLUMN grant_sha256 TEXT;
CREATE TABLE edit_key (
    service_id TEXT PRIMARY KEY,
    key_sha256 TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    item_id TEXT NOT NULL
) STRICT;
CREATE TABLE retired_edit_key (
    key_sha256 TEXT PRIMARY KEY,
    service_id TEXT NOT NULL,
    retired_at TEXT NOT NULL,
    item_id TEXT NOT NULL
) STRICT;
"#;

/// Bring `conn` to [`VERSION`], one transaction per step; refuse files from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::TooNew {
            found,
            known: VERSION,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// A version-1 file with an item in it upgrades to the same schema a new file gets, and
    /// keeps the item.
    #[test]
    fn a_version_1_file_upgrades_to_the_current_schema() {
        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(V1).unwrap();
        old.pragma_update(None, "user_version", 1).unwrap();
        old.execute(
            "INSERT INTO item(id, kind, client_id, seq, service_id, name, body, status, submitted_at)
             VALUES ('submission-1', 'submission', 'c', 1, 's', 'n', '{}', 'in_review', 't')",
            [],
        )
        .unwrap();
        migrate(&mut old).unwrap();
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        assert_eq!(schema_of(&old), schema_of(&fresh));
        let version: u32 = old
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
        let items: i64 = old
            .query_row("SELECT count(*) FROM item", [], |r| r.get(0))
            .unwrap();
        assert_eq!(items, 1);
    }
}
