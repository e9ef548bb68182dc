//! What every HTML page the feed serves shares: the moderators' queue (`/moderate`) and the
//! groups' web form (`/group`). Pages are built with `maud`, which escapes every value, and every
//! response carries the same headers ([`protect`]): a strict CSP under which no script runs (the
//! pages need none), `nosniff`, no referrer, no framing and no caching. One stylesheet serves both.
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::Markup;

/// The policy on every page: nothing runs, styles and images only from here, forms post only
/// here, and no other site may frame the pages.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The pages' one stylesheet.
const STYLE: &str = include_str!("pages.css");

/// The headers every page carries (a `map_response` middleware, and called directly for a page
/// answered from a route that also answers JSON).
pub(crate) async fn protect(response: Response) -> Response {
    secure(response)
}

/// [`protect`], for a single response.
pub(crate) fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The stylesheet (served at `/moderate/style.css` and `/group/style.css`).
pub(crate) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// A page with its status.
pub(crate) fn html(status: StatusCode, markup: Markup) -> Response {
    (status, markup).into_response()
}
