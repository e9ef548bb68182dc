//! The moderation store on real SQLite files, publishing into a real feed directory.
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use signpost_directory::Directory;
use signpost_moderation::{
    Error, KeyProof, Kind, Moderation, Status, KEY_NEEDED, USED_KEY, WRONG_KEY,
};

const DEVICE: &str = "6f1c2a9e-3b7d-4e21-9a5c-0d8e7f6a5b4c";
const OTHER: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
}

fn service(id: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "status": "active",
        "description": "A friendly walk round the park, for anyone.",
        "attributes": [{"taxonomy_term_id": "signpost:interest:walking"}],
        "service_at_locations": [{"id": format!("{id}-sal"), "location": {
            "id": format!("{id}-loc"), "name": "Park gates", "latitude": 51.441, "longitude": -2.597}}]
    })
}

fn submission(client: &str, seq: u64, service: Value) -> Value {
    json!({"client_id": client, "seq": seq, "service": service})
}

fn open() -> (tempfile::TempDir, Moderation, Directory) {
    let dir = tempfile::tempdir().unwrap();
    let m = Moderation::open(&dir.path().join("moderation.db")).unwrap();
    let d = Directory::open_publisher(&dir.path().join("feed.db")).unwrap();
    (dir, m, d)
}

fn field(e: Error) -> String {
    e.field().unwrap_or_default().to_string()
}

#[test]
fn each_item_is_received_exactly_once_in_order() {
    let (_t, mut m, _d) = open();
    let first = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 1, service("walk-1", "Park walk")),
            now(),
        )
        .unwrap();
    assert_eq!((first.status, first.duplicate), (Status::InReview, false));
    // A retry answers the same and stores nothing new.
    let again = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 1, service("walk-1", "Park walk")),
            now(),
        )
        .unwrap();
    assert_eq!(
        (again.id.as_str(), again.duplicate),
        (first.id.as_str(), true)
    );
    assert_eq!(m.pending().unwrap().len(), 1);
    // A gap is refused and stores nothing.
    let gap = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 3, service("walk-3", "Walk 3")),
            now(),
        )
        .unwrap_err();
    assert_eq!(
        gap.to_string(),
        "/seq: expected 2 from this device, got 3; send the earlier items first"
    );
    // An invalid item uses its number, so later ones are not held back, and answers the same
    // way when retried.
    let bad = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 2, service("walk-2", "")),
            now(),
        )
        .unwrap_err();
    assert!(matches!(bad, Error::Invalid { .. }), "{bad}");
    assert_eq!(field(bad), "/service/name");
    let bad_again = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 2, service("walk-2", "Now named")),
            now(),
        )
        .unwrap_err();
    assert_eq!(field(bad_again), "/service/name");
    let third = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 3, service("walk-3", "Walk 3")),
            now(),
        )
        .unwrap();
    assert!(!third.duplicate);
    // Devices number on their own.
    m.submit(Kind::Report, &json!({"client_id": OTHER, "seq": 1, "service_id": "walk-1", "kind": "closed", "comment": "gone"}), now()).unwrap();
    let names: Vec<String> = m.pending().unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn a_bad_envelope_is_refused_naming_the_field_and_uses_no_number() {
    let (_t, mut m, _d) = open();
    for (body, f) in [
        (json!([1, 2]), ""),
        (
            json!({"seq": 1, "service": service("a", "A")}),
            "/client_id",
        ),
        (json!({"client_id": "not-a-uuid", "seq": 1}), "/client_id"),
        (json!({"client_id": DEVICE, "seq": 0}), "/seq"),
        (json!({"client_id": DEVICE, "seq": "1"}), "/seq"),
    ] {
        let e = m.submit(Kind::Submission, &body, now()).unwrap_err();
        assert!(matches!(e, Error::BadRequest { .. }), "{e}");
        assert_eq!(field(e), f);
    }
    for (body, f) in [
        (json!({"client_id": DEVICE, "seq": 1}), "/service"),
        (
            json!({"client_id": DEVICE, "seq": 2, "service_id": "x", "kind": "maybe"}),
            "/kind",
        ),
        (
            json!({"client_id": DEVICE, "seq": 3, "service_id": "x", "contact_name": "Al", "contact_email": "no at sign"}),
            "/contact_email",
        ),
        (
            json!({"client_id": DEVICE, "seq": 4, "service_id": "x", "kind": "closed", "comment": "x".repeat(2001)}),
            "/comment",
        ),
    ] {
        let kind = if body.get("contact_name").is_some() {
            Kind::Claim
        } else if body.get("service_id").is_some() {
            Kind::Report
        } else {
            Kind::Submission
        };
        assert_eq!(field(m.submit(kind, &body, now()).unwrap_err()), f);
    }
    // Those four used numbers 1-4 (they were well-formed envelopes); 5 is next.
    let ok = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 5, service("a", "A")),
            now(),
        )
        .unwrap();
    assert!(!ok.duplicate);
}

#[test]
fn approval_publishes_with_metadata_and_audit_and_rejection_does_not() {
    let (_t, mut m, mut d) = open();
    let head = |d: &Directory| d.changeset_head().unwrap().map(|c| c.seq).unwrap_or(0);
    let new = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 1, service("walk-1", "Park walk")),
            now(),
        )
        .unwrap();
    assert!(
        d.listing("walk-1").is_err(),
        "nothing is published before approval"
    );
    let before = head(&d);
    m.approve(&new.id, "mod-ann", &mut d, now()).unwrap();
    assert_eq!(head(&d), before + 1, "one changeset");
    let published = d.listing("walk-1").unwrap();
    assert_eq!(published.service.name, "Park walk");
    assert_eq!(published.record["assured_date"], "2026-12-01");
    let meta = published.record["metadata"].as_array().unwrap();
    assert!(meta.iter().any(|r| r["field_name"] == "name"
        && r["replacement_value"] == "Park walk"
        && r["last_action_type"] == "create"
        && r["updated_by"] == "mod-ann"));
    assert_eq!(m.item(&new.id).unwrap().status, Status::Approved);
    assert!(matches!(
        m.approve(&new.id, "mod-ann", &mut d, now()),
        Err(Error::AlreadyDecided { .. })
    ));

    // An update: only what changed is recorded, old and new.
    let mut changed = service("walk-1", "Park walk (Sundays too)");
    changed["description"] = json!("A friendly walk round the park, for anyone.");
    let upd = m
        .submit(Kind::Submission, &submission(DEVICE, 2, changed), now())
        .unwrap();
    let rows = m.approve(&upd.id, "mod-bo", &mut d, now()).unwrap();
    let updates: Vec<(&str, Option<&str>, Option<&str>)> = rows
        .iter()
        .filter(|r| r.action == "update")
        .map(|r| {
            (
                r.field.as_str(),
                r.old_value.as_deref(),
                r.new_value.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        updates,
        [("name", Some("Park walk"), Some("Park walk (Sundays too)"))]
    );
    let meta = d.listing("walk-1").unwrap().record["metadata"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        meta.iter().any(|r| r["field_name"] == "name"
            && r["previous_value"] == "Park walk"
            && r["last_action_type"] == "update"),
        "{meta:?}"
    );

    // Rejected: nothing published, the reason kept.
    let other = m
        .submit(
            Kind::Submission,
            &submission(OTHER, 1, service("spam-1", "Buy now")),
            now(),
        )
        .unwrap();
    let e = m.reject(&other.id, "  ", "mod-ann", now()).unwrap_err();
    assert_eq!(field(e), "/reason");
    m.reject(&other.id, "Not a community group", "mod-ann", now())
        .unwrap();
    let item = m.item(&other.id).unwrap();
    assert_eq!(
        (item.status, item.reason.as_str()),
        (Status::Rejected, "Not a community group")
    );
    assert!(d.listing("spam-1").is_err());
    let audit = m.audit("spam-1").unwrap();
    assert_eq!(
        audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["reject"]
    );

    // A closure report, approved, publishes the listing as inactive.
    let closed = m.submit(Kind::Report, &json!({"client_id": OTHER, "seq": 2, "service_id": "walk-1", "kind": "closed", "comment": "The walk stopped in May."}), now()).unwrap();
    m.approve(&closed.id, "mod-ann", &mut d, now()).unwrap();
    assert_eq!(d.listing("walk-1").unwrap().service.status, "inactive");
}

#[test]
fn two_connections_sending_the_same_item_at_once_store_it_once() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("moderation.db");
    drop(Moderation::open(&path).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut m = Moderation::open(&path).unwrap();
                (1..=20)
                    .map(|seq| {
                        m.submit(
                            Kind::Submission,
                            &submission(DEVICE, seq, service(&format!("w{seq}"), "Walk")),
                            now(),
                        )
                        .map(|r| r.id)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<_>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let m = Moderation::open(&path).unwrap();
    assert_eq!(m.pending().unwrap().len(), 20);
    // Every answer for a number names the one item stored for it (or, for a thread that got
    // ahead of the others, a gap it may retry).
    for seq in 0..20 {
        let ids: Vec<&String> = results
            .iter()
            .filter_map(|r| r[seq].as_ref().ok())
            .collect();
        assert!(!ids.is_empty());
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "seq {}: {ids:?}",
            seq + 1
        );
    }
}

#[test]
fn moderators_sign_in_with_sessions_that_end() {
    use signpost_moderation::{Role, SESSION_HOURS};
    let (t, mut m, _d) = open();
    m.add_account("Ann", "a long admin passphrase", Role::Admin, now())
        .unwrap();
    m.add_account("bo", "bo's own long password", Role::Moderator, now())
        .unwrap();
    assert!(matches!(
        m.add_account("ann", "another long password", Role::Moderator, now()),
        Err(Error::AccountExists { .. })
    ));
    assert_eq!(
        field(
            m.add_account("cy", "too short", Role::Moderator, now())
                .unwrap_err()
        ),
        "/password"
    );

    // A wrong password, an unknown name and (below) a disabled account get one answer.
    let wrong = m
        .sign_in("Ann", "a long admin passphrasE", now())
        .unwrap_err();
    let unknown = m
        .sign_in("Nobody", "a long admin passphrase", now())
        .unwrap_err();
    assert!(matches!(wrong, Error::SignInRefused));
    assert_eq!(wrong.to_string(), unknown.to_string());

    let session = m.sign_in("ann", "a long admin passphrase", now()).unwrap();
    assert_eq!(
        (session.signed_in.name.as_str(), session.signed_in.role),
        ("Ann", Role::Admin)
    );
    assert_eq!(session.token.len(), 64);
    let found = m.session(&session.token, now()).unwrap().unwrap();
    assert_eq!(found, session.signed_in);
    assert!(found.csrf_matches(&session.signed_in.csrf));
    assert!(!found.csrf_matches(""));
    assert!(!found.csrf_matches(&session.token));
    assert_ne!(session.signed_in.csrf, session.token);
    assert!(m.session("not-a-token", now()).unwrap().is_none());
    let later = now() + chrono::Duration::hours(SESSION_HOURS);
    assert!(m.session(&session.token, later).unwrap().is_none());

    // Neither the token nor the password is in the file, only their hashes.
    drop(m);
    let bytes = std::fs::read(t.path().join("moderation.db")).unwrap();
    let wal = std::fs::read(t.path().join("moderation.db-wal")).unwrap_or_default();
    for secret in [session.token.as_str(), "a long admin passphrase"] {
        for file in [&bytes, &wal] {
            assert!(!file.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }
    let mut m = Moderation::open(&t.path().join("moderation.db")).unwrap();

    // Signing out ends the session.
    m.sign_out(&session.token).unwrap();
    assert!(m.session(&session.token, now()).unwrap().is_none());

    // Disabling ends the account's sessions and refuses its sign-in with the same answer.
    let bo = m.sign_in("bo", "bo's own long password", now()).unwrap();
    m.disable_account("bo", now()).unwrap();
    assert!(m.session(&bo.token, now()).unwrap().is_none());
    let disabled = m
        .sign_in("bo", "bo's own long password", now())
        .unwrap_err();
    assert_eq!(disabled.to_string(), wrong.to_string());
    // The last admin stays.
    assert_eq!(field(m.disable_account("Ann", now()).unwrap_err()), "/name");
    let accounts = m.accounts().unwrap();
    assert_eq!(
        accounts
            .iter()
            .map(|a| (a.name.as_str(), a.role, a.disabled_at.is_some()))
            .collect::<Vec<_>>(),
        [("Ann", Role::Admin, false), ("bo", Role::Moderator, true)]
    );
}

#[test]
fn the_queue_is_searched_and_filtered_and_a_change_is_shown_before_approval() {
    let (_t, mut m, mut d) = open();
    let walk = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 1, service("walk-1", "Park Walk")),
            now(),
        )
        .unwrap();
    m.submit(Kind::Report, &json!({"client_id": DEVICE, "seq": 2, "service_id": "walk-1", "service_name": "Park walk", "kind": "wrong-details"}), now() + chrono::Duration::minutes(1))
        .unwrap();
    m.submit(
        Kind::Submission,
        &submission(DEVICE, 3, service("choir-1", "Community choir")),
        now(),
    )
    .unwrap();
    let names = |items: Vec<signpost_moderation::Item>| {
        items
            .into_iter()
            .map(|i| (i.name, i.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(m.pending_matching("", None).unwrap().len(), 3);
    assert_eq!(
        names(m.pending_matching("park WALK", None).unwrap()),
        [
            ("Park Walk".to_string(), Kind::Submission),
            ("Park walk".to_string(), Kind::Report)
        ]
    );
    assert_eq!(
        names(m.pending_matching("walk", Some(Kind::Report)).unwrap()),
        [("Park walk".to_string(), Kind::Report)]
    );
    assert!(m.pending_matching("%", None).unwrap().is_empty());
    assert_eq!(Kind::parse("claim"), Some(Kind::Claim));
    assert_eq!(Kind::parse("other"), None);

    // What approving would change: everything for a new listing, then only the name.
    let item = m.item(&walk.id).unwrap();
    let new = signpost_moderation::proposed_changes(&item, None).unwrap();
    assert!(new
        .iter()
        .any(|(f, old, new)| f == "name" && old.is_none() && new.as_deref() == Some("Park Walk")));
    m.approve(&walk.id, "mod-ann", &mut d, now()).unwrap();
    let upd = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 4, service("walk-1", "Park walk, Sundays")),
            now(),
        )
        .unwrap();
    let published = d.listing("walk-1").unwrap().record;
    let changes =
        signpost_moderation::proposed_changes(&m.item(&upd.id).unwrap(), Some(&published)).unwrap();
    assert_eq!(
        changes,
        [(
            "name".to_string(),
            Some("Park Walk".to_string()),
            Some("Park walk, Sundays".to_string())
        )]
    );
}

#[test]
fn a_device_sending_too_much_is_held_back_for_an_hour() {
    let (_t, mut m, _d) = open();
    let limit = signpost_moderation::MAX_ITEMS_PER_DEVICE_PER_HOUR as u64;
    for seq in 1..=limit {
        m.submit(
            Kind::Submission,
            &submission(DEVICE, seq, service(&format!("w{seq}"), "Walk")),
            now(),
        )
        .unwrap();
    }
    let e = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, limit + 1, service("w-next", "Walk")),
            now(),
        )
        .unwrap_err();
    assert!(matches!(e, Error::TooMany { .. }), "{e}");
    // A retry of something already received is still answered; another device is not affected.
    assert!(
        m.submit(
            Kind::Submission,
            &submission(DEVICE, 1, service("w1", "Walk")),
            now()
        )
        .unwrap()
        .duplicate
    );
    m.submit(
        Kind::Submission,
        &submission(OTHER, 1, service("o1", "Other")),
        now(),
    )
    .unwrap();
    // An hour on, the device's next item is taken, with the number it was refused under.
    let later = now() + chrono::Duration::minutes(61);
    assert!(
        !m.submit(
            Kind::Submission,
            &submission(DEVICE, limit + 1, service("w-next", "Walk")),
            later
        )
        .unwrap()
        .duplicate
    );
}

#[test]
fn a_moderator_revises_a_submission_before_approving_it() {
    let (_t, mut m, mut d) = open();
    let sent = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 1, service("walk-1", "Park wlak")),
            now(),
        )
        .unwrap();
    let mut revised = service("walk-1", "Park walk");
    revised["description"] = json!("A friendly walk round the park, for anyone. Tea after.");
    let rows = m.revise(&sent.id, &revised, "ann", now()).unwrap();
    let fields: Vec<(&str, &str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.action.as_str(), r.field.as_str(), r.new_value.as_deref()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "edit",
                "description",
                Some("A friendly walk round the park, for anyone. Tea after.")
            ),
            ("edit", "name", Some("Park walk")),
        ]
    );
    assert_eq!(rows[1].old_value.as_deref(), Some("Park wlak"));
    let item = m.item(&sent.id).unwrap();
    assert_eq!(
        (item.name.as_str(), item.status),
        ("Park walk", Status::InReview)
    );
    assert_eq!(m.item_audit(&sent.id).unwrap(), rows);
    // The same revision again changes nothing and records nothing.
    assert!(m
        .revise(&sent.id, &revised, "ann", now())
        .unwrap()
        .is_empty());
    assert_eq!(m.item_audit(&sent.id).unwrap().len(), 2);

    // Checked as strictly as on arrival, and kept to the same listing.
    let mut bad = revised.clone();
    bad["service_at_locations"][0]["location"]["latitude"] = json!(95.0);
    let e = m.revise(&sent.id, &bad, "ann", now()).unwrap_err();
    assert!(field(e).starts_with("/service/service_at_locations/0/location/latitude"));
    let e = m
        .revise(&sent.id, &service("walk-2", "Park walk"), "ann", now())
        .unwrap_err();
    assert_eq!(field(e), "/service/id");
    assert_eq!(m.item(&sent.id).unwrap().name, "Park walk");

    // Approval publishes the revised listing.
    m.approve(&sent.id, "bo", &mut d, now()).unwrap();
    let published = d.listing("walk-1").unwrap();
    assert_eq!(published.service.name, "Park walk");
    assert!(published
        .service
        .description
        .unwrap()
        .ends_with("Tea after."));
    assert!(matches!(
        m.revise(&sent.id, &revised, "ann", now()),
        Err(Error::AlreadyDecided { .. })
    ));
    // Only listings are edited.
    let report = m
        .submit(
            Kind::Report,
            &json!({"client_id": DEVICE, "seq": 2, "service_id": "walk-1", "kind": "closed"}),
            now(),
        )
        .unwrap();
    assert_eq!(
        field(m.revise(&report.id, &revised, "ann", now()).unwrap_err()),
        "/kind"
    );
}

#[test]
fn a_duplicate_is_merged_into_the_item_that_stays() {
    let (_t, mut m, _d) = open();
    let first = m
        .submit(
            Kind::Submission,
            &submission(DEVICE, 1, service("walk-1", "Park walk")),
            now(),
        )
        .unwrap();
    let second = m
        .submit(
            Kind::Submission,
            &submission(OTHER, 1, service("walk-1", "Park walk (again)")),
            now(),
        )
        .unwrap();
    assert_eq!(
        field(m.merge(&second.id, &second.id, "ann", now()).unwrap_err()),
        "/into"
    );
    assert_eq!(
        field(m.merge(&second.id, "nothing", "ann", now()).unwrap_err()),
        "/into"
    );
    m.merge(&second.id, &first.id, "ann", now()).unwrap();
    let merged = m.item(&second.id).unwrap();
    assert_eq!(merged.status, Status::Rejected);
    assert_eq!(merged.reason, format!("Merged with {}", first.id));
    assert_eq!(merged.decided_by.as_deref(), Some("ann"));
    assert_eq!(m.item(&first.id).unwrap().status, Status::InReview);
    let audit = m.item_audit(&second.id).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].action.as_str(), audit[0].new_value.as_deref()),
        ("merge", Some(first.id.as_str()))
    );
    let pending: Vec<String> = m.pending().unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(pending, vec![first.id.clone()]);
    // Neither a decided item nor into a decided one.
    assert!(matches!(
        m.merge(&second.id, &first.id, "ann", now()),
        Err(Error::AlreadyDecided { .. })
    ));
    assert_eq!(
        field(m.merge(&first.id, &second.id, "ann", now()).unwrap_err()),
        "/into"
    );
}

/// A key as a device makes one: 32 random bytes as hex, and the hex SHA-256 of those bytes.
fn new_key() -> (String, String) {
    use rand::RngCore;
    use sha2::{Digest, Sha256};
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    (hex::encode(raw), hex::encode(Sha256::digest(raw)))
}

fn update(client: &str, seq: u64, svc: Value, key: &str, next_sha256: &str) -> Value {
    json!({"client_id": client, "seq": seq, "service": svc,
           "edit_key": key, "next_edit_key_sha256": next_sha256})
}

fn key_message(e: Error) -> String {
    match e {
        Error::EditKey { message } => message,
        other => panic!("expected an edit key refusal, got {other:?}"),
    }
}

#[test]
fn approving_a_new_listing_grants_its_key_and_each_key_updates_once() {
    let (t, mut m, mut d) = open();
    let (k0, h0) = new_key();
    let mut new = submission(DEVICE, 1, service("walk-1", "Park walk"));
    new["edit_key_sha256"] = json!(h0);
    let first = m.submit(Kind::Submission, &new, now()).unwrap();
    let item = m.item(&first.id).unwrap();
    assert_eq!(
        (item.edit_key, item.grants_key),
        (KeyProof::Unverified, true)
    );
    assert!(!m.has_edit_key("walk-1").unwrap(), "no key before approval");
    m.approve(&first.id, "mod-ann", &mut d, now()).unwrap();
    assert!(m.has_edit_key("walk-1").unwrap(), "approval grants the key");

    // Without the key, a listing its group manages cannot be updated (the number is used).
    let e = m
        .submit(
            Kind::Submission,
            &submission(OTHER, 1, service("walk-1", "Hijacked")),
            now(),
        )
        .unwrap_err();
    assert_eq!(field_of(&e), "/edit_key");
    assert_eq!(key_message(e), KEY_NEEDED);

    // With it: stored, and the key replaced at once by the next.
    let (k1, h1) = new_key();
    let upd = m
        .submit(
            Kind::Submission,
            &update(
                DEVICE,
                2,
                service("walk-1", "Park walk (Sundays)"),
                &k0,
                &h1,
            ),
            now(),
        )
        .unwrap();
    let item = m.item(&upd.id).unwrap();
    assert_eq!(
        (item.status, item.edit_key, item.grants_key),
        (Status::InReview, KeyProof::Verified, false)
    );
    assert!(item.body.get("edit_key").is_none(), "{:?}", item.body);

    // A retry of that same number, its key now used, gets the same answer.
    let again = m
        .submit(
            Kind::Submission,
            &update(
                DEVICE,
                2,
                service("walk-1", "Park walk (Sundays)"),
                &k0,
                &h1,
            ),
            now(),
        )
        .unwrap();
    assert_eq!(
        (again.id.as_str(), again.duplicate),
        (upd.id.as_str(), true)
    );

    // The used key, sent again as a new item, is a replay.
    let (_k2, h2) = new_key();
    let e = m
        .submit(
            Kind::Submission,
            &update(DEVICE, 3, service("walk-1", "Replayed"), &k0, &h2),
            now(),
        )
        .unwrap_err();
    assert_eq!(field_of(&e), "/edit_key");
    assert_eq!(key_message(e), USED_KEY);
    // A key of the right form that was never this listing's is wrong; so is one not a key.
    let (stranger, _) = new_key();
    for (seq, key) in [(4, stranger.as_str()), (5, "letmein"), (6, h0.as_str())] {
        let e = m
            .submit(
                Kind::Submission,
                &update(DEVICE, seq, service("walk-1", "Guess"), key, &h2),
                now(),
            )
            .unwrap_err();
        assert_eq!(key_message(e), WRONG_KEY, "{key}");
    }
    // A refused number, retried with the right key, still gets its first answer: numbers are
    // answered from what was stored.
    let e = m
        .submit(
            Kind::Submission,
            &update(DEVICE, 3, service("walk-1", "Replayed"), &k1, &h2),
            now(),
        )
        .unwrap_err();
    assert_eq!(key_message(e), USED_KEY);
    // An update that names no next key is invalid, and does not spend the key.
    let mut no_next = update(DEVICE, 7, service("walk-1", "No next"), &k1, &h2);
    no_next
        .as_object_mut()
        .unwrap()
        .remove("next_edit_key_sha256");
    let e = m.submit(Kind::Submission, &no_next, now()).unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    assert_eq!(field_of(&e), "/next_edit_key_sha256");
    // Nor can the next key be the one being used.
    let e = m
        .submit(
            Kind::Submission,
            &update(DEVICE, 8, service("walk-1", "Same"), &k1, &h1),
            now(),
        )
        .unwrap_err();
    assert_eq!(field_of(&e), "/next_edit_key_sha256");
    // The current key works, once.
    let (_, h3) = new_key();
    let ok = m
        .submit(
            Kind::Submission,
            &update(DEVICE, 9, service("walk-1", "Park walk (Sat)"), &k1, &h3),
            now(),
        )
        .unwrap();
    assert_eq!(ok.status, Status::InReview);
    // Approving a verified update publishes it and grants nothing new.
    m.approve(&ok.id, "mod-ann", &mut d, now()).unwrap();
    assert_eq!(d.listing("walk-1").unwrap().service.name, "Park walk (Sat)");
    assert!(m.pending().unwrap().iter().all(|i| i.name != "Hijacked"));

    // No key is kept anywhere in the file, in the clear or as hex.
    drop(m);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(t.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("moderation")
        {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    for key in [&k0, &k1] {
        assert!(!text.contains(key.as_str()), "a key was stored");
    }
    assert!(text.contains(&h0), "the hash is kept");
}

#[test]
fn a_listing_without_a_key_is_updated_unverified_and_a_claim_grants_its_key() {
    let (_t, mut m, mut d) = open();
    // A listing published by an import, not through moderation: it has no key.
    d.import_sources(
        vec![("council".into(), vec![service("council-1", "Lunch club")])],
        &mut |_| {},
    )
    .unwrap();
    let (k0, h0) = new_key();
    let mut upd = submission(DEVICE, 1, service("council-1", "Lunch club (Fridays)"));
    upd["edit_key_sha256"] = json!(h0);
    let r = m.submit(Kind::Submission, &upd, now()).unwrap();
    let item = m.item(&r.id).unwrap();
    assert_eq!(
        (item.status, item.edit_key, item.grants_key),
        (Status::InReview, KeyProof::Unverified, true),
        "held for a moderator as unverified"
    );
    // A key for a listing that has none is wrong.
    let (other_key, other_hash) = new_key();
    let e = m
        .submit(
            Kind::Submission,
            &update(
                OTHER,
                1,
                service("council-1", "Guess"),
                &other_key,
                &other_hash,
            ),
            now(),
        )
        .unwrap_err();
    assert_eq!(key_message(e), WRONG_KEY);
    m.approve(&r.id, "mod-ann", &mut d, now()).unwrap();
    assert!(m.has_edit_key("council-1").unwrap());

    // Another group's claim, approved, moves the key to it: the first key is retired.
    let (k_claim, h_claim) = new_key();
    let claim = m
        .submit(
            Kind::Claim,
            &json!({"client_id": OTHER, "seq": 2, "service_id": "council-1",
                    "contact_name": "Sam", "contact_email": "sam@example.org",
                    "edit_key_sha256": h_claim}),
            now(),
        )
        .unwrap();
    let item = m.item(&claim.id).unwrap();
    assert_eq!(
        (item.edit_key, item.grants_key),
        (KeyProof::Unverified, true)
    );
    m.approve(&claim.id, "mod-ann", &mut d, now()).unwrap();
    let (_, h1) = new_key();
    let e = m
        .submit(
            Kind::Submission,
            &update(DEVICE, 2, service("council-1", "Old key"), &k0, &h1),
            now(),
        )
        .unwrap_err();
    assert_eq!(key_message(e), USED_KEY);
    m.submit(
        Kind::Submission,
        &update(OTHER, 3, service("council-1", "Lunch club"), &k_claim, &h1),
        now(),
    )
    .unwrap();
    // A malformed hash makes a claim invalid.
    let e = m
        .submit(
            Kind::Claim,
            &json!({"client_id": OTHER, "seq": 4, "service_id": "council-1",
                    "contact_name": "Sam", "contact_email": "sam@example.org",
                    "edit_key_sha256": "ABC"}),
            now(),
        )
        .unwrap_err();
    assert_eq!(field_of(&e), "/edit_key_sha256");
}

fn field_of(e: &Error) -> String {
    e.field().unwrap_or_default().to_string()
}

#[test]
fn a_used_key_is_never_granted_again_by_a_later_approval() {
    let (_t, mut m, mut d) = open();
    let (k0, h0) = new_key();
    // Two items sent before the first approval, both naming the device's pending key.
    let mut a = submission(DEVICE, 1, service("walk-1", "Park walk"));
    a["edit_key_sha256"] = json!(h0);
    let mut b = submission(DEVICE, 2, service("walk-1", "Park walk (typo fixed)"));
    b["edit_key_sha256"] = json!(h0);
    let a = m.submit(Kind::Submission, &a, now()).unwrap();
    let b = m.submit(Kind::Submission, &b, now()).unwrap();
    m.approve(&a.id, "mod-ann", &mut d, now()).unwrap();
    // The key is used once, then the older item is approved: the device's newest key stands.
    let (k1, h1) = new_key();
    m.submit(
        Kind::Submission,
        &update(DEVICE, 3, service("walk-1", "Park walk (Sat)"), &k0, &h1),
        now(),
    )
    .unwrap();
    m.approve(&b.id, "mod-ann", &mut d, now()).unwrap();
    let (_, h2) = new_key();
    m.submit(
        Kind::Submission,
        &update(DEVICE, 4, service("walk-1", "Park walk (Sun)"), &k1, &h2),
        now(),
    )
    .unwrap();
}

/// A group says its listing is still running: approval republishes it unchanged but for its
/// check date, renewed to the day of approval (audited, and in the listing's `metadata`), so the
/// freshness reminders start again from that day. The clock is fixed: checked 1 Dec 2025,
/// reminded at 10 and 11 months, confirmed on 2 Nov 2026.
#[test]
fn a_still_running_report_renews_the_check_date_and_restarts_the_reminders() {
    let (_t, mut m, mut d) = open();
    let day = |y, mo, da| Utc.with_ymd_and_hms(y, mo, da, 10, 0, 0).unwrap();
    let mut listing = service("walk-1", "Park walk");
    listing["assured_date"] = json!("2025-12-01");
    listing["email"] = json!("walks@example.org");
    d.import_sources(vec![("seed".into(), vec![listing])], &mut |_| {})
        .unwrap();
    let before = d.listing("walk-1").unwrap().record;

    let due = |m: &Moderation, d: &Directory, y, mo, da| {
        m.reminders_due(d, day(y, mo, da).date_naive())
            .unwrap()
            .into_iter()
            .map(|r| r.months)
            .collect::<Vec<_>>()
    };
    assert_eq!(due(&m, &d, 2026, 10, 1), [10]);
    for r in m.reminders_due(&d, day(2026, 10, 1).date_naive()).unwrap() {
        m.reminder_sent(&r, "outbox", day(2026, 10, 1)).unwrap();
    }
    assert_eq!(due(&m, &d, 2026, 11, 1), [11]);
    for r in m.reminders_due(&d, day(2026, 11, 1).date_naive()).unwrap() {
        m.reminder_sent(&r, "outbox", day(2026, 11, 1)).unwrap();
    }

    let e = m
        .submit(
            Kind::Report,
            &json!({"client_id": DEVICE, "seq": 1, "service_id": "walk-1", "kind": "still going"}),
            day(2026, 11, 2),
        )
        .unwrap_err();
    assert_eq!(field(e), "/kind");
    // That well-formed envelope used number 1, as a refusal is answered again on a retry.
    let report = m
        .submit(Kind::Report, &json!({"client_id": DEVICE, "seq": 2, "service_id": "walk-1", "service_name": "Park walk", "kind": "still-running"}), day(2026, 11, 2))
        .unwrap();
    assert_eq!(m.item(&report.id).unwrap().body["kind"], "still-running");
    assert_eq!(
        d.listing("walk-1").unwrap().record["assured_date"],
        "2025-12-01",
        "nothing changes before approval"
    );
    let rows = m
        .approve(&report.id, "mod-ann", &mut d, day(2026, 11, 2))
        .unwrap();
    let updates: Vec<(&str, Option<&str>, Option<&str>)> = rows
        .iter()
        .filter(|r| r.action == "update")
        .map(|r| {
            (
                r.field.as_str(),
                r.old_value.as_deref(),
                r.new_value.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        updates,
        [("assured_date", Some("2025-12-01"), Some("2026-11-02"))]
    );
    let after = d.listing("walk-1").unwrap().record;
    assert_eq!(after["assured_date"], "2026-11-02");
    assert!(after["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["field_name"] == "assured_date"
            && r["previous_value"] == "2025-12-01"
            && r["replacement_value"] == "2026-11-02"));
    let strip = |mut v: Value| {
        for k in ["assured_date", "metadata", "last_modified"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    assert_eq!(strip(after), strip(before), "otherwise unchanged");

    // The 12-month reminder of the old date never comes; the cycle counts from the new one.
    assert!(due(&m, &d, 2026, 12, 1).is_empty());
    assert!(due(&m, &d, 2027, 9, 1).is_empty());
    assert_eq!(due(&m, &d, 2027, 9, 2), [10]);
    assert!(m
        .stale(&d, day(2027, 11, 1).date_naive())
        .unwrap()
        .is_empty());

    // A listing that is not published cannot be confirmed.
    let ghost = m
        .submit(Kind::Report, &json!({"client_id": DEVICE, "seq": 3, "service_id": "nowhere", "kind": "still-running"}), day(2026, 11, 2))
        .unwrap();
    assert!(matches!(
        m.approve(&ghost.id, "mod-ann", &mut d, day(2026, 11, 2)),
        Err(Error::NotFound { .. })
    ));
}
