//! The read side a feed publishes: pages of full records.
use serde_json::{json, Value};
use signpost_directory::ServiceQuery;

use crate::{quiet, temp_directory};

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
                seen.extend(
                    p.items
                        .iter()
                        .map(|r| r["id"].as_str().unwrap().to_string()),
                );
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
        seen.extend(
            p.items
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(seen, expected);
    let err = readers[0].delete("svc-00").unwrap_err().to_string();
    assert!(err.contains("readonly"), "{err}");
    assert_eq!(db.stats().unwrap().listings, 60);
}
