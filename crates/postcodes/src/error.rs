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
    /// A postcode from a part of the UK or Crown Dependencies that Signpost does not cover.
    #[error("Signpost covers postcodes in England, Wales and Scotland; {normalised} is in {area}, which it does not cover")]
    NotCovered {
        /// The normalised form that was looked up.
        normalised: String,
        /// Where that postcode is.
        area: Area,
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

/// Where a postcode Signpost does not cover is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `BT`: ONSPD's Northern Ireland postcodes are under a licence that restricts commercial
    /// use, and Signpost does not include them.
    NorthernIreland,
    /// `GY`: ONSPD lists them without a grid reference.
    Guernsey,
    /// `JE`: as Guernsey.
    Jersey,
    /// `IM`: as Guernsey.
    IsleOfMan,
}

impl Area {
    /// The area of an outward code ("BT1", "GY10") outside Signpost's coverage, if it is one.
    pub fn of_outward(outward: &str) -> Option<Area> {
        let letters: String = outward
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_ascii_uppercase();
        match letters.as_str() {
            "BT" => Some(Area::NorthernIreland),
            "GY" => Some(Area::Guernsey),
            "JE" => Some(Area::Jersey),
            "IM" => Some(Area::IsleOfMan),
            _ => None,
        }
    }
}

impl std::fmt::Display for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Area::NorthernIreland => "Northern Ireland",
            Area::Guernsey => "Guernsey (Channel Islands)",
            Area::Jersey => "Jersey (Channel Islands)",
            Area::IsleOfMan => "the Isle of Man",
        })
    }
}
