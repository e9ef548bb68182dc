//! Errors from the personal store, each worded for the person who caused it.
use thiserror::Error;

/// Everything that can go wrong in the personal store.
#[derive(Debug, Error)]
pub enum Error {
    /// SQLite failed; the change in progress was rolled back.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer Signpost.
    #[error("this personal data file has schema version {found}; this Signpost supports up to {supported}")]
    SchemaTooNew {
        /// Version found in the file.
        found: u32,
        /// Highest version this build knows.
        supported: u32,
    },
    /// The OS keyring could not keep or give back an edit key; nothing was queued.
    #[error("the keyring: {0}")]
    Keyring(String),
    /// A value the person entered cannot be used; the message says why and what would work.
    #[error("{field}: {message}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why, in plain words.
        message: String,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
