//! Driving the real app: Xvfb, tauri-driver (which starts WebKitWebDriver) and a WebDriver
//! session with `signpost-app`, plus the waits and reads the tests and benchmarks share.
#![allow(dead_code)]
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use signpost_directory::Directory;

/// One app at a time: each is a WebKit process, and the machine has two cores.
pub static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bristol.json");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process started in its own process group. Dropping it ends the whole group (tauri-driver
/// starts WebKitWebDriver, which starts the app and WebKit's helpers), politely first so Xvfb
/// removes its lock file, so a failing test leaves nothing running.
pub struct Process(pub Child);

impl Process {
    pub fn spawn(command: &mut Command) -> std::io::Result<Process> {
        use std::os::unix::process::CommandExt;
        command.process_group(0).spawn().map(Process)
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.signal_group("-KILL");
        let _ = self.0.wait();
    }
}

/// Whether display `n` belongs to a live X server (a lock file left by a killed one does not).
fn display_in_use(n: u32) -> bool {
    let Ok(lock) = std::fs::read_to_string(format!("/tmp/.X{n}-lock")) else {
        return false;
    };
    lock.trim()
        .parse::<u32>()
        .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

pub fn start_xvfb() -> (Process, String) {
    for n in 90..190 {
        if display_in_use(n) {
            continue;
        }
        let display = format!(":{n}");
        let mut p = Process::spawn(
            Command::new("Xvfb")
                .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .expect("Xvfb is not installed: run scripts/setup-system.sh");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if p.0.try_wait().unwrap().is_some() {
                break; // the display was taken after all; try the next
            }
            if display_in_use(n)
                && std::fs::read_to_string(format!("/tmp/.X{n}-lock"))
                    .is_ok_and(|l| l.trim() == p.0.id().to_string())
                && Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                return (p, display);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("no free X display for Xvfb");
}

/// A running app under test, with its own data folder.
pub struct App {
    pub client: Client,
    pub data: tempfile::TempDir,
    _driver: Process,
    _xvfb: Process,
}

impl App {
    pub fn downloads(&self) -> PathBuf {
        self.data.path().join("downloads")
    }

    /// What the app asked the desktop to open (files, folders, links), one line each: the
    /// desktop's opener here is a script that writes them down (see [`desktop_opener`]).
    pub fn opened(&self) -> Vec<String> {
        std::fs::read_to_string(self.data.path().join("opened.txt"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A folder holding an `xdg-open` that records what it was asked to open in `data/opened.txt`,
/// to put first on the app's PATH: a test machine has no desktop to open files with, and a
/// test must not start a real browser or calendar.
fn desktop_opener(data: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = data.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n",
            data.join("opened.txt").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// The dates the fixture is built around, fixed once per test run from the real clock, so no
/// assertion depends on the hour, the weekday or the year the suite runs in.
pub struct FixtureDates {
    /// The choir meets weekly on this day (two days after today, UK time), 19:00–21:00: its row
    /// always says "Next: <this day>", never "Open now".
    pub choir_day: chrono::Weekday,
    /// The walk's `assured_date`: 30 days ago, so never "May be out of date".
    pub walk_assured: chrono::NaiveDate,
}

pub fn fixture_dates() -> &'static FixtureDates {
    static DATES: std::sync::OnceLock<FixtureDates> = std::sync::OnceLock::new();
    DATES.get_or_init(|| {
        use chrono::Datelike;
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive();
        FixtureDates {
            choir_day: (today + chrono::Duration::days(2)).weekday(),
            walk_assured: today - chrono::Duration::days(30),
        }
    })
}

/// "Thu" for Thursday, as the results rows say it.
pub fn short_day(day: chrono::Weekday) -> String {
    let name = format!("{day:?}");
    name[..3].to_string()
}

/// The Bristol fixture's listings, with the choir's day and the walk's check date set from
/// [`fixture_dates`] (the file holds placeholders for both).
pub fn fixture_listings() -> Vec<Value> {
    let dates = fixture_dates();
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let byday = format!("{:?}", dates.choir_day).to_uppercase()[..2].to_string();
    let text = text
        .replace("CHOIR_BYDAY", &byday)
        .replace("WALK_ASSURED_DATE", &dates.walk_assured.to_string());
    serde_json::from_str(&text).unwrap()
}

/// A data folder holding the Bristol fixture listings (the default region is then not loaded:
/// it only seeds an empty directory).
pub fn data_with_fixture() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let mut dir = Directory::open(&data.path().join("directory.db")).unwrap();
    let report = dir
        .import_sources(vec![(FIXTURE.to_string(), fixture_listings())], &mut |_| {})
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.inserted, 5);
    data
}

pub async fn launch(data: tempfile::TempDir) -> App {
    let (xvfb, display) = start_xvfb();
    let (port, native_port) = (free_port(), free_port());
    let driver = Process::spawn(
        Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &display)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    desktop_opener(data.path()).display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("tauri-driver is not installed: run scripts/setup-system.sh");
    wait_for_port(port, "tauri-driver");
    wait_for_port(native_port, "WebKitWebDriver");
    let downloads = data.path().join("downloads");
    let caps = json!({
        "browserName": "wry",
        "tauri:options": {
            "application": env!("CARGO_BIN_EXE_signpost-app"),
            "args": ["--data-dir", data.path(), "--downloads", downloads],
        }
    });
    // The drivers can accept connections a moment before they accept sessions.
    let mut attempt = 0;
    let client = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => break client,
            Err(e) if attempt < 5 => {
                attempt += 1;
                eprintln!("new WebDriver session failed ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("no WebDriver session with the app: {e}"),
        }
    };
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

impl App {
    /// The data folder, once the app is gone (the drivers are stopped as the rest drops).
    pub fn into_data(self) -> tempfile::TempDir {
        self.data
    }
}

/// Close the app and start it again on the same data folder, as a person reopening it would.
pub async fn restart(app: App) -> App {
    let App {
        client,
        data,
        _driver,
        _xvfb,
    } = app;
    client.close().await.unwrap();
    drop(_driver);
    drop(_xvfb);
    launch(data).await
}

/// Poll a JavaScript condition until it holds (a script error, such as an element not yet
/// drawn, counts as "not yet").
pub async fn wait_until(app: &App, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Value::Bool(true)) = app.client.execute(script, vec![]).await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until an element's text contains `needle`; on timeout, say what it said instead.
pub async fn wait_for_text(app: &App, css: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(Value::String(t)) = app
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
                vec![json!(css)],
            )
            .await
        {
            if t.contains(needle) {
                return;
            }
            last = t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} never said {needle:?}; it said {last:?}");
}

pub async fn js(app: &App, script: &str) -> Value {
    app.client.execute(script, vec![]).await.unwrap()
}

/// The element, once it is on screen (screens render after their data arrives).
pub async fn find(app: &App, css: &str) -> fantoccini::elements::Element {
    app.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

pub async fn text(app: &App, css: &str) -> String {
    find(app, css).await.text().await.unwrap()
}

pub async fn click(app: &App, css: &str) {
    find(app, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

pub async fn searches(app: &App) -> u64 {
    js(app, "return Number(document.body.dataset.searches || 0)")
        .await
        .as_u64()
        .unwrap()
}

/// Do something that triggers a search, then wait for its results to be painted.
pub async fn and_settle(app: &App, before: u64) {
    wait_until(
        app,
        "the results are repainted",
        &format!("return Number(document.body.dataset.searches || 0) > {before}"),
    )
    .await;
}

pub async fn search_for(app: &App, place: &str) {
    let before = searches(app).await;
    let input = find(app, "#place").await;
    input.clear().await.unwrap();
    input.send_keys(place).await.unwrap();
    click(app, "#search-button").await;
    and_settle(app, before).await;
}

pub async fn result_names(app: &App) -> Vec<String> {
    let v = js(
        app,
        "return [...document.querySelectorAll('#results .result-name')].map(a => a.textContent)",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

pub async fn toggle(app: &App, css: &str) {
    let before = searches(app).await;
    click(app, css).await;
    and_settle(app, before).await;
}

/// Choose an option the way a change in the form does (WebKitWebDriver cannot open a native
/// select's popup under Xvfb), then wait for the repaint.
pub async fn choose(app: &App, select: &str, value: &str) {
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

pub fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Resize the window, wait until the page has laid itself out at the new size and painted
/// (the size holds across frames and fonts are loaded), then take a screenshot and check a
/// person would see something: a real screen has text, so many colours, not one flat fill.
pub async fn screenshot(app: &App, name: &str, width: u32, height: u32) {
    app.client.set_window_size(width, height).await.unwrap();
    let settle = "const done = arguments[arguments.length - 1];
         document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(
           () => done([innerWidth, innerHeight]))));";
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = app.client.execute_async(settle, vec![]).await.unwrap();
    loop {
        let now = app.client.execute_async(settle, vec![]).await.unwrap();
        if now == last {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the window never settled at {width}x{height}"
        );
        last = now;
    }
    let png = app.client.screenshot().await.unwrap();
    let colours = distinct_colours(&png);
    assert!(
        colours >= 24,
        "{name} at {width}x{height} looks blank: {colours} colours"
    );
    std::fs::write(
        screenshots().join(format!("{name}-{width}x{height}.png")),
        png,
    )
    .unwrap();
}

/// How many different colours a PNG has (counted up to 1,000).
pub fn distinct_colours(png_bytes: &[u8]) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG screenshot");
    let mut buf = vec![0; reader.output_buffer_size().expect("a screen-sized PNG")];
    let info = reader.next_frame(&mut buf).unwrap();
    let samples = info.color_type.samples();
    let mut seen = std::collections::HashSet::new();
    for pixel in buf[..info.buffer_size()].chunks_exact(samples) {
        seen.insert(pixel[..samples.min(3)].to_vec());
        if seen.len() >= 1000 {
            break;
        }
    }
    seen.len()
}

/// Wait until the page has handled everything sent to it so far: a timer set now fires after
/// every task already queued (an event, a navigation decision, an image error). Checks that
/// something did *not* happen come after this, not after a fixed sleep.
pub async fn page_answers(app: &App) {
    app.client
        .execute_async(
            "const done = arguments[arguments.length - 1]; setTimeout(() => requestAnimationFrame(() => done(true)), 0);",
            vec![],
        )
        .await
        .unwrap();
}

/// Run axe-core in the page: no serious or critical violations of WCAG 2.x A/AA.
pub async fn axe_check(app: &App, page: &str) {
    signpost_browser_test::axe_check(&app.client, page).await;
}

pub fn run(test: impl std::future::Future<Output = ()>) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}
