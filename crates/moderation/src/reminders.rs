//! Freshness: a listing its publisher has not checked for 10, 11 and 12 months gets a reminder
//! at each step, once; after 12 months it is stale. Which reminders are due is worked out here
//! from the published directory and what was already sent; sending is the caller's (SMTP, or an
//! outbox folder when no mail server is set).
use chrono::{Months, NaiveDate};
use rusqlite::params;
use serde::Serialize;
use signpost_directory::Directory;

use crate::error::Result;
use crate::store::Moderation;

/// The steps, in months since the last check.
pub const STEPS: [u32; 3] = [10, 11, 12];

/// A reminder to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Due {
    /// The listing.
    pub service_id: String,
    /// Its name.
    pub name: String,
    /// Who to write to.
    pub email: String,
    /// When it was last checked.
    pub assured_date: NaiveDate,
    /// Which step: 10, 11 or 12 months.
    pub months: u32,
}

/// A listing not checked for over 12 months.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stale {
    /// The listing.
    pub service_id: String,
    /// Its name.
    pub name: String,
    /// When it was last checked, if ever.
    pub assured_date: Option<NaiveDate>,
    /// Who could be asked, if anyone.
    pub email: Option<String>,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Whole months from `from` to `to`.
fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    (1..)
        .take_while(|m| {
            from.checked_add_months(Months::new(*m))
                .is_some_and(|d| d <= to)
        })
        .last()
        .unwrap_or(0)
}

impl Moderation {
    /// The reminders due on `today`: for each listing with a check date and an email, the
    /// highest step it has reached, unless that step was already sent for that check date.
    /// (A listing that was 11 months old when reminders began gets one reminder, not two.)
    pub fn reminders_due(&self, dir: &Directory, today: NaiveDate) -> Result<Vec<Due>> {
        let mut out = Vec::new();
        let mut sent = self.conn().prepare_cached(
            "SELECT max(months) FROM reminder WHERE service_id = ?1 AND assured_date = ?2",
        )?;
        for f in dir.freshness()? {
            let (Some(assured), Some(email)) = (f.assured_date.as_deref().and_then(date), f.email)
            else {
                continue;
            };
            let age = months_between(assured, today);
            let Some(step) = STEPS.iter().rev().find(|s| age >= **s).copied() else {
                continue;
            };
            let last: Option<u32> =
                sent.query_row(params![f.service_id, assured.to_string()], |r| r.get(0))?;
            if last.is_some_and(|l| l >= step) {
                continue;
            }
            out.push(Due {
                service_id: f.service_id,
                name: f.name,
                email,
                assured_date: assured,
                months: step,
            });
        }
        Ok(out)
    }

    /// Note that a reminder went (`how`: `smtp` or `outbox`), so it is not sent again.
    pub fn reminder_sent(
        &self,
        due: &Due,
        how: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO reminder(service_id, assured_date, months, sent_at, sent_to, how)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                due.service_id,
                due.assured_date.to_string(),
                due.months,
                at.to_rfc3339(),
                due.email,
                how
            ],
        )?;
        Ok(())
    }

    /// Listings not checked for over 12 months (or never), for moderators to follow up.
    pub fn stale(&self, dir: &Directory, today: NaiveDate) -> Result<Vec<Stale>> {
        Ok(dir
            .freshness()?
            .into_iter()
            .filter_map(|f| {
                let assured = f.assured_date.as_deref().and_then(date);
                let stale = assured.is_none_or(|a| months_between(a, today) >= 12);
                stale.then_some(Stale {
                    service_id: f.service_id,
                    name: f.name,
                    assured_date: assured,
                    email: f.email,
                })
            })
            .collect())
    }
}

/// The reminder's words. With the feed's public address (`https://feed.example.org`), they
/// link to the listing's page of the groups' web form, `/group/{service_id}`, where the group can
/// say it is still running or send an update.
pub fn letter(due: &Due, public_url: Option<&str>) -> (String, String) {
    let subject = format!("Is “{}” still running? Please check its listing", due.name);
    let web = match public_url.map(|u| u.trim_end_matches('/')) {
        Some(base) => format!(
            "You can do either on the web, without the app: open\n\n  {base}/group/{id}\n\n\
             and press “This is still running, nothing changed”, or change what needs changing \
             and send the update.\n\n",
            id = path_segment(&due.service_id),
        ),
        None => String::new(),
    };
    let body = format!(
        "Hello,\n\n\
         Your listing “{name}” in the community directory was last checked on {checked}, {months} \
         months ago. People use it to find groups like yours, so please check it is still right.\n\n\
         If nothing has changed, reply to say it is still running. If something has, send the \
         update from the Signpost app (“Your group”, then “This is our group: update it” on your \
         listing), or reply with the changes.\n\n\
         {web}\
         After 12 months without a check, the listing is marked “may be out of date”.\n\n\
         Listing id: {id}\n",
        name = due.name,
        checked = due.assured_date.format("%-d %B %Y"),
        months = due.months,
        id = due.service_id,
    );
    (subject, body)
}

/// A listing id as one segment of a URL path: every byte but the unreserved characters of
/// RFC 3986 percent-encoded, so an id with `/`, `?`, `#` or spaces still names one listing.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_letter_links_to_the_listings_web_page() {
        let due = Due {
            service_id: "walks/park 1".into(),
            name: "Park walk".into(),
            email: "walks@example.org".into(),
            assured_date: NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
            months: 10,
        };
        let (_, body) = letter(&due, Some("https://feed.example.org/"));
        assert!(
            body.contains("https://feed.example.org/group/walks%2Fpark%201\n"),
            "{body}"
        );
        assert!(body.contains("This is still running, nothing changed"));
        let (_, plain) = letter(&due, None);
        assert!(!plain.contains("/group/"));
    }
}
