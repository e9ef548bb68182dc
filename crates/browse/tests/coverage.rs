//! Where assets are lacking, against an independent reference: the distances are computed
//! again from the listings as written (their own access and domain terms, their own
//! coordinates, by haversine over every listing), sharing no product code, on real SQLite
//! files: synthetic listings, and every bundled region.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use signpost_browse::coverage::{
    self, coverage, csv_header, Area, CoverageAnswer, CoverageRequest,
};
use signpost_browse::Error;
use signpost_directory::{Directory, Region};
use signpost_postcodes::{embedded_sectors, Gazetteer, Sector};

const DOMAINS: [&str; 4] = [
    "health-and-social-care",
    "local-facilities",
    "personal-interests",
    "personal-relationships",
];

fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dl = (b.1 - a.1).to_radians();
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371.008_8 * h.sqrt().asin()
}

/// Per domain, the places of the listings that count: active, drop in or self-referral, in
/// the domain, at coordinates that are given and not 0,0 (read from the records themselves).
fn reference_points(records: &[Value]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new(); DOMAINS.len()];
    for r in records {
        if r["status"] != "active" {
            continue;
        }
        let terms: Vec<&str> = r["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["taxonomy_term_id"].as_str())
            .collect();
        let no_referral = terms
            .iter()
            .any(|t| *t == "signpost:access:drop-in" || *t == "signpost:access:self-referral");
        if !no_referral {
            continue;
        }
        for sal in r["service_at_locations"].as_array().into_iter().flatten() {
            let loc = &sal["location"];
            let (Some(lat), Some(lon)) = (loc["latitude"].as_f64(), loc["longitude"].as_f64())
            else {
                continue;
            };
            if lat == 0.0 && lon == 0.0 {
                continue;
            }
            for (i, d) in DOMAINS.iter().enumerate() {
                if terms.contains(&format!("signpost:domain:{d}").as_str()) {
                    out[i].push((lat, lon));
                }
            }
        }
    }
    out
}

/// Compare every row with the reference: same sectors, and each distance within a centimetre.
fn check(c: &coverage::Coverage, chosen: &[&Sector], points: &[Vec<(f64, f64)>]) {
    let codes: Vec<&str> = c.rows.iter().map(|r| r.sector.as_str()).collect();
    let want: Vec<&str> = chosen.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, want);
    let domains: Vec<&str> = c.domains.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(domains, DOMAINS, "the taxonomy's domains, in its order");
    for (row, s) in c.rows.iter().zip(chosen) {
        assert_eq!(row.postcodes, s.postcodes);
        for (i, got) in row.nearest_km.iter().enumerate() {
            let want = points[i]
                .iter()
                .map(|p| haversine_km((s.latitude, s.longitude), *p))
                .min_by(f64::total_cmp);
            match (got, want) {
                (None, None) => {}
                (Some(g), Some(w)) => assert!(
                    (g - w).abs() < 1e-5,
                    "{} {}: {g} km, reference {w} km",
                    s.code,
                    DOMAINS[i]
                ),
                _ => panic!("{} {}: {got:?}, reference {want:?}", s.code, DOMAINS[i]),
            }
        }
    }
}

/// Listings around Bristol and Bath: some with several places, some inactive, some needing a
/// referral, some at 0,0 (never indexed), one domain very rare.
fn synthetic(n: usize, seed: u64) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(seed);
    let access = [
        "drop-in",
        "self-referral",
        "booking-required",
        "referral-required",
    ];
    (0..n)
        .map(|i| {
            let mut attributes = vec![json!({"taxonomy_term_id": format!("signpost:access:{}", access[rng.random_range(0..4)])})];
            for (d, p) in DOMAINS.iter().zip([0.3, 0.4, 0.5, 0.01]) {
                if rng.random_bool(p) {
                    attributes.push(json!({"taxonomy_term_id": format!("signpost:domain:{d}")}));
                }
            }
            let places = rng.random_range(1..=3);
            let sals: Vec<Value> = (0..places)
                .map(|k| {
                    let (lat, lon) = if rng.random_bool(0.02) {
                        (0.0, 0.0)
                    } else {
                        (rng.random_range(51.2..51.6), rng.random_range(-2.9..-2.2))
                    };
                    json!({"id": format!("s{i}-{k}"), "location": {"id": format!("l{i}-{k}"), "latitude": lat, "longitude": lon}})
                })
                .collect();
            json!({
                "id": format!("svc-{i}"),
                "name": format!("Listing {i}"),
                "status": if rng.random_bool(0.05) { "inactive" } else { "active" },
                "attributes": attributes,
                "service_at_locations": sals,
            })
        })
        .collect()
}

fn directory_of(records: Vec<Value>) -> (tempfile::TempDir, Directory) {
    let t = tempfile::tempdir().unwrap();
    let mut d = Directory::open(&t.path().join("d.db")).unwrap();
    let r = d
        .import_sources(vec![("test".into(), records)], &mut |_| {})
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    drop(d);
    // Read back as a separate connection would, from the file.
    let d = Directory::open_read_only(&t.path().join("d.db")).unwrap();
    (t, d)
}

#[test]
fn distances_match_a_brute_force_reference_on_synthetic_listings() {
    let records = synthetic(400, 7);
    let points = reference_points(&records);
    assert!(
        points[3].len() < 20,
        "one domain is rare: {}",
        points[3].len()
    );
    let (_t, d) = directory_of(records);
    let sectors = embedded_sectors();
    for area in [
        Area::Around {
            latitude: 51.45,
            longitude: -2.58,
            radius_km: 25.0,
        },
        // Far from every listing: distances are still found, however far.
        Area::Around {
            latitude: 54.97,
            longitude: -1.61,
            radius_km: 8.0,
        },
        Area::LocalAuthority("e06000022".into()), // Bath and North East Somerset
    ] {
        let chosen = coverage::sectors_in(sectors, &area).unwrap();
        assert!(chosen.len() > 10, "{area:?}: {}", chosen.len());
        let c = coverage(&d, sectors, &area).unwrap();
        check(&c, &chosen, &points);
    }
}

#[test]
fn distances_match_the_reference_on_every_sector_of_england() {
    let records = synthetic(150, 11);
    let points = reference_points(&records);
    let (_t, d) = directory_of(records);
    let sectors = embedded_sectors();
    let chosen = coverage::sectors_in(sectors, &Area::England).unwrap();
    assert!(chosen.len() > 9_900, "{}", chosen.len());
    assert!(chosen.iter().all(|s| s.in_england()));
    check(
        &coverage(&d, sectors, &Area::England).unwrap(),
        &chosen,
        &points,
    );
}

#[test]
fn distances_match_the_reference_on_the_real_regions() {
    let t = tempfile::tempdir().unwrap();
    let mut d = Directory::open(&t.path().join("d.db")).unwrap();
    let mut records: Vec<Value> = Vec::new();
    // Every bundled region: England's public libraries, Greater Manchester, the library stops.
    let regions = Region::bundled().unwrap();
    assert!(regions.len() >= 3);
    for region in &regions {
        for (_, raw) in region.records().unwrap() {
            records.extend(raw.into_iter().map(|r| r.into_value().unwrap()));
        }
        d.load_region(region, &mut |_| {}).unwrap();
    }
    let points = reference_points(&records);
    assert!(
        !points[1].is_empty(),
        "the GM libraries are local facilities"
    );
    let sectors = embedded_sectors();
    for area in [
        Area::Around {
            latitude: 53.48,
            longitude: -2.24,
            radius_km: 20.0,
        },
        Area::Around {
            latitude: 52.68,
            longitude: 0.94,
            radius_km: 15.0,
        },
        Area::LocalAuthority("E08000010".into()), // Wigan
        Area::LocalAuthority("E06000023".into()), // Bristol
    ] {
        let chosen = coverage::sectors_in(sectors, &area).unwrap();
        check(&coverage(&d, sectors, &area).unwrap(), &chosen, &points);
    }
}

#[test]
fn csv_has_the_contract_columns_and_empty_cells_for_none() {
    // One drop-in listing in one domain: the other domains have none, so their cells are empty.
    let (_t, d) = directory_of(vec![json!({
        "id": "lib", "name": "Library", "status": "active",
        "attributes": [{"taxonomy_term_id": "signpost:access:drop-in"}, {"taxonomy_term_id": "signpost:domain:local-facilities"}],
        "service_at_locations": [{"id": "s", "location": {"id": "l", "latitude": 51.4405, "longitude": -2.61}}]})]);
    let area = Area::Around {
        latitude: 51.4405,
        longitude: -2.61,
        radius_km: 3.0,
    };
    let c = coverage(&d, embedded_sectors(), &area).unwrap();
    let csv = c.to_csv();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "sector,latitude,longitude,postcodes,health-and-social-care_km,local-facilities_km,personal-interests_km,personal-relationships_km"
    );
    assert_eq!(csv_header(&c.domains), csv.lines().next().unwrap());
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), c.rows.len());
    assert!(rows.len() > 5);
    for r in &rows {
        assert_eq!(r.len(), 8);
        assert!(r[3].parse::<u32>().unwrap() > 0);
        assert_eq!((r[4], r[6], r[7]), ("", "", ""));
        let km: f64 = r[5].parse().unwrap();
        assert!(km <= 3.5, "{r:?}");
    }
    // Gaps: every sector lacks the three other domains; those beyond 1 km lack all four.
    let gaps = c.gaps(1.0);
    assert_eq!(gaps.len(), c.rows.len());
    assert!(gaps.iter().all(|(_, l)| l.len() >= 3));
    assert!(gaps.windows(2).all(|w| w[0].1.len() >= w[1].1.len()));
}

#[test]
fn the_screen_asks_which_place_and_refuses_bad_input() {
    let (_t, d) = directory_of(synthetic(50, 3));
    let g = Gazetteer::embedded();
    let req = |place: &str, radius: Option<f64>| CoverageRequest {
        place: Some(place.into()),
        radius_km: radius,
        gap_km: None,
    };
    match coverage::answer(&d, g, &req("Newcastle", None)).unwrap() {
        CoverageAnswer::ChoosePlace(q) => {
            assert!(q.choices.iter().any(|c| c.place == "Newcastle upon Tyne"))
        }
        other => panic!("{other:?}"),
    }
    let CoverageAnswer::Results(v) = coverage::answer(&d, g, &req("BS3 4AB", None)).unwrap() else {
        panic!("BS3 4AB is a place")
    };
    assert_eq!((v.radius_km, v.gap_km), (10.0, 5.0));
    assert_eq!(v.domains.len(), 4);
    assert!(!v.rows.is_empty());
    // Gaps first: every row lacking a domain comes before every row lacking none.
    assert!(v.rows[..v.gaps].iter().all(|r| !r.lacking.is_empty()));
    assert!(v.rows[v.gaps..].iter().all(|r| r.lacking.is_empty()));
    let (csv, name) = req("BS3 4AB", Some(5.0)).csv(&d, g).unwrap();
    assert!(csv.starts_with("sector,latitude,longitude,postcodes,"));
    assert_eq!(name, "signpost-coverage-bs3-4ab-5km.csv");
    for bad in [Some(0.0), Some(-1.0), Some(f64::NAN), Some(500.0)] {
        assert!(matches!(
            coverage::answer(&d, g, &req("BS3 4AB", bad)),
            Err(Error::Request(_))
        ));
    }
    assert!(matches!(
        coverage::answer(&d, g, &req("ZZ9 9ZZ", None)),
        Err(Error::Place(_))
    ));
    assert!(matches!(
        coverage::answer(&d, g, &req("  ", None)),
        Err(Error::Place(_))
    ));
    assert!(coverage::sectors_in(embedded_sectors(), &Area::LocalAuthority("X99".into())).is_err());
}
