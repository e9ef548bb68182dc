//! The read side a feed publishes: pages of full records.
use serde_json::{json, Value};
use signpost_directory::{Directory, ServiceQuery};

use crate::{quiet, temp_directory};

/// The `id` of a record given as ORUK text.
fn id_of(text: &str) -> String {
    let record: Value = serde_json::from_str(text).unwrap();
    record["id"].as_str().unwrap().to_string()
}

#[test]
fn pages_hold_every_matching_listing_once_in_id_order() {
    let (_t, mut db) = temp_directory();
    // Ids in a scrambled order, so storage order is not id order.
    let ids: Vec<String> = (0..230)
        .map(|i| format!("svc-{:03}", (i * 97) % 230))
        .collect();
    let records: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut attributes = vec![json!({"taxonomy_term_id": "signpost:access:drop-in"})];
            if i % 3 == 0 {
                attributes.push(json!({"taxonomy_term_id": "signpost:interest:walking"}));
            }
            json!({"id": id, "name": if i % 5 == 0 { "Choir" } else { "Group" }, "status": "active",
                   "organization": {"id": format!("org-{}", i % 4), "name": "Organisation"},
                   "attributes": attributes})
        })
        .collect();
    db.import_sources(vec![("catalogue".into(), records)], &mut quiet)
        .unwrap();
    let matching = |keep: &dyn Fn(usize) -> bool| -> Vec<String> {
        let mut m: Vec<String> = (0..ids.len())
            .filter(|i| keep(*i))
            .map(|i| ids[i].clone())
            .collect();
        m.sort();
        m
    };
    let cases: Vec<(ServiceQuery, Vec<String>)> = vec![
        (ServiceQuery::default(), matching(&|_| true)),
        (
            ServiceQuery {
                taxonomy_term_id: Some("signpost:interest:walking".into()),
                ..Default::default()
            },
            matching(&|i| i % 3 == 0),
        ),
        (
            ServiceQuery {
                organization_id: Some("org-1".into()),
                ..Default::default()
            },
            matching(&|i| i % 4 == 1),
        ),
        (
            ServiceQuery {
                search: Some("choir".into()),
                ..Default::default()
            },
            matching(&|i| i % 5 == 0),
        ),
    ];
    for (query, expected) in cases {
        for per_page in [7, 50] {
            let mut seen = Vec::new();
            let mut page = 1;
            loop {
                let q = ServiceQuery {
                    page,
                    per_page,
                    ..query.clone()
                };
                let p = db.service_page(&q).unwrap();
                assert_eq!(p.total_items as usize, expected.len());
                if p.items.is_empty() {
                    break;
                }
                assert!(p.items.len() as u64 <= per_page);
                seen.extend(p.items.iter().map(|r| id_of(r)));
                page += 1;
            }
            assert_eq!(seen, expected, "{query:?}, {per_page} a page");
        }
    }
}

/// A server's readers page services at locations by service id, each once, in the order each
/// service lists them, without sorting the table; and they cannot write.
#[test]
fn readers_page_services_at_locations_by_service_and_cannot_write() {
    let (t, mut db) = temp_directory();
    // Scrambled service ids; each service has two locations, the second id sorting first.
    let records: Vec<Value> = (0..60)
        .map(|i| {
            let id = format!("svc-{:02}", (i * 37) % 60);
            let sals: Vec<Value> = ["b", "a"]
                .iter()
                .map(|s| {
                    json!({"id": format!("{id}-{s}"), "location": {"id": format!("{id}-loc-{s}"),
                           "latitude": 52.0 + i as f64 / 1000.0, "longitude": -1.0}})
                })
                .collect();
            json!({"id": id, "name": "Group", "status": "active", "service_at_locations": sals})
        })
        .collect();
    db.import_sources(vec![("sal".into(), records)], &mut quiet)
        .unwrap();
    let mut readers =
        signpost_directory::Directory::open_readers(&t.path().join("directory.db"), 2).unwrap();
    let mut expected = Vec::new();
    for i in 0..60 {
        expected.push(format!("svc-{i:02}-b"));
        expected.push(format!("svc-{i:02}-a"));
    }
    let mut seen = Vec::new();
    for page in 1.. {
        let q = ServiceQuery {
            page,
            per_page: 7,
            ..Default::default()
        };
        let p = readers[page as usize % 2]
            .service_at_location_page(&q, None)
            .unwrap();
        assert_eq!(p.total_items, 120);
        if p.items.is_empty() {
            break;
        }
        seen.extend(p.items.iter().map(|s| id_of(s)));
    }
    assert_eq!(seen, expected);
    let err = readers[0].delete("svc-00").unwrap_err().to_string();
    assert!(err.contains("readonly"), "{err}");
    assert_eq!(db.stats().unwrap().listings, 60);
}

/// Listings leaving out fields ORUK 3.0 requires (an organization's description, a location's
/// type, parts of an address, a phone's number in a contact), with two places each.
fn unconformed(n: usize, name: &str) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"id": format!("svc-{i:03}"), "name": format!("{name} {i}"), "status": "active",
                   "organization": {"id": format!("org-{}", i % 3), "name": "Organisation"},
                   "phones": [{"number": "0117 000 0000"}],
                   "service_at_locations": [
                       {"id": format!("svc-{i:03}-b"), "location": {"id": format!("loc-{i}-b"),
                        "latitude": 51.45 + i as f64 / 1000.0, "longitude": -2.58,
                        "addresses": [{"address_1": "1 High Street", "city": "Bristol", "postal_code": "BS1 1AA", "country": "GB"}]}},
                       {"id": format!("svc-{i:03}-a"), "location": {"id": format!("loc-{i}-a"),
                        "latitude": 51.46, "longitude": -2.59 - i as f64 / 1000.0}}]})
        })
        .collect()
}

/// Pages as (total_items, texts).
type Pages = Vec<(u64, Vec<String>)>;

/// Every page of services and of services at locations, as texts, with their totals.
fn every_page(db: &Directory) -> (Pages, Pages) {
    let pages = |get: &dyn Fn(u64) -> signpost_directory::OrukPage| {
        let mut all = Vec::new();
        for page in 1.. {
            let p = get(page);
            if p.items.is_empty() {
                break;
            }
            all.push((p.total_items, p.items));
        }
        all
    };
    let q = |page| ServiceQuery {
        page,
        per_page: 7,
        ..Default::default()
    };
    let near = signpost_directory::Proximity {
        latitude: 51.45,
        longitude: -2.58,
        radius_m: 50_000.0,
    };
    let services = pages(&|page| db.service_page(&q(page)).unwrap());
    let mut places = pages(&|page| db.service_at_location_page(&q(page), None).unwrap());
    places.extend(pages(&|page| {
        db.service_at_location_page(&q(page), Some(near)).unwrap()
    }));
    (services, places)
}

/// The ORUK text, made from the stored record, as the feed made it per request before the
/// text was stored: parsed, filled in, serialised.
fn conformed(db: &Directory, id: &str) -> String {
    let record: String = db
        .connection()
        .query_row(
            "SELECT r.record FROM service s JOIN service_record r ON r.service_rowid = s.rowid WHERE s.id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    let record = signpost_directory::oruk::conform(serde_json::from_str(&record).unwrap());
    serde_json::to_string(&record).unwrap()
}

fn stored_texts(db: &Directory) -> (i64, i64) {
    db.connection()
        .query_row(
            "SELECT (SELECT count(*) FROM service_oruk), (SELECT count(*) FROM service_at_location_oruk)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

/// A feed stores each listing's ORUK text, which is exactly what conforming its record makes,
/// and a directory that publishes nothing stores none yet answers every page the same.
#[test]
fn a_feed_serves_stored_oruk_text_equal_to_conforming_each_record() {
    let t = tempfile::tempdir().unwrap();
    let mut feed = Directory::open_publisher(&t.path().join("feed.db")).unwrap();
    let mut plain = Directory::open(&t.path().join("plain.db")).unwrap();
    for db in [&mut feed, &mut plain] {
        db.import_sources(vec![("oruk".into(), unconformed(20, "Group"))], &mut quiet)
            .unwrap();
    }
    assert_eq!(stored_texts(&feed), (20, 40));
    assert_eq!(stored_texts(&plain), (0, 0), "only a feed keeps ORUK text");
    for i in 0..20 {
        let id = format!("svc-{i:03}");
        let text = feed.oruk_service(&id).unwrap();
        assert_eq!(text, conformed(&feed, &id));
        assert_eq!(text, plain.oruk_service(&id).unwrap());
        let record: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(record["organization"]["description"], "");
        assert_eq!(
            record["service_at_locations"][1]["location"]["location_type"],
            "physical"
        );
        for sal in ["a", "b"] {
            let sal_id = format!("{id}-{sal}");
            let text = feed.oruk_service_at_location(&sal_id).unwrap();
            assert_eq!(text, plain.oruk_service_at_location(&sal_id).unwrap());
            let expected = signpost_directory::oruk::service_at_location(
                &serde_json::from_str(&conformed(&feed, &id)).unwrap(),
                &sal_id,
            )
            .unwrap();
            assert_eq!(text, serde_json::to_string(&expected).unwrap());
        }
    }
    let pages = every_page(&feed);
    assert_eq!(pages.0.iter().map(|p| p.1.len()).sum::<usize>(), 20);
    assert!(
        pages.1.len() > 6,
        "both kinds of services-at-locations page"
    );
    assert_eq!(pages, every_page(&plain));
}

/// A listing changed or deleted in a feed has its ORUK text replaced or removed with it; none
/// is left behind.
#[test]
fn a_feeds_oruk_text_follows_its_listings() {
    let t = tempfile::tempdir().unwrap();
    let mut feed = Directory::open_publisher(&t.path().join("feed.db")).unwrap();
    feed.import_sources(vec![("oruk".into(), unconformed(10, "Group"))], &mut quiet)
        .unwrap();
    let mut changed = unconformed(10, "Choir");
    changed[3]["service_at_locations"]
        .as_array_mut()
        .unwrap()
        .pop();
    let report = feed
        .import_sources(vec![("oruk".into(), changed)], &mut quiet)
        .unwrap();
    assert_eq!(report.replaced, 10);
    assert_eq!(stored_texts(&feed), (10, 19));
    let text: Value = serde_json::from_str(&feed.oruk_service("svc-003").unwrap()).unwrap();
    assert_eq!(text["name"], "Choir 3");
    assert_eq!(text["service_at_locations"].as_array().unwrap().len(), 1);
    assert!(feed.oruk_service_at_location("svc-003-a").is_err());
    assert_eq!(
        feed.oruk_service("svc-003").unwrap(),
        conformed(&feed, "svc-003")
    );

    assert_eq!(
        feed.delete_all(&["svc-001".into(), "svc-002".into()])
            .unwrap(),
        2
    );
    assert_eq!(stored_texts(&feed), (8, 15));
    assert!(feed.oruk_service("svc-001").is_err());
    let page = feed
        .service_page(&ServiceQuery {
            page: 1,
            per_page: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.total_items, 8);
    assert_eq!(page.items.len(), 8);
}

/// Totals are remembered, but never past a change: one made through another connection (an
/// import while a server reads) or through the same one.
#[test]
fn totals_follow_changes_from_any_connection() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("feed.db");
    let mut feed = Directory::open_publisher(&path).unwrap();
    feed.import_sources(vec![("a".into(), unconformed(10, "Group"))], &mut quiet)
        .unwrap();
    let readers = Directory::open_readers(&path, 1).unwrap();
    let all = ServiceQuery {
        page: 1,
        per_page: 5,
        ..Default::default()
    };
    let totals = |db: &Directory| {
        (
            db.service_page(&all).unwrap().total_items,
            db.service_at_location_page(&all, None).unwrap().total_items,
        )
    };
    assert_eq!(totals(&readers[0]), (10, 20));
    assert_eq!(totals(&feed), (10, 20));
    feed.import_sources(vec![("b".into(), unconformed(13, "Group"))], &mut quiet)
        .unwrap();
    assert_eq!(totals(&readers[0]), (13, 26), "another connection's import");
    assert_eq!(totals(&feed), (13, 26), "its own import");
    feed.delete("svc-000").unwrap();
    assert_eq!(totals(&feed), (12, 24));
    assert_eq!(totals(&readers[0]), (12, 24));
}

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// Pages near a point, walked to the end, hold every place within the radius that passes the
/// filter once, nearest first, and their total is that count: checked against distances
/// measured here, for a radius that holds most places and one that holds a few.
#[test]
fn pages_near_a_point_hold_every_place_within_once_nearest_first() {
    let (_t, mut db) = temp_directory();
    let place = |i: usize| {
        (
            51.0 + ((i * 37) % 101) as f64 / 50.0,
            -3.0 + ((i * 53) % 97) as f64 / 40.0,
        )
    };
    let records: Vec<Value> = (0..150)
        .map(|i| {
            let sals: Vec<Value> = [i, i + 150]
                .iter()
                .map(|&k| {
                    let (lat, lon) = place(k);
                    json!({"id": format!("sal-{k}"), "location": {"id": format!("loc-{k}"), "latitude": lat, "longitude": lon}})
                })
                .collect();
            json!({"id": format!("svc-{i:03}"), "name": "Group", "status": "active",
                   "organization": {"id": format!("org-{}", i % 2), "name": "Organisation"},
                   "service_at_locations": sals})
        })
        .collect();
    db.import_sources(vec![("near".into(), records)], &mut quiet)
        .unwrap();
    let centre = (52.0, -2.0);
    for (radius_m, organization) in [
        (150_000.0, None),
        (150_000.0, Some("org-1")),
        (40_000.0, None),
    ] {
        let mut expected: Vec<String> = (0..300)
            .filter(|k| organization.is_none_or(|o| o == format!("org-{}", (k % 150) % 2)))
            .filter(|k| haversine_m(centre, place(*k)) <= radius_m)
            .map(|k| format!("sal-{k}"))
            .collect();
        assert!(expected.len() > 3, "{radius_m}: {}", expected.len());
        let mut seen = Vec::new();
        let mut last = 0.0;
        for page in 1.. {
            let q = ServiceQuery {
                organization_id: organization.map(str::to_string),
                page,
                per_page: 7,
                ..Default::default()
            };
            let near = signpost_directory::Proximity {
                latitude: centre.0,
                longitude: centre.1,
                radius_m,
            };
            let p = db.service_at_location_page(&q, Some(near)).unwrap();
            assert_eq!(p.total_items as usize, expected.len(), "{radius_m}");
            if p.items.is_empty() {
                break;
            }
            for text in &p.items {
                let sal: Value = serde_json::from_str(text).unwrap();
                let at = (
                    sal["location"]["latitude"].as_f64().unwrap(),
                    sal["location"]["longitude"].as_f64().unwrap(),
                );
                let d = haversine_m(centre, at);
                assert!(d + 1e-6 >= last, "nearest first: {d} after {last}");
                last = d;
                seen.push(sal["id"].as_str().unwrap().to_string());
            }
        }
        seen.sort();
        expected.sort();
        assert_eq!(seen, expected, "{radius_m} {organization:?}");
    }
}
