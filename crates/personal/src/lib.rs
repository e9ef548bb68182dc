//! What one person keeps on their own device, apart from the shared directory: listings they
//! saved, the outbox of what goes to the feed (problem reports, and a group's listings and
//! claims, each sent exactly once and in order), and their settings (the regional feed, the map
//! tiles, the last search), and a group's edit keys (`edit_keys`: in the OS keyring when there is
//! one, else in this file).
//!
//! It lives in its own SQLite file so that a directory can be replaced (a new region, a
//! snapshot sync) without touching anything personal. [`Personal`] is the API.
#![deny(missing_docs)]

pub mod edit_keys;
mod error;
pub mod schema;
mod store;

pub use edit_keys::{key_sha256, key_sha256_of_raw, new_key, KeyState, KeyStore, OsKeyring};
pub use error::{Error, Result};
pub use store::{
    feed_address, OutboxItem, OutboxKind, OutboxStatus, Outgoing, Personal, Report, ReportKind,
    Saved, Setting, TILE_HTTP_HOSTS,
};
