//! An independent answer to a near-me query, for the property tests to hold the product to.
//!
//! `SearchIndex::brute_force` shares the product's filter code (`compile`, `service_passes`,
//! `point_passes`) and its in-memory facets, so a wrong filter is wrong in both. This reference
//! shares none of it: it reads the stored HSDS tables and each listing's canonical JSON
//! (`service_record.record`) with plain SQL, and recomputes every filter from what the data
//! says and what the filter is documented to mean:
//!
//! - distance: haversine on a sphere of the IUGG mean radius, written out here;
//! - listed: `service.status = 'active'`, at a location whose coordinates are present, in
//!   range, not `0,0`, and not a UK address with latitude and longitude swapped;
//! - no referral, domain, interest, wheelchair, attendance: the listing's Signpost taxonomy
//!   terms (by id, or by code with `taxonomy_id = "signpost"`), read from the record's
//!   attributes; wheelchair also from a location's accessibility note that says "wheelchair"
//!   (and not "not wheelchair" or "no wheelchair"); attendance without a term from the types of
//!   its locations (`virtual` is online, anything else in person);
//! - free: the `cost` term, or without one the `cost_option` rows (free when none has an
//!   amount above 0 and one has amount 0 or an option mentioning "free");
//! - language: a `language` row of the listing (its own or its locations') whose code or name,
//!   trimmed and case-folded, is one of those asked for;
//! - text: every word of the query is a word of the name, description, organization name or a
//!   term's name. Whole words, never prefixes ("gard" does not find "garden"); inflections are
//!   the same word when Porter stemming makes them so, which [`family`] spells out by hand for
//!   the test vocabulary instead of running a stemmer;
//! - open at `t`: the schedules of the service-at-location if it has any, else the service's;
//!   each schedule's days come from the `rrule` crate fed the RFC 5545 text of the rule with
//!   its real DTSTART (no shifting), and each day's session is built here from the local hours
//!   in Europe/London: a time in the spring-forward gap is read with the offset before the gap
//!   and a repeated autumn time as its first occurrence (RFC 5545 3.3.5); a closing time at or
//!   before the opening time ends the next day. Open when some schedule's session contains
//!   `t`; unknown when no schedule can say (no hours, or a rule without the DTSTART it needs).
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Europe::London;
use rusqlite::Connection;
use serde_json::Value;
use signpost_directory::{Attendance, NearQuery};

/// The mean Earth radius (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Session days are worked out for this span of local dates; queries must fall inside it.
fn window() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
        NaiveDate::from_ymd_opt(2028, 1, 31).unwrap(),
    )
}

/// Great-circle distance by the haversine formula.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// The word a token stands for in a Porter-stemmed index, for the test vocabulary: forms that
/// Porter stems alike share a family; any other token stands for itself.
pub fn family(token: &str) -> String {
    let t = token.to_lowercase().replace('é', "e");
    let f = match t.as_str() {
        "choir" | "choirs" => "choir",
        "sing" | "sings" | "singing" => "sing",
        "garden" | "gardens" | "gardening" => "garden",
        "cafe" | "cafes" => "cafe",
        "walk" | "walks" | "walking" | "walked" => "walk",
        "walker" | "walkers" => "walker",
        "support" | "supports" | "supported" | "supporting" => "support",
        "library" | "libraries" => "librari",
        "art" | "arts" => "art",
        "craft" | "crafts" => "craft",
        "football" | "footballs" => "footbal",
        "knit" | "knits" | "knitting" => "knit",
        "person" | "personal" => "person",
        "facility" | "facilities" => "facil",
        "relationship" | "relationships" => "relationship",
        "interest" | "interests" => "interest",
        other => other,
    };
    f.to_string()
}

/// The words of a text, as FTS5's `unicode61` tokenizer cuts them (runs of letters and digits).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(family)
}

/// One stored schedule, made ready to answer "open at t".
struct RefSchedule {
    /// Local dates on which a session starts, within [`window`]; `None` when the rule cannot
    /// be placed on a calendar.
    days: Option<HashSet<NaiveDate>>,
    /// Minutes after local midnight.
    opens: Option<u32>,
    closes: Option<u32>,
}

fn minutes(s: Option<&str>) -> Option<u32> {
    let s = s?;
    let h: u32 = s.get(0..2)?.parse().ok()?;
    let m: u32 = s.get(3..5)?.parse().ok()?;
    (s.get(2..3) == Some(":") && h * 60 + m <= 1440).then_some(h * 60 + m)
}

fn date(s: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s?.get(..10)?, "%Y-%m-%d").ok()
}

/// The instant a Europe/London wall clock shows `minutes` after midnight on `day`.
fn local(day: NaiveDate, minutes: u32) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(minutes as i64);
    match London.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        // The repeated autumn hour: the first time the clock shows it.
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        // The spring-forward gap: read with the UTC offset in force before the gap.
        LocalResult::None => {
            let before = London
                .offset_from_utc_datetime(&(naive - Duration::hours(3)))
                .fix();
            Utc.from_utc_datetime(&(naive - Duration::seconds(before.local_minus_utc() as i64)))
        }
    }
}

/// A stored `schedule` row's fields, as text and numbers straight from SQL.
struct Row {
    valid_from: Option<String>,
    valid_to: Option<String>,
    dtstart: Option<String>,
    until: Option<String>,
    count: Option<i64>,
    freq: Option<String>,
    interval: Option<i64>,
    byday: Option<String>,
    bymonthday: Option<String>,
    opens_at: Option<String>,
    closes_at: Option<String>,
}

impl RefSchedule {
    fn from_row(r: &Row) -> RefSchedule {
        RefSchedule {
            days: session_days(r),
            opens: minutes(r.opens_at.as_deref()),
            closes: minutes(r.closes_at.as_deref()),
        }
    }

    /// Open at `t`: `None` when this schedule cannot say.
    fn open_at(&self, t: DateTime<Utc>) -> Option<bool> {
        let opens = self.opens?;
        let days = self.days.as_ref()?;
        let today = t.with_timezone(&London).date_naive();
        let (first, last) = window();
        assert!(today > first && today < last, "{t} is outside the window");
        Some((0..=2).any(|back| {
            let day = today - Duration::days(back);
            let start = local(day, opens);
            let end = match self.closes {
                Some(c) if c > opens => local(day, c),
                Some(c) => local(day + Duration::days(1), c),
                None => local(day + Duration::days(1), 0),
            };
            days.contains(&day) && start <= t && t < end
        }))
    }
}

/// The local dates a session starts on, by the `rrule` crate reading the rule as RFC 5545 text.
fn session_days(r: &Row) -> Option<HashSet<NaiveDate>> {
    let strip = |s: &Option<String>| {
        s.as_deref()
            .map(|s| s.chars().filter(|c| !c.is_whitespace()).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    let byday = strip(&r.byday).map(|s| s.to_uppercase());
    let bymonthday = strip(&r.bymonthday);
    let freq = match r.freq.as_deref().map(str::to_uppercase) {
        Some(f) => f,
        // "Every Tuesday" is often given as byday alone.
        None if byday.is_some() => "WEEKLY".into(),
        None => return None,
    };
    // RFC 5545: "the BYDAY rule part MUST NOT be specified with a numeric value when the FREQ
    // rule part is not set to MONTHLY or YEARLY" (the `rrule` crate accepts it anyway).
    let ordinal = byday
        .as_deref()
        .is_some_and(|d| d.contains(|c: char| c.is_ascii_digit()));
    if ordinal && freq != "MONTHLY" && freq != "YEARLY" {
        return None;
    }
    // RFC 5545: a month day is 1 to 31 or -31 to -1 (the `rrule` crate drops a 0).
    if bymonthday
        .as_deref()
        .is_some_and(|d| d.split(',').any(|n| n.parse::<i32>() == Ok(0)))
    {
        return None;
    }
    let interval = r.interval.unwrap_or(1);
    let dtstart = date(r.dtstart.as_deref());
    // Rules whose days depend on where they start cannot be placed without a start.
    let needs_start = interval > 1
        || r.count.is_some()
        || freq == "YEARLY"
        || (freq == "WEEKLY" && byday.is_none())
        || (freq == "MONTHLY" && byday.is_none() && bymonthday.is_none());
    if needs_start && dtstart.is_none() {
        return None;
    }
    let (first, last) = window();
    // Any start before the window gives the same days to a rule that does not depend on it.
    let start = dtstart.unwrap_or(first);
    let mut text = format!(
        "DTSTART;TZID=Europe/London:{}T120000\nRRULE:FREQ={freq};INTERVAL={interval}",
        start.format("%Y%m%d")
    );
    if let Some(d) = &byday {
        text.push_str(&format!(";BYDAY={d}"));
    }
    if let Some(d) = &bymonthday {
        text.push_str(&format!(";BYMONTHDAY={d}"));
    }
    if let Some(c) = r.count {
        text.push_str(&format!(";COUNT={c}"));
    }
    if let Some(u) = date(r.until.as_deref()) {
        if u < start {
            // RFC 5545 allows no such rule; it has no sessions.
            return Some(HashSet::new());
        }
        // UNTIL is UTC when DTSTART has a time zone: the end of that local day.
        let end = local(u + Duration::days(1), 0) - Duration::seconds(1);
        text.push_str(&format!(";UNTIL={}", end.format("%Y%m%dT%H%M%SZ")));
    }
    // Nor can a rule RFC 5545 does not allow (BYMONTHDAY in a weekly rule, day 0).
    let set = rrule::RRuleSet::from_str(&text).ok()?;
    let (from, to) = (date(r.valid_from.as_deref()), date(r.valid_to.as_deref()));
    let mut days = HashSet::new();
    for occurrence in &set {
        let day = occurrence.date_naive();
        if day > last {
            break;
        }
        if day >= first && from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t) {
            days.insert(day);
        }
    }
    Some(days)
}

/// Open at `t` under any of these schedules; `None` when none of them can say.
fn open_under(schedules: &[RefSchedule], t: DateTime<Utc>) -> Option<bool> {
    let answers: Vec<bool> = schedules.iter().filter_map(|s| s.open_at(t)).collect();
    (!answers.is_empty()).then(|| answers.contains(&true))
}

/// What the reference knows of one active listing.
#[derive(Default)]
struct RefService {
    rowid: i64,
    id: String,
    no_referral: bool,
    free: Option<bool>,
    wheelchair: bool,
    domains: HashSet<String>,
    interests: HashSet<String>,
    languages: HashSet<String>,
    in_person: bool,
    online: bool,
    words: HashSet<String>,
    schedules: Vec<RefSchedule>,
    /// `assured_date`, read as a calendar day.
    checked: Option<NaiveDate>,
}

/// One (service, location) pair with trusted coordinates.
struct RefPoint {
    sal_rowid: i64,
    service_rowid: i64,
    location_id: String,
    latitude: f64,
    longitude: f64,
    /// The service-at-location's own schedules (empty: the service's apply).
    schedules: Vec<RefSchedule>,
}

/// One answer of the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct RefHit {
    /// `service.id`.
    pub service_id: String,
    /// `location.id` of the nearest passing location.
    pub location_id: String,
    /// Haversine metres.
    pub distance_m: f64,
    /// Whether that service-at-location is open at the `now` given to [`Reference::near`].
    pub open_now: Option<bool>,
    /// Free, costs money, or not stated.
    pub free: Option<bool>,
    /// Meets in person.
    pub in_person: bool,
    /// Meets online.
    pub online: bool,
}

/// The reference: everything read once from a directory's database.
pub struct Reference {
    services: HashMap<i64, RefService>,
    points: Vec<RefPoint>,
}

fn is_uk_country(c: &str) -> bool {
    matches!(
        c.trim().to_uppercase().as_str(),
        "GB" | "UK" | "GBR" | "UNITED KINGDOM" | "ENGLAND" | "SCOTLAND" | "WALES"
    )
}

fn trusted(lat: Option<f64>, lon: Option<f64>, uk_address: bool) -> Option<(f64, f64)> {
    let (lat, lon) = (lat?, lon?);
    let in_range = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
    let uk_latitude = |x: f64| (49.0..=61.5).contains(&x);
    let swapped = uk_address && !uk_latitude(lat) && uk_latitude(lon);
    (in_range && (lat, lon) != (0.0, 0.0) && !swapped).then_some((lat, lon))
}

impl Reference {
    /// Read everything the reference needs from the database.
    pub fn load(conn: &Connection) -> Reference {
        let mut services: HashMap<i64, RefService> = HashMap::new();
        let mut stmt = conn
            .prepare(
                "SELECT s.rowid, s.id, s.name, s.description, o.name, r.record, s.assured_date
                 FROM service s JOIN service_record r ON r.service_rowid = s.rowid
                 LEFT JOIN organization o ON o.id = s.organization_id
                 WHERE s.status = 'active'",
            )
            .unwrap();
        let signpost = signpost_terms(conn);
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let rowid: i64 = r.get(0).unwrap();
            let mut s = RefService {
                rowid,
                id: r.get(1).unwrap(),
                checked: r
                    .get::<_, Option<String>>(6)
                    .unwrap()
                    .and_then(|d| NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok()),
                ..Default::default()
            };
            for col in 2..=4 {
                if let Some(text) = r.get::<_, Option<String>>(col).unwrap() {
                    s.words.extend(words(&text));
                }
            }
            let record: Value = serde_json::from_str(&r.get::<_, String>(5).unwrap()).unwrap();
            read_record(&mut s, &record, &signpost);
            services.insert(rowid, s);
        }
        read_costs(conn, &mut services);
        let mut stmt = conn
            .prepare("SELECT service_rowid, name, code FROM language")
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            if let Some(s) = services.get_mut(&r.get::<_, i64>(0).unwrap()) {
                for col in 1..=2 {
                    if let Some(l) = r.get::<_, Option<String>>(col).unwrap() {
                        s.languages.insert(l.trim().to_lowercase());
                    }
                }
            }
        }
        let mut by_sal: HashMap<i64, Vec<RefSchedule>> = HashMap::new();
        let mut stmt = conn
            .prepare(
                "SELECT service_rowid, sal_rowid, valid_from, valid_to, dtstart, until, count, freq,
                        interval, byday, bymonthday, opens_at, closes_at
                 FROM schedule ORDER BY rowid",
            )
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let row = Row {
                valid_from: r.get(2).unwrap(),
                valid_to: r.get(3).unwrap(),
                dtstart: r.get(4).unwrap(),
                until: r.get(5).unwrap(),
                count: r.get(6).unwrap(),
                freq: r.get(7).unwrap(),
                interval: r.get(8).unwrap(),
                byday: r.get(9).unwrap(),
                bymonthday: r.get(10).unwrap(),
                opens_at: r.get(11).unwrap(),
                closes_at: r.get(12).unwrap(),
            };
            let schedule = RefSchedule::from_row(&row);
            match r.get::<_, Option<i64>>(1).unwrap() {
                Some(sal) => by_sal.entry(sal).or_default().push(schedule),
                None => {
                    if let Some(s) = services.get_mut(&r.get::<_, i64>(0).unwrap()) {
                        s.schedules.push(schedule);
                    }
                }
            }
        }
        let mut points = Vec::new();
        let mut stmt = conn
            .prepare(
                "SELECT sal.rowid, sal.service_rowid, l.id, l.latitude, l.longitude,
                        (SELECT group_concat(coalesce(a.country, ''), '|') FROM address a
                         WHERE a.location_rowid = l.rowid)
                 FROM service_at_location sal JOIN location l ON l.rowid = sal.location_rowid",
            )
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let service_rowid: i64 = r.get(1).unwrap();
            if !services.contains_key(&service_rowid) {
                continue;
            }
            let countries: Option<String> = r.get(5).unwrap();
            let uk = countries.is_some_and(|c| c.split('|').any(is_uk_country));
            let Some((latitude, longitude)) = trusted(r.get(3).unwrap(), r.get(4).unwrap(), uk)
            else {
                continue;
            };
            let sal_rowid: i64 = r.get(0).unwrap();
            points.push(RefPoint {
                sal_rowid,
                service_rowid,
                location_id: r.get(2).unwrap(),
                latitude,
                longitude,
                schedules: by_sal.remove(&sal_rowid).unwrap_or_default(),
            });
        }
        Reference { services, points }
    }

    fn passes(&self, s: &RefService, q: &NearQuery) -> bool {
        let f = &q.filters;
        let any = |have: &HashSet<String>, want: &[String]| {
            want.is_empty() || want.iter().any(|w| have.contains(w))
        };
        let languages: Vec<String> = f
            .languages
            .iter()
            .map(|l| l.trim().to_lowercase())
            .collect();
        (!f.no_referral || s.no_referral)
            && any(&s.domains, &f.domains)
            && any(&s.interests, &f.interests)
            && (!f.free || s.free == Some(true))
            && (!f.wheelchair || s.wheelchair)
            && any(&s.languages, &languages)
            && match f.attendance {
                None => true,
                Some(Attendance::InPerson) => s.in_person,
                Some(Attendance::Online) => s.online,
            }
            && f.text
                .as_deref()
                .is_none_or(|t| words(t).all(|w| s.words.contains(&w)))
    }

    /// Whether a point is open at `t`: its own schedules if it has any, else its service's.
    fn open_at(&self, p: &RefPoint, t: DateTime<Utc>) -> Option<bool> {
        if p.schedules.is_empty() {
            open_under(&self.services[&p.service_rowid].schedules, t)
        } else {
            open_under(&p.schedules, t)
        }
    }

    /// The answer to `q`: each passing listing once, at its nearest passing location (ties: the
    /// first service-at-location), nearest first; at equal distance those checked within a year
    /// of the query's day (or not saying) before those checked longer ago, then by
    /// `service.rowid`; `open_now` at `now`.
    pub fn near(&self, q: &NearQuery, now: DateTime<Utc>) -> Vec<RefHit> {
        let mut best: HashMap<i64, (f64, &RefPoint)> = HashMap::new();
        for p in &self.points {
            let s = &self.services[&p.service_rowid];
            let d = haversine_m(q.latitude, q.longitude, p.latitude, p.longitude);
            if d > q.radius_m || !self.passes(s, q) {
                continue;
            }
            if q.filters
                .open_at
                .is_some_and(|t| self.open_at(p, t) != Some(true))
            {
                continue;
            }
            let e = best.entry(s.rowid).or_insert((d, p));
            if (d, p.sal_rowid) < (e.0, e.1.sal_rowid) {
                *e = (d, p);
            }
        }
        let mut hits: Vec<(f64, i64, &RefPoint)> = best
            .into_iter()
            .map(|(rowid, (d, p))| (d, rowid, p))
            .collect();
        let today = q.today.unwrap_or_else(|| Utc::now().date_naive());
        // Out of date: checked more than 365 days before the day asked about.
        let stale = |rowid: i64| {
            self.services[&rowid]
                .checked
                .is_some_and(|c| c + Duration::days(365) < today)
        };
        hits.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(stale(a.1).cmp(&stale(b.1)))
                .then(a.1.cmp(&b.1))
        });
        hits.truncate(q.limit);
        hits.into_iter()
            .map(|(d, rowid, p)| {
                let s = &self.services[&rowid];
                RefHit {
                    service_id: s.id.clone(),
                    location_id: p.location_id.clone(),
                    distance_m: d,
                    open_now: self.open_at(p, now),
                    free: s.free,
                    in_person: s.in_person,
                    online: s.online,
                }
            })
            .collect()
    }
}

/// Signpost's own terms as stored: id to (group, code, name), and code to id.
struct SignpostTerms {
    by_id: HashMap<String, (String, String, String)>,
    by_code: HashMap<String, String>,
}

fn signpost_terms(conn: &Connection) -> SignpostTerms {
    let mut by_id = HashMap::new();
    let mut by_code = HashMap::new();
    let mut stmt = conn
        .prepare(
            "SELECT id, code, name FROM taxonomy_term
             WHERE taxonomy_id = 'signpost' AND id LIKE 'signpost:%:%'",
        )
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let id: String = r.get(0).unwrap();
        let code: String = r.get(1).unwrap();
        let group = id.split(':').nth(1).unwrap().to_string();
        by_code.insert(code.clone(), id.clone());
        by_id.insert(id, (group, code, r.get(2).unwrap()));
    }
    SignpostTerms { by_id, by_code }
}

/// Terms, accessibility notes and location types, from the listing's own record.
fn read_record(s: &mut RefService, record: &Value, signpost: &SignpostTerms) {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let mut cost_term = None;
    let (mut in_person_term, mut online_term) = (false, false);
    for a in record["attributes"].as_array().into_iter().flatten() {
        let nested = &a["taxonomy_term"];
        let id = text(a, "taxonomy_term_id").or_else(|| text(nested, "id"));
        let own = id.as_deref().and_then(|id| signpost.by_id.get(id));
        let by_code = || {
            (text(nested, "taxonomy_id").as_deref() == Some("signpost"))
                .then(|| text(nested, "code"))
                .flatten()
                .and_then(|code| signpost.by_code.get(&code))
                .and_then(|id| signpost.by_id.get(id))
        };
        // A term's name is searchable: Signpost's own name, or the name the feed gave.
        match own {
            Some((_, _, name)) => s.words.extend(words(name)),
            None => {
                if let Some(name) = text(nested, "name") {
                    s.words.extend(words(&name));
                }
            }
        }
        let Some((group, code, _)) = own.or_else(by_code) else {
            continue;
        };
        match group.as_str() {
            "access" => s.no_referral = code == "drop-in" || code == "self-referral",
            "domain" => {
                s.domains.insert(code.clone());
            }
            "interest" => {
                s.interests.insert(code.clone());
            }
            "cost" => cost_term = Some(code == "free"),
            "accessibility" => s.wheelchair |= code == "wheelchair",
            "attendance" => {
                in_person_term |= code == "in-person";
                online_term |= code == "online";
            }
            _ => {}
        }
    }
    s.free = cost_term;
    let sals = record["service_at_locations"].as_array();
    if in_person_term || online_term {
        (s.in_person, s.online) = (in_person_term, online_term);
    } else {
        for sal in sals.into_iter().flatten() {
            match sal["location"]["location_type"].as_str() {
                Some("virtual") => s.online = true,
                _ => s.in_person = true,
            }
        }
    }
    for sal in sals.into_iter().flatten() {
        for a in sal["location"]["accessibility"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let note = format!(
                "{} {}",
                text(a, "description").unwrap_or_default(),
                text(a, "details").unwrap_or_default()
            )
            .to_lowercase();
            s.wheelchair |= note.contains("wheelchair")
                && !note.contains("not wheelchair")
                && !note.contains("no wheelchair");
        }
    }
}

/// Free from `cost_option` rows, for listings whose terms do not say.
fn read_costs(conn: &Connection, services: &mut HashMap<i64, RefService>) {
    let mut stmt = conn
        .prepare(
            "SELECT service_rowid,
                    max(coalesce(amount, 0) > 0),
                    max(amount = 0 OR coalesce(option, '') LIKE '%free%')
             FROM cost_option GROUP BY service_rowid",
        )
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let Some(s) = services.get_mut(&r.get::<_, i64>(0).unwrap()) else {
            continue;
        };
        if s.free.is_some() {
            continue;
        }
        let paid: bool = r.get(1).unwrap();
        let free: Option<bool> = r.get(2).unwrap();
        s.free = if paid {
            Some(false)
        } else if free == Some(true) {
            Some(true)
        } else {
            None
        };
    }
}
