//! Resolving a postcode, sector, district or place name to a centroid.
use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use crate::error::{PostcodeError, Result};
use crate::packed::PackedPostcodes;
use crate::parse::{parse, PostcodeQuery};

/// A resolved place: where to search from, and what it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Normalised label, e.g. "BS3 4AB", "BS3 4", "BS3" or "Bedminster (City of Bristol)".
    pub label: String,
    /// WGS84 latitude.
    pub latitude: f64,
    /// WGS84 longitude.
    pub longitude: f64,
}

/// A table of centroids keyed by sector or district, read from CSV
/// (`key,latitude,longitude,...`). Empty coordinates and `0,0` both mean "no location":
/// non-geographic districts are published at `0,0` in some sources and must never be used there.
#[derive(Debug, Default)]
pub struct CentroidTable {
    rows: HashMap<String, Option<(f64, f64)>>,
}

impl CentroidTable {
    /// Read a centroid CSV. `what` names the table in errors.
    pub fn from_csv(what: &str, source: impl Read) -> Result<Self> {
        let mut reader = csv::Reader::from_reader(source);
        let headers = reader.headers().map_err(|e| table_error(what, e))?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (key, lat, lon) = match (
            col("district")
                .or(col("sector"))
                .or(col("postcode"))
                .or(Some(0)),
            col("latitude"),
            col("longitude"),
        ) {
            (Some(k), Some(a), Some(o)) => (k, a, o),
            _ => {
                return Err(PostcodeError::BadTable {
                    what: what.into(),
                    message: "needs latitude and longitude columns".into(),
                })
            }
        };
        let mut rows = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| table_error(what, e))?;
            let number = |i: usize| record.get(i).and_then(|v| v.trim().parse::<f64>().ok());
            let location = match (number(lat), number(lon)) {
                (Some(a), Some(o)) if !(a == 0.0 && o == 0.0) && a.is_finite() && o.is_finite() => {
                    Some((a, o))
                }
                _ => None,
            };
            let k = record
                .get(key)
                .unwrap_or_default()
                .trim()
                .to_ascii_uppercase();
            rows.insert(k, location);
        }
        Ok(CentroidTable { rows })
    }

    /// `None` if unknown, `Some(None)` if known without a location.
    pub fn get(&self, key: &str) -> Option<Option<(f64, f64)>> {
        self.rows.get(key).copied()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every key with a location.
    pub fn located(&self) -> impl Iterator<Item = (&str, (f64, f64))> {
        self.rows
            .iter()
            .filter_map(|(k, v)| v.map(|v| (k.as_str(), v)))
    }

    /// Keys that are known but have no location.
    pub fn without_location(&self) -> impl Iterator<Item = &str> {
        self.rows
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.as_str())
    }
}

fn table_error(what: &str, e: impl std::fmt::Display) -> PostcodeError {
    PostcodeError::BadTable {
        what: what.into(),
        message: e.to_string(),
    }
}

/// A place name from OS Open Names, for "search by town".
#[derive(Debug, Clone)]
struct Place {
    name: String,
    local_authority: String,
    rank: u8,
    latitude: f64,
    longitude: f64,
}

/// A place to name on a map.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MapLabel {
    /// Its name.
    pub name: String,
    /// `city`, `town` or `suburb`.
    pub kind: &'static str,
    /// Where it is.
    pub latitude: f64,
    /// Where it is.
    pub longitude: f64,
}

/// Everything needed to turn what a person types into a point.
pub struct Gazetteer {
    districts: CentroidTable,
    sectors: CentroidTable,
    full_packed: &'static [u8],
    full: OnceLock<std::result::Result<PackedPostcodes, PostcodeError>>,
    places_gz: &'static [u8],
    places: OnceLock<HashMap<String, Vec<Place>>>,
}

static EMBEDDED: OnceLock<Gazetteer> = OnceLock::new();

const DISTRICTS_CSV: &[u8] = include_bytes!("../../../data/postcodes/postcode_districts.csv");
const SECTORS_CSV: &[u8] = include_bytes!("../../../data/postcodes/postcode_sectors.csv");
const POSTCODES_PACK: &[u8] = include_bytes!("../../../data/postcodes/postcodes.pack.gz");
const PLACES_GZ: &[u8] = include_bytes!("../../../data/postcodes/places.csv.gz");

fn fold(name: &str) -> String {
    // Case-insensitive, and tolerant of typing "Ynys Mon" for "Ynys Môn".
    name.trim()
        .chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'À' | 'Á' | 'Â' => 'a',
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'Ò' | 'Ó' | 'Ô' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' => 'u',
            'ŵ' | 'Ŵ' => 'w',
            'ŷ' | 'ÿ' | 'Ŷ' => 'y',
            '’' => '\'',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl Gazetteer {
    /// The tables shipped in the binary: ONSPD (Nov 2025) postcodes, sectors and districts,
    /// and OS Open Names places. Built once per process; full postcodes are decoded on first use.
    pub fn embedded() -> &'static Gazetteer {
        EMBEDDED.get_or_init(|| Gazetteer {
            districts: CentroidTable::from_csv("districts", DISTRICTS_CSV)
                .expect("shipped district table is valid (checked by tests)"),
            sectors: CentroidTable::from_csv("sectors", SECTORS_CSV)
                .expect("shipped sector table is valid (checked by tests)"),
            full_packed: POSTCODES_PACK,
            full: OnceLock::new(),
            places_gz: PLACES_GZ,
            places: OnceLock::new(),
        })
    }

    /// The district table.
    pub fn districts(&self) -> &CentroidTable {
        &self.districts
    }

    /// The sector table.
    pub fn sectors(&self) -> &CentroidTable {
        &self.sectors
    }

    /// All full postcodes (decoded on first call, about 150 ms).
    pub fn full_postcodes(&self) -> Result<&PackedPostcodes> {
        self.full
            .get_or_init(|| PackedPostcodes::decode(self.full_packed))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Resolve a postcode, sector or district.
    pub fn resolve(&self, input: &str) -> Result<Resolved> {
        let query = parse(input)?;
        let normalised = query.to_string();
        let found = match &query {
            PostcodeQuery::Full { outward, inward } => self.full_postcodes()?.get(outward, inward),
            PostcodeQuery::Sector { .. } => self.sectors.get(&normalised),
            PostcodeQuery::District { .. } => self.districts.get(&normalised),
        };
        match found {
            None => Err(PostcodeError::Unknown { normalised }),
            Some(None) => Err(PostcodeError::NoLocation { normalised }),
            Some(Some((latitude, longitude))) => Ok(Resolved {
                label: normalised,
                latitude,
                longitude,
            }),
        }
    }

    fn places(&self) -> &HashMap<String, Vec<Place>> {
        self.places.get_or_init(|| {
            let mut text = Vec::new();
            // The shipped file is checked by a test; a failure here yields an empty gazetteer.
            let _ = flate2::read::GzDecoder::new(self.places_gz).read_to_end(&mut text);
            let mut map: HashMap<String, Vec<Place>> = HashMap::new();
            for record in csv::Reader::from_reader(text.as_slice())
                .records()
                .flatten()
            {
                let (Some(lat), Some(lon)) = (
                    record.get(3).and_then(|v| v.parse().ok()),
                    record.get(4).and_then(|v| v.parse().ok()),
                ) else {
                    continue;
                };
                let rank = match record.get(2).unwrap_or_default() {
                    "city" => 0,
                    "town" => 1,
                    "suburban_area" => 2,
                    "village" => 3,
                    "hamlet" => 4,
                    _ => 5,
                };
                let name = record.get(0).unwrap_or_default().to_string();
                map.entry(fold(&name)).or_default().push(Place {
                    name,
                    local_authority: record.get(1).unwrap_or_default().to_string(),
                    rank,
                    latitude: lat,
                    longitude: lon,
                });
            }
            for places in map.values_mut() {
                places.sort_by_key(|p| p.rank);
            }
            map
        })
    }

    /// Resolve a town or place name ("Bedminster", "Newport, Isle of Wight"). Where a name is
    /// shared, the larger kind of place wins (city, then town, suburb, village, hamlet); naming
    /// the local authority after a comma picks one.
    pub fn resolve_place(&self, input: &str) -> Result<Resolved> {
        let (name, authority) = match input.split_once(',') {
            Some((n, a)) => (n, Some(fold(a))),
            None => (input, None),
        };
        let unknown = || PostcodeError::Unknown {
            normalised: input.trim().to_string(),
        };
        let candidates = self.places().get(&fold(name)).ok_or_else(unknown)?;
        let place = candidates
            .iter()
            .find(|p| {
                authority
                    .as_ref()
                    .is_none_or(|a| fold(&p.local_authority) == *a)
            })
            .ok_or_else(unknown)?;
        Ok(Resolved {
            label: format!("{} ({})", place.name, place.local_authority),
            latitude: place.latitude,
            longitude: place.longitude,
        })
    }

    /// The places inside a box (south, west, north, east), the larger kinds first (cities, then
    /// towns, then suburbs; within a kind, nearer the middle first), at most `most` of them: labels for a map drawn without tiles, so a
    /// person can tell where the points are.
    pub fn places_within(
        &self,
        south: f64,
        west: f64,
        north: f64,
        east: f64,
        most: usize,
    ) -> Vec<MapLabel> {
        let mut found: Vec<&Place> = self
            .places()
            .values()
            .flatten()
            .filter(|p| p.rank <= 2)
            .filter(|p| {
                (south..=north).contains(&p.latitude) && (west..=east).contains(&p.longitude)
            })
            .collect();
        // Among places of one kind, those nearer the middle of the box first.
        let (mid_lat, mid_lon) = ((south + north) / 2.0, (west + east) / 2.0);
        let off =
            |p: &Place| (p.latitude - mid_lat).powi(2) + ((p.longitude - mid_lon) * 0.62).powi(2);
        found.sort_by(|a, b| {
            a.rank
                .cmp(&b.rank)
                .then_with(|| off(a).total_cmp(&off(b)))
                .then_with(|| a.name.cmp(&b.name))
        });
        found.truncate(most);
        found
            .into_iter()
            .map(|p| MapLabel {
                name: p.name.clone(),
                kind: ["city", "town", "suburb"][p.rank as usize],
                latitude: p.latitude,
                longitude: p.longitude,
            })
            .collect()
    }

    /// Other places sharing a name, so a caller can say "did you mean".
    pub fn place_alternatives(&self, name: &str) -> Vec<String> {
        self.places()
            .get(&fold(name))
            .map(|v| {
                v.iter()
                    .map(|p| format!("{}, {}", p.name, p.local_authority))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_of_bristol_names_bristol_first_and_nothing_outside_the_box() {
        let g = Gazetteer::embedded();
        let labels = g.places_within(51.40, -2.70, 51.50, -2.50, 10);
        assert_eq!(
            labels.first().map(|l| l.name.as_str()),
            Some("Bristol"),
            "{labels:?}"
        );
        assert!(labels.len() <= 10);
        assert!(labels.iter().all(
            |l| (51.40..=51.50).contains(&l.latitude) && (-2.70..=-2.50).contains(&l.longitude)
        ));
        assert!(g.places_within(0.0, 0.0, 1.0, 1.0, 10).is_empty());
    }

    #[test]
    fn resolves_the_three_granularities() {
        let g = Gazetteer::embedded();
        let d = g.resolve("bs3").unwrap();
        assert_eq!(d.label, "BS3");
        assert!((d.latitude - 51.4386).abs() < 0.01 && (d.longitude + 2.6034).abs() < 0.01);
        let s = g.resolve("M1 1").unwrap();
        assert_eq!(s.label, "M1 1");
        let f = g.resolve("sw1a1aa").unwrap();
        assert_eq!(f.label, "SW1A 1AA");
        assert!((f.latitude - 51.501009).abs() < 2e-5 && (f.longitude + 0.141588).abs() < 2e-5);
        let f = g.resolve("ab1 0aa").unwrap();
        assert!((f.latitude - 57.101474).abs() < 2e-5 && (f.longitude + 2.242851).abs() < 2e-5);
    }

    #[test]
    fn unknown_and_unlocated_are_errors_not_guesses() {
        let g = Gazetteer::embedded();
        assert!(matches!(
            g.resolve("ZZ99 9ZZ"),
            Err(PostcodeError::Unknown { .. })
        ));
        // BS3 9 is a real sector (170 postcodes in ONSPD, 161 of them located): found, at the
        // mean of its postcodes. BS3 has no sector 8: unknown, not rounded to a neighbour.
        let s = g.resolve("BS3 9").unwrap();
        assert_eq!(s.label, "BS3 9");
        assert!((s.latitude - 51.438857).abs() < 1e-6 && (s.longitude + 2.601291).abs() < 1e-6);
        assert!(matches!(
            g.resolve("BS3 8"),
            Err(PostcodeError::Unknown { .. })
        ));
        assert!(matches!(
            g.resolve("QQ1"),
            Err(PostcodeError::Unknown { .. })
        ));
        // GIR has one postcode and no grid reference in ONSPD.
        assert!(matches!(
            g.resolve("GIR"),
            Err(PostcodeError::NoLocation { .. })
        ));
        // Guernsey postcodes exist in ONSPD but have no location.
        assert!(matches!(
            g.resolve("GY1 1AA"),
            Err(PostcodeError::NoLocation { .. })
        ));
        assert!(matches!(
            g.resolve("not a postcode"),
            Err(PostcodeError::Malformed { .. })
        ));
    }

    #[test]
    fn shipped_tables_are_complete() {
        let g = Gazetteer::embedded();
        assert_eq!(g.districts().len(), 3125);
        assert_eq!(g.sectors().len(), 12496);
        let full = g.full_postcodes().unwrap();
        assert_eq!(full.len(), 2_657_424);
        assert!(g.districts().without_location().all(|d| !d.is_empty()));
    }

    #[test]
    fn zero_zero_means_no_location() {
        // The outcodes.csv district list publishes 28 non-geographic districts at 0,0.
        let csv = "id,postcode,latitude,longitude\n2975,WF90,0,0\n1,BS3,51.43776,-2.60144\n";
        let t = CentroidTable::from_csv("outcodes", csv.as_bytes()).unwrap();
        assert_eq!(t.get("WF90"), Some(None));
        assert_eq!(t.get("BS3"), Some(Some((51.43776, -2.60144))));
    }

    #[test]
    fn the_28_non_geographic_outcodes_have_no_location() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/outcodes.csv"
        );
        let t = CentroidTable::from_csv("outcodes", std::fs::File::open(path).unwrap()).unwrap();
        assert_eq!(
            t.len(),
            3003,
            "3,002 districts plus one row the provenance note does not count"
        );
        let mut none: Vec<&str> = t.without_location().collect();
        none.sort();
        assert_eq!(none.len(), 28, "{none:?}");
        assert!(none.contains(&"WF90") && none.contains(&"BS0"));
        assert!(t.get("BS3").unwrap().is_some());
    }

    #[test]
    fn resolves_towns() {
        let g = Gazetteer::embedded();
        let p = g.resolve_place("bedminster").unwrap();
        assert_eq!(p.label, "Bedminster (City of Bristol)");
        let n = g.resolve_place("Newport, Telford and Wrekin").unwrap();
        assert!((n.latitude - 52.7688).abs() < 1e-3);
        assert!(g.place_alternatives("Newport").len() > 3);
        assert!(g.resolve_place("Nowhereville-on-Sea").is_err());
    }
}
