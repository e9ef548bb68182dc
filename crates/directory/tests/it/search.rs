//! Near-me search gives what an independent reference (`reference.rs`) gives, for random
//! points and filters, on synthetic listings made to vary as real feeds do and on a real region.
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use signpost_directory::{Attendance, Directory, Filters, NearQuery};

use crate::reference::Reference;
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
            "assured_date": assured_date(i),
            "attributes": attributes,
            "languages": languages,
            "schedules": schedules,
            "service_at_locations": sals,
        }));
    }
    out
}

pub(crate) fn load(n: usize, seed: u64) -> (tempfile::TempDir, Directory) {
    let (t, mut db) = temp_directory();
    let r = db
        .import_sources(vec![("synthetic".into(), synthetic(n, seed))], &mut quiet)
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", &r.errors[..1]);
    (t, db)
}

pub(crate) fn filters() -> impl Strategy<Value = Filters> {
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
                    meets_in: None,
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

/// The index's answer, after checking it equals the brute force's (distances to a millimetre:
/// the two compute them by different formulas). The brute force shares the index's filter
/// code, so this checks the index's walk, not the filters; it stays only for text filters on
/// real data, which the reference cannot stem.
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

/// A real region: 5,200 Greater Manchester assets, with its duplicates and clusters,
/// searched as the reference searches it (and as the brute force does, for text).
#[test]
fn greater_manchester_region_imports_and_searches_exactly() {
    let (_t, mut db) = temp_directory();
    let region =
        signpost_directory::Region::from_folder(&crate::repo("regions/greater-manchester"))
            .unwrap();
    let report = db.load_region(&region, &mut quiet).unwrap();
    assert_eq!(report.inserted, 5200, "{:?}", report.errors.first());
    assert!(report.errors.is_empty());
    assert_eq!(
        report.warnings.len(),
        2,
        "the two assets without a location"
    );
    let sources = db.sources().unwrap();
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert_eq!(sources[0].name, "Greater Manchester community assets");
    assert_eq!(sources[0].listings, 5200);
    let index = db.index().unwrap();
    let reference = Reference::load(db.connection());
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
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
                    today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1),
                };
                // Real text needs a real stemmer, which the reference does not have.
                if q.filters.text.is_some() {
                    same_as_brute_force(index, db.connection(), &q)?;
                } else {
                    same_as_reference(&db, &reference, &q, now)?;
                }
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

// ---------------------------------------------------------------------------------------------
// The product against an independent reference (see `reference.rs`), on listings whose terms,
// costs, languages, places and schedules vary the way real feeds vary.

const LANGUAGES: &[(Option<&str>, Option<&str>)] = &[
    (Some("ur"), Some("Urdu")),
    (Some("bfi"), Some("British Sign Language")),
    (Some("pl"), Some("Polish")),
    (None, Some("Welsh")),
    (Some("so"), None),
    (Some("gd"), Some("Scottish Gaelic")),
    (Some(" PL "), Some("POLISH")),
];
/// Languages as people ask for them: codes, names, any case, stray spaces, and one nobody offers.
const LANGUAGE_ASKS: &[&str] = &[
    "Urdu",
    "ur",
    "British Sign Language",
    "bfi",
    "polish",
    " Welsh ",
    "so",
    "scottish gaelic",
    "French",
];
const NAME_WORDS: &[&str] = &[
    "Choir",
    "Choirs",
    "Singing",
    "Garden",
    "Gardening",
    "Café",
    "Cafe",
    "Walk",
    "Walks",
    "Walking",
    "Walkers",
    "Support",
    "Supported",
    "Library",
    "Libraries",
    "Art",
    "Football",
    "Knitting",
];
/// Text filters: whole words, inflections, two-word queries, and prefixes that must not match.
const QUERY_TEXTS: &[&str] = &[
    "choir",
    "choirs",
    "sing",
    "garden",
    "gardening",
    "gard",
    "cafe",
    "café",
    "walk",
    "walking",
    "walker",
    "support",
    "library",
    "librar",
    "arts",
    "football",
    "knit",
    "music",
    "peer support",
    "peer-support",
    "Walking, Garden!",
    "walk garden",
];
const ORGANIZATIONS: &[(&str, &str)] = &[
    ("org-friends", "Friends of the Garden"),
    ("org-trust", "Southville Community Trust"),
    ("org-walkers", "Walkers Are Welcome"),
];
const NOTES: &[&str] = &[
    "Wheelchair accessible entrance",
    "Step-free; wheelchair toilet",
    "Not wheelchair accessible",
    "No wheelchair access upstairs",
    "Hearing loop",
];
/// Days asked about: both 2026 clock changes (29 March, 25 October) and the days around them,
/// an ordinary week, and the 2027 changes (28 March, 31 October).
const QUERY_DAYS: &[(i32, u32, u32)] = &[
    (2026, 3, 27),
    (2026, 3, 28),
    (2026, 3, 29),
    (2026, 3, 30),
    (2026, 10, 24),
    (2026, 10, 25),
    (2026, 10, 26),
    (2026, 11, 24),
    (2026, 11, 26),
    (2027, 3, 28),
    (2027, 10, 31),
];

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn some_date(rng: &mut StdRng, from: (i32, u32, u32), days: i64) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(from.0, from.1, from.2).unwrap();
    (start + chrono::Duration::days(rng.random_range(0..days)))
        .format("%Y-%m-%d")
        .to_string()
}

/// Opening hours: ordinary, overnight (closing before opening), in or across the small hours
/// the clocks change in, without a closing time, to midnight, with seconds, or not given.
fn hours(rng: &mut StdRng) -> (Option<String>, Option<String>) {
    let s = |t: &str| Some(t.to_string());
    match rng.random_range(0..12) {
        0 => (
            s(pick(rng, &["22:00", "23:30", "20:00"])),
            s(pick(rng, &["02:00", "01:30", "00:00"])),
        ),
        1 => (
            s(pick(rng, &["00:30", "01:00", "01:30", "01:15"])),
            s(pick(rng, &["02:30", "03:00", "01:45", "02:00"])),
        ),
        2 => (s(pick(rng, &["09:00", "18:00"])), None),
        3 => (s("19:00"), s("24:00")),
        4 => (s("10:00:00"), s("12:30:00")),
        5 => (None, None),
        _ => {
            let open = rng.random_range(6..21);
            let close = (open + rng.random_range(1..4)).min(23);
            (
                Some(format!("{open:02}:{}", pick(rng, &["00", "30"]))),
                Some(format!("{close:02}:{}", pick(rng, &["00", "15", "45"]))),
            )
        }
    }
}

/// A schedule of one of the shapes feeds use.
fn schedule(rng: &mut StdRng) -> Value {
    let day = |rng: &mut StdRng| pick(rng, DAYS);
    let mut s = match rng.random_range(0..13) {
        0 | 1 => {
            let mut days: Vec<&str> = (0..rng.random_range(1..4)).map(|_| day(rng)).collect();
            days.sort();
            days.dedup();
            // As feeds write it: upper or lower case, with or without spaces.
            let freq = pick(rng, &["WEEKLY", "weekly"]);
            json!({"freq": freq, "byday": days.join(pick(rng, &[",", ", "]))})
        }
        2 => json!({"freq": "WEEKLY", "interval": 2, "byday": day(rng),
                    "dtstart": some_date(rng, (2019, 1, 1), 2800)}),
        3 => json!({"freq": "WEEKLY", "interval": 4, "byday": day(rng),
                    "dtstart": some_date(rng, (2024, 1, 1), 900)}),
        4 => {
            let byday = pick(rng, &["2TU", "-1FR", "1SA,3SA", "4SU", "1MO", "-1SU"]);
            let mut s = json!({"freq": "MONTHLY", "byday": byday});
            if rng.random_bool(0.5) {
                s["dtstart"] = json!(some_date(rng, (2020, 1, 1), 2400));
            }
            s
        }
        5 => json!({"freq": "MONTHLY", "bymonthday": pick(rng, &["15", "-1", "1,15", "29", "31"])}),
        6 => json!({"freq": "DAILY"}),
        7 => json!({"freq": "DAILY", "interval": 3, "dtstart": some_date(rng, (2025, 1, 1), 600)}),
        8 => {
            let mut s = json!({"freq": "WEEKLY", "byday": day(rng),
                               "dtstart": some_date(rng, (2025, 6, 1), 500)});
            if rng.random_bool(0.5) {
                s["until"] = json!(some_date(rng, (2026, 1, 1), 700));
            } else {
                s["count"] = json!(rng.random_range(1..60));
            }
            s
        }
        9 => json!({"byday": day(rng)}),
        10 => json!({"freq": "YEARLY", "dtstart": some_date(rng, (2019, 1, 1), 3000)}),
        11 => json!({"freq": "MONTHLY", "dtstart": some_date(rng, (2024, 1, 1), 900)}),
        // Nothing a calendar can place: an interval without its start, words only, or a rule
        // RFC 5545 does not allow (an ordinal weekday or a month day in a weekly rule, day 0).
        _ => match rng.random_range(0..5) {
            0 => json!({"freq": "WEEKLY", "interval": 2, "byday": day(rng)}),
            1 => json!({"freq": "WEEKLY", "byday": format!("2{}", day(rng))}),
            2 => json!({"freq": "WEEKLY", "byday": day(rng), "bymonthday": "15"}),
            3 => json!({"freq": "MONTHLY", "bymonthday": "0"}),
            _ => json!({"description": "Ring to check the next session"}),
        },
    };
    let (opens, closes) = hours(rng);
    s["opens_at"] = json!(opens);
    s["closes_at"] = json!(closes);
    if rng.random_bool(0.15) {
        s["valid_from"] = json!(some_date(rng, (2026, 3, 20), 240));
    }
    if rng.random_bool(0.15) {
        s["valid_to"] = json!(some_date(rng, (2026, 3, 20), 240));
    }
    s
}

fn schedules(rng: &mut StdRng, p: f64) -> Value {
    if rng.random_bool(p) {
        Value::Array((0..rng.random_range(1..4)).map(|_| schedule(rng)).collect())
    } else {
        json!([])
    }
}

fn languages(rng: &mut StdRng, p: f64) -> Value {
    if !rng.random_bool(p) {
        return json!([]);
    }
    let pick_one = |rng: &mut StdRng| {
        let (code, name) = pick(rng, LANGUAGES);
        json!({"code": code, "name": name})
    };
    Value::Array((0..rng.random_range(1..3)).map(|_| pick_one(rng)).collect())
}

/// A place: mostly good coordinates, some missing, `0,0`, out of range or swapped (a UK
/// address with latitude and longitude the wrong way round), some virtual, some with notes.
fn venue(rng: &mut StdRng, id: usize, centre: (f64, f64)) -> Value {
    let spread = if rng.random_bool(0.7) { 0.05 } else { 0.4 };
    let (lat, lon) = (
        centre.0 + rng.random_range(-spread..spread),
        centre.1 + rng.random_range(-spread..spread),
    );
    let (lat, lon, country) = match rng.random_range(0..100) {
        0..4 => (json!(null), json!(null), "GB"),
        4..6 => (json!(0.0), json!(0.0), "GB"),
        6..8 => (json!(lon), json!(lat), "GB"),
        8 => (json!(95.0), json!(lon), "GB"),
        _ => (
            json!(lat),
            json!(lon),
            pick(rng, &["GB", "United Kingdom", "England"]),
        ),
    };
    let mut location = json!({
        "id": format!("v{id}"),
        "latitude": lat,
        "longitude": lon,
        "location_type": pick(rng, &[Some("physical"), None, Some("virtual"), Some("physical")]),
        "addresses": [{"address_1": "1 High Street", "city": "Town", "country": country}],
    });
    if rng.random_bool(0.2) {
        let note = pick(rng, NOTES);
        location["accessibility"] = if rng.random_bool(0.5) {
            json!([{"description": note}])
        } else {
            json!([{"description": "Access", "details": note}])
        };
    }
    location
}

/// Listings for the reference test.
fn varied(n: usize, seed: u64) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut venues: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for i in 0..n {
        let centre = pick(&mut rng, &CENTRES[..2]);
        let mut sals = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let location = if !venues.is_empty() && rng.random_bool(0.25) {
                venues[rng.random_range(0..venues.len())].clone()
            } else {
                let v = venue(&mut rng, venues.len(), centre);
                venues.push(v.clone());
                v
            };
            let mut location = location;
            location["languages"] = languages(&mut rng, 0.08);
            sals.push(json!({
                "id": format!("s{i}-{}", sals.len()),
                "location": location,
                // Its own schedules replace the service's, even when a calendar cannot place them.
                "schedules": if rng.random_bool(0.05) {
                    json!([{"description": "Ring to check"}])
                } else {
                    schedules(&mut rng, 0.25)
                },
            }));
        }
        let mut attributes = Vec::new();
        let term = |group: &str, code: &str| json!({"taxonomy_term_id": format!("signpost:{group}:{code}")});
        if rng.random_bool(0.7) {
            attributes.push(term("access", pick(&mut rng, ACCESS)));
        }
        if rng.random_bool(0.9) {
            attributes.push(term("domain", pick(&mut rng, DOMAINS)));
        }
        for interest in INTERESTS {
            if rng.random_bool(0.12) {
                attributes.push(term("interest", interest));
            }
        }
        if rng.random_bool(0.1) {
            // A feed's own term, naming a Signpost interest by code.
            let code = pick(&mut rng, INTERESTS);
            attributes.push(
                json!({"taxonomy_term": {"id": format!("feed:{code}"), "code": code,
                "taxonomy_id": "signpost", "name": format!("Our {code} sessions")}}),
            );
        }
        if rng.random_bool(0.1) {
            attributes.push(
                json!({"taxonomy_term": {"id": "other:garden", "taxonomy_id": "other",
                "name": "Community gardening"}}),
            );
        }
        if rng.random_bool(0.3) {
            attributes.push(term("cost", pick(&mut rng, &["free", "paid"])));
        }
        if rng.random_bool(0.2) {
            attributes.push(term("accessibility", "wheelchair"));
        }
        match rng.random_range(0..10) {
            0 => attributes.push(term("attendance", "online")),
            1 => attributes.push(term("attendance", "in-person")),
            2 => {
                attributes.push(term("attendance", "online"));
                attributes.push(term("attendance", "in-person"));
            }
            _ => {}
        }
        let cost_options = match rng.random_range(0..10) {
            0 => json!([{"amount": 0}]),
            1 => json!([{"amount": 3.5, "currency": "GBP"}]),
            2 => json!([{"option": "Free to members"}]),
            3 => json!([{"option": "Donation welcome"}]),
            4 => json!([{"amount": 0}, {"amount": 2}]),
            _ => json!([]),
        };
        let (w1, w2) = (pick(&mut rng, NAME_WORDS), pick(&mut rng, NAME_WORDS));
        let mut listing = json!({
            "id": format!("svc-{i:05}"),
            "name": format!("{w1} group {i}"),
            "description": format!("A {w2} session for everyone."),
            "status": if rng.random_bool(0.95) { "active" } else { "inactive" },
            "attributes": attributes,
            "cost_options": cost_options,
            "languages": languages(&mut rng, 0.25),
            "schedules": schedules(&mut rng, 0.7),
            "service_at_locations": sals,
        });
        if rng.random_bool(0.4) {
            let (id, name) = pick(&mut rng, ORGANIZATIONS);
            listing["organization"] = json!({"id": id, "name": name});
        }
        // Check dates from i, not the generator, so the listings are otherwise as before: none,
        // or a day from June 2024 to early 2027, so that on the query days some listings at a
        // shared venue may be out of date and some not.
        if let Some(assured) = assured_date(i) {
            listing["assured_date"] = json!(assured);
        }
        out.push(listing);
    }
    out
}

/// A listing's check date, from its number: none for every third, else a day from June 2024
/// to early 2027.
fn assured_date(i: usize) -> Option<String> {
    (!i.is_multiple_of(3)).then(|| {
        let first = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
        (first + chrono::Duration::days((i * 97 % 1000) as i64)).to_string()
    })
}

/// An instant on one of [`QUERY_DAYS`], often in the small hours when the clocks change.
fn instant() -> impl Strategy<Value = chrono::DateTime<Utc>> {
    (
        0..QUERY_DAYS.len(),
        prop_oneof![0u32..96, 88u32..110].prop_map(|k| k * 15 % 1440),
    )
        .prop_map(|(d, minute)| {
            let (y, m, day) = QUERY_DAYS[d];
            Utc.with_ymd_and_hms(y, m, day, 0, 0, 0).unwrap()
                + chrono::Duration::minutes(minute as i64)
        })
}

/// With probability `p`, one or two indices below `n`; otherwise none.
fn some_of(n: usize, p: f64) -> impl Strategy<Value = Vec<usize>> {
    prop::option::weighted(p, prop::collection::vec(0..n, 1..3)).prop_map(Option::unwrap_or_default)
}

fn varied_filters() -> impl Strategy<Value = (Filters, bool)> {
    (
        (
            prop::bool::weighted(0.25),
            some_of(DOMAINS.len(), 0.25),
            some_of(INTERESTS.len(), 0.25),
            prop::bool::weighted(0.25),
            prop::bool::weighted(0.15),
        ),
        (
            some_of(LANGUAGE_ASKS.len(), 0.2),
            prop::option::weighted(0.2, any::<bool>()),
            prop::option::weighted(0.25, 0..QUERY_TEXTS.len()),
            prop::option::weighted(0.6, (any::<bool>(), instant())),
        ),
    )
        .prop_map(
            |(
                (no_referral, domains, interests, free, wheelchair),
                (languages, online, text, open),
            )| {
                let filters = Filters {
                    no_referral,
                    domains: domains
                        .into_iter()
                        .map(|d| DOMAINS[d].to_string())
                        .collect(),
                    interests: interests
                        .into_iter()
                        .map(|i| INTERESTS[i].to_string())
                        .collect(),
                    free,
                    wheelchair,
                    languages: languages
                        .into_iter()
                        .map(|l| LANGUAGE_ASKS[l].to_string())
                        .collect(),
                    attendance: online.map(|o| {
                        if o {
                            Attendance::Online
                        } else {
                            Attendance::InPerson
                        }
                    }),
                    // Open now (at the `now` of the query), or at another instant.
                    open_at: open.and_then(|(now, t)| (!now).then_some(t)),
                    meets_in: None,
                    text: text.map(|t| QUERY_TEXTS[t].to_string()),
                };
                (filters, open.is_some_and(|(now, _)| now))
            },
        )
}

/// The varied listings in a directory, and the reference read from it.
fn varied_directory() -> (tempfile::TempDir, Directory, Reference) {
    let (t, mut db) = temp_directory();
    let report = db
        .import_sources(vec![("varied".into(), varied(3000, 21))], &mut quiet)
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    let reference = Reference::load(db.connection());
    (t, db, reference)
}

/// The product's answer equals the reference's: same listings in the same order, each at the
/// same location and distance, with the same open now, free and attendance. Returns how many.
fn same_as_reference(
    db: &Directory,
    reference: &Reference,
    q: &NearQuery,
    now: chrono::DateTime<Utc>,
) -> Result<usize, TestCaseError> {
    let got = db.near(q, now).unwrap();
    let want = reference.near(q, now);
    let ids = |v: Vec<&str>| v.join(" ");
    let (got_ids, want_ids) = (
        ids(got.iter().map(|r| r.service_id.as_str()).collect()),
        ids(want.iter().map(|r| r.service_id.as_str()).collect()),
    );
    prop_assert_eq!(&got_ids, &want_ids, "query {:?} at {}", q, now);
    for (g, w) in got.iter().zip(&want) {
        prop_assert_eq!(
            &g.location_id,
            &w.location_id,
            "{} for {:?}",
            g.service_id,
            q
        );
        prop_assert!(
            (g.distance_m - w.distance_m).abs() < 1e-3,
            "{} vs {}",
            g.distance_m,
            w.distance_m
        );
        prop_assert_eq!(
            g.open_now,
            w.open_now,
            "open at {} of {} at {}",
            now,
            g.service_id,
            g.location_id
        );
        prop_assert_eq!(g.free, w.free, "free of {}", g.service_id);
        prop_assert_eq!(
            (g.in_person, g.online),
            (w.in_person, w.online),
            "attendance of {}",
            g.service_id
        );
    }
    Ok(got.len())
}

/// Every listing near Bristol open at each quarter hour from 23:30 to 03:00 UTC on the nights
/// the clocks change (and the Saturday nights a week before, for contrast): sessions that start
/// or end in the skipped spring hour or the repeated autumn hour, overnight sessions across them.
#[test]
fn open_at_agrees_through_the_clock_changes() {
    let (_t, db, reference) = varied_directory();
    let nights = [
        (2026, 3, 28),
        (2026, 3, 21),
        (2026, 10, 24),
        (2026, 10, 17),
        (2027, 3, 27),
        (2027, 10, 30),
    ];
    let mut open = 0;
    for (y, m, d) in nights {
        let midnight = Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap() + chrono::Duration::days(1);
        for quarter in -2..=12 {
            let t = midnight + chrono::Duration::minutes(15 * quarter);
            let mut q = NearQuery::at(CENTRES[0].0, CENTRES[0].1);
            q.radius_m = 80_000.0;
            q.limit = 100_000;
            q.filters.open_at = Some(t);
            q.today = Some(t.date_naive());
            open += same_as_reference(&db, &reference, &q, t).unwrap();
        }
    }
    assert!(open > 500, "many sessions run in the small hours ({open})");
}

#[test]
fn near_equals_an_independent_reference() {
    let (_t, db, reference) = varied_directory();
    let mut runner = TestRunner::new(Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(300),
        ..Config::default()
    });
    let strategy = (
        0..2usize,
        -0.5f64..0.5,
        -0.5f64..0.5,
        0.3f64..40.0,
        1usize..40,
        varied_filters(),
        instant(),
    );
    let (found, found_open) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner
        .run(
            &strategy,
            |(c, dlat, dlon, km, limit, (mut filters, open_now), now)| {
                if open_now {
                    filters.open_at = Some(now);
                }
                let q = NearQuery {
                    latitude: CENTRES[c].0 + dlat,
                    longitude: CENTRES[c].1 + dlon,
                    radius_m: km * 1000.0,
                    limit,
                    filters,
                    today: Some(now.date_naive()),
                };
                let found_here = same_as_reference(&db, &reference, &q, now)?;
                if found_here > 0 {
                    found.set(found.get() + 1);
                    if q.filters.open_at.is_some() {
                        found_open.set(found_open.get() + 1);
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    let cases = runner.config().cases;
    assert!(
        found.get() * 3 > cases && found_open.get() * 10 > cases,
        "the random queries must often find something ({} of {cases}, {} open at a time)",
        found.get(),
        found_open.get()
    );
}

/// A place's own schedules replace the service's, even when they only say "ring to check":
/// "open at" must not fall back to the service's hours there, as `open_now` does not.
#[test]
fn a_place_with_its_own_schedules_keeps_to_them() {
    let (_t, mut db) = temp_directory();
    let listing = json!({
        "id": "hall", "name": "Hall", "status": "active",
        "schedules": [{"freq": "DAILY", "opens_at": "00:00", "closes_at": "24:00"}],
        "service_at_locations": [
            {"id": "near", "location": {"id": "near", "latitude": 51.44, "longitude": -2.60},
             "schedules": [{"description": "Ring to check"}]},
            {"id": "far", "location": {"id": "far", "latitude": 51.46, "longitude": -2.60}}
        ]
    });
    db.import_sources(vec![("t".into(), vec![listing])], &mut quiet)
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    let mut q = NearQuery::at(51.44, -2.60);
    let all = db.near(&q, now).unwrap();
    assert_eq!(
        (all[0].location_id.as_str(), all[0].open_now),
        ("near", None)
    );
    q.filters.open_at = Some(now);
    let open = db.near(&q, now).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].location_id.as_str(), open[0].open_now),
        ("far", Some(true)),
        "open at the place that follows the service's hours"
    );
}

/// Two listings at the same hall: the one whose publisher last checked it over a year before
/// the query's day comes after the one checked since, though it was stored first (rowid order
/// alone would put it first); on a day when both are fresh, rowid order again. The same in the
/// indexed walk, the direct text search, the brute force and the ORUK proximity pages, which
/// also mark each record.
#[test]
fn at_equal_distance_fresher_listings_come_first() {
    use signpost_directory::oruk::OUT_OF_DATE_MARK;
    use signpost_directory::{Proximity, ServiceQuery};
    let (_t, mut db) = temp_directory();
    let hall = json!({"id": "hall", "latitude": 51.45, "longitude": -2.58});
    let listing = |id: &str, assured: &str| {
        json!({"id": id, "name": format!("{id} choir"), "status": "active", "assured_date": assured,
               "service_at_locations": [{"id": format!("{id}-hall"), "location": hall}]})
    };
    let r = db
        .import_sources(
            vec![(
                "t".into(),
                vec![listing("old", "2024-01-10"), listing("new", "2025-09-01")],
            )],
            &mut quiet,
        )
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    for (today, order) in [
        // 2024 is a leap year: 2024-01-10 is 365 days before 2025-01-09.
        (day(2025, 1, 9), ["old", "new"]),
        (day(2025, 1, 10), ["new", "old"]),
        (day(2026, 6, 1), ["new", "old"]),
        (day(2026, 9, 1), ["new", "old"]),
        (day(2026, 9, 2), ["old", "new"]),
    ] {
        for text in [None, Some("choir".to_string())] {
            let mut q = NearQuery::at(51.46, -2.58);
            q.today = Some(today);
            q.filters.text = text;
            let ids = |found: Vec<signpost_directory::NearResult>| {
                found.into_iter().map(|r| r.service_id).collect::<Vec<_>>()
            };
            assert_eq!(ids(db.near(&q, now).unwrap()), order, "on {today}");
            assert_eq!(ids(db.near_brute_force(&q, now).unwrap()), order);
            q.limit = 1;
            assert_eq!(ids(db.near(&q, now).unwrap()), order[..1], "on {today}");
        }
        let near = Proximity {
            latitude: 51.46,
            longitude: -2.58,
            radius_m: 5_000.0,
        };
        let mut seen = Vec::new();
        for page in 1..=2 {
            let q = ServiceQuery {
                page,
                per_page: 1,
                today: Some(today),
                ..Default::default()
            };
            for text in db.service_at_location_page(&q, Some(near)).unwrap().items {
                let sal: Value = serde_json::from_str(&text).unwrap();
                let checked = match sal["service_id"].as_str() {
                    Some("old") => day(2024, 1, 10),
                    _ => day(2025, 9, 1),
                };
                let stale = (today - checked).num_days() > 365;
                assert_eq!(sal[OUT_OF_DATE_MARK], json!(stale), "on {today}");
                seen.push(sal["service_id"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(seen, order, "ORUK pages on {today}");
    }
}

/// A text matching more listings than are searched directly goes through a tree of its matches
/// once it is asked again: every ask, first and later, gives the brute force's answer.
#[test]
fn a_common_word_asked_again_gives_the_same_exact_answers() {
    let (_t, db) = load(20_000, 29);
    let index = db.index().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 60,
        ..Config::default()
    });
    runner
        .run(
            &(
                0..CENTRES.len(),
                -0.3f64..0.3,
                -0.3f64..0.3,
                1.0f64..60.0,
                1usize..40,
                0..WORDS.len(),
                any::<bool>(),
            ),
            |(centre, dlat, dlon, km, limit, word, no_referral)| {
                let (lat, lon) = CENTRES[centre];
                let mut q = NearQuery::at(lat + dlat, lon + dlon);
                q.radius_m = km * 1000.0;
                q.limit = limit;
                q.filters.text = Some(WORDS[word].to_string());
                q.filters.no_referral = no_referral;
                // Twice: the second ask may use the matches' tree.
                same_as_brute_force(index, db.connection(), &q)?;
                same_as_brute_force(index, db.connection(), &q)?;
                Ok(())
            },
        )
        .unwrap();
}
