//! Resolving a postcode, sector, district or place name to a centroid.
use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use crate::error::{Area, PostcodeError, Result};
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

/// What kind of place a name is, largest first (OS Open Names' populated-place types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlaceKind {
    /// A city.
    City,
    /// A town.
    Town,
    /// A suburb or district of a town or city.
    Suburb,
    /// A village.
    Village,
    /// A hamlet.
    Hamlet,
    /// Any other named settlement.
    Other,
}

impl PlaceKind {
    fn from_code(code: &str) -> PlaceKind {
        match code {
            "city" => PlaceKind::City,
            "town" => PlaceKind::Town,
            "suburban_area" => PlaceKind::Suburb,
            "village" => PlaceKind::Village,
            "hamlet" => PlaceKind::Hamlet,
            _ => PlaceKind::Other,
        }
    }

    /// "city", "town", "suburb", "village", "hamlet" or "place".
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::City => "city",
            PlaceKind::Town => "town",
            PlaceKind::Suburb => "suburb",
            PlaceKind::Village => "village",
            PlaceKind::Hamlet => "hamlet",
            PlaceKind::Other => "place",
        }
    }
}

impl std::fmt::Display for PlaceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place name from OS Open Names, for "search by town".
#[derive(Debug, Clone)]
struct Place {
    name: String,
    folded: String,
    local_authority: String,
    kind: PlaceKind,
    latitude: f64,
    longitude: f64,
}

/// One place a person may have meant, to offer as a choice.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceChoice {
    /// The place's name, e.g. "St Ives".
    pub name: String,
    /// City, town, suburb …
    pub kind: PlaceKind,
    /// Its local authority (district), where the data names one: "Cornwall". OS Open Names
    /// leaves it out for most cities and many towns that are their own authority.
    pub local_authority: Option<String>,
    /// What to type to get exactly this place: "St Ives, Cornwall", "Newcastle upon Tyne".
    pub query: String,
    /// WGS84 latitude.
    pub latitude: f64,
    /// WGS84 longitude.
    pub longitude: f64,
}

impl PlaceChoice {
    /// What a person reads: "St Ives (town, Cornwall)", "Newcastle upon Tyne (city)".
    pub fn label(&self) -> String {
        match &self.local_authority {
            Some(la) => format!("{} ({}, {})", self.name, self.kind, la),
            None => format!("{} ({})", self.name, self.kind),
        }
    }
}

/// What typed text turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// One place or postcode: search from here.
    Found(Resolved),
    /// Several places answer to the name: the person chooses (largest kind first).
    Choose(Vec<PlaceChoice>),
    /// No place has the name, but these are spelt much like it.
    DidYouMean(Vec<PlaceChoice>),
    /// A postcode from somewhere Signpost does not cover ([`PostcodeError::NotCovered`]).
    NotCovered(PostcodeError),
    /// Not a postcode or place Signpost knows, or a postcode without a location.
    Unknown(PostcodeError),
}

/// Places loaded from the shipped table, with what finding them needs.
struct Places {
    all: Vec<Place>,
    /// Folded name to indexes into `all`; a Welsh town or city is also under the English name
    /// of its authority ("newport" for Casnewydd, of "Casnewydd - Newport").
    by_name: HashMap<String, Vec<usize>>,
    /// Cities and towns, for names typed as the first words of theirs ("Newcastle").
    larger: Vec<usize>,
    /// The keys of `by_name` by first character, for spelling suggestions.
    by_initial: HashMap<char, Vec<String>>,
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
    places: OnceLock<Places>,
}

static EMBEDDED: OnceLock<Gazetteer> = OnceLock::new();

const DISTRICTS_CSV: &[u8] = include_bytes!("../../../data/postcodes/postcode_districts.csv");
pub(crate) const SECTORS_CSV: &[u8] =
    include_bytes!("../../../data/postcodes/postcode_sectors.csv");
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
        let outward = match &query {
            PostcodeQuery::Full { outward, .. }
            | PostcodeQuery::Sector { outward, .. }
            | PostcodeQuery::District { outward } => outward,
        };
        if let Some(area) = Area::of_outward(outward) {
            return Err(PostcodeError::NotCovered { normalised, area });
        }
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

    fn places(&self) -> &Places {
        self.places.get_or_init(|| {
            let mut text = Vec::new();
            // The shipped file is checked by a test; a failure here yields an empty gazetteer.
            let _ = flate2::read::GzDecoder::new(self.places_gz).read_to_end(&mut text);
            let mut all = Vec::new();
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
                let name = record.get(0).unwrap_or_default().to_string();
                all.push(Place {
                    folded: fold(&name),
                    name,
                    local_authority: record.get(1).unwrap_or_default().trim().to_string(),
                    kind: PlaceKind::from_code(record.get(2).unwrap_or_default()),
                    latitude: lat,
                    longitude: lon,
                });
            }
            let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
            let mut larger = Vec::new();
            for (i, p) in all.iter().enumerate() {
                by_name.entry(p.folded.clone()).or_default().push(i);
                if p.kind <= PlaceKind::Town {
                    larger.push(i);
                    // OS Open Names names some Welsh towns and cities in Welsh only; their
                    // authority is "Welsh - English" ("Wrecsam - Wrexham").
                    if let Some((welsh, english)) = p.local_authority.split_once(" - ") {
                        let english = fold(english);
                        if fold(welsh) == p.folded && english != p.folded {
                            by_name.entry(english).or_default().push(i);
                        }
                    }
                }
            }
            let mut by_initial: HashMap<char, Vec<String>> = HashMap::new();
            for name in by_name.keys() {
                if let Some(c) = name.chars().next() {
                    by_initial.entry(c).or_default().push(name.clone());
                }
            }
            Places {
                all,
                by_name,
                larger,
                by_initial,
            }
        })
    }

    /// Turn what a person typed into a place: a postcode, sector or district, or a place name
    /// ("Bedminster", "St Ives, Cornwall", "Leeds, city").
    ///
    /// A place name is found, never guessed:
    /// - one place of that name, or a city of that name whose namesakes are all smaller than
    ///   towns ("Leeds", not the village in Kent), is [`Lookup::Found`];
    /// - several are [`Lookup::Choose`], cities first, then towns, suburbs, villages and
    ///   hamlets, larger places (more postcode sectors near them) first within a kind. A city or
    ///   town whose name holds the typed words ("Newcastle upon Tyne" for "Newcastle", "Kingston
    ///   upon Hull" for "Hull") is a candidate too, when larger than any place called exactly
    ///   that;
    /// - a name after a comma picks by local authority or kind;
    /// - nothing of that name: places spelt within a few letters of it, [`Lookup::DidYouMean`].
    pub fn lookup(&self, input: &str) -> Lookup {
        if parse(input).is_ok() {
            return match self.resolve(input) {
                Ok(found) => Lookup::Found(found),
                Err(e @ PostcodeError::NotCovered { .. }) => Lookup::NotCovered(e),
                Err(e) => Lookup::Unknown(e),
            };
        }
        let places = self.places();
        let (name, qualifier) = match input.split_once(',') {
            Some((n, q)) => (fold(n), Some(fold(q))),
            None => (fold(input), None),
        };
        let unknown = || {
            Lookup::Unknown(PostcodeError::Unknown {
                normalised: input.trim().to_string(),
            })
        };
        if name.is_empty() {
            return unknown();
        }
        let mut candidates = self.named(&name);
        if candidates.is_empty() {
            let near = self.spelt_like(&name);
            return if near.is_empty() {
                unknown()
            } else {
                Lookup::DidYouMean(near)
            };
        }
        if let Some(q) = &qualifier {
            let picked: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| {
                    let p = &places.all[i];
                    fold(&p.local_authority) == *q || p.kind.as_str() == q
                })
                .collect();
            if picked.is_empty() {
                // A qualifier that fits none of them is not ignored: offer them all.
                return Lookup::Choose(self.ranked(candidates));
            }
            candidates = picked;
        }
        let ranked = self.ranked(candidates);
        let exact_city = |c: &PlaceChoice| c.kind == PlaceKind::City && fold(&c.name) == name;
        let others_small = ranked[1..].iter().all(|c| c.kind > PlaceKind::Town);
        if ranked.len() == 1 || (exact_city(&ranked[0]) && others_small) {
            let p = &ranked[0];
            return Lookup::Found(Resolved {
                label: match &p.local_authority {
                    Some(la) => format!("{} ({})", p.name, la),
                    None => p.name.clone(),
                },
                latitude: p.latitude,
                longitude: p.longitude,
            });
        }
        Lookup::Choose(ranked)
    }

    /// The places a folded name may mean: those called exactly that, and cities and towns
    /// larger than any of them whose names hold it as whole words ("Newcastle upon Tyne" for
    /// "Newcastle", "Kingston upon Hull" for "Hull").
    fn named(&self, name: &str) -> Vec<usize> {
        let places = self.places();
        let mut found: Vec<usize> = places.by_name.get(name).cloned().unwrap_or_default();
        let largest_exact = found
            .iter()
            .map(|&i| places.all[i].kind)
            .min()
            .unwrap_or(PlaceKind::Other);
        if largest_exact > PlaceKind::City {
            found.extend(places.larger.iter().copied().filter(|&i| {
                let p = &places.all[i];
                p.kind < largest_exact && p.folded != name && has_words(&p.folded, name)
            }));
        }
        found
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
            .all
            .iter()
            .filter(|p| p.kind <= PlaceKind::Suburb)
            .filter(|p| {
                (south..=north).contains(&p.latitude) && (west..=east).contains(&p.longitude)
            })
            .collect();
        // Among places of one kind, those nearer the middle of the box first.
        let (mid_lat, mid_lon) = ((south + north) / 2.0, (west + east) / 2.0);
        let off =
            |p: &Place| (p.latitude - mid_lat).powi(2) + ((p.longitude - mid_lon) * 0.62).powi(2);
        found.sort_by(|a, b| {
            a.kind
                .cmp(&b.kind)
                .then_with(|| off(a).total_cmp(&off(b)))
                .then_with(|| a.name.cmp(&b.name))
        });
        found.truncate(most);
        found
            .into_iter()
            .map(|p| MapLabel {
                name: p.name.clone(),
                kind: p.kind.as_str(),
                latitude: p.latitude,
                longitude: p.longitude,
            })
            .collect()
    }

    /// Places in the order to offer them: kind, then size, then name.
    fn ranked(&self, indexes: Vec<usize>) -> Vec<PlaceChoice> {
        let places = self.places();
        let mut scored: Vec<(PlaceKind, std::cmp::Reverse<usize>, &Place)> = indexes
            .into_iter()
            .map(|i| {
                let p = &places.all[i];
                (p.kind, std::cmp::Reverse(self.size(p)), p)
            })
            .collect();
        scored.sort_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| a.2.name.cmp(&b.2.name))
                .then_with(|| a.2.local_authority.cmp(&b.2.local_authority))
        });
        scored
            .into_iter()
            .map(|(_, _, p)| {
                let mut c = choice(p);
                // Its name alone, where that finds exactly this place.
                if matches!(self.named(&p.folded)[..], [only] if std::ptr::eq(&places.all[only], p))
                {
                    c.query = p.name.clone();
                }
                c
            })
            .collect()
    }

    /// A stand-in for population: how many postcode sectors have their centre within 4 km.
    fn size(&self, p: &Place) -> usize {
        // 4 km in degrees of latitude, and of longitude at this latitude.
        let dlat = 4.0 / 111.2;
        let dlon = dlat / p.latitude.to_radians().cos().max(0.1);
        self.sectors
            .located()
            .filter(|(_, (lat, lon))| {
                let y = (lat - p.latitude) / dlat;
                let x = (lon - p.longitude) / dlon;
                x * x + y * y <= 1.0
            })
            .count()
    }

    /// Places whose names are within a few edits of `name` (optimal string alignment distance
    /// on the folded names): 1 for names up to 4 letters, 2 up to 8, else 3. Only names with the
    /// same first letter and a length within the allowance are measured, so this looks at a
    /// few thousand names, not all of them.
    fn spelt_like(&self, name: &str) -> Vec<PlaceChoice> {
        const MOST: usize = 6;
        let places = self.places();
        let length = name.chars().count();
        let allowed = match length {
            0..=2 => return Vec::new(),
            3..=4 => 1,
            5..=8 => 2,
            _ => 3,
        };
        let Some(first) = name.chars().next() else {
            return Vec::new();
        };
        let mut near: Vec<(usize, &String)> = places
            .by_initial
            .get(&first)
            .into_iter()
            .flatten()
            .filter_map(|folded| {
                if folded.chars().count().abs_diff(length) > allowed {
                    return None;
                }
                let d = strsim::osa_distance(name, folded);
                (d <= allowed).then_some((d, folded))
            })
            .collect();
        near.sort();
        let Some(&(best, _)) = near.first() else {
            return Vec::new();
        };
        // The closest spellings only, each with every place of that name.
        let mut indexes = Vec::new();
        for (_, folded) in near.into_iter().take_while(|(d, _)| *d == best) {
            indexes.extend(places.by_name[folded].iter().copied());
        }
        let mut ranked = self.ranked(indexes);
        ranked.truncate(MOST);
        ranked
    }
}

/// Whether `words` occurs in `name` as whole words: bounded by the ends, spaces or hyphens.
fn has_words(name: &str, words: &str) -> bool {
    let edge = |c: Option<char>| matches!(c, None | Some(' ' | '-'));
    name.match_indices(words).any(|(at, _)| {
        edge(name[..at].chars().next_back()) && edge(name[at + words.len()..].chars().next())
    })
}

fn choice(p: &Place) -> PlaceChoice {
    let local_authority = (!p.local_authority.is_empty()).then(|| p.local_authority.clone());
    PlaceChoice {
        query: match &local_authority {
            Some(la) => format!("{}, {}", p.name, la),
            None => format!("{}, {}", p.name, p.kind),
        },
        name: p.name.clone(),
        kind: p.kind,
        local_authority,
        latitude: p.latitude,
        longitude: p.longitude,
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
        // Guernsey postcodes exist in ONSPD but have no location: not covered.
        assert!(matches!(
            g.resolve("GY1 1AA"),
            Err(PostcodeError::NotCovered {
                area: Area::Guernsey,
                ..
            })
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

    fn found(l: Lookup) -> Resolved {
        match l {
            Lookup::Found(r) => r,
            other => panic!("expected one place, got {other:?}"),
        }
    }

    fn choices(l: Lookup) -> Vec<PlaceChoice> {
        match l {
            Lookup::Choose(c) => c,
            other => panic!("expected a choice, got {other:?}"),
        }
    }

    #[test]
    fn resolves_towns() {
        let g = Gazetteer::embedded();
        let p = found(g.lookup("bedminster"));
        assert_eq!(p.label, "Bedminster (City of Bristol)");
        let n = found(g.lookup("Newport, Telford and Wrekin"));
        assert!((n.latitude - 52.7688).abs() < 1e-3);
        assert!(choices(g.lookup("Newport")).len() > 3);
        assert!(matches!(
            g.lookup("Nowhereville-on-Sea"),
            Lookup::Unknown(PostcodeError::Unknown { .. })
        ));
    }

    #[test]
    fn newcastle_is_a_choice_led_by_the_city_and_the_town() {
        let g = Gazetteer::embedded();
        let c = choices(g.lookup("Newcastle"));
        let names: Vec<&str> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names[..2], ["Newcastle upon Tyne", "Newcastle-under-Lyme"]);
        assert_eq!(c[0].label(), "Newcastle upon Tyne (city)");
        assert_eq!(c[0].query, "Newcastle upon Tyne");
        // The places called exactly "Newcastle" are offered too, after the larger places.
        let bridgend = c
            .iter()
            .find(|c| c.local_authority.as_deref() == Some("Pen-y-bont ar Ogwr - Bridgend"))
            .expect("Bridgend's Newcastle is offered");
        assert_eq!(bridgend.kind, PlaceKind::Suburb);
        assert!(c.windows(2).all(|w| w[0].kind <= w[1].kind), "{names:?}");
        // Each choice's query finds that place and no other.
        for choice in &c {
            let r = found(g.lookup(&choice.query));
            assert_eq!(
                (r.latitude, r.longitude),
                (choice.latitude, choice.longitude),
                "{}",
                choice.query
            );
        }
    }

    #[test]
    fn a_name_within_a_larger_places_name_finds_it() {
        let g = Gazetteer::embedded();
        assert_eq!(
            found(g.lookup("Hull")).label,
            "Kingston upon Hull (City of Kingston upon Hull)"
        );
        let c = choices(g.lookup("Southend"));
        assert_eq!(c[0].name, "Southend-on-Sea");
        assert!(c[1..].iter().all(|c| c.name == "Southend"));
        // Whole words only: Basingstoke is not a Stoke.
        assert!(choices(g.lookup("Stoke"))
            .iter()
            .all(|c| c.name != "Basingstoke"));
        assert!(has_words("kingston upon hull", "hull") && !has_words("solihull", "hull"));
        assert!(has_words("stoke-on-trent", "stoke") && !has_words("basingstoke", "stoke"));
    }

    #[test]
    fn welsh_towns_named_in_welsh_are_found_by_their_english_names() {
        let g = Gazetteer::embedded();
        let r = found(g.lookup("Wrexham"));
        assert_eq!(r.label, "Wrecsam (Wrecsam - Wrexham)");
        let c = choices(g.lookup("Newport"));
        assert_eq!(c[0].label(), "Casnewydd (city, Casnewydd - Newport)");
        assert_eq!(c[0].query, "Casnewydd");
        assert!(found(g.lookup("Merthyr Tydfil"))
            .label
            .starts_with("Merthyr Tudful"));
        let Lookup::DidYouMean(c) = g.lookup("Wrexam") else {
            panic!("expected a suggestion")
        };
        assert_eq!(c[0].name, "Wrecsam");
    }

    #[test]
    fn a_qualified_name_resolves() {
        let g = Gazetteer::embedded();
        let r = found(g.lookup("Newcastle upon Tyne"));
        assert_eq!(r.label, "Newcastle upon Tyne");
        assert!((r.latitude - 54.978).abs() < 1e-3);
        let r = found(g.lookup("newcastle-under-lyme"));
        assert!((r.latitude - 53.0112).abs() < 1e-3);
        let r = found(g.lookup("St Ives, Cornwall"));
        assert_eq!(r.label, "St Ives (Cornwall)");
        // A qualifier that fits none of the places does not pick one.
        assert_eq!(choices(g.lookup("St Ives, Kent")).len(), 3);
    }

    #[test]
    fn st_ives_offers_cornwall_and_huntingdonshire() {
        let g = Gazetteer::embedded();
        let c = choices(g.lookup("St Ives"));
        let las: Vec<_> = c.iter().map(|c| c.local_authority.as_deref()).collect();
        assert_eq!(c.len(), 3, "{las:?}");
        assert!(c[..2].iter().all(|c| c.kind == PlaceKind::Town));
        assert!(
            las[..2].contains(&Some("Cornwall")) && las[..2].contains(&Some("Huntingdonshire"))
        );
        assert_eq!(las[2], Some("Dorset"));
        assert_eq!(c[2].label(), "St Ives (village, Dorset)");
    }

    #[test]
    fn a_city_is_not_a_choice_with_its_small_namesakes() {
        let g = Gazetteer::embedded();
        // Leeds is also a village in Kent, which "Leeds, Maidstone" finds.
        assert!((found(g.lookup("Leeds")).latitude - 53.8007).abs() < 1e-3);
        assert!((found(g.lookup("Leeds, Maidstone")).latitude - 51.2467).abs() < 1e-3);
        assert_eq!(found(g.lookup("Manchester")).label, "Manchester");
    }

    #[test]
    fn a_misspelling_gets_did_you_mean() {
        let g = Gazetteer::embedded();
        let Lookup::DidYouMean(c) = g.lookup("Manchestr") else {
            panic!("expected a suggestion")
        };
        assert_eq!(c[0].name, "Manchester");
        assert_eq!(c[0].kind, PlaceKind::City);
        let Lookup::DidYouMean(c) = g.lookup("Birmingam") else {
            panic!("expected a suggestion")
        };
        assert_eq!(c[0].name, "Birmingham");
        assert!(matches!(g.lookup("Xqzzyvv"), Lookup::Unknown(_)));
    }

    #[test]
    fn northern_ireland_and_the_crown_dependencies_are_not_covered() {
        let g = Gazetteer::embedded();
        let Lookup::NotCovered(e) = g.lookup("BT1 1AA") else {
            panic!("expected not covered")
        };
        assert_eq!(
            e.to_string(),
            "Signpost covers postcodes in England, Wales and Scotland; BT1 1AA is in Northern Ireland, which it does not cover"
        );
        // Sectors and districts too, though the tables hold Northern Ireland's.
        for (input, area) in [
            ("bt1", Area::NorthernIreland),
            ("BT1 1", Area::NorthernIreland),
            ("GY1 1AA", Area::Guernsey),
            ("JE2 3AB", Area::Jersey),
            ("IM1 1AA", Area::IsleOfMan),
        ] {
            assert!(
                matches!(g.lookup(input), Lookup::NotCovered(PostcodeError::NotCovered { area: a, .. }) if a == area),
                "{input}"
            );
        }
        assert!(matches!(
            g.lookup("ZZ99 9ZZ"),
            Lookup::Unknown(PostcodeError::Unknown { .. })
        ));
        assert_eq!(found(g.lookup("SW1A 1AA")).label, "SW1A 1AA");
    }
}
