//! Opening the SQLite file with the settings every Signpost database needs.
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;
use crate::schema;

/// Open (creating if needed) and migrate a directory database.
///
/// WAL mode lets a reader keep reading while an import or a sync writes; `synchronous=NORMAL`
/// is safe with WAL (a crash loses at most the last commits, never consistency); foreign keys
/// make `ON DELETE CASCADE` remove everything a replaced listing owned.
pub fn open(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|source| crate::Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    schema::migrate(&mut conn)?;
    Ok(conn)
}

/// Page cache of a read-only connection, in KiB (SQLite's negative `cache_size`). A server
/// opens several; the operating system's file cache is shared between them, so each keeps a
/// small cache of its own rather than the writer's 64 MB.
const READER_CACHE_KIB: i64 = 8192;

/// Open an existing directory database for reading only: nothing is created, migrated or
/// seeded, and SQLite refuses any write on the connection.
///
/// Read-only commands (`digest`, `show`, `near`, `stats`) use this so that looking at a
/// database never changes it: a digest must describe the data as it was, not as opening made
/// it. A database from an older Signpost is refused rather than upgraded, since upgrading
/// writes; any writing command upgrades it.
pub fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "query_only", "ON")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > schema::VERSION {
        return Err(crate::Error::SchemaTooNew {
            found,
            supported: schema::VERSION,
        });
    }
    if found < schema::VERSION {
        return Err(crate::Error::SchemaTooOld {
            path: path.to_path_buf(),
            found,
            current: schema::VERSION,
        });
    }
    Ok(conn)
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// Per-connection settings.
pub fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.pragma_update(None, "cache_size", -65536)?;
    // Writing one listing uses about two dozen distinct statements; rusqlite's default cache
    // of 16 would evict and re-prepare them on every listing.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}
