//! "Add sessions to my calendar": a listing's schedules as an iCalendar (RFC 5545) file that
//! any calendar app imports, one repeating event per schedule, in UK time.
use chrono::{DateTime, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike};
use signpost_directory::model::ScheduleRecord;
use signpost_directory::schedule::Schedule;
use signpost_directory::Directory;

use crate::error::{Error, Result};

/// A calendar file for one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFile {
    /// A safe file name from the listing's name (see [`file_name`]).
    pub file_name: String,
    /// The iCalendar text.
    pub text: String,
}

/// The listing's sessions from `now` on, as an `.ics` file. An error when the listing gives no
/// times a calendar could hold.
pub fn calendar(dir: &Directory, service_id: &str, now: DateTime<Utc>) -> Result<CalendarFile> {
    let d = dir.listing(service_id)?;
    let s = &d.service;
    let mut sets: Vec<(&[ScheduleRecord], Option<String>)> = Vec::new();
    for sal in &s.service_at_locations {
        let place = sal
            .location
            .addresses
            .iter()
            .find_map(|a| {
                let parts: Vec<&str> = [&a.address_1, &a.city, &a.postal_code]
                    .into_iter()
                    .filter_map(|p| p.as_deref().filter(|p| !p.trim().is_empty()))
                    .collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            })
            .or_else(|| sal.location.name.clone());
        if !sal.schedules.is_empty() {
            sets.push((&sal.schedules, place));
        } else if !s.schedules.is_empty() {
            sets.push((&s.schedules, place));
        }
    }
    if sets.is_empty() && !s.schedules.is_empty() {
        sets.push((&s.schedules, None));
    }
    let mut cal = Calendar::new();
    cal.name(&s.name);
    let mut events = 0;
    for (records, place) in sets {
        for (i, record) in records.iter().enumerate() {
            let Some(series) = Schedule::from_record(record).and_then(|sc| sc.calendar_series(now))
            else {
                continue;
            };
            let tz = |t| CalendarDateTime::WithTimezone {
                date_time: t,
                tzid: "Europe/London".into(),
            };
            let mut event = Event::new();
            event
                .uid(&format!(
                    "{}-{}-{}@signpost",
                    s.id,
                    record.id.as_deref().unwrap_or("schedule"),
                    i
                ))
                .summary(&s.name)
                .description(&format!(
                    "{}\n{}",
                    series.description,
                    s.description.as_deref().unwrap_or_default()
                ))
                .starts(tz(series.start))
                .ends(tz(series.end))
                .add_property("RRULE", &series.rrule);
            if let Some(place) = &place {
                event.location(place);
            }
            cal.push(event.done());
            events += 1;
        }
    }
    if events == 0 {
        return Err(Error::Request(format!(
            "{} does not give session times a calendar can hold; contact them to ask when it runs.",
            s.name
        )));
    }
    let text = cal.done().to_string();
    // RFC 5545 §3.2.19: every TZID a file uses must be defined in it. The events come first
    // in the body, so the definition goes just before the first of them.
    let text = match text.find("BEGIN:VEVENT") {
        Some(at) => format!("{}{EUROPE_LONDON}{}", &text[..at], &text[at..]),
        None => text,
    };
    Ok(CalendarFile {
        file_name: file_name(&s.name),
        text,
    })
}

/// UK time as RFC 5545 defines a zone: GMT, and BST from 01:00 UTC on the last Sunday of March
/// to 01:00 UTC on the last Sunday of October (the rule since 1996, as the tz database has it).
/// `icalendar` writes `TZID` on times but has no `VTIMEZONE` component, so the definition is
/// this fixed text.
const EUROPE_LONDON: &str = "BEGIN:VTIMEZONE\r\n\
TZID:Europe/London\r\n\
BEGIN:DAYLIGHT\r\n\
TZNAME:BST\r\n\
TZOFFSETFROM:+0000\r\n\
TZOFFSETTO:+0100\r\n\
DTSTART:19960331T010000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
END:DAYLIGHT\r\n\
BEGIN:STANDARD\r\n\
TZNAME:GMT\r\n\
TZOFFSETFROM:+0100\r\n\
TZOFFSETTO:+0000\r\n\
DTSTART:19961027T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
END:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// A safe file name for a listing's calendar: letters, digits and dashes only.
pub fn file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-');
    let out: String = out.chars().take(60).collect();
    format!("{}.ics", if out.is_empty() { "listing" } else { &out })
}
