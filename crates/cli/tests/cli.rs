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

#[test]
fn near_postcode_on_the_default_region_is_in_exact_distance_order() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("d.db");
    let out = signpost(
        &db,
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
        assert!(r["name"].as_str().unwrap().starts_with("Mobile library"));
    }
    // Second run: the region is not loaded again.
    let again = signpost(&db, &["near", "--postcode", "nr20", "--json"]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("Loaded"));
    let table = ok(&signpost(&db, &["near", "--postcode", "NR20 4"]));
    assert!(
        table.contains("Near NR20 4") && table.contains("Mobile library"),
        "{table}"
    );
    let place = ok(&signpost(
        &db,
        &["near", "--place", "Swanton Morley", "--limit", "3"],
    ));
    assert!(place.contains("Swanton Morley"), "{place}");
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("latitude"));
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
