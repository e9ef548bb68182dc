//! Errors a person can act on: they name the postcode they typed.
use thiserror::Error;

/// Why a postcode could not be turned into a place.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PostcodeError {
    /// The text is not shaped like a UK postcode, sector or district.
    #[error("{input:?} is not a UK postcode, sector or district (expected e.g. \"BS3 4AB\", \"BS3 4\" or \"BS3\")")]
    Malformed {
        /// What the user typed.
        input: String,
    },
    /// Well formed, but not in the shipped tables.
    #[error("unknown postcode {normalised:?}")]
    Unknown {
        /// The normalised form that was looked up.
        normalised: String,
    },
    /// Known, but it has no location (non-geographic, or no grid reference in ONSPD).
    #[error(
        "postcode {normalised:?} has no location (it is non-geographic or has no grid reference)"
    )]
    NoLocation {
        /// The normalised form that was looked up.
        normalised: String,
    },
    /// A shipped or supplied table could not be read.
    #[error("postcode table {what}: {message}")]
    BadTable {
        /// Which table.
        what: String,
        /// What was wrong with it.
        message: String,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, PostcodeError>;
