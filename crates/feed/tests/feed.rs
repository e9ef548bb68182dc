//! The real feed server binary on 127.0.0.1 with a random port, checked with the ORUK 3.0
//! schemas the official validator uses.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

mod browser;
mod group;
mod moderate;
mod publish;
mod pull;
mod reminders;
mod submissions;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn feed(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_signpost-feed"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

/// A running server, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// `serve` with more arguments.
    fn start_with(data: &Path, args: &[&str]) -> Server {
        Server::spawn(data, args, Stdio::null(), "")
    }

    /// `serve`, logging at `level` into `log`.
    fn start_logged(data: &Path, log: &Path, level: &str) -> Server {
        let file = std::fs::File::create(log).unwrap();
        Server::spawn(data, &[], Stdio::from(file), level)
    }

    fn spawn(data: &Path, args: &[&str], stderr: Stdio, level: &str) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_signpost-feed"));
        if !level.is_empty() {
            command.env("RUST_LOG", level);
        }
        let mut child = command
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .expect("announces its address")
            .to_string();
        Server { child, base }
    }

    fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = reqwest::blocking::get(format!("{}{path}", self.base)).unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.json().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resolves the ORUK schemas' absolute `$ref`s to the copies in tests/fixtures.
struct LocalOruk;

impl jsonschema::Retrieve for LocalOruk {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        let bytes = std::fs::read(repo("tests/fixtures/oruk-3.0-schema").join(name))?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

fn oruk_validator(schema: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(repo("tests/fixtures/oruk-3.0-schema").join(schema)).unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .with_retriever(LocalOruk)
        .build(&schema)
        .unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

fn published(t: &tempfile::TempDir) -> PathBuf {
    let data = t.path().join("feed");
    let out = feed(
        &data,
        &[
            "import",
            repo("regions/mobile-library-stops/mobile-library-stops.json.gz")
                .to_str()
                .unwrap(),
            repo("tests/fixtures/oruk-1.0/services.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

#[test]
fn level_1_conformance_against_the_oruk_schemas() {
    let t = tempfile::tempdir().unwrap();
    let server = Server::start(&published(&t));

    let (status, headers, details) = server.get("/");
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_valid(&oruk_validator("api_details.json"), &details, "/");
    assert_eq!(details["version"], "HSDS-UK-3.0");
    let (status, _, openapi) = server.get("/openapi.json");
    assert_eq!(status, 200);
    assert!(openapi["paths"]["/services"].is_object());
    assert!(
        openapi["paths"]["/sync/changesets/{hash}"].is_object(),
        "our own document lists the sync API too"
    );

    let list = oruk_validator("service_list.json");
    let one = oruk_validator("service.json");
    let (_, _, first) = server.get("/services?per_page=100");
    assert_valid(&list, &first, "/services page 1");
    let total = first["total_items"].as_u64().unwrap();
    assert_eq!(total, 4440);
    let pages = first["total_pages"].as_u64().unwrap();
    assert_eq!(pages, 45);
    assert_eq!(
        (first["first_page"].as_bool(), first["last_page"].as_bool()),
        (Some(true), Some(false))
    );
    for page in [pages / 2, pages] {
        let (_, _, p) = server.get(&format!("/services?per_page=100&page={page}"));
        assert_valid(&list, &p, &format!("/services page {page}"));
        assert_eq!(p["page_number"], page);
        assert_eq!(p["last_page"], page == pages);
    }
    let (_, _, last) = server.get(&format!("/services?per_page=100&page={pages}"));
    assert_eq!(last["contents"].as_array().unwrap().len(), 40);
    // Every record, including those imported from an ORUK 1.0 feed, satisfies the 3.0 schema.
    for page in 1..=pages {
        let (_, _, p) = server.get(&format!("/services?per_page=100&page={page}"));
        for item in p["contents"].as_array().unwrap() {
            assert_valid(&one, item, item["id"].as_str().unwrap());
        }
    }
    let (_, _, walk) = server.get("/services/v1-walk-001");
    assert_valid(&one, &walk, "v1-walk-001");
    for item in first["contents"].as_array().unwrap().iter().take(25) {
        let id = item["id"].as_str().unwrap();
        let (status, _, full) = server.get(&format!("/services/{id}"));
        assert_eq!(status, 200);
        assert_valid(&one, &full, id);
        assert_eq!(&full, item, "the list carries the full record");
    }
}

/// Level 2: the other lists, their first, middle and last pages, and `/{id}` with ids from them.
#[test]
fn level_2_conformance_for_taxonomies_terms_and_organizations() {
    let t = tempfile::tempdir().unwrap();
    let server = Server::start(&published(&t));
    for (path, list_schema, item_schema, min_items) in [
        ("/taxonomies", "taxonomy_list.json", "taxonomy.json", 1),
        (
            "/taxonomy_terms",
            "taxonomy_term_list.json",
            "taxonomy_term.json",
            29,
        ),
        (
            "/organizations",
            "organization_list.json",
            "organization.json",
            20,
        ),
    ] {
        let (list, one) = (oruk_validator(list_schema), oruk_validator(item_schema));
        let (status, _, first) = server.get(&format!("{path}?per_page=5"));
        assert_eq!(status, 200, "{path}");
        assert_valid(&list, &first, path);
        let total = first["total_items"].as_u64().unwrap();
        assert!(total >= min_items, "{path}: {total}");
        let pages = first["total_pages"].as_u64().unwrap();
        for page in [pages.div_ceil(2), pages] {
            let (_, _, p) = server.get(&format!("{path}?per_page=5&page={page}"));
            assert_valid(&list, &p, &format!("{path} page {page}"));
            assert!(!p["contents"].as_array().unwrap().is_empty());
        }
        for item in first["contents"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap();
            let encoded = id
                .replace('%', "%25")
                .replace('/', "%2F")
                .replace(':', "%3A");
            let (status, _, full) = server.get(&format!("{path}/{encoded}"));
            assert_eq!(status, 200, "{path}/{id}");
            assert_valid(&one, &full, id);
            assert_eq!(&full, item);
        }
        let (status, _, _) = server.get(&format!("{path}/no-such-id"));
        assert_eq!(status, 404);
    }
    let count = |q: &str| server.get(q).2["total_items"].as_u64().unwrap();
    assert_eq!(
        count("/taxonomy_terms?taxonomy_id=signpost&parent_id=signpost:interest"),
        17
    );
    assert_eq!(count("/organizations?search=norfolk"), 1);
    assert!(count("/taxonomy_terms?top_only=true") >= 1);
}

#[test]
fn filters_errors_and_not_found() {
    let t = tempfile::tempdir().unwrap();
    let server = Server::start(&published(&t));
    let count = |q: &str| {
        server.get(&format!("/services?{q}")).2["total_items"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("search=foodbank"), 1);
    assert_eq!(
        count("organization_id=3f1d7a52-6d1e-4f0b-9f60-1b2c3d4e5f60"),
        1
    );
    assert_eq!(count("taxonomy_term_id=esd-walking"), 1);
    assert_eq!(count("taxonomy_term_id=signpost:access:drop-in"), 4438);
    assert_eq!(
        count("taxonomy_term_id=signpost:access:drop-in&search=foodbank"),
        0,
        "filters combine with AND"
    );
    assert_eq!(count("taxonomy_id=signpost"), 4438);
    assert_eq!(count("modified_after=2030-01-01"), 0);
    let (_, _, minimal) = server.get("/services?minimal=true&per_page=1");
    let item = minimal["contents"][0].as_object().unwrap();
    assert!(item.contains_key("id") && !item.contains_key("service_at_locations"));
    assert!(item.values().all(|v| !v.is_null()), "no nulls");
    let (status, _, body) = server.get("/services/does-not-exist");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    for bad in [
        "per_page=0",
        "per_page=abc",
        "page=-1",
        "minimal=maybe",
        "modified_after=yesterday",
    ] {
        let (status, _, body) = server.get(&format!("/services?{bad}"));
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"], "bad_request");
        assert!(body["message"].as_str().unwrap().len() > 10);
    }
    let (_, _, empty) = server.get("/services?page=1000");
    assert_eq!(empty["empty"], true);
}

/// Sockets that send nothing, or half a request, and keep-alive connections left idle.
fn open_idle_connections(addr: &str, n: usize) -> Vec<std::net::TcpStream> {
    use std::io::Write;
    (0..n)
        .map(|i| {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            match i % 3 {
                0 => {}
                1 => s
                    .write_all(b"GET /sync/head HTTP/1.1\r\nHost: x\r\n")
                    .unwrap(),
                _ => {
                    s.write_all(b"GET /sync/head HTTP/1.1\r\nHost: x\r\n\r\n")
                        .unwrap();
                }
            }
            s
        })
        .collect()
}

/// What the server sends on `s` before closing it (end of stream or reset), or `None` if it is
/// still open when `wait` runs out.
fn until_closed(s: &mut std::net::TcpStream, wait: std::time::Duration) -> Option<Vec<u8>> {
    use std::io::Read;
    s.set_read_timeout(Some(wait)).unwrap();
    let mut received = Vec::new();
    match s.read_to_end(&mut received) {
        Ok(_) => Some(received),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(received),
        Err(_) => None,
    }
}

fn closed_by_server(s: &mut std::net::TcpStream, wait: std::time::Duration) -> bool {
    until_closed(s, wait).is_some()
}

/// 2,000 idle or half-sent connections neither lock others out nor stay open: a normal
/// request still answers, and the server closes them once the header timeout passes. Past
/// the connection cap, a new connection is closed at once rather than left waiting.
#[test]
fn idle_and_half_sent_connections_neither_block_nor_linger() {
    let t = tempfile::tempdir().unwrap();
    let data = published(&t);
    let server = Server::start_with(&data, &["--header-timeout", "2"]);
    let addr = server.base.strip_prefix("http://").unwrap().to_string();
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let mut idle = open_idle_connections(&addr, 2000);
    let head = client
        .get(format!("{}/sync/head", server.base))
        .send()
        .expect("a normal request answers beside 2,000 idle connections");
    assert_eq!(head.status().as_u16(), 200);
    for (i, s) in idle.iter_mut().enumerate() {
        assert!(
            closed_by_server(s, std::time::Duration::from_secs(20)),
            "connection {i} (kind {}) was still open long after the header timeout",
            i % 3
        );
    }
    drop(server);

    let capped = Server::start_with(&data, &["--header-timeout", "2", "--max-connections", "50"]);
    let addr = capped.base.strip_prefix("http://").unwrap().to_string();
    let mut held = open_idle_connections(&addr, 50);
    // Accepted in order: once the 50 are held, a new connection is closed on arrival, with
    // no answer even to a complete request (a connection let in would get a response).
    let mut over = std::net::TcpStream::connect(&addr).unwrap();
    let _ = std::io::Write::write_all(&mut over, b"GET /sync/head HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        until_closed(&mut over, std::time::Duration::from_secs(20)),
        Some(Vec::new()),
        "a connection over the cap is closed unanswered"
    );
    for s in &mut held {
        assert!(closed_by_server(s, std::time::Duration::from_secs(20)));
    }
    let head = client
        .get(format!("{}/sync/head", capped.base))
        .send()
        .unwrap();
    assert_eq!(
        head.status().as_u16(),
        200,
        "room again once idle ones are closed"
    );
}

/// Every numeric parameter has the range the served OpenAPI document states, and the server
/// holds to it; `modified_after` is a real date or date-time; a 404 names what was not found.
#[test]
fn parameters_keep_the_documented_ranges_and_404s_name_the_kind() {
    let t = tempfile::tempdir().unwrap();
    let server = Server::start(&published(&t));
    let (_, _, doc) = server.get("/openapi.json");
    let range = |schema: &Value| {
        (
            schema["minimum"].as_u64().expect("a minimum"),
            schema["maximum"].as_u64().expect("a maximum"),
        )
    };
    let parameter = |name: &str| &doc["components"]["parameters"][name]["schema"];
    let (_, max_per_page) = range(parameter("per_page"));
    assert_eq!(max_per_page, 100, "the ORUK specification's largest page");
    let (first_page, max_page) = range(parameter("page"));
    assert_eq!(first_page, 1);
    assert!(max_page < u32::MAX as u64);
    let status = |path: &str| server.get(path).0;
    for list in [
        "/services",
        "/service_at_locations",
        "/organizations",
        "/taxonomies",
        "/taxonomy_terms",
    ] {
        assert_eq!(status(&format!("{list}?per_page={max_per_page}")), 200);
        assert_eq!(status(&format!("{list}?page={max_page}")), 200);
        for bad in [
            format!("per_page={}", max_per_page + 1),
            "per_page=0".to_string(),
            format!("page={}", max_page + 1),
            "page=4294967295".to_string(),
            "page=0".to_string(),
        ] {
            let (code, _, body) = server.get(&format!("{list}?{bad}"));
            assert_eq!(code, 400, "{list}?{bad}");
            let name = bad.split('=').next().unwrap();
            let message = body["message"].as_str().unwrap();
            assert!(message.starts_with(name), "{list}?{bad}: {message}");
        }
    }
    let sync = &doc["paths"]["/sync/changesets"]["get"]["parameters"];
    let limit = sync
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    let (min_limit, max_limit) = range(&limit["schema"]);
    assert_eq!(status(&format!("/sync/changesets?limit={min_limit}")), 200);
    assert_eq!(status(&format!("/sync/changesets?limit={max_limit}")), 200);
    for bad in [min_limit - 1, max_limit + 1] {
        let (code, _, body) = server.get(&format!("/sync/changesets?limit={bad}"));
        assert_eq!(code, 400, "limit={bad}");
        assert!(body["message"].as_str().unwrap().starts_with("limit"));
    }

    for bad in [
        "2024-13-45",
        "9999-99-99T99:99",
        "0000-00-00",
        "1234567890",
        "2024-02-30",
        "2024-05-01T25:00:00Z",
        "2024-05-01garbage",
    ] {
        for list in ["/services", "/service_at_locations"] {
            let (code, _, body) = server.get(&format!("{list}?modified_after={bad}"));
            assert_eq!(code, 400, "{list}?modified_after={bad}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("modified_after"), "{message}");
        }
    }
    for good in [
        "2024-05-01",
        "2024-05-01T09:00:00Z",
        "2024-05-01T09:00:00.5%2B01:00",
    ] {
        assert_eq!(
            status(&format!("/services?modified_after={good}")),
            200,
            "{good}"
        );
    }

    let zeros = "0".repeat(64);
    for (path, message) in [
        ("/services/nope", r#"no service with id "nope""#),
        ("/organizations/nope", r#"no organization with id "nope""#),
        ("/taxonomies/nope", r#"no taxonomy with id "nope""#),
        ("/taxonomy_terms/nope", r#"no taxonomy term with id "nope""#),
        (
            "/service_at_locations/nope",
            r#"no service_at_location with id "nope""#,
        ),
        (
            &format!("/sync/changesets/{zeros}"),
            &format!("no changeset with hash {zeros:?}"),
        ),
        (
            &format!("/sync/snapshots/{zeros}"),
            &format!("no snapshot with hash {zeros:?}"),
        ),
    ] {
        let r = reqwest::blocking::get(format!("{}{path}", server.base)).unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
        let body: Value = serde_json::from_slice(&r.bytes().unwrap()).unwrap();
        assert_eq!(body["error"], "not_found");
        assert_eq!(body["message"], message, "{path}");
    }
}

#[test]
fn digest_matches_the_app_side() {
    let t = tempfile::tempdir().unwrap();
    let data = published(&t);
    let out = feed(&data, &["digest"]);
    let feed_digest = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(feed_digest.len(), 64);
    let mut app = signpost_directory::Directory::open(&t.path().join("app.db")).unwrap();
    let paths = [
        repo("regions/mobile-library-stops/mobile-library-stops.json.gz"),
        repo("tests/fixtures/oruk-1.0/services.json"),
    ];
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    app.import_paths(&paths, &mut |_| {}).unwrap();
    assert_eq!(app.digest().unwrap(), feed_digest);
}

fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((b.1 - a.1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// A listing its publisher checked over a year ago is marked "may be out of date" in every
/// ORUK record of it, and the records still satisfy the ORUK schemas; at the same hall, the
/// fresher listing comes first near a postcode though it was stored second.
#[test]
fn listings_unchecked_for_a_year_are_marked_and_rank_below_fresher_ones() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let today = chrono::Utc::now().date_naive();
    let hall = json!({"id": "hall", "name": "Hall", "latitude": 52.721, "longitude": 0.979,
                      "addresses": [{"address_1": "1 Street", "city": "Town", "state_province": "",
                                     "postal_code": "NR20 3AA", "country": "GB", "address_type": "physical"}]});
    let listing = |id: &str, days_ago: i64| {
        json!({"id": id, "name": format!("{id} group"), "status": "active",
               "assured_date": (today - chrono::Duration::days(days_ago)).to_string(),
               "service_at_locations": [{"id": format!("{id}-hall"), "location": hall}]})
    };
    let file = t.path().join("two.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!([listing("stale", 400), listing("fresh", 30)])).unwrap(),
    )
    .unwrap();
    let out = feed(&data, &["import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(&data);
    const MARK: &str = "signpost_may_be_out_of_date";

    let (_, _, services) = server.get("/services");
    assert_valid(&oruk_validator("service_list.json"), &services, "/services");
    let marks: Vec<(&str, &Value)> = services["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), &s[MARK]))
        .collect();
    assert_eq!(marks, [("fresh", &json!(false)), ("stale", &json!(true))]);
    let (_, _, minimal) = server.get("/services?minimal=true");
    assert_eq!(
        minimal["contents"][1][MARK], true,
        "the minimal view keeps it"
    );
    for (id, stale) in [("stale", true), ("fresh", false)] {
        let (status, _, one) = server.get(&format!("/services/{id}"));
        assert_eq!(status, 200);
        assert_valid(&oruk_validator("service.json"), &one, id);
        assert_eq!(one[MARK], stale, "{id}");
        let (status, _, sal) = server.get(&format!("/service_at_locations/{id}-hall"));
        assert_eq!(status, 200);
        assert_valid(&oruk_validator("service_at_location.json"), &sal, id);
        assert_eq!(sal[MARK], stale, "{id} at the hall");
    }
    for query in ["", "?postcode=NR20&proximity=5000"] {
        let (_, _, near) = server.get(&format!("/service_at_locations{query}"));
        assert_valid(
            &oruk_validator("service_at_location_list.json"),
            &near,
            "/service_at_locations",
        );
        let order: Vec<(&str, &Value)> = near["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["service_id"].as_str().unwrap(), &s[MARK]))
            .collect();
        assert_eq!(
            order,
            [("fresh", &json!(false)), ("stale", &json!(true))],
            "{query}"
        );
    }
}

#[test]
fn services_at_locations_near_a_postcode() {
    let t = tempfile::tempdir().unwrap();
    let server = Server::start(&published(&t));
    let (status, _, near) =
        server.get("/service_at_locations?postcode=NR20&proximity=3000&per_page=100");
    assert_eq!(status, 200);
    assert_valid(
        &oruk_validator("service_at_location_list.json"),
        &near,
        "near NR20",
    );
    let items = near["contents"].as_array().unwrap();
    assert!(!items.is_empty());
    assert_eq!(near["total_items"].as_u64().unwrap() as usize, items.len());
    // NR20's centroid, from the shipped ONSPD district table.
    let centre = (52.721002, 0.979056);
    let distances: Vec<f64> = items
        .iter()
        .map(|s| {
            haversine_m(
                centre,
                (
                    s["location"]["latitude"].as_f64().unwrap(),
                    s["location"]["longitude"].as_f64().unwrap(),
                ),
            )
        })
        .collect();
    assert!(distances.iter().all(|d| *d <= 3000.5), "{distances:?}");
    assert!(
        distances.windows(2).all(|w| w[0] <= w[1] + 1e-6),
        "nearest first"
    );
    for item in items {
        assert!(item["service_id"].is_string() && item["location_id"].is_string());
    }
    let wider = server
        .get("/service_at_locations?postcode=NR20&proximity=20000")
        .2["total_items"]
        .as_u64()
        .unwrap();
    assert!(wider > items.len() as u64);
    let filtered = server
        .get("/service_at_locations?postcode=NR20&proximity=20000&search=swanton")
        .2;
    assert!(filtered["contents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["service_id"].as_str().unwrap().starts_with("mls-")));
    assert!(filtered["total_items"].as_u64().unwrap() < wider);
    for (bad, says) in [
        ("proximity=100", "postcode"),
        ("postcode=ZZ99%209ZZ", "unknown postcode"),
        ("postcode=NR20&proximity=-5", "proximity"),
    ] {
        let (status, _, body) = server.get(&format!("/service_at_locations?{bad}"));
        assert_eq!(status, 400, "{bad}");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{bad}: {body}"
        );
    }
}

fn changeset_bytes(server: &Server, hash: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let r = reqwest::blocking::get(format!("{}/sync/changesets/{hash}", server.base)).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let headers = r.headers().clone();
    let gz = r.bytes().unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut bytes).unwrap();
    (headers, bytes)
}

#[test]
fn every_change_is_a_verified_chained_changeset() {
    use signpost_directory::changeset::Changeset;
    let t = tempfile::tempdir().unwrap();
    let data = published(&t);
    let server = Server::start(&data);
    let (_, _, head) = server.get("/sync/head");
    assert_eq!(head["seq"], 2, "one changeset per imported source batch");
    // The feed's id: random, made with its data folder, the same every time it is served.
    let feed_id = head["feed_id"].as_str().unwrap().to_string();
    assert_eq!(feed_id.len(), 32, "{head}");
    assert_eq!(
        Server::start(&data).get("/sync/head").2["feed_id"],
        feed_id.as_str()
    );
    let other = t.path().join("other-feed");
    assert!(feed(&other, &["digest"]).status.success());
    assert_ne!(
        Server::start(&other).get("/sync/head").2["feed_id"],
        feed_id.as_str(),
        "a fresh data folder is a new feed"
    );
    let (_, _, log) = server.get("/sync/changesets?after=0");
    let log = log["changesets"].as_array().unwrap().clone();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["prev"], "");
    assert_eq!(log[1]["prev"], log[0]["hash"]);
    assert_eq!(log[1]["hash"], head["hash"]);
    let mut upserts = 0;
    for entry in &log {
        let hash = entry["hash"].as_str().unwrap();
        let (headers, bytes) = changeset_bytes(&server, hash);
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers["content-encoding"], "gzip");
        let c = Changeset::verify(&bytes, hash).unwrap();
        assert_eq!(c.seq, entry["seq"].as_u64().unwrap());
        assert_eq!(bytes.len() as u64, entry["bytes"].as_u64().unwrap());
        upserts += c.upserts.len();
    }
    assert_eq!(upserts, 4440);

    // Re-importing the same data publishes nothing.
    let out = feed(
        &data,
        &[
            "import",
            repo("tests/fixtures/oruk-1.0/services.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(out.status.success());
    assert_eq!(server.get("/sync/head").2["seq"], 2);

    // A change publishes only the changed record; a delete publishes a tombstone.
    let changed = t.path().join("changed.json");
    std::fs::write(
        &changed,
        r#"[{"id": "v1-walk-001", "name": "Bedminster Health Walk (now Wednesdays)", "status": "active"}]"#,
    )
    .unwrap();
    assert!(feed(&data, &["import", changed.to_str().unwrap()])
        .status
        .success());
    assert!(feed(&data, &["delete", "v1-foodbank-002"]).status.success());
    let (_, _, newer) = server.get("/sync/changesets?after=2");
    let newer = newer["changesets"].as_array().unwrap().clone();
    assert_eq!(newer.len(), 2);
    assert_eq!(newer[0]["prev"], log[1]["hash"]);
    let (_, bytes) = changeset_bytes(&server, newer[0]["hash"].as_str().unwrap());
    let change = Changeset::verify(&bytes, newer[0]["hash"].as_str().unwrap()).unwrap();
    assert_eq!(change.upserts.len(), 1);
    assert_eq!(
        change.upserts[0]["name"],
        "Bedminster Health Walk (now Wednesdays)"
    );
    let (_, bytes) = changeset_bytes(&server, newer[1]["hash"].as_str().unwrap());
    let tombstone = Changeset::verify(&bytes, newer[1]["hash"].as_str().unwrap()).unwrap();
    assert_eq!(tombstone.deletes, ["v1-foodbank-002"]);
    assert!(tombstone.upserts.is_empty());

    let (status, _, _) = server.get(&format!("/sync/changesets/{}", "0".repeat(64)));
    assert_eq!(status, 404);
    let (status, _, _) = server.get("/sync/changesets/not-a-hash");
    assert_eq!(status, 400);
    let (status, _, _) = server.get("/sync/changesets?after=-1");
    assert_eq!(status, 400);
}

fn feed_digest(data: &Path) -> String {
    String::from_utf8(feed(data, &["digest"]).stdout)
        .unwrap()
        .trim()
        .to_string()
}

/// End to end: publish, sync, change and delete, sync again; the digests agree each time.
#[test]
fn sync_brings_a_client_to_the_feed_digest() {
    use signpost_sync::{sync, Options, Outcome};
    let t = tempfile::tempdir().unwrap();
    let data = published(&t);
    let server = Server::start(&data);
    let mut app = signpost_directory::Directory::open(&t.path().join("app.db")).unwrap();
    let mut seen = Vec::new();
    let outcome = sync(&mut app, &server.base, &Options::default(), &mut |p| {
        seen.push(p)
    })
    .unwrap();
    assert_eq!(outcome, Outcome::UpToDate { seq: 2, applied: 2 });
    assert_eq!(app.digest().unwrap(), feed_digest(&data));
    let last = seen.last().unwrap();
    assert_eq!((last.changesets_done, last.records_done), (2, 4440));
    assert_eq!(last.bytes_done, last.bytes_total);
    assert!(seen
        .windows(2)
        .all(|w| w[0].records_done <= w[1].records_done));

    let changed = t.path().join("changed.json");
    std::fs::write(
        &changed,
        r#"[{"id": "v1-walk-001", "name": "Bedminster Health Walk (now Wednesdays)", "status": "active",
             "service_at_locations": [{"location": {"id": "v1-loc-victoria-park", "latitude": 51.4399, "longitude": -2.5859}}]}]"#,
    )
    .unwrap();
    assert!(feed(&data, &["import", changed.to_str().unwrap()])
        .status
        .success());
    assert!(feed(&data, &["delete", "v1-foodbank-002"]).status.success());
    assert_ne!(app.digest().unwrap(), feed_digest(&data));
    let outcome = sync(&mut app, &server.base, &Options::default(), &mut |_| {}).unwrap();
    assert_eq!(outcome, Outcome::UpToDate { seq: 4, applied: 2 });
    assert_eq!(app.digest().unwrap(), feed_digest(&data));
    assert_eq!(
        app.listing("v1-walk-001").unwrap().service.name,
        "Bedminster Health Walk (now Wednesdays)"
    );
    assert!(app.listing("v1-foodbank-002").is_err());
    // The changed listing is searchable where it now is; the deleted one is gone.
    let near = app
        .near(
            &signpost_directory::NearQuery::at(51.4399, -2.5859),
            std::time::SystemTime::now().into(),
        )
        .unwrap();
    assert!(near.iter().any(|r| r.service_id == "v1-walk-001"));
    assert!(near.iter().all(|r| r.service_id != "v1-foodbank-002"));
    // Nothing new: nothing fetched.
    let again = sync(&mut app, &server.base, &Options::default(), &mut |_| {}).unwrap();
    assert_eq!(again, Outcome::UpToDate { seq: 4, applied: 0 });
}

#[test]
fn an_unreachable_feed_is_offline_not_an_error() {
    use signpost_sync::{sync, Options, Outcome};
    let t = tempfile::tempdir().unwrap();
    let mut app = signpost_directory::Directory::open(&t.path().join("app.db")).unwrap();
    // A port nothing listens on: bind one, then drop it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = Options {
        attempts: 2,
        timeout: std::time::Duration::from_secs(2),
        ..Options::default()
    };
    let before = app.digest().unwrap();
    match sync(
        &mut app,
        &format!("http://127.0.0.1:{port}"),
        &options,
        &mut |_| {},
    )
    .unwrap()
    {
        Outcome::Offline { reason } => assert!(reason.contains("127.0.0.1"), "{reason}"),
        other => panic!("expected offline, got {other:?}"),
    }
    assert_eq!(app.digest().unwrap(), before);
}

/// A council's ORUK feed, served in-process: `services` split into pages of `per_page`, in the
/// 3.0 envelope or the 1.0 one.
fn mock_council(services: Vec<Value>, v1: bool) -> (tokio::runtime::Runtime, String) {
    use axum::extract::Query;
    use std::collections::HashMap;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/services",
        axum::routing::get(move |Query(q): Query<HashMap<String, String>>| {
            let services = services.clone();
            async move {
                let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let per_page = 10;
                let pages = services.len().div_ceil(per_page).max(1);
                let items: Vec<Value> = services.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
                axum::Json(if v1 {
                    serde_json::json!({"totalElements": services.len(), "totalPages": pages, "number": page,
                                       "first": page == 1, "last": page >= pages, "content": items})
                } else {
                    serde_json::json!({"total_items": services.len(), "total_pages": pages, "page_number": page,
                                       "size": per_page, "first_page": page == 1, "last_page": page >= pages,
                                       "empty": items.is_empty(), "contents": items})
                })
            }
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (runtime, base)
}

fn council_services(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| serde_json::json!({"id": format!("council-{i:03}"), "name": format!("Council service {i}"), "status": "active",
                                    "service_at_locations": [{"id": format!("c{i}"), "location": {"id": format!("cl{i}"), "latitude": 51.45, "longitude": -2.6}}]}))
        .collect()
}

#[test]
fn import_oruk_pulls_every_page_of_a_3_0_feed() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let (_council, base) = mock_council(council_services(25), false);
    let out = feed(&data, &["import-oruk", &base]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("3 pages read; 25 new"), "{text}");
    let again = String::from_utf8_lossy(&feed(&data, &["import-oruk", &base]).stdout).to_string();
    assert!(
        again.contains("25 unchanged") && !again.contains("deleted"),
        "{again}"
    );
    let server = Server::start(&data);
    assert_eq!(server.get("/services").2["total_items"], 25);
    assert_eq!(
        server.get("/sync/head").2["seq"],
        1,
        "an unchanged pull publishes nothing"
    );
}

#[test]
fn import_oruk_understands_version_1_and_deletes_what_disappeared() {
    use signpost_feed::pull::{import_oruk, PullOptions};
    let t = tempfile::tempdir().unwrap();
    let mut feed_dir =
        signpost_directory::Directory::open_publisher(&t.path().join("feed.db")).unwrap();
    let v1 = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| serde_json::json!({"id": format!("v1-{i:03}"), "name": format!("Old feed service {i}"), "status": "active",
                                        "organization": {"id": "org", "name": "Council", "description": "x"},
                                        "regular_schedules": [{"id": format!("r{i}"), "weekday": "Tuesday", "opens_at": "10:00", "closes_at": "12:00"}]}))
            .collect()
    };
    let (rt, base) = mock_council(v1(15), true);
    let report = import_oruk(&mut feed_dir, &base, &PullOptions::default()).unwrap();
    assert_eq!((report.pages, report.import.inserted), (2, 15));
    assert_eq!(
        feed_dir.listing("v1-004").unwrap().service.schedules[0]
            .byday
            .as_deref(),
        Some("TU")
    );
    drop(rt);
    // The same base URL now serves fewer services: the missing ones are deleted and published.
    let listener_addr = base.trim_start_matches("http://").to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&listener_addr))
        .unwrap();
    let services = v1(12);
    let app = axum::Router::new().route(
        "/services",
        axum::routing::get(move || {
            let services = services.clone();
            async move {
                axum::Json(serde_json::json!({"totalElements": 12, "totalPages": 1, "number": 1, "first": true, "last": true, "content": services}))
            }
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    // Three of fifteen is more than the 10% a pull may delete unless allowed.
    let allow_three = PullOptions {
        allow_deletions: Some(3),
        ..PullOptions::default()
    };
    let report = import_oruk(&mut feed_dir, &base, &allow_three).unwrap();
    assert_eq!(report.import.unchanged, 12);
    assert_eq!(report.deleted, ["v1-012", "v1-013", "v1-014"]);
    let head = feed_dir.changeset_head().unwrap().unwrap();
    assert_eq!(
        (head.seq, head.deletes),
        (2, 3),
        "the pull's deletions are one changeset"
    );
    assert_eq!(feed_dir.stats().unwrap().listings, 12);
    // A feed that is not ORUK at all is an error, and deletes nothing.
    drop(runtime);
    let err = import_oruk(&mut feed_dir, &base, &PullOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&base), "{err}");
    assert_eq!(feed_dir.stats().unwrap().listings, 12);
}

/// The official validator's mock feeds, served as a council would serve them. The "Test" one
/// repeats one record 128 times under a `total_items` of 31: an inconsistent pull, refused.
#[test]
fn import_oruk_reads_the_validator_mock_feeds() {
    use signpost_feed::pull::{import_oruk, PullError, PullOptions};
    for (mock, services) in [
        ("V3.0-UK-Default", 1),
        ("V3.0-UK-Test", 0),
        ("V3.0-UK-Warn", 1),
    ] {
        let body: Value = serde_json::from_slice(
            &std::fs::read(
                repo("tests/fixtures/oruk-validator/mocks")
                    .join(mock)
                    .join("service_list.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/services",
            axum::routing::get(move || {
                let body = body.clone();
                async move { axum::Json(body) }
            }),
        );
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        let t = tempfile::tempdir().unwrap();
        let mut dir =
            signpost_directory::Directory::open_publisher(&t.path().join("feed.db")).unwrap();
        match import_oruk(&mut dir, &base, &PullOptions::default()) {
            Ok(report) => assert_eq!(report.pages, 1, "{mock}"),
            Err(PullError::Inconsistent { page, message, .. }) => {
                assert_eq!((mock, page), ("V3.0-UK-Test", 1));
                assert!(message.contains("already read on page 1"), "{message}");
            }
            Err(e) => panic!("{mock}: {e}"),
        }
        assert_eq!(dir.stats().unwrap().listings, services, "{mock}");
    }
}

#[test]
fn a_new_client_starts_from_the_snapshot() {
    use signpost_sync::{sync, Options, Outcome};
    let t = tempfile::tempdir().unwrap();
    let data = published(&t);
    let server = Server::start(&data);
    let mut old_client = signpost_directory::Directory::open(&t.path().join("old.db")).unwrap();
    sync(
        &mut old_client,
        &server.base,
        &Options::default(),
        &mut |_| {},
    )
    .unwrap();
    let out = feed(&data, &["snapshot"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("snapshot at changeset 2"));
    assert!(feed(&data, &["delete", "v1-walk-001"]).status.success());
    let (_, _, head) = server.get("/sync/head");
    assert_eq!(
        (head["seq"].as_u64(), head["snapshot"]["seq"].as_u64()),
        (Some(3), Some(2))
    );
    assert!(head["snapshot"]["bytes"].as_u64().unwrap() > 1000, "{head}");
    let snapshot = reqwest::blocking::get(format!(
        "{}/sync/snapshots/{}",
        server.base,
        head["snapshot"]["hash"].as_str().unwrap()
    ))
    .unwrap();
    assert_eq!(snapshot.status().as_u16(), 200);
    assert_eq!(
        snapshot.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    let mut new_client = signpost_directory::Directory::open(&t.path().join("new.db")).unwrap();
    let outcome = sync(
        &mut new_client,
        &server.base,
        &Options::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        outcome,
        Outcome::UpToDate { seq: 3, applied: 2 },
        "the snapshot, then one changeset"
    );
    assert_eq!(new_client.digest().unwrap(), feed_digest(&data));
    // A client that already follows the feed keeps following the log.
    let outcome = sync(
        &mut old_client,
        &server.base,
        &Options::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(outcome, Outcome::UpToDate { seq: 3, applied: 1 });
    assert_eq!(old_client.digest().unwrap(), feed_digest(&data));
}

#[test]
fn snapshots_are_published_periodically() {
    let t = tempfile::tempdir().unwrap();
    let mut dir = signpost_directory::Directory::open_publisher(&t.path().join("feed.db")).unwrap();
    for i in 0..signpost_feed::SNAPSHOT_EVERY + 3 {
        let record = serde_json::json!({"id": format!("s{i}"), "name": format!("Listing {i}"), "status": "active"});
        dir.import_sources(vec![("x".into(), vec![record])], &mut |_| {})
            .unwrap();
        let made = signpost_feed::snapshot_if_due(&mut dir).unwrap();
        assert_eq!(
            made.is_some(),
            i + 1 == signpost_feed::SNAPSHOT_EVERY,
            "after changeset {}",
            i + 1
        );
    }
    assert_eq!(
        dir.newest_snapshot().unwrap().unwrap().seq,
        signpost_feed::SNAPSHOT_EVERY
    );
}

#[test]
fn services_at_locations_by_id_and_without_a_postcode() {
    let t = tempfile::tempdir().unwrap();
    let server = Server::start(&published(&t));
    let list = oruk_validator("service_at_location_list.json");
    // Without a postcode: every service at a location, once each, page by page, in service id
    // order (and each service's locations in the order it lists them), following the indexes.
    let (status, _, first) = server.get("/service_at_locations?per_page=50");
    assert_eq!(status, 200);
    assert_valid(&list, &first, "/service_at_locations page 1");
    assert_eq!(first["total_items"], 4440);
    assert_eq!(first["total_pages"], 89);
    let mut items: Vec<(String, String)> = Vec::new();
    for page in 1..=45 {
        let (status, _, p) = server.get(&format!("/service_at_locations?per_page=100&page={page}"));
        assert_eq!(status, 200);
        assert_eq!(p["page_number"], page);
        assert_eq!(p["total_items"], 4440);
        items.extend(p["contents"].as_array().unwrap().iter().map(|s| {
            (
                s["service_id"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            )
        }));
    }
    assert_eq!(items.len(), 4440);
    let unique: std::collections::HashSet<&str> = items.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(unique.len(), 4440, "none twice");
    assert!(
        items.windows(2).all(|w| w[0].0 <= w[1].0),
        "in service id order"
    );
    let ids: Vec<&str> = items.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(
        first["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ids[..50]
    );
    let (_, _, found) = server.get("/service_at_locations?search=foodbank");
    assert_eq!(found["total_items"], 1);
    assert_eq!(found["contents"][0]["id"], "v1-fb-sal");
    assert_eq!(found["contents"][0]["service_id"], "v1-foodbank-002");

    // By id: the same object as in the list.
    let one = oruk_validator("service_at_location.json");
    for item in first["contents"].as_array().unwrap().iter().take(10) {
        let id = item["id"].as_str().unwrap();
        let encoded = id.replace('%', "%25").replace('/', "%2F");
        let (status, _, full) = server.get(&format!("/service_at_locations/{encoded}"));
        assert_eq!(status, 200, "{id}");
        assert_valid(&one, &full, id);
        assert_eq!(&full, item);
    }
    let (status, _, walk) = server.get("/service_at_locations/v1-walk-001-sal");
    assert_eq!(status, 200);
    assert_eq!(
        (&walk["service_id"], &walk["location_id"]),
        (
            &Value::from("v1-walk-001"),
            &Value::from("v1-loc-victoria-park")
        )
    );
    assert_eq!(walk["location"]["latitude"], 51.4399);
    let (status, _, body) = server.get("/service_at_locations/no-such-id");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
}

/// A publishing directory with `n` changesets: `n + 100` small listings in one, then a deletion
/// each (a tombstone is the smallest changeset), leaving 101 listings. Returns it and its digest.
fn many_changesets(dir: &Path, n: usize) -> (signpost_directory::Directory, String) {
    let mut feed = signpost_directory::Directory::open_publisher(&dir.join("feed.db")).unwrap();
    let records = (0..n + 100)
        .map(|i| serde_json::json!({"id": format!("c{i:05}"), "name": format!("Listing {i}"), "status": "active"}))
        .collect();
    feed.import_sources(vec![("listings".into(), records)], &mut |_| {})
        .unwrap();
    for i in 0..n - 1 {
        assert!(feed.delete(&format!("c{i:05}")).unwrap());
    }
    assert_eq!(feed.changeset_head().unwrap().unwrap().seq, n as u64);
    let digest = feed.digest().unwrap();
    (feed, digest)
}

#[test]
fn the_log_is_paged_and_a_client_pages_past_1000_changesets() {
    use signpost_sync::{sync, Options, Outcome};
    let t = tempfile::tempdir().unwrap();
    let n = 1_003;
    let (publisher, feed_digest) = many_changesets(t.path(), n);
    let server = signpost_feed::Background::serve(
        "127.0.0.1:0".parse().unwrap(),
        signpost_feed::router(signpost_feed::AppState::new(publisher)),
    )
    .unwrap();
    let base = format!("http://{}", server.addr());
    let get = |q: &str| {
        let r = reqwest::blocking::get(format!("{base}/sync/changesets?{q}")).unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let seqs = |q: &str| -> Vec<u64> {
        let (status, body) = get(q);
        assert_eq!(status, 200, "{q}: {body}");
        body["changesets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        seqs("after=0"),
        (1..=1000).collect::<Vec<_>>(),
        "at most 1,000"
    );
    assert_eq!(seqs("after=1000"), [1001, 1002, 1003]);
    assert_eq!(seqs("after=0&limit=3"), [1, 2, 3]);
    assert_eq!(seqs("after=999&limit=5"), [1000, 1001, 1002, 1003]);
    assert_eq!(seqs("after=10&limit=1000").len(), 993);
    assert!(seqs("after=1003").is_empty());
    for bad in ["limit=1001", "limit=-1", "limit=ten"] {
        let (status, body) = get(&format!("after=0&{bad}"));
        assert_eq!(status, 400, "{bad}");
        assert!(
            body["message"].as_str().unwrap().contains("limit"),
            "{bad}: {body}"
        );
    }

    let mut app = signpost_directory::Directory::open(&t.path().join("app.db")).unwrap();
    let mut last = None;
    let outcome = sync(&mut app, &base, &Options::default(), &mut |p| {
        last = Some(p)
    })
    .unwrap();
    assert_eq!(
        outcome,
        Outcome::UpToDate {
            seq: n as u64,
            applied: n as u64
        }
    );
    let last = last.unwrap();
    assert_eq!(
        (last.changesets_done, last.changesets_total),
        (n as u64, n as u64)
    );
    assert_eq!(app.sync_cursor(&base).unwrap().0, n as u64);
    assert_eq!(app.digest().unwrap(), feed_digest);
    assert_eq!(
        app.stats().unwrap().listings,
        101,
        "the last tombstone applied too"
    );
}

/// `delete A B C` publishes one changeset holding every tombstone, and says what it found.
#[test]
fn deleting_several_listings_is_one_changeset() {
    use signpost_directory::changeset::Changeset;
    use signpost_directory::Directory;
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed-data");
    let file = t.path().join("three.json");
    std::fs::write(
        &file,
        r#"[{"id": "a", "name": "A", "status": "active"},
            {"id": "b", "name": "B", "status": "active"},
            {"id": "c", "name": "C", "status": "active"}]"#,
    )
    .unwrap();
    assert!(feed(&data, &["import", file.to_str().unwrap()])
        .status
        .success());
    let head = |data: &Path| {
        Directory::open(&data.join("feed.db"))
            .unwrap()
            .changeset_head()
            .unwrap()
            .unwrap()
    };
    let before = head(&data).seq;
    let out = feed(&data, &["delete", "a", "no-such-listing", "c"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("deleted 2 of 3 listings in one changeset; 1 not found"),
        "{said}"
    );
    let after = head(&data);
    assert_eq!(after.seq, before + 1);
    let server = Server::start(&data);
    let (_, bytes) = changeset_bytes(&server, &after.hash);
    let tombstones = Changeset::verify(&bytes, &after.hash).unwrap();
    let mut deletes = tombstones.deletes.clone();
    deletes.sort();
    assert_eq!(deletes, ["a", "c"]);
}

/// A listing imported by another process while the server runs (or approved by a moderator)
/// is found by proximity searches at once: the readers' shared search index is replaced when
/// the data changes, not kept until a restart.
#[test]
fn a_listing_imported_while_serving_is_found_near_its_place() {
    let t = tempfile::tempdir().unwrap();
    let data = published(&t);
    let server = Server::start(&data);
    let near = "/service_at_locations?postcode=NR20&proximity=3000&per_page=100";
    let ids = |v: &Value| -> Vec<String> {
        v["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["service_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, _, before) = server.get(near);
    let before_ids = ids(&before);
    assert!(!before_ids.contains(&"new-near-nr20".to_string()));
    // Several requests, so every reader has built and used the index before the change.
    for _ in 0..8 {
        assert_eq!(ids(&server.get(near).2), before_ids);
    }

    let file = t.path().join("new.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&json!([{
            "id": "new-near-nr20", "name": "New walking group", "status": "active",
            "attributes": [{"taxonomy_term_id": "signpost:access:drop-in"}],
            "service_at_locations": [{"id": "new-near-nr20-sal", "location": {
                "id": "new-near-nr20-loc", "latitude": 52.7212, "longitude": 0.9791}}]
        }]))
        .unwrap(),
    )
    .unwrap();
    let out = feed(&data, &["import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for _ in 0..8 {
        let (status, _, after) = server.get(near);
        assert_eq!(status, 200);
        let after_ids = ids(&after);
        assert_eq!(
            after_ids.first().map(String::as_str),
            Some("new-near-nr20"),
            "nearest first"
        );
        assert_eq!(after_ids.len(), before_ids.len() + 1);
        assert_eq!(after["total_items"].as_u64(), Some(after_ids.len() as u64));
    }
}
