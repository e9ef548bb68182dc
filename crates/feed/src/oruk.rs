//! ORUK 3.0 endpoints. Paged lists use the ORUK envelope; optional fields without a value are
//! omitted (records are stored without nulls).
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use signpost_directory::{Directory, ListQuery, OrukPage, Page, Proximity, ServiceQuery};

use crate::{ApiError, AppState};

const OPENAPI: &str = include_str!("../openapi/oruk-3.0.json");
const DEFAULT_PER_PAGE: u64 = 50;
/// The ORUK 3.0 specification's largest page; it also bounds what one request can make the
/// server hold in memory.
pub(crate) const MAX_PER_PAGE: u64 = 100;
/// Far past the last page of any directory (a million listings at one per page): a larger
/// number is a mistake or a probe, and is refused rather than answered with an empty page.
pub(crate) const MAX_PAGE: u64 = 1_000_000;
/// Search radius when a postcode is given without `proximity`, as in the app.
const DEFAULT_PROXIMITY_M: f64 = 10_000.0;
const MAX_PROXIMITY_M: f64 = 1_000_000.0;

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// `GET /`: what this API is.
pub async fn api_details(headers: HeaderMap) -> impl IntoResponse {
    Json(json!({
        "version": "HSDS-UK-3.0",
        "profile": "https://openreferraluk.org/specifications/3.0",
        "openapi_url": format!("{}/openapi.json", base_url(&headers)),
    }))
}

/// `GET /openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    Json(openapi_document().clone())
}

/// This server's OpenAPI document: the ORUK 3.0 one it implements, plus the sync API.
fn openapi_document() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc: Value = serde_json::from_str(OPENAPI).expect("the bundled ORUK OpenAPI document is JSON");
        doc["info"]["title"] = json!("Signpost regional feed: ORUK 3.0 API and Signpost sync API");
        let ok = |description: &str| json!({"200": {"description": description}});
        let hash = json!([{"name": "hash", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}]);
        // The bundled document gives paging parameters no range; these are the ones enforced.
        let parameters = &mut doc["components"]["parameters"];
        parameters["page"]["schema"] = json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1});
        parameters["per_page"]["schema"] = json!({"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE});
        parameters["modified_after"]["schema"] = json!({"type": "string", "format": "date-time"});
        parameters["modified_after"]["description"] = json!("Return all results modified after this RFC 3339 date-time (2024-05-01T09:00:00Z) or date (2024-05-01).");
        if let Some(paths) = doc["paths"].as_object_mut() {
            paths.insert("/sync/head".into(), json!({"get": {"tags": ["sync"], "summary": "The newest changeset (seq, hash) and snapshot", "responses": ok("seq, hash and snapshot")}}));
            paths.insert("/sync/changesets".into(), json!({"get": {"tags": ["sync"], "summary": "The changeset log after a sequence number",
                "parameters": [{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": crate::sync::MAX_AFTER}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": crate::sync::MAX_LIST, "default": crate::sync::MAX_LIST}}],
                "responses": ok("changesets: seq, hash, prev, upserts, deletes, bytes")}}));
            paths.insert("/sync/changesets/{hash}".into(), json!({"get": {"tags": ["sync"], "summary": "One changeset, gzip, immutable; its SHA-256 is its name",
                "parameters": hash.clone(), "responses": ok("canonical changeset JSON")}}));
            paths.insert("/sync/snapshots/{hash}".into(), json!({"get": {"tags": ["sync"], "summary": "The whole directory as of a changeset, gzip, immutable",
                "parameters": hash, "responses": ok("canonical snapshot JSON")}}));
        }
        doc
    })
}

/// A whole-number parameter in `min..=max` (the range the OpenAPI document states).
pub(crate) fn number(
    params: &HashMap<String, String>,
    name: &str,
    default: u64,
    (min, max): (u64, u64),
) -> Result<u64, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!(
                "{name} must be a whole number from {min} to {max}, not {v:?}"
            ))),
        },
    }
}

/// `page` and `per_page`.
fn paging(params: &HashMap<String, String>) -> Result<(u64, u64), ApiError> {
    Ok((
        number(params, "page", 1, (1, MAX_PAGE))?,
        number(params, "per_page", DEFAULT_PER_PAGE, (1, MAX_PER_PAGE))?,
    ))
}

/// `modified_after` as an RFC 3339 date-time (normalised to UTC, as stored times are compared
/// as text) or a date. Anything else is refused: a lenient reading of `2024-13-45` would filter
/// by a date that does not exist and answer as if it did.
fn modified_after(params: &HashMap<String, String>) -> Result<Option<String>, ApiError> {
    let Some(v) = params.get("modified_after").map(|v| v.trim()) else {
        return Ok(None);
    };
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(v) {
        let utc = at.with_timezone(&chrono::Utc);
        return Ok(Some(
            utc.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        ));
    }
    match chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(date) if v.len() == 10 => Ok(Some(date.format("%Y-%m-%d").to_string())),
        _ => Err(ApiError::BadRequest(format!(
            "modified_after must be an RFC 3339 date-time (2024-05-01T09:00:00Z) or a date \
             (2024-05-01), not {v:?}"
        ))),
    }
}

fn flag(params: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match params.get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" || v == "1" || v.is_empty() => Ok(true),
        Some(v) if v == "false" || v == "0" => Ok(false),
        Some(v) => Err(ApiError::BadRequest(format!(
            "{name} must be true or false, not {v:?}"
        ))),
    }
}

/// The top level of a service, for `minimal=true`: no nested objects or lists.
fn minimal(record: Value) -> Value {
    match record {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_object() && !v.is_array())
                .collect(),
        ),
        other => other,
    }
}

/// The service filters shared by `/services` and `/service_at_locations`.
fn service_query(params: &HashMap<String, String>) -> Result<ServiceQuery, ApiError> {
    let text = |k: &str| params.get(k).filter(|v| !v.trim().is_empty()).cloned();
    let (page, per_page) = paging(params)?;
    Ok(ServiceQuery {
        search: text("search"),
        organization_id: text("organization_id"),
        taxonomy_term_id: text("taxonomy_term_id"),
        taxonomy_id: text("taxonomy_id"),
        modified_after: modified_after(params)?,
        page,
        per_page,
        today: Some(today()),
    })
}

/// The day services are marked fresh or "may be out of date" on ([`oruk::OUT_OF_DATE_MARK`]):
/// today in UTC, as the app judges it, read per request, so the mark moves with the calendar
/// while the stored texts stay as they are.
///
/// [`oruk::OUT_OF_DATE_MARK`]: signpost_directory::oruk::OUT_OF_DATE_MARK
fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `GET /services`: a page of services, filtered.
pub async fn services(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<JsonText, ApiError> {
    let minimal_view = flag(&params, "minimal")?;
    let query = service_query(&params)?;
    let (page, per_page) = (query.page, query.per_page);
    let mut result = state
        .with_directory(move |d| Ok(d.service_page(&query)?))
        .await?;
    if minimal_view {
        result.items = result
            .items
            .iter()
            .map(|text| Ok(json_text(&minimal(parsed(text)?))))
            .collect::<Result<_, ApiError>>()?;
    }
    Ok(envelope(page, per_page, result))
}

/// A record the directory gave as text, parsed (only for the rare views that reshape one).
fn parsed(text: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored ORUK text: {e}")))
}

fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serialises")
}

/// A JSON body already written: records the directory keeps as ORUK text go out as they are,
/// without being parsed and serialised again.
pub struct JsonText(Vec<u8>);

impl IntoResponse for JsonText {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

/// One record of `kind` by id; a 404 names the kind.
async fn one<F>(state: AppState, kind: &'static str, f: F) -> Result<Json<Value>, ApiError>
where
    F: FnOnce(&Directory) -> signpost_directory::Result<Value> + Send + 'static,
{
    let missing = ApiError::looking_for(kind, "id");
    Ok(Json(
        state.with_directory(move |d| f(d).map_err(missing)).await?,
    ))
}

/// One record of `kind` by id, as the directory's ORUK text; a 404 names the kind.
async fn one_text<F>(state: AppState, kind: &'static str, f: F) -> Result<JsonText, ApiError>
where
    F: FnOnce(&Directory) -> signpost_directory::Result<String> + Send + 'static,
{
    let missing = ApiError::looking_for(kind, "id");
    let text = state.with_directory(move |d| f(d).map_err(missing)).await?;
    Ok(JsonText(text.into_bytes()))
}

/// One page of a list, in the ORUK envelope.
async fn paged<F>(state: AppState, page: u64, per_page: u64, f: F) -> Result<JsonText, ApiError>
where
    F: FnOnce(&Directory) -> signpost_directory::Result<Page> + Send + 'static,
{
    let result = state.with_directory(move |d| Ok(f(d)?)).await?;
    Ok(envelope(
        page,
        per_page,
        OrukPage {
            total_items: result.total_items,
            items: result.items.iter().map(json_text).collect(),
        },
    ))
}

/// The ORUK paged envelope, written around the records' texts: the bytes `serde_json` makes of
/// the same envelope as a `Value` (keys sorted), without the records being parsed into one.
fn envelope(page: u64, per_page: u64, result: OrukPage) -> JsonText {
    use std::io::Write;
    let total_pages = result.total_items.div_ceil(per_page).max(1);
    let records: usize = result.items.iter().map(|i| i.len() + 1).sum();
    let mut body = Vec::with_capacity(records + 200);
    body.extend_from_slice(b"{\"contents\":[");
    for (i, item) in result.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.as_bytes());
    }
    write!(
        body,
        "],\"empty\":{},\"first_page\":{},\"last_page\":{},\"page_number\":{page},\"size\":{per_page},\"total_items\":{},\"total_pages\":{total_pages}}}",
        result.items.is_empty(),
        page == 1,
        page >= total_pages,
        result.total_items,
    )
    .expect("writing to a Vec cannot fail");
    JsonText(body)
}

fn list_query(params: &HashMap<String, String>) -> Result<ListQuery, ApiError> {
    let text = |k: &str| params.get(k).filter(|v| !v.trim().is_empty()).cloned();
    let (page, per_page) = paging(params)?;
    Ok(ListQuery {
        search: text("search"),
        taxonomy_id: text("taxonomy_id"),
        parent_id: text("parent_id"),
        top_only: flag(params, "top_only")?,
        page,
        per_page,
    })
}

/// `GET /taxonomies`.
pub async fn taxonomies(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<JsonText, ApiError> {
    let q = list_query(&params)?;
    let (page, per_page) = (q.page, q.per_page);
    paged(state, page, per_page, move |d| d.taxonomy_page(&q)).await
}

/// `GET /taxonomies/{id}`.
pub async fn taxonomy(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    one(state, "taxonomy", move |d| d.taxonomy(&id)).await
}

/// `GET /taxonomy_terms`.
pub async fn taxonomy_terms(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<JsonText, ApiError> {
    let q = list_query(&params)?;
    let (page, per_page) = (q.page, q.per_page);
    paged(state, page, per_page, move |d| d.taxonomy_term_page(&q)).await
}

/// `GET /taxonomy_terms/{id}`.
pub async fn taxonomy_term(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    one(state, "taxonomy term", move |d| d.taxonomy_term(&id)).await
}

/// `GET /organizations`.
pub async fn organizations(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<JsonText, ApiError> {
    let q = list_query(&params)?;
    let (page, per_page) = (q.page, q.per_page);
    paged(state, page, per_page, move |d| d.organization_page(&q)).await
}

/// `GET /organizations/{id}`.
pub async fn organization(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    one(state, "organization", move |d| d.organization(&id)).await
}

/// `GET /services/{id}`: one fully nested service.
pub async fn service(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<JsonText, ApiError> {
    one_text(state, "service", move |d| {
        d.oruk_service_on(&id, Some(today()))
    })
    .await
}

/// `postcode` and `proximity` (metres) as a search circle.
fn proximity(params: &HashMap<String, String>) -> Result<Option<Proximity>, ApiError> {
    let radius_m = match params.get("proximity") {
        None => DEFAULT_PROXIMITY_M,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(m) if m > 0.0 && m <= MAX_PROXIMITY_M => m,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "proximity must be a distance in metres from 1 to {MAX_PROXIMITY_M}, not {v:?}"
                )))
            }
        },
    };
    match params.get("postcode").filter(|p| !p.trim().is_empty()) {
        None if params.contains_key("proximity") => Err(ApiError::BadRequest(
            "proximity needs a postcode to measure from".into(),
        )),
        None => Ok(None),
        Some(pc) => {
            let at = signpost_postcodes::Gazetteer::embedded()
                .resolve(pc)
                .map_err(|e| ApiError::BadRequest(format!("postcode: {e}")))?;
            Ok(Some(Proximity {
                latitude: at.latitude,
                longitude: at.longitude,
                radius_m,
            }))
        }
    }
}

/// `GET /service_at_locations`: nearest first with `postcode` (and `proximity`), else by id.
pub async fn service_at_locations(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<JsonText, ApiError> {
    let query = service_query(&params)?;
    let near = proximity(&params)?;
    let (page, per_page) = (query.page, query.per_page);
    let result = state
        .with_directory(move |d| Ok(d.service_at_location_page(&query, near)?))
        .await?;
    Ok(envelope(page, per_page, result))
}

/// `GET /service_at_locations/{id}`.
pub async fn service_at_location(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<JsonText, ApiError> {
    one_text(state, "service_at_location", move |d| {
        d.oruk_service_at_location_on(&id, Some(today()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The envelope written around texts is byte for byte what serialising it as a `Value`
    /// made, for empty, first, middle and last pages.
    #[test]
    fn the_written_envelope_is_the_serialised_one() {
        let records = [
            json!({"id": "a", "name": "Ä \"quoted\" \u{2028}", "n": 1.5}),
            json!({"id": "b", "nested": {"z": [], "a": null}}),
        ];
        for (page, per_page, total_items, items) in [
            (1, 50, 0, &records[..0]),
            (1, 2, 5, &records[..]),
            (2, 2, 5, &records[..]),
            (3, 2, 5, &records[..1]),
        ] {
            let written = envelope(
                page,
                per_page,
                OrukPage {
                    total_items,
                    items: items.iter().map(json_text).collect(),
                },
            );
            let total_pages = u64::div_ceil(total_items, per_page).max(1);
            let value = json!({
                "total_items": total_items,
                "total_pages": total_pages,
                "page_number": page,
                "size": per_page,
                "first_page": page == 1,
                "last_page": page >= total_pages,
                "empty": items.is_empty(),
                "contents": items,
            });
            assert_eq!(
                String::from_utf8(written.0).unwrap(),
                serde_json::to_string(&value).unwrap()
            );
        }
    }
}
