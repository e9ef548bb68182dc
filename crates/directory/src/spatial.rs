//! The in-memory spatial index behind near-me search.
//!
//! Points are stored as unit vectors on the sphere (x, y, z). The straight-line (chord)
//! distance between two unit vectors is a strictly increasing function of the great-circle
//! angle between them, so rstar's best-first nearest-neighbour iterator over 3-D points yields
//! locations in exact great-circle (haversine) order — with no bounding-box approximation, no
//! trouble at the antimeridian, and no "widen the box and retry" loop.
//!
//! Besides the tree over every indexed location, a smaller tree per filter facet ("no referral
//! needed", each domain, each interest, each language, free, wheelchair) is built the first
//! time a query uses it. A query walks the tree of its most selective facet, so a filter that
//! matches 1% of listings costs about as much as an unfiltered query, not a scan.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rstar::primitives::GeomWithData;
use rstar::RTree;

/// Mean Earth radius in metres (IUGG), the radius `geo`'s haversine uses.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A point in the tree: unit vector plus the index of its [`IndexedPoint`].
pub type TreePoint = GeomWithData<[f64; 3], u32>;

/// Wider nodes than rstar's default (6): a shallower tree, so best-first search pushes fewer
/// nodes through its heap and bulk loading builds fewer nodes. Chosen by measurement
/// (BENCHMARKS.md).
pub struct WideNodes;

impl rstar::RTreeParams for WideNodes {
    const MIN_SIZE: usize = NODE_MIN;
    const MAX_SIZE: usize = NODE_MAX;
    const REINSERTION_COUNT: usize = 2;
    type DefaultInsertionStrategy = rstar::RStarInsertionStrategy;
}

const NODE_MAX: usize = 16;
const NODE_MIN: usize = 6;

/// The tree type used throughout.
pub type PointTree = RTree<TreePoint, WideNodes>;

/// Convert latitude/longitude (degrees) to a unit vector.
pub fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    [
        phi.cos() * lambda.cos(),
        phi.cos() * lambda.sin(),
        phi.sin(),
    ]
}

/// Squared chord length on the unit sphere to great-circle metres.
pub fn chord2_to_metres(d2: f64) -> f64 {
    let chord = d2.max(0.0).sqrt();
    2.0 * (chord / 2.0).min(1.0).asin() * EARTH_RADIUS_M
}

/// Great-circle metres to squared chord length (the inverse of [`chord2_to_metres`]).
pub fn metres_to_chord2(m: f64) -> f64 {
    let angle = (m / EARTH_RADIUS_M).min(std::f64::consts::PI);
    let chord = 2.0 * (angle / 2.0).sin();
    chord * chord
}

/// Grid cells as words, so the text index can answer "these words, near here" in one query.
///
/// Every located listing carries the names of the cells its locations fall in, at two sizes
/// (0.1° and 1°). A text search near a point adds "and in one of these cells" for the cells
/// covering its search circle, so FTS5 returns only nearby matches instead of every match in
/// the country. The cover is a superset of the circle, so the final distance check keeps the
/// answer exact.
pub mod cells {
    const FINE: f64 = 0.1;
    const COARSE: f64 = 1.0;
    /// Beyond this many cells a cover is not worth sending to FTS5.
    const MAX_CELLS: usize = 40;

    fn index(value: f64, offset: f64, size: f64) -> i64 {
        ((value + offset) / size).floor() as i64
    }

    /// The cell words for one point: `f<lat>x<lon>` (0.1°) and `c<lat>x<lon>` (1°).
    pub fn words(lat: f64, lon: f64) -> [String; 2] {
        [
            format!("f{}x{}", index(lat, 90.0, FINE), index(lon, 180.0, FINE)),
            format!(
                "c{}x{}",
                index(lat, 90.0, COARSE),
                index(lon, 180.0, COARSE)
            ),
        ]
    }

    /// Cell words whose cells together cover the circle of `radius_m` around a point, at the
    /// finest size that needs at most `MAX_CELLS`; `None` when no small cover exists (a huge
    /// radius, or a circle that reaches a pole or the antimeridian).
    pub fn cover(lat: f64, lon: f64, radius_m: f64) -> Option<Vec<String>> {
        let delta = (radius_m / super::EARTH_RADIUS_M).to_degrees();
        let top = lat.abs() + delta;
        if top >= 89.0 {
            return None;
        }
        // Longitude half-width of the circle, bounded using its most poleward latitude.
        let dlon = (delta.to_radians().sin() / top.to_radians().cos())
            .min(1.0)
            .asin()
            .to_degrees();
        if lon - dlon < -180.0 || lon + dlon >= 180.0 {
            return None;
        }
        for (size, prefix) in [(FINE, 'f'), (COARSE, 'c')] {
            let (la0, la1) = (
                index(lat - delta, 90.0, size),
                index(lat + delta, 90.0, size),
            );
            let (lo0, lo1) = (
                index(lon - dlon, 180.0, size),
                index(lon + dlon, 180.0, size),
            );
            if ((la1 - la0 + 1) * (lo1 - lo0 + 1)) as usize <= MAX_CELLS {
                return Some(
                    (la0..=la1)
                        .flat_map(|a| (lo0..=lo1).map(move |o| format!("{prefix}{a}x{o}")))
                        .collect(),
                );
            }
        }
        None
    }
}

/// Which subset of points a facet tree holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Facet {
    /// Drop-in or self-referral.
    NoReferral,
    /// Domain by taxonomy index.
    Domain(u8),
    /// Interest by taxonomy index.
    Interest(u8),
    /// Free.
    Free,
    /// Wheelchair accessible.
    Wheelchair,
    /// Language by interned id.
    Language(u32),
}

/// One indexed (service, location) pair.
#[derive(Debug, Clone, Copy)]
pub struct IndexedPoint {
    /// Index of the service in the search index's service table.
    pub service: u32,
    /// `service_at_location.rowid`.
    pub sal_rowid: i64,
    /// `location.rowid`.
    pub location_rowid: i64,
    /// Degrees.
    pub latitude: f64,
    /// Degrees.
    pub longitude: f64,
}

/// Points plus their trees.
pub struct SpatialIndex {
    /// All indexed points; tree entries refer to these by position.
    pub points: Vec<IndexedPoint>,
    all: PointTree,
    facets: RwLock<HashMap<Facet, Arc<PointTree>>>,
}

impl SpatialIndex {
    /// Build the main tree now. Facet trees are built on first use, so opening a database
    /// costs one tree, not dozens.
    pub fn build(points: Vec<IndexedPoint>) -> SpatialIndex {
        let entries: Vec<TreePoint> = points
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new(unit_vector(p.latitude, p.longitude), i as u32))
            .collect();
        SpatialIndex {
            all: RTree::bulk_load_with_params(entries),
            facets: RwLock::new(HashMap::new()),
            points,
        }
    }

    /// The tree over every point.
    pub fn all(&self) -> &PointTree {
        &self.all
    }

    /// The tree over the points for which `member` is true, built on first use of `facet`.
    pub fn facet_tree(
        &self,
        facet: Facet,
        member: impl Fn(&IndexedPoint) -> bool,
    ) -> Arc<PointTree> {
        if let Some(tree) = self.facets.read().expect("not poisoned").get(&facet) {
            return tree.clone();
        }
        let entries: Vec<TreePoint> = self
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| member(p))
            .map(|(i, p)| GeomWithData::new(unit_vector(p.latitude, p.longitude), i as u32))
            .collect();
        let tree = Arc::new(RTree::bulk_load_with_params(entries));
        self.facets
            .write()
            .expect("not poisoned")
            .entry(facet)
            .or_insert(tree)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Haversine, Point};

    #[test]
    fn cell_cover_contains_every_point_of_the_circle() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..2000 {
            let (lat, lon) = (rng.random_range(49.0..61.0), rng.random_range(-8.0..2.0));
            let radius = rng.random_range(100.0..60_000.0);
            let Some(cover) = cells::cover(lat, lon, radius) else {
                continue;
            };
            // A point on the circle's edge in a random direction.
            let bearing: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let d = radius / EARTH_RADIUS_M * 0.999;
            let (p1, l1) = (lat.to_radians(), lon.to_radians());
            let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * bearing.cos()).asin();
            let l2 = l1 + (bearing.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
            let words = cells::words(p2.to_degrees(), l2.to_degrees());
            assert!(
                words.iter().any(|w| cover.contains(w)),
                "{lat},{lon} r={radius}"
            );
        }
        assert!(cells::cover(51.0, 0.0, 1e7).is_none());
        assert!(cells::cover(89.5, 0.0, 1000.0).is_none());
    }

    #[test]
    fn chord_distance_matches_haversine() {
        let pairs = [
            ((51.44, -2.60), (51.45, -2.59)),
            ((51.5, -0.1), (55.95, -3.19)),
            ((0.0, 179.9), (0.0, -179.9)),
        ];
        for ((a_lat, a_lon), (b_lat, b_lon)) in pairs {
            let a = unit_vector(a_lat, a_lon);
            let b = unit_vector(b_lat, b_lon);
            let d2: f64 = (0..3).map(|i| (a[i] - b[i]).powi(2)).sum();
            let h = Haversine.distance(Point::new(a_lon, a_lat), Point::new(b_lon, b_lat));
            assert!(
                (chord2_to_metres(d2) - h).abs() < 1e-3,
                "{} vs {h}",
                chord2_to_metres(d2)
            );
            assert!((metres_to_chord2(h) - d2).abs() < 1e-12);
        }
    }
}
