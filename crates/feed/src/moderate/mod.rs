//! The moderators' web queue under `/moderate`: sign-in, the queue, one item with its changes
//! field by field, approve, reject, edit before approving and merge into another item, and the
//! admins' accounts page.
//!
//! Defences, all on the server so the pages need no JavaScript:
//! - the session cookie is HttpOnly, SameSite=Strict and scoped to `/moderate` (and Secure with
//!   `--secure-cookies`); only its SHA-256 is stored;
//! - every POST carries a CSRF token (the session's; before sign-in, one tied to a cookie) and,
//!   when the browser sends `Origin` or `Sec-Fetch-Site`, must come from this site; a mismatch
//!   answers 403 and changes nothing;
//! - every response carries a strict CSP (no scripts at all), `nosniff`, no referrer, and is not
//!   cached (`page.rs`, shared with the groups' form); HTML is built by `maud`, which escapes
//!   every value.
mod pages;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::header::{self, HeaderMap};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{middleware, Form, Router};
use chrono::Utc;
use serde::Deserialize;
use signpost_browse::group_form::{from_listing, FormError};
use signpost_moderation::{Error, Item, Kind, Moderation, Role, SignedIn, Status};

use crate::group::form::Fields;
use crate::page::html;
use crate::AppState;

/// The session cookie.
const SESSION_COOKIE: &str = "signpost_session";
/// The sign-in form's own CSRF cookie: there is no session yet to hold a token.
const SIGN_IN_COOKIE: &str = "signpost_sign_in";

/// The `/moderate` routes (without CORS: no other site may read these pages).
pub(crate) fn routes() -> Router<AppState> {
    let sign_in_limit = {
        let config = tower_governor::governor::GovernorConfigBuilder::default()
            .per_second(SIGN_IN_SECONDS_PER_ATTEMPT)
            .burst_size(SIGN_IN_BURST)
            .finish()
            .expect("a burst and a period above zero");
        tower_governor::GovernorLayer::new(config).error_handler(|e| {
            let wait = match e {
                tower_governor::GovernorError::TooManyRequests { wait_time, .. } => wait_time,
                _ => 60,
            };
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many sign-in attempts from this address. Try again in {wait} seconds."
                ),
            )
                .into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            r
        })
    };
    Router::new()
        .route("/moderate", get(queue))
        .route("/moderate/queue.csv", get(queue_csv))
        .route("/moderate/stale.csv", get(stale_csv))
        .route("/moderate/style.css", get(crate::page::style))
        .route(
            "/moderate/sign-in",
            get(sign_in_form).merge(post(sign_in).layer(sign_in_limit)),
        )
        .route("/moderate/sign-out", post(sign_out))
        .route("/moderate/items/{id}", get(item))
        .route("/moderate/items/{id}/approve", post(approve))
        .route("/moderate/items/{id}/reject", post(reject))
        .route("/moderate/items/{id}/edit", get(edit_form).post(edit))
        .route("/moderate/items/{id}/merge", post(merge))
        .route("/moderate/accounts", get(accounts).post(add_moderator))
        .route("/moderate/accounts/disable", post(disable))
        .layer(middleware::map_response(crate::page::protect))
}

/// Sign-in attempts from one address: a burst of this many, then one every
/// [`SIGN_IN_SECONDS_PER_ATTEMPT`] seconds. Guessing passwords is slow, and each attempt's
/// argon2 work cannot crowd out the submissions the same store takes.
pub const SIGN_IN_BURST: u32 = 10;
/// See [`SIGN_IN_BURST`].
pub const SIGN_IN_SECONDS_PER_ATTEMPT: u64 = 6;

fn problem(status: StatusCode, title: &str, message: &str, who: Option<&SignedIn>) -> Response {
    html(status, pages::problem(title, message, who))
}

fn forbidden() -> Response {
    problem(
        StatusCode::FORBIDDEN,
        "Refused",
        "This form did not come from this site's own page, or the page was too old. Nothing was changed. Open the page again and retry.",
        None,
    )
}

fn internal(cause: impl std::fmt::Display) -> Response {
    tracing::error!(%cause, "moderation page failed");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The server could not do this. Nothing was changed.",
        None,
    )
}

/// A cookie's value from the request, if it sent one.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
) -> (header::HeaderName, String) {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    (
        header::SET_COOKIE,
        format!(
            "{name}={value}; HttpOnly; SameSite=Strict; Path=/moderate; Max-Age={max_age}{secure}"
        ),
    )
}

/// Whether a POST comes from this site: `Origin`, when sent, must be this host's, and
/// `Sec-Fetch-Site`, when sent, must not name another site. Browsers send at least one.
///
/// Under `Referrer-Policy: no-referrer` a browser sends `Origin: null` even for this site's own
/// forms, so `null` is taken only with `Sec-Fetch-Site: same-origin` beside it.
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let fetch_site = headers.get("sec-fetch-site").map(|v| v.to_str());
    let fetch_ok = match fetch_site {
        None => true,
        Some(Ok(site)) => site == "same-origin" || site == "none",
        Some(Err(_)) => false,
    };
    let origin_ok = match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None => true,
        Some(Ok("null")) => matches!(fetch_site, Some(Ok("same-origin"))),
        Some(Ok(origin)) => {
            !host.is_empty()
                && (origin == format!("http://{host}") || origin == format!("https://{host}"))
        }
        Some(Err(_)) => false,
    };
    origin_ok && fetch_ok
}

/// Constant-time equality, for the sign-in form's token.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn no_moderation() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "No moderation here",
        "This feed does not take submissions.",
        None,
    )
}

/// Run `f` on the moderation store on a blocking thread, handing back the store's own error
/// for the caller to answer.
async fn with_store_raw<T, F>(state: &AppState, f: F) -> Result<Result<T, Error>, Response>
where
    T: Send + 'static,
    F: FnOnce(&mut Moderation) -> Result<T, Error> + Send + 'static,
{
    let Some(store) = state.moderation.clone() else {
        return Err(no_moderation());
    };
    tokio::task::spawn_blocking(move || {
        store
            .lock()
            .map(|mut m| f(&mut m))
            .map_err(|_| "moderation store lock poisoned")
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

/// [`with_store_raw`], where any error of the store's is the server's fault.
async fn with_store<T, F>(state: &AppState, f: F) -> Result<T, Response>
where
    T: Send + 'static,
    F: FnOnce(&mut Moderation) -> Result<T, Error> + Send + 'static,
{
    with_store_raw(state, f).await?.map_err(internal)
}

/// A signed-in moderator, from the session cookie. A page asked for without one is sent to
/// the sign-in form; a POST from another site is refused before anything else.
pub(crate) struct Moderator {
    who: SignedIn,
    token: String,
}

impl FromRequestParts<AppState> for Moderator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if parts.method != Method::GET
            && parts.method != Method::HEAD
            && !same_origin(&parts.headers)
        {
            return Err(forbidden());
        }
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .unwrap_or_default()
            .to_string();
        let found = if token.is_empty() {
            None
        } else {
            let t = token.clone();
            with_store(state, move |m| m.session(&t, Utc::now())).await?
        };
        match found {
            Some(who) => Ok(Moderator { who, token }),
            None => Err(Redirect::to("/moderate/sign-in").into_response()),
        }
    }
}

/// A form every POST sends: its CSRF token, checked before anything else in it is read.
trait Posted {
    fn csrf(&self) -> &str;
}

/// A moderator's POST whose CSRF token is their session's (else 403, nothing changed).
struct Checked<T>(Moderator, T);

impl<T> FromRequest<AppState> for Checked<T>
where
    T: Posted + serde::de::DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let moderator = Moderator::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let Form(form) = Form::<T>::from_request(req, state)
            .await
            .map_err(|_| forbidden())?;
        if !moderator.who.csrf_matches(form.csrf()) {
            return Err(forbidden());
        }
        Ok(Checked(moderator, form))
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl Posted for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The group's form, as a moderator's edit posts it.
impl Posted for Fields {
    fn csrf(&self) -> &str {
        self.get("csrf")
    }
}

#[derive(Deserialize)]
struct MergeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    into: String,
}

impl Posted for MergeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Deserialize)]
struct RejectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

impl Posted for RejectForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Deserialize)]
struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

impl Posted for AccountForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

fn random_hex() -> String {
    use rand::RngCore;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// `GET /moderate/sign-in`: the form, with a fresh token tied to a cookie.
async fn sign_in_form(State(state): State<AppState>) -> Response {
    sign_in_page(&state, StatusCode::OK, None)
}

fn sign_in_page(state: &AppState, status: StatusCode, problem: Option<&str>) -> Response {
    let csrf = random_hex();
    (
        status,
        [set_cookie(state, SIGN_IN_COOKIE, &csrf, 3600)],
        pages::sign_in(&csrf, problem),
    )
        .into_response()
}

/// `POST /moderate/sign-in`.
async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !same_origin(&headers) || expected.is_empty() || !same_secret(expected, &form.csrf) {
        return forbidden();
    }
    let SignInForm { name, password, .. } = form;
    let outcome = with_store_raw(&state, move |m| m.sign_in(&name, &password, Utc::now())).await;
    match outcome {
        Ok(Ok(session)) => {
            let max_age = signpost_moderation::SESSION_HOURS * 3600;
            (
                AppendHeaders([
                    set_cookie(&state, SESSION_COOKIE, &session.token, max_age),
                    set_cookie(&state, SIGN_IN_COOKIE, "", 0),
                ]),
                Redirect::to("/moderate"),
            )
                .into_response()
        }
        Ok(Err(Error::SignInRefused)) => sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("The name or password is wrong."),
        ),
        Ok(Err(e)) => internal(e),
        Err(r) => r,
    }
}

/// `POST /moderate/sign-out`.
async fn sign_out(
    State(state): State<AppState>,
    Checked(me, CsrfOnly { .. }): Checked<CsrfOnly>,
) -> Response {
    let token = me.token;
    if let Err(r) = with_store(&state, move |m| m.sign_out(&token)).await {
        return r;
    }
    (
        [set_cookie(&state, SESSION_COOKIE, "", 0)],
        Redirect::to("/moderate/sign-in"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct QueueQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
}

/// `GET /moderate`: the queue, searched by name and filtered by kind.
async fn queue(
    State(state): State<AppState>,
    me: Moderator,
    Query(query): Query<QueueQuery>,
) -> Response {
    let kind = Kind::parse(&query.kind);
    let q = query.q.chars().take(200).collect::<String>();
    let search = q.clone();
    match with_store(&state, move |m| m.pending_matching(&search, kind)).await {
        Ok(items) => html(StatusCode::OK, pages::queue(&me.who, &items, &q, kind)),
        Err(r) => r,
    }
}

/// A CSV download (`name` and today's date its file name).
fn csv_download(name: &str, body: Vec<u8>) -> Response {
    let file = format!(
        "attachment; filename=\"{name}-{}.csv\"",
        Utc::now().date_naive()
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, file),
        ],
        body,
    )
        .into_response()
}

/// `GET /moderate/queue.csv`: the queue as the page shows it (the same `q` and `kind`), as CSV.
async fn queue_csv(
    State(state): State<AppState>,
    _me: Moderator,
    Query(query): Query<QueueQuery>,
) -> Response {
    let kind = Kind::parse(&query.kind);
    let q = query.q.chars().take(200).collect::<String>();
    match with_store(&state, move |m| m.pending_matching(&q, kind)).await {
        Ok(items) => csv_download("queue", crate::export::queue_csv(&items)),
        Err(r) => r,
    }
}

/// `GET /moderate/stale.csv`: listings not checked for over 12 months (or never), as CSV.
async fn stale_csv(State(state): State<AppState>, _me: Moderator) -> Response {
    let Some(store) = state.moderation.clone() else {
        return no_moderation();
    };
    let today = Utc::now().date_naive();
    let stale = state
        .with_directory(move |d| {
            let m = store
                .lock()
                .map_err(|_| crate::ApiError::Internal("moderation store lock poisoned".into()))?;
            m.stale(d, today)
                .map_err(|e| crate::ApiError::Internal(e.to_string()))
        })
        .await;
    match stale {
        Ok(stale) => csv_download("stale", crate::export::stale_csv(&stale)),
        Err(e) => internal(e),
    }
}

/// The most items a merge offers to merge into.
const MERGE_CHOICES: usize = 200;

/// The item page's parts: the item, its published record if any, and what approval changes.
async fn item_page(
    state: &AppState,
    me: &Moderator,
    id: String,
    status: StatusCode,
    problem_text: Option<&str>,
) -> Response {
    let found = with_store(state, move |m| {
        let item = match m.item(&id) {
            Ok(item) => item,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let edits: Vec<_> = m
            .item_audit(&id)?
            .into_iter()
            .filter(|r| r.action == "edit")
            .collect();
        // What it could be merged into: the other waiting items, those for the same listing
        // first.
        let mut others = Vec::new();
        if item.status == Status::InReview {
            others = m.pending()?;
            others.retain(|o| o.id != item.id);
            others.sort_by_key(|o| o.service_id != item.service_id);
            others.truncate(MERGE_CHOICES);
        }
        Ok(Some((item, edits, others)))
    })
    .await;
    let (item, edits, others) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            return problem(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such item.",
                Some(&me.who),
            )
        }
        Err(r) => return r,
    };
    let service_id = item.service_id.clone();
    let published = state
        .with_directory(move |d| match d.listing(&service_id) {
            Ok(l) => Ok(Some(l.record)),
            Err(signpost_directory::Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await;
    let published = match published {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let changes =
        signpost_moderation::proposed_changes(&item, published.as_ref()).map_err(|e| e.to_string());
    html(
        status,
        pages::item(
            &me.who,
            &pages::ItemView {
                item: &item,
                changes: &changes,
                published: published.is_some(),
                edits: &edits,
                others: &others,
            },
            problem_text,
        ),
    )
}

/// `GET /moderate/items/{id}`.
async fn item(State(state): State<AppState>, me: Moderator, Path(id): Path<String>) -> Response {
    item_page(&state, &me, id, StatusCode::OK, None).await
}

/// What a refused decision answers: the item page again, saying why.
async fn refused(state: &AppState, me: &Moderator, id: String, e: Error) -> Response {
    let status = match &e {
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::AlreadyDecided { .. } => StatusCode::CONFLICT,
        Error::Invalid { .. } | Error::BadRequest { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        other => return internal(other),
    };
    item_page(state, me, id, status, Some(&e.to_string())).await
}

/// `POST /moderate/items/{id}/approve`: publish through the feed's own writer (one changeset),
/// then a snapshot if one is due; the moderator's name goes in the audit.
async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked(me, CsrfOnly { .. }): Checked<CsrfOnly>,
) -> Response {
    let writer = state.writer.clone();
    let (item_id, who) = (id.clone(), me.who.name.clone());
    let outcome = with_store_raw(&state, move |m| {
        // A panic while another request held the writer left no transaction open (SQLite
        // rolled it back), so the directory is still usable.
        let mut dir = writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        m.approve(&item_id, &who, &mut dir, Utc::now())?;
        if let Err(e) = crate::snapshot_if_due(&mut dir) {
            // The approval is published; a snapshot will be made after a later change.
            tracing::error!(cause = %e, "snapshot after approval failed");
        }
        Ok(())
    })
    .await;
    match outcome {
        Ok(Ok(())) => Redirect::to(&format!("/moderate/items/{id}")).into_response(),
        Ok(Err(e)) => refused(&state, &me, id, e).await,
        Err(r) => r,
    }
}

/// `POST /moderate/items/{id}/reject`: with the reason the group will see.
async fn reject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked(me, form): Checked<RejectForm>,
) -> Response {
    let (item_id, who) = (id.clone(), me.who.name.clone());
    let outcome = with_store_raw(&state, move |m| {
        m.reject(&item_id, &form.reason, &who, Utc::now())
    })
    .await;
    match outcome {
        Ok(Ok(())) => Redirect::to(&format!("/moderate/items/{id}")).into_response(),
        Ok(Err(e)) => refused(&state, &me, id, e).await,
        Err(r) => r,
    }
}

/// A waiting submission, for its edit page (else the answer to give).
async fn editable(state: &AppState, me: &Moderator, id: String) -> Result<Item, Response> {
    let found = with_store(state, move |m| match m.item(&id) {
        Ok(item) => Ok(Some(item)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    })
    .await?;
    match found {
        None => Err(problem(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such item.",
            Some(&me.who),
        )),
        Some(item) if item.kind != Kind::Submission || item.status != Status::InReview => {
            Err(problem(
                StatusCode::CONFLICT,
                "Cannot be edited",
                "Only a listing still waiting for a moderator can be edited.",
                Some(&me.who),
            ))
        }
        Some(item) => Ok(item),
    }
}

/// `GET /moderate/items/{id}/edit`: the group's form, filled in from the submitted listing.
async fn edit_form(
    State(state): State<AppState>,
    me: Moderator,
    Path(id): Path<String>,
) -> Response {
    let item = match editable(&state, &me, id).await {
        Ok(item) => item,
        Err(r) => return r,
    };
    let (fields, notes) = match crate::group::detail_of(&item.body["service"]) {
        Some(detail) => {
            let (group, left_out) = from_listing(&detail);
            (Fields::from_group(&group), left_out)
        }
        None => (
            Fields::default(),
            vec!["the listing as sent could not be read into the form".to_string()],
        ),
    };
    html(
        StatusCode::OK,
        pages::edit(&me.who, &item, &fields, &[], &notes),
    )
}

/// `POST /moderate/items/{id}/edit`: the moderator's revision, checked as the group's form and
/// then as strictly as on arrival, stored on the item (audited `edit`); approval publishes it.
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked(me, fields): Checked<Fields>,
) -> Response {
    let item = match editable(&state, &me, id.clone()).await {
        Ok(item) => item,
        Err(r) => return r,
    };
    let mut parsed = fields.to_group();
    parsed.form.service_id = Some(item.service_id.clone());
    let listing = match parsed.listing(&item.service_id) {
        Ok(listing) => listing,
        Err(errors) => {
            return html(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::edit(&me.who, &item, &fields, &errors, &[]),
            )
        }
    };
    let (item_id, who) = (id.clone(), me.who.name.clone());
    let outcome = with_store_raw(&state, move |m| {
        m.revise(&item_id, &listing, &who, Utc::now())
    })
    .await;
    match outcome {
        Ok(Ok(_)) => Redirect::to(&format!("/moderate/items/{id}")).into_response(),
        Ok(Err(Error::Invalid { field, message })) => {
            let error = FormError {
                field: "form".into(),
                message: format!("{field}: {message}"),
            };
            html(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::edit(&me.who, &item, &fields, &[error], &[]),
            )
        }
        Ok(Err(e)) => refused(&state, &me, id, e).await,
        Err(r) => r,
    }
}

/// `POST /moderate/items/{id}/merge`: close this item as a duplicate of `into`, which stays
/// waiting; the moderator goes on to it.
async fn merge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked(me, form): Checked<MergeForm>,
) -> Response {
    let (item_id, who, into) = (id.clone(), me.who.name.clone(), form.into.clone());
    let outcome = with_store_raw(&state, move |m| m.merge(&item_id, &into, &who, Utc::now())).await;
    match outcome {
        Ok(Ok(())) => Redirect::to(&format!("/moderate/items/{}", form.into)).into_response(),
        Ok(Err(e)) => refused(&state, &me, id, e).await,
        Err(r) => r,
    }
}

/// The answer to a moderator who is not an admin, if they are not.
fn not_admin(me: &Moderator) -> Option<Response> {
    (me.who.role != Role::Admin).then(|| {
        problem(
            StatusCode::FORBIDDEN,
            "Admins only",
            "Only an admin can manage accounts.",
            Some(&me.who),
        )
    })
}

async fn accounts_page(
    state: &AppState,
    me: &Moderator,
    status: StatusCode,
    problem_text: Option<&str>,
) -> Response {
    match with_store(state, |m| m.accounts()).await {
        Ok(list) => html(status, pages::accounts(&me.who, &list, problem_text)),
        Err(r) => r,
    }
}

/// `GET /moderate/accounts` (admins).
async fn accounts(State(state): State<AppState>, me: Moderator) -> Response {
    if let Some(refused) = not_admin(&me) {
        return refused;
    }
    accounts_page(&state, &me, StatusCode::OK, None).await
}

/// `POST /moderate/accounts` (admins): add a moderator.
async fn add_moderator(
    State(state): State<AppState>,
    Checked(me, form): Checked<AccountForm>,
) -> Response {
    if let Some(refused) = not_admin(&me) {
        return refused;
    }
    let outcome = with_store_raw(&state, move |m| {
        m.add_account(&form.name, &form.password, Role::Moderator, Utc::now())
    })
    .await;
    match outcome {
        Ok(Ok(())) => Redirect::to("/moderate/accounts").into_response(),
        Ok(Err(e @ (Error::Invalid { .. } | Error::AccountExists { .. }))) => {
            accounts_page(
                &state,
                &me,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&e.to_string()),
            )
            .await
        }
        Ok(Err(e)) => internal(e),
        Err(r) => r,
    }
}

/// `POST /moderate/accounts/disable` (admins): disable an account and end its sessions.
async fn disable(
    State(state): State<AppState>,
    Checked(me, form): Checked<AccountForm>,
) -> Response {
    if let Some(refused) = not_admin(&me) {
        return refused;
    }
    let outcome = with_store_raw(&state, move |m| m.disable_account(&form.name, Utc::now())).await;
    match outcome {
        Ok(Ok(())) => Redirect::to("/moderate/accounts").into_response(),
        Ok(Err(e @ (Error::Invalid { .. } | Error::NotFound { .. }))) => {
            accounts_page(
                &state,
                &me,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&e.to_string()),
            )
            .await
        }
        Ok(Err(e)) => internal(e),
        Err(r) => r,
    }
}
