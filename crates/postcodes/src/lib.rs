//! Offline UK postcode lookup.
//!
//! A person types a postcode the way they write it on an envelope ("bs3  4ab"); this crate
//! normalises it to the Royal Mail format, decides whether it is a full postcode, a sector or a
//! district, and resolves it to a centroid from tables shipped with Signpost. Nothing here touches
//! the network: the tables are compiled into the binary (see [`Gazetteer::embedded`]).
//!
//! An unknown postcode, or a known one that has no location (the non-geographic districts such as
//! `GIR`), is an error; so is one from Northern Ireland, the Channel Islands or the Isle of Man,
//! which Signpost does not cover ([`PostcodeError::NotCovered`]). We never guess, and never
//! return `0,0`. A place name that several places share is a choice ([`Gazetteer::lookup`]).
//!
//! ```
//! let g = signpost_postcodes::Gazetteer::embedded();
//! let at = g.resolve("bs3").unwrap();
//! assert!((at.latitude - 51.44).abs() < 0.05);
//! ```
#![deny(missing_docs)]

mod error;
mod gazetteer;
mod packed;
mod parse;
mod sectors;

pub use error::{Area, PostcodeError, Result};
pub use gazetteer::{CentroidTable, Gazetteer, Lookup, MapLabel, PlaceChoice, PlaceKind, Resolved};
pub use packed::{pack_postcodes, PackStats, PackedPostcodes};
pub use parse::{parse, PostcodeQuery};
pub use sectors::{embedded_sectors, read_sectors, Sector};
