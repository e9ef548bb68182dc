//! The commissioners' report: aggregates only, never a name or an id, and every count under
//! [`SUPPRESS_BELOW`] shown as "<5" (with any figure derived from it left out), so nobody can be
//! picked out of a small number.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use signpost_directory::taxonomy::Taxonomy;
use signpost_directory::Directory;

use crate::error::Result;
use crate::model::{ConnectionStatus, Occasion, ONS4_QUESTIONS};
use crate::store::Caseload;

/// Counts below this are suppressed.
pub const SUPPRESS_BELOW: usize = 5;

/// A reporting period (inclusive); `None` ends are open.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Period {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
}

impl Period {
    fn holds(&self, d: NaiveDate) -> bool {
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }
}

/// One row: a measure, its breakdown, a count, and a value where the measure has one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What is counted.
    pub measure: String,
    /// Which part of it.
    pub breakdown: String,
    /// How many (people or connections); `None` when suppressed.
    pub count: Option<usize>,
    /// A mean, where the measure has one; `None` when suppressed or not applicable.
    pub value: Option<f64>,
}

impl Row {
    fn counted(measure: &str, breakdown: &str, n: usize) -> Row {
        Row {
            measure: measure.into(),
            breakdown: breakdown.into(),
            count: (n >= SUPPRESS_BELOW).then_some(n),
            value: None,
        }
    }
}

/// The report's rows.
pub fn rows(caseload: &Caseload, dir: &Directory, period: Period) -> Result<Vec<Row>> {
    let people = caseload.all_people()?;
    let mut out = Vec::new();
    let referred = people
        .iter()
        .filter(|p| period.holds(p.referred_on))
        .count();
    out.push(Row::counted("people", "referred", referred));
    let mut seen = 0;
    for p in &people {
        if caseload
            .contacts(&p.id)?
            .iter()
            .any(|c| period.holds(c.on_date))
        {
            seen += 1;
        }
    }
    out.push(Row::counted("people", "seen", seen));
    let open_at_end = people
        .iter()
        .filter(|p| period.to.is_none_or(|t| p.referred_on <= t))
        .filter(|p| p.closed_on.is_none_or(|c| period.to.is_some_and(|t| c > t)))
        .count();
    out.push(Row::counted("people", "open at end", open_at_end));

    // Connections with a step in the period, by the listing's CMHF domain and where they stood
    // at the period's end.
    let tax = Taxonomy::signpost();
    let domain_terms = &tax.group("domain").expect("domain group").terms;
    let mut by: BTreeMap<(String, ConnectionStatus), usize> = BTreeMap::new();
    for link in caseload.all_connections()? {
        if !link.steps.iter().any(|s| period.holds(s.on_date)) {
            continue;
        }
        let Some(status) = link
            .steps
            .iter()
            .filter(|s| period.to.is_none_or(|t| s.on_date <= t))
            .map(|s| s.status)
            .next_back()
        else {
            continue;
        };
        let domains: Vec<String> = match dir.service_entry(&link.service_id)? {
            Some(e) => domain_terms
                .iter()
                .enumerate()
                .filter(|(i, _)| e.domains & (1u32 << i) != 0)
                .map(|(_, t)| t.code.clone())
                .collect(),
            None => vec!["not in the directory".into()],
        };
        let domains = if domains.is_empty() {
            vec!["not stated".into()]
        } else {
            domains
        };
        for d in domains {
            *by.entry((d, status)).or_default() += 1;
        }
    }
    for d in domain_terms
        .iter()
        .map(|t| t.code.clone())
        .chain(["not stated".to_string(), "not in the directory".to_string()])
    {
        for status in ConnectionStatus::ALL {
            let n = by.get(&(d.clone(), status)).copied().unwrap_or(0);
            if n > 0 || domain_terms.iter().any(|t| t.code == d) {
                out.push(Row::counted(
                    "connections",
                    &format!("{d} / {}", status.code()),
                    n,
                ));
            }
        }
    }

    // ONS4: per question, the mean change from the start to the latest review in the period,
    // over people with both. Never combined into one score.
    let mut changes: [Vec<f64>; 4] = Default::default();
    for p in &people {
        let w = caseload.wellbeing(&p.id)?;
        let start = w.iter().find(|x| x.occasion == Occasion::Start);
        let review = w
            .iter()
            .rfind(|x| x.occasion == Occasion::Review && period.holds(x.on_date));
        if let (Some(s), Some(r)) = (start, review) {
            let pairs = [
                (s.scores.life_satisfaction, r.scores.life_satisfaction),
                (s.scores.worthwhile, r.scores.worthwhile),
                (s.scores.happy, r.scores.happy),
                (s.scores.anxious, r.scores.anxious),
            ];
            for (i, (a, b)) in pairs.into_iter().enumerate() {
                changes[i].push(f64::from(b) - f64::from(a));
            }
        }
    }
    for (i, (code, _)) in ONS4_QUESTIONS.iter().enumerate() {
        let n = changes[i].len();
        let mean = (n >= SUPPRESS_BELOW)
            .then(|| (changes[i].iter().sum::<f64>() / n as f64 * 10.0).round() / 10.0);
        out.push(Row {
            measure: "ons4 mean change".into(),
            breakdown: (*code).into(),
            count: (n >= SUPPRESS_BELOW).then_some(n),
            value: mean,
        });
    }
    Ok(out)
}

/// The rows as CSV text: `measure,breakdown,count,value`, "<5" for a suppressed count.
pub fn to_csv(rows: &[Row]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["measure", "breakdown", "count", "value"])?;
    for r in rows {
        let count = match r.count {
            Some(n) => n.to_string(),
            None => format!("<{SUPPRESS_BELOW}"),
        };
        let value = r.value.map(|v| format!("{v:+.1}")).unwrap_or_default();
        w.write_record([r.measure.as_str(), r.breakdown.as_str(), &count, &value])?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 strings"))
}
