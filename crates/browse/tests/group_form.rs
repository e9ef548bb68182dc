//! The group's form: to a listing the feed accepts, every problem named by its field, and back.
use chrono::NaiveDate;
use signpost_browse::group_form::{describe, from_listing, to_listing, GroupForm, SessionForm};
use signpost_directory::Directory;

fn session(repeat: &str, day: &str, opens: &str, closes: &str) -> SessionForm {
    SessionForm {
        repeat: repeat.into(),
        day: day.into(),
        opens: opens.into(),
        closes: closes.into(),
        ..SessionForm::default()
    }
}

fn good() -> GroupForm {
    GroupForm {
        name: "Bedminster <b>Knit</b> & Natter".into(),
        organization: "Southville Community Centre".into(),
        description: "Bring your knitting, or learn. Tea and biscuits.".into(),
        who_for: "Anyone over 16".into(),
        sessions: vec![
            session("weekly", "TU", "10:00", "12:00"),
            SessionForm {
                first_date: Some(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()),
                ..session("fortnightly", "TH", "18:30", "20:00")
            },
            SessionForm {
                nth: Some(2),
                ..session("monthly", "SA", "09:00", "11:30")
            },
        ],
        postcode: "bs3 1qg".into(),
        place: "Southville Centre, Beauley Road".into(),
        online: true,
        access: "drop-in".into(),
        domain: "personal-interests".into(),
        interests: vec!["arts".into(), "social".into()],
        free: Some(true),
        wheelchair: true,
        languages: vec!["en".into(), "PL".into()],
        phone: "0117 496 0000".into(),
        email: "knit@example.org".into(),
        website: "https://example.org/knit".into(),
        ..GroupForm::default()
    }
}

#[test]
fn a_filled_form_is_a_listing_the_directory_accepts_and_reads_back() {
    let listing = to_listing(&good(), "vcse-test-1").unwrap();
    assert_eq!(listing["id"], "vcse-test-1");
    assert_eq!(
        listing["name"], "Bedminster <b>Knit</b> & Natter",
        "kept as text"
    );
    let when = describe(&good()).unwrap();
    assert_eq!(
        when,
        "Tuesdays 10:00–12:00; every other Thursday 18:30–20:00; second Saturday of the month 09:00–11:30",
        "read back in plain English"
    );
    let mut dir = Directory::open_in_memory().unwrap();
    let report = dir
        .import_sources(vec![("form".to_string(), vec![listing])], &mut |_| {})
        .unwrap();
    assert_eq!(report.inserted, 1, "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let d = dir.listing("vcse-test-1").unwrap();
    assert_eq!(d.when.as_deref(), Some(when.as_str()));
    assert_eq!(d.access, Some("drop-in"));
    assert_eq!(d.free, Some(true));
    assert!(d.wheelchair);

    // "This is our group: update it" starts from the listing, and gives the same listing.
    let (back, left_out) = from_listing(&d);
    assert!(left_out.is_empty(), "{left_out:?}");
    let mut expected = good();
    expected.service_id = Some("vcse-test-1".into());
    expected.postcode = "BS3 1QG".into();
    expected.languages = vec!["en".into(), "pl".into()];
    assert_eq!(back, expected);
    assert_eq!(to_listing(&back, "ignored").unwrap()["id"], "vcse-test-1");
}

#[test]
fn every_problem_is_named_by_its_field_at_once() {
    let mut form = good();
    form.name = " ".into();
    form.sessions = vec![
        session("weekly", "TU", "10am", "12:00"),
        session("weekly", "TU", "12:00", "11:00"),
        session("fortnightly", "TH", "18:30", "20:00"),
        SessionForm {
            first_date: Some(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()),
            ..session("fortnightly", "TH", "18:30", "20:00")
        },
        session("monthly", "SA", "09:00", "11:00"),
        session("yearly", "SA", "09:00", "11:00"),
    ];
    form.postcode = "BS3".into();
    form.access = String::new();
    form.email = "not an address".into();
    form.website = "javascript:alert(1)".into();
    form.languages = vec!["Polish".into()];
    form.interests = vec!["knitting".into()];
    let errors = to_listing(&form, "x").unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "sessions.0.opens",
            "sessions.1.closes",
            "sessions.2.first_date",
            "sessions.3.first_date",
            "sessions.4.nth",
            "sessions.5.repeat",
            "postcode",
            "access",
            "interests",
            "languages",
            "email",
            "website",
        ],
        "{errors:#?}"
    );
    assert!(
        errors[1].message.contains("24-hour clock"),
        "{}",
        errors[1].message
    );
    assert!(
        errors[4].message.contains("is not a Thursday"),
        "{}",
        errors[4].message
    );

    let mut nowhere = good();
    nowhere.online = false;
    nowhere.postcode = String::new();
    let errors = to_listing(&nowhere, "x").unwrap_err();
    assert_eq!(errors[0].field, "postcode");
    nowhere.postcode = "ZZ99 9ZZ".into();
    let errors = to_listing(&nowhere, "x").unwrap_err();
    assert_eq!(
        (errors[0].field.as_str(), errors[0].message.as_str()),
        ("postcode", "ZZ99 9ZZ is not a postcode we know")
    );
}
