//! Suggestions equal a brute-force reference over the same rules, on the real default region;
//! "something new for someone" and "who might like this" follow them too.
use std::cmp::Reverse;

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Europe::London;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use signpost_caseload::suggest::{self, new_for_people, who_might_like, Options, TimeFit};
use signpost_caseload::{Person, PersonDetails};
use signpost_directory::changeset::Changeset;
use signpost_directory::taxonomy::TAXONOMY_ID;
use signpost_directory::{Directory, NearQuery};

use crate::common::{default_region, new_caseload, person, today};

/// The rules, applied to every listing within reach found by scanning every point; written
/// apart from `suggest`: interests and access read from each listing's HSDS attributes, free
/// times matched here, everything sorted at the end.
fn reference(
    dir: &Directory,
    p: &Person,
    now: DateTime<Utc>,
    o: Options,
) -> Vec<(String, u8, usize)> {
    let (lat, lon) = suggest::home_point(p).unwrap();
    let q = NearQuery {
        radius_m: p.travel_m(),
        limit: 1 << 30,
        ..NearQuery::at(lat, lon)
    };
    let index = dir.index().unwrap();
    let hits = index.brute_force(dir.connection(), &q).unwrap();
    let wanted: Vec<String> = p.details.interests.clone();
    let free: Vec<(u32, u32)> = p
        .details
        .free_times
        .iter()
        .map(|t| {
            let (d, part) = t.split_once('-').unwrap();
            let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .position(|x| *x == d)
                .unwrap() as u32;
            let part = ["morning", "afternoon", "evening"]
                .iter()
                .position(|x| *x == part)
                .unwrap() as u32;
            (day, part)
        })
        .collect();
    let mut out = Vec::new();
    for hit in hits {
        let entry = index.service(hit.service);
        let (id, _, _) = dir.hit_names(&hit).unwrap();
        let record = dir.listing(&id).unwrap();
        let terms: Vec<String> = record
            .service
            .attributes
            .iter()
            .filter_map(|a| a.term_id().map(str::to_string))
            .filter(|t| t.starts_with(&format!("{TAXONOMY_ID}:")))
            .collect();
        let matched = wanted.iter().filter(|w| terms.contains(w)).count();
        if !wanted.is_empty() && matched == 0 {
            continue;
        }
        let no_referral = terms
            .iter()
            .any(|t| t == "signpost:access:drop-in" || t == "signpost:access:self-referral");
        if p.details.no_referral_only && !no_referral {
            continue;
        }
        let sessions = dir.sessions(&hit, now, o.horizon_days).unwrap();
        let mut misses = 0u8;
        match sessions {
            None if !free.is_empty() => misses += 1,
            Some(s) if !free.is_empty() => {
                let fits = s.iter().any(|(start, _)| {
                    let l = start.with_timezone(&London);
                    let minute = l.hour() * 60 + l.minute();
                    let part = if minute < 12 * 60 {
                        0
                    } else if minute < 17 * 60 {
                        1
                    } else {
                        2
                    };
                    free.contains(&(l.weekday().num_days_from_monday(), part))
                });
                if !fits {
                    continue;
                }
            }
            _ => {}
        }
        if p.details
            .access_needs
            .iter()
            .any(|a| a.ends_with(":wheelchair"))
            && !entry.wheelchair
        {
            misses += 1;
        }
        let others: Vec<String> = p
            .details
            .languages
            .iter()
            .filter(|l| *l != "en")
            .cloned()
            .collect();
        if !others.is_empty() && !index.speaks_any(hit.service, &others) {
            misses += 1;
        }
        out.push((
            (misses, Reverse(matched), hit.distance_m, hit.service),
            (id, misses, matched),
        ));
    }
    out.sort_by(|a, b| {
        (a.0 .0, a.0 .1)
            .cmp(&(b.0 .0, b.0 .1))
            .then(a.0 .2.total_cmp(&b.0 .2))
            .then(a.0 .3.cmp(&b.0 .3))
    });
    out.into_iter().take(o.limit).map(|(_, v)| v).collect()
}

fn random_people(dir: &Directory, n: usize, seed: u64, interests: &[&str]) -> Vec<PersonDetails> {
    let mut rng = StdRng::seed_from_u64(seed);
    let postcodes: Vec<String> = {
        let mut stmt = dir
            .connection()
            .prepare("SELECT DISTINCT postal_code FROM address WHERE postal_code LIKE '% %' ORDER BY postal_code")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(
        postcodes.len() > 500,
        "the default region has stop postcodes"
    );
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let parts = ["morning", "afternoon", "evening"];
    (0..n)
        .map(|i| {
            let pc = &postcodes[rng.random_range(0..postcodes.len())];
            let (out, inward) = pc.split_once(' ').unwrap();
            let area = if rng.random_bool(0.5) {
                out.to_string()
            } else {
                format!("{out} {}", &inward[..1])
            };
            PersonDetails {
                name: format!("Person {i}"),
                home_area: area,
                interests: (0..rng.random_range(0..3))
                    .map(|_| interests[rng.random_range(0..interests.len())].to_string())
                    .collect(),
                access_needs: if rng.random_bool(0.2) {
                    vec!["wheelchair".into()]
                } else {
                    vec![]
                },
                languages: if rng.random_bool(0.2) {
                    vec!["en".into(), "pl".into()]
                } else {
                    vec![]
                },
                free_times: (0..rng.random_range(0..7))
                    .map(|_| {
                        format!(
                            "{}-{}",
                            days[rng.random_range(0..7)],
                            parts[rng.random_range(0..3)]
                        )
                    })
                    .collect(),
                no_referral_only: rng.random_bool(0.3),
                travel_km: Some([1.0, 3.0, 5.0, 10.0, 20.0][rng.random_range(0..5)]),
                ..PersonDetails::default()
            }
        })
        .collect()
}

/// Compare `suggest` with the reference for these people at several instants; returns
/// (non-empty answers, suggestions that fitted free times).
fn compare(dir: &Directory, people: &[PersonDetails]) -> (usize, usize) {
    let (_d, _p, c) = new_caseload();
    let ids = c.add_people(people, today()).unwrap();
    let nows = [
        Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0).unwrap(),
        // Across the clock change, in each direction.
        Utc.with_ymd_and_hms(2027, 3, 20, 18, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2027, 10, 25, 7, 0, 0).unwrap(),
    ];
    let mut non_empty = 0;
    let mut with_fits = 0;
    for now in nows {
        for (i, id) in ids.iter().enumerate() {
            let p = c.person(id).unwrap();
            for limit in [3, 10] {
                let o = Options {
                    limit,
                    horizon_days: 28,
                };
                let got = suggest::suggest(dir, &p, now, o).unwrap();
                let got_keys: Vec<(String, u8, usize)> = got
                    .iter()
                    .map(|s| (s.service_id.clone(), s.misses, s.interests.len()))
                    .collect();
                assert_eq!(
                    got_keys,
                    reference(dir, &p, now, o),
                    "person {i} {:?} at {now}",
                    p.details
                );
                non_empty += usize::from(!got.is_empty());
                with_fits += got
                    .iter()
                    .filter(|s| matches!(s.time_fit, TimeFit::Fits { .. }))
                    .count();
                for s in &got {
                    assert!(s.distance_m <= p.travel_m());
                    assert!(
                        s.reasons[0].ends_with(" m") || s.reasons[0].ends_with(" km"),
                        "{:?}",
                        s.reasons
                    );
                }
            }
        }
    }
    (non_empty, with_fits)
}

#[test]
fn suggestions_equal_the_brute_force_reference_on_the_default_region() {
    let dir = default_region();
    let people = random_people(&dir, 80, 7, &["reading", "learning", "walking", "digital"]);
    let (non_empty, with_fits) = compare(&dir, &people);
    // The comparison covered real answers, including ones matched on free times.
    assert!(non_empty > 120, "only {non_empty} non-empty answers");
    assert!(
        with_fits > 100,
        "only {with_fits} suggestions fitted free times"
    );
}

/// Greater Manchester's assets are dense and varied (many state no times), so answers are
/// cut from many candidates and ranked by more than distance.
#[test]
fn suggestions_equal_the_brute_force_reference_on_greater_manchester() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("gm.db");
    let mut dir = Directory::open(&path).unwrap();
    let region = signpost_directory::Region::from_folder(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../regions/greater-manchester"),
    )
    .unwrap();
    dir.load_region(&region, &mut |_| {}).unwrap();
    let interests: Vec<&str> = signpost_directory::taxonomy::Taxonomy::signpost()
        .group("interest")
        .unwrap()
        .terms
        .iter()
        .map(|t| t.code.as_str())
        .collect();
    let people = random_people(&dir, 40, 11, &interests);
    let (non_empty, _) = compare(&dir, &people);
    assert!(non_empty > 60, "only {non_empty} non-empty answers");
}

#[test]
fn a_suggestion_says_why() {
    let dir = default_region();
    let (_d, _p, c) = new_caseload();
    // Find a real stop with a postcode and a session soon, then ask for someone free then.
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0).unwrap();
    let stops: Vec<(String, String)> = {
        let mut stmt = dir
            .connection()
            .prepare(
                "SELECT s.id, a.postal_code FROM service s
                 JOIN service_at_location sal ON sal.service_rowid = s.rowid
                 JOIN address a ON a.location_rowid = sal.location_rowid
                 WHERE a.postal_code LIKE '% %' AND s.id LIKE 'mls-%' ORDER BY s.id LIMIT 400",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let (id, start, pc) = stops
        .into_iter()
        .find_map(|(id, pc)| {
            let at = signpost_postcodes::Gazetteer::embedded()
                .resolve(&pc)
                .ok()?;
            let hit = dir.hit_for(&id, at.latitude, at.longitude).unwrap()?;
            let first = dir.sessions(&hit, now, 28).unwrap()?.first()?.0;
            Some((id, first, pc))
        })
        .expect("a stop with a postcode and sessions");
    let local = start.with_timezone(&London);
    let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [local.weekday().num_days_from_monday() as usize];
    let part = if local.hour() < 12 {
        "morning"
    } else if local.hour() < 17 {
        "afternoon"
    } else {
        "evening"
    };
    let p = c
        .add_person(
            &PersonDetails {
                interests: vec!["reading".into()],
                free_times: vec![format!("{day}-{part}")],
                access_needs: vec!["wheelchair".into()],
                travel_km: Some(20.0),
                ..person("Reader", &pc[..pc.len() - 2])
            },
            today(),
        )
        .unwrap();
    let got = suggest::suggest(&dir, &p, now, Options::default()).unwrap();
    let s = got
        .iter()
        .find(|s| s.service_id == id)
        .expect("the stop is suggested");
    let weekly = dir
        .sessions(&dir.hit_for(&id, 0.0, 0.0).unwrap().unwrap(), now, 28)
        .unwrap()
        .unwrap()
        .iter()
        .any(|(s, _)| {
            s.with_timezone(&London).date_naive() == local.date_naive() + Duration::days(7)
        });
    let when = if weekly {
        format!(
            "{}s {}, when you're free",
            local.format("%A"),
            local.format("%H:%M")
        )
    } else {
        format!("{}, when you're free", local.format("%a %-d %b %H:%M"))
    };
    assert_eq!(
        s.reasons[1..],
        [
            "reading and libraries".to_string(),
            when,
            "drop in".into(),
            "free".into(),
            "step-free access not stated".into()
        ],
        "{:?}",
        s.reasons
    );
    assert_eq!(s.misses, 1, "step-free access is not stated");
}

fn walk(id: &str, name: &str, lat: f64, interest: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "name": name, "status": "active",
        "attributes": [{"id": format!("{id}-a1"), "taxonomy_term_id": format!("signpost:interest:{interest}")},
                       {"id": format!("{id}-a2"), "taxonomy_term_id": "signpost:access:drop-in"}],
        "service_at_locations": [{"id": format!("{id}-sal"), "location": {
            "id": format!("{id}-loc"), "name": "Park gates", "latitude": lat, "longitude": -2.597}}]
    })
}

#[test]
fn something_new_for_someone_after_a_sync() {
    let (_d, _p, c) = new_caseload();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("directory.db");
    let mut dir = Directory::open(&path).unwrap();
    let cs1 = Changeset {
        seq: 1,
        prev: String::new(),
        upserts: vec![walk("w1", "Park walk", 51.441, "walking")],
        deletes: vec![],
    };
    dir.apply_changeset("f", "id", &cs1).unwrap();
    let walker = c
        .add_person(
            &PersonDetails {
                interests: vec!["walking".into()],
                ..person("Walker", "BS3 4")
            },
            today(),
        )
        .unwrap();
    let singer = c
        .add_person(
            &PersonDetails {
                interests: vec!["music".into()],
                ..person("Singer", "BS3 4")
            },
            today(),
        )
        .unwrap();
    let now = Utc::now();
    // The first look sets a baseline: nothing is "new" about what was always there.
    let first = new_for_people(&c, &dir, now, Options::default(), true).unwrap();
    assert_eq!(first.headline(), None);

    let cs2 = Changeset {
        seq: 2,
        prev: cs1.hash(),
        upserts: vec![
            walk("w2", "Riverside walk", 51.442, "walking"),
            walk("w1", "Park walk (now on Sundays too)", 51.441, "walking"),
            walk("m1", "Choir", 51.443, "music"),
        ],
        deletes: vec![],
    };
    dir.apply_changeset("f", "id", &cs2).unwrap();
    // The app reopens the directory after a sync, so its index includes the new listings.
    drop(dir);
    let dir = Directory::open(&path).unwrap();
    let new = new_for_people(&c, &dir, now, Options::default(), false).unwrap();
    assert_eq!(
        new.headline().as_deref(),
        Some("3 new listings suit 2 people"),
        "{new:?}"
    );
    let for_walker = new
        .people
        .iter()
        .find(|p| p.person_id == walker.id)
        .unwrap();
    let mut ids: Vec<&str> = for_walker
        .suggestions
        .iter()
        .map(|s| s.service_id.as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["w1", "w2"], "a changed listing counts as new");
    let for_singer = new
        .people
        .iter()
        .find(|p| p.person_id == singer.id)
        .unwrap();
    assert_eq!(for_singer.suggestions[0].service_id, "m1");
    // Not marked seen: asked again, the same; marked, then nothing.
    assert_eq!(
        new_for_people(&c, &dir, now, Options::default(), true).unwrap(),
        new
    );
    assert_eq!(
        new_for_people(&c, &dir, now, Options::default(), false)
            .unwrap()
            .headline(),
        None
    );

    // "Who on my caseload might like this?"
    let likers = who_might_like(&c, &dir, "w2", now, Options::default()).unwrap();
    assert_eq!(
        likers.iter().map(|l| l.1.as_str()).collect::<Vec<_>>(),
        ["Walker"]
    );
    assert!(
        who_might_like(&c, &dir, "no-such-listing", now, Options::default())
            .unwrap()
            .is_empty()
    );
    let _ = Duration::zero();
}

/// Dense synthetic listings (like the benchmark's): many candidates per person, most with times
/// and some without, varied access, step-free access and languages, so the walk prunes and
/// stops early, and every rule changes the ranking.
#[test]
fn suggestions_equal_the_brute_force_reference_on_dense_synthetic_listings() {
    let folder = tempfile::tempdir().unwrap();
    let mut dir = Directory::open(&folder.path().join("dense.db")).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let centres = [
        (51.4416, -2.5950, "BS3"),
        (53.4808, -2.2426, "M1"),
        (52.6280, 1.2990, "NR2"),
    ];
    let interests = ["walking", "music", "arts", "reading", "sport"];
    let access = [
        "drop-in",
        "self-referral",
        "booking-required",
        "referral-required",
    ];
    let days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    let listings: Vec<serde_json::Value> = (0..6000)
        .map(|i| {
            let (lat, lon, _) = centres[i % 3];
            let mut attributes = vec![
                serde_json::json!({"taxonomy_term_id": format!("signpost:interest:{}", interests[rng.random_range(0..5)])}),
                serde_json::json!({"taxonomy_term_id": format!("signpost:access:{}", access[rng.random_range(0..4)])}),
            ];
            if rng.random_bool(0.3) {
                attributes.push(serde_json::json!({"taxonomy_term_id": "signpost:accessibility:wheelchair"}));
            }
            let open = rng.random_range(8..20);
            let schedules = if rng.random_bool(0.6) {
                serde_json::json!([{"freq": "WEEKLY", "byday": days[rng.random_range(0..7)],
                    "opens_at": format!("{open:02}:00"), "closes_at": format!("{:02}:30", open + 1)}])
            } else {
                serde_json::json!([])
            };
            let languages = if rng.random_bool(0.1) { serde_json::json!([{"code": "pl", "name": "Polish"}]) } else { serde_json::json!([]) };
            serde_json::json!({
                "id": format!("dense-{i:05}"), "name": format!("Dense {i}"), "status": "active",
                "attributes": attributes, "schedules": schedules, "languages": languages,
                "service_at_locations": [{"id": format!("dense-{i:05}-sal"), "location": {
                    "id": format!("dense-loc-{i:05}"),
                    "latitude": lat + rng.random_range(-0.05..0.05), "longitude": lon + rng.random_range(-0.08..0.08)}}]
            })
        })
        .collect();
    let report = dir
        .import_sources(vec![("dense".into(), listings)], &mut |_| {})
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    let mut people = Vec::new();
    let day_codes = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let parts = ["morning", "afternoon", "evening"];
    for i in 0..45 {
        people.push(PersonDetails {
            name: format!("Dense person {i}"),
            home_area: centres[i % 3].2.to_string(),
            interests: (0..rng.random_range(0..3))
                .map(|_| interests[rng.random_range(0..5)].to_string())
                .collect(),
            access_needs: if rng.random_bool(0.4) {
                vec!["wheelchair".into()]
            } else {
                vec![]
            },
            languages: if rng.random_bool(0.3) {
                vec!["pl".into()]
            } else {
                vec![]
            },
            free_times: (0..rng.random_range(0..9))
                .map(|_| {
                    format!(
                        "{}-{}",
                        day_codes[rng.random_range(0..7)],
                        parts[rng.random_range(0..3)]
                    )
                })
                .collect(),
            no_referral_only: rng.random_bool(0.3),
            travel_km: Some([2.0, 5.0, 10.0][rng.random_range(0..3)]),
            ..PersonDetails::default()
        });
    }
    let (non_empty, with_fits) = compare(&dir, &people);
    assert!(non_empty > 200, "only {non_empty} non-empty answers");
    assert!(with_fits > 200, "only {with_fits} fitted free times");
}
