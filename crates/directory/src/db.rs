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
