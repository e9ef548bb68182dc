//! When a listing is open: HSDS schedules evaluated in UK local time, and said in plain English.
//!
//! An HSDS schedule is an RFC 5545 recurrence (`freq`, `interval`, `byday`, `bymonthday`,
//! `dtstart`, `until`, `count`) of *days*, plus local opening hours (`opens_at`, `closes_at`)
//! and a validity window. Signpost asks the `rrule` crate which days recur, and turns the day
//! plus the local hours into instants with `chrono-tz`'s Europe/London rules, so a session at
//! 10:00 is at 10:00 on both sides of a clock change, and an instant inside the spring-forward
//! gap or the repeated autumn hour is handled by the time zone database, not by arithmetic.
//!
//! A cheap weekday test runs first and only days that pass it are put to `rrule`; it can only
//! say "no", never "yes", so it never changes an answer.
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;
use rrule::{Frequency, NWeekday, RRule, RRuleSet, Unvalidated};

use crate::model::ScheduleRecord;

/// An evaluable schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    freq: Frequency,
    interval: u16,
    byday: Vec<(Option<i16>, Weekday)>,
    bymonthday: Vec<i8>,
    dtstart: Option<NaiveDate>,
    until: Option<NaiveDate>,
    count: Option<u32>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    /// Whether the rule is one RFC 5545 allows; when not, "open now" and "next session" are
    /// unknown.
    placeable: bool,
    /// Minutes after local midnight, 0..=1440.
    opens: Option<u16>,
    closes: Option<u16>,
    description: Option<String>,
}

/// A schedule as calendar events: the first session, in UK local time, and how it repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSeries {
    /// Start of the first session (Europe/London local time).
    pub start: chrono::NaiveDateTime,
    /// Its end (Europe/London local time).
    pub end: chrono::NaiveDateTime,
    /// The RFC 5545 RRULE value, e.g. `FREQ=MONTHLY;BYDAY=2TH`.
    pub rrule: String,
    /// The schedule in plain English.
    pub description: String,
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    let s = s.as_deref()?;
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn minutes(s: &Option<String>) -> Option<u16> {
    let s = s.as_deref()?.trim();
    let (h, rest) = s.split_once(':')?;
    let h: u16 = h.parse().ok()?;
    let m: u16 = rest.get(..2)?.parse().ok()?;
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

fn weekday(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// The RFC 5545 code of a weekday (`MO` …), the inverse of [`weekday`].
fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn parse_byday(s: &str) -> Option<Vec<(Option<i16>, Weekday)>> {
    s.split(',')
        .map(|part| {
            let part: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            let part = part.to_ascii_uppercase();
            let (n, day) = part.split_at(part.len().checked_sub(2)?);
            let n = match n {
                "" | "+" => None,
                n => Some(n.parse::<i16>().ok()?),
            };
            Some((n, weekday(day)?))
        })
        .collect()
}

/// The local instant of `minutes` after midnight on `day`. In the spring-forward gap the
/// instant is taken one hour later (when the clock shows that time again); in the autumn's
/// repeated hour, the first occurrence.
fn local_instant(day: NaiveDate, minutes: u16) -> DateTime<Utc> {
    let naive =
        day.and_hms_opt(0, 0, 0).expect("midnight exists") + Duration::minutes(minutes as i64);
    match London.from_local_datetime(&naive).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => London
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive)),
    }
}

/// An instant prepared for asking many schedules whether they are open then: its London day
/// and minute, worked out once rather than per schedule (the time zone conversions were most of
/// an "open now" search's cost). On and just after a day the clocks change, minutes after
/// midnight are not a clock, and each schedule is asked the exact way instead.
#[derive(Debug, Clone, Copy)]
pub struct Moment {
    t: DateTime<Utc>,
    today: NaiveDate,
    minute: u16,
    /// Yesterday and today both had 24 hours.
    regular: bool,
}

impl Moment {
    /// Prepare `t`.
    pub fn new(t: DateTime<Utc>) -> Moment {
        let local = t.with_timezone(&London);
        let today = local.date_naive();
        let hours = |d: NaiveDate| local_instant(d + Duration::days(1), 0) - local_instant(d, 0);
        let yesterday = today - Duration::days(1);
        Moment {
            t,
            today,
            minute: (chrono::Timelike::hour(&local) * 60 + chrono::Timelike::minute(&local)) as u16,
            regular: hours(yesterday) == Duration::hours(24) && hours(today) == Duration::hours(24),
        }
    }

    /// The instant.
    pub fn instant(&self) -> DateTime<Utc> {
        self.t
    }

    /// Its local (UK) weekday.
    pub fn weekday(&self) -> Weekday {
        self.today.weekday()
    }
}

impl Schedule {
    /// [`Schedule::is_open_at`] for a prepared instant: the same answer, with no time zone
    /// conversion on an ordinary day.
    pub fn is_open_at_moment(&self, m: &Moment) -> Option<bool> {
        let opens = self.opens.filter(|_| self.placeable)?;
        if !m.regular {
            return self.is_open_at(m.t);
        }
        let open_today = match self.closes {
            Some(c) if c > opens => opens <= m.minute && m.minute < c,
            // Overnight, or no closing time: from opening to midnight today.
            _ => opens <= m.minute,
        };
        if open_today && self.occurs_on(m.today) {
            return Some(true);
        }
        // An overnight session that began yesterday.
        let from_yesterday = self.closes.is_some_and(|c| {
            c <= opens && m.minute < c && self.occurs_on(m.today - Duration::days(1))
        });
        Some(from_yesterday)
    }

    /// Read a stored schedule. `None` when it has no recurrence Signpost can evaluate (only a
    /// free-text description, say); such listings report `open_now: null`.
    pub fn from_record(r: &ScheduleRecord) -> Option<Schedule> {
        let byday = match r.byday.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => parse_byday(s)?,
            None => Vec::new(),
        };
        let freq = match r.freq.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("DAILY") => Frequency::Daily,
            Some("WEEKLY") => Frequency::Weekly,
            Some("MONTHLY") => Frequency::Monthly,
            Some("YEARLY") => Frequency::Yearly,
            // byday with no freq is how many feeds say "every Tuesday".
            None if !byday.is_empty() => Frequency::Weekly,
            _ => return None,
        };
        let bymonthday = r
            .bymonthday
            .as_deref()
            .map(|s| {
                s.split(',')
                    .filter_map(|d| d.trim().parse::<i8>().ok())
                    .collect()
            })
            .unwrap_or_default();
        let s = Schedule {
            freq,
            interval: r.interval.unwrap_or(1).clamp(1, 1000) as u16,
            byday,
            bymonthday,
            dtstart: date(&r.dtstart),
            until: date(&r.until),
            count: r.count,
            valid_from: date(&r.valid_from),
            valid_to: date(&r.valid_to),
            opens: minutes(&r.opens_at),
            closes: minutes(&r.closes_at),
            description: r.description.clone(),
            placeable: true,
        };
        // Without an anchor, "every 4 weeks" or "yearly" cannot be placed on a calendar.
        let needs_anchor = s.interval > 1
            || s.count.is_some()
            || matches!(s.freq, Frequency::Yearly)
            || (matches!(s.freq, Frequency::Weekly) && s.byday.is_empty())
            || (matches!(s.freq, Frequency::Monthly)
                && s.byday.is_empty()
                && s.bymonthday.is_empty());
        if needs_anchor && s.dtstart.is_none() {
            return None;
        }
        // A rule RFC 5545 forbids can be described but not placed: an ordinal weekday ("2TU")
        // outside a monthly or yearly rule, or month day 0 (`rrule` accepts both, with answers
        // that hang on the start), or one `rrule` refuses (BYMONTHDAY in a weekly rule, as in
        // the HSDS example). Its days are unknown; they were read as "closed".
        let ordinal = s.byday.iter().any(|(n, _)| n.is_some());
        let any_day = NaiveDate::from_ymd_opt(2000, 1, 3).expect("valid date");
        let placeable = (!ordinal || matches!(s.freq, Frequency::Monthly | Frequency::Yearly))
            && !s.bymonthday.contains(&0)
            && s.rrule_set(s.dtstart.unwrap_or(any_day)).is_some();
        Some(Schedule { placeable, ..s })
    }

    /// Whether it may be open at some time on local weekday `day`: it may recur on that
    /// weekday, or run past midnight from one it may recur on. Cheap and never wrong when it
    /// says no, so a search for "open now" need only look at such places.
    pub fn may_be_open_on(&self, day: Weekday) -> bool {
        let Some(opens) = self.opens.filter(|_| self.placeable) else {
            return false;
        };
        let recurs_on = |wd: Weekday| {
            if !self.byday.is_empty() {
                return self.byday.iter().any(|(_, d)| *d == wd);
            }
            match self.freq {
                Frequency::Weekly => self.dtstart.is_none_or(|s| s.weekday() == wd),
                _ => true,
            }
        };
        let overnight = self.closes.is_some_and(|c| c <= opens);
        recurs_on(day) || (overnight && recurs_on(day.pred()))
    }

    /// Whether it states opening hours (without them, "open now" cannot be answered).
    pub fn has_hours(&self) -> bool {
        self.opens.is_some()
    }

    fn in_window(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| day >= f)
            && self.valid_to.is_none_or(|t| day <= t)
            && self.until.is_none_or(|u| day <= u)
            && self.dtstart.is_none_or(|s| day >= s)
    }

    /// A necessary condition for `day` to recur: cheap, and never wrong when it says no.
    fn might_recur_on(&self, day: NaiveDate) -> bool {
        let wd = day.weekday();
        if !self.byday.is_empty() && !self.byday.iter().any(|(_, d)| *d == wd) {
            return false;
        }
        match self.freq {
            Frequency::Weekly if self.byday.is_empty() => {
                self.dtstart.is_some_and(|s| s.weekday() == wd)
            }
            Frequency::Monthly if self.byday.is_empty() => {
                self.bymonthday.iter().any(|&m| {
                    let last = last_day_of_month(day);
                    (m > 0 && day.day() == m as u32)
                        || (m < 0 && (last as i32 + 1 + m as i32) == day.day() as i32)
                }) || (self.bymonthday.is_empty()
                    && self.dtstart.is_some_and(|s| s.day() == day.day()))
            }
            _ => true,
        }
    }

    /// A DTSTART for asking about `day` that gives exactly the answers the real DTSTART gives,
    /// but is close to `day`, so the `rrule` iterator does not walk years of past sessions.
    ///
    /// Moving DTSTART by a whole number of periods (`interval` weeks, months or days) keeps
    /// every later occurrence where it was; only a `COUNT` ties occurrences to the true start.
    /// Without a `dtstart` (allowed only when the rule does not depend on it), any day before
    /// `day`'s previous month serves.
    fn anchor_for(&self, day: NaiveDate) -> NaiveDate {
        let before = day - Duration::days(45);
        let Some(start) = self.dtstart else {
            return NaiveDate::from_ymd_opt(before.year(), before.month(), 1).expect("valid date");
        };
        if self.count.is_some() || start >= before {
            return start;
        }
        let n = self.interval as i64;
        match self.freq {
            Frequency::Daily => start + Duration::days((before - start).num_days() / n * n),
            Frequency::Weekly => start + Duration::weeks((before - start).num_days() / 7 / n * n),
            Frequency::Monthly if !self.byday.is_empty() || !self.bymonthday.is_empty() => {
                let months = (before.year() - start.year()) as i64 * 12 + before.month() as i64
                    - start.month() as i64;
                let shift = months / n * n;
                let index = start.year() as i64 * 12 + start.month() as i64 - 1 + shift;
                // The first of the month: in a BYDAY/BYMONTHDAY rule the start's own day only
                // excludes dates before it in its month, and that month is before `day`'s.
                NaiveDate::from_ymd_opt((index / 12) as i32, (index % 12 + 1) as u32, 1)
                    .unwrap_or(start)
            }
            _ => start,
        }
    }

    fn rrule_set(&self, day: NaiveDate) -> Option<RRuleSet> {
        let anchor = self.anchor_for(day);
        let tz = rrule::Tz::Tz(London);
        let start = tz
            .with_ymd_and_hms(anchor.year(), anchor.month(), anchor.day(), 12, 0, 0)
            .single()?;
        let mut rule: RRule<Unvalidated> = RRule::new(self.freq).interval(self.interval);
        if !self.byday.is_empty() {
            rule = rule.by_weekday(
                self.byday
                    .iter()
                    .map(|&(n, d)| NWeekday::new(n, d))
                    .collect(),
            );
        }
        if !self.bymonthday.is_empty() {
            rule = rule.by_month_day(self.bymonthday.clone());
        }
        if let Some(c) = self.count {
            rule = rule.count(c);
        }
        rule.build(start).ok()
    }

    /// Whether a session falls on this local calendar day.
    pub fn occurs_on(&self, day: NaiveDate) -> bool {
        if !self.in_window(day) || !self.might_recur_on(day) {
            return false;
        }
        // Every week (or every day) with no count and no "nth weekday": the cheap test above
        // is then exact, and building an rrule set per day (most of a suggestion's cost) is
        // not needed. The directory's reference tests hold this to `rrule` too.
        if self.interval == 1
            && self.count.is_none()
            && self.byday.iter().all(|(n, _)| n.is_none())
            && self.bymonthday.is_empty()
            && matches!(self.freq, Frequency::Daily | Frequency::Weekly)
        {
            return true;
        }
        let Some(set) = self.rrule_set(day) else {
            return false;
        };
        let tz = rrule::Tz::Tz(London);
        let Some(noon) = tz
            .with_ymd_and_hms(day.year(), day.month(), day.day(), 12, 0, 0)
            .single()
        else {
            return false;
        };
        !set.after(noon).before(noon).all(1).dates.is_empty()
    }

    /// The session (start, end) that starts on `day`, as instants.
    fn session(&self, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let opens = self.opens?;
        let start = local_instant(day, opens);
        let end = match self.closes {
            Some(c) if c > opens => local_instant(day, c),
            // Closing at or before opening means it runs past midnight.
            Some(c) => local_instant(day + Duration::days(1), c),
            // No closing time given: open until the end of the day.
            None => local_instant(day, 1440),
        };
        Some((start, end))
    }

    /// Open at instant `t`? `None` when the schedule gives no hours.
    pub fn is_open_at(&self, t: DateTime<Utc>) -> Option<bool> {
        let opens = self.opens.filter(|_| self.placeable)?;
        let today = t.with_timezone(&London).date_naive();
        let overnight = self.closes.is_some_and(|c| c <= opens);
        let days: &[NaiveDate] = if overnight {
            &[today, today - Duration::days(1)]
        } else {
            &[today]
        };
        Some(
            days.iter().any(|&d| {
                self.session(d).is_some_and(|(s, e)| s <= t && t < e) && self.occurs_on(d)
            }),
        )
    }

    /// The start of the next session ending after `t`, looking up to `horizon_days` ahead.
    pub fn next_session(
        &self,
        t: DateTime<Utc>,
        horizon_days: u32,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.opens.filter(|_| self.placeable)?;
        let today = t.with_timezone(&London).date_naive();
        (0..=horizon_days as i64)
            .map(|i| today + Duration::days(i))
            .filter(|d| self.in_window(*d) && self.might_recur_on(*d))
            .filter_map(|d| self.session(d).filter(|(_, e)| *e > t).map(|s| (d, s)))
            .find(|(d, _)| self.occurs_on(*d))
            .map(|(_, s)| s)
    }

    /// Every session that starts on one of the `days` local days from `t`'s day and ends after
    /// `t`, in order: what a connector matches against a person's free times.
    pub fn sessions_from(
        &self,
        t: DateTime<Utc>,
        days: u32,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.opens.filter(|_| self.placeable).is_none() {
            return Vec::new();
        }
        let today = t.with_timezone(&London).date_naive();
        (0..days as i64)
            .map(|i| today + Duration::days(i))
            .filter(|d| self.in_window(*d) && self.might_recur_on(*d))
            .filter_map(|d| self.session(d).filter(|(_, e)| *e > t).map(|s| (d, s)))
            .filter(|(d, _)| self.occurs_on(*d))
            .map(|(_, s)| s)
            .collect()
    }

    /// This schedule as a calendar event series starting with its next session after `t`, for
    /// "add to my calendar". `None` when it has no hours or no session in the coming year.
    ///
    /// The series starts on a real session, so an `INTERVAL` keeps its phase. The RRULE text is
    /// written here rather than by `rrule`'s `Display`, which prints an ordinal of 1 as a bare
    /// weekday (`1MO` as `MO`) and so would turn "first Monday" into "every Monday".
    pub fn calendar_series(&self, t: DateTime<Utc>) -> Option<CalendarSeries> {
        let (start, end) = self.next_session(t, 400)?;
        let mut rule = format!("FREQ={}", self.freq);
        if self.interval > 1 {
            rule.push_str(&format!(";INTERVAL={}", self.interval));
        }
        if !self.byday.is_empty() {
            let days: Vec<String> = self
                .byday
                .iter()
                .map(|(n, d)| match n {
                    Some(n) => format!("{n}{}", weekday_code(*d)),
                    None => weekday_code(*d).to_string(),
                })
                .collect();
            rule.push_str(&format!(";BYDAY={}", days.join(",")));
        }
        if !self.bymonthday.is_empty() {
            let days: Vec<String> = self.bymonthday.iter().map(|d| d.to_string()).collect();
            rule.push_str(&format!(";BYMONTHDAY={}", days.join(",")));
        }
        let last_day = match (self.until, self.valid_to) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(last) = last_day {
            // UNTIL is in UTC when DTSTART has a time zone; the end of that local day.
            let until = local_instant(last, 1440);
            rule.push_str(&format!(";UNTIL={}", until.format("%Y%m%dT%H%M%SZ")));
        }
        Some(CalendarSeries {
            start: start.with_timezone(&London).naive_local(),
            end: end.with_timezone(&London).naive_local(),
            rrule: rule,
            description: self.describe(),
        })
    }

    /// Plain English, e.g. "Tuesdays 10:00–12:00" or "first Saturday of the month 09:00–12:00".
    pub fn describe(&self) -> String {
        let days = self.describe_days();
        let hours = match (self.opens, self.closes) {
            (Some(o), Some(c)) => format!(" {}–{}", hhmm(o), hhmm(c)),
            (Some(o), None) => format!(" from {}", hhmm(o)),
            _ => String::new(),
        };
        let mut out = format!("{days}{hours}");
        let today = Utc::now().with_timezone(&London).date_naive();
        if let Some(from) = self.valid_from.filter(|f| *f > today) {
            out.push_str(&format!(" (from {})", long_date(from)));
        }
        if let Some(to) = self.valid_to.or(self.until) {
            out.push_str(&format!(" (until {})", long_date(to)));
        }
        out
    }

    fn describe_days(&self) -> String {
        let names: Vec<&str> = self.byday.iter().map(|(_, d)| day_name(*d)).collect();
        let ordinals: Vec<Option<i16>> = self.byday.iter().map(|(n, _)| *n).collect();
        match self.freq {
            Frequency::Daily if self.interval == 1 => "every day".into(),
            Frequency::Daily => format!("every {} days", self.interval),
            Frequency::Weekly => {
                let days = if names.is_empty() {
                    self.dtstart
                        .map(|d| day_name(d.weekday()))
                        .unwrap_or("week")
                        .to_string()
                } else {
                    names
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                match self.interval {
                    1 if names.len() >= 3 && is_run(&self.byday) => {
                        format!("{} to {}", names[0], names[names.len() - 1])
                    }
                    1 => english_list(&names.iter().map(|n| format!("{n}s")).collect::<Vec<_>>()),
                    2 => format!("every other {}", english_list_str(&days)),
                    n => format!(
                        "every {} {}",
                        ordinal_word(n as i16),
                        english_list_str(&days)
                    ),
                }
            }
            Frequency::Monthly if !self.byday.is_empty() => {
                let same_day = names.windows(2).all(|w| w[0] == w[1]);
                let every = if self.interval > 1 {
                    format!("every {} months", self.interval)
                } else {
                    "the month".into()
                };
                if same_day && ordinals.iter().all(Option::is_some) {
                    let which: Vec<String> = ordinals
                        .iter()
                        .map(|n| ordinal_word(n.unwrap_or(1)))
                        .collect();
                    format!("{} {} of {every}", english_list(&which), names[0])
                } else {
                    let parts: Vec<String> = self
                        .byday
                        .iter()
                        .map(|(n, d)| match n {
                            Some(n) => format!("{} {}", ordinal_word(*n), day_name(*d)),
                            None => format!("every {}", day_name(*d)),
                        })
                        .collect();
                    format!("{} of {every}", english_list(&parts))
                }
            }
            Frequency::Monthly => {
                let days: Vec<String> = if self.bymonthday.is_empty() {
                    self.dtstart
                        .map(|d| vec![nth(d.day() as i16)])
                        .unwrap_or_default()
                } else {
                    self.bymonthday
                        .iter()
                        .map(|&d| {
                            if d < 0 {
                                "last day".to_string()
                            } else {
                                nth(d as i16)
                            }
                        })
                        .collect()
                };
                format!("on the {} of the month", english_list(&days))
            }
            _ => self.description.clone().unwrap_or_else(|| "yearly".into()),
        }
    }
}

fn is_run(days: &[(Option<i16>, Weekday)]) -> bool {
    days.windows(2).all(|w| w[0].1.succ() == w[1].1)
}

fn last_day_of_month(d: NaiveDate) -> u32 {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .expect("valid date")
        .pred_opt()
        .expect("valid date")
        .day()
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn ordinal_word(n: i16) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        4 => "fourth".into(),
        5 => "fifth".into(),
        -1 => "last".into(),
        -2 => "second to last".into(),
        n => nth(n),
    }
}

fn nth(n: i16) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn english_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn english_list_str(joined: &str) -> String {
    english_list(&joined.split(", ").map(str::to_string).collect::<Vec<_>>())
}

/// Plain English for several schedules: "Tuesdays 10:00–12:00; first Saturday of the month 09:00–12:00".
pub fn describe_all(schedules: &[ScheduleRecord]) -> String {
    let parts: Vec<String> = schedules
        .iter()
        .map(|r| match Schedule::from_record(r) {
            Some(s) => s.describe(),
            None => r
                .description
                .clone()
                .unwrap_or_else(|| "times not given".into()),
        })
        .collect();
    let mut text = parts.join("; ");
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    text
}

/// Open at `t` under any of these schedules? `None` when none of them can say.
pub fn open_at(schedules: &[Schedule], t: DateTime<Utc>) -> Option<bool> {
    open_at_moment(schedules, &Moment::new(t))
}

/// [`open_at`] for a prepared instant, to ask many listings about the same one.
pub fn open_at_moment(schedules: &[Schedule], m: &Moment) -> Option<bool> {
    let mut known = false;
    for s in schedules {
        match s.is_open_at_moment(m) {
            Some(true) => return Some(true),
            Some(false) => known = true,
            None => {}
        }
    }
    known.then_some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        freq: &str,
        interval: u32,
        byday: &str,
        dtstart: &str,
        opens: &str,
        closes: &str,
    ) -> ScheduleRecord {
        ScheduleRecord {
            freq: Some(freq.into()),
            interval: Some(interval),
            byday: (!byday.is_empty()).then(|| byday.into()),
            dtstart: (!dtstart.is_empty()).then(|| dtstart.into()),
            opens_at: Some(opens.into()),
            closes_at: Some(closes.into()),
            ..Default::default()
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn london(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        London
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    /// The prepared-instant path answers exactly as the exact one, every 7 minutes for a year
    /// that spans both clock changes, for weekly, fortnightly, monthly, overnight and
    /// no-closing-time schedules.
    #[test]
    fn a_prepared_instant_answers_as_the_exact_path() {
        let mut no_close = rec("WEEKLY", 1, "SU", "2025-01-05", "01:30", "");
        no_close.closes_at = None;
        let schedules: Vec<Schedule> = [
            rec("WEEKLY", 1, "MO,WE", "2025-01-06", "09:00", "12:30"),
            rec("WEEKLY", 2, "SA", "2025-01-04", "00:30", "02:15"),
            rec("WEEKLY", 1, "SA", "2025-01-04", "22:00", "01:45"),
            rec("WEEKLY", 1, "SU", "2025-01-05", "00:00", "00:00"),
            rec("MONTHLY", 1, "-1SU", "2025-01-01", "01:00", "03:00"),
            no_close,
        ]
        .iter()
        .map(|r| Schedule::from_record(r).unwrap())
        .collect();
        let mut t = utc("2025-01-01T00:00:00Z");
        let end = utc("2026-01-01T00:00:00Z");
        let mut compared = 0;
        while t < end {
            let m = Moment::new(t);
            for s in &schedules {
                assert_eq!(s.is_open_at_moment(&m), s.is_open_at(t), "{s:?} at {t}");
                compared += 1;
            }
            t += Duration::minutes(7);
        }
        assert!(compared > 400_000);
    }

    #[test]
    fn weekly_every_four_weeks_counts_from_dtstart() {
        // Norfolk EDE406, Stoke Ferry: Thursdays every 4 weeks from 2019-08-29, 13:25–14:25.
        let s =
            Schedule::from_record(&rec("WEEKLY", 4, "TH", "2019-08-29", "13:25", "14:25")).unwrap();
        // 2019-08-29 + 4 weeks * k: 2026-11-26 is 379 weeks later? Check by counting.
        let start = NaiveDate::from_ymd_opt(2019, 8, 29).unwrap();
        let mut d = start;
        while d < NaiveDate::from_ymd_opt(2026, 11, 20).unwrap() {
            d += Duration::weeks(4);
        }
        assert!(s.occurs_on(d));
        assert!(!s.occurs_on(d - Duration::weeks(1)));
        assert!(!s.occurs_on(d + Duration::weeks(1)));
        assert!(!s.occurs_on(d + Duration::weeks(2)));
        assert!(s.occurs_on(d + Duration::weeks(4)));
        let open = London
            .from_local_datetime(&d.and_hms_opt(13, 30, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(s.is_open_at(open), Some(true));
        assert_eq!(s.is_open_at(open + Duration::hours(1)), Some(false));
        assert!(
            !s.occurs_on(NaiveDate::from_ymd_opt(2019, 8, 1).unwrap()),
            "before dtstart"
        );
    }

    #[test]
    fn monthly_ordinals() {
        let second_thu =
            Schedule::from_record(&rec("MONTHLY", 1, "2TH", "2020-01-01", "10:00", "11:00"))
                .unwrap();
        assert!(second_thu.occurs_on(NaiveDate::from_ymd_opt(2026, 11, 12).unwrap()));
        assert!(!second_thu.occurs_on(NaiveDate::from_ymd_opt(2026, 11, 5).unwrap()));
        let last_fri =
            Schedule::from_record(&rec("MONTHLY", 1, "-1FR", "", "10:00", "11:00")).unwrap();
        assert!(last_fri.occurs_on(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()));
        assert!(!last_fri.occurs_on(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()));
        let two = Schedule::from_record(&rec(
            "MONTHLY",
            1,
            "2TU,4TU",
            "2020-01-01",
            "10:00",
            "11:00",
        ))
        .unwrap();
        assert!(two.occurs_on(NaiveDate::from_ymd_opt(2026, 11, 10).unwrap()));
        assert!(two.occurs_on(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()));
        assert!(!two.occurs_on(NaiveDate::from_ymd_opt(2026, 11, 17).unwrap()));
    }

    #[test]
    fn several_ranges_per_day_and_validity() {
        let morning = rec("WEEKLY", 1, "MO,TU,WE,TH", "", "09:00", "12:00");
        let afternoon = rec("WEEKLY", 1, "MO,TU,WE,TH", "", "15:00", "17:00");
        let both: Vec<Schedule> = [morning, afternoon]
            .iter()
            .filter_map(Schedule::from_record)
            .collect();
        assert_eq!(open_at(&both, london("2026-11-23 10:00")), Some(true));
        assert_eq!(open_at(&both, london("2026-11-23 13:00")), Some(false));
        assert_eq!(open_at(&both, london("2026-11-23 16:59")), Some(true));
        assert_eq!(open_at(&both, london("2026-11-23 17:00")), Some(false));
        assert_eq!(
            open_at(&both, london("2026-11-27 10:00")),
            Some(false),
            "Friday"
        );
        let mut limited = rec("WEEKLY", 1, "MO", "", "09:00", "12:00");
        limited.valid_to = Some("2026-11-01".into());
        let s = Schedule::from_record(&limited).unwrap();
        assert_eq!(s.is_open_at(london("2026-11-23 10:00")), Some(false));
        assert_eq!(s.is_open_at(london("2026-10-26 10:00")), Some(true));
        let no_hours = ScheduleRecord {
            freq: Some("WEEKLY".into()),
            byday: Some("MO".into()),
            ..Default::default()
        };
        assert_eq!(
            open_at(
                &[Schedule::from_record(&no_hours).unwrap()],
                london("2026-11-23 10:00")
            ),
            None
        );
    }

    #[test]
    fn dst_spring_forward_and_fall_back() {
        // 2026 clocks go forward on Sunday 29 March at 01:00 UTC, back on Sunday 25 October.
        let sunday = Schedule::from_record(&rec("WEEKLY", 1, "SU", "", "10:00", "12:00")).unwrap();
        // Summer time: 10:00 BST is 09:00 UTC.
        assert_eq!(sunday.is_open_at(utc("2026-03-29T09:30:00Z")), Some(true));
        assert_eq!(sunday.is_open_at(utc("2026-03-29T11:30:00Z")), Some(false));
        // The week before, GMT: 10:00 is 10:00 UTC.
        assert_eq!(sunday.is_open_at(utc("2026-03-22T09:30:00Z")), Some(false));
        assert_eq!(sunday.is_open_at(utc("2026-03-22T11:30:00Z")), Some(true));
        // Fall back: 25 October is GMT again by 10:00.
        assert_eq!(sunday.is_open_at(utc("2026-10-25T10:30:00Z")), Some(true));
        assert_eq!(sunday.is_open_at(utc("2026-10-25T09:30:00Z")), Some(false));
        assert_eq!(sunday.is_open_at(utc("2026-10-18T09:30:00Z")), Some(true));
        // A session across the gap: 00:30–03:00 local on spring-forward night lasts 1.5 hours.
        let night = Schedule::from_record(&rec("WEEKLY", 1, "SU", "", "00:30", "03:00")).unwrap();
        assert_eq!(night.is_open_at(utc("2026-03-29T01:45:00Z")), Some(true)); // 02:45 BST
        assert_eq!(night.is_open_at(utc("2026-03-29T02:00:00Z")), Some(false)); // 03:00 BST
                                                                                // In the repeated hour 01:00–02:00 on fall-back night, a 01:00–01:30 session is the first one.
        let early = Schedule::from_record(&rec("WEEKLY", 1, "SU", "", "01:00", "01:30")).unwrap();
        assert_eq!(early.is_open_at(utc("2026-10-25T00:15:00Z")), Some(true)); // 01:15 BST
        assert_eq!(early.is_open_at(utc("2026-10-25T01:15:00Z")), Some(false)); // 01:15 GMT
    }

    #[test]
    fn overnight_sessions() {
        let s = Schedule::from_record(&rec("WEEKLY", 1, "FR", "", "22:00", "02:00")).unwrap();
        assert_eq!(s.is_open_at(london("2026-11-27 23:00")), Some(true));
        assert_eq!(s.is_open_at(london("2026-11-28 01:00")), Some(true));
        assert_eq!(s.is_open_at(london("2026-11-28 03:00")), Some(false));
    }

    #[test]
    fn plain_english() {
        let tue = rec("WEEKLY", 1, "TU", "", "10:00", "12:00");
        let first_sat = rec("MONTHLY", 1, "1SA", "", "09:00", "12:00");
        assert_eq!(
            describe_all(&[tue, first_sat]),
            "Tuesdays 10:00–12:00; first Saturday of the month 09:00–12:00"
        );
        assert_eq!(
            describe_all(&[rec("WEEKLY", 1, "MO,TU,WE,TH,FR", "", "09:00", "17:00")]),
            "Monday to Friday 09:00–17:00"
        );
        assert_eq!(
            describe_all(&[rec("WEEKLY", 4, "TH", "2019-08-29", "13:25", "14:25")]),
            "Every fourth Thursday 13:25–14:25"
        );
        assert_eq!(
            describe_all(&[rec("WEEKLY", 2, "MO", "2019-01-21", "09:20", "09:45")]),
            "Every other Monday 09:20–09:45"
        );
        assert_eq!(
            describe_all(&[rec("MONTHLY", 1, "2TU,4TU", "", "10:00", "11:00")]),
            "Second and fourth Tuesday of the month 10:00–11:00"
        );
        assert_eq!(
            describe_all(&[rec("MONTHLY", 1, "-1FR", "", "18:00", "20:00")]),
            "Last Friday of the month 18:00–20:00"
        );
        assert_eq!(
            describe_all(&[rec("WEEKLY", 1, "MO,TH", "", "10:00", "11:00")]),
            "Mondays and Thursdays 10:00–11:00"
        );
    }

    #[test]
    fn next_session_finds_the_next_occurrence() {
        let s = Schedule::from_record(&rec("MONTHLY", 1, "1SA", "2020-01-01", "09:00", "12:00"))
            .unwrap();
        let (start, _) = s.next_session(london("2026-11-23 10:00"), 60).unwrap();
        assert_eq!(start, london("2026-12-05 09:00"));
    }

    #[test]
    fn count_is_counted_from_the_real_start() {
        let mut r = rec("WEEKLY", 1, "MO", "2026-11-02", "10:00", "11:00");
        r.count = Some(3);
        let s = Schedule::from_record(&r).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert!(s.occurs_on(day(2)) && s.occurs_on(day(9)) && s.occurs_on(day(16)));
        assert!(!s.occurs_on(day(23)));
    }

    #[test]
    fn far_starts_give_the_same_answers() {
        // Every third Wednesday from 2019: the shifted anchor must keep the phase.
        let s =
            Schedule::from_record(&rec("WEEKLY", 3, "WE", "2019-01-02", "10:00", "11:00")).unwrap();
        let start = NaiveDate::from_ymd_opt(2019, 1, 2).unwrap();
        for k in 0..60 {
            let d = NaiveDate::from_ymd_opt(2026, 6, 3).unwrap() + Duration::weeks(k);
            let want = (d - start).num_days() % 21 == 0;
            assert_eq!(s.occurs_on(d), want, "{d}");
        }
    }

    #[test]
    fn rules_rfc_5545_forbids_are_unknown_not_closed() {
        let t = london("2026-11-24 10:30");
        let open = |r: &ScheduleRecord| Schedule::from_record(r).unwrap().is_open_at(t);
        let mut r = rec("WEEKLY", 1, "2TU", "", "10:00", "11:00");
        assert_eq!(open(&r), None, "ordinal in a weekly rule");
        r.byday = Some("TU".into());
        assert_eq!(open(&r), Some(true));
        r.bymonthday = Some("15".into());
        assert_eq!(open(&r), None, "month day in a weekly rule");
        let mut r = rec("MONTHLY", 1, "", "", "10:00", "11:00");
        r.bymonthday = Some("0".into());
        assert_eq!(open(&r), None, "day 0");
        let s = Schedule::from_record(&r).unwrap();
        assert_eq!(s.next_session(t, 400), None);
        assert_eq!(
            open(&rec("MONTHLY", 1, "4TU", "", "10:00", "11:00")),
            Some(true)
        );
    }

    #[test]
    fn unanchored_intervals_are_not_guessed() {
        assert!(Schedule::from_record(&rec("WEEKLY", 4, "TH", "", "10:00", "11:00")).is_none());
        assert!(Schedule::from_record(&rec("WEEKLY", 1, "TH", "", "10:00", "11:00")).is_some());
    }
}
