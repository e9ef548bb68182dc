//! Why something sent or decided was refused, naming the field where there is one.
use thiserror::Error;

/// A moderation error.
#[derive(Debug, Error)]
pub enum Error {
    /// The request is not one the contract allows (bad JSON, no client id, no seq): nothing
    /// was recorded, not even its number.
    #[error("{field}: {message}")]
    BadRequest {
        /// The field, as a JSON pointer (`/client_id`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The item itself is invalid (its number is used up, so the device's later items are not
    /// held back; a retry gets this same answer).
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as a JSON pointer (`/service/name`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// An update did not prove the listing's edit key: the key is wrong, was already used (a
    /// replay), or was left out for a listing its group manages. Like an invalid item, its
    /// number is used up and a retry gets this same answer.
    #[error("/edit_key: {message}")]
    EditKey {
        /// Why, for the group to read (never the key).
        message: String,
    },
    /// The device skipped a number: items must arrive in order, so an earlier one was lost.
    #[error("/seq: expected {expected} from this device, got {got}; send the earlier items first")]
    Gap {
        /// The number the server expects next.
        expected: u64,
        /// The number sent.
        got: u64,
    },
    /// This device has sent too many new items lately; try again later (nothing was stored).
    #[error("this device sent {limit} items in the last hour; send more later")]
    TooMany {
        /// The limit per hour.
        limit: u32,
    },
    /// No such item.
    #[error("no {kind} {id:?}")]
    NotFound {
        /// What was looked for.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The item was already approved or rejected.
    #[error("{id} was already {status}")]
    AlreadyDecided {
        /// The item.
        id: String,
        /// Its status.
        status: String,
    },
    /// The name or the password is wrong, or the account is disabled: one answer for all
    /// three, so a sign-in form cannot be used to find out which names exist.
    #[error("the name or password is wrong")]
    SignInRefused,
    /// An account of that name (in any case) already exists.
    #[error("there is already an account called {name:?}")]
    AccountExists {
        /// The name asked for.
        name: String,
    },
    /// A password could not be hashed.
    #[error("hashing the password: {0}")]
    Password(String),
    /// A moderation file made by a newer Signpost.
    #[error("this moderation file was made by a newer Signpost (schema {found}; this one knows up to {known})")]
    TooNew {
        /// Version in the file.
        found: u32,
        /// Newest this build knows.
        known: u32,
    },
    /// Publishing an approval failed; the item stays pending.
    #[error("publishing: {0}")]
    Directory(#[from] signpost_directory::Error),
    /// SQLite.
    #[error("moderation database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl Error {
    /// The field at fault, if any (for the `field` of an HTTP error).
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::BadRequest { field, .. } | Error::Invalid { field, .. } => Some(field),
            Error::Gap { .. } => Some("/seq"),
            Error::EditKey { .. } => Some("/edit_key"),
            _ => None,
        }
    }
}

/// A moderation result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
