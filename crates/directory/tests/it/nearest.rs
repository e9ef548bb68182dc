//! `nearest_each` (coverage's walk) gives, from every origin, the distance the independent
//! reference gives to its nearest passing listing, however far, for random filters (time
//! filters included) on synthetic listings.
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use signpost_directory::NearQuery;

use crate::reference::Reference;
use crate::search::{filters, load};

#[test]
fn nearest_each_matches_the_reference_at_any_distance() {
    let (_t, db) = load(600, 31);
    let reference = Reference::load(db.connection());
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    runner
        .run(
            &(
                prop::collection::vec((50.0f64..58.5, -5.5f64..1.7), 1..40),
                filters(),
            ),
            |(origins, mut filters)| {
                // Real text needs a real stemmer, which the reference does not have.
                filters.text = None;
                let got = db.nearest_each(&filters, &origins).unwrap();
                prop_assert_eq!(got.len(), origins.len());
                for (&(lat, lon), hit) in origins.iter().zip(&got) {
                    let q = NearQuery {
                        radius_m: 3_000_000.0,
                        limit: 1,
                        filters: filters.clone(),
                        ..NearQuery::at(lat, lon)
                    };
                    let want = reference.near(&q, now).first().map(|h| h.distance_m);
                    match (hit.map(|h| h.distance_m), want) {
                        (None, None) => {}
                        (Some(g), Some(w)) => prop_assert!(
                            (g - w).abs() < 1e-3,
                            "from {lat},{lon}: {g} m, reference {w} m, {filters:?}"
                        ),
                        (g, w) => prop_assert!(
                            false,
                            "from {lat},{lon}: {g:?}, reference {w:?}, {filters:?}"
                        ),
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    // Out-of-range origins are refused, not answered.
    assert!(db
        .nearest_each(&Default::default(), &[(91.0, 0.0)])
        .is_err());
}
