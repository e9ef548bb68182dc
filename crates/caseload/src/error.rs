//! What can go wrong with a caseload, in words a connector can act on.
use thiserror::Error;

/// A caseload error.
#[derive(Debug, Error)]
pub enum Error {
    /// The passphrase does not open this caseload. Nothing was changed.
    #[error("that passphrase does not open this caseload (nothing was changed)")]
    WrongPassphrase,
    /// No caseload at this path yet.
    #[error("there is no caseload at {0} yet")]
    Missing(String),
    /// A caseload already exists where a new one would be made.
    #[error("a caseload already exists at {0}; it was left as it is")]
    Exists(String),
    /// The file is not an encrypted caseload (a plain SQLite file, or something else).
    #[error("{0} is not an encrypted Signpost caseload")]
    NotACaseload(String),
    /// A caseload made by a newer Signpost.
    #[error(
        "this caseload was made by a newer Signpost (schema {found}; this one knows up to {known})"
    )]
    TooNew {
        /// Version in the file.
        found: u32,
        /// Newest this build knows.
        known: u32,
    },
    /// No person, connection or follow-up with that id (or name).
    #[error("no {kind} {id:?} in this caseload")]
    NotFound {
        /// What was looked for: "person", "connection", "follow-up".
        kind: &'static str,
        /// The id or name given.
        id: String,
    },
    /// Two people share the name given; use an id.
    #[error("{count} people are called {name:?}; use an id ({ids})")]
    Ambiguous {
        /// The name.
        name: String,
        /// How many.
        count: usize,
        /// Their ids, comma separated.
        ids: String,
    },
    /// A value that cannot be stored, naming the field.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as the form and the CSV name it.
        field: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// A listing could not be shown (the plan reads listings as the app shows them).
    #[error(transparent)]
    Browse(#[from] signpost_browse::Error),
    /// The directory could not answer.
    #[error(transparent)]
    Directory(#[from] signpost_directory::Error),
    /// Reading or writing a file (backup, restore, CSV).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite or SQLCipher.
    #[error("caseload database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A CSV file that cannot be read at all (a bad row is reported, not an error).
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
}

impl Error {
    /// A field error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A caseload result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
