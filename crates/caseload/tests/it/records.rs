//! People, contacts, connections, follow-ups and outcomes: what is stored comes back, and bad
//! values are refused naming their field.
use chrono::{Duration, NaiveDate};
use signpost_caseload::model::ListingState;
use signpost_caseload::{
    listing_state, people_csv, ConnectionStatus, Contact, ContactHow, Error, Occasion, Ons4,
    PersonDetails,
};
use signpost_directory::changeset::Changeset;
use signpost_directory::Directory;

use crate::common::{new_caseload, person, today};

fn field_of(e: Error) -> String {
    match e {
        Error::Invalid { field, .. } => field,
        other => panic!("not a field error: {other}"),
    }
}

#[test]
fn a_person_round_trips_in_stored_form() {
    let (_d, _p, c) = new_caseload();
    let p = c
        .add_person(
            &PersonDetails {
                name: "  A. J.  ".into(),
                contact_method: "Phone".into(),
                contact_times: "weekday mornings".into(),
                home_area: "bs3  4".into(),
                goals: "get out more".into(),
                needs: "lonely since moving".into(),
                interests: vec![
                    "walking".into(),
                    "signpost:interest:reading".into(),
                    "walking".into(),
                ],
                access_needs: vec!["wheelchair".into()],
                languages: vec!["EN".into(), "ur".into()],
                free_times: vec!["TUE-morning".into(), "mon-evening".into()],
                no_referral_only: true,
                travel_km: Some(3.0),
                nhs_number: Some("9434765919".into()),
                gender: Some("z".into()),
                ethnicity: Some("j".into()),
            },
            today(),
        )
        .unwrap();
    let d = &p.details;
    assert_eq!(d.name, "A. J.");
    assert_eq!(d.contact_method, "phone");
    assert_eq!(d.home_area, "BS3 4");
    assert_eq!(
        d.interests,
        ["signpost:interest:walking", "signpost:interest:reading"]
    );
    assert_eq!(d.access_needs, ["signpost:accessibility:wheelchair"]);
    assert_eq!(d.languages, ["en", "ur"]);
    assert_eq!(d.free_times, ["mon-evening", "tue-morning"]);
    assert_eq!(d.nhs_number.as_deref(), Some("943 476 5919"));
    assert_eq!(d.gender.as_deref(), Some("Z"));
    assert_eq!(d.ethnicity.as_deref(), Some("J"));
    assert_eq!(c.person(&p.id).unwrap(), p);
    assert_eq!(c.find_person("A. J.").unwrap().id, p.id);
    // The optional coded fields are empty unless given.
    let q = c.add_person(&person("B", "BS3"), today()).unwrap();
    assert_eq!(
        (q.details.nhs_number, q.details.gender, q.details.ethnicity),
        (None, None, None)
    );
}

#[test]
fn bad_values_name_their_field() {
    let (_d, _p, c) = new_caseload();
    let cases: Vec<(PersonDetails, &str, &str)> = vec![
        (person("", "BS3"), "name", "give a name"),
        (
            person("A", "BS3 4AB"),
            "home_area",
            "BS3 4AB is a full postcode; keep only the district or sector (like BS3 4)",
        ),
        (
            person("A", "12 High Street"),
            "home_area",
            "not a postcode district",
        ),
        (person("A", "ZZ9"), "home_area", "we know"),
        (
            PersonDetails {
                interests: vec!["knitting".into()],
                ..person("A", "BS3")
            },
            "interests",
            "\"knitting\" is not a Signpost interest term",
        ),
        (
            PersonDetails {
                access_needs: vec!["lift".into()],
                ..person("A", "BS3")
            },
            "access_needs",
            "not a Signpost accessibility term",
        ),
        (
            PersonDetails {
                languages: vec!["Urdu".into()],
                ..person("A", "BS3")
            },
            "languages",
            "ISO 639",
        ),
        (
            PersonDetails {
                free_times: vec!["tuesday".into()],
                ..person("A", "BS3")
            },
            "free_times",
            "mon-morning to sun-evening",
        ),
        (
            PersonDetails {
                nhs_number: Some("943 476 5918".into()),
                ..person("A", "BS3")
            },
            "nhs_number",
            "check digit",
        ),
        (
            PersonDetails {
                gender: Some("M".into()),
                ..person("A", "BS3")
            },
            "gender",
            "1, 2, 3, 4, X, Z",
        ),
        (
            PersonDetails {
                travel_km: Some(0.0),
                ..person("A", "BS3")
            },
            "travel_km",
            "0.5 to 50",
        ),
    ];
    for (details, field, words) in cases {
        let e = c.add_person(&details, today()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(words), "{field}: {text}");
        assert_eq!(field_of(e), field);
    }
    assert!(c.people().unwrap().is_empty(), "nothing bad was stored");
}

#[test]
fn contacts_connections_follow_ups_and_the_agenda() {
    let (_d, _p, c) = new_caseload();
    let a = c.add_person(&person("Ada", "BS3"), today()).unwrap();
    let b = c.add_person(&person("Bea", "BS3 4"), today()).unwrap();
    let d1 = today() - Duration::days(10);
    c.log_contact(
        &a.id,
        &Contact {
            id: 0,
            on_date: d1,
            how: ContactHow::Visit,
            note: "first visit".into(),
            next_step: "try the walk".into(),
        },
    )
    .unwrap();
    c.log_contact(
        &a.id,
        &Contact {
            id: 0,
            on_date: today(),
            how: ContactHow::Video,
            note: "went well".into(),
            next_step: String::new(),
        },
    )
    .unwrap();
    let contacts = c.contacts(&a.id).unwrap();
    assert_eq!(
        contacts.iter().map(|x| x.note.as_str()).collect::<Vec<_>>(),
        ["went well", "first visit"]
    );

    let conn = c
        .connect(
            &a.id,
            "walk-1",
            "Park walk",
            ConnectionStatus::Suggested,
            d1,
            "likes walking",
        )
        .unwrap();
    c.set_status(
        conn,
        ConnectionStatus::Introduced,
        d1 + Duration::days(2),
        "met the leader",
    )
    .unwrap();
    c.set_status(conn, ConnectionStatus::Attending, today(), "")
        .unwrap();
    // Connecting again to the same listing adds a step, not a second connection.
    let again = c
        .connect(
            &a.id,
            "walk-1",
            "Park walk",
            ConnectionStatus::Stopped,
            today(),
            "moved away",
        )
        .unwrap();
    assert_eq!(again, conn);
    let links = c.connections(&a.id).unwrap();
    assert_eq!(links.len(), 1);
    let steps: Vec<_> = links[0]
        .steps
        .iter()
        .map(|s| (s.status, s.reason.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (ConnectionStatus::Suggested, "likes walking"),
            (ConnectionStatus::Introduced, "met the leader"),
            (ConnectionStatus::Attending, ""),
            (ConnectionStatus::Stopped, "moved away"),
        ]
    );
    assert_eq!(links[0].status(), ConnectionStatus::Stopped);

    let overdue = c
        .add_follow_up(&b.id, today() - Duration::days(3), "ring Bea")
        .unwrap();
    c.add_follow_up(&a.id, today(), "check the walk went well")
        .unwrap();
    c.add_follow_up(&a.id, today() + Duration::days(7), "review")
        .unwrap();
    let done = c
        .add_follow_up(&b.id, today() - Duration::days(5), "post leaflet")
        .unwrap();
    c.complete_follow_up(done, today() - Duration::days(4))
        .unwrap();
    assert!(field_of(c.add_follow_up(&a.id, today(), "  ").unwrap_err()) == "what");
    let agenda = c.agenda(today()).unwrap();
    assert_eq!(
        agenda
            .overdue
            .iter()
            .map(|f| (f.id, f.person_name.as_str()))
            .collect::<Vec<_>>(),
        [(overdue, "Bea")]
    );
    assert_eq!(
        agenda
            .today
            .iter()
            .map(|f| f.what.as_str())
            .collect::<Vec<_>>(),
        ["check the walk went well"]
    );
    assert_eq!(agenda.people.len(), 2);

    // Outcomes: four separate answers, at the start and at reviews; out of range is refused.
    let start = Ons4 {
        life_satisfaction: 3,
        worthwhile: 4,
        happy: 5,
        anxious: 8,
    };
    c.record_wellbeing(&a.id, d1, Occasion::Start, start)
        .unwrap();
    c.record_wellbeing(
        &a.id,
        today(),
        Occasion::Review,
        Ons4 {
            anxious: 4,
            ..start
        },
    )
    .unwrap();
    let e = c
        .record_wellbeing(
            &a.id,
            today(),
            Occasion::Review,
            Ons4 { happy: 11, ..start },
        )
        .unwrap_err();
    assert_eq!(field_of(e), "happy");
    assert_eq!(c.wellbeing(&a.id).unwrap().len(), 2);

    // Closing and the retention list.
    c.close_person(&b.id, today() - Duration::days(200), "moved away")
        .unwrap();
    let cutoff = today() - Duration::days(180);
    assert_eq!(
        c.closed_before(cutoff)
            .unwrap()
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["Bea"]
    );
    assert!(c
        .closed_before(cutoff - Duration::days(30))
        .unwrap()
        .is_empty());
    assert_eq!(
        c.people().unwrap()[1].name,
        "Bea",
        "closed people come last"
    );
}

#[test]
fn import_people_keeps_good_rows_and_names_bad_ones() {
    let (_d, _p, c) = new_caseload();
    let csv = "name,home_area,interests,access_needs,languages,free_times,goals\n\
               Ann,BS3 4,walking;reading,,en,tue-morning;thu-afternoon,get out more\n\
               Bob,BS3 4AB,walking,,,,\n\
               Cat,M1,knitting,,,,\n\
               \"Dee, Jr\",M1,,signpost:accessibility:wheelchair,pl;en,sun-evening,\"meet people, make friends\"\n\
               Eve,M1,,,,someday,\n";
    let report = people_csv::import(&c, csv.as_bytes(), today()).unwrap();
    assert_eq!(report.added, 2);
    let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].starts_with("line 3: home_area: BS3 4AB is a full postcode"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("line 4: interests: \"knitting\""),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].starts_with("line 6: free_times: \"someday\""),
        "{}",
        errors[2]
    );
    let names: Vec<String> = c.people().unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Ann", "Dee, Jr"]);
    let dee = c.find_person("Dee, Jr").unwrap();
    assert_eq!(dee.details.languages, ["pl", "en"]);
    assert_eq!(dee.details.goals, "meet people, make friends");
    // A file with the wrong header is refused as a whole.
    let e = people_csv::import(&c, "who,where\nA,B\n".as_bytes(), today()).unwrap_err();
    assert_eq!(field_of(e), "header");
}

#[test]
fn a_connection_shows_when_sync_closes_or_removes_its_listing() {
    let (_d, _p, c) = new_caseload();
    let mut dir = Directory::open_in_memory().unwrap();
    let listing = |id: &str, status: &str, assured: &str| {
        serde_json::json!({
            "id": id, "name": format!("Listing {id}"), "status": status,
            "assured_date": assured,
            "service_at_locations": [{"id": format!("{id}-sal"), "location": {
                "id": format!("{id}-loc"), "name": "Hall", "latitude": 51.44, "longitude": -2.6}}]
        })
    };
    let checked = (today() - Duration::days(30)).to_string();
    let cs1 = Changeset {
        seq: 1,
        prev: String::new(),
        upserts: vec![
            listing("keep", "active", &checked),
            listing("close", "active", &checked),
            listing("drop", "active", &checked),
            listing("old", "active", "2024-01-05"),
        ],
        deletes: vec![],
    };
    dir.apply_changeset("http://feed", "feed-a", &cs1).unwrap();
    let p = c.add_person(&person("Ann", "BS3"), today()).unwrap();
    for id in ["keep", "close", "drop", "old"] {
        c.connect(
            &p.id,
            id,
            &format!("Listing {id}"),
            ConnectionStatus::Attending,
            today(),
            "",
        )
        .unwrap();
    }
    assert_eq!(
        listing_state::listing_state(&dir, "close", today()).unwrap(),
        ListingState::Listed
    );
    let cs2 = Changeset {
        seq: 2,
        prev: cs1.hash(),
        upserts: vec![listing("close", "inactive", &checked)],
        deletes: vec!["drop".into()],
    };
    dir.apply_changeset("http://feed", "feed-a", &cs2).unwrap();
    let state = |id: &str| listing_state::listing_state(&dir, id, today()).unwrap();
    assert_eq!(state("keep"), ListingState::Listed);
    assert_eq!(state("close"), ListingState::Closed("inactive".into()));
    assert_eq!(state("drop"), ListingState::Removed);
    assert_eq!(
        state("old"),
        ListingState::Flagged("not checked by its publisher since 5 January 2024".into())
    );
    let attention = listing_state::needing_attention(&c, &dir, today()).unwrap();
    let seen: Vec<(&str, &str)> = attention
        .iter()
        .map(|w| (w.connection.service_name.as_str(), w.person_name.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("Listing close", "Ann"),
            ("Listing drop", "Ann"),
            ("Listing old", "Ann")
        ]
    );
    // The connection itself survives, with the name it had.
    assert_eq!(c.connections(&p.id).unwrap().len(), 4);
    let _ = NaiveDate::MIN;
}

#[test]
fn changing_a_person_stores_the_new_details_and_refuses_bad_ones() {
    let (_d, _p, c) = new_caseload();
    let p = c.add_person(&person("Ann", "BS3"), today()).unwrap();
    let changed = c
        .update_person(
            &p.id,
            &PersonDetails {
                interests: vec!["walking".into()],
                free_times: vec!["wed-evening".into()],
                travel_km: Some(2.5),
                ..person("Ann B", "bs3 4")
            },
        )
        .unwrap();
    assert_eq!(changed.details.name, "Ann B");
    assert_eq!(changed.details.home_area, "BS3 4");
    assert_eq!(changed.details.interests, ["signpost:interest:walking"]);
    assert_eq!(changed.details.free_times, ["wed-evening"]);
    assert_eq!(changed.details.travel_km, Some(2.5));
    assert_eq!(
        changed.referred_on, p.referred_on,
        "the referral date is kept"
    );
    assert_eq!(c.person(&p.id).unwrap(), changed);
    let e = c
        .update_person(&p.id, &person("Ann", "BS3 4AB"))
        .unwrap_err();
    assert_eq!(field_of(e), "home_area");
    assert_eq!(
        c.person(&p.id).unwrap(),
        changed,
        "nothing stored from a refused change"
    );
    assert!(matches!(
        c.update_person("p-nobody", &person("X", "BS3")),
        Err(Error::NotFound { .. })
    ));
}
