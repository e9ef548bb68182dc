//! Regions and feeds from inside the app: what the directory holds (each source with its
//! count), the bundled regions it does not, adding one (bundled, or a file the person picked)
//! and removing one; the feeds it follows (with counts and last update), following another and
//! stopping. The work is the directory's (`Directory::load_region`, `remove_region`, `sources`,
//! `feeds`, `follow_feed`, `unfollow_feed`);
//! these commands run it off the UI thread on a connection of their own, then reopen the shared
//! one so the search index is rebuilt.
use std::sync::atomic::Ordering;

use serde::Serialize;
use signpost_directory::{Directory, Region, SourceCount};
use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use crate::commands::{directory, personal, reopen, say, Answer};
use crate::AppState;

/// A bundled region the directory does not hold, to offer.
#[derive(Serialize)]
pub struct Available {
    id: String,
    name: String,
    description: String,
}

/// A feed the directory follows, as settings lists it.
#[derive(Serialize)]
pub struct FeedRow {
    feed: String,
    /// Listings shown from it.
    listings: usize,
    /// Listings it publishes that another feed's version is shown for.
    shadowed: usize,
    /// The changeset the directory is at.
    seq: u64,
    /// When the directory was last up to date with it, in UK form in UK time ("1 Dec 2026,
    /// 14:05"); `None` before its first update.
    updated: Option<String>,
    /// The feed address set in settings: updated first, sent this device's reports, and not
    /// stopped from here (clearing the address is how).
    configured: bool,
}

/// The "Your directory" section of settings.
#[derive(Serialize)]
pub struct RegionsView {
    sources: Vec<SourceCount>,
    available: Vec<Available>,
    /// The configured feed first, then the others by address.
    feeds: Vec<FeedRow>,
}

/// `updated_at` (UTC, RFC 3339) as settings shows it: "1 Dec 2026, 14:05", London time.
pub(crate) fn uk_time(rfc3339: &str) -> Option<String> {
    let at = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(
        at.with_timezone(&chrono_tz::Europe::London)
            .format("%-d %b %Y, %H:%M")
            .to_string(),
    )
}

fn view(dir: &Directory, configured: Option<&str>) -> Answer<RegionsView> {
    let mut feeds: Vec<FeedRow> = dir
        .feeds()
        .map_err(say)?
        .into_iter()
        .map(|f| FeedRow {
            configured: configured == Some(f.feed.as_str()),
            updated: uk_time(&f.updated_at),
            feed: f.feed,
            listings: f.listings,
            shadowed: f.shadowed,
            seq: f.seq,
        })
        .collect();
    // The configured feed before its first update: listed, so the person sees it is there.
    if let Some(feed) = configured.filter(|c| !feeds.iter().any(|f| f.feed == *c)) {
        feeds.push(FeedRow {
            feed: feed.to_string(),
            listings: 0,
            shadowed: 0,
            seq: 0,
            updated: None,
            configured: true,
        });
    }
    // Stable: the others stay in address order.
    feeds.sort_by_key(|f| !f.configured);
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
    Ok(RegionsView {
        sources,
        available,
        feeds,
    })
}

/// The feed address set in settings, if any.
fn configured_feed(state: &State<'_, AppState>) -> Answer<Option<String>> {
    personal(state)?
        .setting(signpost_personal::Setting::FeedUrl)
        .map_err(say)
}

#[tauri::command]
pub fn regions(state: State<'_, AppState>) -> Answer<RegionsView> {
    let configured = configured_feed(&state)?;
    view(&*directory(&state)?, configured.as_deref())
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
    let configured = configured_feed(&state)?;
    view(&*directory(&state)?, configured.as_deref())
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

/// Follow another feed: its address is checked as the feed address setting is; its listings
/// arrive with the next update, which updates every feed followed.
#[tauri::command]
pub async fn feed_follow(state: State<'_, AppState>, feed: String) -> Answer<RegionsView> {
    let feed = signpost_personal::feed_address(&feed).map_err(say)?;
    change_directory(state, move |dir| {
        if dir.follow_feed(&feed).map_err(say)? {
            Ok(())
        } else {
            Err(format!("You already follow {feed}."))
        }
    })
    .await
}

/// Stop following a feed: its listings go, except where another feed publishes the same one
/// (that feed's version is shown instead). The configured feed is not stopped here: it would
/// come back with the next update.
#[tauri::command]
pub async fn feed_unfollow(state: State<'_, AppState>, feed: String) -> Answer<RegionsView> {
    if configured_feed(&state)?.as_deref() == Some(feed.as_str()) {
        return Err(format!(
            "{feed} is your regional feed: clear the feed address above to stop using it."
        ));
    }
    change_directory(state, move |dir| {
        dir.unfollow_feed(&feed).map(|_| ()).map_err(say)
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

    /// A feed server on 127.0.0.1 publishing `records`; its database is `path`.
    fn feed(path: &std::path::Path, records: Vec<Value>) -> signpost_feed::Background {
        signpost_directory::Directory::open_publisher(path)
            .unwrap()
            .import_sources(vec![("feed".to_string(), records)], &mut |_| {})
            .unwrap();
        signpost_feed::Background::serve(
            "127.0.0.1:0".parse().unwrap(),
            signpost_feed::router(signpost_feed::AppState::new(
                signpost_directory::Directory::open(path).unwrap(),
            )),
        )
        .unwrap()
    }

    fn feed_counts(view: &Value) -> Vec<(String, u64, u64, bool)> {
        view["feeds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["feed"].as_str().unwrap().to_string(),
                    f["listings"].as_u64().unwrap(),
                    f["shadowed"].as_u64().unwrap(),
                    f["configured"].as_bool().unwrap(),
                )
            })
            .collect()
    }

    /// Two feeds followed at once from settings: "Update now" updates both (the configured one
    /// first), a listing both publish is shown once, a deletion in one leaves the other's, and
    /// stopping the other shows the configured feed's version again.
    #[test]
    fn feeds_are_followed_listed_and_stopped_through_ipc() {
        let t = tempfile::tempdir().unwrap();
        let (a_db, b_db) = (t.path().join("a.db"), t.path().join("b.db"));
        let shared = |name: &str, date: &str| {
            json!({"id": "feed-shared", "name": name, "status": "active", "assured_date": date,
                   "service_at_locations": [{"location": {"id": "feed-shared-l", "latitude": 51.45, "longitude": -2.59}}]})
        };
        let a = feed(
            &a_db,
            vec![
                json!({"id": "feed-a1", "name": "Walk A1", "status": "active"}),
                shared("Shared from A", "2026-01-05"),
            ],
        );
        let b = feed(
            &b_db,
            vec![
                json!({"id": "feed-b1", "name": "Library B1", "status": "active"}),
                shared("Shared from B", "2026-06-01"),
            ],
        );
        let (a_url, b_url) = (
            format!("http://{}", a.addr()),
            format!("http://{}", b.addr()),
        );
        let (_data, w) = app();
        call(
            &w,
            "set_setting",
            json!({"key": "feed_url", "value": a_url}),
        )
        .unwrap();
        let err = call(&w, "feed_follow", json!({"feed": "feed.example.org"})).unwrap_err();
        assert!(err.as_str().unwrap().contains("https://"), "{err}");
        let view = call(&w, "feed_follow", json!({"feed": format!("{b_url}/")})).unwrap();
        assert_eq!(
            feed_counts(&view),
            vec![(a_url.clone(), 0, 0, true), (b_url.clone(), 0, 0, false)],
            "the configured feed is listed before its first update too"
        );
        assert_eq!(view["feeds"][1]["updated"], Value::Null);
        assert!(call(&w, "feed_follow", json!({"feed": b_url})).is_err());

        crate::tests::sync_and_wait(&w);
        let view = call(&w, "regions", json!({})).unwrap();
        assert_eq!(
            feed_counts(&view),
            vec![(a_url.clone(), 1, 1, true), (b_url.clone(), 2, 0, false)]
        );
        let updated = view["feeds"][0]["updated"].as_str().unwrap();
        // "1 Dec 2026, 14:05"
        let (day, time) = updated.split_once(", ").unwrap();
        assert!(
            day.split(' ').count() == 3 && time.len() == 5 && time.as_bytes()[2] == b':',
            "{updated}"
        );
        let name = |w: &_, id: &str| {
            call(w, "listing", json!({"id": id})).map(|v| v["detail"]["name"].clone())
        };
        assert_eq!(name(&w, "feed-shared").unwrap(), "Shared from B");

        // Feed A deletes its own listing and its copy of the shared one.
        signpost_directory::Directory::open_publisher(&a_db)
            .unwrap()
            .delete_all(&["feed-a1".to_string()])
            .unwrap();
        crate::tests::sync_and_wait(&w);
        let view = call(&w, "regions", json!({})).unwrap();
        assert_eq!(
            feed_counts(&view),
            vec![(a_url.clone(), 0, 1, true), (b_url.clone(), 2, 0, false)]
        );
        assert!(name(&w, "feed-a1").is_err());
        assert_eq!(name(&w, "feed-b1").unwrap(), "Library B1");

        // The configured feed is not stopped from here; the other is, and A's version of the
        // shared listing is shown again.
        let err = call(&w, "feed_unfollow", json!({"feed": a_url})).unwrap_err();
        assert!(err.as_str().unwrap().contains("regional feed"), "{err}");
        let view = call(&w, "feed_unfollow", json!({"feed": b_url})).unwrap();
        assert_eq!(feed_counts(&view), vec![(a_url.clone(), 1, 0, true)]);
        assert!(name(&w, "feed-b1").is_err());
        assert_eq!(name(&w, "feed-shared").unwrap(), "Shared from A");
    }
}
