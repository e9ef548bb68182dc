//! "Suggest for this person": listings near their home area that match them, ranked, each with
//! the reasons a connector can read out.
//!
//! The rules (the brute-force reference in the tests applies the same ones to every listing):
//! 1. within the distance the person can travel of their home area's centroid;
//! 2. if they have interests, at least one of them; if they want it, no referral needed;
//! 3. if they gave free times and the listing's times are known, at least one session in the
//!    next [`Options::horizon_days`] days starts when they are free (else it is left out);
//!    a listing whose times are not stated stays, ranked lower;
//! 4. ranked by how many things are unknown or unmet (times not stated; an access need the
//!    listing does not state; none of their non-English languages stated), then by more
//!    interests matched, then by distance, then by the directory's own order.
//!
//! Candidates come from the directory's near-me search (its R-tree and facet filters), read
//! nearest first in growing batches, and the walk stops once `limit` suggestions with nothing
//! unmet and every interest matched are found: nothing farther can outrank them. In a dense
//! district where that does not happen soon, the rest in reach is read at once by a range
//! query (through the rarest interest's tree when only a listing with every interest could
//! still enter), bounded without schedules, and only the few that could enter are assessed.
use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Europe::London;
use serde::Serialize;
use signpost_directory::search::ServiceEntry;
use signpost_directory::taxonomy::{Access, Taxonomy};
use signpost_directory::{Directory, Filters, Hit, NearQuery};
use signpost_postcodes::Gazetteer;

use crate::error::{Error, Result};
use crate::model::{DayPart, FreeTime, Person};
use crate::store::Caseload;

/// How many suggestions and how far ahead to look for sessions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Suggestions wanted.
    pub limit: usize,
    /// Days ahead in which a session must fall in a free time.
    pub horizon_days: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limit: 10,
            horizon_days: 28,
        }
    }
}

/// Whether a listing's sessions suit the person's free times.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TimeFit {
    /// A session starts when they are free (the first such).
    Fits {
        /// Its start.
        at: DateTime<Utc>,
        /// The same session runs a week later too (so "Tuesdays 10:00" is true).
        weekly: bool,
    },
    /// They gave no free times; the next session, if any in the horizon.
    Unasked {
        /// The next session's start.
        next: Option<DateTime<Utc>>,
    },
    /// The listing does not say when it runs.
    NotStated,
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The listing.
    pub service_id: String,
    /// Its name.
    pub name: String,
    /// Its organisation.
    pub organization: Option<String>,
    /// From the centre of the person's home area, in metres.
    pub distance_m: f64,
    /// Why, in order: distance, interests, time, access, cost, step-free, language.
    pub reasons: Vec<String>,
    /// How its times suit the person.
    pub time_fit: TimeFit,
    /// Interest codes it matches.
    pub interests: Vec<String>,
    /// Things unknown or unmet (the first ranking key).
    pub misses: u8,
    /// The listing's content hash (what "changed" is measured by).
    pub content_hash: String,
    /// The directory's order among equals: position in its index.
    #[serde(skip)]
    pub(crate) slot: u32,
}

impl Suggestion {
    /// The ranking key: fewer misses, more interests, nearer, then the directory's order.
    pub(crate) fn rank(&self) -> (u8, Reverse<usize>, f64, u32) {
        (
            self.misses,
            Reverse(self.interests.len()),
            self.distance_m,
            self.slot,
        )
    }
}

/// Compare two suggestions by rank.
pub fn by_rank(a: &Suggestion, b: &Suggestion) -> std::cmp::Ordering {
    let (am, ai, ad, asl) = a.rank();
    let (bm, bi, bd, bsl) = b.rank();
    am.cmp(&bm)
        .then(ai.cmp(&bi))
        .then(ad.total_cmp(&bd))
        .then(asl.cmp(&bsl))
}

/// Where a person's home area is.
pub fn home_point(person: &Person) -> Result<(f64, f64)> {
    if person.details.home_area.is_empty() {
        return Err(Error::invalid(
            "home_area",
            format!(
                "{} has no home area; add a postcode district or sector to get suggestions",
                person.details.name
            ),
        ));
    }
    let r = Gazetteer::embedded()
        .resolve(&person.details.home_area)
        .map_err(|e| Error::invalid("home_area", e.to_string()))?;
    Ok((r.latitude, r.longitude))
}

/// What a person's rules ask of a listing, worked out once per person, not per candidate.
pub struct Wants {
    interest_bits: u64,
    step_free: bool,
    other_languages: Vec<String>,
    no_referral: bool,
    free: Vec<FreeTime>,
}

impl Wants {
    /// The person's wants.
    pub fn of(person: &Person) -> Wants {
        let codes = person.details.interest_codes();
        let tax = Taxonomy::signpost();
        let interest_bits = codes
            .iter()
            .filter_map(|c| tax.term_index("interest", c))
            .fold(0u64, |bits, i| bits | (1u64 << i));
        Wants {
            interest_bits,
            step_free: person
                .details
                .access_codes()
                .iter()
                .any(|c| c == "wheelchair"),
            other_languages: person
                .details
                .languages
                .iter()
                .filter(|l| l.as_str() != "en")
                .cloned()
                .collect(),
            no_referral: person.details.no_referral_only,
            free: person.details.free_time_slots(),
        }
    }
}

/// The search filters a person's rules give (rule 2).
pub fn filters_for(person: &Person) -> Filters {
    Filters {
        interests: person.details.interest_codes(),
        no_referral: person.details.no_referral_only,
        ..Filters::default()
    }
}

/// Ranked suggestions for one person at `now`.
pub fn suggest(
    dir: &Directory,
    person: &Person,
    now: DateTime<Utc>,
    options: Options,
) -> Result<Vec<Suggestion>> {
    let (latitude, longitude) = home_point(person)?;
    let wants = Wants::of(person);
    let perfect_interests = person.details.interests.len();
    let mut batch = (options.limit * 4).max(32);
    let query = |limit: usize, filters: Filters| NearQuery {
        latitude,
        longitude,
        radius_m: person.travel_m(),
        limit,
        filters,
        today: Some(now.date_naive()),
    };
    // The best `limit` so far, in rank order, each with its hit (to name it at the end).
    let mut best: Vec<(Suggestion, Hit)> = Vec::new();
    let mut walked: Vec<Hit> = Vec::new();
    let perfect = |best: &[(Suggestion, Hit)]| {
        best.len() == options.limit
            && best
                .iter()
                .all(|(s, _)| s.misses == 0 && s.interests.len() >= perfect_interests)
    };
    // Nearest first, in growing batches: most people have a full list of perfect suggestions
    // within the first, and then nothing farther can outrank them.
    loop {
        let hits = dir.search(&query(batch, filters_for(person)))?;
        for hit in &hits[walked.len().min(hits.len())..] {
            consider(dir, person, &wants, hit, now, options, &mut best)?;
        }
        let exhausted = hits.len() < batch;
        walked = hits;
        if exhausted || perfect(&best) {
            return best
                .into_iter()
                .map(|(s, hit)| name(dir, &hit, s))
                .collect();
        }
        if batch >= ORDERED_WALK_MAX {
            break;
        }
        batch = batch.saturating_mul(4);
    }
    // A dense district, and the list is not yet perfect: a farther listing can still outrank
    // a nearer one by matching more interests or missing less, so everything in reach is
    // weighed. Bounds first (no schedules read), then the few that could enter the list, best
    // bound first, until none can.
    let mut filters = filters_for(person);
    let full_of_one_short = best.len() == options.limit
        && best
            .last()
            .is_some_and(|(s, _)| s.misses == 0 && s.interests.len() + 1 == perfect_interests);
    if full_of_one_short {
        // Only a listing with every one of their interests can enter: read the rarest's tree.
        let index = dir.index()?;
        if let Some(rarest) = filters
            .interests
            .iter()
            .min_by_key(|code| index.interest_points(code))
            .cloned()
        {
            filters.interests = vec![rarest];
        }
    }
    let seen: std::collections::HashSet<u32> = walked.iter().map(|h| h.service).collect();
    let mut rest: Vec<(Bound, Hit)> = Vec::new();
    for hit in dir.search_all(&query(usize::MAX, filters))? {
        if seen.contains(&hit.service) {
            continue;
        }
        if let Some((misses, matched)) = quick(dir, &wants, &hit)? {
            let bound = (misses, Reverse(matched), hit.distance_m, hit.service);
            if !cannot_enter(&best, options.limit, bound) {
                rest.push((bound, hit));
            }
        }
    }
    rest.sort_by(|a, b| {
        (a.0 .0, a.0 .1)
            .cmp(&(b.0 .0, b.0 .1))
            .then(a.0 .2.total_cmp(&b.0 .2))
            .then(a.0 .3.cmp(&b.0 .3))
    });
    for (bound, hit) in rest {
        if cannot_enter(&best, options.limit, bound) {
            // Sorted by bound, so none after it can either.
            break;
        }
        enter(dir, person, &wants, &hit, bound, now, options, &mut best)?;
    }
    best.into_iter()
        .map(|(s, hit)| name(dir, &hit, s))
        .collect()
}

/// How far the nearest-first walk goes before a dense district is weighed all at once.
const ORDERED_WALK_MAX: usize = 640;

/// A lower bound on a candidate's rank (see [`Suggestion::rank`]), known without schedules.
type Bound = (u8, Reverse<usize>, f64, u32);

/// Whether a candidate whose rank can be no better than `bound` cannot enter a full list.
fn cannot_enter(best: &[(Suggestion, Hit)], limit: usize, bound: Bound) -> bool {
    if best.len() < limit {
        return false;
    }
    let worst = best.last().expect("full").0.rank();
    (bound.0, bound.1) > (worst.0, worst.1)
        || ((bound.0, bound.1) == (worst.0, worst.1) && (bound.2, bound.3) >= (worst.2, worst.3))
}

/// Weigh one candidate: its bound from [`quick`], then [`enter`].
fn consider(
    dir: &Directory,
    person: &Person,
    wants: &Wants,
    hit: &Hit,
    now: DateTime<Utc>,
    options: Options,
    best: &mut Vec<(Suggestion, Hit)>,
) -> Result<()> {
    let Some((misses, matched)) = quick(dir, wants, hit)? else {
        return Ok(());
    };
    let bound = (misses, Reverse(matched), hit.distance_m, hit.service);
    enter(dir, person, wants, hit, bound, now, options, best)
}

/// Assess a candidate whose bound is known, and keep it in rank order if it makes the list.
/// What is known without reading schedules bounds the rank from below: a candidate that
/// cannot beat the worst of a full list is not looked at further.
#[allow(clippy::too_many_arguments)]
fn enter(
    dir: &Directory,
    person: &Person,
    wants: &Wants,
    hit: &Hit,
    bound: Bound,
    now: DateTime<Utc>,
    options: Options,
    best: &mut Vec<(Suggestion, Hit)>,
) -> Result<()> {
    if cannot_enter(best, options.limit, bound) {
        return Ok(());
    }
    if let Some(s) = assess_unnamed(dir, person, wants, hit, bound.0, now, options.horizon_days)? {
        let at = best.partition_point(|(b, _)| by_rank(b, &s).is_lt());
        best.insert(at, (s, *hit));
        best.truncate(options.limit);
    }
    Ok(())
}

/// The rules that need no schedule: `None` when interests or "no referral" leave the
/// candidate out, else (misses known so far, interests matched).
fn quick(dir: &Directory, wants: &Wants, hit: &Hit) -> Result<Option<(u8, usize)>> {
    let index = dir.index()?;
    let entry = index.service(hit.service);
    let matched = (entry.interests & wants.interest_bits).count_ones() as usize;
    if (wants.interest_bits != 0 && matched == 0)
        || (wants.no_referral && !entry.access.is_some_and(Access::no_referral))
    {
        return Ok(None);
    }
    let mut misses = 0;
    if wants.step_free && !entry.wheelchair {
        misses += 1;
    }
    if !wants.other_languages.is_empty() && !index.speaks_any(hit.service, &wants.other_languages) {
        misses += 1;
    }
    // Times not stated count against someone who gave free times (rule 4). Knowing it here,
    // before any session is placed, lets a dense district's many such listings be passed over
    // once the list is full of better ones.
    if !wants.free.is_empty() && !dir.has_times(hit)? {
        misses += 1;
    }
    Ok(Some((misses, matched)))
}

/// Apply the rules to one candidate: `None` when it is left out.
pub fn assess(
    dir: &Directory,
    person: &Person,
    wants: &Wants,
    hit: &Hit,
    now: DateTime<Utc>,
    horizon_days: u32,
) -> Result<Option<Suggestion>> {
    let Some(known) = quick(dir, wants, hit)? else {
        return Ok(None);
    };
    match assess_unnamed(dir, person, wants, hit, known.0, now, horizon_days)? {
        Some(s) => name(dir, hit, s).map(Some),
        None => Ok(None),
    }
}

/// [`assess`] without the listing's names and content hash, for a candidate [`quick`] kept
/// with `misses` already known.
fn assess_unnamed(
    dir: &Directory,
    person: &Person,
    wants: &Wants,
    hit: &Hit,
    misses: u8,
    now: DateTime<Utc>,
    horizon_days: u32,
) -> Result<Option<Suggestion>> {
    if hit.distance_m > person.travel_m() {
        return Ok(None);
    }
    let index = dir.index()?;
    let entry: &ServiceEntry = index.service(hit.service);
    let tax = Taxonomy::signpost();
    let interest_terms = &tax.group("interest").expect("interest group").terms;
    let matched: Vec<String> = interest_terms
        .iter()
        .enumerate()
        .filter(|(i, _)| entry.interests & wants.interest_bits & (1u64 << i) != 0)
        .map(|(_, t)| t.code.clone())
        .collect();
    let free = &wants.free;
    let sessions = dir.sessions(hit, now, horizon_days)?;
    let time_fit = match (&sessions, free.is_empty()) {
        (None, _) => TimeFit::NotStated,
        (Some(s), true) => TimeFit::Unasked {
            next: s.first().map(|(start, _)| *start),
        },
        (Some(s), false) => match s.iter().find(|(start, _)| fits(free, *start)) {
            Some((start, _)) => {
                let local = start.with_timezone(&London);
                let weekly = s.iter().any(|(other, _)| {
                    let o = other.with_timezone(&London);
                    o.date_naive() == local.date_naive() + chrono::Duration::days(7)
                        && o.time() == local.time()
                });
                TimeFit::Fits { at: *start, weekly }
            }
            None => return Ok(None),
        },
    };
    let needs_step_free = wants.step_free;
    let other_languages = &wants.other_languages;
    let speaks = !other_languages.is_empty() && index.speaks_any(hit.service, other_languages);
    let mut reasons = vec![distance_words(hit.distance_m)];
    for code in &matched {
        if let Some(t) = interest_terms.iter().find(|t| &t.code == code) {
            reasons.push(t.name.to_lowercase());
        }
    }
    match time_fit {
        TimeFit::Fits { at, weekly } => {
            reasons.push(format!("{}, when you're free", session_words(at, weekly)))
        }
        TimeFit::Unasked { next: Some(at) } => reasons.push(format!(
            "next {}",
            at.with_timezone(&London).format("%a %-d %b %H:%M")
        )),
        TimeFit::Unasked { next: None } => {}
        TimeFit::NotStated => reasons.push("times not stated".into()),
    }
    if let Some(a) = entry.access {
        reasons.push(access_words(a).into());
    }
    if entry.free == Some(true) {
        reasons.push("free".into());
    }
    if entry.wheelchair {
        reasons.push("step-free".into());
    } else if needs_step_free {
        reasons.push("step-free access not stated".into());
    }
    if speaks {
        reasons.push(format!("in {}", other_languages.join(" or ")));
    }
    Ok(Some(Suggestion {
        service_id: String::new(),
        name: String::new(),
        organization: None,
        distance_m: hit.distance_m,
        reasons,
        time_fit,
        interests: matched,
        misses,
        content_hash: String::new(),
        slot: hit.service,
    }))
}

/// Fill in what a suggestion shows of its listing (id, names, content hash) from the directory
/// file: left until a candidate is known to be kept, as most assessed candidates are not.
fn name(dir: &Directory, hit: &Hit, mut s: Suggestion) -> Result<Suggestion> {
    let (service_id, name, organization) = dir.hit_names(hit)?;
    s.content_hash = dir.content_hash(&service_id)?.unwrap_or_default();
    s.service_id = service_id;
    s.name = name;
    s.organization = organization;
    Ok(s)
}

/// Whether a session starting at `start` falls in one of the free times (UK time).
pub fn fits(free: &[FreeTime], start: DateTime<Utc>) -> bool {
    let local = start.with_timezone(&London);
    let part = DayPart::of_minute(local.hour() * 60 + local.minute());
    free.iter()
        .any(|f| f.day == local.weekday() && f.part == part)
}

/// "Tuesdays 10:00" for a weekly session, else the date: "Thu 24 Dec 15:40".
fn session_words(at: DateTime<Utc>, weekly: bool) -> String {
    let local = at.with_timezone(&London);
    if weekly {
        format!("{}s {}", local.format("%A"), local.format("%H:%M"))
    } else {
        local.format("%a %-d %b %H:%M").to_string()
    }
}

fn access_words(a: Access) -> &'static str {
    match a {
        Access::DropIn => "drop in",
        Access::SelfReferral => "self-referral",
        Access::BookingRequired => "booking needed",
        Access::ReferralRequired => "referral needed",
    }
}

/// "850 m", "1.2 km", "12 km".
pub fn distance_words(m: f64) -> String {
    if m < 1000.0 {
        format!("{} m", (m / 10.0).round() * 10.0)
    } else if m < 10_000.0 {
        format!("{:.1} km", m / 1000.0)
    } else {
        format!("{:.0} km", m / 1000.0)
    }
}

/// New or changed listings that now suit people on the caseload.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewMatches {
    /// Each person with something new, and what.
    pub people: Vec<NewForPerson>,
    /// Distinct listings among them ("3 new listings suit 5 people").
    pub listings: usize,
}

/// Something new for one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewForPerson {
    /// Their id.
    pub person_id: String,
    /// Their name.
    pub person_name: String,
    /// The new or changed suggestions.
    pub suggestions: Vec<Suggestion>,
}

impl NewMatches {
    /// "3 new listings suit 5 people", or `None` when there is nothing new.
    pub fn headline(&self) -> Option<String> {
        if self.people.is_empty() {
            return None;
        }
        let l = self.listings;
        let p = self.people.len();
        Some(format!(
            "{l} new {} {} {p} {}",
            if l == 1 { "listing" } else { "listings" },
            if l == 1 { "suits" } else { "suit" },
            if p == 1 { "person" } else { "people" },
        ))
    }
}

/// After a sync: for each open person with a home area, the suggestions that were not among
/// those already seen (or whose listing changed). With `mark_seen`, the current suggestions
/// become the seen set. A person seen for the first time sets a baseline and reports nothing.
pub fn new_for_people(
    caseload: &Caseload,
    dir: &Directory,
    now: DateTime<Utc>,
    options: Options,
    mark_seen: bool,
) -> Result<NewMatches> {
    let mut out = NewMatches::default();
    let mut distinct: HashMap<String, ()> = HashMap::new();
    let mut to_mark = Vec::new();
    for person in caseload.all_people()? {
        if person.closed_on.is_some() || person.details.home_area.is_empty() {
            continue;
        }
        let current = suggest(dir, &person, now, options)?;
        let seen = caseload.seen(&person.id)?;
        let first_look = seen.is_none();
        let seen: HashMap<String, String> = seen.unwrap_or_default().into_iter().collect();
        if !first_look {
            let fresh: Vec<Suggestion> = current
                .iter()
                .filter(|s| seen.get(&s.service_id) != Some(&s.content_hash))
                .cloned()
                .collect();
            if !fresh.is_empty() {
                for s in &fresh {
                    distinct.insert(s.service_id.clone(), ());
                }
                out.people.push(NewForPerson {
                    person_id: person.id.clone(),
                    person_name: person.details.name.clone(),
                    suggestions: fresh,
                });
            }
        }
        if mark_seen || first_look {
            let pairs: Vec<(String, String)> = current
                .iter()
                .map(|s| (s.service_id.clone(), s.content_hash.clone()))
                .collect();
            to_mark.push((person.id.clone(), pairs));
        }
    }
    caseload.set_seen_many(&to_mark)?;
    out.listings = distinct.len();
    Ok(out)
}

/// "Who on my caseload might like this?": open people for whom this listing passes every rule,
/// best suited first.
pub fn who_might_like(
    caseload: &Caseload,
    dir: &Directory,
    service_id: &str,
    now: DateTime<Utc>,
    options: Options,
) -> Result<Vec<(String, String, Suggestion)>> {
    let mut out = Vec::new();
    for person in caseload.all_people()? {
        if person.closed_on.is_some() || person.details.home_area.is_empty() {
            continue;
        }
        let (lat, lon) = home_point(&person)?;
        let Some(hit) = dir.hit_for(service_id, lat, lon)? else {
            continue;
        };
        if let Some(s) = assess(
            dir,
            &person,
            &Wants::of(&person),
            &hit,
            now,
            options.horizon_days,
        )? {
            out.push((person.id.clone(), person.details.name.clone(), s));
        }
    }
    out.sort_by(|a, b| by_rank(&a.2, &b.2).then_with(|| a.1.cmp(&b.1)));
    Ok(out)
}
