//! The caseload's commands. Each one checks the caseload is unlocked, calls
//! `signpost-caseload` and turns its error into a sentence. Caseload data only ever goes to the
//! window that asked: never to the directory, the feed or a log.
use std::sync::MutexGuard;
use std::time::Instant;

use chrono::{Local, NaiveDate, Utc};
use serde::Serialize;
use signpost_caseload::model::{Connection, FollowUp, ListingState, Wellbeing};
use signpost_caseload::plan::{self, Plan, Variant};
use signpost_caseload::suggest::{self, NewMatches, Options, Suggestion};
use signpost_caseload::{
    listing_state, report, Agenda, Caseload, ConnectionStatus, Contact, ContactHow, Occasion, Ons4,
    Person, PersonDetails,
};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::AppState;

type Answer<T> = Result<T, String>;

fn say(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn today() -> NaiveDate {
    Local::now().date_naive()
}

/// The unlocked caseload, and a note that it was used (the idle lock counts from here).
fn open<'a>(state: &'a State<'_, AppState>) -> Answer<MutexGuard<'a, Option<Caseload>>> {
    let guard = state
        .caseload
        .lock()
        .map_err(|_| "the caseload is unavailable; restart Signpost".to_string())?;
    if guard.is_none() {
        return Err("The caseload is locked. Unlock it to go on.".into());
    }
    if let Ok(mut used) = state.caseload_used.lock() {
        *used = Instant::now();
    }
    Ok(guard)
}

/// Run `f` on the unlocked caseload.
fn with<T>(
    state: &State<'_, AppState>,
    f: impl FnOnce(&mut Caseload) -> signpost_caseload::Result<T>,
) -> Answer<T> {
    let mut guard = open(state)?;
    f(guard.as_mut().expect("checked above")).map_err(say)
}

/// Whether there is a caseload, and whether it is open.
#[derive(Serialize)]
pub struct CaseloadStatus {
    exists: bool,
    unlocked: bool,
    idle_minutes: u64,
}

#[tauri::command]
pub fn caseload_status(state: State<'_, AppState>) -> Answer<CaseloadStatus> {
    let unlocked = state.caseload.lock().map(|c| c.is_some()).unwrap_or(false);
    Ok(CaseloadStatus {
        exists: Caseload::exists(&state.paths.caseload),
        unlocked,
        idle_minutes: state.caseload_idle.as_secs().div_ceil(60),
    })
}

fn keep_open(state: &State<'_, AppState>, caseload: Caseload) -> Answer<()> {
    *state
        .caseload
        .lock()
        .map_err(|_| "the caseload is unavailable; restart Signpost".to_string())? = Some(caseload);
    if let Ok(mut used) = state.caseload_used.lock() {
        *used = Instant::now();
    }
    Ok(())
}

#[tauri::command]
pub fn caseload_create(state: State<'_, AppState>, passphrase: String) -> Answer<()> {
    let c = Caseload::create(&state.paths.caseload, &passphrase).map_err(say)?;
    keep_open(&state, c)
}

#[tauri::command]
pub fn caseload_unlock(state: State<'_, AppState>, passphrase: String) -> Answer<()> {
    let c = Caseload::open(&state.paths.caseload, &passphrase).map_err(say)?;
    keep_open(&state, c)
}

/// Lock now: the connection closes and the key is wiped; the window is told to forget what
/// it shows.
#[tauri::command]
pub fn caseload_lock<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Answer<()> {
    lock(&app, &state);
    Ok(())
}

fn lock<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    if let Ok(mut c) = state.caseload.lock() {
        if c.take().is_some() {
            let _ = app.emit("caseload-locked", ());
        }
    }
}

/// Locks the caseload once it has been idle for the app's idle time (a plugin, so it starts
/// with the app however the app is run, tests included).
pub fn idle_lock<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("caseload-idle-lock")
        .setup(|app, _| {
            watch_idle(app.clone());
            Ok(())
        })
        .build()
}

fn watch_idle<R: Runtime>(app: AppHandle<R>) {
    std::thread::spawn(move || loop {
        let Some(state) = app.try_state::<AppState>() else {
            std::thread::sleep(std::time::Duration::from_millis(100));
            continue;
        };
        let tick = (state.caseload_idle / 4).clamp(
            std::time::Duration::from_millis(200),
            std::time::Duration::from_secs(15),
        );
        std::thread::sleep(tick);
        let idle = state
            .caseload_used
            .lock()
            .map(|u| u.elapsed())
            .unwrap_or_default();
        if idle >= state.caseload_idle {
            lock(&app, &state);
        }
    });
}

/// The first screen: what is due, and who is on the caseload.
#[tauri::command]
pub fn caseload_agenda(state: State<'_, AppState>) -> Answer<Agenda> {
    with(&state, |c| c.agenda(today()))
}

/// A connection with what the directory now says about its listing.
#[derive(Serialize)]
pub struct ConnectionView {
    #[serde(flatten)]
    connection: Connection,
    status: ConnectionStatus,
    listing: ListingState,
}

/// Everything about one person, for their page.
#[derive(Serialize)]
pub struct PersonView {
    person: Person,
    contacts: Vec<Contact>,
    connections: Vec<ConnectionView>,
    follow_ups: Vec<FollowUp>,
    wellbeing: Vec<Wellbeing>,
}

#[tauri::command]
pub fn caseload_person(state: State<'_, AppState>, id: String) -> Answer<PersonView> {
    let dir = state
        .directory
        .lock()
        .map_err(|_| "the directory is unavailable; restart Signpost".to_string())?;
    with(&state, |c| {
        let mut connections = Vec::new();
        for link in c.connections(&id)? {
            let listing = listing_state::listing_state(&dir, &link.service_id, today())?;
            connections.push(ConnectionView {
                status: link.status(),
                connection: link,
                listing,
            });
        }
        Ok(PersonView {
            person: c.person(&id)?,
            contacts: c.contacts(&id)?,
            connections,
            follow_ups: c.follow_ups(&id)?,
            wellbeing: c.wellbeing(&id)?,
        })
    })
}

/// Add a person (no id) or change one.
#[tauri::command]
pub fn caseload_save_person(
    state: State<'_, AppState>,
    id: Option<String>,
    details: PersonDetails,
) -> Answer<Person> {
    with(&state, |c| match id {
        Some(id) => c.update_person(&id, &details),
        None => c.add_person(&details, today()),
    })
}

#[tauri::command]
pub fn caseload_log_contact(
    state: State<'_, AppState>,
    person_id: String,
    on_date: NaiveDate,
    how: ContactHow,
    note: String,
    next_step: String,
) -> Answer<i64> {
    with(&state, |c| {
        c.log_contact(
            &person_id,
            &Contact {
                id: 0,
                on_date,
                how,
                note,
                next_step,
            },
        )
    })
}

#[tauri::command]
pub fn caseload_add_follow_up(
    state: State<'_, AppState>,
    person_id: String,
    due: NaiveDate,
    what: String,
) -> Answer<i64> {
    with(&state, |c| c.add_follow_up(&person_id, due, &what))
}

#[tauri::command]
pub fn caseload_follow_up_done(state: State<'_, AppState>, id: i64) -> Answer<()> {
    with(&state, |c| c.complete_follow_up(id, today()))
}

fn directory_then<T>(
    state: &State<'_, AppState>,
    f: impl FnOnce(&signpost_directory::Directory, &mut Caseload) -> signpost_caseload::Result<T>,
) -> Answer<T> {
    let dir = state
        .directory
        .lock()
        .map_err(|_| "the directory is unavailable; restart Signpost".to_string())?;
    with(state, |c| f(&dir, c))
}

#[tauri::command]
pub fn caseload_suggest(state: State<'_, AppState>, person_id: String) -> Answer<Vec<Suggestion>> {
    directory_then(&state, |dir, c| {
        let p = c.person(&person_id)?;
        suggest::suggest(dir, &p, Utc::now(), Options::default())
    })
}

/// Link a person to a listing, or move the link on.
#[tauri::command]
pub fn caseload_connect(
    state: State<'_, AppState>,
    person_id: String,
    service_id: String,
    service_name: String,
    status: ConnectionStatus,
    reason: String,
) -> Answer<i64> {
    with(&state, |c| {
        c.connect(
            &person_id,
            &service_id,
            &service_name,
            status,
            today(),
            &reason,
        )
    })
}

#[tauri::command]
pub fn caseload_set_status(
    state: State<'_, AppState>,
    connection_id: i64,
    status: ConnectionStatus,
    reason: String,
) -> Answer<()> {
    with(&state, |c| {
        c.set_status(connection_id, status, today(), &reason)
    })
}

#[tauri::command]
pub fn caseload_set_in_plan(
    state: State<'_, AppState>,
    connection_id: i64,
    in_plan: bool,
) -> Answer<()> {
    with(&state, |c| c.set_in_plan(connection_id, in_plan))
}

#[tauri::command]
pub fn caseload_record_wellbeing(
    state: State<'_, AppState>,
    person_id: String,
    occasion: Occasion,
    scores: Ons4,
) -> Answer<()> {
    with(&state, |c| {
        c.record_wellbeing(&person_id, today(), occasion, scores)
    })
}

/// The plan, and its text in each variant (to copy).
#[derive(Serialize)]
pub struct PlanView {
    plan: Plan,
    text: String,
    easy_read: String,
}

#[tauri::command]
pub fn caseload_plan(state: State<'_, AppState>, person_id: String) -> Answer<PlanView> {
    directory_then(&state, |dir, c| {
        let plan = plan::plan(c, dir, &person_id, Utc::now())?;
        Ok(PlanView {
            text: plan.to_text(Variant::Standard),
            easy_read: plan.to_text(Variant::EasyRead),
            plan,
        })
    })
}

#[tauri::command]
pub fn caseload_letter(state: State<'_, AppState>, person_id: String) -> Answer<String> {
    with(&state, |c| plan::gp_letter(c, &person_id, today()))
}

/// New or changed listings that suit people; `mark_seen` once the connector has looked.
#[tauri::command]
pub fn caseload_new(state: State<'_, AppState>, mark_seen: bool) -> Answer<NewMatches> {
    directory_then(&state, |dir, c| {
        suggest::new_for_people(c, dir, Utc::now(), Options::default(), mark_seen)
    })
}

/// One person who might like a listing, and why.
#[derive(Serialize)]
pub struct Liker {
    person_id: String,
    name: String,
    suggestion: Suggestion,
}

#[tauri::command]
pub fn caseload_who_might_like(
    state: State<'_, AppState>,
    service_id: String,
) -> Answer<Vec<Liker>> {
    directory_then(&state, |dir, c| {
        Ok(
            suggest::who_might_like(c, dir, &service_id, Utc::now(), Options::default())?
                .into_iter()
                .map(|(person_id, name, suggestion)| Liker {
                    person_id,
                    name,
                    suggestion,
                })
                .collect(),
        )
    })
}

#[tauri::command]
pub fn caseload_close(state: State<'_, AppState>, person_id: String, reason: String) -> Answer<()> {
    with(&state, |c| c.close_person(&person_id, today(), &reason))
}

#[tauri::command]
pub fn caseload_reopen(state: State<'_, AppState>, person_id: String) -> Answer<()> {
    with(&state, |c| c.reopen_person(&person_id))
}

#[tauri::command]
pub fn caseload_erase(state: State<'_, AppState>, person_id: String) -> Answer<()> {
    with(&state, |c| c.erase(&person_id))
}

/// Write a file into the downloads folder; returns where.
fn save(state: &State<'_, AppState>, name: &str, bytes: &[u8]) -> Answer<String> {
    let folder = &state.paths.downloads;
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let path = folder.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

/// Save the commissioners' CSV (aggregates only) in the downloads folder; returns its path.
#[tauri::command]
pub fn caseload_report(state: State<'_, AppState>) -> Answer<String> {
    let csv = directory_then(&state, |dir, c| {
        report::to_csv(&report::rows(c, dir, report::Period::default())?)
    })?;
    save(
        &state,
        &format!("signpost-caseload-report-{}.csv", today()),
        csv.as_bytes(),
    )
}

/// Save the page on screen (the plan, in the layout chosen) as a PDF in the downloads folder,
/// laid out as printing would lay it out, with no dialog; returns its path. Refused while the
/// caseload is locked, so only a plan the connector has open can be saved. The file is the
/// connector's to hand to the person: it holds only what they agreed to share.
#[tauri::command]
pub async fn caseload_plan_pdf<R: Runtime>(
    webview: tauri::Webview<R>,
    state: State<'_, AppState>,
) -> Answer<String> {
    with(&state, |_| Ok(()))?;
    let folder = state.paths.downloads.clone();
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let stem = format!("signpost-plan-{}", today());
    let path = (1..)
        .map(|n| match n {
            1 => folder.join(format!("{stem}.pdf")),
            n => folder.join(format!("{stem}-{n}.pdf")),
        })
        .find(|p| !p.exists())
        .expect("a free name");
    crate::printing::page_to_pdf(&webview, &path).await?;
    Ok(path.display().to_string())
}

/// Save an encrypted backup in the downloads folder; returns its path.
#[tauri::command]
pub fn caseload_backup(state: State<'_, AppState>) -> Answer<String> {
    let folder = state.paths.downloads.clone();
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let path = folder.join(format!("signpost-caseload-{}.backup", today()));
    with(&state, |c| c.backup(&path))?;
    Ok(path.display().to_string())
}

/// The connector's name and contact details, for plans and letters.
#[derive(Serialize)]
pub struct Connector {
    name: String,
    contact: String,
}

#[tauri::command]
pub fn caseload_connector(
    state: State<'_, AppState>,
    name: Option<String>,
    contact: Option<String>,
) -> Answer<Connector> {
    with(&state, |c| {
        if let Some(n) = name {
            c.set_setting("connector_name", &n)?;
        }
        if let Some(x) = contact {
            c.set_setting("connector_contact", &x)?;
        }
        Ok(Connector {
            name: c.setting("connector_name")?.unwrap_or_default(),
            contact: c.setting("connector_contact")?.unwrap_or_default(),
        })
    })
}

/// Connections whose listing a sync closed, removed or flagged, for the agenda.
#[tauri::command]
pub fn caseload_attention(
    state: State<'_, AppState>,
) -> Answer<Vec<listing_state::WatchedConnection>> {
    directory_then(&state, |dir, c| {
        listing_state::needing_attention(c, dir, today())
    })
}

/// People whose support closed more than `months` months ago: the retention review.
#[tauri::command]
pub fn caseload_closed_over(
    state: State<'_, AppState>,
    months: u32,
) -> Answer<Vec<signpost_caseload::PersonSummary>> {
    let cutoff = today()
        .checked_sub_months(chrono::Months::new(months))
        .ok_or("that is too many months")?;
    with(&state, |c| c.closed_before(cutoff))
}
