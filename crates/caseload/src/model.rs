//! What a caseload records, and the checks every value passes before it is stored.
//!
//! Coded fields use the forms of the Social Prescribing Information Standard's sources: NHS
//! numbers with their modulus 11 check digit, the NHS Data Dictionary's PERSON GENDER IDENTITY
//! CODE and ETHNIC CATEGORY. All three are optional and empty by default.
use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use signpost_directory::taxonomy::{term_id, Taxonomy};
use signpost_postcodes::{parse, Gazetteer, PostcodeQuery};

use crate::error::{Error, Result};

/// Part of a day a person is free: morning (before 12:00), afternoon (12:00 to 17:00),
/// evening (from 17:00), UK time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DayPart {
    /// Before 12:00.
    Morning,
    /// 12:00 to 17:00.
    Afternoon,
    /// From 17:00.
    Evening,
}

impl DayPart {
    /// The part of the day a local time of day (minutes after midnight) falls in.
    pub fn of_minute(minute: u32) -> DayPart {
        match minute {
            0..720 => DayPart::Morning,
            720..1020 => DayPart::Afternoon,
            _ => DayPart::Evening,
        }
    }

    fn code(self) -> &'static str {
        match self {
            DayPart::Morning => "morning",
            DayPart::Afternoon => "afternoon",
            DayPart::Evening => "evening",
        }
    }
}

/// A free time: a weekday and part of the day, written `tue-morning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FreeTime {
    /// The day.
    pub day: Weekday,
    /// The part of it.
    pub part: DayPart,
}

const DAY_CODES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

impl fmt::Display for FreeTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = DAY_CODES
            .iter()
            .find(|(_, d)| *d == self.day)
            .map(|(c, _)| *c)
            .unwrap_or("mon");
        write!(f, "{day}-{}", self.part.code())
    }
}

impl FromStr for FreeTime {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<FreeTime, String> {
        let s = s.trim().to_ascii_lowercase();
        let (day, part) = s.split_once('-').ok_or_else(|| free_time_help(&s))?;
        let day = DAY_CODES
            .iter()
            .find(|(c, _)| *c == day)
            .map(|(_, d)| *d)
            .ok_or_else(|| free_time_help(&s))?;
        let part = match part {
            "morning" => DayPart::Morning,
            "afternoon" => DayPart::Afternoon,
            "evening" => DayPart::Evening,
            _ => return Err(free_time_help(&s)),
        };
        Ok(FreeTime { day, part })
    }
}

fn free_time_help(s: &str) -> String {
    format!(
        "{s:?} is not a free time; use a day and part of the day, from mon-morning to sun-evening"
    )
}

/// How a contact happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactHow {
    /// A phone call.
    Phone,
    /// In person.
    Visit,
    /// A video call.
    Video,
    /// A text message.
    Text,
}

impl ContactHow {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ContactHow::Phone => "phone",
            ContactHow::Visit => "visit",
            ContactHow::Video => "video",
            ContactHow::Text => "text",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<ContactHow> {
        [
            ContactHow::Phone,
            ContactHow::Visit,
            ContactHow::Video,
            ContactHow::Text,
        ]
        .into_iter()
        .find(|h| h.code() == code)
    }
}

/// Where a person is with an asset. `Stopped` and `Declined` end a connection; it can start
/// again with a new step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionStatus {
    /// Offered as an option.
    Suggested,
    /// The person has been put in touch.
    Introduced,
    /// The person goes.
    Attending,
    /// The person went, and no longer does.
    Stopped,
    /// The person chose not to.
    Declined,
}

impl ConnectionStatus {
    /// Every status, in the order a connection moves through them.
    pub const ALL: [ConnectionStatus; 5] = [
        ConnectionStatus::Suggested,
        ConnectionStatus::Introduced,
        ConnectionStatus::Attending,
        ConnectionStatus::Stopped,
        ConnectionStatus::Declined,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ConnectionStatus::Suggested => "suggested",
            ConnectionStatus::Introduced => "introduced",
            ConnectionStatus::Attending => "attending",
            ConnectionStatus::Stopped => "stopped",
            ConnectionStatus::Declined => "declined",
        }
    }

    /// Read a stored or typed code.
    pub fn from_code(code: &str) -> Option<ConnectionStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// When a review of wellbeing was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Occasion {
    /// At the start of support.
    Start,
    /// At a review.
    Review,
}

impl Occasion {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Occasion::Start => "start",
            Occasion::Review => "review",
        }
    }
}

/// The ONS4 personal wellbeing questions in the GSS harmonised wording, each answered 0 to 10
/// ("where 0 is 'not at all' and 10 is 'completely'"). Anxiety runs the other way (lower is
/// better), so the four are never added up.
pub const ONS4_QUESTIONS: [(&str, &str); 4] = [
    (
        "life_satisfaction",
        "Overall, how satisfied are you with your life nowadays?",
    ),
    (
        "worthwhile",
        "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
    ),
    ("happy", "Overall, how happy did you feel yesterday?"),
    ("anxious", "Overall, how anxious did you feel yesterday?"),
];

/// One ONS4 answer set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ons4 {
    /// Life satisfaction, 0–10 (higher is better).
    pub life_satisfaction: u8,
    /// Worthwhile, 0–10 (higher is better).
    pub worthwhile: u8,
    /// Happiness yesterday, 0–10 (higher is better).
    pub happy: u8,
    /// Anxiety yesterday, 0–10 (lower is better).
    pub anxious: u8,
}

impl Ons4 {
    pub(crate) fn check(&self) -> Result<()> {
        for (field, v) in [
            ("life_satisfaction", self.life_satisfaction),
            ("worthwhile", self.worthwhile),
            ("happy", self.happy),
            ("anxious", self.anxious),
        ] {
            if v > 10 {
                return Err(Error::invalid(
                    field,
                    format!("{v} is not on the 0 to 10 scale"),
                ));
            }
        }
        Ok(())
    }
}

/// What a connector records about a person: the form, and the CSV import's columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonDetails {
    /// Name or initials.
    pub name: String,
    /// Preferred contact method: phone, text, email, letter or visit.
    pub contact_method: String,
    /// When to contact them, in words ("weekday evenings").
    pub contact_times: String,
    /// A postcode district or sector (`BS3` or `BS3 4`), never a full postcode or address.
    pub home_area: String,
    /// What matters to them, in their words.
    pub goals: String,
    /// Needs and concerns.
    pub needs: String,
    /// Signpost interest term ids (`signpost:interest:walking`).
    pub interests: Vec<String>,
    /// Signpost accessibility term ids (`signpost:accessibility:wheelchair`).
    pub access_needs: Vec<String>,
    /// ISO 639 language codes (`en`, `ur`, `pl`).
    pub languages: Vec<String>,
    /// When they are free: `mon-morning` … `sun-evening`.
    pub free_times: Vec<String>,
    /// Only suggest what needs no referral.
    pub no_referral_only: bool,
    /// How far they can travel, in km (0.5 to 50; 5 when not given).
    pub travel_km: Option<f64>,
    /// NHS number (10 digits with a valid check digit), optional.
    pub nhs_number: Option<String>,
    /// PERSON GENDER IDENTITY CODE (1, 2, 3, 4, X or Z), optional.
    pub gender: Option<String>,
    /// ETHNIC CATEGORY code (A to Z as the NHS Data Dictionary lists them), optional.
    pub ethnicity: Option<String>,
}

/// Contact methods a person can prefer.
pub const CONTACT_METHODS: [&str; 5] = ["phone", "text", "email", "letter", "visit"];

/// PERSON GENDER IDENTITY CODE values (NHS Data Dictionary).
pub const GENDER_CODES: [(&str, &str); 6] = [
    ("1", "Male (including trans man)"),
    ("2", "Female (including trans woman)"),
    ("3", "Non-binary"),
    ("4", "Other (not listed)"),
    ("X", "Not known"),
    ("Z", "Not stated"),
];

/// ETHNIC CATEGORY codes (NHS Data Dictionary, 2001 census categories).
pub const ETHNIC_CATEGORIES: [(&str, &str); 17] = [
    ("A", "White - British"),
    ("B", "White - Irish"),
    ("C", "White - Any other White background"),
    ("D", "Mixed - White and Black Caribbean"),
    ("E", "Mixed - White and Black African"),
    ("F", "Mixed - White and Asian"),
    ("G", "Mixed - Any other mixed background"),
    ("H", "Asian or Asian British - Indian"),
    ("J", "Asian or Asian British - Pakistani"),
    ("K", "Asian or Asian British - Bangladeshi"),
    ("L", "Asian or Asian British - Any other Asian background"),
    ("M", "Black or Black British - Caribbean"),
    ("N", "Black or Black British - African"),
    ("P", "Black or Black British - Any other Black background"),
    ("R", "Other Ethnic Groups - Chinese"),
    ("S", "Other Ethnic Groups - Any other ethnic group"),
    ("Z", "Not stated"),
];

/// The default distance a person can travel, in km.
pub const DEFAULT_TRAVEL_KM: f64 = 5.0;

impl PersonDetails {
    /// Check every field and put it in its stored form; the first error names its field.
    pub fn normalised(&self) -> Result<PersonDetails> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::invalid("name", "give a name or initials"));
        }
        if name.chars().count() > 100 {
            return Err(Error::invalid("name", "at most 100 characters"));
        }
        let contact_method = self.contact_method.trim().to_ascii_lowercase();
        if !contact_method.is_empty() && !CONTACT_METHODS.contains(&contact_method.as_str()) {
            return Err(Error::invalid(
                "contact_method",
                format!(
                    "{contact_method:?} is not a contact method; choose from {}",
                    CONTACT_METHODS.join(", ")
                ),
            ));
        }
        let home_area = normalise_home_area(&self.home_area)?;
        let interests = term_ids("interests", "interest", &self.interests)?;
        let access_needs = term_ids("access_needs", "accessibility", &self.access_needs)?;
        let mut languages = Vec::new();
        for l in &self.languages {
            let code = l.trim().to_ascii_lowercase();
            if code.is_empty() {
                continue;
            }
            if !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(Error::invalid(
                    "languages",
                    format!("{l:?} is not an ISO 639 language code (like en, cy, ur, pl)"),
                ));
            }
            if !languages.contains(&code) {
                languages.push(code);
            }
        }
        let mut free = Vec::new();
        for t in &self.free_times {
            if t.trim().is_empty() {
                continue;
            }
            let parsed: FreeTime = t.parse().map_err(|m| Error::invalid("free_times", m))?;
            if !free.contains(&parsed) {
                free.push(parsed);
            }
        }
        free.sort_by_key(|f| (f.day.num_days_from_monday(), f.part));
        let travel_km = match self.travel_km {
            None => None,
            Some(km) if (0.5..=50.0).contains(&km) => Some(km),
            Some(km) => {
                return Err(Error::invalid(
                    "travel_km",
                    format!("{km} km is out of range; use 0.5 to 50"),
                ))
            }
        };
        let nhs_number = optional(&self.nhs_number)
            .map(|n| check_nhs_number(&n))
            .transpose()?;
        let gender = optional(&self.gender)
            .map(|g| code_in("gender", &g.to_ascii_uppercase(), &GENDER_CODES))
            .transpose()?;
        let ethnicity = optional(&self.ethnicity)
            .map(|g| code_in("ethnicity", &g.to_ascii_uppercase(), &ETHNIC_CATEGORIES))
            .transpose()?;
        Ok(PersonDetails {
            name,
            contact_method,
            contact_times: self.contact_times.trim().to_string(),
            home_area,
            goals: self.goals.trim().to_string(),
            needs: self.needs.trim().to_string(),
            interests,
            access_needs,
            languages,
            free_times: free.iter().map(ToString::to_string).collect(),
            no_referral_only: self.no_referral_only,
            travel_km,
            nhs_number,
            gender,
            ethnicity,
        })
    }

    /// The free times, parsed (stored ones are always valid).
    pub fn free_time_slots(&self) -> Vec<FreeTime> {
        self.free_times
            .iter()
            .filter_map(|t| t.parse().ok())
            .collect()
    }

    /// Interest codes (`walking`) from the stored term ids.
    pub fn interest_codes(&self) -> Vec<String> {
        codes_of(&self.interests)
    }

    /// Accessibility codes (`wheelchair`) from the stored term ids.
    pub fn access_codes(&self) -> Vec<String> {
        codes_of(&self.access_needs)
    }
}

fn codes_of(ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter_map(|id| id.rsplit(':').next().map(str::to_string))
        .collect()
}

fn optional(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn code_in(field: &str, code: &str, table: &[(&str, &str)]) -> Result<String> {
    if table.iter().any(|(c, _)| *c == code) {
        Ok(code.to_string())
    } else {
        Err(Error::invalid(
            field,
            format!(
                "{code:?} is not a code; use one of {}",
                table.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
            ),
        ))
    }
}

/// An NHS number: 10 digits (spaces allowed) whose last is the modulus 11 check digit.
pub fn check_nhs_number(input: &str) -> Result<String> {
    let digits: Vec<u32> = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()
        .ok_or_else(|| Error::invalid("nhs_number", "use digits only"))?;
    if digits.len() != 10 {
        return Err(Error::invalid("nhs_number", "an NHS number has 10 digits"));
    }
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, d)| d * (10 - i as u32))
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => {
            return Err(Error::invalid(
                "nhs_number",
                "not a valid NHS number (its check digit does not match)",
            ))
        }
        c => c,
    };
    if check != digits[9] {
        return Err(Error::invalid(
            "nhs_number",
            "not a valid NHS number (its check digit does not match)",
        ));
    }
    let s: String = digits
        .iter()
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect();
    Ok(format!("{} {} {}", &s[..3], &s[3..6], &s[6..]))
}

/// A home area in its stored form: a district (`BS3`) or sector (`BS3 4`) the gazetteer knows.
pub fn normalise_home_area(input: &str) -> Result<String> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(String::new());
    }
    let field = "home_area";
    let area = match parse(input) {
        Ok(PostcodeQuery::Full { outward, inward }) => {
            return Err(Error::invalid(
                field,
                format!(
                    "{outward} {inward} is a full postcode; keep only the district or sector (like {outward} {})",
                    &inward[..1]
                ),
            ))
        }
        Ok(PostcodeQuery::Sector { outward, digit }) => format!("{outward} {digit}"),
        Ok(PostcodeQuery::District { outward }) => outward,
        Err(_) => {
            return Err(Error::invalid(
                field,
                format!("{input:?} is not a postcode district or sector (like BS3 or BS3 4)"),
            ))
        }
    };
    Gazetteer::embedded().resolve(&area).map_err(|_| {
        Error::invalid(
            field,
            format!("{area} is not a postcode district or sector we know"),
        )
    })?;
    Ok(area)
}

fn term_ids(field: &str, group: &str, values: &[String]) -> Result<Vec<String>> {
    let tax = Taxonomy::signpost();
    let mut out = Vec::new();
    for v in values {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let code = match v.rsplit_once(':') {
            Some((prefix, code)) if prefix == format!("signpost:{group}") => code,
            Some(_) => v,
            None => v,
        };
        if tax.term_index(group, code).is_none() {
            let known: Vec<String> = tax
                .group(group)
                .map(|g| g.terms.iter().map(|t| term_id(group, &t.code)).collect())
                .unwrap_or_default();
            return Err(Error::invalid(
                field,
                format!(
                    "{v:?} is not a Signpost {group} term; use one of {}",
                    known.join(", ")
                ),
            ));
        }
        let id = term_id(group, code);
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// A person on the caseload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    /// Their id in this caseload (never shared).
    pub id: String,
    /// When they were referred (added).
    pub referred_on: NaiveDate,
    /// When their support ended, if it has.
    pub closed_on: Option<NaiveDate>,
    /// Why it ended.
    pub closed_reason: String,
    /// What is recorded.
    #[serde(flatten)]
    pub details: PersonDetails,
}

impl Person {
    /// How far they can travel, in metres.
    pub fn travel_m(&self) -> f64 {
        self.details.travel_km.unwrap_or(DEFAULT_TRAVEL_KM) * 1000.0
    }
}

/// One line of the caseload list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonSummary {
    /// Id.
    pub id: String,
    /// Name or initials.
    pub name: String,
    /// Home area.
    pub home_area: String,
    /// Referred on.
    pub referred_on: NaiveDate,
    /// Closed on.
    pub closed_on: Option<NaiveDate>,
    /// The earliest follow-up not yet done.
    pub next_follow_up: Option<NaiveDate>,
    /// Connections in each status, for the list's badges.
    pub attending: usize,
}

/// A logged contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Id (0 for a new one).
    #[serde(default)]
    pub id: i64,
    /// When.
    pub on_date: NaiveDate,
    /// How.
    pub how: ContactHow,
    /// A short note.
    #[serde(default)]
    pub note: String,
    /// The next step agreed.
    #[serde(default)]
    pub next_step: String,
}

/// One step of a connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionStep {
    /// The status it moved to.
    pub status: ConnectionStatus,
    /// When.
    pub on_date: NaiveDate,
    /// Why, in the connector's words.
    pub reason: String,
}

/// What the directory now says about a connected listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListingState {
    /// Listed and active.
    Listed,
    /// Sync removed it from the directory.
    Removed,
    /// Its publisher marked it closed or inactive (the status given).
    Closed(String),
    /// Listed, with something to check: temporarily closed, or not checked by its publisher
    /// for over a year (why, in words).
    Flagged(String),
}

/// A person's link to a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    /// Id.
    pub id: i64,
    /// Whose.
    pub person_id: String,
    /// The listing's id in the directory.
    pub service_id: String,
    /// The listing's name when connected (shown if the listing leaves the directory).
    pub service_name: String,
    /// The person agreed to have it on their plan.
    pub in_plan: bool,
    /// Every step, oldest first; the last is where it stands.
    pub steps: Vec<ConnectionStep>,
}

impl Connection {
    /// Where it stands.
    pub fn status(&self) -> ConnectionStatus {
        self.steps
            .last()
            .map(|s| s.status)
            .unwrap_or(ConnectionStatus::Suggested)
    }
}

/// A follow-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUp {
    /// Id.
    pub id: i64,
    /// Whose.
    pub person_id: String,
    /// Their name, for the agenda.
    pub person_name: String,
    /// When it is due.
    pub due: NaiveDate,
    /// What to do.
    pub what: String,
    /// When it was done.
    pub done_on: Option<NaiveDate>,
}

/// A recorded ONS4 answer set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wellbeing {
    /// When.
    pub on_date: NaiveDate,
    /// At the start, or a review.
    pub occasion: Occasion,
    /// The answers.
    pub scores: Ons4,
}
