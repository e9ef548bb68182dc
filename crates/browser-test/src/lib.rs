//! For tests only: web pages in a real browser. Starts Debian's headless Chromium through
//! chromedriver (nothing is downloaded), and runs axe-core from the UI's npm packages in any
//! WebDriver session, Chromium's or the app's WebKit.
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

/// chromedriver in its own process group; dropping it ends the group (chromedriver and the
/// Chromium it started), so a failing test leaves nothing running.
pub struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        for signal in ["-TERM", "-KILL"] {
            let _ = Command::new("kill")
                .args([signal, "--", &format!("-{}", self.0.id())])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.0.wait();
    }
}

/// A port free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Headless Chromium with page scripts allowed or not (`javascript: false` blocks every page's
/// JavaScript through Chromium's content settings, as a browser with it turned off does;
/// WebDriver's own scripts still run).
pub async fn chromium(javascript: bool) -> (Chromedriver, Client) {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(Chromedriver)
        .expect("chromedriver is not installed: run scripts/setup-system.sh");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        }
    });
    if !javascript {
        caps["goog:chromeOptions"]["prefs"] =
            json!({"profile.managed_default_content_settings.javascript": 2});
    }
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (driver, client)
}

/// Run axe-core (from the UI's npm packages) in the page: no serious or critical violations of
/// WCAG 2.x A/AA.
pub async fn axe_check(client: &Client, page: &str) {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ui/node_modules/axe-core/axe.min.js"
    ))
    .expect("axe-core is installed by npm ci in ui/");
    client.execute(&source, vec![]).await.unwrap();
    let v = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
               .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))))
               .catch(e => done([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}]));",
            vec![],
        )
        .await
        .unwrap();
    let bad: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(bad.is_empty(), "axe on {page}: {bad:#?}");
}
