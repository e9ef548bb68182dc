//! Deciding whether a location's coordinates can be trusted enough to index.
//!
//! HSDS is international, so any point on Earth is valid. What is rejected is what is certainly
//! wrong: missing values, `0,0` (the classic "no geocode" placeholder), values out of range, and
//! a UK address whose latitude and longitude were swapped. Such locations are kept and shown,
//! but flagged and left out of the spatial index, so they never appear at a false distance.

/// Why a location is or is not indexed. Stored as `location.coord_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordStatus {
    /// Plausible: indexed.
    Ok,
    /// Latitude or longitude absent.
    Missing,
    /// Exactly 0,0.
    Zero,
    /// Outside ±90 / ±180, or not a number.
    OutOfRange,
    /// A UK address whose point is outside the UK but would be inside with lat/lon swapped.
    Swapped,
}

impl CoordStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CoordStatus::Ok => "ok",
            CoordStatus::Missing => "missing",
            CoordStatus::Zero => "zero",
            CoordStatus::OutOfRange => "out_of_range",
            CoordStatus::Swapped => "swapped",
        }
    }

    /// A sentence for import warnings.
    pub fn explain(self) -> &'static str {
        match self {
            CoordStatus::Ok => "ok",
            CoordStatus::Missing => "no coordinates; the location is kept but not searchable by distance",
            CoordStatus::Zero => "coordinates are 0,0 (a placeholder); the location is kept but not indexed",
            CoordStatus::OutOfRange => "coordinates are out of range; the location is kept but not indexed",
            CoordStatus::Swapped => {
                "a UK address whose latitude and longitude appear swapped; the location is kept but not indexed"
            }
        }
    }
}

/// Roughly the UK and its islands, generous at the edges (Shetland, Scilly, Northern Ireland).
fn in_uk(lat: f64, lon: f64) -> bool {
    (49.0..=61.5).contains(&lat) && (-8.8..=2.1).contains(&lon)
}

/// Classify a point. `uk_address` says the location's address is in the UK.
pub fn check(latitude: Option<f64>, longitude: Option<f64>, uk_address: bool) -> CoordStatus {
    let (Some(lat), Some(lon)) = (latitude, longitude) else {
        return CoordStatus::Missing;
    };
    if !lat.is_finite() || !lon.is_finite() || lat.abs() > 90.0 || lon.abs() > 180.0 {
        return CoordStatus::OutOfRange;
    }
    if lat == 0.0 && lon == 0.0 {
        return CoordStatus::Zero;
    }
    if uk_address && !in_uk(lat, lon) && in_uk(lon, lat) {
        return CoordStatus::Swapped;
    }
    CoordStatus::Ok
}

/// Classify a location from its coordinates and addresses.
pub fn location_status(l: &crate::model::Location) -> CoordStatus {
    let uk = l
        .addresses
        .iter()
        .any(|a| is_uk_address(a.country.as_deref(), a.postal_code.as_deref()));
    check(l.latitude, l.longitude, uk)
}

/// True when an address is in the UK: a UK country name or code, or a full UK postcode.
pub fn is_uk_address(country: Option<&str>, postal_code: Option<&str>) -> bool {
    let country_says = country.is_some_and(|c| {
        matches!(
            c.trim().to_ascii_uppercase().as_str(),
            "GB" | "UK"
                | "GBR"
                | "UNITED KINGDOM"
                | "ENGLAND"
                | "SCOTLAND"
                | "WALES"
                | "NORTHERN IRELAND"
        )
    });
    let postcode_says = postal_code.is_some_and(|p| {
        matches!(
            signpost_postcodes::parse(p),
            Ok(signpost_postcodes::PostcodeQuery::Full { .. })
        )
    });
    country_says || (country.is_none() && postcode_says)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(check(Some(51.44), Some(-2.60), true), CoordStatus::Ok);
        assert_eq!(check(None, Some(-2.60), true), CoordStatus::Missing);
        assert_eq!(check(Some(0.0), Some(0.0), false), CoordStatus::Zero);
        assert_eq!(
            check(Some(100.0), Some(101.0), false),
            CoordStatus::OutOfRange
        );
        assert_eq!(
            check(Some(f64::NAN), Some(1.0), false),
            CoordStatus::OutOfRange
        );
        assert_eq!(check(Some(-2.60), Some(51.44), true), CoordStatus::Swapped);
        // Anywhere on Earth is fine when nothing says it is in the UK: Miami, Edinburgh.
        assert_eq!(check(Some(25.77), Some(-80.19), false), CoordStatus::Ok);
        assert_eq!(check(Some(-2.60), Some(51.44), false), CoordStatus::Ok);
        assert_eq!(check(Some(55.95), Some(-3.19), true), CoordStatus::Ok);
    }

    #[test]
    fn uk_addresses() {
        assert!(is_uk_address(Some("GB"), None));
        assert!(is_uk_address(None, Some("bs3 4ab")));
        assert!(!is_uk_address(Some("US"), Some("BS3 4AB")));
        assert!(!is_uk_address(None, Some("33101")));
    }
}
