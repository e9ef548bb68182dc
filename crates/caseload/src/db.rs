//! Opening the encrypted file: the key first, then a check that it is the right one.
use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::key::{Key, SALT_LEN};
use crate::schema;

/// A plain SQLite file starts with these bytes; an encrypted one never does.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Open an existing caseload with its passphrase. A wrong passphrase is
/// [`Error::WrongPassphrase`], found before anything is written.
pub fn open(path: &Path, passphrase: &str) -> Result<(Connection, Key)> {
    let salt = read_salt(path)?;
    let key = Key::derive(passphrase, salt)?;
    // CREATE as well: the file exists (its salt was just read), and a backup attached to this
    // connection inherits its flags, so without it no backup file could be made.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    apply_key(&conn, &key)?;
    // The first read decrypts page 1; with the wrong key it fails its HMAC check.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(Error::WrongPassphrase)
        }
        Err(e) => return Err(e.into()),
    }
    configure(&conn)?;
    schema::migrate(&conn)?;
    Ok((conn, key))
}

/// Make a new caseload at `path` (which must not exist) with this passphrase.
pub fn create(path: &Path, passphrase: &str) -> Result<(Connection, Key)> {
    if path.exists() {
        return Err(Error::Exists(path.display().to_string()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let key = Key::derive(passphrase, Key::new_salt())?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    apply_key(&conn, &key)?;
    configure(&conn)?;
    schema::migrate(&conn)?;
    Ok((conn, key))
}

/// The salt SQLCipher keeps in the first 16 bytes of the file.
pub fn read_salt(path: &Path) -> Result<[u8; SALT_LEN]> {
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Missing(path.display().to_string()))
        }
        Err(e) => return Err(io(e)),
    };
    let mut salt = [0u8; SALT_LEN];
    match file.read_exact(&mut salt) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(Error::NotACaseload(path.display().to_string()))
        }
        Err(e) => return Err(io(e)),
    }
    if &salt == PLAIN_HEADER {
        return Err(Error::NotACaseload(path.display().to_string()));
    }
    Ok(salt)
}

/// Give SQLCipher the key (before any other statement, as it requires).
pub(crate) fn apply_key(conn: &Connection, key: &Key) -> Result<()> {
    // SQLCipher writes its own errors to stderr (a wrong key prints "hmac check failed"); the
    // caller reports errors in its own words, so its log stays quiet.
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))?;
    let statement = Zeroizing::new(format!(
        "PRAGMA key = \"{}\";",
        key.sqlcipher_literal().as_str()
    ));
    conn.execute_batch(&statement)?;
    Ok(())
}

fn configure(conn: &Connection) -> Result<()> {
    // A rollback journal, not WAL: the caseload is small and written a row at a time, and one
    // file at rest is simpler to back up and to check. `secure_delete` overwrites deleted rows,
    // so erasing a person leaves nothing behind even before the VACUUM that follows.
    conn.execute_batch(
        "PRAGMA journal_mode = DELETE;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )?;
    Ok(())
}
