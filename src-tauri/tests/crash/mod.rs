//! SIGKILL around a submit, 30 times: a group's listing is queued and sent while the app is
//! killed at a random moment (while queueing, while sending, or between the feed storing it and
//! the app recording that). Nothing confirmed as queued is ever lost, and the feed never holds
//! anything twice: the outbox is written in one transaction before "queued" is shown, and the
//! device's id and number make every resend a retry the feed recognises.
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use signpost_directory::Directory;

use crate::driver::*;

const ROUNDS: usize = 30;

/// The app process started for `data` (tauri-driver starts it; only it is killed).
fn app_pid(data: &std::path::Path) -> Option<u32> {
    let exe = env!("CARGO_BIN_EXE_signpost-app");
    let data = data.to_string_lossy();
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        (args.first().is_some_and(|a| a == exe) && args.iter().any(|a| a == data.as_ref()))
            .then_some(pid)
    })
}

/// SIGKILL the app (not its drivers), then let the drivers go; the data folder is kept.
async fn kill(app: App) -> tempfile::TempDir {
    let pid = app_pid(app.data.path()).expect("the app's process");
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
        && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty())
    {
        assert!(Instant::now() < deadline, "the app outlived SIGKILL");
        std::thread::sleep(Duration::from_millis(20));
    }
    app.into_data()
}

/// Fill the group form with a listing called `name`.
async fn fill(app: &App, name: &str) {
    js(app, "location.hash = '#/group'; return true").await;
    find(app, "#group-form").await;
    app.client
        .execute(
            "const set = (css, v) => { const c = document.querySelector(css); c.value = v; c.dispatchEvent(new Event('change')); };
             set('#g-name', arguments[0]);
             set('#g-description', 'Crash test listing');
             set('#s-0-repeat', 'weekly');
             set('#s-0-day', 'WE');
             set('#g-postcode', 'BS3 1QG');
             set('#g-place', 'Southville Centre');
             set('#g-access', 'drop-in');
             document.querySelector('#g-interest-arts').click();
             return true",
            vec![json!(name)],
        )
        .await
        .unwrap();
}

#[test]
fn a_submit_killed_30_times_is_neither_lost_nor_duplicated() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    Directory::open_publisher(&feed_db).unwrap();
    let moderation = feed_dir.path().join("moderation.db");
    let state = signpost_feed::AppState::new(Directory::open_publisher(&feed_db).unwrap())
        .with_moderation(signpost_moderation::Moderation::open(&moderation).unwrap());
    // Every answer is held back a moment after the feed has stored what it answers, so many
    // kills land between the feed keeping an item and the app recording that it did.
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let router = signpost_feed::router(state).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                let post = request.method() == axum::http::Method::POST;
                let response = next.run(request).await;
                if post && response.status() == axum::http::StatusCode::ACCEPTED {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
                response
            }
        },
    ));
    let feed = signpost_feed::Background::serve("127.0.0.1:0".parse().unwrap(), router).unwrap();
    let seed: u64 = std::env::var("SIGNPOST_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("crash test seed {seed} (SIGNPOST_CRASH_SEED={seed} repeats it)");
    let mut rng = StdRng::seed_from_u64(seed);
    run(async {
        let mut data = data_with_fixture();
        // Names the app confirmed as queued: each must reach the feed exactly once.
        let mut confirmed = Vec::new();
        for round in 0..ROUNDS {
            let app = launch(data).await;
            if round == 0 {
                click(&app, "a[data-tab=settings]").await;
                find(&app, "#setting-feed_url")
                    .await
                    .send_keys(&format!("http://{}", feed.addr()))
                    .await
                    .unwrap();
                click(&app, "#setting-feed_url-save").await;
                wait_for_text(&app, "#setting-feed_url-status", "Saved.").await;
            }
            let name = format!("Crash Test Group {round}");
            fill(&app, &name).await;
            click(&app, "#group-send").await;
            let wait = if round % 2 == 0 {
                // Queued for sure, then killed while sending (or just after).
                wait_for_text(&app, "#group-status", "queued").await;
                confirmed.push(name);
                click(&app, "a[data-tab=settings]").await;
                click(&app, "#sync-now").await;
                rng.random_range(0..400)
            } else {
                // Killed while queueing, or just after: it may or may not have been queued.
                rng.random_range(0..30)
            };
            tokio::time::sleep(Duration::from_millis(wait)).await;
            data = kill(app).await;
        }

        // Opened once more: everything still queued goes, however many tries the feed's rate
        // limit asks for.
        let app = launch(data).await;
        let personal = app.data.path().join("personal.db");
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut finished = 0;
        loop {
            let waiting = signpost_personal::Personal::open(&personal)
                .unwrap()
                .outbox()
                .unwrap()
                .into_iter()
                .filter(|i| i.remote_id.is_none())
                .count();
            if waiting == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "{waiting} items never sent");
            click(&app, "a[data-tab=settings]").await;
            click(&app, "#sync-now").await;
            finished += 1;
            wait_until(
                &app,
                "the update finished",
                &format!("return Number(document.body.dataset.syncsFinished || 0) >= {finished}"),
            )
            .await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let outbox = signpost_personal::Personal::open(&personal)
            .unwrap()
            .outbox()
            .unwrap();
        app.client.close().await.unwrap();

        let m = signpost_moderation::Moderation::open(&moderation).unwrap();
        let mut on_feed: HashMap<String, usize> = HashMap::new();
        for item in m.pending().unwrap() {
            *on_feed.entry(item.name).or_default() += 1;
        }
        for (name, n) in &on_feed {
            assert_eq!(*n, 1, "{name} is on the feed {n} times");
        }
        for name in &confirmed {
            assert_eq!(on_feed.get(name), Some(&1), "{name} was lost");
        }
        // The device and the feed agree on every item, by the feed's id.
        assert_eq!(outbox.len(), on_feed.len(), "{outbox:?}");
        for item in &outbox {
            let remote = item.remote_id.as_deref().expect("sent");
            assert_eq!(m.item(remote).unwrap().name, item.name);
        }
        // Sends the feed answered beyond one per item: retries after a kill, each recognised.
        eprintln!(
            "{} confirmed, {} queued in all, {} on the feed, {} sends accepted",
            confirmed.len(),
            outbox.len(),
            on_feed.len(),
            accepted.load(std::sync::atomic::Ordering::SeqCst)
        );
    });
}
