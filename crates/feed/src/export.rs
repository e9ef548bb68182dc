//! The moderators' CSV exports: the queue and the stale list, for `/moderate/queue.csv`,
//! `/moderate/stale.csv` and the command line (`queue --csv`, `stale`).
//!
//! Written with the `csv` crate (quoting as RFC 4180). Every cell is text a group or a source
//! sent, and spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
//! return, which some read past) as a formula: such a cell is written with a `'` before it, which
//! spreadsheets show as text (OWASP's advice for CSV injection).
use std::borrow::Cow;

use signpost_moderation::reminders::Stale;
use signpost_moderation::Item;

/// A cell as written: one a spreadsheet would read as a formula is prefixed with `'`.
pub fn cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

fn write<const N: usize>(header: [&str; N], rows: impl Iterator<Item = [String; N]>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(row.iter().map(|c| cell(c).into_owned()))
            .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// The queue: what waits, as the web queue lists it.
pub fn queue_csv(items: &[Item]) -> Vec<u8> {
    write(
        ["id", "kind", "name", "service_id", "submitted_at"],
        items.iter().map(|i| {
            [
                i.id.clone(),
                i.kind_words(),
                i.name.clone(),
                i.service_id.clone(),
                i.submitted_at.clone(),
            ]
        }),
    )
}

/// The stale list: listings not checked for over 12 months (or never).
pub fn stale_csv(stale: &[Stale]) -> Vec<u8> {
    write(
        ["service_id", "name", "last_checked", "email"],
        stale.iter().map(|s| {
            [
                s.service_id.clone(),
                s.name.clone(),
                s.assured_date.map(|d| d.to_string()).unwrap_or_default(),
                s.email.clone().unwrap_or_default(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text_and_quoting_is_kept() {
        for (text, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("Park walk", "Park walk"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(cell(text), written);
        }
        let stale = [Stale {
            service_id: "s,1".into(),
            name: "=cmd|' /C calc'!A0".into(),
            assured_date: None,
            email: Some("a\"b@example.org".into()),
        }];
        let text = String::from_utf8(stale_csv(&stale)).unwrap();
        assert_eq!(
            text,
            "service_id,name,last_checked,email\n\"s,1\",'=cmd|' /C calc'!A0,,\"a\"\"b@example.org\"\n"
        );
    }
}
