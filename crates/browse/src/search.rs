//! Near-me search as the app asks for it: a place typed by a person (or the device's
//! position) and the filters on screen, answered with rows ready to show.
use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};
use signpost_directory::taxonomy::Taxonomy;
use signpost_directory::{Attendance, Directory, Filters, NearQuery, NearResult, WeekTimes};
use signpost_postcodes::{Gazetteer, Lookup, PlaceChoice};

use crate::error::{Error, Result};

/// When the person wants to go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum When {
    /// Any time.
    #[default]
    Any,
    /// Open now.
    OpenNow,
    /// Open at a UK local date and time, e.g. `2026-11-24T10:00` (what a
    /// `datetime-local` field gives).
    At {
        /// The local date and time.
        local: String,
    },
    /// Meets in the coming week on one of these days (`mon` … `sun`), in one of these
    /// parts of the day (`morning`, `afternoon`, `evening`); none given means any.
    ThisWeek {
        /// Weekdays.
        days: Vec<String>,
        /// Parts of the day.
        parts: Vec<String>,
    },
}

/// A search as the app's screen states it. Empty strings mean "not set".
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct SearchRequest {
    /// A postcode ("BS3 4AB", "BS3 4", "BS3") or a town or place name.
    pub place: Option<String>,
    /// The device's position, used when the person allowed it and gave no place.
    pub latitude: Option<f64>,
    /// See `latitude`.
    pub longitude: Option<f64>,
    /// Search radius; 10 km when not given.
    pub radius_km: Option<f64>,
    /// Most rows; 50 when not given.
    pub limit: Option<usize>,
    /// Only drop in or self-referral.
    pub no_referral: bool,
    /// CMHF domain code.
    pub domain: Option<String>,
    /// Interest code (kept for searches saved before several could be chosen).
    pub interest: Option<String>,
    /// Interest codes: a listing with any of them matches.
    pub interests: Vec<String>,
    /// Only free.
    pub free: bool,
    /// Only wheelchair accessible.
    pub wheelchair: bool,
    /// With `wheelchair`: also list, after those that state step-free access, the matches that
    /// do not say (most listings do not).
    pub include_unstated: bool,
    /// Language name or code.
    pub language: Option<String>,
    /// `in-person` or `online`.
    pub attendance: Option<String>,
    /// When.
    pub when: When,
    /// Words to look for.
    pub text: Option<String>,
}

/// Where the search was made from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Origin {
    /// What to call it: "BS3 4AB", "Bedminster (City of Bristol)", "your location".
    pub label: String,
    /// WGS84 latitude.
    pub latitude: f64,
    /// WGS84 longitude.
    pub longitude: f64,
}

/// One row of the results list (and one point on the map).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRow {
    /// HSDS service id.
    pub service_id: String,
    /// Nearest location's id.
    pub location_id: String,
    /// Name.
    pub name: String,
    /// Organization name.
    pub organization: Option<String>,
    /// Metres, great-circle.
    pub distance_m: f64,
    /// "350 m" or "2.4 km".
    pub distance_text: String,
    /// Location latitude.
    pub latitude: f64,
    /// Location longitude.
    pub longitude: f64,
    /// Access code (`drop-in` …) or `None` when not stated.
    pub access: Option<&'static str>,
    /// Drop in or self-referral: show the "no referral needed" badge.
    pub no_referral: bool,
    /// Free, costs money, or not stated.
    pub free: Option<bool>,
    /// Open at the time asked about (now, or the chosen time); `None` with no usable hours.
    pub open: Option<bool>,
    /// "Open now", "Next: Tue 24 Nov, 10:00", "Times not given" …
    pub opening_text: String,
    /// Not checked by its publisher for over a year (or never said when).
    pub may_be_out_of_date: bool,
    /// When it was last checked, as given (`2025-03-01`).
    pub assured_date: Option<String>,
    /// Meets at a place.
    pub in_person: bool,
    /// Can be joined online.
    pub online: bool,
    /// Postcode of the location, if known.
    pub postcode: Option<String>,
    /// Listed though it does not say whether it has step-free access (the person asked to
    /// include such listings).
    pub step_free_not_stated: bool,
    /// Listed though it does not say these things a filter asked for (the person asked to
    /// include such listings): "step-free access", "cost", "whether a referral is needed".
    pub not_stated: Vec<&'static str>,
}

/// A fact a filter asks about that a listing may not state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    StepFree,
    Free,
    NoReferral,
}

impl Fact {
    /// The facts `req` filters on, in the order the screen names them.
    fn asked(req: &SearchRequest) -> Vec<Fact> {
        [
            (req.wheelchair, Fact::StepFree),
            (req.free, Fact::Free),
            (req.no_referral, Fact::NoReferral),
        ]
        .into_iter()
        .filter_map(|(on, f)| on.then_some(f))
        .collect()
    }

    fn loosen(self, f: &mut Filters) {
        match self {
            Fact::StepFree => f.wheelchair = false,
            Fact::Free => f.free = false,
            Fact::NoReferral => f.no_referral = false,
        }
    }

    /// `Some(true)` when the listing says yes, `Some(false)` when it says no, `None` when it
    /// does not say. The index keeps step-free as a flag: not saying yes is not saying.
    fn stated(self, s: &signpost_directory::search::ServiceEntry) -> Option<bool> {
        match self {
            Fact::StepFree => s.wheelchair.then_some(true),
            Fact::Free => s.free,
            Fact::NoReferral => s.access.map(signpost_directory::Access::no_referral),
        }
    }

    /// What the screen calls it.
    fn words(self) -> &'static str {
        match self {
            Fact::StepFree => "step-free access",
            Fact::Free => "cost",
            Fact::NoReferral => "whether a referral is needed",
        }
    }
}

/// The answer to a [`SearchRequest`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResponse {
    /// Where from.
    pub origin: Origin,
    /// The radius used, km.
    pub radius_km: f64,
    /// With the wheelchair, free or no-referral filter on: how many more match every other
    /// filter but do not say what a filter asked (0 once they are included).
    pub unstated: usize,
    /// What those leave unsaid, in words ("step-free access", "cost", …).
    pub unstated_about: Vec<&'static str>,
    /// Nearest first.
    pub results: Vec<ResultRow>,
    /// How many match within the radius in all (more than `results` holds when the limit cut
    /// the list short), so the screen can say "nearest 50 of 88" and offer more.
    pub total: usize,
}

/// One choice for a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// What the request carries.
    pub code: String,
    /// What the person reads.
    pub label: String,
}

/// The choices for the filters, from the taxonomy and the directory's own data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choices {
    /// CMHF domains.
    pub domains: Vec<Choice>,
    /// Interests.
    pub interests: Vec<Choice>,
    /// Languages listings are offered in.
    pub languages: Vec<Choice>,
    /// In person / online.
    pub attendance: Vec<Choice>,
}

fn none_if_blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The filter choices.
pub fn choices(dir: &Directory) -> Result<Choices> {
    let tax = Taxonomy::signpost();
    let group = |code: &str| -> Vec<Choice> {
        tax.group(code)
            .map(|g| {
                g.terms
                    .iter()
                    .map(|t| Choice {
                        code: t.code.clone(),
                        label: t.name.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Choices {
        domains: group("domain"),
        interests: group("interest"),
        languages: dir
            .languages()?
            .into_iter()
            .map(|l| Choice {
                code: l.clone(),
                label: l,
            })
            .collect(),
        attendance: group("attendance"),
    })
}

/// One place to offer when a typed name is ambiguous or misspelt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceOption {
    /// What the person reads: "St Ives (town, Cornwall)".
    pub label: String,
    /// What to search for to get exactly this place: "St Ives, Cornwall".
    pub place: String,
}

/// A question back to the person: which place did they mean?
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceQuestion {
    /// The question alone, to show above the choices: `Which "Newcastle" did you mean?`.
    pub question: String,
    /// When there are more places of the name than choices: how to name one of the others.
    pub note: Option<String>,
    /// Everything in one sentence, choices included (the error's text).
    pub message: String,
    /// True when the name matched nothing and these are spelt like it.
    pub did_you_mean: bool,
    /// Largest places first.
    pub choices: Vec<PlaceOption>,
}

/// What a search answers: results, or a question about the place.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SearchAnswer {
    /// The place was found and searched from.
    Results(SearchResponse),
    /// The place typed could be several, or none spelt like that: choose one.
    ChoosePlace(PlaceQuestion),
}

/// At most this many places are offered as buttons; the rest are counted.
pub const MOST_PLACE_CHOICES: usize = 12;

fn question(text: &str, choices: Vec<PlaceChoice>, did_you_mean: bool) -> PlaceQuestion {
    let more = choices.len().saturating_sub(MOST_PLACE_CHOICES);
    let options: Vec<PlaceOption> = choices
        .into_iter()
        .take(MOST_PLACE_CHOICES)
        .map(|c| PlaceOption {
            label: c.label(),
            place: c.query,
        })
        .collect();
    let labels = options
        .iter()
        .map(|o| o.label.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let (question, message) = if did_you_mean {
        (
            format!("Signpost knows no place called \"{text}\". Did you mean one of these?"),
            format!("Signpost knows no place called \"{text}\". Did you mean: {labels}?"),
        )
    } else {
        (
            format!("There is more than one \"{text}\". Which did you mean?"),
            format!("There is more than one \"{text}\". Which did you mean: {labels}?"),
        )
    };
    let note = (more > 0).then(|| {
        format!(
            "There are {more} smaller places of that name too: type the name, a comma and the local authority, such as \"{}\".",
            options.last().map_or(text, |o| o.place.as_str())
        )
    });
    let message = match &note {
        None => message,
        Some(note) => format!("{message} {note}"),
    };
    PlaceQuestion {
        question,
        note,
        message,
        did_you_mean,
        choices: options,
    }
}

/// Where a request searches from: its place (a postcode, or a place name that is not
/// ambiguous), else the device. An ambiguous or misspelt name is [`Error::ChoosePlace`].
pub fn locate(gazetteer: &Gazetteer, req: &SearchRequest) -> Result<Origin> {
    if let Some(text) = none_if_blank(&req.place) {
        let resolved = match gazetteer.lookup(text) {
            Lookup::Found(r) => r,
            Lookup::Choose(c) => return Err(Error::ChoosePlace(question(text, c, false))),
            Lookup::DidYouMean(c) => return Err(Error::ChoosePlace(question(text, c, true))),
            Lookup::NotCovered(e) => return Err(Error::Place(format!("{e}."))),
            Lookup::Unknown(e) if signpost_postcodes::parse(text).is_ok() => {
                return Err(Error::Place(e.to_string()))
            }
            Lookup::Unknown(_) => return Err(Error::Place(format!(
                "\"{text}\" is not a UK postcode or a place Signpost knows. Try a postcode such as BS3 4AB, or a town name."
            ))),
        };
        return Ok(Origin {
            label: resolved.label,
            latitude: resolved.latitude,
            longitude: resolved.longitude,
        });
    }
    match (req.latitude, req.longitude) {
        (Some(latitude), Some(longitude)) => Ok(Origin {
            label: "your location".into(),
            latitude,
            longitude,
        }),
        _ => Err(Error::Place(
            "Enter a postcode or town to see what is near.".into(),
        )),
    }
}

fn parse_local(text: &str) -> Result<DateTime<Utc>> {
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
        .ok_or_else(|| {
            Error::Request(format!(
                "\"{text}\" is not a date and time; choose a day and a time"
            ))
        })?;
    London
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            Error::Request(format!(
                "{text} does not exist in UK time (the clocks go forward then)"
            ))
        })
}

/// "Tuesday or Thursday mornings, this week" as the directory's filter: from now to the end of
/// the same weekday next week, so every weekday comes once after now even when today's session
/// has passed. An unknown day or part of the day is an error naming it.
pub fn week_times(days: &[String], parts: &[String], now: DateTime<Utc>) -> Result<WeekTimes> {
    let mut w = WeekTimes {
        from: now,
        days: 8,
        weekdays: 0,
        parts: 0,
    };
    for d in days.iter().filter(|d| !d.trim().is_empty()) {
        w.weekdays |= WeekTimes::weekday_bit(d)
            .ok_or_else(|| Error::Request(format!("\"{d}\" is not a day of the week")))?;
    }
    for p in parts.iter().filter(|p| !p.trim().is_empty()) {
        w.parts |= WeekTimes::part_bit(p).ok_or_else(|| {
            Error::Request(format!(
                "\"{p}\" is not a part of the day: morning, afternoon or evening"
            ))
        })?;
    }
    Ok(w)
}

/// Build the directory query for a request, and the instant "open" is judged at.
pub fn query(
    req: &SearchRequest,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(NearQuery, DateTime<Utc>)> {
    let open_at = match &req.when {
        When::Any | When::ThisWeek { .. } => None,
        When::OpenNow => Some(now),
        When::At { local } => Some(parse_local(local)?),
    };
    let meets_in = match &req.when {
        When::ThisWeek { days, parts } => Some(week_times(days, parts, now)?),
        _ => None,
    };
    let radius_km = req.radius_km.unwrap_or(10.0);
    if !(radius_km.is_finite() && radius_km > 0.0 && radius_km <= 500.0) {
        return Err(Error::Request(
            "the distance must be between 0 and 500 km".into(),
        ));
    }
    let attendance = match none_if_blank(&req.attendance) {
        None => None,
        Some(code) => Some(
            Attendance::from_code(code)
                .ok_or_else(|| Error::Request(format!("unknown way to take part {code:?}")))?,
        ),
    };
    let one = |v: &Option<String>| {
        none_if_blank(v)
            .map(|s| vec![s.to_string()])
            .unwrap_or_default()
    };
    Ok((
        NearQuery {
            latitude: origin.latitude,
            longitude: origin.longitude,
            radius_m: radius_km * 1000.0,
            limit: req.limit.unwrap_or(50).min(500),
            filters: Filters {
                no_referral: req.no_referral,
                domains: one(&req.domain),
                interests: {
                    let mut all = one(&req.interest);
                    for code in req
                        .interests
                        .iter()
                        .map(|c| c.trim())
                        .filter(|c| !c.is_empty())
                    {
                        if !all.iter().any(|a| a == code) {
                            all.push(code.to_string());
                        }
                    }
                    all
                },
                free: req.free,
                wheelchair: req.wheelchair,
                languages: one(&req.language),
                attendance,
                open_at,
                meets_in,
                text: none_if_blank(&req.text).map(str::to_string),
            },
            today: Some(now.date_naive()),
        },
        open_at.unwrap_or(now),
    ))
}

/// "350 m" or "2.4 km".
pub fn distance_text(m: f64) -> String {
    if m < 1000.0 {
        format!("{:.0} m", (m / 10.0).round() * 10.0)
    } else if m < 10_000.0 {
        format!("{:.1} km", m / 1000.0)
    } else {
        format!("{:.0} km", m / 1000.0)
    }
}

/// Whether a listing last checked on `assured_date` may be out of date at `now`: checked over
/// a year ago. A listing that does not say is not flagged (the detail says "not stated").
pub fn may_be_out_of_date(assured_date: Option<&str>, now: DateTime<Utc>) -> bool {
    signpost_directory::may_be_out_of_date(assured_date, now.date_naive())
}

fn opening_text(r: &NearResult, asked_now: bool) -> String {
    let next = |t: DateTime<Utc>| {
        t.with_timezone(&London)
            .format("%a %-d %b, %H:%M")
            .to_string()
    };
    match (r.open_now, r.next_opens_at) {
        (Some(true), _) if asked_now => "Open now".into(),
        (Some(true), _) => "Open then".into(),
        (_, Some(t)) => format!("Next: {}", next(t)),
        (Some(false), None) => "Closed".into(),
        (None, None) => "Times not given".into(),
    }
}

/// Add `hits` after `rows`, nearest first (ties in the directory's order), as many as fit
/// within `limit`: the listings a filter could not judge, after those it matched.
fn append_nearest_first(
    dir: &Directory,
    rows: &mut Vec<NearResult>,
    mut hits: Vec<signpost_directory::Hit>,
    limit: usize,
    at: DateTime<Utc>,
) -> Result<()> {
    hits.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(a.service.cmp(&b.service))
    });
    hits.truncate(limit.saturating_sub(rows.len()));
    rows.extend(dir.describe_hits(&hits, at)?);
    Ok(())
}

/// Answer a search from the local directory.
pub fn search(
    dir: &Directory,
    gazetteer: &Gazetteer,
    req: &SearchRequest,
    now: DateTime<Utc>,
) -> Result<SearchResponse> {
    let origin = locate(gazetteer, req)?;
    let (q, at) = query(req, &origin, now)?;
    let mut rows = dir.near(&q, at)?;
    let mut total = if rows.len() >= q.limit {
        dir.search_all(&q)?.len()
    } else {
        rows.len()
    };
    if q.filters.open_at.is_some() || q.filters.meets_in.is_some() {
        // A listing that does not say when it runs is not dropped by a time filter: it may
        // well be on then. Such listings follow the timed matches, nearest first, each saying
        // "Times not given".
        let mut loose = q.clone();
        loose.filters.open_at = None;
        loose.filters.meets_in = None;
        let mut untimed = Vec::new();
        for hit in dir.search_all(&loose)? {
            if !dir.has_times(&hit)? {
                untimed.push(hit);
            }
        }
        total += untimed.len();
        append_nearest_first(dir, &mut rows, untimed, q.limit, at)?;
    }
    let stated = rows.len();
    let mut unstated = 0;
    let mut unstated_about = Vec::new();
    let mut not_stated: Vec<Vec<&'static str>> = Vec::new();
    let asked = Fact::asked(req);
    if !asked.is_empty() {
        // Many listings do not say whether they are step-free, free or need a referral: say
        // how many match every filter but say nothing of a fact asked for (and deny none),
        // and on request list them after those that say, each marked with what it leaves out.
        let mut loose = q.clone();
        for fact in &asked {
            fact.loosen(&mut loose.filters);
        }
        let index = dir.index()?;
        let mut silent = Vec::new();
        let mut unsaid_by_slot: HashMap<u32, Vec<&'static str>> = HashMap::new();
        for hit in dir.search_all(&loose)? {
            let entry = index.service(hit.service);
            let said: Vec<Option<bool>> = asked.iter().map(|f| f.stated(entry)).collect();
            if said.iter().all(|s| *s != Some(false)) && said.contains(&None) {
                let unsaid: Vec<&'static str> = asked
                    .iter()
                    .zip(&said)
                    .filter(|(_, s)| s.is_none())
                    .map(|(f, _)| f.words())
                    .collect();
                for words in &unsaid {
                    if !unstated_about.contains(words) {
                        unstated_about.push(words);
                    }
                }
                unsaid_by_slot.insert(hit.service, unsaid);
                silent.push(hit);
            }
        }
        if req.include_unstated {
            total += silent.len();
            // Which facts each appended row leaves out, by its id.
            let mut unsaid_by_id: HashMap<String, Vec<&'static str>> = HashMap::new();
            for hit in &silent {
                if let Some(unsaid) = unsaid_by_slot.get(&hit.service) {
                    unsaid_by_id.insert(dir.hit_names(hit)?.0, unsaid.clone());
                }
            }
            append_nearest_first(dir, &mut rows, silent, q.limit, at)?;
            not_stated = rows[stated..]
                .iter()
                .map(|r| unsaid_by_id.get(&r.service_id).cloned().unwrap_or_default())
                .collect();
            unstated_about.clear();
        } else {
            unstated = silent.len();
        }
        unstated_about.sort_by_key(|w| asked.iter().position(|f| f.words() == *w));
    }
    let results: Vec<ResultRow> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let stale = may_be_out_of_date(r.assured_date.as_deref(), now);
            ResultRow {
                opening_text: opening_text(&r, at == now),
                distance_text: distance_text(r.distance_m),
                no_referral: matches!(r.access, Some("drop-in" | "self-referral")),
                may_be_out_of_date: stale,
                service_id: r.service_id,
                location_id: r.location_id,
                name: r.name,
                organization: r.organization,
                distance_m: r.distance_m,
                latitude: r.latitude,
                longitude: r.longitude,
                access: r.access,
                free: r.free,
                open: r.open_now,
                assured_date: r.assured_date,
                in_person: r.in_person,
                online: r.online,
                postcode: r.postcode,
                step_free_not_stated: i >= stated
                    && not_stated
                        .get(i - stated)
                        .is_some_and(|n| n.contains(&Fact::StepFree.words())),
                not_stated: if i >= stated {
                    not_stated.get(i - stated).cloned().unwrap_or_default()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    Ok(SearchResponse {
        origin,
        radius_km: q.radius_m / 1000.0,
        unstated,
        unstated_about,
        results,
        total,
    })
}

/// Answer a search, or ask which place was meant: what the app's search command returns.
pub fn answer(
    dir: &Directory,
    gazetteer: &Gazetteer,
    req: &SearchRequest,
    now: DateTime<Utc>,
) -> Result<SearchAnswer> {
    match search(dir, gazetteer, req, now) {
        Ok(r) => Ok(SearchAnswer::Results(r)),
        Err(Error::ChoosePlace(q)) => Ok(SearchAnswer::ChoosePlace(q)),
        Err(e) => Err(e),
    }
}
