//! The moderation queue in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver, through `fantoccini`), against the real server binary. A moderator signs in,
//! finds a listing named with a script, sees it as text, approves one and rejects another; axe
//! checks the sign-in, queue and item pages for WCAG 2.x A/AA problems.
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::moderate::{add_admin, ADMIN_PASSWORD};
use crate::submissions::{post, walk, DEVICE};
use crate::Server;

/// chromedriver in its own process group; dropping it ends the group (chromedriver and the
/// Chromium it started), so a failing test leaves nothing running.
struct Driver(Child);

impl Drop for Driver {
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn chromium() -> (Driver, Client) {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(Driver)
        .expect("chromedriver is not installed: run scripts/setup-system.sh");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        }
    });
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (driver, client)
}

/// Run axe-core (from the UI's npm packages) in the page: no serious or critical violations of
/// WCAG 2.x A/AA.
async fn axe_check(client: &Client, page: &str) {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/node_modules/axe-core/axe.min.js"),
    )
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

/// The page's `h1` once it reads `expected` (a form post navigates a moment after the click),
/// or whatever it last read after a generous wait.
async fn heading(client: &Client, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = match client.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if seen == expected || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

#[test]
fn a_moderator_approves_and_rejects_in_chromium() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    assert!(add_admin(&data, "ann", ADMIN_PASSWORD).status.success());
    let server = Server::start(&data);
    let hostile = "<script>alert(1)</script>";
    let mut ids = Vec::new();
    for (seq, (id, name)) in [("xss-walk", hostile), ("spam-1", "Buy now")]
        .iter()
        .enumerate()
    {
        let (status, r) = post(
            &server,
            "/submissions",
            &json!({"client_id": DEVICE, "seq": seq + 1, "service": walk(id, name)}),
        );
        assert_eq!(status, 202, "{r}");
        ids.push(r["submission_id"].as_str().unwrap().to_string());
    }
    let base = server.base.clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let (_driver, client) = chromium().await;

            // Signed out, the queue sends the browser to the sign-in form.
            client.goto(&format!("{base}/moderate")).await.unwrap();
            assert_eq!(heading(&client, "Sign in").await, "Sign in");
            assert!(client
                .current_url()
                .await
                .unwrap()
                .path()
                .ends_with("/moderate/sign-in"));
            // The stylesheet is allowed by the CSP and applied.
            let colour = client
                .execute(
                    "return getComputedStyle(document.querySelector('header')).backgroundColor",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(colour, "rgb(29, 53, 87)");
            axe_check(&client, "sign-in").await;
            type_into(&client, "#name", "ann").await;
            type_into(&client, "#password", "not the password").await;
            click(&client, "button[type=submit]").await;
            assert_eq!(heading(&client, "Sign in").await, "Sign in");
            assert_eq!(
                client
                    .find(Locator::Css(".problem"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
                "The name or password is wrong."
            );
            type_into(&client, "#name", "ann").await;
            type_into(&client, "#password", ADMIN_PASSWORD).await;
            click(&client, "main button[type=submit]").await;
            assert_eq!(
                heading(&client, "Waiting for a moderator").await,
                "Waiting for a moderator"
            );
            axe_check(&client, "queue").await;

            // The script-named listing is a link whose text is the script, and nothing ran.
            let link = client.find(Locator::LinkText(hostile)).await.unwrap();
            let scripts = client
                .execute("return document.scripts.length", vec![])
                .await
                .unwrap();
            assert_eq!(scripts, 0);
            link.click().await.unwrap();
            assert_eq!(heading(&client, hostile).await, hostile);
            axe_check(&client, "item").await;
            click(&client, "form[action$='/approve'] button").await;
            client
                .wait()
                .for_element(Locator::XPath("//dd[text()='approved']"))
                .await
                .unwrap();

            // Reject the other with a reason.
            client
                .goto(&format!("{base}/moderate/items/{}", ids[1]))
                .await
                .unwrap();
            assert_eq!(heading(&client, "Buy now").await, "Buy now");
            type_into(&client, "#reason", "Not a community group").await;
            click(&client, "form[action$='/reject'] button").await;
            client
                .wait()
                .for_element(Locator::XPath("//dd[text()='rejected']"))
                .await
                .unwrap();

            // Sign out: the queue asks for sign-in again.
            click(&client, "header button").await;
            assert_eq!(heading(&client, "Sign in").await, "Sign in");
            client.goto(&format!("{base}/moderate")).await.unwrap();
            assert_eq!(heading(&client, "Sign in").await, "Sign in");
            client.close().await.unwrap();
        });

    let (status, _, service) = server.get("/services/xss-walk");
    assert_eq!(status, 200, "{service}");
    assert_eq!(service["name"], hostile);
    assert!(service["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["updated_by"] == "ann"));
    let (_, _, rejected) = server.get(&format!("/submissions/{}", ids[1]));
    assert_eq!(rejected["reason"], "Not a community group");
}
