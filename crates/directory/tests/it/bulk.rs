//! Large imports: batches that grow, places shared between listings, ids that come twice, and
//! the write-ahead log checkpointed on another thread.
use serde_json::{json, Value};
use signpost_directory::Directory;

use crate::{quiet, temp_directory};

const NEW: usize = 1400;
const LOCATIONS: usize = 50;

/// Listing `i`, at one of a few shared locations, named `name`.
fn listing(i: usize, name: &str) -> Value {
    let loc = i % LOCATIONS;
    json!({
        "id": format!("svc-{i}"),
        "name": name,
        "status": "active",
        "organization": {"id": format!("org-{}", i % 7), "name": format!("Organisation {}", i % 7)},
        "attributes": [
            {"taxonomy_term_id": "signpost:access:drop-in"},
            {"taxonomy_term_id": "signpost:interest:walking"},
            {"taxonomy_term_id": "signpost:cost:free"}
        ],
        "phones": [{"number": format!("0117 496 {i:04}")}],
        "languages": [{"name": "English", "code": "en"}],
        "schedules": [{"freq": "WEEKLY", "byday": "TU", "opens_at": "10:00", "closes_at": "12:00"}],
        "service_at_locations": [{
            "id": format!("svc-{i}-at-{loc}"),
            "location": {
                "id": format!("loc-{loc}"),
                "latitude": 51.45 + loc as f64 * 0.001,
                "longitude": -2.59,
                // Each listing says something different about the shared place: the last one
                // written must win, and its address must not pile up on earlier ones.
                "addresses": [{"address_1": format!("{i} Shared Street"), "city": "Bristol",
                               "postal_code": "BS1 4DJ", "country": "GB"}],
                "accessibility": [{"description": format!("step-free ({i})")}]
            }
        }]
    })
}

fn count(db: &Directory, sql: &str) -> i64 {
    db.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_large_import_with_shared_places_and_repeated_ids_is_stored_exactly() {
    let (_t, mut db) = temp_directory();
    // Batches grow from 500: this import is written as 500, 750 and 250 listings.
    let first = 0..NEW - 100;
    // Listings seen again in the same import, with new names: 50 from an earlier batch, then 50
    // from the batch they are in.
    let earlier = 0..50;
    let same_batch = NEW - 150..NEW - 100;
    // Then new listings again, two to each place, in the same batch.
    let last = NEW - 100..NEW;
    let group = |i: usize| listing(i, &format!("Group {i}"));
    let renamed = |i: usize| listing(i, &format!("Renamed choir {i}"));
    let records: Vec<Value> = (first.clone().map(group))
        .chain(earlier.clone().map(renamed))
        .chain(same_batch.clone().map(renamed))
        .chain(last.clone().map(group))
        .collect();
    let order: Vec<usize> = first.chain(earlier).chain(same_batch).chain(last).collect();
    let last_at: Vec<usize> = (0..LOCATIONS)
        .map(|loc| *order.iter().rev().find(|i| *i % LOCATIONS == loc).unwrap())
        .collect();

    let report = db
        .import_sources(vec![("bulk.json".into(), records)], &mut quiet)
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.inserted, report.replaced), (NEW, 100));

    let n = NEW as i64;
    assert_eq!(count(&db, "SELECT count(*) FROM service"), n);
    assert_eq!(count(&db, "SELECT count(*) FROM service_record"), n);
    assert_eq!(count(&db, "SELECT count(*) FROM service_facet"), n);
    assert_eq!(count(&db, "SELECT count(*) FROM service_at_location"), n);
    assert_eq!(count(&db, "SELECT count(*) FROM attribute"), 3 * n);
    assert_eq!(count(&db, "SELECT count(*) FROM schedule"), n);
    assert_eq!(count(&db, "SELECT count(*) FROM phone"), n);
    assert_eq!(count(&db, "SELECT count(*) FROM language"), n);
    assert_eq!(count(&db, "SELECT count(*) FROM organization"), 7);
    assert_eq!(
        count(&db, "SELECT count(*) FROM location"),
        LOCATIONS as i64
    );
    assert_eq!(count(&db, "SELECT count(*) FROM address"), LOCATIONS as i64);
    assert_eq!(
        count(&db, "SELECT count(*) FROM accessibility"),
        LOCATIONS as i64
    );
    for (loc, last) in last_at.iter().enumerate() {
        let address: String = db
            .connection()
            .query_row(
                "SELECT a.address_1 FROM address a JOIN location l ON l.rowid = a.location_rowid
                 WHERE l.id = ?1",
                [format!("loc-{loc}")],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(address, format!("{last} Shared Street"), "loc-{loc}");
    }
    // Every child row belongs to the service row now holding its id.
    let stale: i64 = count(
        &db,
        "SELECT count(*) FROM phone p JOIN service s ON s.rowid = p.service_rowid
         WHERE p.number != '0117 496 ' || substr('0000' || substr(s.id, 5), -4)",
    );
    assert_eq!(stale, 0, "phones follow their listing");
    let orphans: Vec<String> = db
        .connection()
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        orphans.is_empty(),
        "rows without their parent in {orphans:?}"
    );
    let integrity: String = db
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    // Text search sees exactly the new names.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM service_fts WHERE service_fts MATCH 'renamed'"
        ),
        100
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM service_fts WHERE service_fts MATCH 'group'"
        ),
        n - 100
    );
    assert_eq!(
        db.listing("svc-1299").unwrap().service.name,
        "Renamed choir 1299"
    );
    assert_eq!(db.listing("svc-1300").unwrap().service.name, "Group 1300");
}

#[test]
fn an_import_hands_back_a_checkpointed_log() {
    let (t, mut db) = temp_directory();
    let records: Vec<Value> = (0..2000).map(|i| listing(i, "Walk")).collect();
    db.import_sources(vec![("bulk.json".into(), records)], &mut quiet)
        .unwrap();
    let wal = t.path().join("directory.db-wal");
    assert_eq!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0),
        0,
        "everything is in the database file"
    );
    let pages: i64 = db
        .connection()
        .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pages, 1000, "the automatic checkpoint is back on");
    // Another process opening the file sees every listing.
    drop(db);
    let again = Directory::open(&t.path().join("directory.db")).unwrap();
    assert_eq!(again.stats().unwrap().listings, 2000);
}
