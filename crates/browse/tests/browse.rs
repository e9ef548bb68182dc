//! The app's view of the directory, against a real SQLite file.
use chrono::{TimeZone, Utc};
use serde_json::json;
use signpost_browse::{
    answer, calendar, detail, search, text, Error, SearchAnswer, SearchRequest, When,
};
use signpost_directory::Directory;
use signpost_postcodes::Gazetteer;

fn directory() -> (tempfile::TempDir, Directory) {
    let t = tempfile::tempdir().unwrap();
    let mut d = Directory::open(&t.path().join("d.db")).unwrap();
    let records = vec![
        json!({"id": "walk", "name": "Walk", "status": "active", "assured_date": "2026-09-01",
               "attributes": [{"taxonomy_term_id": "signpost:access:drop-in"}, {"taxonomy_term_id": "signpost:cost:free"}],
               "schedules": [{"freq": "MONTHLY", "byday": "1MO", "opens_at": "10:00", "closes_at": "11:30", "dtstart": "2026-01-05"}],
               "service_at_locations": [{"id": "s1", "location": {"id": "l1", "latitude": 51.4405, "longitude": -2.61,
                   "addresses": [{"address_1": "Ashton Road", "city": "Bristol", "postal_code": "BS3 2HB", "country": "GB"}]}}]}),
        json!({"id": "old", "name": "Old club", "status": "active", "assured_date": "2024-01-01",
               "url": "javascript:alert(1)",
               "attributes": [{"taxonomy_term_id": "signpost:access:referral-required"}],
               "service_at_locations": [{"id": "s2", "location": {"id": "l2", "latitude": 51.45, "longitude": -2.60}}]}),
    ];
    let r = d
        .import_sources(vec![("test".into(), records)], &mut |_| {})
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    (t, d)
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

#[test]
fn searches_from_a_postcode_or_a_town_and_flags_old_listings() {
    let (_t, d) = directory();
    let g = Gazetteer::embedded();
    let req = SearchRequest {
        place: Some("bs3".into()),
        ..Default::default()
    };
    let answer = search(&d, g, &req, now()).unwrap();
    assert_eq!(answer.origin.label, "BS3");
    let ids: Vec<&str> = answer
        .results
        .iter()
        .map(|r| r.service_id.as_str())
        .collect();
    assert_eq!(ids, ["walk", "old"]);
    assert_eq!(answer.total, 2);
    // Cut short by the limit, the answer still says how many there are.
    let one = SearchRequest {
        place: Some("bs3".into()),
        limit: Some(1),
        ..Default::default()
    };
    let short = search(&d, g, &one, now()).unwrap();
    assert_eq!((short.results.len(), short.total), (1, 2));
    assert!(answer.results[0].no_referral && !answer.results[0].may_be_out_of_date);
    assert!(!answer.results[1].no_referral && answer.results[1].may_be_out_of_date);
    assert_eq!(answer.results[0].opening_text, "Next: Mon 7 Dec, 10:00");

    let by_town = SearchRequest {
        place: Some("Bedminster".into()),
        no_referral: true,
        ..Default::default()
    };
    let answer = search(&d, g, &by_town, now()).unwrap();
    assert!(
        answer.origin.label.starts_with("Bedminster"),
        "{}",
        answer.origin.label
    );
    assert_eq!(answer.results.len(), 1);

    let nowhere = SearchRequest {
        place: Some("Nowhereville Magna".into()),
        ..Default::default()
    };
    let err = search(&d, g, &nowhere, now()).unwrap_err().to_string();
    assert!(err.contains("not a UK postcode or a place"), "{err}");
    let bad_time = SearchRequest {
        place: Some("BS3".into()),
        when: When::At {
            local: "next tuesday".into(),
        },
        ..Default::default()
    };
    assert!(search(&d, g, &bad_time, now()).is_err());
    // 01:30 on the spring-forward Sunday does not exist in UK time.
    let skipped = SearchRequest {
        place: Some("BS3".into()),
        when: When::At {
            local: "2027-03-28T01:30".into(),
        },
        ..Default::default()
    };
    let err = search(&d, g, &skipped, now()).unwrap_err().to_string();
    assert!(err.contains("does not exist"), "{err}");
}

fn at(place: &str) -> SearchRequest {
    SearchRequest {
        place: Some(place.into()),
        ..Default::default()
    }
}

#[test]
fn an_ambiguous_or_misspelt_place_is_a_question_not_a_guess() {
    let (_t, d) = directory();
    let g = Gazetteer::embedded();
    let Err(Error::ChoosePlace(q)) = search(&d, g, &at("Newcastle"), now()) else {
        panic!("Newcastle is a choice")
    };
    assert!(!q.did_you_mean);
    assert_eq!(
        q.question,
        "There is more than one \"Newcastle\". Which did you mean?"
    );
    assert_eq!(q.note, None);
    assert!(q.message.starts_with("There is more than one \"Newcastle\". Which did you mean: Newcastle upon Tyne (city); Newcastle-under-Lyme (town)"), "{}", q.message);
    assert_eq!(q.choices[0].label, "Newcastle upon Tyne (city)");
    // Each choice's place is searched from directly.
    for c in &q.choices {
        let r = search(&d, g, &at(&c.place), now()).unwrap();
        assert!(
            r.origin
                .label
                .starts_with(&c.label[..c.label.find(" (").unwrap()]),
            "{c:?}"
        );
    }
    // The app's command gets the question as an answer, tagged for the UI.
    let SearchAnswer::ChoosePlace(q) = answer(&d, g, &at("St Ives"), now()).unwrap() else {
        panic!("St Ives is a choice")
    };
    let labels: Vec<&str> = q.choices.iter().map(|c| c.label.as_str()).collect();
    assert!(
        labels.contains(&"St Ives (town, Cornwall)")
            && labels.contains(&"St Ives (town, Huntingdonshire)"),
        "{labels:?}"
    );
    let json = serde_json::to_value(SearchAnswer::ChoosePlace(q)).unwrap();
    assert_eq!(json["kind"], "choose-place");
    assert_eq!(
        json["choices"][0]["place"]
            .as_str()
            .unwrap()
            .split(',')
            .next(),
        Some("St Ives")
    );

    let Err(Error::ChoosePlace(q)) = search(&d, g, &at("Manchestr"), now()) else {
        panic!("Manchestr is a suggestion")
    };
    assert!(q.did_you_mean);
    assert_eq!(
        q.question,
        "Signpost knows no place called \"Manchestr\". Did you mean one of these?"
    );
    assert_eq!(
        q.message,
        format!(
            "Signpost knows no place called \"Manchestr\". Did you mean: {}?",
            q.choices
                .iter()
                .map(|c| c.label.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )
    );
    assert_eq!(q.choices[0].place, "Manchester");

    let SearchAnswer::Results(r) = answer(&d, g, &at("Newcastle upon Tyne"), now()).unwrap() else {
        panic!("a qualified name is searched from")
    };
    assert_eq!(r.origin.label, "Newcastle upon Tyne");

    // 90 places are called Newtown: the largest 12 are offered, the others counted.
    let Err(Error::ChoosePlace(q)) = search(&d, g, &at("Newtown"), now()) else {
        panic!("Newtown is a choice")
    };
    assert_eq!(q.choices.len(), 12);
    assert!(q
        .note
        .as_deref()
        .unwrap()
        .starts_with("There are 78 smaller places"));
    assert!(q.message.contains(" There are 78 smaller places of that name too: type the name, a comma and the local authority, such as \"Newtown, "), "{}", q.message);

    let err = search(&d, g, &at("bt1 1aa"), now())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "Signpost covers postcodes in England, Wales and Scotland; BT1 1AA is in Northern Ireland, which it does not cover.");
}

#[test]
fn listings_that_do_not_say_they_are_step_free_are_counted_and_shown_on_request() {
    let (_t, d) = directory();
    let g = Gazetteer::embedded();
    let mut req = SearchRequest {
        place: Some("BS3".into()),
        wheelchair: true,
        ..Default::default()
    };
    let strict = search(&d, g, &req, now()).unwrap();
    assert!(strict.results.is_empty());
    assert_eq!(
        strict.unstated, 2,
        "neither fixture listing states step-free access"
    );
    req.include_unstated = true;
    let all = search(&d, g, &req, now()).unwrap();
    let rows: Vec<(&str, bool)> = all
        .results
        .iter()
        .map(|r| (r.service_id.as_str(), r.step_free_not_stated))
        .collect();
    assert_eq!(rows, [("walk", true), ("old", true)]);
    assert_eq!((all.unstated, all.total), (0, 2));

    // Cost and referral too. "Old club" does not say its cost, and says a referral is needed:
    // asked for free, it is counted; asked for free and no referral, it is not (it says no).
    let free = SearchRequest {
        place: Some("BS3".into()),
        free: true,
        ..Default::default()
    };
    let answer = search(&d, g, &free, now()).unwrap();
    assert_eq!(answer.results.len(), 1);
    assert_eq!(
        (answer.unstated, answer.unstated_about.as_slice()),
        (1, &["cost"][..])
    );
    let both = SearchRequest {
        no_referral: true,
        ..free.clone()
    };
    let answer = search(&d, g, &both, now()).unwrap();
    assert_eq!(
        answer.unstated, 0,
        "a listing that says no is not 'not stated'"
    );
    let included = search(
        &d,
        g,
        &SearchRequest {
            include_unstated: true,
            ..free
        },
        now(),
    )
    .unwrap();
    let rows: Vec<(&str, Vec<&str>)> = included
        .results
        .iter()
        .map(|r| (r.service_id.as_str(), r.not_stated.clone()))
        .collect();
    assert_eq!(rows, [("walk", vec![]), ("old", vec!["cost"])]);
}

#[test]
fn a_chosen_time_filters_by_the_schedule() {
    let (_t, d) = directory();
    let g = Gazetteer::embedded();
    let at = |local: &str| SearchRequest {
        place: Some("BS3".into()),
        when: When::At {
            local: local.into(),
        },
        ..Default::default()
    };
    // First Monday of December 2026 is the 7th; the 14th is the second Monday.
    // The walk is on then; the old club does not say when it runs, so it follows, marked,
    // rather than being dropped.
    let open = search(&d, g, &at("2026-12-07T10:15"), now()).unwrap();
    let rows: Vec<(&str, &str)> = open
        .results
        .iter()
        .map(|r| (r.service_id.as_str(), r.opening_text.as_str()))
        .collect();
    assert_eq!(rows, [("walk", "Open then"), ("old", "Times not given")]);
    assert_eq!(open.total, 2);
    // A week later the walk is not on: only the listing whose times are unknown is left.
    let later = search(&d, g, &at("2026-12-14T10:15"), now()).unwrap();
    let ids: Vec<&str> = later
        .results
        .iter()
        .map(|r| r.service_id.as_str())
        .collect();
    assert_eq!(ids, ["old"]);
    assert_eq!(later.results[0].opening_text, "Times not given");
}

#[test]
fn detail_keeps_only_web_links_and_reads_plainly() {
    let (_t, d) = directory();
    let walk = detail(&d, "walk", now()).unwrap();
    assert_eq!(
        walk.how_to_join,
        "Drop in: just turn up, no need to contact anyone first."
    );
    assert_eq!(walk.cost, "Free");
    assert_eq!(
        walk.places[0].address.as_deref(),
        Some("Ashton Road, Bristol, BS3 2HB")
    );
    assert!(walk.has_sessions);
    assert_eq!(walk.checked_on.as_deref(), Some("1 September 2026"));
    assert_eq!(
        walk.categories,
        Vec::<String>::new(),
        "access and cost have rows of their own"
    );
    assert_eq!(
        detail::place_line(Some("Ashton Road"), Some("Ashton Road, Bristol, BS3 2HB")).as_deref(),
        Some("Ashton Road, Bristol, BS3 2HB")
    );
    assert_eq!(
        detail::place_line(Some("Park gates"), Some("Ashton Road, BS3 2HB")).as_deref(),
        Some("Park gates, Ashton Road, BS3 2HB")
    );
    assert_eq!(detail::place_line(None, None), None);
    let old = detail(&d, "old", now()).unwrap();
    assert!(old.websites.is_empty(), "javascript: URLs are dropped");
    assert!(old.may_be_out_of_date);
    let copy = text::listing_text(&walk);
    assert!(
        copy.contains("When: First Monday of the month 10:00–11:30"),
        "{copy}"
    );
    let list = text::saved_text(&[walk], &["Gone group".into()]);
    assert!(
        list.contains("1. Name: Walk") && list.contains("- Gone group: no longer listed"),
        "{list}"
    );
}

#[test]
fn calendar_keeps_ordinals_and_uk_time() {
    let (_t, d) = directory();
    let file = calendar::calendar(&d, "walk", now()).unwrap();
    assert_eq!(file.file_name, "walk.ics");
    let ics = file.text;
    assert!(ics.contains("RRULE:FREQ=MONTHLY;BYDAY=1MO"), "{ics}");
    assert!(
        ics.contains("DTSTART;TZID=Europe/London:20261207T100000"),
        "{ics}"
    );
    assert!(
        ics.contains("DTEND;TZID=Europe/London:20261207T113000"),
        "{ics}"
    );
    assert!(
        ics.contains("LOCATION:Ashton Road\\, Bristol\\, BS3 2HB"),
        "{ics}"
    );
    // It parses as RFC 5545, and every time zone it names is defined in it (§3.2.19).
    let unfolded = icalendar::parser::unfold(&ics);
    let parsed = icalendar::parser::read_calendar(&unfolded).expect("a valid iCalendar file");
    let defined: Vec<String> = parsed
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VTIMEZONE")
        .flat_map(|c| c.properties.iter())
        .filter(|p| p.name.as_str() == "TZID")
        .map(|p| p.val.as_str().to_string())
        .collect();
    assert_eq!(defined, ["Europe/London"], "{ics}");
    let events: Vec<_> = parsed
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1);
    for p in events.iter().flat_map(|e| e.properties.iter()) {
        for param in p.params.iter().filter(|x| x.key.as_str() == "TZID") {
            let zone = param.val.as_ref().map(|v| v.as_str().to_string());
            assert!(
                zone.as_ref().is_some_and(|z| defined.contains(z)),
                "{} uses an undefined zone {zone:?}",
                p.name.as_str()
            );
        }
    }
    let zone = parsed
        .components
        .iter()
        .find(|c| c.name.as_str() == "VTIMEZONE")
        .unwrap();
    let parts: Vec<&str> = zone.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(parts, ["DAYLIGHT", "STANDARD"]);
    let err = calendar::calendar(&d, "old", now())
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not give session times"), "{err}");
    assert_eq!(
        calendar::file_name("Tea & Chat: <Mondays>"),
        "tea-chat-mondays.ics"
    );
}

#[test]
fn distances_read_naturally() {
    assert_eq!(signpost_browse::search::distance_text(347.0), "350 m");
    assert_eq!(signpost_browse::search::distance_text(2_449.0), "2.4 km");
    assert_eq!(signpost_browse::search::distance_text(12_600.0), "13 km");
}

/// A listing published as closed (an approved "this has closed" report makes it inactive) says
/// so in its detail and its plain text; a running one says nothing of it.
#[test]
fn a_closed_listing_says_it_has_closed() {
    let (_t, mut d) = directory();
    assert_eq!(detail(&d, "walk", now()).unwrap().closed, None);
    let mut record = d.listing("walk").unwrap().record;
    record["status"] = json!("inactive");
    d.import_sources(vec![("closure".into(), vec![record])], &mut |_| {})
        .unwrap();
    let walk = detail(&d, "walk", now()).unwrap();
    assert_eq!(walk.closed.as_deref(), Some("Closed"));
    let list = text::saved_text(&[walk], &[]);
    assert!(list.contains("1. Name: Walk\nStatus: Closed\n"), "{list}");
    assert_eq!(
        signpost_browse::detail::closed_words("temporarily closed"),
        Some("Temporarily closed")
    );
}
