//! Errors from the directory. Each variant is something a caller can act on or report.
use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong in the directory crate.
#[derive(Debug, Error)]
pub enum Error {
    /// SQLite failed. The transaction in progress was rolled back.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer Signpost than this one.
    #[error("this database has schema version {found}; this Signpost supports up to {supported}. Upgrade Signpost to open it")]
    SchemaTooNew {
        /// Version found in the file.
        found: u32,
        /// Highest version this build knows.
        supported: u32,
    },
    /// A read-only opening found a database an older Signpost wrote (or not a Signpost
    /// database at all); upgrading it would be a write.
    #[error("{path} has schema version {found}, older than this Signpost's {current}; a command that writes (import, sync, load-region) upgrades it")]
    SchemaTooOld {
        /// The database file.
        path: PathBuf,
        /// Version found in the file.
        found: u32,
        /// The version this build writes.
        current: u32,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not in any format Signpost imports. Nothing from it was stored.
    #[error("{path}: {message}")]
    UnsupportedFile {
        /// The file.
        path: PathBuf,
        /// What was wrong, in plain words.
        message: String,
    },
    /// A region manifest is missing or wrong.
    #[error("region {name}: {message}")]
    Region {
        /// Region folder or name.
        name: String,
        /// What was wrong.
        message: String,
    },
    /// A search point or filter is out of range.
    #[error("{0}")]
    BadQuery(String),
    /// A postcode or place could not be resolved.
    #[error(transparent)]
    Postcode(#[from] signpost_postcodes::PostcodeError),
    /// Stored data could not be read back (a damaged database).
    #[error("damaged database: {0}")]
    Corrupt(String),
    /// A changeset failed verification (hash, chain or format). Nothing from it was applied.
    #[error("changeset rejected: {0}")]
    Changeset(String),
    /// The directory does not follow that feed.
    #[error("this directory does not follow the feed {0}")]
    NotFollowed(String),
    /// No listing with that id.
    #[error("no listing with id {0:?}")]
    NotFound(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// One bad record in an import: reported, skipped, and nothing else is affected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordError {
    /// The file (or feed URL) it came from.
    pub source: String,
    /// The record's id, or `#N` (its position) when it has none.
    pub record: String,
    /// The field at fault, as a JSON pointer (`/service_at_locations/0/location/latitude`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for RecordError {
    /// "FILE: record ID: /field: message", or without the field when the whole record is meant.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: record {}: ", self.source, self.record)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}
