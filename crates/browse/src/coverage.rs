//! Where assets are lacking (CMHF §4.6: "some communities are not asset rich"): for every
//! postcode sector in an area, how far it is to the nearest listing in each CMHF domain that
//! needs no referral, and which sectors have none within a given distance.
//!
//! Sectors are ONSPD's (compiled in, [`signpost_postcodes::embedded_sectors`]); the number of
//! postcodes in each is the density proxy, since Signpost carries no population figures. "No
//! referral" is the app's filter of that name ([`Filters::no_referral`]), and each distance is
//! exact: the nearest such listing anywhere, found by the directory's index
//! ([`Directory::nearest_each`]), not a search within a radius.
use serde::{Deserialize, Serialize};
use signpost_directory::spatial::{chord2_to_metres, unit_vector};
use signpost_directory::taxonomy::Taxonomy;
use signpost_directory::{Directory, Filters};
use signpost_postcodes::{Gazetteer, Sector};

use crate::error::{Error, Result};
use crate::search::{locate, PlaceQuestion, SearchRequest};

/// Which sectors to cover.
#[derive(Debug, Clone, PartialEq)]
pub enum Area {
    /// Every sector whose centroid is within `radius_km` of a point.
    Around {
        /// WGS84 latitude.
        latitude: f64,
        /// WGS84 longitude.
        longitude: f64,
        /// Kilometres, great-circle.
        radius_km: f64,
    },
    /// Every sector whose postcodes are mostly in this local authority district (its ONS
    /// code, `E08000010`).
    LocalAuthority(String),
    /// Every sector whose postcodes are mostly in England (about 10,000).
    England,
}

/// One CMHF domain, a column of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    /// The taxonomy code: `personal-interests`.
    pub code: String,
    /// What a person reads: "Personal interests".
    pub label: String,
}

/// One sector's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectorRow {
    /// "M1 1".
    pub sector: String,
    /// Centroid latitude.
    pub latitude: f64,
    /// Centroid longitude.
    pub longitude: f64,
    /// Postcodes in the sector: the density proxy.
    pub postcodes: u32,
    /// The ONS code of its local authority district, when known.
    pub local_authority: Option<String>,
    /// Per domain, in [`Coverage::domains`] order: km from the centroid to the nearest
    /// no-referral listing in that domain, or `None` when the directory has none.
    pub nearest_km: Vec<Option<f64>>,
}

impl SectorRow {
    /// The codes of the domains with no no-referral listing within `km` (none at all counts).
    pub fn lacking<'a>(&self, domains: &'a [Domain], km: f64) -> Vec<&'a str> {
        domains
            .iter()
            .zip(&self.nearest_km)
            .filter(|(_, d)| d.is_none_or(|d| d > km))
            .map(|(dom, _)| dom.code.as_str())
            .collect()
    }
}

/// The answer for an area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// The CMHF domains, in the taxonomy's order.
    pub domains: Vec<Domain>,
    /// One row per sector, in the sector table's order.
    pub rows: Vec<SectorRow>,
}

/// The CMHF domains, in the taxonomy's order.
pub fn domains() -> Vec<Domain> {
    Taxonomy::signpost()
        .group("domain")
        .map(|g| {
            g.terms
                .iter()
                .map(|t| Domain {
                    code: t.code.clone(),
                    label: t.name.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The sectors of `sectors` in the area, in their order.
pub fn sectors_in<'a>(sectors: &'a [Sector], area: &Area) -> Result<Vec<&'a Sector>> {
    Ok(match area {
        Area::Around {
            latitude,
            longitude,
            radius_km,
        } => {
            check_point(*latitude, *longitude)?;
            if !(radius_km.is_finite() && *radius_km > 0.0) {
                return Err(Error::Request(
                    "The radius must be a positive number of kilometres.".into(),
                ));
            }
            let centre = unit_vector(*latitude, *longitude);
            let metres = radius_km * 1000.0;
            sectors
                .iter()
                .filter(|s| {
                    let v = unit_vector(s.latitude, s.longitude);
                    let d2: f64 = (0..3).map(|i| (v[i] - centre[i]).powi(2)).sum();
                    chord2_to_metres(d2) <= metres
                })
                .collect()
        }
        Area::LocalAuthority(code) => {
            let code = code.trim().to_ascii_uppercase();
            let found: Vec<&Sector> = sectors
                .iter()
                .filter(|s| s.local_authority.as_deref() == Some(code.as_str()))
                .collect();
            if found.is_empty() {
                return Err(Error::Request(format!(
                    "No postcode sector is in local authority {code:?} (give its ONS code, such as E08000010)."
                )));
            }
            found
        }
        Area::England => sectors.iter().filter(|s| s.in_england()).collect(),
    })
}

fn check_point(latitude: f64, longitude: f64) -> Result<()> {
    if !(latitude.is_finite() && latitude.abs() <= 90.0) {
        return Err(Error::Request(format!(
            "Latitude {latitude} is out of range (-90 to 90)."
        )));
    }
    if !(longitude.is_finite() && longitude.abs() <= 180.0) {
        return Err(Error::Request(format!(
            "Longitude {longitude} is out of range (-180 to 180)."
        )));
    }
    Ok(())
}

/// For every sector in the area, the distance to the nearest no-referral listing in each CMHF
/// domain: one exact nearest-neighbour walk per sector and domain on the directory's index.
pub fn coverage(dir: &Directory, sectors: &[Sector], area: &Area) -> Result<Coverage> {
    let chosen = sectors_in(sectors, area)?;
    let domains = domains();
    let origins: Vec<(f64, f64)> = chosen.iter().map(|s| (s.latitude, s.longitude)).collect();
    let mut rows: Vec<SectorRow> = chosen
        .iter()
        .map(|s| SectorRow {
            sector: s.code.clone(),
            latitude: s.latitude,
            longitude: s.longitude,
            postcodes: s.postcodes,
            local_authority: s.local_authority.clone(),
            nearest_km: Vec::with_capacity(domains.len()),
        })
        .collect();
    for d in &domains {
        let filters = Filters {
            no_referral: true,
            domains: vec![d.code.clone()],
            ..Filters::default()
        };
        let nearest = dir.nearest_each(&filters, &origins)?;
        for (row, hit) in rows.iter_mut().zip(nearest) {
            row.nearest_km.push(hit.map(|h| h.distance_m / 1000.0));
        }
    }
    Ok(Coverage { domains, rows })
}

/// The CSV header: `sector,latitude,longitude,postcodes`, then `<domain code>_km` per domain.
pub fn csv_header(domains: &[Domain]) -> String {
    let mut head = "sector,latitude,longitude,postcodes".to_string();
    for d in domains {
        head.push(',');
        head.push_str(&d.code);
        head.push_str("_km");
    }
    head
}

impl Coverage {
    /// The table as CSV (see [`csv_header`]): distances in km to 0.01 km, empty where the
    /// directory has no such listing. Every cell is a sector code or a number, so nothing
    /// needs quoting and nothing can be read as a spreadsheet formula.
    pub fn to_csv(&self) -> String {
        let mut out = csv_header(&self.domains);
        out.push('\n');
        for r in &self.rows {
            out.push_str(&format!(
                "{},{:.6},{:.6},{}",
                r.sector, r.latitude, r.longitude, r.postcodes
            ));
            for d in &r.nearest_km {
                out.push(',');
                if let Some(km) = d {
                    out.push_str(&format!("{km:.2}"));
                }
            }
            out.push('\n');
        }
        out
    }

    /// The rows lacking at least one domain within `km` (none at all counts), each with the
    /// codes of the domains it lacks: most lacking first, then most postcodes (the larger
    /// population, by the proxy), then by sector.
    pub fn gaps(&self, km: f64) -> Vec<(&SectorRow, Vec<&str>)> {
        let mut out: Vec<(&SectorRow, Vec<&str>)> = self
            .rows
            .iter()
            .map(|r| (r, r.lacking(&self.domains, km)))
            .filter(|(_, lacking)| !lacking.is_empty())
            .collect();
        out.sort_by(|a, b| {
            b.1.len()
                .cmp(&a.1.len())
                .then_with(|| b.0.postcodes.cmp(&a.0.postcodes))
                .then_with(|| a.0.sector.cmp(&b.0.sector))
        });
        out
    }
}

/// Coverage as the app's screen asks for it. Empty strings mean "not set".
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct CoverageRequest {
    /// A postcode, sector, district or place name.
    pub place: Option<String>,
    /// Sectors whose centroid is within this many km; 10 when not given.
    pub radius_km: Option<f64>,
    /// A sector "lacks" a domain with nothing within this many km; 5 when not given.
    pub gap_km: Option<f64>,
}

/// The most a radius may be on screen: the table and the map stay readable.
pub const MOST_RADIUS_KM: f64 = 100.0;

/// One row as the screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageRow {
    /// The sector, its centroid, postcodes and distances.
    #[serde(flatten)]
    pub row: SectorRow,
    /// The domain codes with nothing within the gap distance.
    pub lacking: Vec<String>,
}

/// The screen's answer: the place, and every sector's row, gaps first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageView {
    /// Where from.
    pub origin: crate::search::Origin,
    /// The radius used, km.
    pub radius_km: f64,
    /// The gap distance used, km.
    pub gap_km: f64,
    /// The CMHF domains, the table's columns.
    pub domains: Vec<Domain>,
    /// Most lacking first, then most postcodes, then by sector.
    pub rows: Vec<CoverageRow>,
    /// How many rows lack at least one domain.
    pub gaps: usize,
}

/// What a coverage request answers: the table, or which place was meant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CoverageAnswer {
    /// The place was found.
    Results(CoverageView),
    /// The place typed could be several, or none spelt like that.
    ChoosePlace(PlaceQuestion),
}

impl CoverageRequest {
    fn radius(&self) -> Result<f64> {
        let r = self.radius_km.unwrap_or(10.0);
        if !(r.is_finite() && r > 0.0 && r <= MOST_RADIUS_KM) {
            return Err(Error::Request(format!(
                "Choose a distance between 1 and {MOST_RADIUS_KM:.0} km."
            )));
        }
        Ok(r)
    }

    fn gap(&self) -> Result<f64> {
        let g = self.gap_km.unwrap_or(5.0);
        if !(g.is_finite() && g > 0.0) {
            return Err(Error::Request(
                "The gap distance must be a positive number of kilometres.".into(),
            ));
        }
        Ok(g)
    }

    /// Where, how far, and the gap distance, checked.
    fn area(&self, gazetteer: &Gazetteer) -> Result<(crate::search::Origin, Area, f64)> {
        let (radius_km, gap_km) = (self.radius()?, self.gap()?);
        if self.place.as_deref().is_none_or(|p| p.trim().is_empty()) {
            return Err(Error::Place(
                "Enter a postcode or town to see coverage around it.".into(),
            ));
        }
        let origin = locate(
            gazetteer,
            &SearchRequest {
                place: self.place.clone(),
                ..SearchRequest::default()
            },
        )?;
        let area = Area::Around {
            latitude: origin.latitude,
            longitude: origin.longitude,
            radius_km,
        };
        Ok((origin, area, gap_km))
    }

    /// The coverage table for the screen.
    pub fn view(&self, dir: &Directory, gazetteer: &Gazetteer) -> Result<CoverageView> {
        let (origin, area, gap_km) = self.area(gazetteer)?;
        let Area::Around { radius_km, .. } = area else {
            unreachable!("the screen asks around a place")
        };
        let c = coverage(dir, signpost_postcodes::embedded_sectors(), &area)?;
        let order: Vec<&str> = c
            .gaps(gap_km)
            .iter()
            .map(|(r, _)| r.sector.as_str())
            .collect();
        let gaps = order.len();
        let rank = |s: &str| order.iter().position(|o| *o == s).unwrap_or(usize::MAX);
        let mut rows: Vec<CoverageRow> = c
            .rows
            .iter()
            .map(|r| CoverageRow {
                lacking: r
                    .lacking(&c.domains, gap_km)
                    .into_iter()
                    .map(String::from)
                    .collect(),
                row: r.clone(),
            })
            .collect();
        // Gaps first, in `gaps` order; then the rest by sector.
        rows.sort_by(|a, b| {
            rank(&a.row.sector)
                .cmp(&rank(&b.row.sector))
                .then_with(|| a.row.sector.cmp(&b.row.sector))
        });
        Ok(CoverageView {
            origin,
            radius_km,
            gap_km,
            domains: c.domains,
            rows,
            gaps,
        })
    }

    /// The table as CSV (the columns of `signpost coverage --csv`), and a file name for it.
    pub fn csv(&self, dir: &Directory, gazetteer: &Gazetteer) -> Result<(String, String)> {
        let (origin, area, _) = self.area(gazetteer)?;
        let c = coverage(dir, signpost_postcodes::embedded_sectors(), &area)?;
        let slug: String = origin
            .label
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() {
                    ch.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .split('-')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let radius = self.radius()?;
        Ok((
            c.to_csv(),
            format!("signpost-coverage-{slug}-{radius}km.csv"),
        ))
    }
}

/// The app's coverage: results, or a question about the place.
pub fn answer(
    dir: &Directory,
    gazetteer: &Gazetteer,
    req: &CoverageRequest,
) -> Result<CoverageAnswer> {
    match req.view(dir, gazetteer) {
        Ok(v) => Ok(CoverageAnswer::Results(v)),
        Err(Error::ChoosePlace(q)) => Ok(CoverageAnswer::ChoosePlace(q)),
        Err(e) => Err(e),
    }
}
