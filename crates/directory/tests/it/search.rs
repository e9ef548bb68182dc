//! Near-me search equals a brute-force haversine scan, for random points and filters.
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use signpost_directory::{Attendance, Directory, Filters, NearQuery};

use crate::{quiet, temp_directory};

const CENTRES: &[(f64, f64)] = &[
    (51.4386, -2.6034), // BS3, Bristol
    (53.4808, -2.2426), // Manchester
    (52.6309, 1.2974),  // Norwich
    (57.1497, -2.0943), // Aberdeen
    (51.5072, -0.1276), // London
];
const INTERESTS: &[&str] = &[
    "walking",
    "music",
    "arts",
    "food",
    "peer-support",
    "reading",
];
const DOMAINS: &[&str] = &[
    "health-and-social-care",
    "local-facilities",
    "personal-interests",
    "personal-relationships",
];
const ACCESS: &[&str] = &[
    "drop-in",
    "self-referral",
    "booking-required",
    "referral-required",
];
const WORDS: &[&str] = &[
    "choir", "garden", "cafe", "walk", "support", "library", "art", "football",
];
const DAYS: &[&str] = &["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// A synthetic directory placed like real data: clusters around cities, shared venues (exact
/// ties), services with several locations, missing taxonomy, schedules.
fn synthetic(n: usize, seed: u64) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut venues: Vec<(String, f64, f64)> = Vec::new();
    let mut out = Vec::new();
    for i in 0..n {
        let (clat, clon) = CENTRES[rng.random_range(0..CENTRES.len())];
        let spread = if rng.random_bool(0.7) { 0.05 } else { 0.4 };
        let mut sals = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let venue = if !venues.is_empty() && rng.random_bool(0.25) {
                venues[rng.random_range(0..venues.len())].clone()
            } else {
                let v = (
                    format!("v{}", venues.len()),
                    clat + rng.random_range(-spread..spread),
                    clon + rng.random_range(-spread..spread),
                );
                venues.push(v.clone());
                v
            };
            sals.push(json!({"id": format!("s{i}-{}", venue.0), "location": {"id": venue.0, "latitude": venue.1, "longitude": venue.2}}));
        }
        let mut attributes = Vec::new();
        if rng.random_bool(0.8) {
            attributes.push(json!({"taxonomy_term_id": format!("signpost:access:{}", ACCESS[rng.random_range(0..4)])}));
        }
        attributes.push(json!({"taxonomy_term_id": format!("signpost:domain:{}", DOMAINS[rng.random_range(0..4)])}));
        for interest in INTERESTS {
            if rng.random_bool(0.15) {
                attributes
                    .push(json!({"taxonomy_term_id": format!("signpost:interest:{interest}")}));
            }
        }
        if rng.random_bool(0.5) {
            attributes.push(json!({"taxonomy_term_id": format!("signpost:cost:{}", if rng.random_bool(0.7) { "free" } else { "paid" })}));
        }
        if rng.random_bool(0.3) {
            attributes.push(json!({"taxonomy_term_id": "signpost:accessibility:wheelchair"}));
        }
        if rng.random_bool(0.2) {
            attributes.push(json!({"taxonomy_term_id": "signpost:attendance:online"}));
        }
        let languages = if rng.random_bool(0.1) {
            json!([{"code": "ur", "name": "Urdu"}])
        } else {
            json!([])
        };
        let schedules = if rng.random_bool(0.6) {
            let open = rng.random_range(7..18);
            json!([{"freq": "WEEKLY", "byday": DAYS[rng.random_range(0..7)], "opens_at": format!("{open:02}:00"),
                    "closes_at": format!("{:02}:30", open + rng.random_range(1..4))}])
        } else {
            json!([])
        };
        let word = WORDS[rng.random_range(0..WORDS.len())];
        out.push(json!({
            "id": format!("svc-{i:05}"),
            "name": format!("{word} group {i}"),
            "description": format!("A {word} session for everyone."),
            "status": if rng.random_bool(0.95) { "active" } else { "inactive" },
            "attributes": attributes,
            "languages": languages,
            "schedules": schedules,
            "service_at_locations": sals,
        }));
    }
    out
}

fn load(n: usize, seed: u64) -> (tempfile::TempDir, Directory) {
    let (t, mut db) = temp_directory();
    let r = db
        .import_sources(vec![("synthetic".into(), synthetic(n, seed))], &mut quiet)
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", &r.errors[..1]);
    (t, db)
}

fn filters() -> impl Strategy<Value = Filters> {
    (
        any::<bool>(),
        prop::option::of(0..DOMAINS.len()),
        prop::collection::vec(0..INTERESTS.len(), 0..3),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.15),
        prop::option::weighted(0.3, 0u32..(7 * 24)),
        prop::option::weighted(0.3, 0..WORDS.len()),
        prop::option::weighted(0.2, any::<bool>()),
    )
        .prop_map(
            |(no_referral, domain, interests, free, wheelchair, urdu, open_hour, word, online)| {
                Filters {
                    no_referral,
                    domains: domain
                        .map(|d| vec![DOMAINS[d].to_string()])
                        .unwrap_or_default(),
                    interests: interests
                        .into_iter()
                        .map(|i| INTERESTS[i].to_string())
                        .collect(),
                    free,
                    wheelchair,
                    languages: if urdu { vec!["Urdu".into()] } else { vec![] },
                    open_at: open_hour.map(|h| {
                        Utc.with_ymd_and_hms(2026, 11, 23, 0, 15, 0).unwrap()
                            + chrono::Duration::hours(h as i64)
                    }),
                    text: word.map(|w| WORDS[w].to_string()),
                    attendance: online.map(|o| {
                        if o {
                            Attendance::Online
                        } else {
                            Attendance::InPerson
                        }
                    }),
                }
            },
        )
}

fn query() -> impl Strategy<Value = NearQuery> {
    (
        0..CENTRES.len(),
        -0.6f64..0.6,
        -0.6f64..0.6,
        0.2f64..60.0,
        1usize..40,
        filters(),
    )
        .prop_map(|(c, dlat, dlon, radius_km, limit, filters)| NearQuery {
            latitude: CENTRES[c].0 + dlat,
            longitude: CENTRES[c].1 + dlon,
            radius_m: radius_km * 1000.0,
            limit,
            filters,
        })
}

/// The index's answer, after checking it equals the brute force's (distances to a millimetre:
/// the two compute them by different formulas).
fn same_as_brute_force(
    index: &signpost_directory::search::SearchIndex,
    conn: &rusqlite::Connection,
    q: &NearQuery,
) -> Result<Vec<signpost_directory::Hit>, TestCaseError> {
    let fast = index.search(conn, q).unwrap();
    let slow = index.brute_force(conn, q).unwrap();
    prop_assert_eq!(fast.len(), slow.len(), "query {:?}", q);
    for (a, b) in fast.iter().zip(&slow) {
        prop_assert_eq!(a.service, b.service, "query {:?}", q);
        prop_assert_eq!(a.point, b.point);
        prop_assert!(
            (a.distance_m - b.distance_m).abs() < 1e-3,
            "{} vs {}",
            a.distance_m,
            b.distance_m
        );
    }
    Ok(fast)
}

#[test]
fn index_equals_brute_force() {
    let (_t, db) = load(4000, 7);
    let index = db.index().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(400),
        ..Config::default()
    });
    let non_empty = std::cell::Cell::new(0);
    runner
        .run(&query(), |q| {
            let fast = same_as_brute_force(index, db.connection(), &q)?;
            if !fast.is_empty() {
                non_empty.set(non_empty.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    assert!(
        non_empty.get() > 100,
        "the random queries must mostly find something ({})",
        non_empty.get()
    );
}

#[test]
fn results_are_unique_sorted_and_within_radius() {
    let (_t, db) = load(2000, 11);
    let q = NearQuery {
        limit: 200,
        ..NearQuery::at(51.4386, -2.6034)
    };
    let results = db.near(&q, Utc::now()).unwrap();
    assert!(results.len() > 20);
    let mut ids: Vec<&str> = results.iter().map(|r| r.service_id.as_str()).collect();
    assert!(results
        .windows(2)
        .all(|w| w[0].distance_m <= w[1].distance_m));
    assert!(
        results.iter().all(|r| r.distance_m <= 10_000.0),
        "default radius is 10 km"
    );
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), results.len(), "each service once");
    assert_eq!(NearQuery::at(0.0, 0.0).limit, 20, "default limit");
}

#[test]
fn bad_queries_are_errors() {
    let (_t, db) = load(10, 1);
    let mut q = NearQuery::at(91.0, 0.0);
    assert!(db.search(&q).unwrap_err().to_string().contains("latitude"));
    q = NearQuery::at(51.0, 0.0);
    q.filters.interests = vec!["basket-weaving".into()];
    let e = db.search(&q).unwrap_err().to_string();
    assert!(e.contains("basket-weaving") && e.contains("walking"), "{e}");
    q.filters.interests.clear();
    q.radius_m = -1.0;
    assert!(db.search(&q).is_err());
}

#[test]
fn text_search_is_safe_for_any_input() {
    let (_t, db) = load(200, 3);
    for text in [
        "\"",
        "choir OR",
        "NEAR(",
        "*",
        "a:b",
        "'; DROP TABLE service; --",
        "ünïcödé",
        "",
    ] {
        let mut q = NearQuery::at(51.4386, -2.6034);
        q.filters.text = Some(text.into());
        db.search(&q).unwrap();
    }
}

/// The second real region: 5,387 Greater Manchester assets, with its duplicates and clusters.
#[test]
fn greater_manchester_region_imports_and_searches_exactly() {
    let (_t, mut db) = temp_directory();
    let region =
        signpost_directory::Region::from_folder(&crate::repo("regions/greater-manchester"))
            .unwrap();
    let report = db.load_region(&region, &mut quiet).unwrap();
    assert_eq!(report.inserted, 5387, "{:?}", report.errors.first());
    assert!(report.errors.is_empty());
    assert_eq!(
        report.warnings.len(),
        2,
        "the two assets without a location"
    );
    assert_eq!(
        db.stats().unwrap().region.as_deref(),
        Some("Greater Manchester community assets")
    );
    let index = db.index().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 200,
        ..Config::default()
    });
    runner
        .run(
            &(
                53.35f64..53.65,
                -2.6f64..-2.0,
                0.3f64..15.0,
                1usize..30,
                filters(),
            ),
            |(lat, lon, km, limit, filters)| {
                let q = NearQuery {
                    latitude: lat,
                    longitude: lon,
                    radius_m: km * 1000.0,
                    limit,
                    filters,
                };
                same_as_brute_force(index, db.connection(), &q)?;
                Ok(())
            },
        )
        .unwrap();
    // Libraries are drop-in: the no-referral filter finds them near Manchester city centre.
    let mut q = NearQuery::at(53.4794, -2.2453);
    q.filters.no_referral = true;
    q.filters.interests = vec!["reading".into()];
    let libraries = db.near(&q, Utc::now()).unwrap();
    assert!(!libraries.is_empty());
    assert!(libraries
        .iter()
        .all(|r| r.access == Some("drop-in") && r.free == Some(true)));
}
