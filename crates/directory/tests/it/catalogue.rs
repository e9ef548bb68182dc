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
