//! The `signpost` binary as a user runs it, on real database files.
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::signpost;
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Run `signpost ARGS…` on its default database, kept in `home` (the platform data folder).
fn signpost_default(home: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_signpost"))
        .env_remove("SIGNPOST_DB")
        .env("XDG_DATA_HOME", home)
        .env("HOME", home)
        .args(args)
        .output()
        .expect("run signpost")
}

#[test]
fn near_postcode_on_the_default_region_is_in_exact_distance_order() {
    let t = tempfile::tempdir().unwrap();
    let out = signpost_default(
        t.path(),
        &["near", "--postcode", "NR20", "--no-referral", "--json"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let results: Vec<Value> = serde_json::from_str(&ok(&out)).unwrap();
    assert!(stderr.contains("Loaded the default region"), "{stderr}");
    assert_eq!(results.len(), 20);
    let distances: Vec<f64> = results
        .iter()
        .map(|r| r["distance_m"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances[19] <= 10_000.0);
    for r in &results {
        for key in [
            "service_id",
            "location_id",
            "name",
            "organization",
            "latitude",
            "longitude",
            "free",
            "open_now",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        assert_eq!(r["access"], "drop-in");
    }
    // Every bundled default region was loaded, once each.
    for region in [
        "England's public libraries",
        "Greater Manchester community assets",
        "UK mobile library stops",
    ] {
        let said = format!("Loaded the default region \"{region}\"");
        assert_eq!(stderr.matches(&said).count(), 1, "{stderr}");
    }
    assert!(t.path().join("signpost/directory.db").exists());
    // Second run: the region is not loaded again.
    let again = signpost_default(t.path(), &["near", "--postcode", "nr20", "--json"]);
    let again_results: Vec<Value> = serde_json::from_str(&ok(&again)).unwrap();
    // Every stop and library is drop-in, so the same places come back (open_now may have changed since).
    let places = |rs: &[Value]| -> Vec<(Value, Value)> {
        rs.iter()
            .map(|r| (r["service_id"].clone(), r["location_id"].clone()))
            .collect()
    };
    assert_eq!(places(&again_results), places(&results));
    assert!(!String::from_utf8_lossy(&again.stderr).contains("Loaded"));
    let table = ok(&signpost_default(
        t.path(),
        &["near", "--postcode", "NR20 4"],
    ));
    assert!(
        table.contains("Near NR20 4") && table.contains("Mobile library"),
        "{table}"
    );
    let place = ok(&signpost_default(
        t.path(),
        &["near", "--place", "Swanton Morley", "--limit", "3"],
    ));
    assert!(place.contains("Swanton Morley"), "{place}");
}

#[test]
fn an_ambiguous_place_lists_the_choices_and_exits_with_status_2() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let out = signpost(&db, &["near", "--place", "Newcastle"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "\"Newcastle\" is more than one place; say which:");
    assert_eq!(
        lines[1],
        "  Newcastle upon Tyne (city): --place \"Newcastle upon Tyne\""
    );
    assert_eq!(
        lines[2],
        "  Newcastle-under-Lyme (town): --place \"Newcastle-under-Lyme\""
    );
    assert!(
        lines.contains(&"  Newcastle (suburb, Pen-y-bont ar Ogwr - Bridgend): --place \"Newcastle, Pen-y-bont ar Ogwr - Bridgend\""),
        "{err}"
    );

    let out = signpost(&db, &["near", "--place", "St Ives"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("  St Ives (town, Cornwall): --place \"St Ives, Cornwall\"\n"),
        "{err}"
    );
    assert!(
        err.contains("  St Ives (town, Huntingdonshire): --place \"St Ives, Huntingdonshire\"\n"),
        "{err}"
    );

    let out = signpost(&db, &["near", "--place", "Manchestr"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("no place is called \"Manchestr\"; did you mean:\n  Manchester (city): --place \"Manchester\"\n"), "{err}");

    // A qualified name resolves.
    for (place, label) in [
        ("Newcastle upon Tyne", " Newcastle upon Tyne"),
        ("St Ives, Cornwall", " St Ives (Cornwall)"),
    ] {
        let out = ok(&signpost_default(
            t.path(),
            &["near", "--place", place, "--limit", "1"],
        ));
        assert!(out.contains(label), "{place}: {out}");
    }

    let out = signpost(&db, &["near", "--postcode", "BT1 1AA"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Signpost covers postcodes in England, Wales and Scotland; BT1 1AA is in Northern Ireland, which it does not cover"), "{err}");
}

#[test]
fn unknown_postcodes_are_clear_errors() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    for (pc, says) in [
        ("ZZ99 9ZZ", "unknown postcode"),
        ("hello", "not a UK postcode"),
        ("GIR", "no location"),
    ] {
        let out = signpost(&db, &["near", "--postcode", pc]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{pc}: {err}");
    }
    let out = signpost(&db, &["near", "--at", "91,0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("latitude"), "{err}");
}

#[test]
fn import_show_and_filters() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let report = ok(&signpost(
        &db,
        &[
            "import",
            fixture("oruk-1.0/services.json").to_str().unwrap(),
        ],
    ));
    assert!(
        report.contains("2 new") && report.contains("1 skipped"),
        "{report}"
    );
    assert!(
        report.contains("v1-broken-003") && report.contains("name"),
        "{report}"
    );
    let again = ok(&signpost(
        &db,
        &[
            "import",
            fixture("oruk-1.0/services.json").to_str().unwrap(),
        ],
    ));
    assert!(again.contains("2 unchanged"), "{again}");
    let shown = ok(&signpost(&db, &["show", "v1-walk-001"]));
    assert!(shown.contains("Bedminster Health Walk"), "{shown}");
    assert!(shown.contains("Tuesdays 10:00–11:00"), "{shown}");
    let near = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["near", "--at", "51.4399,-2.5859", "--json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&signpost(&db, &args))).unwrap()
    };
    assert_eq!(near(&[]).len(), 2);
    assert_eq!(near(&["--wheelchair"]).len(), 1);
    assert_eq!(near(&["--text", "foodbank"]).len(), 1);
    assert_eq!(
        near(&["--text", "foodbank"])[0]["service_id"],
        "v1-foodbank-002"
    );
    assert_eq!(
        near(&["--open-at", "2026-11-24 10:30"]).len(),
        1,
        "Tuesday walk"
    );
    assert_eq!(
        near(&["--open-at", "2026-11-26 18:00"])[0]["service_id"],
        "v1-foodbank-002"
    );
    assert_eq!(near(&["--open-at", "2026-11-25 10:30"]).len(), 0);
    assert_eq!(
        near(&["--no-referral"]).len(),
        0,
        "no Signpost taxonomy: access unknown"
    );
    let json: Value =
        serde_json::from_str(&ok(&signpost(&db, &["show", "v1-walk-001", "--json"]))).unwrap();
    assert_eq!(json["id"], "v1-walk-001");
}

#[test]
fn import_of_a_non_feed_is_one_error_and_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    ok(&signpost(
        &db,
        &[
            "import",
            fixture("oruk-1.0/services.json").to_str().unwrap(),
        ],
    ));
    let out = signpost(
        &db,
        &["import", fixture("bad/not-a-feed.zip").to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither JSON nor"));
    let stats: Value = serde_json::from_str(&ok(&signpost(&db, &["stats"]))).unwrap();
    assert_eq!(stats["listings"], 2);
}

#[test]
fn control_characters_in_listings_do_not_reach_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let feed = t.path().join("feed.json");
    std::fs::write(
        &feed,
        r#"[{"id":"esc","name":"Evil \u001b[31mred\u001b[0m <script>x</script>","status":"active",
             "service_at_locations":[{"location":{"id":"l","latitude":51.0,"longitude":-1.0}}]}]"#,
    )
    .unwrap();
    ok(&signpost(&db, &["import", feed.to_str().unwrap()]));
    let table = ok(&signpost(&db, &["near", "--at", "51,-1"]));
    assert!(!table.contains('\u{1b}'), "{table:?}");
    assert!(
        table.contains("<script>x</script>"),
        "shown literally: {table}"
    );
}

#[test]
fn digests_are_equal_for_equal_directories() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a.db"), t.path().join("b.db"));
    let feed = fixture("oruk-1.0/services.json");
    ok(&signpost(&a, &["import", feed.to_str().unwrap()]));
    ok(&signpost(&b, &["import", feed.to_str().unwrap()]));
    let digest = |db: &Path| ok(&signpost(db, &["digest"])).trim().to_string();
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(digest(&a).len(), 64);
    ok(&signpost(
        &b,
        &[
            "import",
            fixture("oruk-3.0/service_list.json").to_str().unwrap(),
        ],
    ));
    assert_ne!(digest(&a), digest(&b));
}

#[test]
fn sync_with_an_unreachable_feed_says_offline_and_keeps_the_data() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    ok(&signpost(
        &db,
        &[
            "import",
            fixture("oruk-1.0/services.json").to_str().unwrap(),
        ],
    ));
    let before = ok(&signpost(&db, &["digest"]));
    // A port nothing listens on: bound but never listening, so connections are refused and no
    // other program can take the port while the test runs.
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = held.local_addr().unwrap().port();
    let out = ok(&signpost(
        &db,
        &["sync", "--feed", &format!("http://127.0.0.1:{port}")],
    ));
    assert!(
        out.contains("offline") && out.contains("unchanged"),
        "{out}"
    );
    assert_eq!(ok(&signpost(&db, &["digest"])), before);
}

/// Write `records` as a JSON file and import them with the CLI; every record must import.
fn import_records(db: &Path, records: &[Value]) {
    let file = db.with_extension("feed.json");
    std::fs::write(&file, serde_json::to_vec(records).unwrap()).unwrap();
    let report = ok(&signpost(db, &["import", file.to_str().unwrap()]));
    assert!(
        report.contains(&format!("{} new", records.len())) && report.contains(" 0 skipped"),
        "{report}"
    );
}

/// `near --json` from `at` with `extra` arguments: the service ids, nearest first.
fn near_ids(db: &Path, at: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["near", "--at", at, "--json"];
    args.extend_from_slice(extra);
    let results: Vec<Value> = serde_json::from_str(&ok(&signpost(db, &args))).unwrap();
    results
        .iter()
        .map(|r| r["service_id"].as_str().unwrap().to_string())
        .collect()
}

/// A listing at `lat,lon` with Signpost taxonomy terms and languages (code, name).
fn listing(id: &str, lat: f64, lon: f64, terms: &[&str], languages: &[(&str, &str)]) -> Value {
    serde_json::json!({
        "id": id, "name": format!("Listing {id}"), "status": "active",
        "attributes": terms.iter().map(|t| serde_json::json!({"taxonomy_term_id": format!("signpost:{t}")})).collect::<Vec<_>>(),
        "languages": languages.iter().map(|(code, name)| serde_json::json!({"code": code, "name": name})).collect::<Vec<_>>(),
        "service_at_locations": [{"location": {"id": format!("{id}-place"), "latitude": lat, "longitude": lon}}],
    })
}

#[test]
fn near_filters_by_domain_interest_language_cost_attendance_and_radius() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    // North of the search point at about 100 m, 300 m, 500 m and 5 km.
    import_records(
        &db,
        &[
            listing(
                "walk",
                51.4509,
                -2.59,
                &[
                    "access:drop-in",
                    "domain:personal-interests",
                    "interest:walking",
                    "cost:free",
                    "attendance:in-person",
                ],
                &[("en", "English")],
            ),
            listing(
                "choir",
                51.4527,
                -2.59,
                &[
                    "domain:personal-interests",
                    "interest:music",
                    "cost:paid",
                    "attendance:in-person",
                ],
                &[("cy", "Welsh"), ("en", "English")],
            ),
            listing(
                "helpline",
                51.4545,
                -2.59,
                &[
                    "domain:health-and-social-care",
                    "interest:peer-support",
                    "cost:free",
                    "attendance:online",
                ],
                &[("ur", "Urdu")],
            ),
            listing(
                "far-walk",
                51.495,
                -2.59,
                &[
                    "domain:personal-interests",
                    "interest:walking",
                    "cost:free",
                    "attendance:in-person",
                ],
                &[],
            ),
        ],
    );
    let at = "51.45,-2.59";
    let near = |extra: &[&str]| near_ids(&db, at, extra);
    assert_eq!(near(&[]), ["walk", "choir", "helpline", "far-walk"]);
    assert_eq!(
        near(&["--domain", "personal-interests"]),
        ["walk", "choir", "far-walk"]
    );
    assert_eq!(near(&["--domain", "health-and-social-care"]), ["helpline"]);
    assert_eq!(near(&["--interest", "walking"]), ["walk", "far-walk"]);
    assert_eq!(
        near(&["--interest", "music", "--interest", "peer-support"]),
        ["choir", "helpline"],
        "repeated: any of them"
    );
    assert_eq!(near(&["--language", "cy"]), ["choir"]);
    assert_eq!(near(&["--language", "Urdu"]), ["helpline"], "by name too");
    assert_eq!(
        near(&["--language", "en", "--language", "ur"]),
        ["walk", "choir", "helpline"]
    );
    assert_eq!(near(&["--free"]), ["walk", "helpline", "far-walk"]);
    assert_eq!(near(&["--attendance", "online"]), ["helpline"]);
    assert_eq!(
        near(&["--attendance", "in-person"]),
        ["walk", "choir", "far-walk"]
    );
    assert_eq!(near(&["--radius-km", "2"]), ["walk", "choir", "helpline"]);
    assert_eq!(near(&["--radius-km", "0.2"]), ["walk"]);
    assert_eq!(
        near(&["--free", "--interest", "walking", "--radius-km", "1"]),
        ["walk"],
        "filters combine"
    );
    for (bad, says) in [
        (&["--domain", "gardening"][..], "unknown domain"),
        (&["--interest", "parachuting"][..], "unknown interest"),
        (&["--radius-km", "0"][..], "--radius-km must be a positive"),
        (&["--radius-km=-3"][..], "--radius-km must be a positive"),
        (
            &["--radius-km", "NaN"][..],
            "--radius-km must be a positive",
        ),
        (&["--attendance", "telepathy"][..], "telepathy"),
    ] {
        let mut args = vec!["near", "--at", at];
        args.extend_from_slice(bad);
        let out = signpost(&db, &args);
        assert!(!out.status.success(), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{bad:?}: {err}");
    }
}

/// UK local wall-clock time of an instant, as a schedule states it: weekday code and "HH:MM".
fn uk_local(t: chrono::DateTime<chrono::Utc>) -> (String, String) {
    let local = t.with_timezone(&chrono_tz::Europe::London);
    (
        local.format("%a").to_string()[..2].to_uppercase(),
        local.format("%H:%M").to_string(),
    )
}

#[test]
fn near_open_now_uses_the_real_clock() {
    use chrono::{Duration, Utc};
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    // Sessions placed relative to the real now, so this holds at any hour of any day: one from
    // an hour ago to two hours ahead (past midnight when that is where it falls), one starting
    // in three hours, and one that gives no hours at all. The margins hold in the autumn's
    // repeated hour too, where a stated time means its first occurrence (up to an hour early).
    let now = Utc::now();
    let session = |id: &str, lat: f64, from: Duration, to: Duration| {
        let (day, opens) = uk_local(now + from);
        let (_, closes) = uk_local(now + to);
        let mut l = listing(id, lat, -2.59, &["access:drop-in"], &[]);
        l["schedules"] = serde_json::json!([{"freq": "WEEKLY", "byday": day, "opens_at": opens, "closes_at": closes}]);
        l
    };
    let mut unstated = listing("unstated", 51.4545, -2.59, &["access:drop-in"], &[]);
    unstated["schedules"] = serde_json::json!([{"description": "Ring for times"}]);
    import_records(
        &db,
        &[
            session("open", 51.4509, -Duration::hours(1), Duration::hours(2)),
            session("later", 51.4527, Duration::hours(3), Duration::hours(4)),
            unstated,
        ],
    );
    let at = "51.45,-2.59";
    assert_eq!(near_ids(&db, at, &["--open-now"]), ["open"]);
    let all: Vec<Value> =
        serde_json::from_str(&ok(&signpost(&db, &["near", "--at", at, "--json"]))).unwrap();
    let field = |i: usize, key: &str| all[i][key].clone();
    assert_eq!(field(0, "open_now"), true);
    assert_eq!(field(1, "open_now"), false);
    assert_eq!(field(2, "open_now"), Value::Null, "no hours: not known");
    let next: chrono::DateTime<Utc> = field(1, "next_opens_at").as_str().unwrap().parse().unwrap();
    let ahead = next - now;
    assert!(
        ahead > Duration::hours(1) && ahead <= Duration::hours(3),
        "next opens {next}, now {now}"
    );
    let table = ok(&signpost(&db, &["near", "--at", at]));
    let row = |id: &str| {
        table
            .lines()
            .find(|l| l.contains(&format!("Listing {id}")))
            .unwrap_or_else(|| panic!("{id} in {table}"))
            .to_string()
    };
    assert!(row("open").ends_with("open now"), "{table}");
    assert!(row("later").contains("next "), "{table}");
    assert!(row("unstated").ends_with("times not given"), "{table}");
}

#[test]
fn open_at_across_the_clock_changes() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    // Sundays 01:00–01:45 UK time: on 25 October 2026 the clocks go back at 02:00, so 01:30
    // happens twice, first in summer time (00:30 UTC), then in winter time (01:30 UTC).
    let mut night = listing("night", 51.4509, -2.59, &[], &[]);
    night["schedules"] = serde_json::json!([{"freq": "WEEKLY", "byday": "SU", "opens_at": "01:00", "closes_at": "01:45"}]);
    import_records(&db, &[night]);
    let at = "51.45,-2.59";
    let open_at = |when: &str| near_ids(&db, at, &["--open-at", when]);
    assert_eq!(
        open_at("2026-10-25 01:30"),
        ["night"],
        "a repeated local time is its first occurrence"
    );
    assert_eq!(open_at("2026-10-25T01:30:00+01:00"), ["night"]);
    assert!(
        open_at("2026-10-25T01:30:00+00:00").is_empty(),
        "an offset picks the second"
    );
    assert_eq!(open_at("2026-11-01 01:30"), ["night"]);
    // On 29 March 2026 the clocks go forward at 01:00: 01:30 never happens in the UK.
    for skipped in ["2026-03-29 01:30", "2026-03-29T01:00"] {
        let out = signpost(&db, &["near", "--at", at, "--open-at", skipped]);
        assert!(!out.status.success(), "{skipped}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("does not exist in UK time"),
            "{skipped}: {err}"
        );
    }
    // A session that starts in the gap starts when the clocks reach it: 02:00–02:45 that day.
    assert_eq!(open_at("2026-03-29 02:30"), ["night"]);
    assert!(open_at("2026-03-29 02:50").is_empty());
    let out = signpost(&db, &["near", "--at", at, "--open-at", "next tuesday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a UK local date and time"));
}

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn gunzip_json(path: &Path) -> Value {
    let gz = std::fs::read(path).unwrap();
    serde_json::from_reader(flate2::read::GzDecoder::new(&gz[..])).unwrap()
}

#[test]
fn load_region_loads_a_region_folder_once() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let folder = repo("regions/greater-manchester");
    let report = ok(&signpost(&db, &["load-region", folder.to_str().unwrap()]));
    assert!(
        report.starts_with("5200 new, 0 updated, 0 unchanged, 0 skipped"),
        "{report}"
    );
    // A loaded region is the directory: the default region is not added on top.
    let out = signpost(&db, &["stats"]);
    let stats: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(stats["listings"], 5200);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Loaded"));
    let near: Vec<Value> = serde_json::from_str(&ok(&signpost(
        &db,
        &["near", "--postcode", "M1 1", "--limit", "5", "--json"],
    )))
    .unwrap();
    assert_eq!(near.len(), 5);
    assert!(near
        .iter()
        .all(|r| r["service_id"].as_str().unwrap().starts_with("gm-")));
    assert!(
        near[0]["distance_m"].as_f64().unwrap() < 1_000.0,
        "{near:?}"
    );
    let again = ok(&signpost(&db, &["load-region", folder.to_str().unwrap()]));
    assert!(
        again.starts_with("0 new, 0 updated, 5200 unchanged"),
        "{again}"
    );
    // A folder without a region.json is an error naming the file, and changes nothing.
    let out = signpost(&db, &["load-region", t.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("region.json"), "{err}");
    let stats: Value = serde_json::from_str(&ok(&signpost(&db, &["stats"]))).unwrap();
    assert_eq!(stats["listings"], 5200);
}

/// Run `signpost data COMMAND SOURCE [--OPTION FILE …] --out …` and check it rewrites the
/// shipped file exactly.
fn regenerates(command: &str, source: &str, options: &[(&str, &str)], shipped: &str, count: usize) {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("unused.db");
    let out_file = t.path().join("out.json.gz");
    let mut args = vec![
        "data".to_string(),
        command.to_string(),
        repo(source).display().to_string(),
    ];
    for (option, file) in options {
        args.push(option.to_string());
        args.push(repo(file).display().to_string());
    }
    args.extend(["--out".to_string(), out_file.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = signpost(&db, &args);
    ok(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("{count} listings written")),
        "{said}"
    );
    let made = gunzip_json(&out_file);
    assert_eq!(made.as_array().unwrap().len(), count);
    assert!(
        made == gunzip_json(&repo(shipped)),
        "{command}: the output differs from {shipped}"
    );
    assert!(!db.exists(), "data commands touch no directory");
}

#[test]
fn data_convert_stops_regenerates_the_mobile_library_stops_region() {
    regenerates(
        "convert-stops",
        "data/sources/uk-mobile-library-stops",
        &[],
        "regions/mobile-library-stops/mobile-library-stops.json.gz",
        4438,
    );
}

#[test]
fn data_convert_gm_regenerates_the_greater_manchester_region() {
    regenerates(
        "convert-gm",
        "data/sources/gm-community-assets/gm_community_assets.csv",
        &[(
            "--libraries",
            "data/sources/england-public-libraries/libraries.csv",
        )],
        "regions/greater-manchester/gm-community-assets.json.gz",
        5200,
    );
}

#[test]
fn data_convert_libraries_regenerates_englands_public_libraries() {
    regenerates(
        "convert-libraries",
        "data/sources/england-public-libraries/libraries.csv",
        &[(
            "--authorities",
            "data/sources/england-public-libraries/authorities.csv",
        )],
        "regions/england-public-libraries/england-public-libraries.json.gz",
        2986,
    );
}

#[test]
fn data_convert_stops_reads_a_timetable_row() {
    let t = tempfile::tempdir().unwrap();
    let stops = t.path().join("stops");
    std::fs::create_dir(&stops).unwrap();
    std::fs::write(
        stops.join("somewhere.csv"),
        "organisation,mobile,route,community,stop,address,postcode,geox,geoy,day,type,arrival,departure,frequency,start,end,exceptions,timetable\n\
         Somewhere,Mobile 1,Route A,Littleton,Village Hall,\"Village Hall, Littleton\",BS3 4AB,-2.6,51.44,Tuesday,Public,10:15,11:00,FREQ=WEEKLY;INTERVAL=2,2026-01-06,,,https://example.org/mobile\n",
    )
    .unwrap();
    let out_file = t.path().join("out.json.gz");
    ok(&signpost(
        &t.path().join("unused.db"),
        &[
            "data",
            "convert-stops",
            stops.to_str().unwrap(),
            "--out",
            out_file.to_str().unwrap(),
        ],
    ));
    let made = gunzip_json(&out_file);
    let listings = made.as_array().unwrap();
    assert_eq!(listings.len(), 1, "{made:#}");
    let l = &listings[0];
    let location = &l["service_at_locations"][0]["location"];
    assert_eq!(
        (
            location["latitude"].as_f64(),
            location["longitude"].as_f64()
        ),
        (Some(51.44), Some(-2.6)),
        "geox is the longitude"
    );
    let schedule = &l["schedules"][0];
    assert_eq!(schedule["byday"], "TU", "{l:#}");
    assert_eq!(schedule["opens_at"], "10:15");
    assert_eq!(schedule["closes_at"], "11:00");
    assert_eq!(schedule["interval"], 2);
    assert_eq!(schedule["dtstart"], "2026-01-06");
    // What it writes imports cleanly and reads as a fortnightly stop.
    let db = t.path().join("d.db");
    ok(&signpost(&db, &["import", out_file.to_str().unwrap()]));
    let shown = ok(&signpost(&db, &["show", l["id"].as_str().unwrap()]));
    assert!(shown.contains("Village Hall"), "{shown}");
    assert!(shown.contains("10:15–11:00"), "{shown}");
}

#[test]
fn data_pack_postcodes_packs_what_the_gazetteer_reads() {
    use signpost_postcodes::PackedPostcodes;
    let t = tempfile::tempdir().unwrap();
    let source = t.path().join("postcodes.csv");
    // ONSPD's shape: postcode, latitude, longitude, then columns the pack ignores. A postcode
    // without a grid reference has empty coordinates (or 0,0 in some extracts).
    std::fs::write(
        &source,
        "postcode,latitude,longitude,lad_code\n\
         BS3 4AB,51.441234,-2.598765,E06000023\n\
         SW1A 1AA,51.501009,-0.141588,E09000033\n\
         BS3 4AA,51.440001,-2.600002,E06000023\n\
         GY1 1AA,,,\n\
         GIR 0AA,0,0,\n",
    )
    .unwrap();
    let unused = t.path().join("unused.db");
    for gz in [false, true] {
        let input = if gz {
            let gz_path = t.path().join("postcodes.csv.gz");
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut enc, &std::fs::read(&source).unwrap()).unwrap();
            std::fs::write(&gz_path, enc.finish().unwrap()).unwrap();
            gz_path
        } else {
            source.clone()
        };
        let packed = t.path().join("postcodes.pack.gz");
        let out = signpost(
            &unused,
            &[
                "data",
                "pack-postcodes",
                input.to_str().unwrap(),
                "--out",
                packed.to_str().unwrap(),
            ],
        );
        ok(&out);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("5 postcodes (2 without location)"), "{said}");
        let p = PackedPostcodes::decode(&std::fs::read(&packed).unwrap()).unwrap();
        assert_eq!(p.len(), 5);
        let near = |got: Option<Option<(f64, f64)>>, want: (f64, f64)| {
            let (lat, lon) = got.flatten().expect("located");
            (lat - want.0).abs() < 1e-5 && (lon - want.1).abs() < 1e-5
        };
        assert!(near(p.get("BS3", "4AB"), (51.441234, -2.598765)));
        assert!(near(p.get("BS3", "4AA"), (51.440001, -2.600002)));
        assert!(near(p.get("SW1A", "1AA"), (51.501009, -0.141588)));
        assert_eq!(p.get("GY1", "1AA"), Some(None));
        assert_eq!(p.get("GIR", "0AA"), Some(None));
        assert_eq!(p.get("BS3", "4AC"), None);
    }
    // A row that is not a postcode is an error naming the row.
    std::fs::write(&source, "postcode,latitude,longitude\nBS34AB,51.4,-2.6\n").unwrap();
    let out = signpost(
        &unused,
        &[
            "data",
            "pack-postcodes",
            source.to_str().unwrap(),
            "--out",
            t.path().join("bad.pack.gz").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2"), "{err}");
}

/// SHA-256 of nothing: the digest of an empty directory.
const EMPTY_DIGEST: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Looking at a database the user named never writes to it: a missing file is not created,
/// an empty one is not seeded with the default region, and its bytes stay as they were.
#[test]
fn read_only_commands_never_write_to_a_named_database() {
    let t = tempfile::tempdir().unwrap();
    let fresh = t.path().join("fresh.db");
    let reads: [&[&str]; 4] = [
        &["digest"],
        &["stats"],
        &["near", "--at", "52.7,1.0"],
        &["show", "no-such-listing"],
    ];
    for args in reads {
        let out = signpost(&fresh, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("Loaded"), "{args:?}: {err}");
        assert!(!fresh.exists(), "{args:?} created the database");
    }
    assert_eq!(ok(&signpost(&fresh, &["digest"])).trim(), EMPTY_DIGEST);

    // An empty database (made by a sync that found its feed offline) stays empty and unchanged.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let empty = t.path().join("empty.db");
    ok(&signpost(
        &empty,
        &["sync", "--feed", &format!("http://127.0.0.1:{port}")],
    ));
    let before = std::fs::read(&empty).unwrap();
    for args in reads {
        signpost(&empty, args);
    }
    assert_eq!(std::fs::read(&empty).unwrap(), before);
    let stats: Value = serde_json::from_str(&ok(&signpost(&empty, &["stats"]))).unwrap();
    assert_eq!(stats["listings"], 0);
    assert_eq!(ok(&signpost(&empty, &["digest"])).trim(), EMPTY_DIGEST);

    // Even the default database is not touched by `digest`.
    let home = t.path().join("home");
    assert_eq!(
        ok(&signpost_default(&home, &["digest"])).trim(),
        EMPTY_DIGEST
    );
    assert!(!home.join("signpost/directory.db").exists());
}

#[test]
fn an_older_211_export_imports_and_warnings_name_record_and_field() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let package = fixture("hsds-2.0-export");
    let out = ok(&signpost(&db, &["import", package.to_str().unwrap()]));
    assert!(out.contains("3 new") && out.contains("1 skipped"), "{out}");
    let source = package.display().to_string();
    for line in [
        format!("warning: {source}: record svc-101: /status: was empty; read as active"),
        format!(
            "warning: {source}: record svc-101: /service_at_locations/0/schedules/0/opens_at: \"9:00am\" read as 09:00"
        ),
        format!("skipped: {source}: record svc-104: /name: "),
    ] {
        assert!(out.contains(&line), "{line}\n---\n{out}");
    }
}

#[test]
fn an_import_where_every_record_is_skipped_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let feed = t.path().join("feed.json");
    std::fs::write(
        &feed,
        r#"[{"id": "a", "name": "", "status": "open", "minimum_age": -1},
            {"id": "b", "status": "active"}]"#,
    )
    .unwrap();
    let out = signpost(&db, &["import", feed.to_str().unwrap()]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("0 new") && stdout.contains("2 skipped"),
        "{stdout}"
    );
    assert!(stdout.contains("record a: /name"), "{stdout}");
    assert!(
        stderr.contains("nothing was imported: all 2 records were skipped"),
        "{stderr}"
    );
}

#[test]
fn unsafe_links_and_bidi_controls_never_reach_show() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let feed = t.path().join("feed.json");
    std::fs::write(
        &feed,
        r#"[{"id":"rlo","name":"Free \u202Egnikooc\u202C class","status":"active",
             "url":"javascript:alert(4)","email":"a@example.org",
             "organization":{"id":"o","name":"Org \u2066x\u2069","website":"https://org.example"}}]"#,
    )
    .unwrap();
    let out = ok(&signpost(&db, &["import", feed.to_str().unwrap()]));
    let source = feed.display().to_string();
    assert!(
        out.contains(&format!(
            "warning: {source}: record rlo: /url: a javascript: link was dropped"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "warning: {source}: record rlo: /name: 2 bidirectional control characters removed"
        )),
        "{out}"
    );
    let shown = ok(&signpost(&db, &["show", "rlo"]));
    assert!(!shown.contains("javascript"), "{shown}");
    assert!(shown.contains("Free gnikooc class"), "{shown}");
    assert!(shown.contains("Org x"), "{shown}");
    for c in ['\u{202E}', '\u{202C}', '\u{2066}', '\u{2069}'] {
        assert!(!shown.contains(c), "{c:?} in {shown:?}");
    }
    let json: Value =
        serde_json::from_str(&ok(&signpost(&db, &["show", "rlo", "--json"]))).unwrap();
    assert!(json.get("url").is_none(), "{json}");
}

/// A 2 GiB JSON text in a gzip file of about 2 MB, as in issue 9: `signpost import` reads at
/// most its limit (256 MB) of it and stops, so its peak memory stays near that limit.
#[test]
fn a_gzip_bomb_is_refused_in_bounded_memory() {
    use std::io::Write;
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let bomb = t.path().join("x.json.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&bomb).unwrap()),
        flate2::Compression::fast(),
    );
    gz.write_all(b"[{\"id\": \"a\", \"name\": \"A\", \"status\": \"active\", \"description\": \"")
        .unwrap();
    let spaces = vec![b' '; 1 << 24];
    for _ in 0..128 {
        gz.write_all(&spaces).unwrap();
    }
    gz.write_all(b"\"}]").unwrap();
    gz.finish().unwrap().flush().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 16_000_000);

    let out = signpost(&db, &["import", bomb.to_str().unwrap()]);
    let peak_kb = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .unwrap()
        .max_rss();
    eprintln!("gzip bomb: child peak {} MB", peak_kb / 1024);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("x.json.gz: inflates to more than 256 MB; the limit is 256 MB"),
        "{stderr}"
    );
    // The largest child this test process has waited for so far: this one, or another test's
    // smaller one, so the bound is on this child at least as strictly as stated.
    assert!(
        peak_kb < 400 * 1024,
        "peak resident memory {} MB; the bound is 400 MB",
        peak_kb / 1024
    );
    assert!(
        !signpost(&db, &["show", "a"]).status.success(),
        "nothing was imported"
    );
}

#[test]
fn near_takes_days_of_the_week_and_parts_of_the_day() {
    let t = tempfile::tempdir().unwrap();
    let ids = |args: &[&str]| -> std::collections::BTreeSet<String> {
        let mut all = vec!["near", "--postcode", "NR20", "--limit", "500", "--json"];
        all.extend_from_slice(args);
        let rows: Vec<Value> =
            serde_json::from_str(&ok(&signpost_default(t.path(), &all))).unwrap();
        rows.iter()
            .map(|r| r["service_id"].as_str().unwrap().to_string())
            .collect()
    };
    let everything = ids(&[]);
    let mut some_day = std::collections::BTreeSet::new();
    let mut days_with_any = 0;
    for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
        let on = ids(&["--days", day]);
        assert!(on.is_subset(&everything), "{day}");
        days_with_any += usize::from(!on.is_empty());
        some_day.extend(on);
    }
    // Mobile libraries call on particular days, some only every four weeks: some day of the
    // coming week has a call.
    assert!(days_with_any >= 1, "{days_with_any}");
    assert_eq!(ids(&["--days", "mon,tue,wed,thu,fri,sat,sun"]), some_day);
    let mornings = ids(&["--days", "tue,thu", "--part-of-day", "morning"]);
    let tue_thu = ids(&["--days", "tue,thu"]);
    assert!(mornings.is_subset(&tue_thu));
    let bad = signpost_default(
        t.path(),
        &["near", "--postcode", "NR20", "--days", "someday"],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("\"someday\" is not a day of the week"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn regions_are_listed_added_by_name_and_removed() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let report = ok(&signpost(&db, &["load-region", "england-public-libraries"]));
    assert!(report.starts_with("2986 new"), "{report}");
    let listed = ok(&signpost(&db, &["regions"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert!(
        lines[0].starts_with("region") && lines[0].contains("2986  England's public libraries"),
        "{listed}"
    );
    assert!(
        listed.contains("signpost load-region greater-manchester"),
        "the bundled regions not loaded are offered: {listed}"
    );
    let removed = ok(&signpost(
        &db,
        &["remove-region", "England's public libraries"],
    ));
    assert_eq!(
        removed.trim(),
        "removed the region \"England's public libraries\": 2986 listings"
    );
    let stats: Value = serde_json::from_str(&ok(&signpost(&db, &["stats"]))).unwrap();
    assert_eq!(stats["listings"], 0);
    // Unknown names say what there is, and change nothing.
    let out = signpost(&db, &["load-region", "atlantis"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("atlantis") && err.contains("greater-manchester"),
        "{err}"
    );
    let out = signpost(&db, &["remove-region", "Atlantis"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no region of that name"));
}
