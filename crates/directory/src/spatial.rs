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
    /// A place whose schedules may have it open on this local weekday (0 = Monday), counting
    /// a session that runs past midnight from the day before: what "open now" walks on a day
    /// the clocks change (built once the schedules are loaded).
    OnWeekday(u8),
    /// A place whose schedules may have it open in this local hour of the week (weekday × 24 +
    /// hour): what "open now" walks on other days. Built from its weekday's tree on first use.
    OpenInHour(u8),
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

    /// A tree over the given points (positions in `points`).
    pub fn tree_of(&self, points: impl Iterator<Item = u32>) -> PointTree {
        let entries: Vec<TreePoint> = points
            .map(|i| {
                let p = &self.points[i as usize];
                GeomWithData::new(unit_vector(p.latitude, p.longitude), i)
            })
            .collect();
        RTree::bulk_load_with_params(entries)
    }

    /// The tree over the points of `within` for which `member` is true, built on first use of
    /// `facet`: a narrower facet built from a wider one without reading every point.
    pub fn facet_tree_within(
        &self,
        facet: Facet,
        within: &PointTree,
        member: impl Fn(&IndexedPoint) -> bool,
    ) -> Arc<PointTree> {
        self.cached(facet, || {
            within
                .iter()
                .filter(|e| member(&self.points[e.data as usize]))
                .copied()
                .collect()
        })
    }

    /// The tree over the points for which `member` is true, built on first use of `facet`.
    pub fn facet_tree(
        &self,
        facet: Facet,
        member: impl Fn(&IndexedPoint) -> bool,
    ) -> Arc<PointTree> {
        self.cached(facet, || {
            self.points
                .iter()
                .enumerate()
                .filter(|(_, p)| member(p))
                .map(|(i, p)| GeomWithData::new(unit_vector(p.latitude, p.longitude), i as u32))
                .collect()
        })
    }

    /// `facet`'s tree: the one built before, or one built now from `entries`' points.
    fn cached(&self, facet: Facet, entries: impl FnOnce() -> Vec<TreePoint>) -> Arc<PointTree> {
        if let Some(tree) = self.facets.read().expect("not poisoned").get(&facet) {
            return tree.clone();
        }
        let tree = Arc::new(RTree::bulk_load_with_params(entries()));
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
