//! The Signpost directory: community assets in the HSDS 3.0 / ORUK 3.0 data model, stored in
//! SQLite, searched by true distance with filters, offline.
//!
//! [`Directory`] is the API. Everything under it is a private concern:
//! - [`schema`] migrations, [`db`] connection settings, `write` (all SQL that changes listings),
//!   `wal` (checkpointing on another thread during an import);
//! - [`import`] reads files (HSDS/ORUK JSON, ORUK 1.0, HSDS CSV packages) into validated
//!   listings, checked against `assets-schema/listing.schema.json` by [`validate`];
//! - [`search`] and [`spatial`] answer near-me queries exactly, [`schedule`] answers "open now";
//! - [`catalogue`] is the read side a feed publishes, in ORUK's shape ([`oruk`]);
//! - [`region`] loads a bundle of listings (the bundled regions are compiled in). The
//!   `signpost-region-builder` crate makes those bundles from their source data.
//!
//! ```no_run
//! use signpost_directory::{Directory, NearQuery};
//! let dir = Directory::open(std::path::Path::new("directory.db")).unwrap();
//! let mut q = NearQuery::at(51.4386, -2.6034);
//! q.filters.no_referral = true;
//! for r in dir.near(&q, chrono::Utc::now()).unwrap() {
//!     println!("{:>6.0} m  {}", r.distance_m, r.name);
//! }
//! ```
#![deny(missing_docs)]

pub mod catalogue;
pub mod changeset;
pub mod coords;
pub mod db;
mod error;
mod feeds;
pub mod freshness;
pub mod import;
pub mod model;
pub mod oruk;
pub mod region;
pub mod row_text;
pub mod schedule;
pub mod schema;
pub mod search;
pub mod spatial;
mod store;
pub mod taxonomy;
pub mod validate;
mod wal;
mod write;

pub use catalogue::{ListQuery, OrukPage, Page, Proximity, ServiceQuery};
pub use error::{Error, RecordError, Result};
pub use feeds::FeedInfo;
pub use freshness::may_be_out_of_date;
pub use region::Region;
pub use search::{Filters, Hit, NearQuery, WeekTimes};
pub use store::{
    ChangesetInfo, DataVersion, Directory, Freshness, ImportReport, ListingDetail, LogTail,
    NearResult, Progress, Resync, SnapshotInfo, SourceCount, SourceKind, Stats, SyncCursor,
};
pub use taxonomy::{Access, Attendance};
