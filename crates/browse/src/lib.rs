//! What the Signpost app shows, as plain data: the app's window only displays it.
//!
//! - [`search`]: "what is near this postcode, place or point", with the filters a person can
//!   set, answered from the local directory (offline), each row ready to display.
//! - [`detail`]: one listing in full, with how to join, when it runs and whether it may be out
//!   of date.
//! - [`coverage`]: where assets are lacking: per postcode sector, how far the nearest
//!   no-referral listing in each CMHF domain is.
//! - [`calendar`]: a listing's sessions as an iCalendar file; [`text`]: plain-text copies of a
//!   listing and of a saved list, for copying, sharing and printing.
//!
//! Everything here is testable without a window; the Tauri commands only call it.
#![deny(missing_docs)]

pub mod calendar;
pub mod coverage;
pub mod detail;
mod error;
pub mod group_form;
pub mod search;
pub mod text;

pub use detail::{detail, Detail};
pub use error::{Error, Result};
pub use search::{
    answer, choices, search, Choices, Origin, PlaceOption, PlaceQuestion, ResultRow, SearchAnswer,
    SearchRequest, SearchResponse, When,
};

/// A listing whose publisher has not checked it for this long may be out of date.
pub const STALE_AFTER_DAYS: i64 = signpost_directory::freshness::STALE_AFTER_DAYS;
