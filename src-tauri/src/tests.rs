//! The commands through Tauri's IPC with no window (`tauri::test`), against real SQLite files.
use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

use crate::{AppPaths, AppState};

pub(crate) fn app() -> (
    tempfile::TempDir,
    tauri::WebviewWindow<tauri::test::MockRuntime>,
) {
    app_with_idle(crate::state::DEFAULT_CASELOAD_IDLE)
}

fn app_with_idle(
    idle: std::time::Duration,
) -> (
    tempfile::TempDir,
    tauri::WebviewWindow<tauri::test::MockRuntime>,
) {
    let data = tempfile::tempdir().unwrap();
    let mut state =
        AppState::open(AppPaths::in_folder(data.path(), data.path().join("dl"))).unwrap();
    state.caseload_idle = idle;
    let app = crate::builder(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (data, window)
}

pub(crate) fn call(
    window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    body: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|r| r.deserialize::<Value>().unwrap())
}

#[test]
fn search_detail_and_saved_through_ipc() {
    let (_data, w) = app();
    let info = call(&w, "app_info", json!({})).unwrap();
    assert!(
        info["listings"].as_u64().unwrap() > 4000,
        "default region loaded: {info}"
    );
    let answer = call(
        &w,
        "search",
        json!({"request": {"place": "NR20", "no_referral": true, "when": {"kind": "any"}}}),
    )
    .unwrap();
    let results = answer["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["no_referral"] == true));
    let first = results[0]["service_id"].as_str().unwrap().to_string();
    let view = call(&w, "listing", json!({"id": first})).unwrap();
    assert_eq!(view["saved"], false);
    call(
        &w,
        "set_saved",
        json!({"id": first, "name": "x", "saved": true}),
    )
    .unwrap();
    assert_eq!(
        call(&w, "listing", json!({"id": first})).unwrap()["saved"],
        true
    );
    let text = call(&w, "saved_text", json!({})).unwrap();
    assert!(text.as_str().unwrap().starts_with("My saved list"));
    // The search was remembered for the next start.
    let info = call(&w, "app_info", json!({})).unwrap();
    assert!(info["last_search"].as_str().unwrap().contains("NR20"));
}

#[test]
fn an_ambiguous_place_arrives_as_a_question_with_its_choices() {
    let (_data, w) = app();
    let search = |place: &str| {
        call(
            &w,
            "search",
            json!({"request": {"place": place, "when": {"kind": "any"}}}),
        )
    };
    let answer = search("Newcastle").unwrap();
    assert_eq!(answer["kind"], "choose-place", "{answer}");
    assert_eq!(answer["did_you_mean"], false);
    assert_eq!(
        answer["choices"][0],
        json!({"label": "Newcastle upon Tyne (city)", "place": "Newcastle upon Tyne"})
    );
    let answer = search("Newcastle upon Tyne").unwrap();
    assert_eq!(answer["kind"], "results", "{answer}");
    assert_eq!(answer["origin"]["label"], "Newcastle upon Tyne");
    let answer = search("Manchestr").unwrap();
    assert_eq!(answer["kind"], "choose-place");
    assert_eq!(answer["did_you_mean"], true);
    assert_eq!(answer["choices"][0]["place"], "Manchester");
    let err = search("BT1 1AA").unwrap_err();
    assert!(err.as_str().unwrap().contains("Northern Ireland"), "{err}");
}

#[test]
fn errors_arrive_as_plain_sentences() {
    let (_data, w) = app();
    let err = call(
        &w,
        "search",
        json!({"request": {"place": "Nowhereville Magna", "when": {"kind": "any"}}}),
    )
    .unwrap_err();
    assert!(
        err.as_str()
            .unwrap()
            .contains("not a UK postcode or a place"),
        "{err}"
    );
    let err = call(&w, "listing", json!({"id": "no-such-listing"})).unwrap_err();
    assert!(err.as_str().unwrap().contains("no-such-listing"), "{err}");
    let err = call(&w, "sync_now", json!({})).unwrap_err();
    assert!(err.as_str().unwrap().contains("Settings"), "{err}");
    let err = call(
        &w,
        "set_setting",
        json!({"key": "db_path", "value": "/etc"}),
    )
    .unwrap_err();
    assert!(err.as_str().unwrap().contains("no setting"), "{err}");
}

#[test]
fn the_capability_grants_exactly_the_commands() {
    let cap: Value = serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
    let mut granted: Vec<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            p.as_str()?
                .strip_prefix("allow-")
                .map(|c| c.replace('-', "_"))
        })
        .collect();
    granted.sort();
    let mut commands: Vec<String> = crate::command_names::COMMANDS
        .iter()
        .map(|c| c.to_string())
        .collect();
    commands.sort();
    assert_eq!(granted, commands);
    let others: Vec<&str> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.starts_with("allow-"))
        .collect();
    assert_eq!(
        others,
        ["core:event:allow-listen", "core:event:allow-unlisten"]
    );
}

#[test]
fn the_csp_allows_no_remote_or_inline_script() {
    let conf: Value = serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
    let csp = &conf["app"]["security"]["csp"];
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["connect-src"], "ipc: http://ipc.localhost");
    assert_eq!(csp["object-src"], "'none'");
}

/// Map tiles load from exactly what the settings accept: any `https:` address, and plain
/// `http:` only from the tile-server hosts on this computer that the settings allow.
#[test]
fn the_csp_loads_exactly_the_tiles_settings_accept() {
    let conf: Value = serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
    let img_src = conf["app"]["security"]["csp"]["img-src"].as_str().unwrap();
    let mut expected = vec![
        "'self'".to_string(),
        "data:".into(),
        "blob:".into(),
        "https:".into(),
    ];
    expected.extend(
        signpost_personal::TILE_HTTP_HOSTS
            .iter()
            .map(|h| format!("http://{h}:*")),
    );
    assert_eq!(img_src.split_whitespace().collect::<Vec<_>>(), expected);
}

const PASSPHRASE: &str = "lantern kettle orchard mosaic";

#[test]
fn a_caseload_through_ipc_is_locked_until_unlocked_and_stays_on_the_device() {
    let (data, w) = app();
    let status = call(&w, "caseload_status", json!({})).unwrap();
    assert_eq!(
        (status["exists"].clone(), status["unlocked"].clone()),
        (json!(false), json!(false))
    );
    let err = call(&w, "caseload_agenda", json!({})).unwrap_err();
    assert_eq!(err, "The caseload is locked. Unlock it to go on.");
    call(&w, "caseload_create", json!({"passphrase": PASSPHRASE})).unwrap();

    let details = json!({"name": "Gwendolyn Sparrowhawk", "home_area": "NR2 3",
        "interests": ["signpost:interest:reading"], "goals": "borrow large-print crime novels",
        "free_times": ["tue-morning", "wed-afternoon", "thu-afternoon", "fri-morning"]});
    let person = call(
        &w,
        "caseload_save_person",
        json!({"id": null, "details": details}),
    )
    .unwrap();
    let id = person["id"].as_str().unwrap().to_string();
    // A field error names the field, so the form can show it beside that field.
    let err = call(
        &w,
        "caseload_save_person",
        json!({"id": null, "details": {"name": "X", "home_area": "NR2 3AB"}}),
    )
    .unwrap_err();
    assert!(
        err.as_str()
            .unwrap()
            .starts_with("home_area: NR2 3AB is a full postcode"),
        "{err}"
    );

    let found = call(&w, "caseload_suggest", json!({"personId": id})).unwrap();
    let first = &found.as_array().unwrap()[0];
    assert!(first["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "reading and libraries"));
    let service = first["service_id"].as_str().unwrap().to_string();
    let conn = call(
        &w,
        "caseload_connect",
        json!({"personId": id, "serviceId": service,
        "serviceName": first["name"], "status": "introduced", "reason": "likes books"}),
    )
    .unwrap();
    call(
        &w,
        "caseload_set_in_plan",
        json!({"connectionId": conn, "inPlan": true}),
    )
    .unwrap();
    call(
        &w,
        "caseload_add_follow_up",
        json!({"personId": id, "due": "2020-01-01", "what": "ring"}),
    )
    .unwrap();
    call(
        &w,
        "caseload_log_contact",
        json!({"personId": id, "onDate": "2026-11-30", "how": "phone",
        "note": "nervous about going alone", "nextStep": "go together"}),
    )
    .unwrap();
    call(
        &w,
        "caseload_record_wellbeing",
        json!({"personId": id, "occasion": "start",
        "scores": {"life_satisfaction": 4, "worthwhile": 5, "happy": 3, "anxious": 8}}),
    )
    .unwrap();
    let agenda = call(&w, "caseload_agenda", json!({})).unwrap();
    assert_eq!(agenda["overdue"][0]["what"], "ring");
    let view = call(&w, "caseload_person", json!({"id": id})).unwrap();
    assert_eq!(view["connections"][0]["status"], "introduced");
    assert_eq!(view["connections"][0]["listing"], "listed");
    let plan = call(&w, "caseload_plan", json!({"personId": id})).unwrap();
    assert_eq!(plan["plan"]["items"][0]["service_id"], json!(service));
    assert!(plan["easy_read"].as_str().unwrap().contains("How to go: "));
    let letter = call(&w, "caseload_letter", json!({"personId": id})).unwrap();
    assert!(letter
        .as_str()
        .unwrap()
        .contains("871731000000106 |Referral to social prescribing service|"));
    let likers = call(&w, "caseload_who_might_like", json!({"serviceId": service})).unwrap();
    assert_eq!(likers[0]["name"], "Gwendolyn Sparrowhawk");

    // Locked: the data is out of reach until the right passphrase.
    call(&w, "caseload_lock", json!({})).unwrap();
    assert!(call(&w, "caseload_person", json!({"id": id})).is_err());
    let err = call(
        &w,
        "caseload_unlock",
        json!({"passphrase": "lantern kettle orchard"}),
    )
    .unwrap_err();
    assert_eq!(
        err,
        "that passphrase does not open this caseload (nothing was changed)"
    );
    call(&w, "caseload_unlock", json!({"passphrase": PASSPHRASE})).unwrap();
    assert_eq!(
        call(&w, "caseload_person", json!({"id": id})).unwrap()["person"]["name"],
        "Gwendolyn Sparrowhawk"
    );
    let report = call(&w, "caseload_report", json!({})).unwrap();
    let report_text = std::fs::read_to_string(report.as_str().unwrap()).unwrap();
    assert!(
        report_text.starts_with("measure,breakdown,count,value")
            && !report_text.contains("Gwendolyn")
    );
    let backup = call(&w, "caseload_backup", json!({})).unwrap();
    assert!(std::path::Path::new(backup.as_str().unwrap()).exists());

    // Nothing about the person reached the directory, the personal file or anything else
    // beside them in plain text.
    let mut files = vec![];
    for dir in [data.path().to_path_buf(), data.path().join("dl")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_file() && !path.to_string_lossy().ends_with(".csv") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 4, "{files:?}");
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        for secret in [
            "Sparrowhawk",
            "large-print crime",
            "nervous about going alone",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in {}",
                path.display()
            );
        }
    }
}

#[test]
fn the_caseload_locks_itself_when_idle() {
    let (_data, w) = app_with_idle(std::time::Duration::from_millis(400));
    call(&w, "caseload_create", json!({"passphrase": PASSPHRASE})).unwrap();
    assert_eq!(
        call(&w, "caseload_status", json!({})).unwrap()["unlocked"],
        true
    );
    // Use keeps it open...
    for _ in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(150));
        call(&w, "caseload_agenda", json!({})).unwrap();
    }
    // ...and idleness locks it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while call(&w, "caseload_status", json!({})).unwrap()["unlocked"] == true {
        assert!(
            std::time::Instant::now() < deadline,
            "still unlocked after 10 s idle"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(call(&w, "caseload_agenda", json!({})).is_err());
}

/// A group's new listing, through the IPC: queued with the hash of a key made on the device,
/// which is pending until the moderators approve; the key itself never reaches the UI.
#[test]
fn a_groups_listing_is_queued_with_a_pending_edit_key() {
    let (_data, w) = app();
    let form = json!({
        "service_id": null, "name": "Southville Knit and Natter", "organization": "",
        "description": "Bring your knitting, or learn. Tea and biscuits.", "who_for": "",
        "sessions": [{"repeat": "weekly", "day": "TU", "nth": null, "first_date": null,
                      "opens": "10:00", "closes": "12:00"}],
        "postcode": "BS3 1QG", "place": "Southville Centre", "online": false,
        "access": "drop-in", "domain": "", "interests": ["arts"], "free": null,
        "wheelchair": false, "languages": [], "phone": "", "email": "", "website": ""
    });
    let sent = call(&w, "group_submit", json!({ "form": form })).unwrap();
    assert_eq!(sent["errors"], json!([]), "{sent}");
    let mine = call(&w, "group_submissions", json!({})).unwrap();
    let item = &mine[0];
    assert_eq!(item["edit_key"], "pending", "{mine}");
    assert_eq!(
        item["body"]["edit_key_sha256"].as_str().map(str::len),
        Some(64),
        "{item}"
    );
    assert!(item["body"].get("edit_key").is_none(), "{item}");
}

/// Start a sync through the IPC and wait for it to finish (the command returns at once; the
/// sync runs on its own thread and clears `syncing` at the end).
pub(crate) fn sync_and_wait(w: &tauri::WebviewWindow<tauri::test::MockRuntime>) {
    use tauri::Manager;
    call(w, "sync_now", json!({})).unwrap();
    let state = w.app_handle().state::<AppState>();
    let start = std::time::Instant::now();
    while state.syncing.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "sync never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A saved listing that closes: a "this has closed" report approved on the feed publishes it
/// as inactive, and after the next sync the saved list says it has closed (and its text too).
#[test]
fn a_saved_listing_closed_on_the_feed_shows_as_closed_after_sync() {
    let feed_dir = tempfile::tempdir().unwrap();
    let feed_db = feed_dir.path().join("feed.db");
    let mut publisher = signpost_directory::Directory::open_publisher(&feed_db).unwrap();
    publisher
        .import_sources(
            vec![(
                "feed".into(),
                vec![json!({"id": "feed-choir", "name": "Harbourside Choir", "status": "active",
                    "service_at_locations": [{"location": {"id": "feed-hall", "latitude": 51.44, "longitude": -2.6}}]})],
            )],
            &mut |_| {},
        )
        .unwrap();
    let moderation_db = feed_dir.path().join("moderation.db");
    let feed = signpost_feed::Background::serve(
        "127.0.0.1:0".parse().unwrap(),
        signpost_feed::router(
            signpost_feed::AppState::new(signpost_directory::Directory::open(&feed_db).unwrap())
                .with_moderation(signpost_moderation::Moderation::open(&moderation_db).unwrap()),
        ),
    )
    .unwrap();

    let (_data, w) = app();
    call(
        &w,
        "set_setting",
        json!({"key": "feed_url", "value": format!("http://{}", feed.addr())}),
    )
    .unwrap();
    sync_and_wait(&w);
    call(
        &w,
        "set_saved",
        json!({"id": "feed-choir", "name": "Harbourside Choir", "saved": true}),
    )
    .unwrap();
    let saved = call(&w, "saved_list", json!({})).unwrap();
    assert_eq!(saved[0]["detail"]["name"], "Harbourside Choir", "{saved}");
    assert_eq!(saved[0]["detail"]["closed"], Value::Null);

    // Someone reports it closed; a moderator approves; the app updates.
    let mut m = signpost_moderation::Moderation::open(&moderation_db).unwrap();
    let report = m
        .submit(
            signpost_moderation::Kind::Report,
            &json!({"client_id": "6f1c2a9e-3b7d-4e21-9a5c-0d8e7f6a5b4c", "seq": 1,
                    "service_id": "feed-choir", "kind": "closed"}),
            chrono::Utc::now(),
        )
        .unwrap();
    m.approve(&report.id, "mod-ann", &mut publisher, chrono::Utc::now())
        .unwrap();
    sync_and_wait(&w);
    let saved = call(&w, "saved_list", json!({})).unwrap();
    assert_eq!(saved[0]["detail"]["name"], "Harbourside Choir", "{saved}");
    assert_eq!(saved[0]["detail"]["closed"], "Closed");
    let text = call(&w, "saved_text", json!({})).unwrap();
    assert!(text.as_str().unwrap().contains("Status: Closed"), "{text}");
    let view = call(&w, "listing", json!({"id": "feed-choir"})).unwrap();
    assert_eq!(view["detail"]["closed"], "Closed");
}
