//! What VCSE groups send a regional feed, held for its moderators.
//!
//! Groups send new and updated listings (`submission`), requests to manage an existing listing
//! (`claim`) and problem reports (`report`), each numbered by the device that sends it. The
//! store receives each exactly once (a retry is answered, not stored; a gap is refused), keeps
//! it apart from the published directory, and on approval publishes it through the directory's
//! changeset log, with an audit row per decision and per changed field (also written into the
//! listing as HSDS `metadata`, so the ORUK API serves them).
//!
//! Updates need proof: approving a new listing or a claim gives its sender the listing's edit
//! key (the device made the key; this store keeps only its SHA-256), and an update must give
//! the current key and the hash of the next one, which replaces it at once, so each key works
//! once.
mod accounts;
mod error;
pub mod reminders;
pub mod schema;
mod store;

pub use accounts::{
    check_password, Account, NewSession, Role, SignedIn, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
    SESSION_HOURS,
};
pub use error::{Error, Result};
pub use store::{
    field_changes, proposed_changes, AuditRow, FieldChange, Item, KeyProof, Kind, Moderation,
    Receipt, Status, KEY_NEEDED, MAX_ITEMS_PER_DEVICE_PER_HOUR, MAX_NOTE_CHARS, REPORT_KINDS,
    USED_KEY, WRONG_KEY,
};
