//! What the directory now says about a listing someone is connected to: after a sync closes,
//! removes or flags it, every person connected to it shows it.
use chrono::NaiveDate;
use serde::Serialize;
use signpost_directory::Directory;

use crate::error::Result;
use crate::model::{Connection, ListingState};
use crate::store::Caseload;

/// Days after its publisher last checked it that a listing is flagged.
pub const STALE_AFTER_DAYS: i64 = 365;

/// The state of one listing, by id, on `today`.
pub fn listing_state(dir: &Directory, service_id: &str, today: NaiveDate) -> Result<ListingState> {
    let detail = match dir.listing(service_id) {
        Ok(d) => d,
        Err(signpost_directory::Error::NotFound(_)) => return Ok(ListingState::Removed),
        Err(e) => return Err(e.into()),
    };
    let s = &detail.service;
    match s.status.as_str() {
        "inactive" | "defunct" => return Ok(ListingState::Closed(s.status.clone())),
        "temporarily closed" => {
            return Ok(ListingState::Flagged("temporarily closed".into()));
        }
        _ => {}
    }
    if let Some(checked) = s
        .assured_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d").ok())
    {
        if (today - checked).num_days() > STALE_AFTER_DAYS {
            return Ok(ListingState::Flagged(format!(
                "not checked by its publisher since {}",
                checked.format("%-d %B %Y")
            )));
        }
    }
    Ok(ListingState::Listed)
}

/// A connection with what the directory now says about its listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchedConnection {
    /// The connection.
    #[serde(flatten)]
    pub connection: Connection,
    /// Its person's name.
    pub person_name: String,
    /// The listing's state.
    pub state: ListingState,
}

/// Every connection whose listing is no longer simply listed (closed, removed or flagged):
/// what a connector checks after a sync. Stopped and declined connections are left out.
pub fn needing_attention(
    caseload: &Caseload,
    dir: &Directory,
    today: NaiveDate,
) -> Result<Vec<WatchedConnection>> {
    use crate::model::ConnectionStatus::{Declined, Stopped};
    let mut out = Vec::new();
    for c in caseload.all_connections()? {
        if matches!(c.status(), Stopped | Declined) {
            continue;
        }
        let state = listing_state(dir, &c.service_id, today)?;
        if state != ListingState::Listed {
            let person_name = caseload.person(&c.person_id)?.details.name;
            out.push(WatchedConnection {
                connection: c,
                person_name,
                state,
            });
        }
    }
    Ok(out)
}
