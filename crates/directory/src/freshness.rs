//! Freshness: a listing whose publisher last checked it (HSDS `assured_date`) over a year ago
//! "may be out of date". One rule for every front end: the app's badges, the ORUK API's mark and
//! the order of listings at equal distance. A listing that does not say is not flagged.
use chrono::{Datelike, NaiveDate};

/// A listing checked more than this many days ago may be out of date.
pub const STALE_AFTER_DAYS: i64 = 365;

/// The day an `assured_date` names (its first ten characters, `YYYY-MM-DD`), if it names one.
pub fn checked_on(assured_date: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(assured_date.get(..10)?, "%Y-%m-%d").ok()
}

/// Whether a listing last checked on `assured_date` may be out of date on `today`.
pub fn may_be_out_of_date(assured_date: Option<&str>, today: NaiveDate) -> bool {
    assured_date
        .and_then(checked_on)
        .is_some_and(|checked| (today - checked).num_days() > STALE_AFTER_DAYS)
}

/// A day as a number (days from the common era), as the search index keeps check dates.
pub fn day_number(day: NaiveDate) -> i32 {
    day.num_days_from_ce()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_a_year_is_stale_and_unstated_is_not() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        assert!(!may_be_out_of_date(Some("2025-06-01"), today), "365 days");
        assert!(may_be_out_of_date(Some("2025-05-31"), today), "366 days");
        assert!(may_be_out_of_date(Some("2025-05-31T09:00:00Z"), today));
        assert!(!may_be_out_of_date(None, today));
        assert!(!may_be_out_of_date(Some("soon"), today));
    }
}
