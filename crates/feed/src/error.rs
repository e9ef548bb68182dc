//! API errors: each variant says its HTTP status; internals are logged, never sent.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// What a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `400 Bad Request`: a parameter is malformed; the message names it.
    #[error("{0}")]
    BadRequest(String),
    /// `404 Not Found`.
    #[error("{0}")]
    NotFound(String),
    /// `500 Internal Server Error`: logged with its cause; the client sees a generic message.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The directory's error for a lookup of one `kind` of thing ("organization", "changeset"),
    /// so a 404 says what was not found: the directory itself only knows an id was missing.
    pub(crate) fn looking_for(
        kind: &'static str,
        key: &'static str,
    ) -> impl Fn(signpost_directory::Error) -> ApiError {
        move |e| match e {
            signpost_directory::Error::NotFound(id) => {
                ApiError::NotFound(format!("no {kind} with {key} {id:?}"))
            }
            other => ApiError::from(other),
        }
    }
}

impl From<signpost_directory::Error> for ApiError {
    fn from(e: signpost_directory::Error) -> Self {
        match e {
            signpost_directory::Error::NotFound(id) => {
                ApiError::NotFound(format!("nothing with id {id:?}"))
            }
            signpost_directory::Error::BadQuery(m) => ApiError::BadRequest(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        (
            status,
            Json(json!({"error": code, "message": self.to_string()})),
        )
            .into_response()
    }
}
