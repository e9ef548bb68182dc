//! Regions: the bundled ones a fresh install loads, counting each, removing and adding them
//! back, a region from one file, and a directory from before regions were counted.
use rusqlite::Connection;
use signpost_directory::{schema, Directory, NearQuery, Region, SourceKind};

use crate::{quiet, temp_directory};

fn count(db: &Directory, name: &str) -> Option<usize> {
    db.sources()
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| s.listings)
}

/// The ids of the 50 nearest listings.
fn near_ids(db: &Directory, lat: f64, lon: f64) -> Vec<String> {
    let mut q = NearQuery::at(lat, lon);
    q.limit = 50;
    db.search(&q)
        .unwrap()
        .iter()
        .map(|h| db.hit_names(h).unwrap().0)
        .collect()
}

#[test]
fn a_fresh_directory_gets_every_default_region_once_and_counts_each() {
    let (_t, mut db) = temp_directory();
    let defaults = Region::bundled_defaults().unwrap();
    let names: Vec<&str> = defaults.iter().map(|r| r.manifest.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "England's public libraries",
            "Greater Manchester community assets",
            "UK mobile library stops"
        ]
    );
    let reports = db.ensure_regions(&defaults).unwrap();
    assert_eq!(reports.len(), 3);
    assert!(reports.iter().all(|r| r.errors.is_empty()));
    let sources = db.sources().unwrap();
    let counted: Vec<(&str, usize, SourceKind)> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.listings, s.kind))
        .collect();
    assert_eq!(
        counted,
        [
            ("England's public libraries", 2986, SourceKind::Region),
            (
                "Greater Manchester community assets",
                5200,
                SourceKind::Region
            ),
            ("UK mobile library stops", 4438, SourceKind::Region),
        ]
    );
    assert!(sources.iter().all(|s| !s.attribution.is_empty()));
    assert_eq!(db.stats().unwrap().listings, 2986 + 5200 + 4438);
    // Not twice.
    assert!(db.ensure_regions(&defaults).unwrap().is_empty());
    assert_eq!(db.stats().unwrap().listings, 2986 + 5200 + 4438);
}

#[test]
fn a_removed_region_takes_its_listings_away_and_comes_back_when_added() {
    let (_t, mut db) = temp_directory();
    let defaults = Region::bundled_defaults().unwrap();
    db.ensure_regions(&defaults).unwrap();
    // Wigan town centre: its library (epl-3121, England's list) and Greater Manchester's
    // assets (gm-…).
    let before = near_ids(&db, 53.5448, -2.6318);
    assert!(before.iter().any(|id| id == "epl-3121"), "{before:?}");
    assert_eq!(before.len(), 50);
    assert!(before.iter().any(|id| id.starts_with("gm-")), "{before:?}");

    let removed = db
        .remove_region("Greater Manchester community assets")
        .unwrap();
    assert_eq!(removed, 5200);
    assert_eq!(count(&db, "Greater Manchester community assets"), None);
    assert_eq!(db.stats().unwrap().listings, 2986 + 4438);
    // The search index follows at once: only libraries and stops are near Wigan now.
    let after = near_ids(&db, 53.5448, -2.6318);
    assert!(after.iter().any(|id| id == "epl-3121"), "{after:?}");
    assert!(
        after
            .iter()
            .all(|id| id.starts_with("epl-") || id.starts_with("mls-")),
        "{after:?}"
    );
    // A directory whose regions were removed is not refilled on the next start.
    db.remove_region("England's public libraries").unwrap();
    db.remove_region("UK mobile library stops").unwrap();
    assert_eq!(db.stats().unwrap().listings, 0);
    assert!(db.ensure_regions(&defaults).unwrap().is_empty());
    assert_eq!(db.stats().unwrap().listings, 0);
    // Removing what is not there says so and changes nothing.
    let err = db.remove_region("Atlantis").unwrap_err().to_string();
    assert!(err.contains("Atlantis"), "{err}");

    let gm = Region::bundled_by_id("greater-manchester").unwrap();
    db.load_region(&gm, &mut quiet).unwrap();
    assert_eq!(
        count(&db, "Greater Manchester community assets"),
        Some(5200)
    );
    assert!(near_ids(&db, 53.5448, -2.6318).len() == 50);
}

#[test]
fn a_listings_file_is_a_region_named_after_it() {
    let (_t, mut db) = temp_directory();
    let bytes = std::fs::read(crate::fixture("hsds-3.0/service_list.json")).unwrap();
    let region = Region::from_bytes("camden-groups.json", bytes).unwrap();
    assert_eq!(region.manifest.name, "camden-groups");
    let report = db.load_region(&region, &mut quiet).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(count(&db, "camden-groups"), Some(report.inserted));
    assert!(report.inserted > 0);
    // A file that is not listings is one clear error naming it, and nothing is recorded.
    let bad = Region::from_bytes("notes.json", b"{\"hello\": ".to_vec()).unwrap();
    let err = db.load_region(&bad, &mut quiet).unwrap_err().to_string();
    assert!(err.contains("notes.json"), "{err}");
    assert_eq!(count(&db, "notes"), None);
    // A gzip that unpacks to more than a file may hold is refused before it is all in memory.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..260 {
        std::io::Write::write_all(&mut gz, &zeros).unwrap();
    }
    let bomb = Region::from_bytes("big.json.gz", gz.finish().unwrap()).unwrap();
    let err = db.load_region(&bomb, &mut quiet).unwrap_err().to_string();
    assert!(
        err.contains("big.json.gz: inflates to more than 256 MB"),
        "{err}"
    );
}

#[test]
fn a_directory_from_before_regions_were_counted_keeps_its_region() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("old.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 8).unwrap();
    }
    {
        // Version 8 recorded the one region loaded in `meta`.
        let mut db = Directory::open(&path).unwrap();
        let stops = Region::bundled_by_id("mobile-library-stops").unwrap();
        db.load_region(&stops, &mut quiet).unwrap();
    }
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE region; DROP TABLE feed_shadow; ALTER TABLE sync_state DROP COLUMN updated_at; DROP TABLE log_page;
         PRAGMA user_version = 8;",
    )
    .unwrap();
    drop(conn);
    let mut db = Directory::open(&path).unwrap();
    assert_eq!(count(&db, "UK mobile library stops"), Some(4438));
    // It was seeded once, so the new defaults are offered in settings, not forced on it.
    assert!(db
        .ensure_regions(&Region::bundled_defaults().unwrap())
        .unwrap()
        .is_empty());
    assert_eq!(db.remove_region("UK mobile library stops").unwrap(), 4438);
}
