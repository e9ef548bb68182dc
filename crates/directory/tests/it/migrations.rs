//! Databases written by older versions upgrade; newer ones are refused.
use rusqlite::{params, Connection};
use signpost_directory::{schema, Directory, NearQuery};

#[test]
fn upgrades_a_version_1_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // What Signpost schema version 1 wrote: tables, no search columns, no FTS.
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        let record = serde_json::json!({
            "id": "old-1", "name": "Old choir", "status": "active",
            "attributes": [{"id": "a1", "taxonomy_term_id": "signpost:access:drop-in"},
                           {"id": "a2", "taxonomy_term_id": "signpost:interest:music"}],
            "service_at_locations": [{"id": "sal", "location": {"id": "loc", "latitude": 51.45, "longitude": -2.58}}]
        })
        .to_string();
        conn.execute(
            "INSERT INTO service(id, name, status, content_hash) VALUES ('old-1', 'Old choir', 'active', x'00')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO service_record(service_rowid, record) VALUES (1, ?1)",
            [record],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO location(id, latitude, longitude, coord_status) VALUES ('loc', 51.45, -2.58, 'ok')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO service_at_location(id, service_rowid, location_rowid) VALUES ('sal', 1, 1)",
            params![],
        )
        .unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
    }
    let db = Directory::open(&path).unwrap();
    let v: u32 = db
        .connection()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, schema::VERSION);
    let mut q = NearQuery::at(51.45, -2.58);
    q.filters.no_referral = true;
    q.filters.interests = vec!["music".into()];
    q.filters.text = Some("choir".into());
    let hits = db.near(&q, chrono::Utc::now()).unwrap();
    assert_eq!(hits.len(), 1, "facets and FTS were backfilled");
    assert_eq!(hits[0].access, Some("drop-in"));
    assert!(
        hits[0].in_person && !hits[0].online,
        "attendance was backfilled"
    );
    q.filters.attendance = Some(signpost_directory::Attendance::Online);
    assert!(db.near(&q, chrono::Utc::now()).unwrap().is_empty());
}

#[test]
fn upgraded_schema_matches_a_fresh_one() {
    let dump = |conn: &Connection| -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let mut old = Connection::open_in_memory().unwrap();
    schema::migrate_to(&mut old, 1).unwrap();
    schema::migrate(&mut old).unwrap();
    let mut fresh = Connection::open_in_memory().unwrap();
    schema::migrate(&mut fresh).unwrap();
    assert_eq!(dump(&old), dump(&fresh));
}

#[test]
fn refuses_a_database_from_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", schema::VERSION + 1)
            .unwrap();
    }
    let err = Directory::open(&path).err().expect("must refuse");
    assert!(err.to_string().contains("Upgrade Signpost"), "{err}");
}

/// Version 5 stored a listing's languages one a space, so "British Sign Language" became three
/// words that no language filter matched; version 6 rewrites the column from the records.
#[test]
fn upgrade_keeps_language_names_with_spaces_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.db");
    let listing = serde_json::json!({
        "id": "bsl-1", "name": "Signing choir", "status": "active",
        "languages": [{"code": "bfi", "name": "British Sign Language"}, {"code": "ur", "name": "Urdu"}],
        "service_at_locations": [{"id": "sal", "location": {"id": "loc", "latitude": 51.45, "longitude": -2.58}}]
    });
    let near = |db: &Directory, language: &str| {
        let mut q = NearQuery::at(51.45, -2.58);
        q.filters.languages = vec![language.into()];
        db.near(&q, chrono::Utc::now()).unwrap().len()
    };
    {
        let mut db = Directory::open(&path).unwrap();
        let report = db
            .import_sources(vec![("test".into(), vec![listing])], &mut crate::quiet)
            .unwrap();
        assert_eq!(report.inserted, 1);
        assert_eq!(near(&db, "British Sign Language"), 1);
        // Put the column back the way version 5 wrote it (and undo versions 7 to 11).
        db.connection()
            .execute_batch(
                "UPDATE service_facet SET languages = 'bfi british sign language ur urdu';
                 DROP TABLE service_oruk; DROP TABLE service_at_location_oruk; DROP INDEX service_at_location_id;
                 ALTER TABLE sync_state DROP COLUMN feed_id;
                 DELETE FROM meta WHERE key = 'feed_id';
                 DROP TABLE region; DROP TABLE log_page;
                 DROP TABLE feed_shadow; ALTER TABLE sync_state DROP COLUMN updated_at;
                 PRAGMA user_version = 5;",
            )
            .unwrap();
    }
    let db = Directory::open(&path).unwrap();
    for language in ["British Sign Language", "bfi", "urdu", "UR"] {
        assert_eq!(near(&db, language), 1, "{language}");
    }
    assert_eq!(near(&db, "sign"), 0, "a word of a name is not a language");
}

/// Reading never writes: not a missing file (not created), not an old one (not upgraded), not
/// a current one (SQLite refuses writes on the connection).
#[test]
fn read_only_opening_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("absent.db");
    let empty = Directory::open_read_only(&absent).unwrap();
    assert_eq!(
        empty.digest().unwrap(),
        Directory::open_in_memory().unwrap().digest().unwrap()
    );
    assert!(!absent.exists());

    let old = dir.path().join("old.db");
    schema::migrate_to(&mut Connection::open(&old).unwrap(), 1).unwrap();
    let err = Directory::open_read_only(&old).err().unwrap().to_string();
    assert!(
        err.contains("older") && err.contains("upgrades it"),
        "{err}"
    );
    let v: u32 = Connection::open(&old)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1, "not upgraded");

    let current = dir.path().join("current.db");
    drop(Directory::open(&current).unwrap());
    let mut reader = Directory::open_read_only(&current).unwrap();
    assert_eq!(reader.stats().unwrap().listings, 0);
    let record = serde_json::json!({"id": "x", "name": "X", "status": "active"});
    assert!(reader
        .import_sources(vec![("x.json".to_string(), vec![record])], &mut |_| {})
        .is_err());
}

/// Version 8 stores a feed's records as its ORUK API serves them. A feed's database from
/// version 7 gets them all on upgrade and answers every page exactly as before; a directory
/// that publishes nothing (an app's) gets none and answers the same.
#[test]
fn upgrade_stores_a_feeds_oruk_text_and_answers_the_same_pages() {
    let dir = tempfile::tempdir().unwrap();
    let listings: Vec<serde_json::Value> = (0..30)
        .map(|i| serde_json::json!({"id": format!("s{i:02}"), "name": format!("Group {i}"), "status": "active",
            "organization": {"id": "o", "name": "Org"},
            "service_at_locations": [{"id": format!("sal{i}"), "location": {"id": format!("l{i}"),
                "latitude": 51.45, "longitude": -2.58 - i as f64 / 100.0,
                "addresses": [{"address_1": "1 Road", "city": "Bristol"}]}}]}))
        .collect();
    let pages = |db: &Directory| {
        let mut all = Vec::new();
        for page in 1..=4 {
            let q = signpost_directory::ServiceQuery {
                page,
                per_page: 9,
                ..Default::default()
            };
            let near = signpost_directory::Proximity {
                latitude: 51.45,
                longitude: -2.58,
                radius_m: 100_000.0,
            };
            all.push(db.service_page(&q).unwrap().items);
            all.push(db.service_at_location_page(&q, None).unwrap().items);
            all.push(db.service_at_location_page(&q, Some(near)).unwrap().items);
        }
        all
    };
    let texts = |db: &Directory| -> (i64, i64) {
        db.connection()
            .query_row(
                "SELECT (SELECT count(*) FROM service_oruk), (SELECT count(*) FROM service_at_location_oruk)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    for (name, publishing) in [("feed.db", true), ("app.db", false)] {
        let path = dir.path().join(name);
        let before = {
            let mut db = if publishing {
                Directory::open_publisher(&path).unwrap()
            } else {
                Directory::open(&path).unwrap()
            };
            db.import_sources(vec![("test".into(), listings.clone())], &mut crate::quiet)
                .unwrap();
            let before = pages(&db);
            // Undo versions 8 to 11, as version 7 left a database.
            db.connection()
                .execute_batch(
                    "DROP TABLE service_oruk; DROP TABLE service_at_location_oruk; DROP INDEX service_at_location_id;
                     DROP TABLE region; DROP TABLE log_page;
                     DROP TABLE feed_shadow; ALTER TABLE sync_state DROP COLUMN updated_at;
                     PRAGMA user_version = 7;",
                )
                .unwrap();
            before
        };
        let db = Directory::open(&path).unwrap();
        let v: u32 = db
            .connection()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema::VERSION);
        assert_eq!(
            texts(&db),
            if publishing { (30, 30) } else { (0, 0) },
            "{name}"
        );
        assert_eq!(pages(&db), before, "{name}");
        assert_eq!(before.iter().map(Vec::len).sum::<usize>(), 90, "{name}");
    }
}
