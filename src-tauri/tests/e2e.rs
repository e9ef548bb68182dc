//! End-to-end tests of the real app: the built `signpost-app` binary under Xvfb, driven through
//! tauri-driver and WebKitWebDriver (WebDriver), against real SQLite files and, for sync, the
//! real feed server on 127.0.0.1. Screenshots land in `target/e2e-screenshots/`.
//!
//! Needs Xvfb, WebKitWebDriver and tauri-driver (`scripts/setup-system.sh` installs them).
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use signpost_directory::Directory;

/// One app at a time: each is a WebKit process, and the machine has two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bristol.json");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills its process when dropped, so a failing test leaves nothing running.
struct Process(Child);
impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_xvfb() -> (Process, String) {
    for n in 90..190 {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is not installed: run scripts/setup-system.sh");
        let socket = format!("/tmp/.X11-unix/X{n}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut p = Process(child);
        while !Path::new(&socket).exists() && Instant::now() < deadline {
            if p.0.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if Path::new(&socket).exists() {
            return (p, display);
        }
    }
    panic!("no free X display for Xvfb");
}

/// A running app under test, with its own data folder.
struct App {
    client: Client,
    data: tempfile::TempDir,
    _driver: Process,
    _xvfb: Process,
}

impl App {
    fn downloads(&self) -> PathBuf {
        self.data.path().join("downloads")
    }
}

/// A data folder holding the Bristol fixture listings (the default region loads on start).
fn data_with_fixture() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let mut dir = Directory::open(&data.path().join("directory.db")).unwrap();
    let report = dir
        .import_paths(&[Path::new(FIXTURE)], &mut |_| {})
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    data
}

async fn launch(data: tempfile::TempDir) -> App {
    let (xvfb, display) = start_xvfb();
    let (port, native_port) = (free_port(), free_port());
    let driver = Command::new("tauri-driver")
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("DISPLAY", &display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tauri-driver is not installed: run scripts/setup-system.sh");
    let driver = Process(driver);
    wait_for_port(port, "tauri-driver");
    let downloads = data.path().join("downloads");
    let caps = json!({
        "browserName": "wry",
        "tauri:options": {
            "application": env!("CARGO_BIN_EXE_signpost-app"),
            "args": ["--data-dir", data.path(), "--downloads", downloads],
        }
    });
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session with the app");
    let app = App {
        client,
        data,
        _driver: driver,
        _xvfb: xvfb,
    };
    wait_until(
        &app,
        "the app has started",
        "return document.body.dataset.screen === 'near'",
    )
    .await;
    app
}

/// Poll a JavaScript condition until it holds (a script error, such as an element not yet
/// drawn, counts as "not yet").
async fn wait_until(app: &App, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Value::Bool(true)) = app.client.execute(script, vec![]).await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn js(app: &App, script: &str) -> Value {
    app.client.execute(script, vec![]).await.unwrap()
}

/// The element, once it is on screen (screens render after their data arrives).
async fn find(app: &App, css: &str) -> fantoccini::elements::Element {
    app.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

async fn text(app: &App, css: &str) -> String {
    app.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn click(app: &App, css: &str) {
    app.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn searches(app: &App) -> u64 {
    js(app, "return Number(document.body.dataset.searches || 0)")
        .await
        .as_u64()
        .unwrap()
}

/// Do something that triggers a search, then wait for its results to be painted.
async fn and_settle(app: &App, before: u64) {
    wait_until(
        app,
        "the results are repainted",
        &format!("return Number(document.body.dataset.searches || 0) > {before}"),
    )
    .await;
}

async fn search_for(app: &App, place: &str) {
    let before = searches(app).await;
    let input = find(app, "#place").await;
    input.clear().await.unwrap();
    input.send_keys(place).await.unwrap();
    click(app, "#search-button").await;
    and_settle(app, before).await;
}

async fn result_names(app: &App) -> Vec<String> {
    let v = js(
        app,
        "return [...document.querySelectorAll('#results .result-name')].map(a => a.textContent)",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

async fn toggle(app: &App, css: &str) {
    let before = searches(app).await;
    click(app, css).await;
    and_settle(app, before).await;
}

/// Choose an option the way a change in the form does (WebKitWebDriver cannot open a native
/// select's popup under Xvfb), then wait for the repaint.
async fn choose(app: &App, select: &str, value: &str) {
    let before = searches(app).await;
    app.client
        .execute(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change'));",
            vec![json!(select), json!(value)],
        )
        .await
        .unwrap();
    and_settle(app, before).await;
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(app: &App, name: &str, width: u32, height: u32) {
    app.client.set_window_size(width, height).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let png = app.client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(
        screenshots().join(format!("{name}-{width}x{height}.png")),
        png,
    )
    .unwrap();
}

/// Run axe-core (from the UI's npm packages) in the page: no serious or critical violations
/// of WCAG 2.x A/AA.
async fn axe_check(app: &App, page: &str) {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js"),
    )
    .expect("axe-core is installed by npm ci in ui/");
    app.client.execute(&source, vec![]).await.unwrap();
    let v = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
               .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))))
               .catch(e => done([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}]));",
            vec![],
        )
        .await
        .unwrap();
    let violations = v.as_array().unwrap();
    let bad: Vec<&Value> = violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(bad.is_empty(), "axe on {page}: {bad:#?}");
}

fn run(test: impl std::future::Future<Output = ()>) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

#[test]
fn postcode_search_and_every_filter() {
    run(async {
        let app = launch(data_with_fixture()).await;
        assert_eq!(app.client.title().await.unwrap(), "Signpost");

        search_for(&app, "bs3").await;
        let all = result_names(&app).await;
        assert_eq!(all.len(), 5, "{all:?}");
        assert_eq!(all[0], "Bedminster Walking Group", "nearest first");
        let status = text(&app, "#results-status").await;
        assert!(status.contains("5 places within 10 km of BS3"), "{status}");
        screenshot(&app, "near", 1280, 800).await;
        screenshot(&app, "near", 360, 740).await;
        app.client.set_window_size(1280, 800).await.unwrap();
        axe_check(&app, "near me").await;

        toggle(&app, "#f-no_referral").await;
        let names = result_names(&app).await;
        assert!(
            !names.contains(&"Wellbeing Clinic".to_string()),
            "{names:?}"
        );
        assert_eq!(names.len(), 4, "{names:?}");
        toggle(&app, "#f-no_referral").await;

        toggle(&app, "#f-free").await;
        assert_eq!(
            result_names(&app).await,
            [
                "Bedminster Walking Group",
                "Wellbeing Clinic",
                "Evening Listening Line"
            ]
        );
        toggle(&app, "#f-wheelchair").await;
        assert_eq!(result_names(&app).await, ["Bedminster Walking Group"]);
        toggle(&app, "#f-wheelchair").await;
        toggle(&app, "#f-free").await;

        choose(&app, "#f-domain", "health-and-social-care").await;
        assert_eq!(result_names(&app).await, ["Wellbeing Clinic"]);
        choose(&app, "#f-domain", "").await;
        choose(&app, "#f-interest", "music").await;
        assert_eq!(result_names(&app).await, ["Southville Community Choir"]);
        choose(&app, "#f-interest", "").await;
        choose(&app, "#f-language", "Urdu").await;
        assert_eq!(result_names(&app).await, ["Southville Community Choir"]);
        choose(&app, "#f-language", "").await;
        choose(&app, "#f-attendance", "online").await;
        assert_eq!(result_names(&app).await, ["Wellbeing Clinic"]);
        choose(&app, "#f-attendance", "in-person").await;
        assert_eq!(result_names(&app).await.len(), 4);
        choose(&app, "#f-attendance", "").await;

        // A chosen day and time: Tuesday 24 November 2026, 10:30, only the walk is on.
        app.client
            .execute(
                "const t = document.querySelector('#f-when-at'); t.value = '2026-11-24T10:30';",
                vec![],
            )
            .await
            .unwrap();
        choose(&app, "#f-when", "at").await;
        assert_eq!(
            result_names(&app).await,
            ["Bedminster Walking Group", "Evening Listening Line"]
        );
        choose(&app, "#f-when", "open-now").await;
        let open_now = result_names(&app).await;
        assert!(
            open_now.contains(&"Evening Listening Line".to_string()),
            "{open_now:?}"
        );
        assert!(
            !open_now.contains(&"Wellbeing Clinic".to_string()),
            "no hours, never open"
        );
        choose(&app, "#f-when", "any").await;

        let before = searches(&app).await;
        find(&app, "#f-text").await.send_keys("sing").await.unwrap();
        and_settle(&app, before).await;
        assert_eq!(result_names(&app).await, ["Southville Community Choir"]);

        // Filters are kept while moving between screens.
        click(&app, "a[data-tab=saved]").await;
        wait_until(
            &app,
            "saved screen",
            "return document.body.dataset.screen === 'saved'",
        )
        .await;
        click(&app, "a[data-tab=near]").await;
        wait_until(
            &app,
            "near screen",
            "return !!document.querySelector('#f-text')",
        )
        .await;
        let kept = js(&app, "return document.querySelector('#f-text').value").await;
        assert_eq!(kept, "sing");
        assert_eq!(result_names(&app).await, ["Southville Community Choir"]);

        // The map shows the same results, on a plain background with a scale, offline.
        click(&app, "#show-map").await;
        wait_until(
            &app,
            "map drawn",
            "return document.querySelectorAll('.leaflet-marker-icon').length >= 1",
        )
        .await;
        let scale = text(&app, ".leaflet-control-scale-line").await;
        assert!(scale.ends_with('m'), "a scale: {scale}");
        screenshot(&app, "map", 1280, 800).await;
        click(&app, "#show-list").await;

        // An unknown postcode is a clear error, never a guess.
        search_for(&app, "ZZ99 9ZZ").await;
        let err = text(&app, "#search-error").await;
        assert!(err.contains("ZZ99"), "{err}");
        app.client.close().await.unwrap();
    });
}

#[test]
fn detail_save_print_calendar_and_report() {
    run(async {
        let app = launch(data_with_fixture()).await;
        search_for(&app, "BS3 1QG").await;
        let rows = js(
            &app,
            "return [...document.querySelectorAll('#results .result')].map(r => r.textContent)",
        )
        .await;
        let rows: Vec<String> = serde_json::from_value(rows).unwrap();
        let choir = rows
            .iter()
            .find(|r| r.contains("Southville Community Choir"))
            .unwrap();
        assert!(choir.contains("No referral needed"), "{choir}");
        assert!(
            choir.contains("May be out of date"),
            "assured 2020: {choir}"
        );
        assert!(choir.contains("Costs money"), "{choir}");
        assert!(choir.contains("Next: Thu"), "{choir}");
        let walk = rows
            .iter()
            .find(|r| r.contains("Bedminster Walking Group"))
            .unwrap();
        assert!(
            walk.contains("Free") && !walk.contains("May be out of date"),
            "{walk}"
        );

        click(&app, "a[href='#/listing/e2e-walk']").await;
        let name = text(&app, "#detail-name").await;
        assert_eq!(name, "Bedminster Walking Group");
        let detail = text(&app, "#detail").await;
        for expected in [
            "Tuesdays 10:00–12:00",
            "Drop in: just turn up",
            "Ashton Road, Bristol, BS3 2HB",
            "0117 496 0000",
            "Wheelchair accessible",
            "Free",
            "2026-09-01",
            "Bristol Walks",
        ] {
            assert!(
                detail.contains(expected),
                "detail lacks {expected:?}:\n{detail}"
            );
        }
        screenshot(&app, "detail", 1280, 800).await;
        screenshot(&app, "detail", 360, 740).await;
        app.client.set_window_size(1280, 800).await.unwrap();
        axe_check(&app, "listing detail").await;

        click(&app, "#detail-calendar").await;
        wait_until(
            &app,
            "calendar saved",
            "return document.querySelector('#detail-status').textContent.includes('.ics')",
        )
        .await;
        let ics =
            std::fs::read_to_string(app.downloads().join("bedminster-walking-group.ics")).unwrap();
        assert!(
            ics.contains("BEGIN:VEVENT") && ics.contains("RRULE:FREQ=WEEKLY;BYDAY=TU"),
            "{ics}"
        );
        assert!(ics.contains("DTSTART;TZID=Europe/London:"), "{ics}");

        click(&app, "#detail-copy").await;
        wait_until(&app, "copy text shown", "return !!document.querySelector('#copy-text') && document.querySelector('#copy-text').value.includes('Tuesdays')").await;

        click(&app, "#detail-save").await;
        wait_until(
            &app,
            "saved",
            "return document.querySelector('#detail-status').textContent.includes('Saved')",
        )
        .await;
        wait_until(
            &app,
            "count",
            "return document.querySelector('#saved-count').textContent === '(1)'",
        )
        .await;

        // Report a problem: queued locally and visible as waiting.
        click(&app, "details.report summary").await;
        click(&app, "#report-wrong").await;
        find(&app, "#report-comment")
            .await
            .send_keys("The walk now starts at 10:30")
            .await
            .unwrap();
        click(&app, "#report-send").await;
        wait_until(
            &app,
            "report queued",
            "return document.querySelector('#report-status').textContent.includes('queued')",
        )
        .await;

        click(&app, "a[data-tab=saved]").await;
        let saved = text(&app, "#saved-list").await;
        assert!(saved.contains("Bedminster Walking Group"), "{saved}");
        click(&app, "#print-view").await;
        let page = text(&app, "#print-page").await;
        assert!(
            page.contains("Bedminster Walking Group") && page.contains("Tuesdays 10:00–12:00"),
            "{page}"
        );
        let plain = js(&app, "return document.querySelector('#saved-text').value").await;
        let plain = plain.as_str().unwrap();
        assert!(
            plain.starts_with("My saved list") && plain.contains("Phone: 0117 496 0000"),
            "{plain}"
        );
        screenshot(&app, "print", 1280, 800).await;

        click(&app, "a[data-tab=settings]").await;
        let queue = text(&app, "#report-queue").await;
        assert!(
            queue.contains("Bedminster Walking Group") && queue.contains("Waiting to send"),
            "{queue}"
        );
        axe_check(&app, "settings").await;
        app.client.close().await.unwrap();

        // The saved list and the queue are on disk, for the next start.
        let personal =
            signpost_personal::Personal::open(&app.data.path().join("personal.db")).unwrap();
        assert_eq!(personal.saved().unwrap().len(), 1);
        assert_eq!(personal.reports().unwrap()[0].sent_at, None);
    });
}

#[test]
fn listing_text_is_shown_literally_and_never_runs() {
    run(async {
        let app = launch(data_with_fixture()).await;
        let title_before = app.client.title().await.unwrap();
        search_for(&app, "BS3").await;
        let names = result_names(&app).await;
        let evil = names
            .iter()
            .find(|n| n.contains("Evil"))
            .expect("the hostile listing is listed");
        assert_eq!(
            evil,
            "<img src=x onerror=\"document.title='pwned'\">Evil <script>window.__xss=1</script>Club"
        );
        click(&app, "a[href='#/listing/e2e-xss']").await;
        let description = text(&app, "#detail-description").await;
        assert!(
            description.starts_with("<b>bold?</b><script>"),
            "{description}"
        );
        let org = text(&app, "#detail .org").await;
        assert_eq!(org, "<svg onload=\"window.__xss=4\">Org");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ran = js(
            &app,
            "return [window.__xss === undefined, document.querySelectorAll('main img, main script, main iframe, main svg, main b').length]",
        )
        .await;
        assert_eq!(ran, json!([true, 0]), "no payload became markup or ran");
        assert_eq!(app.client.title().await.unwrap(), title_before);
        app.client.close().await.unwrap();
    });
}

#[test]
fn offline_everything_still_reads() {
    run(async {
        let data = data_with_fixture();
        // A feed and a tile server that cannot be reached: this is what no network looks like.
        let dead = format!("http://127.0.0.1:{}", free_port());
        {
            let p = signpost_personal::Personal::open(&data.path().join("personal.db")).unwrap();
            p.set_setting(signpost_personal::Setting::FeedUrl, &dead)
                .unwrap();
            p.set_setting(
                signpost_personal::Setting::TileUrl,
                &format!("{dead}/{{z}}/{{x}}/{{y}}.png"),
            )
            .unwrap();
        }
        let app = launch(data).await;
        click(&app, "a[data-tab=settings]").await;
        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "the sync gives up",
            "return document.querySelector('#sync-status').textContent.includes('Could not reach')",
        )
        .await;
        let status = text(&app, "#sync-status").await;
        assert!(status.contains("still works offline"), "{status}");
        let summary = text(&app, "#directory-summary").await;
        assert!(
            summary.starts_with("5 listings"),
            "every listing is still there: {summary}"
        );

        click(&app, "a[data-tab=near]").await;
        search_for(&app, "BS3").await;
        assert_eq!(result_names(&app).await.len(), 5);
        click(&app, "a[href='#/listing/e2e-choir']").await;
        assert_eq!(
            text(&app, "#detail-name").await,
            "Southville Community Choir"
        );
        click(&app, "#back").await;
        click(&app, "#show-map").await;
        wait_until(&app, "map note", "return (document.querySelector('.map-note')?.textContent || '').includes('could not be loaded')").await;
        let markers = js(
            &app,
            "return document.querySelectorAll('.leaflet-marker-icon').length",
        )
        .await;
        assert!(
            markers.as_u64().unwrap() >= 2,
            "points still drawn: {markers}"
        );
        screenshot(&app, "map-offline", 1280, 800).await;
        app.client.close().await.unwrap();
    });
}

/// The real feed server, in this process, on 127.0.0.1 and a random port.
struct Feed {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

fn start_feed(path: &Path) -> Feed {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = signpost_feed::router(signpost_feed::AppState::new(Directory::open(path).unwrap()));
    runtime.spawn(async move { axum_serve(listener, app).await });
    Feed {
        addr,
        _runtime: runtime,
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) {
    axum::serve(listener, app).await.unwrap();
}

#[test]
fn sync_from_a_real_feed_shows_progress_and_new_listings() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    {
        let mut feed = Directory::open_publisher(&feed_db).unwrap();
        let records: Vec<Value> = (0..300)
            .map(|i| {
                json!({"id": format!("feed-{i}"), "name": format!("Allotment Club {i}"), "status": "active",
                       "attributes": [{"taxonomy_term_id": "signpost:access:drop-in"}, {"taxonomy_term_id": "signpost:interest:nature"}],
                       "service_at_locations": [{"location": {"id": format!("feed-loc-{i}"), "latitude": 51.40 + (i as f64) * 0.0001, "longitude": -2.65}}]})
            })
            .collect();
        for chunk in records.chunks(50) {
            feed.import_sources(vec![("feed".into(), chunk.to_vec())], &mut |_| {})
                .unwrap();
        }
    }
    let feed = start_feed(&feed_db);
    run(async {
        let app = launch(data_with_fixture()).await;
        click(&app, "a[data-tab=settings]").await;
        let input = find(&app, "#setting-feed_url").await;
        input.send_keys("not a web address").await.unwrap();
        click(&app, "#setting-feed_url-save").await;
        wait_until(&app, "bad address refused", "return document.querySelector('#setting-feed_url-status').textContent.startsWith('feed address:')").await;
        input.clear().await.unwrap();
        input
            .send_keys(&format!("http://{}", feed.addr))
            .await
            .unwrap();
        click(&app, "#setting-feed_url-save").await;
        wait_until(
            &app,
            "address saved",
            "return document.querySelector('#setting-feed_url-status').textContent === 'Saved.'",
        )
        .await;

        click(&app, "#sync-now").await;
        wait_until(
            &app,
            "sync finished",
            "return document.querySelector('#sync-status').textContent.includes('Updated')",
        )
        .await;
        let events = js(
            &app,
            "return Number(document.body.dataset.syncProgressEvents || 0)",
        )
        .await;
        assert!(
            events.as_u64().unwrap() >= 6,
            "progress reported per changeset: {events}"
        );
        let status = text(&app, "#sync-status").await;
        assert!(status.starts_with("Last update"), "{status}");
        wait_until(
            &app,
            "progress bar hidden",
            "return document.querySelector('#sync-progress').hidden",
        )
        .await;
        screenshot(&app, "sync", 1280, 800).await;

        click(&app, "a[data-tab=near]").await;
        search_for(&app, "BS3").await;
        choose(&app, "#f-interest", "nature").await;
        let names = result_names(&app).await;
        assert!(
            !names.is_empty() && names.iter().all(|n| n.starts_with("Allotment Club")),
            "{names:?}"
        );

        // Syncing again fetches nothing new.
        click(&app, "a[data-tab=settings]").await;
        click(&app, "#sync-now").await;
        wait_until(&app, "second sync", "return document.querySelector('#sync-status').textContent.includes('Already up to date')").await;
        app.client.close().await.unwrap();
    });
}
