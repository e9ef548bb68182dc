//! The caseload's schema and its numbered migrations (`PRAGMA user_version`), in the same shape
//! as the directory's: shipped steps are never edited, a change is a new number.
use rusqlite::Connection;

use crate::error::{Error, Result};

/// Migration N (1-based) brings a file from version N-1 to N.
const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build writes.
pub const VERSION: u32 = MIGRATIONS.len() as u32;

/// Version 1.
///
/// Lists (interests, access needs, languages, free times) are stored one value per line, as the
/// directory stores languages. A connection keeps the listing's name as well as its id, so it
/// still reads when sync removes the listing. `suggestion_seen` is what "something new for
/// someone" compares with: the listings (and their content hashes) already suggested;
/// `person.suggestions_baseline` says whether that set has been taken at all (an empty set
/// can be a real answer).
const V1: &str = r#"
CREATE TABLE setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE person (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    contact_method TEXT NOT NULL DEFAULT '',
    contact_times TEXT NOT NULL DEFAULT '',
    home_area TEXT NOT NULL DEFAULT '',
    goals TEXT NOT NULL DEFAULT '',
    needs TEXT NOT NULL DEFAULT '',
    interests TEXT NOT NULL DEFAULT '',
    access_needs TEXT NOT NULL DEFAULT '',
    languages TEXT NOT NULL DEFAULT '',
    free_times TEXT NOT NULL DEFAULT '',
    no_referral_only INTEGER NOT NULL DEFAULT 0,
    travel_km REAL NOT NULL DEFAULT 5,
    nhs_number TEXT,
    gender TEXT,
    ethnicity TEXT,
    referred_on TEXT NOT NULL,
    closed_on TEXT,
    closed_reason TEXT NOT NULL DEFAULT '',
    suggestions_baseline INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX person_name ON person(name);
CREATE TABLE contact (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    on_date TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('phone', 'visit', 'video', 'text')),
    note TEXT NOT NULL DEFAULT '',
    next_step TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX contact_person ON contact(person_id, on_date);
CREATE TABLE connection (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    service_id TEXT NOT NULL,
    service_name TEXT NOT NULL,
    in_plan INTEGER NOT NULL DEFAULT 0,
    UNIQUE (person_id, service_id)
) STRICT;
CREATE INDEX connection_service ON connection(service_id);
CREATE TABLE connection_step (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connection(id) ON DELETE CASCADE,
    status TEXT NOT NULL
        CHECK (status IN ('suggested', 'introduced', 'attending', 'stopped', 'declined')),
    on_date TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX connection_step_connection ON connection_step(connection_id, id);
CREATE TABLE follow_up (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    due TEXT NOT NULL,
    what TEXT NOT NULL,
    done_on TEXT
) STRICT;
CREATE INDEX follow_up_open ON follow_up(due) WHERE done_on IS NULL;
CREATE INDEX follow_up_person ON follow_up(person_id);
CREATE TABLE wellbeing (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    on_date TEXT NOT NULL,
    occasion TEXT NOT NULL CHECK (occasion IN ('start', 'review')),
    life_satisfaction INTEGER NOT NULL CHECK (life_satisfaction BETWEEN 0 AND 10),
    worthwhile INTEGER NOT NULL CHECK (worthwhile BETWEEN 0 AND 10),
    happy INTEGER NOT NULL CHECK (happy BETWEEN 0 AND 10),
    anxious INTEGER NOT NULL CHECK (anxious BETWEEN 0 AND 10)
) STRICT;
CREATE INDEX wellbeing_person ON wellbeing(person_id, on_date);
CREATE TABLE suggestion_seen (
    person_id TEXT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    service_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    PRIMARY KEY (person_id, service_id)
) STRICT, WITHOUT ROWID;
"#;

/// Bring `conn` to [`VERSION`], one transaction per step; refuse files from a newer build.
pub fn migrate(conn: &Connection) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::TooNew {
            found,
            known: VERSION,
        });
    }
    for version in found..VERSION {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let step = conn
            .execute_batch(MIGRATIONS[version as usize])
            .and_then(|()| conn.pragma_update(None, "user_version", version + 1));
        match step {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                conn.execute_batch("ROLLBACK")?;
                return Err(e.into());
            }
        }
    }
    Ok(())
}
