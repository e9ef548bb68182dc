//! What groups send: `POST /submissions`, `/claims` and `/reports`, and `GET /submissions/{id}`
//! for where an item stands. Each body is size-limited (by the router), parsed, checked and
//! stored by `signpost-moderation` in one transaction, exactly once per device and number.
//! Nothing reaches the published directory until a moderator approves it.
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};
use signpost_moderation::{Error, Kind, Moderation};

use crate::AppState;

/// An error as the contract gives it: `{error, message, field}` with its status.
fn refuse(status: StatusCode, code: &str, message: String, field: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "message": message, "field": field})),
    )
        .into_response()
}

fn answer(e: Error) -> Response {
    let field = e.field().unwrap_or_default().to_string();
    match e {
        Error::BadRequest { .. } => refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            e.to_string(),
            &field,
        ),
        Error::Invalid { .. } => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            e.to_string(),
            &field,
        ),
        // A wrong, used or missing edit key: the message says which, never the key.
        Error::EditKey { message } => refuse(StatusCode::FORBIDDEN, "edit_key", message, &field),
        Error::Gap { expected, .. } => (
            StatusCode::CONFLICT,
            Json(json!({"error": "gap", "message": e.to_string(), "field": field, "expected": expected})),
        )
            .into_response(),
        Error::NotFound { .. } => refuse(StatusCode::NOT_FOUND, "not_found", e.to_string(), ""),
        Error::TooMany { .. } => {
            let mut r = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many",
                e.to_string(),
                "",
            );
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("600"),
            );
            r
        }
        other => {
            tracing::error!(cause = %other, "moderation store failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
                "",
            )
        }
    }
}

fn store(state: &AppState) -> Option<Arc<Mutex<Moderation>>> {
    state.moderation.clone()
}

fn no_submissions() -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        "not_found",
        "this feed does not take submissions".into(),
        "",
    )
}

async fn receive(state: AppState, kind: Kind, body: Bytes) -> Response {
    let Some(store) = store(&state) else {
        return no_submissions();
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body is not JSON: {e}"),
                "",
            )
        }
    };
    let outcome = tokio::task::spawn_blocking(move || {
        let mut m = store.lock().map_err(|_| Error::NotFound {
            kind: "moderation store",
            id: String::new(),
        })?;
        m.submit(kind, &value, Utc::now())
    })
    .await;
    match outcome {
        Ok(Ok(receipt)) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "submission_id": receipt.id,
                "status": receipt.status,
                "duplicate": receipt.duplicate,
            })),
        )
            .into_response(),
        Ok(Err(e)) => answer(e),
        Err(e) => {
            tracing::error!(cause = %e, "submission task failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
                "",
            )
        }
    }
}

/// Sends accepted from one address: a burst of this many, then one every
/// [`WRITE_SECONDS_PER_REQUEST`] seconds (a device's own limit is kept by the store).
pub const WRITE_BURST: u32 = 30;
/// See [`WRITE_BURST`].
pub const WRITE_SECONDS_PER_REQUEST: u64 = 2;

/// `POST /submissions`, `/claims` and `/reports`, rate-limited per address: over the limit a
/// request answers 429 with `Retry-After`, before its body is read.
pub(crate) fn write_routes() -> axum::Router<AppState> {
    use axum::routing::post;
    let config = tower_governor::governor::GovernorConfigBuilder::default()
        .per_second(WRITE_SECONDS_PER_REQUEST)
        .burst_size(WRITE_BURST)
        .finish()
        .expect("a burst and a period above zero");
    let limit = tower_governor::GovernorLayer::new(config).error_handler(|e| {
        let (message, wait) = match e {
            tower_governor::GovernorError::TooManyRequests { wait_time, .. } => (
                format!("too many requests from this address; try again in {wait_time} s"),
                wait_time,
            ),
            other => {
                tracing::warn!(error = %other, "rate limit could not tell the client apart");
                ("try again later".to_string(), 60)
            }
        };
        let mut r = refuse(StatusCode::TOO_MANY_REQUESTS, "too_many", message, "");
        if let Ok(v) = axum::http::HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        r
    });
    axum::Router::new()
        .route("/submissions", post(submission))
        .route("/claims", post(claim))
        .route("/reports", post(report))
        .layer(limit)
}

/// `POST /submissions`: a new or updated listing, as JSON (the app) or as the web form's
/// fields (`application/x-www-form-urlencoded`, answered with pages: see `group.rs`).
pub(crate) async fn submission(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if is_form(&headers) {
        return crate::group::receive(state, body).await;
    }
    receive(state, Kind::Submission, body).await
}

/// Whether a body is a web form's fields (`application/x-www-form-urlencoded`).
fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// `POST /claims`: "this is our group".
pub(crate) async fn claim(State(state): State<AppState>, body: Bytes) -> Response {
    receive(state, Kind::Claim, body).await
}

/// `POST /reports`: "this has closed", "details are wrong" or "still running", as JSON (the
/// app), or "still running" as a web form's fields from a listing's `/group/{id}` page
/// (answered with pages: see `group/`).
pub(crate) async fn report(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if is_form(&headers) {
        return crate::group::receive_report(state, body).await;
    }
    receive(state, Kind::Report, body).await
}

/// `GET /submissions/{id}`: where an item stands, and the reason if it was rejected.
pub(crate) async fn status(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(store) = store(&state) else {
        return no_submissions();
    };
    let found = tokio::task::spawn_blocking(move || {
        store
            .lock()
            .map_err(|_| Error::NotFound {
                kind: "moderation store",
                id: String::new(),
            })?
            .item(&id)
    })
    .await;
    match found {
        Ok(Ok(item)) => Json(json!({
            "submission_id": item.id,
            "kind": item.kind,
            "service_id": item.service_id,
            "status": item.status,
            "reason": item.reason,
            "submitted_at": item.submitted_at,
            "decided_at": item.decided_at,
        }))
        .into_response(),
        Ok(Err(e)) => answer(e),
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error".into(),
            "",
        ),
    }
}
