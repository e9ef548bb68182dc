//! The commands through Tauri's IPC with no window (`tauri::test`), against real SQLite files.
use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

use crate::{AppPaths, AppState};

fn app() -> (
    tempfile::TempDir,
    tauri::WebviewWindow<tauri::test::MockRuntime>,
) {
    let data = tempfile::tempdir().unwrap();
    let state = AppState::open(AppPaths::in_folder(data.path(), data.path().join("dl"))).unwrap();
    let app = crate::builder(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (data, window)
}

fn call(
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
