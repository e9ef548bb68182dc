//! The groups' web form, for groups that will not install the app: `GET /group` (a new
//! listing), `GET /group/{service_id}` (start from a published listing), and the receipt
//! `GET /group/sent/{submission_id}`. The form posts to `POST /submissions` itself, as
//! `application/x-www-form-urlencoded` ([`receive`]); the same rate and size limits apply, and
//! the listing goes through the same `Moderation::submit` as the app's JSON.
//!
//! Exactly once: each page served carries a fresh random `client_id` in a hidden field, and its
//! post is that device's item 1, so a double click or a browser's resubmission of the same page
//! is answered from what was stored. A page with problems is answered with the same
//! `client_id` (nothing was stored), so the corrected post is still item 1.
//!
//! Success answers `303 See Other` to the receipt page (post/redirect/get): reloading the
//! receipt asks nothing again, and the back button and a resend land on the same receipt.
pub(crate) mod form;
mod pages;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{middleware, Router};
use chrono::Utc;
use serde_json::{json, Value};
use signpost_browse::group_form::{from_listing, new_listing_id, FormError};
use signpost_directory::model::Service;
use signpost_directory::taxonomy::Facets;
use signpost_directory::ListingDetail;
use signpost_moderation::{Error, Kind, Moderation};

use crate::page::{html, secure};
use crate::AppState;
use form::Fields;

/// The `/group` routes (no CORS: these are pages, not the API).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/group", get(new_form))
        .route("/group/style.css", get(crate::page::style))
        .route("/group/sent/{id}", get(sent))
        .route("/group/{service_id}", get(update_form))
        .layer(middleware::map_response(crate::page::protect))
}

/// A fresh device id for one page of the form: a random (version 4) UUID.
fn client_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A listing's record as the browse crate's detail, for `from_listing` (a submitted listing
/// has no stored row to read it from).
pub(crate) fn detail_of(record: &Value) -> Option<ListingDetail> {
    let service: Service = serde_json::from_value(record.clone()).ok()?;
    let facets = Facets::of(&service);
    Some(ListingDetail {
        when: None,
        access: facets.access.map(|a| a.code()),
        free: facets.free,
        wheelchair: facets.wheelchair,
        terms: Vec::new(),
        service,
        record: record.clone(),
        source: None,
    })
}

fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    html(status, pages::problem(title, message))
}

fn internal(cause: impl std::fmt::Display) -> Response {
    tracing::error!(%cause, "group form failed");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The server could not do this. Nothing was sent. Please try again later.",
    )
}

/// Run `f` on the moderation store on a blocking thread.
async fn with_store<T, F>(state: &AppState, f: F) -> Result<Result<T, Error>, Response>
where
    T: Send + 'static,
    F: FnOnce(&mut Moderation) -> Result<T, Error> + Send + 'static,
{
    let Some(store) = state.moderation.clone() else {
        return Err(problem(
            StatusCode::NOT_FOUND,
            "Not taking listings",
            "This feed does not take listings from groups.",
        ));
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

/// `GET /group`: a blank form.
async fn new_form() -> Response {
    let mut fields = Fields::default();
    fields.set("sessions.0.repeat", "weekly");
    html(
        StatusCode::OK,
        pages::form_page(&fields, &[], &client_id(), None, &[], None),
    )
}

/// `GET /group/{service_id}`: the form filled in from the published listing.
async fn update_form(State(state): State<AppState>, Path(service_id): Path<String>) -> Response {
    let found = state
        .with_directory(move |d| match d.listing(&service_id) {
            Ok(l) => Ok(Some(l)),
            Err(signpost_directory::Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await;
    match found {
        Ok(Some(detail)) => {
            let (group, left_out) = from_listing(&detail);
            let fields = Fields::from_group(&group);
            let name = detail.service.name.clone();
            let confirm_id = client_id();
            let still_running = pages::StillRunning {
                service_id: &detail.service.id,
                client_id: &confirm_id,
            };
            html(
                StatusCode::OK,
                pages::form_page(
                    &fields,
                    &[],
                    &client_id(),
                    Some(&name),
                    &left_out,
                    Some(still_running),
                ),
            )
        }
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no published listing at this address. You can add it as a new group.",
        ),
        Err(e) => internal(e),
    }
}

/// `GET /group/sent/{id}`: the receipt.
async fn sent(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match with_store(&state, move |m| m.item(&id)).await {
        Ok(Ok(item))
            if item.kind == Kind::Submission
                || (item.kind == Kind::Report && item.body["kind"] == "still-running") =>
        {
            html(StatusCode::OK, pages::sent(&item))
        }
        Ok(Ok(_)) | Ok(Err(Error::NotFound { .. })) => problem(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no listing with this reference.",
        ),
        Ok(Err(e)) => internal(e),
        Err(r) => r,
    }
}

/// The form again, with what was typed and every problem beside its field.
fn again(fields: &Fields, errors: &[FormError], client_id: &str) -> Response {
    let updating = Some(fields.get("name"))
        .filter(|_| !fields.get("service_id").is_empty())
        .map(|n| if n.trim().is_empty() { "your group" } else { n });
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        pages::form_page(fields, errors, client_id, updating, &[], None),
    )
}

/// A form post to `POST /reports` from a published listing's page: "this is still running,
/// nothing changed", submitted as item 1 of the page's own `client_id` (so a resend is stored
/// once), answered `303` to the receipt.
pub(crate) async fn receive_report(state: AppState, body: Bytes) -> Response {
    secure(receive_report_form(state, body).await)
}

async fn receive_report_form(state: AppState, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let client = fields.get("client_id").trim().to_ascii_lowercase();
    let service_id = fields.get("service_id").trim().to_string();
    if fields.get("kind") != "still-running" || service_id.is_empty() {
        return problem(
            StatusCode::BAD_REQUEST,
            "This form is out of date",
            "This page could not be used. Nothing was sent. Open your listing's page again.",
        );
    }
    let envelope = json!({"client_id": client, "seq": 1, "service_id": service_id,
        "service_name": fields.get("service_name"), "kind": "still-running"});
    match with_store(&state, move |m| {
        m.submit(Kind::Report, &envelope, Utc::now())
    })
    .await
    {
        Ok(Ok(receipt)) => Redirect::to(&format!("/group/sent/{}", receipt.id)).into_response(),
        Ok(Err(Error::TooMany { .. })) => problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sent",
            "Too much was sent from here lately. Nothing was sent. Please try again later.",
        ),
        Ok(Err(Error::BadRequest { .. } | Error::Gap { .. } | Error::Invalid { .. })) => problem(
            StatusCode::BAD_REQUEST,
            "This form is out of date",
            "This page could not be used. Nothing was sent. Open your listing's page again.",
        ),
        Ok(Err(e)) => internal(e),
        Err(r) => r,
    }
}

/// A form post to `POST /submissions`: read, checked as the app checks it, then submitted as
/// item 1 of the page's `client_id`.
pub(crate) async fn receive(state: AppState, body: Bytes) -> Response {
    secure(receive_form(state, body).await)
}

async fn receive_form(state: AppState, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let client = fields.get("client_id").trim().to_ascii_lowercase();
    let parsed = fields.to_group();
    let listing = match parsed.listing(&new_listing_id()) {
        Ok(listing) => listing,
        // A post without a device id (not from this site's page) gets one for its next try.
        Err(errors) if client.is_empty() => return again(&fields, &errors, &client_id()),
        Err(errors) => return again(&fields, &errors, &client),
    };
    let envelope = json!({"client_id": client, "seq": 1, "service": listing});
    match with_store(&state, move |m| m.submit(Kind::Submission, &envelope, Utc::now())).await {
        Ok(Ok(receipt)) => Redirect::to(&format!("/group/sent/{}", receipt.id)).into_response(),
        Ok(Err(Error::Invalid { message, .. })) => {
            // The store's own checks refused it and used up this page's number: the page
            // comes back with a new one, so the corrected form can be sent.
            let problem = FormError {
                field: "form".into(),
                message: format!("The listing could not be accepted: {message}"),
            };
            again(&fields, &[problem], &client_id())
        }
        Ok(Err(Error::BadRequest { .. } | Error::Gap { .. })) => problem(
            StatusCode::BAD_REQUEST,
            "This form is out of date",
            "This page of the form could not be used. Nothing was sent. Open the form again and fill it in.",
        ),
        // The web form carries no edit key: a listing its group looks after with one is
        // updated from the device that holds it.
        Ok(Err(Error::EditKey { .. })) => problem(
            StatusCode::FORBIDDEN,
            "This listing is looked after by its group",
            "Its group updates it from the Signpost app, on the device that holds its edit key. Nothing was sent. If you run this group and have lost that device, ask the region's moderators.",
        ),
        Ok(Err(Error::TooMany { .. })) => {
            let mut r = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sent",
                "Too many listings were sent from here lately. Nothing was sent. Please try again later.",
            );
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("600"),
            );
            r
        }
        Ok(Err(e)) => internal(e),
        Err(r) => r,
    }
}
