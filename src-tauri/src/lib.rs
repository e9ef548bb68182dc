//! The Signpost app's Tauri shell. Commands translate between the UI and the library crates
//! (`signpost-browse`, `signpost-personal`, `signpost-sync`) and do nothing else; all logic is
//! in those crates and tested there without a window.
//!
//! Databases open once, at start, into managed [`AppState`]. Sync runs on its own thread with
//! its own connection and reports progress through the `sync-progress` and `sync-finished`
//! events; reads keep working from the old data meanwhile.

mod caseload_commands;
#[cfg(test)]
mod command_names;
mod commands;
mod coverage_commands;
mod printing;
mod region_commands;
mod state;
#[cfg(test)]
mod tests;

use clap::Parser;

pub use state::{AppPaths, AppState};

/// Command-line options (also read from the environment, for tests and benchmarks).
#[derive(Parser, Debug)]
#[command(
    name = "signpost-app",
    version,
    about = "Signpost: what is near me, offline"
)]
pub struct Options {
    /// Folder for the directory and personal databases. Defaults to the platform data folder.
    #[arg(long, env = "SIGNPOST_DATA_DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// Folder where calendar files are saved. Defaults to the Downloads folder.
    #[arg(long, env = "SIGNPOST_DOWNLOADS")]
    pub downloads: Option<std::path::PathBuf>,
    /// Seconds of no use after which the caseload locks itself (default 600).
    #[arg(long, env = "SIGNPOST_CASELOAD_IDLE_SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub caseload_idle_secs: Option<u64>,
    /// Where a group's edit keys are kept: `keyring` (the OS keyring), `database` (the
    /// personal file) or `auto` (the keyring if one answers, else the file).
    #[arg(long, env = "SIGNPOST_KEY_STORE", default_value = "auto")]
    pub key_store: String,
}

/// The window only ever shows the app itself: a listing's link (or anything else) can never
/// navigate it to a web page. Links open in the person's browser through the opener plugin.
/// A refused navigation is announced (`navigation-blocked`, with no URL: it may be personal),
/// so the person is told why nothing happened.
fn navigation_guard<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            let own = url.scheme() == "tauri" || url.host_str() == Some("tauri.localhost");
            if !own {
                use tauri::Emitter;
                let _ = webview.emit("navigation-blocked", ());
            }
            own
        })
        .build()
}

/// "Use my location" asks the web engine where the device is. WebKitGTK refuses every
/// permission request an app leaves unanswered, so the app answers geolocation requests with
/// yes, and leaves every other kind (camera, microphone, notifications) refused. Only that
/// button asks (the CSP admits no other script, the navigation guard no other page), so
/// pressing it is the consent; the desktop's location service may ask the person as well. The
/// position stays on the device: search is local.
fn location_permission<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("location-permission")
        .on_webview_ready(|webview| {
            #[cfg(target_os = "linux")]
            let _ = webview.with_webview(|platform| {
                use webkit2gtk::glib::prelude::ObjectExt;
                use webkit2gtk::{GeolocationPermissionRequest, PermissionRequestExt, WebViewExt};
                platform.inner().connect_permission_request(|_, request| {
                    let geolocation = request.is::<GeolocationPermissionRequest>();
                    if geolocation {
                        request.allow();
                    }
                    geolocation
                });
            });
            #[cfg(not(target_os = "linux"))]
            let _ = webview;
        })
        .build()
}

/// Build the app around `state`: its commands, the opener (for web, email and phone links),
/// the navigation guard and the location permission. Shared by [`run`] and tests.
pub fn builder<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    state: AppState,
) -> tauri::Builder<R> {
    builder
        .plugin(navigation_guard())
        .plugin(location_permission())
        .plugin(caseload_commands::idle_lock())
        .plugin(tauri_plugin_opener::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::filter_choices,
            commands::map_labels,
            commands::search,
            commands::listing,
            commands::listing_text,
            commands::save_calendar,
            commands::calendar_open,
            commands::saved_list,
            commands::set_saved,
            commands::saved_text,
            commands::report_problem,
            commands::reports,
            commands::remove_report,
            commands::group_form_check,
            commands::group_submit,
            commands::group_form_from,
            commands::group_submissions,
            commands::set_setting,
            commands::sync_now,
            region_commands::regions,
            region_commands::region_add,
            region_commands::region_add_file,
            region_commands::region_remove,
            region_commands::feed_follow,
            region_commands::feed_unfollow,
            coverage_commands::coverage,
            coverage_commands::save_coverage_csv,
            caseload_commands::caseload_status,
            caseload_commands::caseload_create,
            caseload_commands::caseload_unlock,
            caseload_commands::caseload_lock,
            caseload_commands::caseload_agenda,
            caseload_commands::caseload_person,
            caseload_commands::caseload_save_person,
            caseload_commands::caseload_log_contact,
            caseload_commands::caseload_add_follow_up,
            caseload_commands::caseload_follow_up_done,
            caseload_commands::caseload_suggest,
            caseload_commands::caseload_connect,
            caseload_commands::caseload_set_status,
            caseload_commands::caseload_set_in_plan,
            caseload_commands::caseload_record_wellbeing,
            caseload_commands::caseload_plan,
            caseload_commands::caseload_plan_pdf,
            caseload_commands::caseload_letter,
            caseload_commands::caseload_new,
            caseload_commands::caseload_who_might_like,
            caseload_commands::caseload_close,
            caseload_commands::caseload_reopen,
            caseload_commands::caseload_erase,
            caseload_commands::caseload_report,
            caseload_commands::caseload_backup,
            caseload_commands::caseload_connector,
            caseload_commands::caseload_attention,
            caseload_commands::caseload_closed_over,
        ])
}

/// Start the app.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    // Arguments are only meaningful on the desktop; a mobile launch has none.
    let options = Options::try_parse().unwrap_or_else(|e| e.exit());
    let state = match AppPaths::resolve(&options).and_then(AppState::open) {
        Ok(mut s) => {
            if let Some(secs) = options.caseload_idle_secs {
                s.caseload_idle = std::time::Duration::from_secs(secs);
            }
            s.keys = signpost_personal::KeyStore::choose(&options.key_store);
            s
        }
        Err(e) => {
            eprintln!("Signpost cannot start: {e:#}");
            std::process::exit(1);
        }
    };
    builder(tauri::Builder::default(), state)
        .run(tauri::generate_context!())
        .expect("the Signpost window could not be opened");
}
