//! Every postcode sector with its centroid, how many postcodes it has and the local authority
//! most of them are in: the units "where assets are lacking" is reported in.
//!
//! The number of postcodes in a sector is the density proxy Signpost uses: ONSPD has no
//! population, and a sector of many postcodes is (roughly) one of many addresses.
use std::sync::OnceLock;

use crate::error::{Area, PostcodeError, Result};

/// One postcode sector from ONSPD (November 2025).
#[derive(Debug, Clone, PartialEq)]
pub struct Sector {
    /// "M1 1".
    pub code: String,
    /// Centroid latitude (mean of its postcodes).
    pub latitude: f64,
    /// Centroid longitude.
    pub longitude: f64,
    /// How many postcodes it has (live and terminated): the density proxy.
    pub postcodes: u32,
    /// The ONS code of the local authority district most of its postcodes are in
    /// (`E08000003`), when ONSPD gives one. `E` England, `W` Wales, `S` Scotland.
    pub local_authority: Option<String>,
}

impl Sector {
    /// Whether most of its postcodes are in England (its local authority's code starts `E`).
    pub fn in_england(&self) -> bool {
        self.local_authority
            .as_deref()
            .is_some_and(|la| la.starts_with('E'))
    }
}

/// Read a sector table (`sector,latitude,longitude,n_postcodes,n_postcodes_with_location,
/// lad_code_mode`). Sectors without a location, and those Signpost does not cover
/// ([`Area::of_outward`]), are left out; the rest are in the table's order.
pub fn read_sectors(source: impl std::io::Read) -> Result<Vec<Sector>> {
    let bad = |message: String| PostcodeError::BadTable {
        what: "sectors".into(),
        message,
    };
    let mut reader = csv::Reader::from_reader(source);
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no {name} column")))
    };
    let (code, lat, lon, count) = (
        col("sector")?,
        col("latitude")?,
        col("longitude")?,
        col("n_postcodes")?,
    );
    let la = headers.iter().position(|h| h == "lad_code_mode");
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("row {}: {e}", n + 2)))?;
        let number = |i: usize| record.get(i).and_then(|v| v.trim().parse::<f64>().ok());
        let (Some(latitude), Some(longitude)) = (number(lat), number(lon)) else {
            continue;
        };
        if (latitude == 0.0 && longitude == 0.0) || !latitude.is_finite() || !longitude.is_finite()
        {
            continue;
        }
        let sector = record
            .get(code)
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        let outward = sector.split(' ').next().unwrap_or_default();
        if sector.is_empty() || Area::of_outward(outward).is_some() {
            continue;
        }
        out.push(Sector {
            code: sector,
            latitude,
            longitude,
            postcodes: record
                .get(count)
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| bad(format!("row {}: n_postcodes", n + 2)))?,
            local_authority: la
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
        });
    }
    Ok(out)
}

static SECTORS: OnceLock<Vec<Sector>> = OnceLock::new();

/// The sectors shipped in the binary (read once per process), in sector order.
pub fn embedded_sectors() -> &'static [Sector] {
    SECTORS.get_or_init(|| {
        read_sectors(crate::gazetteer::SECTORS_CSV)
            .expect("shipped sector table is valid (checked by tests)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_sectors_cover_england_wales_and_scotland_only() {
        let all = embedded_sectors();
        let england = all.iter().filter(|s| s.in_england()).count();
        assert!((9_900..10_200).contains(&england), "{england}");
        assert!(all.iter().all(|s| !s.code.starts_with("BT")));
        let m1 = all.iter().find(|s| s.code == "M1 1").unwrap();
        assert!(m1.postcodes > 0);
        assert!((m1.latitude - 53.48).abs() < 0.05, "{m1:?}");
        assert_eq!(m1.local_authority.as_deref(), Some("E08000003"));
    }

    #[test]
    fn rows_without_a_location_are_left_out_and_bad_counts_refused() {
        let csv = "sector,latitude,longitude,n_postcodes,n_postcodes_with_location,lad_code_mode\n\
                   AB11 3,,,1,0,\n\
                   BS3 4,51.44,-2.60,300,300,E06000023\n\
                   BT1 1,54.6,-5.9,100,100,N09000003\n\
                   X1 1,0,0,3,3,\n";
        let s = read_sectors(csv.as_bytes()).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].code, "BS3 4");
        assert_eq!(s[0].postcodes, 300);
        assert!(s[0].in_england());
        let bad = "sector,latitude,longitude,n_postcodes\nBS3 4,51.44,-2.60,many\n";
        assert!(read_sectors(bad.as_bytes()).is_err());
    }
}
