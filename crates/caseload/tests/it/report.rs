//! The commissioners' CSV: aggregates only, small counts suppressed.
use chrono::Duration;
use signpost_caseload::report::{self, Period};
use signpost_caseload::{ConnectionStatus, Contact, ContactHow, Occasion, Ons4};

use crate::common::{contains, default_region, new_caseload, person, today};

#[test]
fn the_report_has_no_personal_data_and_suppresses_small_counts() {
    let (_d, _p, c) = new_caseload();
    let dir = default_region();
    // A real listing, so connections have a CMHF domain.
    let service = {
        let q = signpost_directory::NearQuery {
            radius_m: 50_000.0,
            limit: 1,
            ..signpost_directory::NearQuery::at(52.63, 1.30)
        };
        dir.near(&q, chrono::Utc::now()).unwrap().remove(0)
    };
    let mut ids = Vec::new();
    let mut names = Vec::new();
    for i in 0..7 {
        let name = format!("Zebedee{i} Quoxley");
        let p = c
            .add_person(&person(&name, "NR2"), today() - Duration::days(20))
            .unwrap();
        c.log_contact(
            &p.id,
            &Contact {
                id: 0,
                on_date: today() - Duration::days(5),
                how: ContactHow::Phone,
                note: format!("private note {i}"),
                next_step: String::new(),
            },
        )
        .unwrap();
        // Six attending, one declined: the declined count (1) must not show.
        let status = if i < 6 {
            ConnectionStatus::Attending
        } else {
            ConnectionStatus::Declined
        };
        c.connect(
            &p.id,
            &service.service_id,
            &service.name,
            status,
            today() - Duration::days(3),
            "",
        )
        .unwrap();
        if i < 5 {
            let s = Ons4 {
                life_satisfaction: 4,
                worthwhile: 5,
                happy: 5,
                anxious: 7,
            };
            c.record_wellbeing(&p.id, today() - Duration::days(20), Occasion::Start, s)
                .unwrap();
            c.record_wellbeing(
                &p.id,
                today(),
                Occasion::Review,
                Ons4 {
                    life_satisfaction: 6,
                    anxious: 5 - (i as u8 % 2),
                    ..s
                },
            )
            .unwrap();
        }
        ids.push(p.id);
        names.push(name);
    }
    let rows = report::rows(&c, &dir, Period::default()).unwrap();
    let text = report::to_csv(&rows).unwrap();
    assert!(
        text.starts_with("measure,breakdown,count,value\n"),
        "{text}"
    );
    for secret in ids.iter().chain(&names) {
        assert!(
            !contains(text.as_bytes(), secret),
            "{secret} is in the report"
        );
    }
    assert!(!text.contains("private note") && !text.contains(&service.service_id));
    let line = |prefix: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in\n{text}"))
            .to_string()
    };
    assert_eq!(line("people,referred,"), "people,referred,7,");
    assert_eq!(line("people,seen,"), "people,seen,7,");
    assert_eq!(
        line("connections,local-facilities / attending,"),
        "connections,local-facilities / attending,6,"
    );
    assert_eq!(
        line("connections,local-facilities / declined,"),
        "connections,local-facilities / declined,<5,"
    );
    assert_eq!(
        line("connections,health-and-social-care / attending,"),
        "connections,health-and-social-care / attending,<5,"
    );
    // Five people with a start and a review: the means show, anxiety on its own line.
    assert_eq!(
        line("ons4 mean change,life_satisfaction,"),
        "ons4 mean change,life_satisfaction,5,+2.0"
    );
    assert_eq!(
        line("ons4 mean change,anxious,"),
        "ons4 mean change,anxious,5,-2.4"
    );
    assert!(
        !text.contains("total") && !text.contains("score"),
        "the four are never combined"
    );

    // A period before anyone was referred: every count suppressed, no mean shown.
    let early = Period {
        from: None,
        to: Some(today() - Duration::days(60)),
    };
    let text = report::to_csv(&report::rows(&c, &dir, early).unwrap()).unwrap();
    assert!(text.lines().skip(1).all(|l| l.contains(",<5,")), "{text}");
    assert!(
        text.lines().skip(1).all(|l| l.ends_with(",<5,")),
        "no value beside a suppressed count:\n{text}"
    );
}
