//! The group's form as HTML fields: what a browser posts (`application/x-www-form-urlencoded`)
//! read into `signpost_browse::group_form::GroupForm`, and a `GroupForm` (or what was posted, as
//! typed) written back into the fields, each with its label, hint and error (the GOV.UK pattern:
//! a summary at the top linking to each field, and the message beside it). Used by the public
//! form (`/group`) and by a moderator's edit of a submission (`/moderate/items/{id}/edit`).
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use signpost_browse::group_form::{to_listing, FormError, GroupForm, SessionForm};
use signpost_directory::taxonomy::Taxonomy;

/// Session rows a blank form shows; any can be left empty.
pub(crate) const SESSION_ROWS: usize = 3;
/// The most session rows read from a post (rows beyond are ignored).
pub(crate) const MAX_SESSION_ROWS: usize = 12;

const DAYS: [(&str, &str); 7] = [
    ("MO", "Monday"),
    ("TU", "Tuesday"),
    ("WE", "Wednesday"),
    ("TH", "Thursday"),
    ("FR", "Friday"),
    ("SA", "Saturday"),
    ("SU", "Sunday"),
];
const REPEATS: [(&str, &str); 3] = [
    ("weekly", "Every week"),
    ("fortnightly", "Every other week"),
    ("monthly", "Once a month"),
];
const NTHS: [(&str, &str); 5] = [
    ("1", "First"),
    ("2", "Second"),
    ("3", "Third"),
    ("4", "Fourth"),
    ("-1", "Last"),
];
const ACCESS: [(&str, &str); 4] = [
    ("drop-in", "Drop in: just turn up"),
    ("self-referral", "Contact the group first"),
    ("booking-required", "Book a place"),
    ("referral-required", "A professional must refer them"),
];

/// The fields outside the sessions, in the order the page shows them (errors are listed in it).
const FIELDS: [&str; 16] = [
    "name",
    "organization",
    "description",
    "who_for",
    "sessions",
    "postcode",
    "place",
    "online",
    "access",
    "free",
    "wheelchair",
    "domain",
    "interests",
    "languages",
    "phone",
    "email",
];
const LAST_FIELDS: [&str; 1] = ["website"];

/// What a form posted, in order, repeated names kept (checkboxes), every value as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub(crate) struct Fields(Vec<(String, String)>);

/// A form read into a `GroupForm`, with the problems found reading it and, for each session in
/// the form, the row it came from (blank rows are left out).
pub(crate) struct Parsed {
    pub(crate) form: GroupForm,
    errors: Vec<FormError>,
    rows: Vec<usize>,
}

fn err(field: String, message: impl Into<String>) -> FormError {
    FormError {
        field,
        message: message.into(),
    }
}

impl Fields {
    /// Read a posted body.
    pub(crate) fn parse(body: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, or "".
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str, value: &str) -> bool {
        self.all(name).any(|v| v == value)
    }

    fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Set `name` to `value`, replacing what it had.
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(k, _)| k != name);
        self.push(name, value);
    }

    /// How many session rows to show: at least [`SESSION_ROWS`], and every row that holds
    /// something (up to [`MAX_SESSION_ROWS`]).
    pub(crate) fn session_rows(&self) -> usize {
        let used = self
            .0
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .filter_map(|(k, _)| k.strip_prefix("sessions.")?.split('.').next()?.parse().ok())
            .filter(|i: &usize| *i < MAX_SESSION_ROWS)
            .map(|i| i + 1)
            .max()
            .unwrap_or(0);
        used.max(SESSION_ROWS)
    }

    /// A group's form as fields (a published or submitted listing, to start from).
    pub(crate) fn from_group(g: &GroupForm) -> Fields {
        let mut f = Fields::default();
        if let Some(id) = &g.service_id {
            f.push("service_id", id);
        }
        for (name, value) in [
            ("name", &g.name),
            ("organization", &g.organization),
            ("description", &g.description),
            ("who_for", &g.who_for),
            ("postcode", &g.postcode),
            ("place", &g.place),
            ("access", &g.access),
            ("domain", &g.domain),
            ("phone", &g.phone),
            ("email", &g.email),
            ("website", &g.website),
        ] {
            f.push(name, value.as_str());
        }
        if g.online {
            f.push("online", "yes");
        }
        if g.wheelchair {
            f.push("wheelchair", "yes");
        }
        match g.free {
            Some(true) => f.push("free", "yes"),
            Some(false) => f.push("free", "no"),
            None => {}
        }
        for i in &g.interests {
            f.push("interests", i.as_str());
        }
        f.push("languages", g.languages.join(", "));
        for (i, s) in g.sessions.iter().enumerate() {
            let p = |n: &str| format!("sessions.{i}.{n}");
            f.push(p("repeat"), s.repeat.as_str());
            f.push(p("day"), s.day.as_str());
            f.push(p("nth"), s.nth.map(|n| n.to_string()).unwrap_or_default());
            f.push(
                p("first_date"),
                s.first_date.map(|d| d.to_string()).unwrap_or_default(),
            );
            f.push(p("opens"), s.opens.as_str());
            f.push(p("closes"), s.closes.as_str());
        }
        f
    }

    /// The fields as a `GroupForm`, with what could not be read (a date, a number).
    pub(crate) fn to_group(&self) -> Parsed {
        let text = |n: &str| self.get(n).to_string();
        let mut errors = Vec::new();
        let mut sessions = Vec::new();
        let mut rows = Vec::new();
        for i in 0..MAX_SESSION_ROWS {
            let p = |n: &str| format!("sessions.{i}.{n}");
            let v = |n: &str| self.get(&p(n)).trim().to_string();
            let (day, opens, closes, nth, first) =
                (v("day"), v("opens"), v("closes"), v("nth"), v("first_date"));
            if [&day, &opens, &closes, &nth, &first]
                .iter()
                .all(|s| s.is_empty())
            {
                continue;
            }
            let repeat = match v("repeat") {
                r if r.is_empty() => "weekly".to_string(),
                r => r,
            };
            let nth = match nth.as_str() {
                "" => None,
                n => match n.parse::<i8>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        errors.push(err(p("nth"), "choose which one in the month"));
                        None
                    }
                },
            };
            // Only what the session uses is read: a date left in a monthly row is ignored.
            let first_date = match (repeat.as_str(), first.as_str()) {
                ("fortnightly", d) if !d.is_empty() => match date(d) {
                    Some(d) => Some(d),
                    None => {
                        errors.push(err(
                            p("first_date"),
                            format!("{d:?} is not a date; write it like 24/03/2026"),
                        ));
                        None
                    }
                },
                _ => None,
            };
            sessions.push(SessionForm {
                nth: nth.filter(|_| repeat == "monthly"),
                repeat,
                day,
                first_date,
                opens,
                closes,
            });
            rows.push(i);
        }
        let yes = |n: &str| self.get(n) == "yes";
        let form = GroupForm {
            service_id: Some(text("service_id")).filter(|s| !s.trim().is_empty()),
            name: text("name"),
            organization: text("organization"),
            description: text("description"),
            who_for: text("who_for"),
            sessions,
            postcode: text("postcode"),
            place: text("place"),
            online: yes("online"),
            access: text("access"),
            domain: text("domain"),
            interests: self.all("interests").map(str::to_string).collect(),
            free: match self.get("free") {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            wheelchair: yes("wheelchair"),
            languages: self
                .get("languages")
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            phone: text("phone"),
            email: text("email"),
            website: text("website"),
        };
        Parsed { form, errors, rows }
    }
}

/// A date as a group would type it: 24/03/2026, 24-3-2026 or 2026-03-24.
fn date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(t, "%d-%m-%Y"))
        .ok()
}

impl Parsed {
    /// The HSDS listing (new listings named `new_id`), or every problem, by the page's field
    /// names, in the page's order, one per field.
    pub(crate) fn listing(&self, new_id: &str) -> Result<Value, Vec<FormError>> {
        let mut errors = self.errors.clone();
        let built = to_listing(&self.form, new_id);
        if let Err(more) = &built {
            // `to_listing` numbers sessions among those filled in; the page, by row.
            errors.extend(more.iter().map(|e| FormError {
                field: self.row_field(&e.field),
                message: e.message.clone(),
            }));
        }
        if errors.is_empty() {
            return built;
        }
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert(e.field.clone()));
        errors.sort_by_key(|e| rank(&e.field));
        Err(errors)
    }

    fn row_field(&self, field: &str) -> String {
        let mut parts = field.splitn(3, '.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("sessions"), Some(i), Some(rest)) => {
                let row = i
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| self.rows.get(i))
                    .copied();
                match row {
                    Some(row) => format!("sessions.{row}.{rest}"),
                    None => field.to_string(),
                }
            }
            _ => field.to_string(),
        }
    }
}

/// Where a field comes on the page, for ordering the error summary.
fn rank(field: &str) -> (usize, usize, usize) {
    const PARTS: [&str; 6] = ["repeat", "day", "nth", "first_date", "opens", "closes"];
    if let Some(rest) = field.strip_prefix("sessions.") {
        let mut p = rest.split('.');
        let row = p.next().and_then(|i| i.parse().ok()).unwrap_or(0);
        let part = p
            .next()
            .and_then(|n| PARTS.iter().position(|x| *x == n))
            .unwrap_or(0);
        let at = FIELDS.iter().position(|f| *f == "sessions").unwrap_or(0);
        return (at, row, part);
    }
    match FIELDS.iter().position(|f| *f == field) {
        Some(at) => (at, 0, 0),
        None if LAST_FIELDS.contains(&field) => (FIELDS.len(), 0, 0),
        None => (FIELDS.len() + 1, 0, 0),
    }
}

/// The element a field's error links to.
fn dom_id(field: &str) -> String {
    field.replace(['.', '_'], "-")
}

/// Whether the page has a control for this field (an error for any other goes in the summary).
fn shown(field: &str) -> bool {
    FIELDS.contains(&field) && field != "sessions"
        || LAST_FIELDS.contains(&field)
        || field.strip_prefix("sessions.").is_some_and(|rest| {
            let mut p = rest.split('.');
            p.next()
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| i < MAX_SESSION_ROWS)
                && p.next().is_some()
        })
}

/// The problems, by field.
struct Errors<'a>(&'a [FormError]);

impl Errors<'_> {
    fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// "There is a problem": every error, each a link to its field. Empty when there are none.
pub(crate) fn error_summary(errors: &[FormError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            // Focused when the page loads (no script needed), so a screen reader reads it first.
            div.error-summary tabindex="-1" autofocus aria-labelledby="error-summary-title" {
                h2 #error-summary-title { "There is a problem" }
                ul {
                    @for e in errors {
                        li {
                            @if shown(&e.field) {
                                a href={ "#" (dom_id(&e.field)) } { (message_for(e)) }
                            } @else {
                                (message_for(e))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An error as the summary lists it: the field's name, then what is wrong.
fn message_for(e: &FormError) -> String {
    match label_of(&e.field) {
        Some(label) => format!("{label}: {}", e.message),
        None => e.message.clone(),
    }
}

fn label_of(field: &str) -> Option<String> {
    let fixed = match field {
        "name" => "Name",
        "organization" => "Who runs it",
        "description" => "What happens",
        "who_for" => "Who it is for",
        "postcode" => "Postcode",
        "place" => "Venue",
        "online" => "Online",
        "access" => "How people join",
        "free" => "Cost",
        "wheelchair" => "Step-free access",
        "domain" => "Kind of support",
        "interests" => "Interests",
        "languages" => "Languages",
        "phone" => "Phone",
        "email" => "Email",
        "website" => "Website",
        other => {
            let rest = other.strip_prefix("sessions.")?;
            let mut p = rest.split('.');
            let row: usize = p.next()?.parse().ok()?;
            let part = match p.next()? {
                "repeat" => "how often",
                "day" => "day",
                "nth" => "which one in the month",
                "first_date" => "a date it runs",
                "opens" => "starts",
                "closes" => "ends",
                _ => return None,
            };
            return Some(format!("Session {}, {part}", row + 1));
        }
    };
    Some(fixed.to_string())
}

/// `aria-describedby` for a control: its hint and its error, if any.
fn described(id: &str, hint: bool, error: bool) -> Option<String> {
    let ids: Vec<String> = [
        hint.then(|| format!("{id}-hint")),
        error.then(|| format!("{id}-error")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn error_message(id: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            p.error-message id={ (id) "-error" } { span.visually-hidden { "Error: " } (sentence(e)) }
        }
    }
}

/// A message as a sentence beside its field: a capital first letter.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Clone, Copy)]
enum Control {
    Text(&'static str),
    Area,
}

/// A labelled text input (or textarea) with its hint and error.
fn text_field(
    f: &Fields,
    errors: &Errors<'_>,
    name: &str,
    label: &str,
    hint: Option<&str>,
    control: Control,
    autocomplete: Option<&str>,
) -> Markup {
    let id = dom_id(name);
    let error = errors.of(name);
    let by = described(&id, hint.is_some(), error.is_some());
    html! {
        div.field.field-with-error[error.is_some()] {
            label for=(id) { (label) }
            @if let Some(h) = hint { p.hint id={ (id) "-hint" } { (h) } }
            (error_message(&id, error))
            @match control {
                Control::Text(kind) => input id=(id) name=(name) type=(kind) value=(f.get(name))
                    autocomplete=[autocomplete] aria-describedby=[by] aria-invalid=[error.map(|_| "true")];
                Control::Area => textarea id=(id) name=(name) rows="5"
                    aria-describedby=[by] aria-invalid=[error.map(|_| "true")] { (f.get(name)) },
            }
        }
    }
}

/// A labelled select with its error; `choices` are (value, words), the first the blank choice.
fn select_field(
    f: &Fields,
    errors: &Errors<'_>,
    name: &str,
    label: &str,
    hint: Option<&str>,
    choices: &[(&str, &str)],
) -> Markup {
    let id = dom_id(name);
    let error = errors.of(name);
    let by = described(&id, hint.is_some(), error.is_some());
    let current = f.get(name);
    html! {
        div.field.field-with-error[error.is_some()] {
            label for=(id) { (label) }
            @if let Some(h) = hint { p.hint id={ (id) "-hint" } { (h) } }
            (error_message(&id, error))
            select id=(id) name=(name) aria-describedby=[by] aria-invalid=[error.map(|_| "true")] {
                @for (value, words) in choices {
                    option value=(value) selected[*value == current] { (words) }
                }
            }
        }
    }
}

/// A checkbox with its label (value "yes").
fn checkbox(f: &Fields, errors: &Errors<'_>, name: &str, label: &str) -> Markup {
    let id = dom_id(name);
    let error = errors.of(name);
    html! {
        div.field.check.field-with-error[error.is_some()] {
            (error_message(&id, error))
            input id=(id) name=(name) type="checkbox" value="yes" checked[f.get(name) == "yes"]
                aria-describedby=[error.map(|_| format!("{id}-error"))];
            label for=(id) { (label) }
        }
    }
}

/// A fieldset of radios or checkboxes, its legend the question; the first control has the
/// field's own id (where an error links).
fn choice_group(
    f: &Fields,
    errors: &Errors<'_>,
    name: &str,
    legend: &str,
    hint: Option<&str>,
    kind: &str,
    choices: &[(&str, &str)],
) -> Markup {
    let id = dom_id(name);
    let error = errors.of(name);
    let by = described(&id, hint.is_some(), error.is_some());
    html! {
        fieldset.choices.field-with-error[error.is_some()] aria-describedby=[by] {
            legend { (legend) }
            @if let Some(h) = hint { p.hint id={ (id) "-hint" } { (h) } }
            (error_message(&id, error))
            @for (i, (value, words)) in choices.iter().enumerate() {
                @let own = if i == 0 { id.clone() } else { format!("{id}-{value}") };
                div.check {
                    input id=(own) name=(name) type=(kind) value=(value) checked[f.has(name, value)];
                    label for=(own) { (words) }
                }
            }
        }
    }
}

/// One session row: a fieldset whose legend numbers it.
fn session_row(f: &Fields, errors: &Errors<'_>, i: usize) -> Markup {
    let p = |n: &str| format!("sessions.{i}.{n}");
    let mut days = vec![("", "Choose a day")];
    days.extend(DAYS);
    let mut nths = vec![("", "Only for once a month")];
    nths.extend(NTHS);
    html! {
        fieldset.session {
            legend { "Session " (i + 1) @if i > 0 { " (leave blank if there is none)" } }
            (select_field(f, errors, &p("repeat"), "How often", None, &REPEATS))
            (select_field(f, errors, &p("day"), "Day", None, &days))
            (select_field(f, errors, &p("nth"), "Which one in the month", Some("For once a month: the first, second, third, fourth or last."), &nths))
            (text_field(f, errors, &p("first_date"), "A date it runs", Some("For every other week, so the right weeks are known: like 24/03/2026."), Control::Text("text"), None))
            (text_field(f, errors, &p("opens"), "Starts", Some("24-hour clock, like 10:00."), Control::Text("text"), None))
            (text_field(f, errors, &p("closes"), "Ends", Some("24-hour clock, like 12:00."), Control::Text("text"), None))
        }
    }
}

/// Every field of the group's form (without the `<form>`, its hidden fields or its button).
pub(crate) fn fields(f: &Fields, errors: &[FormError]) -> Markup {
    let errors = Errors(errors);
    let tax = Taxonomy::signpost();
    let terms = |group: &str| -> Vec<(&str, &str)> {
        tax.group(group)
            .map(|g| {
                g.terms
                    .iter()
                    .map(|t| (t.code.as_str(), t.name.as_str()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut domains = vec![("", "Not stated")];
    domains.extend(terms("domain"));
    let interests = terms("interest");
    html! {
        fieldset.part {
            legend { h2 { "About the group" } }
            (text_field(f, &errors, "name", "Name of the group or activity", None, Control::Text("text"), Some("off")))
            (text_field(f, &errors, "organization", "Who runs it (optional)", None, Control::Text("text"), Some("organization")))
            (text_field(f, &errors, "description", "What happens", Some("A sentence or two: what people do, and what to expect."), Control::Area, None))
            (text_field(f, &errors, "who_for", "Who it is for (optional)", Some("For example: adults over 50, carers, everyone."), Control::Text("text"), None))
        }
        fieldset.part {
            legend { h2 { "When it meets" } }
            p.hint { "Fill in one row for each regular session. Leave the rest blank." }
            @for i in 0..f.session_rows() {
                (session_row(f, &errors, i))
            }
        }
        fieldset.part {
            legend { h2 { "Where it meets" } }
            (text_field(f, &errors, "postcode", "Postcode of the venue", Some("The full postcode, like BS3 4AB. Leave it blank if it only meets online."), Control::Text("text"), Some("postal-code")))
            (text_field(f, &errors, "place", "Venue name and street (optional)", None, Control::Text("text"), None))
            (checkbox(f, &errors, "online", "It also (or only) meets online"))
        }
        fieldset.part {
            legend { h2 { "Joining" } }
            (choice_group(f, &errors, "access", "How do people join?", None, "radio", &ACCESS))
            (choice_group(f, &errors, "free", "Does it cost anything?", None, "radio", &[("yes", "It is free"), ("no", "There is a cost"), ("", "Not stated")]))
            (checkbox(f, &errors, "wheelchair", "Step-free (wheelchair) access"))
            (select_field(f, &errors, "domain", "Kind of support (optional)", None, &domains))
            (choice_group(f, &errors, "interests", "Interests (tick any that fit)", None, "checkbox", &interests))
            (text_field(f, &errors, "languages", "Languages (optional)", Some("Language codes separated by commas, like en, cy, ur, pl."), Control::Text("text"), None))
        }
        fieldset.part {
            legend { h2 { "Contact (optional)" } }
            (text_field(f, &errors, "phone", "Phone", None, Control::Text("tel"), Some("tel")))
            (text_field(f, &errors, "email", "Email", None, Control::Text("email"), Some("email")))
            (text_field(f, &errors, "website", "Website", Some("Starting https://"), Control::Text("url"), Some("url")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_and_its_fields_round_trip() {
        let group = GroupForm {
            service_id: Some("vcse-1".into()),
            name: "Walk".into(),
            description: "We walk.".into(),
            postcode: "BS3 4AB".into(),
            access: "drop-in".into(),
            interests: vec!["walking".into(), "nature".into()],
            free: Some(true),
            online: true,
            languages: vec!["en".into(), "cy".into()],
            sessions: vec![
                SessionForm {
                    repeat: "fortnightly".into(),
                    day: "TU".into(),
                    first_date: NaiveDate::from_ymd_opt(2026, 3, 24),
                    opens: "10:00".into(),
                    closes: "12:00".into(),
                    nth: None,
                },
                SessionForm {
                    repeat: "monthly".into(),
                    day: "FR".into(),
                    nth: Some(-1),
                    first_date: None,
                    opens: "18:00".into(),
                    closes: "20:00".into(),
                },
            ],
            ..GroupForm::default()
        };
        assert_eq!(Fields::from_group(&group).to_group().form, group);
    }

    #[test]
    fn blank_rows_are_skipped_and_errors_name_their_row() {
        let body = "name=Walk&description=We+walk&postcode=&access=drop-in\
            &sessions.0.repeat=weekly&sessions.0.day=&sessions.0.opens=&sessions.0.closes=\
            &sessions.1.repeat=weekly&sessions.1.day=MO&sessions.1.opens=25:00&sessions.1.closes=12:00\
            &sessions.2.repeat=fortnightly&sessions.2.day=TU&sessions.2.first_date=31/02/2026&sessions.2.opens=10:00&sessions.2.closes=11:00";
        let parsed = Fields::parse(body.as_bytes()).to_group();
        assert_eq!(parsed.form.sessions.len(), 2);
        let errors = parsed.listing("vcse-x").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["sessions.1.opens", "sessions.2.first_date", "postcode"]
        );
    }
}
