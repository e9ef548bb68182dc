//! Regions from inside the app: what the directory holds (each source with its count), the
//! bundled regions it does not, adding one (bundled, or a file the person picked) and removing
//! one. The work is the directory's (`Directory::load_region`, `remove_region`, `sources`);
//! these commands run it off the UI thread on a connection of their own, then reopen the shared
//! one so the search index is rebuilt.
use std::sync::atomic::Ordering;

use serde::Serialize;
use signpost_directory::{Directory, Region, SourceCount};
use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use crate::commands::{directory, reopen, say, Answer};
use crate::AppState;

/// A bundled region the directory does not hold, to offer.
#[derive(Serialize)]
pub struct Available {
    id: String,
    name: String,
    description: String,
}

/// The "Your directory" section of settings.
#[derive(Serialize)]
pub struct RegionsView {
    sources: Vec<SourceCount>,
    available: Vec<Available>,
}

fn view(dir: &Directory) -> Answer<RegionsView> {
    let sources = dir.sources().map_err(say)?;
    let available = Region::bundled()
        .map_err(say)?
        .into_iter()
        .filter(|r| !sources.iter().any(|s| s.name == r.manifest.name))
        .map(|r| Available {
            id: r.id().to_string(),
            name: r.manifest.name.clone(),
            description: r.manifest.description.clone(),
        })
        .collect();
    Ok(RegionsView { sources, available })
}

#[tauri::command]
pub fn regions(state: State<'_, AppState>) -> Answer<RegionsView> {
    view(&*directory(&state)?)
}

/// Run `change` on a connection of its own while nothing else writes (an update uses the same
/// flag), then reopen the shared connection and answer with the new view.
async fn change_directory(
    state: State<'_, AppState>,
    change: impl FnOnce(&mut Directory) -> Result<(), String> + Send + 'static,
) -> Answer<RegionsView> {
    if state.syncing.swap(true, Ordering::SeqCst) {
        return Err("An update is running. Try again when it has finished.".into());
    }
    let path = state.paths.directory.clone();
    let done = {
        let path = path.clone();
        tauri::async_runtime::spawn_blocking(move || {
            let mut dir = Directory::open(&path).map_err(say)?;
            change(&mut dir)
        })
        .await
        .map_err(say)
        .and_then(|r| r)
    };
    reopen(&state, &path);
    state.syncing.store(false, Ordering::SeqCst);
    done?;
    view(&*directory(&state)?)
}

/// Add (or refresh) the bundled region `id`.
#[tauri::command]
pub async fn region_add(state: State<'_, AppState>, id: String) -> Answer<RegionsView> {
    let region = Region::bundled_by_id(&id).map_err(say)?;
    change_directory(state, move |dir| {
        dir.load_region(&region, &mut |_| {}).map_err(say)?;
        Ok(())
    })
    .await
}

/// Add a listings file the person picked: its bytes are the request body, its name (percent
/// encoded) the `x-file-name` header. A file that holds no valid listing adds nothing and says
/// why, naming the record and field.
#[tauri::command]
pub async fn region_add_file(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Answer<RegionsView> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err("Choose a file to add.".into());
    };
    let name = request
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let region = Region::from_bytes(&name, bytes.clone()).map_err(say)?;
    change_directory(state, move |dir| {
        let held_before = dir
            .sources()
            .map_err(say)?
            .iter()
            .any(|s| s.name == region.manifest.name);
        let report = dir.load_region(&region, &mut |_| {}).map_err(say)?;
        if report.inserted + report.replaced + report.unchanged == 0 {
            let why = report
                .errors
                .first()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            // Nothing was added: a region this file made is not kept. One of the same name
            // loaded before keeps its listings.
            if !held_before {
                let _ = dir.remove_region(&region.manifest.name);
            }
            return Err(format!("{name} has no listing Signpost could add{why}"));
        }
        Ok(())
    })
    .await
}

/// Remove the region `name` and its listings.
#[tauri::command]
pub async fn region_remove(state: State<'_, AppState>, name: String) -> Answer<RegionsView> {
    change_directory(state, move |dir| {
        dir.remove_region(&name).map(|_| ()).map_err(say)
    })
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use tauri::test::{get_ipc_response, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    use crate::tests::{app, call};

    /// A file as the UI sends it: its bytes as the raw body, its name in a header.
    fn add_file(
        window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
        name: &str,
        bytes: &[u8],
    ) -> Result<Value, Value> {
        let mut headers = tauri::http::HeaderMap::new();
        headers.insert("x-file-name", name.parse().unwrap());
        get_ipc_response(
            window,
            InvokeRequest {
                cmd: "region_add_file".into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: tauri::ipc::InvokeBody::Raw(bytes.to_vec()),
                headers,
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|r| r.deserialize::<Value>().unwrap())
    }

    fn count(view: &Value, name: &str) -> Option<u64> {
        view["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["listings"].as_u64().unwrap())
    }

    #[test]
    fn regions_are_added_from_files_and_the_bundle_and_removed_through_ipc() {
        let (_data, w) = app();
        let view = call(&w, "regions", json!({})).unwrap();
        assert_eq!(count(&view, "England's public libraries"), Some(2986));
        assert_eq!(
            view["available"],
            json!([]),
            "every bundled region is loaded"
        );

        let good = json!([{"id": "camden-1", "name": "Camden walking group", "status": "active",
            "service_at_locations": [{"id": "c1", "location": {"id": "cl1", "latitude": 51.54, "longitude": -0.14}}]}]);
        let view = add_file(&w, "camden.json", good.to_string().as_bytes()).unwrap();
        assert_eq!(count(&view, "camden"), Some(1));

        // A file of the same name with nothing valid adds nothing and loses nothing.
        let bad = json!([{"id": "camden-2"}]);
        let err = add_file(&w, "camden.json", bad.to_string().as_bytes()).unwrap_err();
        assert!(
            err.as_str()
                .unwrap()
                .starts_with("camden.json has no listing Signpost could add"),
            "{err}"
        );
        let view = call(&w, "regions", json!({})).unwrap();
        assert_eq!(count(&view, "camden"), Some(1));
        // A new file with nothing valid leaves no region behind.
        assert!(add_file(&w, "empty.json", bad.to_string().as_bytes()).is_err());
        let view = call(&w, "regions", json!({})).unwrap();
        assert_eq!(count(&view, "empty"), None);

        let view = call(
            &w,
            "region_remove",
            json!({"name": "England's public libraries"}),
        )
        .unwrap();
        assert_eq!(count(&view, "England's public libraries"), None);
        assert_eq!(view["available"][0]["id"], "england-public-libraries");
        let view = call(&w, "region_add", json!({"id": "england-public-libraries"})).unwrap();
        assert_eq!(count(&view, "England's public libraries"), Some(2986));
        let err = call(&w, "region_add", json!({"id": "atlantis"})).unwrap_err();
        assert!(err.as_str().unwrap().contains("atlantis"), "{err}");
    }
}
