//! Region bundles from open source data. Each module reads one published table and writes
//! HSDS 3.0 listings that `signpost import` (and the directory's region loader) accept; the
//! bundles themselves live in `regions/` and are compiled into the app by the directory crate.
//!
//! This is build-time work, run by `data/regenerate.sh` through `signpost data …`; nothing here
//! runs when a person uses the app. Ids are derived from the source's own identities, so
//! rebuilding from unchanged data gives identical listings and a reload changes nothing.
#![deny(missing_docs)]

pub mod error;
pub mod gm_assets;
pub mod mobile_library_stops;
pub mod public_libraries;

pub use error::{Error, Result};
