//! What leaves the caseload on paper: the person's own plan, and the letter to their GP and
//! referrer. Both are built from what the person agreed to share; neither is ever sent by
//! Signpost (the connector prints, saves or copies them).
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use signpost_directory::Directory;

use crate::error::Result;
use crate::model::{ConnectionStatus, Occasion};
use crate::store::Caseload;

/// SNOMED CT codes the letter carries, verified from NHS England's social prescribing
/// guidance; no others are used.
pub const SNOMED_REFERRAL: (&str, &str) =
    ("871731000000106", "Referral to social prescribing service");
/// See [`SNOMED_REFERRAL`].
pub const SNOMED_DECLINED: (&str, &str) = ("871711000000103", "Social prescribing declined");

/// How the plan is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// The usual layout.
    Standard,
    /// The same words, for a larger type size (the UI sets the size).
    LargePrint,
    /// Short sentences, one fact a line, plain words.
    EasyRead,
}

/// One activity on the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanItem {
    /// The listing.
    pub service_id: String,
    /// What it is called.
    pub name: String,
    /// Who runs it.
    pub organization: Option<String>,
    /// When, in plain English.
    pub when: Option<String>,
    /// Where.
    pub place: Option<String>,
    /// How to join.
    pub how_to_join: String,
    /// What it costs.
    pub cost: String,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// Email addresses.
    pub emails: Vec<String>,
    /// Websites.
    pub websites: Vec<String>,
    /// False when the directory no longer lists it (shown from what was recorded).
    pub still_listed: bool,
}

/// A person's plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Their name as recorded.
    pub person_name: String,
    /// Date made.
    pub made_on: NaiveDate,
    /// Their chosen activities.
    pub items: Vec<PlanItem>,
    /// Who to call: the connector's name.
    pub connector_name: String,
    /// And how to reach them.
    pub connector_contact: String,
}

/// The person's plan: the connections they agreed to share that are still going.
pub fn plan(
    caseload: &Caseload,
    dir: &Directory,
    person_id: &str,
    now: DateTime<Utc>,
) -> Result<Plan> {
    let person = caseload.person(person_id)?;
    let mut items = Vec::new();
    for link in caseload.connections(person_id)? {
        if !link.in_plan
            || matches!(
                link.status(),
                ConnectionStatus::Stopped | ConnectionStatus::Declined
            )
        {
            continue;
        }
        items.push(
            match signpost_browse::detail::detail(dir, &link.service_id, now) {
                Ok(d) => PlanItem {
                    service_id: d.service_id,
                    name: d.name,
                    organization: d.organization,
                    when: d.when,
                    place: d.places.iter().find_map(|p| match (&p.name, &p.address) {
                        (Some(n), Some(a)) if !a.starts_with(n.as_str()) => {
                            Some(format!("{n}, {a}"))
                        }
                        (_, Some(a)) => Some(a.clone()),
                        (Some(n), None) => Some(n.clone()),
                        (None, None) => None,
                    }),
                    how_to_join: d.how_to_join,
                    cost: d.cost,
                    phones: d.phones.into_iter().map(|p| p.number).collect(),
                    emails: d.emails,
                    websites: d.websites,
                    still_listed: true,
                },
                Err(_) => PlanItem {
                    service_id: link.service_id.clone(),
                    name: link.service_name.clone(),
                    organization: None,
                    when: None,
                    place: None,
                    how_to_join: "Ask your connector: this is no longer in the directory.".into(),
                    cost: String::new(),
                    phones: Vec::new(),
                    emails: Vec::new(),
                    websites: Vec::new(),
                    still_listed: false,
                },
            },
        );
    }
    Ok(Plan {
        person_name: person.details.name,
        made_on: now.date_naive(),
        items,
        connector_name: caseload.setting("connector_name")?.unwrap_or_default(),
        connector_contact: caseload.setting("connector_contact")?.unwrap_or_default(),
    })
}

impl Plan {
    /// The plan as text, to copy or print.
    pub fn to_text(&self, variant: Variant) -> String {
        let mut out = String::new();
        let easy = variant == Variant::EasyRead;
        out.push_str(&if easy {
            format!("My plan, {}\n", self.person_name)
        } else {
            format!("Plan for {}\n", self.person_name)
        });
        out.push_str(&format!("Made on {}\n", self.made_on.format("%-d %B %Y")));
        if self.items.is_empty() {
            out.push_str("\nNothing chosen yet.\n");
        }
        for item in &self.items {
            out.push('\n');
            if easy {
                out.push_str(&format!("What: {}\n", item.name));
                if let Some(w) = &item.when {
                    out.push_str(&format!("When: {w}\n"));
                }
                if let Some(p) = &item.place {
                    out.push_str(&format!("Where: {p}\n"));
                }
                out.push_str(&format!("How to go: {}\n", item.how_to_join));
                if !item.cost.is_empty() {
                    out.push_str(&format!("Cost: {}\n", item.cost));
                }
                if let Some(p) = item.phones.first() {
                    out.push_str(&format!("Phone: {p}\n"));
                }
            } else {
                out.push_str(&item.name);
                if let Some(o) = &item.organization {
                    out.push_str(&format!(" ({o})"));
                }
                out.push('\n');
                for (label, value) in [
                    ("When", item.when.as_deref()),
                    ("Where", item.place.as_deref()),
                    ("How to join", Some(item.how_to_join.as_str())),
                    ("Cost", Some(item.cost.as_str()).filter(|c| !c.is_empty())),
                ] {
                    if let Some(v) = value {
                        out.push_str(&format!("  {label}: {v}\n"));
                    }
                }
                let contact: Vec<&str> = item
                    .phones
                    .iter()
                    .chain(&item.emails)
                    .chain(&item.websites)
                    .map(String::as_str)
                    .collect();
                if !contact.is_empty() {
                    out.push_str(&format!("  Contact: {}\n", contact.join(", ")));
                }
            }
        }
        if !self.connector_name.is_empty() || !self.connector_contact.is_empty() {
            out.push_str(&format!(
                "\n{} {} {}\n",
                if easy {
                    "Questions? Call"
                } else {
                    "Who to call:"
                },
                self.connector_name,
                self.connector_contact
            ));
        }
        out
    }
}

/// The letter for the person's GP record and their referrer: what was offered, the outcome,
/// and the SNOMED CT codes that apply. "Declined" applies when the person's support closed and
/// every connection offered was declined.
pub fn gp_letter(caseload: &Caseload, person_id: &str, today: NaiveDate) -> Result<String> {
    let person = caseload.person(person_id)?;
    let links = caseload.connections(person_id)?;
    let mut out = String::new();
    out.push_str("Social prescribing: summary for the GP record\n");
    out.push_str(&format!("Date: {}\n", today.format("%-d %B %Y")));
    out.push_str(&format!("Patient: {}", person.details.name));
    if let Some(n) = &person.details.nhs_number {
        out.push_str(&format!(", NHS number {n}"));
    }
    out.push_str("\n\nCodes:\n");
    out.push_str(&format!(
        "  {} |{}| on {}\n",
        SNOMED_REFERRAL.0, SNOMED_REFERRAL.1, person.referred_on
    ));
    let declined = person.closed_on.is_some()
        && !links.is_empty()
        && links
            .iter()
            .all(|l| l.status() == ConnectionStatus::Declined);
    if declined {
        out.push_str(&format!(
            "  {} |{}| on {}\n",
            SNOMED_DECLINED.0,
            SNOMED_DECLINED.1,
            person.closed_on.unwrap_or(today)
        ));
    }
    out.push_str("\nWhat was offered:\n");
    if links.is_empty() {
        out.push_str("  Nothing yet.\n");
    }
    for l in &links {
        let last = l.steps.last();
        out.push_str(&format!(
            "  {}: {} since {}",
            l.service_name,
            l.status().code(),
            last.map(|s| s.on_date.to_string()).unwrap_or_default()
        ));
        if let Some(reason) = last.map(|s| s.reason.as_str()).filter(|r| !r.is_empty()) {
            out.push_str(&format!(" ({reason})"));
        }
        out.push('\n');
    }
    let w = caseload.wellbeing(person_id)?;
    let start = w.iter().find(|x| x.occasion == Occasion::Start);
    let latest = w.iter().rfind(|x| x.occasion == Occasion::Review);
    out.push_str("\nOutcome (ONS4 personal wellbeing, 0 to 10; for anxiety, lower is better):\n");
    match (start, latest) {
        (Some(s), Some(r)) => {
            for (label, a, b) in [
                (
                    "Life satisfaction",
                    s.scores.life_satisfaction,
                    r.scores.life_satisfaction,
                ),
                ("Worthwhile", s.scores.worthwhile, r.scores.worthwhile),
                ("Happiness", s.scores.happy, r.scores.happy),
                ("Anxiety", s.scores.anxious, r.scores.anxious),
            ] {
                out.push_str(&format!(
                    "  {label}: {a} at the start ({}), {b} at review ({})\n",
                    s.on_date, r.on_date
                ));
            }
        }
        (Some(s), None) => out.push_str(&format!(
            "  Recorded at the start ({}); no review yet.\n",
            s.on_date
        )),
        _ => out.push_str("  Not recorded.\n"),
    }
    if let Some(c) = person.closed_on {
        out.push_str(&format!("\nSupport ended on {c}"));
        if !person.closed_reason.is_empty() {
            out.push_str(&format!(": {}", person.closed_reason));
        }
        out.push('\n');
    }
    let name = caseload.setting("connector_name")?.unwrap_or_default();
    let contact = caseload.setting("connector_contact")?.unwrap_or_default();
    if !name.is_empty() || !contact.is_empty() {
        out.push_str(&format!("\nFrom: {name} {contact}\n"));
    }
    Ok(out)
}
