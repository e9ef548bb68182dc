//! The nearest passing listing from each of many points, at any distance: "how far is the
//! nearest no-referral listing in this domain from each postcode sector" (coverage).
//!
//! One tree is built per call over the points whose service passes the filters (the same
//! [`Filters`] and the same per-service test as [`SearchIndex::search`]), so each origin costs
//! one best-first descent however rare the matches are: walking a facet tree and skipping what
//! fails the other filters could visit most of the country for a rare combination.
use rstar::primitives::GeomWithData;
use rstar::RTree;
use rusqlite::Connection;

use super::{Filters, Hit, NearQuery, SearchIndex};
use crate::error::Result;
use crate::spatial::{self, PointTree};

impl SearchIndex {
    /// For each origin (latitude, longitude), the nearest indexed point of a service that
    /// passes `filters`, however far, as a hit; `None` when nothing in the directory passes.
    /// At exactly equal distances which point is returned is not specified (the distance is).
    ///
    /// Time filters (`open_at`, `meets_in`) are applied per point as the walk meets it.
    pub fn nearest_each(
        &self,
        conn: &Connection,
        filters: &Filters,
        origins: &[(f64, f64)],
    ) -> Result<Vec<Option<Hit>>> {
        for &(latitude, longitude) in origins {
            NearQuery::at(latitude, longitude).check()?;
        }
        let q = NearQuery {
            filters: filters.clone(),
            ..NearQuery::at(0.0, 0.0)
        };
        let c = self.compile(conn, &q)?;
        if c.languages.as_ref().is_some_and(Vec::is_empty) {
            return Ok(vec![None; origins.len()]);
        }
        let entries: Vec<spatial::TreePoint> = self
            .spatial
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| self.service_passes(p.service, &c))
            .map(|(i, p)| {
                GeomWithData::new(spatial::unit_vector(p.latitude, p.longitude), i as u32)
            })
            .collect();
        if entries.is_empty() {
            return Ok(vec![None; origins.len()]);
        }
        let tree: PointTree = RTree::bulk_load_with_params(entries);
        let nearest = |&(latitude, longitude): &(f64, f64)| -> Option<Hit> {
            let origin = spatial::unit_vector(latitude, longitude);
            tree.nearest_neighbor_iter_with_distance_2(&origin)
                .find(|(entry, _)| self.point_passes(&self.spatial.points[entry.data as usize], &c))
                .map(|(entry, d2)| Hit {
                    service: self.spatial.points[entry.data as usize].service,
                    point: entry.data,
                    distance_m: spatial::chord2_to_metres(d2),
                })
        };
        // Origins are independent: split them across the cores for a large batch.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(origins.len() / 512)
            .max(1);
        if threads == 1 {
            return Ok(origins.iter().map(nearest).collect());
        }
        let chunk = origins.len().div_ceil(threads);
        Ok(std::thread::scope(|scope| {
            let handles: Vec<_> = origins
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(nearest).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a nearest-point walk does not panic"))
                .collect()
        }))
    }
}
