//! Importing every accepted format, idempotency, replacement, and bad input.
use std::path::Path;

use serde_json::json;
use signpost_directory::{Directory, NearQuery};

use crate::{fixture, quiet, temp_directory};

fn import(db: &mut Directory, rel: &str) -> signpost_directory::ImportReport {
    db.import_paths(&[fixture(rel).as_path()], &mut quiet)
        .unwrap()
}

#[test]
fn imports_hsds_and_oruk_examples_in_every_shape() {
    let (_t, mut db) = temp_directory();
    let single = import(&mut db, "hsds-3.0/service_full.json");
    assert_eq!(single.inserted, 1, "{:?}", single.errors);
    // The example's location is at latitude 100: kept, flagged, not indexed.
    assert!(
        single
            .warnings
            .iter()
            .any(|w| w.message.contains("out of range")),
        "{:?}",
        single.warnings
    );
    let d = db.listing("ac148810-d857-441c-9679-408f346de14b").unwrap();
    assert_eq!(d.service.name, "Community Counselling");
    assert!(d.when.unwrap().contains("10:00–18:00"));
    let list = import(&mut db, "hsds-3.0/service_list.json");
    assert_eq!(
        list.inserted + list.replaced + list.unchanged,
        1,
        "{:?}",
        list.errors
    );
    let oruk = import(&mut db, "oruk-3.0/service_list.json");
    assert!(oruk.errors.is_empty(), "{:?}", oruk.errors);
    let org = import(&mut db, "hsds-3.0/organization_full.json");
    assert!(org.errors.is_empty(), "{:?}", org.errors);
    let test_feed = import(
        &mut db,
        "oruk-validator/mocks/V3.0-UK-Test/service_list.json",
    );
    assert!(
        test_feed.errors.is_empty(),
        "{:?}",
        &test_feed.errors[..test_feed.errors.len().min(3)]
    );
    assert!(test_feed.inserted + test_feed.replaced + test_feed.unchanged > 10);
}

#[test]
fn imports_the_tabular_package() {
    let (_t, mut db) = temp_directory();
    let report = import(&mut db, "hsds-3.0/csv");
    assert_eq!(report.inserted, 1, "{:?}", report.errors);
    let d = db.listing("ac148810-d857-441c-9679-408f346de14b").unwrap();
    assert_eq!(
        d.service.organization.as_ref().unwrap().name,
        "Example Organization Inc."
    );
    assert!(
        !d.service.schedules.is_empty() || !d.service.service_at_locations[0].schedules.is_empty()
    );
    // The same record from JSON and from CSV is one listing.
    let json = import(&mut db, "hsds-3.0/service_full.json");
    assert_eq!(json.inserted, 0);
}

#[test]
fn imports_oruk_1_and_reports_bad_records_by_id_and_field() {
    let (_t, mut db) = temp_directory();
    let report = import(&mut db, "oruk-1.0/services.json");
    assert_eq!(report.inserted, 2);
    assert_eq!(report.errors.len(), 1);
    let e = &report.errors[0];
    assert_eq!(e.record, "v1-broken-003");
    assert!(e.message.contains("name"), "{e}");
    assert!(e.source.ends_with("services.json"));
    let walk = db.listing("v1-walk-001").unwrap();
    assert_eq!(walk.service.schedules[0].byday.as_deref(), Some("TU"));
    assert!(
        walk.wheelchair,
        "accessibility_for_disabilities maps to accessibility"
    );
    assert_eq!(walk.access, None, "no Signpost taxonomy: access unknown");
    // A listing without Signpost's taxonomy imports but --no-referral leaves it out.
    let mut q = NearQuery::at(51.4399, -2.5859);
    assert_eq!(db.search(&q).unwrap().len(), 2);
    q.filters.no_referral = true;
    assert!(db.search(&q).unwrap().is_empty());
    q.filters.no_referral = false;
    q.filters.wheelchair = true;
    assert_eq!(db.search(&q).unwrap().len(), 1);
}

#[test]
fn fail_feed_records_are_skipped_with_their_fields() {
    let (_t, mut db) = temp_directory();
    let report = import(
        &mut db,
        "oruk-validator/mocks/V3.0-UK-Fail/service_list.json",
    );
    // The fail mock's four services all lack the required name (the first id appears twice),
    // and two also have an email that is not text: each is skipped, and every error names the
    // record and the field.
    let named: Vec<(&str, &str)> = report
        .errors
        .iter()
        .filter(|e| e.field == "/name")
        .map(|e| (e.record.as_str(), e.field.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            ("ac148810-d857-441c-9679-408f346de14b", "/name"),
            ("b644a0d2-9e8a-4c33-9390-ae9ee93fc056", "/name"),
            ("e85f5bb0-62f0-42cc-a08a-0c5c16273090", "/name"),
            ("ac148810-d857-441c-9679-408f346de14b", "/name"),
        ],
        "{:?}",
        report.errors
    );
    let others: Vec<&str> = report
        .errors
        .iter()
        .filter(|e| e.field != "/name")
        .map(|e| e.field.as_str())
        .collect();
    assert_eq!(others, ["/email", "/email"], "{:?}", report.errors);
    for e in &report.errors {
        assert!(e.source.ends_with("service_list.json"), "{e}");
    }
    assert_eq!(
        (report.inserted, report.replaced, report.unchanged),
        (0, 0, 0)
    );
    assert_eq!(report.skipped, 4, "records, not errors");
    assert_eq!(db.stats().unwrap().listings, 0);
}

#[test]
fn reimport_is_a_no_op_and_changes_replace() {
    let (t, mut db) = temp_directory();
    let first = import(&mut db, "oruk-1.0/services.json");
    assert_eq!(first.inserted, 2);
    let again = import(&mut db, "oruk-1.0/services.json");
    assert_eq!((again.inserted, again.replaced, again.unchanged), (0, 0, 2));
    let counts = |db: &Directory| -> Vec<i64> {
        [
            "service",
            "location",
            "schedule",
            "attribute",
            "address",
            "service_fts",
            "service_at_location",
        ]
        .iter()
        .map(|t| {
            db.connection()
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap()
        })
        .collect()
    };
    let before = counts(&db);
    import(&mut db, "oruk-1.0/services.json");
    assert_eq!(
        counts(&db),
        before,
        "re-import must not duplicate child rows"
    );

    let changed = t.path().join("changed.json");
    std::fs::write(
        &changed,
        json!([{"id": "v1-walk-001", "name": "Bedminster Health Walk (new time)", "status": "active",
                "schedules": [{"freq": "WEEKLY", "byday": "WE", "opens_at": "11:00", "closes_at": "12:00"}],
                "service_at_locations": [{"location": {"id": "v1-loc-victoria-park", "latitude": 51.4399, "longitude": -2.5859}}]}])
        .to_string(),
    )
    .unwrap();
    let r = db.import_paths(&[changed.as_path()], &mut quiet).unwrap();
    assert_eq!(r.replaced, 1);
    let walk = db.listing("v1-walk-001").unwrap();
    assert_eq!(walk.service.name, "Bedminster Health Walk (new time)");
    assert_eq!(walk.service.schedules.len(), 1);
    let schedules: i64 = db
        .connection()
        .query_row(
            "SELECT count(*) FROM schedule WHERE service_rowid = (SELECT rowid FROM service WHERE id = 'v1-walk-001')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(schedules, 1, "old schedules are gone");
    let fts: i64 = db
        .connection()
        .query_row(
            "SELECT count(*) FROM service_fts WHERE service_fts MATCH 'time'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(fts, 1);
}

#[test]
fn a_file_that_is_not_a_feed_changes_nothing() {
    let (_t, mut db) = temp_directory();
    import(&mut db, "oruk-1.0/services.json");
    let before = db.stats().unwrap().listings;
    let good = fixture("oruk-3.0/service_list.json");
    let bad = fixture("bad/not-a-feed.zip");
    let err = db
        .import_paths(&[good.as_path(), bad.as_path()], &mut quiet)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("not-a-feed.zip") && text.contains("neither JSON nor"),
        "{text}"
    );
    assert_eq!(
        db.stats().unwrap().listings,
        before,
        "nothing from the good file either"
    );
    let missing = Path::new("/nonexistent/feed.json");
    assert!(db.import_paths(&[missing], &mut quiet).is_err());
}

#[test]
fn coordinates_anywhere_on_earth_but_not_nonsense() {
    let (_t, mut db) = temp_directory();
    let records = json!([
        {"id": "miami", "name": "Miami", "status": "active",
         "service_at_locations": [{"location": {"id": "lm", "latitude": 25.77, "longitude": -80.19,
            "addresses": [{"country": "US", "postal_code": "33101"}]}}]},
        {"id": "edinburgh", "name": "Edinburgh", "status": "active",
         "service_at_locations": [{"location": {"id": "le", "latitude": 55.95, "longitude": -3.19}}]},
        {"id": "null-island", "name": "Zero", "status": "active",
         "service_at_locations": [{"location": {"id": "lz", "latitude": 0, "longitude": 0}}]},
        {"id": "swapped", "name": "Swapped", "status": "active",
         "service_at_locations": [{"location": {"id": "ls", "latitude": -2.6, "longitude": 51.44,
            "addresses": [{"postal_code": "BS3 4AB", "country": "GB"}]}}]}
    ]);
    let r = db
        .import_sources(
            vec![("inline".into(), records.as_array().unwrap().clone())],
            &mut quiet,
        )
        .unwrap();
    assert_eq!(r.inserted, 4);
    assert_eq!(r.warnings.len(), 2);
    let stats = db.stats().unwrap();
    assert_eq!(stats.unindexed_locations, 2);
    let whole_earth = |lat, lon| NearQuery {
        radius_m: 2.1e7,
        limit: 10,
        ..NearQuery::at(lat, lon)
    };
    let ids: Vec<String> = db
        .near(&whole_earth(0.0, 0.0), chrono::Utc::now())
        .unwrap()
        .into_iter()
        .map(|r| r.service_id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"miami".to_string()) && ids.contains(&"edinburgh".to_string()));
}

#[test]
fn inactive_services_are_not_returned() {
    let (_t, mut db) = temp_directory();
    let records = vec![
        json!({"id": "a", "name": "Active", "status": "active",
               "service_at_locations": [{"location": {"id": "l", "latitude": 51.0, "longitude": -1.0}}]}),
        json!({"id": "b", "name": "Gone", "status": "defunct",
               "service_at_locations": [{"location": {"id": "l", "latitude": 51.0, "longitude": -1.0}}]}),
    ];
    db.import_sources(vec![("inline".into(), records)], &mut quiet)
        .unwrap();
    let hits = db
        .near(&NearQuery::at(51.0, -1.0), chrono::Utc::now())
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].service_id, "a");
}

#[test]
fn listing_text_is_stored_verbatim() {
    let (_t, mut db) = temp_directory();
    let payload = "<script>alert(1)</script><img src=x onerror=alert(2)> \"quoted\" 'single'";
    let records =
        vec![json!({"id": "xss", "name": payload, "description": payload, "status": "active"})];
    db.import_sources(vec![("inline".into(), records)], &mut quiet)
        .unwrap();
    let d = db.listing("xss").unwrap();
    assert_eq!(d.service.name, payload);
    assert_eq!(d.service.description.as_deref(), Some(payload));
}

#[test]
fn digest_depends_on_content_not_on_order() {
    let records: Vec<serde_json::Value> = (0..50)
        .map(|i| json!({"id": format!("s{i}"), "name": format!("Listing {i}"), "status": "active"}))
        .collect();
    let (_a, mut a) = temp_directory();
    let (_b, mut b) = temp_directory();
    a.import_sources(vec![("x".into(), records.clone())], &mut quiet)
        .unwrap();
    let mut reversed = records.clone();
    reversed.reverse();
    b.import_sources(vec![("y".into(), reversed)], &mut quiet)
        .unwrap();
    assert_eq!(a.digest().unwrap(), b.digest().unwrap());
    assert_eq!(a.digest().unwrap().len(), 64);
    let (_e, empty) = temp_directory();
    assert_ne!(a.digest().unwrap(), empty.digest().unwrap());
    b.import_sources(
        vec![(
            "y".into(),
            vec![json!({"id": "s7", "name": "Changed", "status": "active"})],
        )],
        &mut quiet,
    )
    .unwrap();
    assert_ne!(a.digest().unwrap(), b.digest().unwrap());
    a.delete("s7").unwrap();
    b.delete("s7").unwrap();
    assert_eq!(
        a.digest().unwrap(),
        b.digest().unwrap(),
        "deleting the difference makes them equal again"
    );
}

#[test]
fn records_kept_as_text_store_exactly_what_parsed_records_do() {
    use signpost_directory::import::{self, RawRecord};
    for rel in [
        "oruk-validator/mocks/V3.0-UK-Test/service_list.json",
        "oruk-1.0/services.json",
        "hsds-3.0/service_full.json",
        "hsds-3.0/organization_full.json",
    ] {
        let path = fixture(rel);
        let bytes = std::fs::read(&path).unwrap();
        let read = import::read_bytes(&path, &bytes).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let parsed = import::records_from_json(value).unwrap();
        assert_eq!(read.len(), parsed.len(), "{rel}");
        if rel.ends_with("list.json") || rel.starts_with("oruk-1.0") {
            // Lists, the shape large files come in, stay text until validated.
            assert!(
                read.iter().all(|r| matches!(r, RawRecord::Text(_))),
                "{rel}"
            );
        }
        let (_a, mut from_text) = temp_directory();
        let (_b, mut from_values) = temp_directory();
        let a = from_text
            .import_sources(vec![(rel.to_string(), read)], &mut quiet)
            .unwrap();
        let b = from_values
            .import_sources(vec![(rel.to_string(), parsed)], &mut quiet)
            .unwrap();
        assert!(a.inserted > 0, "{rel}: {:?}", a.errors);
        assert_eq!(
            (a.inserted, a.errors.len(), a.warnings.len()),
            (b.inserted, b.errors.len(), b.warnings.len()),
            "{rel}"
        );
        assert_eq!(
            from_text.digest().unwrap(),
            from_values.digest().unwrap(),
            "{rel}"
        );
    }
}

#[test]
fn an_older_211_export_imports_with_a_warning_per_repair() {
    let (_t, mut db) = temp_directory();
    // Its datapackage.json is at the root and its CSVs in data/, as real exports ship.
    let report = import(&mut db, "hsds-2.0-export");
    assert_eq!(
        (report.inserted, report.skipped),
        (3, 1),
        "{:?}",
        report.errors
    );
    // The truly invalid record is still skipped, and named.
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].record, "svc-104");
    assert_eq!(report.errors[0].field, "/name");
    let warned = |record: &str, field: &str| -> String {
        report
            .warnings
            .iter()
            .find(|w| w.record == record && w.field == field)
            .unwrap_or_else(|| panic!("no warning for {record} {field}: {:#?}", report.warnings))
            .message
            .clone()
    };
    assert_eq!(warned("svc-101", "/status"), "was empty; read as active");
    assert_eq!(
        warned("svc-101", "/service_at_locations/0/schedules/0/opens_at"),
        "\"9:00am\" read as 09:00"
    );
    assert_eq!(
        warned("svc-101", "/service_at_locations/0/schedules/1/closes_at"),
        "\"7:00 PM\" read as 19:00"
    );
    assert_eq!(
        warned("svc-102", "/status"),
        "\"Active\" read as \"active\""
    );
    assert!(warned("svc-102", "/url").contains("javascript"));
    assert!(
        !report.warnings.iter().any(|w| w.record == "svc-104"),
        "a skipped record gets its reasons, not warnings"
    );

    let pantry = db.listing("svc-101").unwrap();
    assert_eq!(pantry.service.status, "active");
    let times: Vec<(Option<&str>, Option<&str>)> = pantry.service.service_at_locations[0]
        .schedules
        .iter()
        .map(|s| (s.opens_at.as_deref(), s.closes_at.as_deref()))
        .collect();
    assert_eq!(
        times,
        [
            (Some("09:00"), Some("17:00")),
            (Some("12:30"), Some("19:00"))
        ]
    );
    assert_eq!(
        pantry.service.schedules.len() + pantry.service.service_at_locations[0].schedules.len(),
        2
    );
    assert!(pantry.when.as_deref().unwrap().contains("09:00–17:00"));
    assert_eq!(
        pantry.service.url.as_deref(),
        Some("https://www.riverside.example.org/pantry")
    );
    assert_eq!(
        pantry
            .service
            .organization
            .as_ref()
            .unwrap()
            .website
            .as_deref(),
        Some("https://www.riverside.example.org")
    );
    assert_eq!(pantry.terms, ["Food Pantries"]);
    assert_eq!(
        pantry.service.service_at_locations[0].location.addresses[0]
            .postal_code
            .as_deref(),
        Some("BS1 4DJ")
    );
    let advice = db.listing("svc-102").unwrap();
    assert_eq!(advice.service.url, None, "javascript: link dropped");
    assert_eq!(advice.service.schedules[0].byday.as_deref(), Some("WE"));
    let club = db.listing("svc-103").unwrap();
    assert_eq!(
        club.service.eligibility_description.as_deref(),
        Some("Children aged 8 to 14")
    );
    let saturday = &club.service.service_at_locations[0].schedules[0];
    assert_eq!(
        (saturday.byday.as_deref(), saturday.opens_at.as_deref()),
        (Some("SA"), Some("09:00")),
        "a schedule given only for the location applies there"
    );

    // The descriptor itself names the same package.
    let again = import(&mut db, "hsds-2.0-export/datapackage.json");
    assert_eq!((again.inserted, again.unchanged), (0, 3));
}

#[test]
fn a_package_in_a_data_folder_is_found_without_a_descriptor() {
    let (t, mut db) = temp_directory();
    let package = t.path().join("export");
    std::fs::create_dir_all(package.join("data")).unwrap();
    for entry in std::fs::read_dir(fixture("hsds-2.0-export/data")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), package.join("data").join(entry.file_name())).unwrap();
    }
    let report = db.import_paths(&[package.as_path()], &mut quiet).unwrap();
    assert_eq!((report.inserted, report.skipped), (3, 1));
    let empty = t.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = db.import_paths(&[empty.as_path()], &mut quiet).unwrap_err();
    assert!(err.to_string().contains("no services.csv"), "{err}");
}

#[test]
fn skips_count_records_and_reasons_are_whole() {
    let (_t, mut db) = temp_directory();
    let records = vec![
        json!({"id": "three-faults", "name": "", "status": "open", "minimum_age": -1}),
        json!({"id": "long", "name": "Long", "status": "active",
               "description": "x".repeat(102_400)}),
        json!({"id": "fine", "name": "Fine", "status": "active"}),
    ];
    let report = db
        .import_sources(vec![("inline".into(), records)], &mut quiet)
        .unwrap();
    assert_eq!(report.inserted, 1);
    assert_eq!(report.skipped, 2, "{:?}", report.errors);
    assert!(report.errors.len() >= 4, "{:?}", report.errors);
    assert!(report.to_string().contains("2 skipped"), "{report}");
    let long = report.errors.iter().find(|e| e.record == "long").unwrap();
    assert_eq!(long.field, "/description");
    assert_eq!(
        long.message,
        "description is 102,400 characters; the limit is 20,000"
    );
}

#[test]
fn an_id_twice_in_one_file_is_reported() {
    let (t, mut db) = temp_directory();
    let file = t.path().join("twice.json");
    std::fs::write(
        &file,
        json!([
            {"id": "dup", "name": "First", "status": "active"},
            {"id": "other", "name": "Other", "status": "active"},
            {"id": "dup", "name": "Second", "status": "active"}
        ])
        .to_string(),
    )
    .unwrap();
    let report = db.import_paths(&[file.as_path()], &mut quiet).unwrap();
    let twice: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.message.contains("twice"))
        .collect();
    assert_eq!(twice.len(), 1, "{:?}", report.warnings);
    assert_eq!(twice[0].record, "dup");
    assert!(twice[0].source.ends_with("twice.json"));
    assert!(twice[0].message.contains("#1 and #3"), "{}", twice[0]);
    assert_eq!(db.listing("dup").unwrap().service.name, "Second");
    // Another file may update the listing: that is not a duplicate.
    let report = db.import_paths(&[file.as_path()], &mut quiet).unwrap();
    assert_eq!(
        report
            .warnings
            .iter()
            .filter(|w| w.message.contains("twice"))
            .count(),
        1
    );
}

#[test]
fn unsafe_links_and_bidi_controls_are_removed_with_warnings() {
    let (_t, mut db) = temp_directory();
    let records = vec![
        json!({"id": "rlo", "name": "Free \u{202E}gnikooc\u{202C} class",
        "status": "active", "url": "javascript:alert(4)",
        "organization": {"id": "o", "name": "Org", "website": "https://org.example"}}),
    ];
    let report = db
        .import_sources(vec![("inline".into(), records)], &mut quiet)
        .unwrap();
    assert_eq!(report.inserted, 1);
    let mut fields: Vec<&str> = report.warnings.iter().map(|w| w.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["/name", "/url"], "{:?}", report.warnings);
    let d = db.listing("rlo").unwrap();
    assert_eq!(d.service.name, "Free gnikooc class");
    assert_eq!(d.service.url, None);
    assert!(d.record.get("url").is_none());
    assert_eq!(
        d.service.organization.unwrap().website.as_deref(),
        Some("https://org.example")
    );
}

#[test]
fn a_gzip_file_that_inflates_past_the_limit_is_refused() {
    use std::io::Write;
    let (t, mut db) = temp_directory();
    let file = t.path().join("x.json.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&file).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(b"[\"").unwrap();
    gz.write_all(&vec![b' '; 3_000_000]).unwrap();
    gz.write_all(b"\"]").unwrap();
    gz.finish().unwrap();
    let err = db
        .import_paths_limited(&[file.as_path()], 2_000_000, &mut quiet)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x.json.gz: inflates to more than 2 MB; the limit is 2 MB"),
        "{err}"
    );
    let plain = t.path().join("big.json");
    std::fs::write(&plain, vec![b' '; 2_000_001]).unwrap();
    let err = db
        .import_paths_limited(&[plain.as_path()], 2_000_000, &mut quiet)
        .unwrap_err()
        .to_string();
    assert!(err.contains("the limit is 2 MB"), "{err}");
    // Concatenated gzip members are one file, as `gzip -d` reads them.
    let two = t.path().join("two.json.gz");
    let mut bytes = Vec::new();
    for part in [
        "[{\"id\": \"a\", \"name\": \"A\", \"status\": \"active\"}",
        "]",
    ] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(part.as_bytes()).unwrap();
        bytes.extend(gz.finish().unwrap());
    }
    std::fs::write(&two, bytes).unwrap();
    let report = db.import_paths(&[two.as_path()], &mut quiet).unwrap();
    assert_eq!(report.inserted, 1);
}
