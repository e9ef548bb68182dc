//! Errors, worded for the person using the app.
use thiserror::Error;

/// Why a request could not be answered.
#[derive(Debug, Error)]
pub enum Error {
    /// The place the person typed is not a postcode or place Signpost knows.
    #[error("{0}")]
    Place(String),
    /// The place typed could be several places, or none spelt that way: the person chooses.
    #[error("{}", .0.message)]
    ChoosePlace(crate::search::PlaceQuestion),
    /// A filter or other request value is unusable.
    #[error("{0}")]
    Request(String),
    /// The directory failed or the listing is missing.
    #[error(transparent)]
    Directory(#[from] signpost_directory::Error),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
