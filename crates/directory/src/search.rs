//! Near-me search: the query, its filters, the indexed search and the brute-force reference.
//!
//! [`SearchIndex::search`] and [`SearchIndex::brute_force`] answer the same question and must
//! give the same answer; a property test holds them to it. The index walks locations nearest
//! first (see [`crate::spatial`]), keeps the first — hence nearest — location of each service
//! that passes the filters, and stops as soon as `limit` services are found and the next
//! location is farther than the last one kept (so ties at the cut are settled by id exactly as
//! the brute force settles them). Listings at exactly the same distance are ordered fresher
//! first (not "may be out of date" before those that may be, judged on the query's day), then by
//! rowid.
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use geo::{Distance, Haversine, Point};
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::model::ScheduleRecord;
use crate::row_text::RowTexts;
use crate::schedule::{self, Schedule};
use crate::spatial::{self, Facet, IndexedPoint, SpatialIndex};
use crate::taxonomy::{Access, Attendance, Taxonomy};

mod nearest;

/// The default search radius: 10 km.
pub const DEFAULT_RADIUS_M: f64 = 10_000.0;
/// The default number of results.
pub const DEFAULT_LIMIT: usize = 20;

/// Marks a rowid with no indexed service.
const NO_SLOT: u32 = u32::MAX;

/// A text match set at most this large is searched directly rather than through the tree.
const DIRECT_TEXT_LIMIT: usize = 2_000;

/// Filters, all combinable (AND across kinds; several values of one kind mean any of them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Only drop-in or self-referral.
    pub no_referral: bool,
    /// Domain codes (`personal-interests`).
    pub domains: Vec<String>,
    /// Interest codes (`walking`).
    pub interests: Vec<String>,
    /// Only free.
    pub free: bool,
    /// Only wheelchair accessible.
    pub wheelchair: bool,
    /// Language codes or names (`ur`, `Urdu`).
    pub languages: Vec<String>,
    /// Only those that meet this way (in person, or online).
    pub attendance: Option<Attendance>,
    /// Only those open at this instant.
    pub open_at: Option<DateTime<Utc>>,
    /// Only those with a session starting on these days, in these parts of the day, soon.
    pub meets_in: Option<WeekTimes>,
    /// Words to match in name, description, organization and taxonomy terms.
    pub text: Option<String>,
}

/// "Tuesday or Thursday mornings, this week": a session must start within `days` days of
/// `from`, on one of the weekdays and in one of the parts of the day asked for (UK time). An
/// empty set of weekdays or of parts means any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekTimes {
    /// Where the window starts (its local day).
    pub from: DateTime<Utc>,
    /// How many local days it covers, `from`'s day first.
    pub days: u32,
    /// Weekdays: bit 0 Monday … bit 6 Sunday.
    pub weekdays: u8,
    /// Parts of the day: bit 0 morning (before 12:00), bit 1 afternoon (12:00 to 17:00), bit 2
    /// evening (from 17:00).
    pub parts: u8,
}

impl WeekTimes {
    /// The bit of a weekday given as `mon` … `sun` (or a longer name), if it is one.
    pub fn weekday_bit(word: &str) -> Option<u8> {
        let w = word.trim().to_ascii_lowercase();
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .position(|d| w.starts_with(d) && w.len() >= 3)
            .map(|i| 1 << i)
    }

    /// The bit of a part of the day, `morning`, `afternoon` or `evening`, if it is one.
    pub fn part_bit(word: &str) -> Option<u8> {
        ["morning", "afternoon", "evening"]
            .iter()
            .position(|p| word.trim().eq_ignore_ascii_case(p))
            .map(|i| 1 << i)
    }

    /// Whether a session starting at `start` is one asked for.
    pub fn takes(&self, start: DateTime<Utc>) -> bool {
        use chrono::{Datelike, Timelike};
        let local = start.with_timezone(&chrono_tz::Europe::London);
        let day = 1u8 << local.weekday().num_days_from_monday();
        let minute = local.hour() * 60 + local.minute();
        let part = match minute {
            0..720 => 1u8,
            720..1020 => 2,
            _ => 4,
        };
        (self.weekdays == 0 || self.weekdays & day != 0)
            && (self.parts == 0 || self.parts & part != 0)
    }
}

/// A near-me query.
#[derive(Debug, Clone, PartialEq)]
pub struct NearQuery {
    /// WGS84 latitude.
    pub latitude: f64,
    /// WGS84 longitude.
    pub longitude: f64,
    /// Radius in metres.
    pub radius_m: f64,
    /// Maximum results.
    pub limit: usize,
    /// Filters.
    pub filters: Filters,
    /// The day freshness is judged on, for ordering listings at equal distance (None: today in
    /// UTC by the clock, read once per query).
    pub today: Option<NaiveDate>,
}

impl NearQuery {
    /// A query at a point with the default radius and limit and no filters.
    pub fn at(latitude: f64, longitude: f64) -> NearQuery {
        NearQuery {
            latitude,
            longitude,
            radius_m: DEFAULT_RADIUS_M,
            limit: DEFAULT_LIMIT,
            filters: Filters::default(),
            today: None,
        }
    }

    /// The query's day as a day number ([`crate::freshness::day_number`]).
    fn day(&self) -> i32 {
        crate::freshness::day_number(self.today.unwrap_or_else(|| Utc::now().date_naive()))
    }

    fn check(&self) -> Result<()> {
        if !(self.latitude.is_finite() && self.latitude.abs() <= 90.0) {
            return Err(Error::BadQuery(format!(
                "latitude {} is out of range (-90 to 90)",
                self.latitude
            )));
        }
        if !(self.longitude.is_finite() && self.longitude.abs() <= 180.0) {
            return Err(Error::BadQuery(format!(
                "longitude {} is out of range (-180 to 180)",
                self.longitude
            )));
        }
        if !(self.radius_m.is_finite() && self.radius_m > 0.0) {
            return Err(Error::BadQuery("radius must be a positive number".into()));
        }
        Ok(())
    }
}

/// One result of the index: which service, at which of its points, how far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position in the index's service table.
    pub service: u32,
    /// Position in the index's point table.
    pub point: u32,
    /// Great-circle distance in metres.
    pub distance_m: f64,
}

/// What the index keeps per service to filter without touching SQLite.
#[derive(Debug, Clone)]
pub struct ServiceEntry {
    /// `service.rowid`; also the tie-breaker between services at exactly the same distance.
    pub rowid: i64,
    /// Access route, if stated.
    pub access: Option<Access>,
    /// Free, if stated.
    pub free: Option<bool>,
    /// Wheelchair accessible.
    pub wheelchair: bool,
    /// Domain bits.
    pub domains: u32,
    /// Interest bits.
    pub interests: u64,
    /// Interned language ids.
    pub languages: Box<[u32]>,
    /// Attendance bits (see [`Attendance::bit`]).
    pub attendance: u8,
    /// The day its publisher last checked it (`assured_date`) as a day number
    /// ([`crate::freshness::day_number`]), if stated. A day, not a flag: the index lives across
    /// midnights (a feed keeps one for as long as its data is unchanged), so whether a listing
    /// may be out of date is judged on each query's day.
    pub checked: Option<i32>,
    /// Its points in the point table.
    pub points: Range<u32>,
}

struct Schedules {
    by_service: HashMap<i64, Vec<Schedule>>,
    by_sal: HashMap<i64, Vec<Schedule>>,
}

impl Schedules {
    /// The schedules at a place: its own if it has any, else its service's.
    fn at(&self, sal_rowid: i64, service_rowid: i64) -> &[Schedule] {
        self.by_sal
            .get(&sal_rowid)
            .or_else(|| self.by_service.get(&service_rowid))
            .map_or(&[], Vec::as_slice)
    }
}

impl ServiceEntry {
    /// Whether it may be out of date on day number `today` (the rule of
    /// [`crate::freshness::may_be_out_of_date`]).
    pub fn may_be_out_of_date(&self, today: i32) -> bool {
        self.checked
            .is_some_and(|c| i64::from(today) - i64::from(c) > crate::freshness::STALE_AFTER_DAYS)
    }
}

/// Everything near-me search needs in memory.
pub struct SearchIndex {
    services: Vec<ServiceEntry>,
    /// `service.rowid` to position in `services`, or [`NO_SLOT`].
    slot_of_rowid: Vec<u32>,
    languages: HashMap<String, u32>,
    spatial: SpatialIndex,
    /// Points per facet, to pick the most selective facet tree without building any.
    facet_counts: HashMap<Facet, usize>,
    schedules: OnceLock<Schedules>,
    rows: OnceLock<RowTexts>,
    /// The services matching the last few texts asked for, newest last. A person refining a
    /// search (another filter, another place) asks the same words again, and so do a feed's
    /// clients; the index is rebuilt whenever the data changes, and this with it.
    text_matches: Mutex<Vec<(String, Arc<TextMatches>)>>,
}

/// How many texts' matches an index remembers.
const TEXTS_REMEMBERED: usize = 32;

/// Filters resolved against the index: codes to bits, languages to ids, text to a service set.
struct Compiled {
    no_referral: bool,
    domains: u32,
    interests: u64,
    free: bool,
    wheelchair: bool,
    attendance: u8,
    languages: Option<Vec<u32>>,
    open_at: Option<schedule::Moment>,
    meets_in: Option<WeekTimes>,
    text: Option<Arc<TextMatches>>,
}

/// The services matching a text filter: a bitset for O(1) membership, plus the list.
struct TextMatches {
    bits: Vec<u64>,
    list: Vec<u32>,
    /// The matching services' points, for a set too large to search directly: built the
    /// second time the same words are asked (a word asked once need not pay for it).
    tree: OnceLock<spatial::PointTree>,
    asked: std::sync::atomic::AtomicU32,
}

impl TextMatches {
    fn contains(&self, slot: u32) -> bool {
        self.bits[(slot / 64) as usize] & (1 << (slot % 64)) != 0
    }
}

fn bits<T: From<u8> + std::ops::Shl<usize, Output = T> + std::ops::BitOr<Output = T> + Default>(
    group: &str,
    codes: &[String],
) -> Result<T> {
    let tax = Taxonomy::signpost();
    let mut out = T::default();
    for code in codes {
        let i = tax.term_index(group, code).ok_or_else(|| {
            let known: Vec<&str> = tax
                .group(group)
                .map(|g| g.terms.iter().map(|t| t.code.as_str()).collect())
                .unwrap_or_default();
            Error::BadQuery(format!(
                "unknown {group} {code:?}; choose from: {}",
                known.join(", ")
            ))
        })?;
        out = out | (T::from(1u8) << i);
    }
    Ok(out)
}

/// Turn free text into an FTS5 query: every word must match (after Porter stemming, so "walks"
/// finds "walking"), and nothing the user types can be read as FTS5 syntax. Whole words, not
/// prefixes: a prefix query costs several times more at a million listings (BENCHMARKS.md).
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl SearchIndex {
    /// Build the index from the database.
    ///
    /// Three sequential table scans joined in memory through rowid-indexed arrays: at a million
    /// listings this is several times faster than one SQL join, which pays two index lookups a row.
    pub fn load(conn: &Connection) -> Result<SearchIndex> {
        // Locations are read on a second connection, in parallel, when the database is a file.
        let path = conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from);
        std::thread::scope(|scope| -> Result<SearchIndex> {
            let parallel = path.map(|p| {
                scope.spawn(move || -> Result<Places> {
                    let reader = Connection::open_with_flags(
                        p,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    read_places(&reader)
                })
            });
            let (services, slot_of_rowid, languages) = read_services(conn)?;
            let places = match parallel {
                Some(handle) => handle.join().expect("place reader does not panic")?,
                None => read_places(conn)?,
            };
            Ok(Self::assemble(services, slot_of_rowid, languages, places))
        })
    }

    fn assemble(
        mut services: Vec<ServiceEntry>,
        slot_of_rowid: Vec<u32>,
        languages: HashMap<String, u32>,
        places: Places,
    ) -> SearchIndex {
        let mut points: Vec<IndexedPoint> = Vec::with_capacity(places.links.len());
        for (sal_rowid, service_rowid, location_rowid) in places.links {
            let service = slot_of_rowid
                .get(service_rowid as usize)
                .copied()
                .unwrap_or(NO_SLOT);
            let located = places
                .located
                .get(location_rowid as usize)
                .copied()
                .flatten();
            if let (true, Some((latitude, longitude))) = (service != NO_SLOT, located) {
                points.push(IndexedPoint {
                    service,
                    sal_rowid,
                    location_rowid,
                    latitude,
                    longitude,
                });
            }
        }
        // Group each service's points together, in sal order, so a service owns a range.
        points.sort_by_key(|p| (p.service, p.sal_rowid));
        for (i, p) in points.iter().enumerate() {
            let range = &mut services[p.service as usize].points;
            if range.start == range.end {
                *range = i as u32..i as u32;
            }
            range.end = i as u32 + 1;
        }
        for s in services.iter_mut() {
            s.checked = places.checked.get(s.rowid as usize).copied().flatten();
        }
        let facet_counts = count_facets(&services, languages.len());
        SearchIndex {
            services,
            slot_of_rowid,
            languages,
            spatial: SpatialIndex::build(points),
            facet_counts,
            schedules: OnceLock::new(),
            rows: OnceLock::new(),
            text_matches: Mutex::new(Vec::new()),
        }
    }

    /// Number of indexed services.
    pub fn service_count(&self) -> usize {
        self.services.len()
    }

    /// Number of indexed (service, location) points.
    pub fn point_count(&self) -> usize {
        self.spatial.points.len()
    }

    /// A service entry.
    pub fn service(&self, i: u32) -> &ServiceEntry {
        &self.services[i as usize]
    }

    /// A point.
    pub fn point(&self, i: u32) -> &IndexedPoint {
        &self.spatial.points[i as usize]
    }

    /// Build all facet trees and load schedules now, so no query pays for them.
    pub fn warm(&self, conn: &Connection) -> Result<()> {
        for facet in self.facet_counts.keys() {
            self.facet_tree(*facet);
        }
        self.schedules(conn)?;
        for day in 0..7 {
            self.facet_tree(Facet::OnWeekday(day));
        }
        self.row_texts(conn)?;
        Ok(())
    }

    /// What result rows show, read on first use (or by [`SearchIndex::warm`]).
    pub fn row_texts(&self, conn: &Connection) -> Result<&RowTexts> {
        if let Some(r) = self.rows.get() {
            return Ok(r);
        }
        let loaded = RowTexts::load(conn, &self.slot_of_rowid, self.services.len())?;
        Ok(self.rows.get_or_init(|| loaded))
    }

    fn facet_size(&self, facet: Facet) -> usize {
        match facet {
            // Known once its tree is built (it needs the schedules).
            Facet::OnWeekday(_) | Facet::OpenInHour(_) => self.facet_tree(facet).size(),
            _ => self.facet_counts.get(&facet).copied().unwrap_or(0),
        }
    }

    fn facet_tree(&self, facet: Facet) -> std::sync::Arc<spatial::PointTree> {
        if let Facet::OpenInHour(hour_of_week) = facet {
            let day = Weekday::try_from(hour_of_week / 24).expect("a weekday number");
            let hour = hour_of_week % 24;
            let within = self.facet_tree(Facet::OnWeekday(hour_of_week / 24));
            let sched = self
                .schedules
                .get()
                .expect("schedules are loaded before an hour's tree is built");
            return self.spatial.facet_tree_within(facet, &within, |p| {
                sched
                    .at(p.sal_rowid, self.services[p.service as usize].rowid)
                    .iter()
                    .any(|s| s.may_be_open_in_hour(day, hour))
            });
        }
        if let Facet::OnWeekday(day) = facet {
            let day = Weekday::try_from(day).expect("a weekday number");
            // Built only by `warm` and by a search with a time, both after loading the
            // schedules; a tree built without them would be cached empty.
            let sched = self
                .schedules
                .get()
                .expect("schedules are loaded before a weekday tree is built");
            return self.spatial.facet_tree(facet, |p| {
                sched
                    .at(p.sal_rowid, self.services[p.service as usize].rowid)
                    .iter()
                    .any(|s| s.may_be_open_on(day))
            });
        }
        self.spatial.facet_tree(facet, |p| {
            has_facet(&self.services[p.service as usize], facet)
        })
    }

    fn schedules(&self, conn: &Connection) -> Result<&Schedules> {
        if let Some(s) = self.schedules.get() {
            return Ok(s);
        }
        let mut by_service: HashMap<i64, Vec<Schedule>> = HashMap::new();
        let mut by_sal: HashMap<i64, Vec<Schedule>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT service_rowid, sal_rowid, valid_from, valid_to, dtstart, until, count, freq, interval,
                    byday, bymonthday, opens_at, closes_at FROM schedule",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let record = ScheduleRecord {
                valid_from: r.get(2)?,
                valid_to: r.get(3)?,
                dtstart: r.get(4)?,
                until: r.get(5)?,
                count: r.get(6)?,
                freq: r.get(7)?,
                interval: r.get(8)?,
                byday: r.get(9)?,
                bymonthday: r.get(10)?,
                opens_at: r.get(11)?,
                closes_at: r.get(12)?,
                ..Default::default()
            };
            let s = Schedule::from_record(&record);
            match r.get::<_, Option<i64>>(1)? {
                // A place with schedules of its own keeps to them, even when none can be placed
                // on a calendar (then it is not known to be open), as `open_now` does: the
                // service's schedules are for places without their own.
                Some(sal) => by_sal.entry(sal).or_default().extend(s),
                None => by_service.entry(r.get(0)?).or_default().extend(s),
            }
        }
        Ok(self
            .schedules
            .get_or_init(|| Schedules { by_service, by_sal }))
    }

    /// The services whose text matches the FTS5 query `words`, remembered for the next ask.
    fn text_matches(&self, conn: &Connection, words: String) -> Result<Arc<TextMatches>> {
        let remembered = |words: &str| {
            let mut cache = self
                .text_matches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let at = cache.iter().position(|(w, _)| w == words)?;
            let entry = cache.remove(at);
            let matches = entry.1.clone();
            cache.push(entry);
            Some(matches)
        };
        if let Some(m) = remembered(&words) {
            m.asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(m);
        }
        let mut stmt =
            conn.prepare_cached("SELECT rowid FROM service_fts WHERE service_fts MATCH ?1")?;
        let mut matches = TextMatches {
            bits: vec![0; self.services.len() / 64 + 1],
            list: Vec::new(),
            tree: OnceLock::new(),
            asked: Default::default(),
        };
        let mut rows = stmt.query([&words])?;
        while let Some(r) = rows.next()? {
            match self.slot_of_rowid.get(r.get::<_, i64>(0)? as usize) {
                Some(&i) if i != NO_SLOT => {
                    matches.bits[(i / 64) as usize] |= 1 << (i % 64);
                    matches.list.push(i);
                }
                _ => {}
            }
        }
        let matches = Arc::new(matches);
        let mut cache = self
            .text_matches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= TEXTS_REMEMBERED {
            cache.remove(0);
        }
        cache.push((words, matches.clone()));
        Ok(matches)
    }

    fn compile(&self, conn: &Connection, q: &NearQuery) -> Result<Compiled> {
        let f = &q.filters;
        let words = f.text.as_deref().and_then(fts_query);
        let text = match words {
            None => None,
            Some(words) => Some(self.text_matches(conn, words)?),
        };
        if f.open_at.is_some() || f.meets_in.is_some() {
            self.schedules(conn)?;
        }
        Ok(Compiled {
            no_referral: f.no_referral,
            domains: bits("domain", &f.domains)?,
            interests: bits("interest", &f.interests)?,
            free: f.free,
            wheelchair: f.wheelchair,
            attendance: f.attendance.map_or(0, Attendance::bit),
            languages: (!f.languages.is_empty()).then(|| {
                f.languages
                    .iter()
                    .filter_map(|l| self.languages.get(&l.trim().to_lowercase()).copied())
                    .collect()
            }),
            open_at: f.open_at.map(schedule::Moment::new),
            meets_in: f.meets_in,
            text,
        })
    }

    fn service_passes(&self, i: u32, c: &Compiled) -> bool {
        let s = &self.services[i as usize];
        (!c.no_referral || s.access.is_some_and(Access::no_referral))
            && (c.domains == 0 || s.domains & c.domains != 0)
            && (c.interests == 0 || s.interests & c.interests != 0)
            && (!c.free || s.free == Some(true))
            && (!c.wheelchair || s.wheelchair)
            && (c.attendance == 0 || s.attendance & c.attendance != 0)
            && c.languages
                .as_ref()
                .is_none_or(|want| s.languages.iter().any(|l| want.contains(l)))
            && c.text.as_ref().is_none_or(|t| t.contains(i))
    }

    fn point_passes(&self, p: &IndexedPoint, c: &Compiled) -> bool {
        if c.open_at.is_none() && c.meets_in.is_none() {
            return true;
        }
        let Some(sched) = self.schedules.get() else {
            return false;
        };
        let list = sched.at(p.sal_rowid, self.services[p.service as usize].rowid);
        c.open_at
            .is_none_or(|m| schedule::open_at_moment(list, &m) == Some(true))
            && c.meets_in.is_none_or(|w| {
                list.iter().any(|s| {
                    s.sessions_from(w.from, w.days)
                        .into_iter()
                        .any(|(start, _)| w.takes(start))
                })
            })
    }

    /// The most selective facet tree usable for these filters, if it is worth using.
    fn best_facet(&self, f: &Filters, c: &Compiled) -> Option<Facet> {
        let tax = Taxonomy::signpost();
        let mut candidates = Vec::new();
        if c.no_referral {
            candidates.push(Facet::NoReferral);
        }
        if c.free {
            candidates.push(Facet::Free);
        }
        if c.wheelchair {
            candidates.push(Facet::Wheelchair);
        }
        if let [d] = f.domains.as_slice() {
            candidates.extend(tax.term_index("domain", d).map(|i| Facet::Domain(i as u8)));
        }
        if let [i] = f.interests.as_slice() {
            candidates.extend(
                tax.term_index("interest", i)
                    .map(|i| Facet::Interest(i as u8)),
            );
        }
        if let Some([l]) = c.languages.as_deref() {
            candidates.push(Facet::Language(*l));
        }
        if let Some(m) = &c.open_at {
            let day = m.weekday().num_days_from_monday() as u8;
            candidates.push(if m.is_regular() {
                Facet::OpenInHour(day * 24 + m.hour())
            } else {
                Facet::OnWeekday(day)
            });
        }
        candidates
            .into_iter()
            .min_by_key(|f| self.facet_size(*f))
            .filter(|f| self.facet_size(*f) * 2 < self.point_count())
    }

    /// The tree of a text's matches, once the same words have been asked again.
    fn text_tree<'t>(&self, t: &'t TextMatches) -> Option<&'t spatial::PointTree> {
        if t.asked.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            return t.tree.get();
        }
        Some(t.tree.get_or_init(|| {
            self.spatial.tree_of(
                t.list
                    .iter()
                    .flat_map(|&slot| self.services[slot as usize].points.clone()),
            )
        }))
    }

    /// Exact k-nearest services within the radius that pass every filter, nearest first
    /// (ties by service rowid).
    pub fn search(&self, conn: &Connection, q: &NearQuery) -> Result<Vec<Hit>> {
        q.check()?;
        let c = self.compile(conn, q)?;
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        if c.languages.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let origin = spatial::unit_vector(q.latitude, q.longitude);
        let r2 = spatial::metres_to_chord2(q.radius_m);
        if let Some(t) = c
            .text
            .as_ref()
            .filter(|t| t.list.len() <= DIRECT_TEXT_LIMIT)
        {
            return Ok(self.search_within(&t.list, &c, origin, r2, q.limit, q.day()));
        }
        let facet_tree = self.best_facet(&q.filters, &c).map(|f| self.facet_tree(f));
        let text_tree = c.text.as_ref().and_then(|t| self.text_tree(t));
        let tree = match (text_tree, facet_tree.as_deref()) {
            (Some(t), Some(f)) if f.size() < t.size() => f,
            (Some(t), _) => t,
            (None, f) => f.unwrap_or(self.spatial.all()),
        };
        let mut hits: Vec<(f64, Hit)> = Vec::with_capacity(q.limit + 1);
        // Service -> its hit's position in `hits`, or None when the service fails the filters.
        // Services with several locations seen so far: their hit's position in `hits`, or
        // None when the service fails the filters. A one-location service cannot come twice,
        // so most points need no bookkeeping at all.
        let mut seen: HashMap<u32, Option<usize>> = HashMap::new();
        for (entry, d2) in tree.nearest_neighbor_iter_with_distance_2(&origin) {
            if d2 > r2 || (hits.len() >= q.limit && d2 > hits[q.limit - 1].0) {
                break;
            }
            let point = entry.data;
            let p = &self.spatial.points[point as usize];
            let several = self.services[p.service as usize].points.len() > 1;
            if several {
                match seen.get(&p.service) {
                    Some(None) => continue,
                    Some(Some(at)) => {
                        // Two locations of one service at exactly the same distance: keep the
                        // first in index order, as the brute force does.
                        let hit = &mut hits[*at];
                        if hit.0 == d2 && point < hit.1.point && self.point_passes(p, &c) {
                            hit.1.point = point;
                        }
                        continue;
                    }
                    None => {}
                }
            }
            if !self.service_passes(p.service, &c) {
                if several {
                    seen.insert(p.service, None);
                }
                continue;
            }
            if !self.point_passes(p, &c) {
                continue;
            }
            if several {
                seen.insert(p.service, Some(hits.len()));
            }
            hits.push((
                d2,
                Hit {
                    service: p.service,
                    point,
                    distance_m: spatial::chord2_to_metres(d2),
                },
            ));
        }
        Ok(self.finish(hits, q.limit, q.day()))
    }

    /// Every service with a point within the radius that passes the filters, each at its
    /// nearest such point (ties: the first point in index order), in no particular order;
    /// `q.limit` is not used.
    ///
    /// For a caller whose ranking puts something before distance, and so must weigh everything
    /// in reach: one range query over the narrowest tree costs far less than walking the same
    /// points nearest first.
    pub fn search_all(&self, conn: &Connection, q: &NearQuery) -> Result<Vec<Hit>> {
        q.check()?;
        let c = self.compile(conn, q)?;
        if c.languages.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let origin = spatial::unit_vector(q.latitude, q.longitude);
        let r2 = spatial::metres_to_chord2(q.radius_m);
        if let Some(t) = c.text.as_ref() {
            return Ok(self.search_within(&t.list, &c, origin, r2, usize::MAX, q.day()));
        }
        let facet_tree = self.best_facet(&q.filters, &c).map(|f| self.facet_tree(f));
        let tree = facet_tree.as_deref().unwrap_or(self.spatial.all());
        let mut hits: Vec<(f64, Hit)> = Vec::new();
        // Services with several locations seen so far: their hit's position in `hits`, or
        // None when the service fails the filters.
        let mut seen: HashMap<u32, Option<usize>> = HashMap::new();
        for entry in tree.locate_within_distance(origin, r2) {
            let point = entry.data;
            let p = &self.spatial.points[point as usize];
            let d2 = rstar::PointDistance::distance_2(entry, &origin);
            let several = self.services[p.service as usize].points.len() > 1;
            if several {
                match seen.get(&p.service) {
                    Some(None) => continue,
                    Some(Some(at)) => {
                        let hit = &mut hits[*at];
                        if (d2, point) < (hit.0, hit.1.point) && self.point_passes(p, &c) {
                            *hit = (
                                d2,
                                Hit {
                                    service: p.service,
                                    point,
                                    distance_m: spatial::chord2_to_metres(d2),
                                },
                            );
                        }
                        continue;
                    }
                    None => {}
                }
            }
            if !self.service_passes(p.service, &c) {
                if several {
                    seen.insert(p.service, None);
                }
                continue;
            }
            if !self.point_passes(p, &c) {
                continue;
            }
            if several {
                seen.insert(p.service, Some(hits.len()));
            }
            hits.push((
                d2,
                Hit {
                    service: p.service,
                    point,
                    distance_m: spatial::chord2_to_metres(d2),
                },
            ));
        }
        Ok(hits.into_iter().map(|(_, h)| h).collect())
    }

    /// How many indexed points carry an interest (0 for an unknown code): which interest
    /// narrows a search most.
    pub fn interest_points(&self, code: &str) -> usize {
        Taxonomy::signpost()
            .term_index("interest", code)
            .map_or(0, |i| self.facet_size(Facet::Interest(i as u8)))
    }

    fn search_within(
        &self,
        set: &[u32],
        c: &Compiled,
        origin: [f64; 3],
        r2: f64,
        limit: usize,
        today: i32,
    ) -> Vec<Hit> {
        let mut hits = Vec::new();
        for &s in set {
            if !self.service_passes(s, c) {
                continue;
            }
            let mut best: Option<(f64, u32)> = None;
            for point in self.services[s as usize].points.clone() {
                let p = &self.spatial.points[point as usize];
                let v = spatial::unit_vector(p.latitude, p.longitude);
                let d2: f64 = (0..3).map(|i| (v[i] - origin[i]).powi(2)).sum();
                if d2 <= r2 && best.is_none_or(|(b, _)| d2 < b) && self.point_passes(p, c) {
                    best = Some((d2, point));
                }
            }
            if let Some((d2, point)) = best {
                hits.push((
                    d2,
                    Hit {
                        service: s,
                        point,
                        distance_m: spatial::chord2_to_metres(d2),
                    },
                ));
            }
        }
        self.finish(hits, limit, today)
    }

    /// Nearest first; at exactly equal distance fresher first, then by service.
    fn finish(&self, mut hits: Vec<(f64, Hit)>, limit: usize, today: i32) -> Vec<Hit> {
        let stale = |h: &Hit| self.services[h.service as usize].may_be_out_of_date(today);
        hits.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then_with(|| stale(&a.1).cmp(&stale(&b.1)))
                .then_with(|| a.1.service.cmp(&b.1.service))
        });
        hits.truncate(limit);
        hits.into_iter().map(|(_, h)| h).collect()
    }

    /// The sessions at a hit's place that start within `days` local days from `now`'s day,
    /// from the schedules the index holds in memory (a place's own, else its service's); `None`
    /// when none of them gives times.
    pub fn sessions(
        &self,
        conn: &Connection,
        hit: &Hit,
        now: DateTime<Utc>,
        days: u32,
    ) -> Result<Option<Vec<crate::store::Session>>> {
        let timed: Vec<&Schedule> = self
            .schedules_at(conn, hit)?
            .iter()
            .filter(|s| s.has_hours())
            .collect();
        if timed.is_empty() {
            return Ok(None);
        }
        let mut all: Vec<_> = timed
            .iter()
            .flat_map(|s| s.sessions_from(now, days))
            .collect();
        all.sort();
        all.dedup();
        Ok(Some(all))
    }

    /// Whether a hit's place has any schedule that gives times (a place's own, else its
    /// service's): exactly when [`SearchIndex::sessions`] answers `Some`, without placing a
    /// session on the calendar, so a ranking can know "times not stated" cheaply.
    pub fn has_times(&self, conn: &Connection, hit: &Hit) -> Result<bool> {
        Ok(self
            .schedules_at(conn, hit)?
            .iter()
            .any(Schedule::has_hours))
    }

    /// The schedules that apply at a hit's place, from memory: the place's own if it has any,
    /// else its service's (empty when neither has one that can be placed on a calendar).
    pub fn schedules_at(&self, conn: &Connection, hit: &Hit) -> Result<&[Schedule]> {
        let p = &self.spatial.points[hit.point as usize];
        Ok(self
            .schedules(conn)?
            .at(p.sal_rowid, self.services[hit.service as usize].rowid))
    }

    /// The entry of the service stored at `rowid`, if it is indexed.
    pub fn entry_for_rowid(&self, rowid: i64) -> Option<&ServiceEntry> {
        let slot = *self.slot_of_rowid.get(usize::try_from(rowid).ok()?)?;
        (slot != NO_SLOT).then(|| &self.services[slot as usize])
    }

    /// Whether the service in `slot` states any of these languages (codes or names, as the
    /// language filter takes them).
    pub fn speaks_any(&self, slot: u32, languages: &[String]) -> bool {
        let s = &self.services[slot as usize];
        languages.iter().any(|l| {
            self.languages
                .get(&l.trim().to_lowercase())
                .is_some_and(|id| s.languages.contains(id))
        })
    }

    /// The nearest indexed point of the service stored at `rowid` to a place, as a hit;
    /// `None` when that service has no indexed point.
    pub fn hit_for_rowid(&self, rowid: i64, latitude: f64, longitude: f64) -> Option<Hit> {
        let slot = *self.slot_of_rowid.get(usize::try_from(rowid).ok()?)?;
        if slot == NO_SLOT {
            return None;
        }
        let origin = Point::new(longitude, latitude);
        self.services[slot as usize]
            .points
            .clone()
            .map(|i| {
                let p = &self.spatial.points[i as usize];
                let d = Haversine.distance(origin, Point::new(p.longitude, p.latitude));
                Hit {
                    service: slot,
                    point: i,
                    distance_m: d,
                }
            })
            .min_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
    }

    /// One page of the indexed points within `radius_m` that `keep` accepts, nearest first:
    /// how many there are in all, and the points from the `skip`th on, at most `take`.
    ///
    /// The count walks the tree without ordering anything, and only the points up to the end
    /// of the page are put in order: ordering every point within a wide radius (a million
    /// metres holds all of Great Britain) was nearly all of such a page's time (measured).
    /// Points at exactly equal distance are ordered as [`SearchIndex::search`] orders services:
    /// fresher first on `today` (None: today by the clock), then in index order; the walk goes on
    /// through the points tied with the page's last, so pages never overlap or skip.
    #[allow(clippy::too_many_arguments)]
    pub fn page_within(
        &self,
        latitude: f64,
        longitude: f64,
        radius_m: f64,
        keep: impl Fn(u32) -> bool,
        skip: usize,
        take: usize,
        today: Option<NaiveDate>,
    ) -> Result<(usize, Vec<u32>)> {
        let q = NearQuery {
            radius_m,
            today,
            ..NearQuery::at(latitude, longitude)
        };
        q.check()?;
        let today = q.day();
        let origin = spatial::unit_vector(latitude, longitude);
        let r2 = spatial::metres_to_chord2(radius_m);
        let tree = self.spatial.all();
        let total = tree
            .locate_within_distance(origin, r2)
            .filter(|entry| keep(entry.data))
            .count();
        let end = skip.saturating_add(take);
        let mut walked: Vec<(f64, u32)> = Vec::new();
        for (entry, d2) in tree.nearest_neighbor_iter_with_distance_2(&origin) {
            if d2 > r2 || (walked.len() >= end && walked.last().is_some_and(|l| d2 > l.0)) {
                break;
            }
            if keep(entry.data) {
                walked.push((d2, entry.data));
            }
        }
        let stale = |point: u32| {
            self.services[self.spatial.points[point as usize].service as usize]
                .may_be_out_of_date(today)
        };
        walked.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then_with(|| stale(a.1).cmp(&stale(b.1)))
                .then_with(|| a.1.cmp(&b.1))
        });
        let page = walked
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|(_, point)| point)
            .collect();
        Ok((total, page))
    }

    /// The reference answer: every point, haversine distance, filter, nearest per service, sort.
    pub fn brute_force(&self, conn: &Connection, q: &NearQuery) -> Result<Vec<Hit>> {
        q.check()?;
        let c = self.compile(conn, q)?;
        let origin = Point::new(q.longitude, q.latitude);
        let mut best: HashMap<u32, (f64, u32)> = HashMap::new();
        for (i, p) in self.spatial.points.iter().enumerate() {
            if !self.service_passes(p.service, &c) || !self.point_passes(p, &c) {
                continue;
            }
            let d = Haversine.distance(origin, Point::new(p.longitude, p.latitude));
            if d > q.radius_m {
                continue;
            }
            let e = best.entry(p.service).or_insert((d, i as u32));
            if d < e.0 {
                *e = (d, i as u32);
            }
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .map(|(service, (distance_m, point))| Hit {
                service,
                point,
                distance_m,
            })
            .collect();
        let today = q.day();
        let stale = |h: &Hit| self.services[h.service as usize].may_be_out_of_date(today);
        hits.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| stale(a).cmp(&stale(b)))
                .then_with(|| a.service.cmp(&b.service))
        });
        hits.truncate(q.limit);
        Ok(hits)
    }
}

/// Services, their rowid-to-slot map, and interned language codes: type of [`read_services`].
type ServiceTable = (Vec<ServiceEntry>, Vec<u32>, HashMap<String, u32>);

fn max_rowid(conn: &Connection, table: &str) -> Result<usize> {
    let max: Option<i64> =
        conn.query_row(&format!("SELECT max(rowid) FROM {table}"), [], |r| r.get(0))?;
    Ok(max.unwrap_or(0).max(0) as usize)
}

/// Where services are: trusted coordinates by `location.rowid`, and every
/// (service_at_location, service, location) rowid triple.
struct Places {
    located: Vec<Option<(f64, f64)>>,
    links: Vec<(i64, i64, i64)>,
    /// Check days by `service.rowid`.
    checked: Vec<Option<i32>>,
}

fn read_places(conn: &Connection) -> Result<Places> {
    let mut located: Vec<Option<(f64, f64)>> = vec![None; max_rowid(conn, "location")? + 1];
    let mut stmt =
        conn.prepare("SELECT rowid, latitude, longitude FROM location WHERE coord_status = 'ok'")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        located[r.get::<_, i64>(0)? as usize] = Some((r.get(1)?, r.get(2)?));
    }
    let mut links = Vec::with_capacity(max_rowid(conn, "service_at_location")?);
    let mut stmt =
        conn.prepare("SELECT rowid, service_rowid, location_rowid FROM service_at_location")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        links.push((r.get(0)?, r.get(1)?, r.get(2)?));
    }
    // A scan of its own, on this thread beside the services' facets, rather than a join there
    // (an index lookup per service).
    let mut checked: Vec<Option<i32>> = vec![None; max_rowid(conn, "service")? + 1];
    let mut stmt =
        conn.prepare("SELECT rowid, assured_date FROM service WHERE assured_date IS NOT NULL")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let day = r
            .get_ref(1)?
            .as_str()
            .ok()
            .and_then(crate::freshness::checked_on)
            .map(crate::freshness::day_number);
        checked[r.get::<_, i64>(0)? as usize] = day;
    }
    Ok(Places {
        located,
        links,
        checked,
    })
}

/// Points per facet, counted without building anything.
fn count_facets(services: &[ServiceEntry], languages: usize) -> HashMap<Facet, usize> {
    let (mut no_referral, mut free, mut wheelchair) = (0, 0, 0);
    let mut domains = [0usize; 32];
    let mut interests = [0usize; 64];
    let mut langs = vec![0usize; languages];
    for s in services {
        let n = s.points.len();
        if n == 0 {
            continue;
        }
        no_referral += n * s.access.is_some_and(Access::no_referral) as usize;
        free += n * (s.free == Some(true)) as usize;
        wheelchair += n * s.wheelchair as usize;
        let mut bits = s.domains;
        while bits != 0 {
            domains[bits.trailing_zeros() as usize] += n;
            bits &= bits - 1;
        }
        let mut bits = s.interests;
        while bits != 0 {
            interests[bits.trailing_zeros() as usize] += n;
            bits &= bits - 1;
        }
        for &l in s.languages.iter() {
            langs[l as usize] += n;
        }
    }
    let mut counts: HashMap<Facet, usize> = HashMap::new();
    counts.insert(Facet::NoReferral, no_referral);
    counts.insert(Facet::Free, free);
    counts.insert(Facet::Wheelchair, wheelchair);
    counts.extend(
        domains
            .iter()
            .enumerate()
            .map(|(i, &n)| (Facet::Domain(i as u8), n)),
    );
    counts.extend(
        interests
            .iter()
            .enumerate()
            .map(|(i, &n)| (Facet::Interest(i as u8), n)),
    );
    counts.extend(
        langs
            .iter()
            .enumerate()
            .map(|(i, &n)| (Facet::Language(i as u32), n)),
    );
    counts.retain(|_, n| *n > 0);
    counts
}

/// Active services with their facets.
fn read_services(conn: &Connection) -> Result<ServiceTable> {
    let mut slot_of_rowid: Vec<u32> = vec![NO_SLOT; max_rowid(conn, "service_facet")? + 1];
    let mut services: Vec<ServiceEntry> = Vec::new();
    let mut languages: HashMap<String, u32> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT service_rowid, access, is_free, wheelchair, domain_bits, interest_bits, languages,
                    attendance
             FROM service_facet WHERE active = 1",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let rowid: i64 = r.get(0)?;
            let langs: Box<[u32]> = match r.get_ref(6)?.as_str().map_err(rusqlite::Error::from)? {
                "" => Box::new([]),
                text => text
                    .split('\n')
                    .map(|l| {
                        let next = languages.len() as u32;
                        *languages.entry(l.to_string()).or_insert(next)
                    })
                    .collect(),
            };
            slot_of_rowid[rowid as usize] = services.len() as u32;
            services.push(ServiceEntry {
                rowid,
                access: r
                    .get_ref(1)?
                    .as_str_or_null()
                    .map_err(rusqlite::Error::from)?
                    .and_then(Access::from_code),
                free: r.get(2)?,
                wheelchair: r.get(3)?,
                domains: r.get::<_, i64>(4)? as u32,
                interests: r.get::<_, i64>(5)? as u64,
                languages: langs,
                attendance: r.get::<_, i64>(7)? as u8,
                checked: None,
                points: 0..0,
            });
        }
    }
    Ok((services, slot_of_rowid, languages))
}

fn has_facet(s: &ServiceEntry, facet: Facet) -> bool {
    match facet {
        Facet::NoReferral => s.access.is_some_and(Access::no_referral),
        Facet::Free => s.free == Some(true),
        Facet::Wheelchair => s.wheelchair,
        Facet::Domain(i) => s.domains & (1 << i) != 0,
        Facet::Interest(i) => s.interests & (1 << i) != 0,
        Facet::Language(l) => s.languages.contains(&l),
        // A place's, not a service's: see `SearchIndex::facet_tree`.
        Facet::OnWeekday(_) | Facet::OpenInHour(_) => false,
    }
}
