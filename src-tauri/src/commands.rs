//! The commands the UI calls. Each one locks what it needs, calls a library function and
//! turns its error into the sentence the UI shows. No logic lives here.
use std::sync::atomic::Ordering;
use std::sync::MutexGuard;

use chrono::Utc;
use serde::Serialize;
use signpost_browse::{Choices, Detail, SearchAnswer, SearchRequest};
use signpost_directory::Directory;
use signpost_personal::{Personal, Report, ReportKind, Saved, Setting};
use signpost_postcodes::Gazetteer;
use signpost_sync::{Outcome, SyncProgress};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::AppState;

/// What the UI gets when a command fails: one plain sentence.
pub(crate) type Answer<T> = Result<T, String>;

pub(crate) fn say(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub(crate) fn directory<'a>(state: &'a State<'_, AppState>) -> Answer<MutexGuard<'a, Directory>> {
    state
        .directory
        .lock()
        .map_err(|_| "the directory is unavailable; restart Signpost".to_string())
}

pub(crate) fn personal<'a>(state: &'a State<'_, AppState>) -> Answer<MutexGuard<'a, Personal>> {
    state
        .personal
        .lock()
        .map_err(|_| "your saved data is unavailable; restart Signpost".to_string())
}

/// What the app shows in its header and settings.
#[derive(Serialize)]
pub struct AppInfo {
    sources: Vec<signpost_directory::SourceCount>,
    listings: usize,
    feed_url: Option<String>,
    tile_url: Option<String>,
    last_search: Option<String>,
    last_sync: Option<String>,
    syncing: bool,
    version: &'static str,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Answer<AppInfo> {
    let (stats, sources) = {
        let dir = directory(&state)?;
        (dir.stats().map_err(say)?, dir.sources().map_err(say)?)
    };
    let p = personal(&state)?;
    Ok(AppInfo {
        sources,
        listings: stats.active,
        feed_url: p.setting(Setting::FeedUrl).map_err(say)?,
        tile_url: p.setting(Setting::TileUrl).map_err(say)?,
        last_search: p.setting(Setting::LastSearch).map_err(say)?,
        last_sync: p.setting(Setting::LastSync).map_err(say)?,
        syncing: state.syncing.load(Ordering::SeqCst),
        version: env!("CARGO_PKG_VERSION"),
    })
}

#[tauri::command]
pub fn filter_choices(state: State<'_, AppState>) -> Answer<Choices> {
    signpost_browse::choices(&*directory(&state)?).map_err(say)
}

/// Towns and cities to name on a map drawn without tiles (largest first, at most `most`).
#[tauri::command]
pub fn map_labels(
    south: f64,
    west: f64,
    north: f64,
    east: f64,
    most: usize,
) -> Vec<signpost_postcodes::MapLabel> {
    Gazetteer::embedded().places_within(south, west, north, east, most.min(200))
}

#[tauri::command]
pub fn search(state: State<'_, AppState>, request: SearchRequest) -> Answer<SearchAnswer> {
    let answer = signpost_browse::answer(
        &*directory(&state)?,
        Gazetteer::embedded(),
        &request,
        Utc::now(),
    )
    .map_err(say)?;
    // Remember it so the app reopens where the person left off; failing to is not an error.
    if let Ok(json) = serde_json::to_string(&request) {
        let _ = personal(&state)?.set_setting(Setting::LastSearch, &json);
    }
    Ok(answer)
}

/// A listing in full, and whether it is saved.
#[derive(Serialize)]
pub struct ListingView {
    detail: Detail,
    saved: bool,
}

#[tauri::command]
pub fn listing(state: State<'_, AppState>, id: String) -> Answer<ListingView> {
    let detail = signpost_browse::detail(&*directory(&state)?, &id, Utc::now()).map_err(say)?;
    let saved = personal(&state)?.is_saved(&id).map_err(say)?;
    Ok(ListingView { detail, saved })
}

#[tauri::command]
pub fn listing_text(state: State<'_, AppState>, id: String) -> Answer<String> {
    let detail = signpost_browse::detail(&*directory(&state)?, &id, Utc::now()).map_err(say)?;
    Ok(signpost_browse::text::listing_text(&detail))
}

/// Write the listing's sessions as an .ics file in the downloads folder; returns its path.
#[tauri::command]
pub fn save_calendar(state: State<'_, AppState>, id: String) -> Answer<String> {
    let file =
        signpost_browse::calendar::calendar(&*directory(&state)?, &id, Utc::now()).map_err(say)?;
    let folder = &state.paths.downloads;
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let path = folder.join(&file.file_name);
    std::fs::write(&path, file.text)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

/// Open the calendar file saved for listing `id` with the person's calendar (`reveal` false), or
/// show it in its folder (`reveal` true). Given a listing, not a path: the UI can only ever
/// open a file this app wrote into its downloads folder.
#[tauri::command]
pub fn calendar_open<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    reveal: bool,
) -> Answer<()> {
    use tauri_plugin_opener::OpenerExt;
    let file =
        signpost_browse::calendar::calendar(&*directory(&state)?, &id, Utc::now()).map_err(say)?;
    let folder = &state.paths.downloads;
    let path = folder.join(&file.file_name);
    if !path.is_file() {
        return Err("Save the calendar file first.".into());
    }
    let opener = app.opener();
    let opened = if reveal {
        // The file manager's "show this file" where the desktop offers it; else its folder.
        opener
            .reveal_item_in_dir(&path)
            .or_else(|_| opener.open_path(folder.display().to_string(), None::<&str>))
    } else {
        opener.open_path(path.display().to_string(), None::<&str>)
    };
    opened.map_err(|e| format!("Your computer could not open it: {e}"))
}

/// One saved listing: what was saved, and its details if it is still listed.
#[derive(Serialize)]
pub struct SavedEntry {
    saved: Saved,
    detail: Option<Detail>,
}

#[tauri::command]
pub fn saved_list(state: State<'_, AppState>) -> Answer<Vec<SavedEntry>> {
    let saved = personal(&state)?.saved().map_err(say)?;
    let dir = directory(&state)?;
    let now = Utc::now();
    Ok(saved
        .into_iter()
        .map(|s| SavedEntry {
            detail: signpost_browse::detail(&dir, &s.service_id, now).ok(),
            saved: s,
        })
        .collect())
}

#[tauri::command]
pub fn set_saved(
    state: State<'_, AppState>,
    id: String,
    name: String,
    saved: bool,
) -> Answer<bool> {
    let p = personal(&state)?;
    if saved {
        p.save(&id, &name).map_err(say)?;
    } else {
        p.unsave(&id).map_err(say)?;
    }
    Ok(saved)
}

#[tauri::command]
pub fn saved_text(state: State<'_, AppState>) -> Answer<String> {
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for entry in saved_list(state)? {
        match entry.detail {
            Some(d) => found.push(d),
            None => missing.push(entry.saved.name),
        }
    }
    Ok(signpost_browse::text::saved_text(&found, &missing))
}

#[tauri::command]
pub fn report_problem(
    state: State<'_, AppState>,
    id: String,
    kind: ReportKind,
    comment: String,
) -> Answer<Report> {
    let name = directory(&state)?.listing(&id).map_err(say)?.service.name;
    personal(&state)?
        .queue_report(&id, &name, kind, &comment)
        .map_err(say)
}

#[tauri::command]
pub fn reports(state: State<'_, AppState>) -> Answer<Vec<Report>> {
    personal(&state)?.reports().map_err(say)
}

/// Take back a report that has not been sent yet.
#[tauri::command]
pub fn remove_report(state: State<'_, AppState>, id: i64) -> Answer<bool> {
    personal(&state)?.remove_queued(id).map_err(say)
}

#[tauri::command]
pub fn set_setting(
    state: State<'_, AppState>,
    key: String,
    value: String,
) -> Answer<Option<String>> {
    let setting = match key.as_str() {
        "feed_url" => Setting::FeedUrl,
        "tile_url" => Setting::TileUrl,
        _ => return Err(format!("there is no setting called {key:?}")),
    };
    personal(&state)?.set_setting(setting, &value).map_err(say)
}

/// The `sync-progress` event.
#[derive(Clone, Serialize)]
struct ProgressEvent {
    changesets_done: u64,
    changesets_total: u64,
    records_done: u64,
    records_total: u64,
    bytes_done: u64,
    bytes_total: u64,
}

/// The `sync-finished` event (also kept as the `last_sync` setting).
#[derive(Clone, Serialize)]
struct FinishedEvent {
    ok: bool,
    offline: bool,
    message: String,
    at: String,
    listings: Option<usize>,
}

/// Reopen the directory the UI reads, so its search index is rebuilt from new data.
pub(crate) fn reopen(state: &AppState, path: &std::path::Path) {
    if let (Ok(fresh), Ok(mut current)) = (Directory::open(path), state.directory.lock()) {
        *current = fresh;
    }
}

/// Start a sync of every feed the directory follows, the configured one first, on its own
/// thread; progress and the end arrive as events. Returns at once. Only the configured feed
/// receives this device's outbox: it is the feed the person reports to.
#[tauri::command]
pub fn sync_now<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Answer<()> {
    let configured = personal(&state)?.setting(Setting::FeedUrl).map_err(say)?;
    let mut feeds: Vec<String> = configured.iter().cloned().collect();
    feeds.extend(
        directory(&state)?
            .feeds()
            .map_err(say)?
            .into_iter()
            .map(|f| f.feed)
            .filter(|f| configured.as_ref() != Some(f)),
    );
    if feeds.is_empty() {
        return Err("Set your regional feed's address in Settings first.".into());
    }
    if state.syncing.swap(true, Ordering::SeqCst) {
        return Err("A sync is already running.".into());
    }
    let path = state.paths.directory.clone();
    let personal_path = state.paths.personal.clone();
    std::thread::spawn(move || {
        let state = app.state::<AppState>();
        // First what this device sends (problem reports, a group's listings): in order, each
        // exactly once, on a connection of its own. Then what the feeds send back.
        let outbox = configured.as_ref().map(|feed| {
            signpost_personal::Personal::open(&personal_path)
                .map_err(say)
                .and_then(|p| {
                    let sent = signpost_sync::outbox::send_outbox(&p, feed, &Default::default())
                        .map_err(say)?;
                    let _ = signpost_sync::outbox::refresh_statuses(&p, feed, &Default::default());
                    Ok(sent)
                })
        });
        // Each feed's outcome with its last progress: changesets applied so far, and how many
        // the run meant to apply (a sync cut part-way has still changed the directory, and the
        // person is told so).
        let mut ended: Vec<(&str, Result<Outcome, String>, SyncProgress)> = Vec::new();
        for feed in &feeds {
            let mut last = SyncProgress::default();
            let result = (|| -> Result<Outcome, String> {
                // A second connection: the UI keeps reading the old data while this one writes.
                let mut dir = Directory::open(&path).map_err(say)?;
                let mut progress = |p: SyncProgress| {
                    last = p;
                    let _ = app.emit(
                        "sync-progress",
                        ProgressEvent {
                            changesets_done: p.changesets_done,
                            changesets_total: p.changesets_total,
                            records_done: p.records_done,
                            records_total: p.records_total,
                            bytes_done: p.bytes_done,
                            bytes_total: p.bytes_total,
                        },
                    );
                };
                let outcome =
                    signpost_sync::sync(&mut dir, feed, &Default::default(), &mut progress)
                        .map_err(say)?;
                if matches!(outcome, Outcome::UpToDate { .. }) {
                    // Nothing new is news too: settings shows the feed as updated now.
                    dir.confirm_feed(feed).map_err(say)?;
                }
                Ok(outcome)
            })();
            ended.push((feed, result, last));
        }
        let changed = ended.iter().any(|(_, result, last)| {
            last.changesets_done > 0
                || matches!(
                    result,
                    Ok(Outcome::UpToDate { applied: 1.., .. }
                        | Outcome::StartedAgain { .. }
                        | Outcome::Partial { .. })
                )
        });
        if changed {
            // Reopen so the search index is rebuilt from the new data, whatever came after.
            reopen(&state, &path);
        }
        let (first, others) = ended.split_first().expect("at least one feed");
        let (mut ok, mut offline, mut message) = finished_message(&first.1, first.2);
        if !others.is_empty() {
            message = format!("{}: {message}", first.0);
        }
        for (feed, result, last) in others {
            let (feed_ok, feed_offline, said) = finished_message(result, *last);
            ok &= feed_ok;
            offline |= feed_offline;
            message.push_str(&format!(" {feed}: {said}"));
        }
        match &outbox {
            Some(Ok(sent)) if sent.delivered + sent.refused > 0 => message.push_str(&format!(
                " Sent {} of your reports and submissions{}.",
                sent.delivered,
                if sent.refused > 0 {
                    format!("; the feed refused {} (see why below)", sent.refused)
                } else {
                    String::new()
                }
            )),
            Some(Ok(sent)) if sent.waiting > 0 => message.push_str(&format!(
                " {} of your reports and submissions wait to be sent.",
                sent.waiting
            )),
            Some(Ok(_)) | None => {}
            Some(Err(e)) => message.push_str(&format!(" Your reports wait on this device: {e}")),
        }
        let listings = state
            .directory
            .lock()
            .ok()
            .and_then(|d| d.stats().ok())
            .map(|s| s.active);
        let event = FinishedEvent {
            ok,
            offline,
            message,
            at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            listings,
        };
        if let (Ok(json), Ok(p)) = (serde_json::to_string(&event), state.personal.lock()) {
            let _ = p.set_setting(Setting::LastSync, &json);
        }
        state.syncing.store(false, Ordering::SeqCst);
        let _ = app.emit("sync-finished", event);
    });
    Ok(())
}

/// What the person is told when a sync ends. A sync that applied part of an update says so:
/// what arrived is kept and searchable, and the next update fetches the rest.
fn finished_message(result: &Result<Outcome, String>, last: SyncProgress) -> (bool, bool, String) {
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let part = |why: &str| {
        format!(
            "The update stopped part-way: {} of {} change{} arrived and are in your directory; \
             the next update fetches the rest. ({why})",
            last.changesets_done,
            last.changesets_total,
            plural(last.changesets_total)
        )
    };
    match result {
        Ok(Outcome::UpToDate { applied: 0, .. }) => (true, false, "Already up to date.".into()),
        Ok(Outcome::Behind { .. }) => (
            true,
            false,
            "Already up to date: the copy of the feed that answered has nothing newer yet.".into(),
        ),
        Ok(Outcome::UpToDate { applied, .. }) => (
            true,
            false,
            format!("Updated: {applied} change{} applied.", plural(*applied)),
        ),
        Ok(Outcome::StartedAgain { .. }) => (
            true,
            false,
            "The feed was rebuilt, so your directory now holds its current listings.".into(),
        ),
        Ok(Outcome::Partial { reason, .. }) => (
            false,
            true,
            part(&format!("the feed could not be reached: {reason}")),
        ),
        Ok(Outcome::Offline { reason }) => (
            false,
            true,
            format!("Could not reach the feed, so nothing changed and your directory still works offline. ({reason})"),
        ),
        Err(e) if last.changesets_done > 0 => (false, false, part(e)),
        Err(e) => (
            false,
            false,
            format!("Sync failed and your directory was kept as it was: {e}"),
        ),
    }
}

/// What the group's form says so far: the sessions in plain English, and every problem by
/// field (empty when it can be sent).
#[derive(Serialize)]
pub struct FormCheck {
    when: Option<String>,
    errors: Vec<signpost_browse::group_form::FormError>,
}

#[tauri::command]
pub fn group_form_check(form: signpost_browse::group_form::GroupForm) -> Answer<FormCheck> {
    use signpost_browse::group_form::{describe, to_listing};
    Ok(FormCheck {
        when: describe(&form).ok().filter(|w| !w.is_empty()),
        errors: to_listing(&form, "check").err().unwrap_or_default(),
    })
}

/// What sending the form did: queued, or the problems by field.
#[derive(Serialize)]
pub struct Submitted {
    item: Option<signpost_personal::OutboxItem>,
    errors: Vec<signpost_browse::group_form::FormError>,
}

/// Queue the group's listing for the feed's moderators; it goes with the next update.
#[tauri::command]
pub fn group_submit(
    state: State<'_, AppState>,
    form: signpost_browse::group_form::GroupForm,
) -> Answer<Submitted> {
    use signpost_browse::group_form::{new_listing_id, to_listing};
    let listing = match to_listing(&form, &new_listing_id()) {
        Ok(l) => l,
        Err(errors) => return Ok(Submitted { item: None, errors }),
    };
    let id = listing["id"].as_str().unwrap_or_default().to_string();
    let name = listing["name"].as_str().unwrap_or_default().to_string();
    personal(&state)?
        .queue_listing(&state.keys, &id, &name, listing)
        .map(|item| Submitted {
            item: Some(item),
            errors: Vec::new(),
        })
        .map_err(say)
}

/// An existing listing as the group's form, what the form could not show, and where this
/// device stands with the listing's edit key.
#[derive(Serialize)]
pub struct FormStart {
    form: signpost_browse::group_form::GroupForm,
    left_out: Vec<String>,
    edit_key: Option<signpost_personal::KeyState>,
}

#[tauri::command]
pub fn group_form_from(state: State<'_, AppState>, id: String) -> Answer<FormStart> {
    let d = directory(&state)?.listing(&id).map_err(say)?;
    let (form, left_out) = signpost_browse::group_form::from_listing(&d);
    let edit_key = personal(&state)?.edit_key_state(&id).map_err(say)?;
    Ok(FormStart {
        form,
        left_out,
        edit_key,
    })
}

/// One of the group's submissions, and where this device stands with the listing's edit key
/// (`active`: it can update the listing; `pending`: it will once the moderators approve).
#[derive(Serialize)]
pub struct GroupItem {
    #[serde(flatten)]
    item: signpost_personal::OutboxItem,
    edit_key: Option<signpost_personal::KeyState>,
}

/// The group's own submissions on this device, newest first, with where each stands.
#[tauri::command]
pub fn group_submissions(state: State<'_, AppState>) -> Answer<Vec<GroupItem>> {
    let p = personal(&state)?;
    let keys: std::collections::HashMap<String, signpost_personal::KeyState> =
        p.edit_keys().map_err(say)?.into_iter().collect();
    Ok(p.outbox()
        .map_err(say)?
        .into_iter()
        .filter(|i| i.kind == signpost_personal::OutboxKind::Submission)
        .map(|item| GroupItem {
            edit_key: keys.get(&item.service_id).copied(),
            item,
        })
        .collect())
}
