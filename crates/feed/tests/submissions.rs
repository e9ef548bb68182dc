//! What groups send, through the real server binary: the contract of `POST /submissions`,
//! `/claims` and `/reports`, and the operator's `queue`, `approve` and `reject`.
use serde_json::{json, Value};

use crate::{feed, Server};

pub(crate) const DEVICE: &str = "6f1c2a9e-3b7d-4e21-9a5c-0d8e7f6a5b4c";

pub(crate) fn post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    post_bytes(server, path, serde_json::to_vec(body).unwrap())
}

fn post_bytes(server: &Server, path: &str, body: Vec<u8>) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .post(format!("{}{path}", server.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Send a 10 MB body the way a hostile client would, announced (`Content-Length`) or streamed
/// in chunks, and return the response's status line. The server answers without reading it
/// all, so this writes what it can and then reads.
fn oversized(server: &Server, announced: bool) -> String {
    use std::io::{BufRead, BufReader, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_write_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let head = if announced {
        format!("POST /submissions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", 10 << 20)
    } else {
        format!("POST /submissions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    };
    s.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..160 {
        let ok = if announced {
            s.write_all(&chunk)
        } else {
            s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .and_then(|()| s.write_all(&chunk))
                .and_then(|()| s.write_all(b"\r\n"))
        };
        if ok.is_err() {
            break;
        }
    }
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    line.trim().to_string()
}

pub(crate) fn walk(id: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "status": "active",
        "description": "A friendly walk round the park.",
        "attributes": [{"taxonomy_term_id": "signpost:interest:walking"}],
        "service_at_locations": [{"id": format!("{id}-sal"), "location": {
            "id": format!("{id}-loc"), "name": "Park gates", "latitude": 51.441, "longitude": -2.597}}]
    })
}

#[test]
fn a_submission_is_received_once_held_for_review_and_published_on_approval() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);

    let body = json!({"client_id": DEVICE, "seq": 1, "service": walk("vcse-walk-1", "Bedminster <b>walk</b>")});
    let (status, first) = post(&server, "/submissions", &body);
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["status"], "in_review");
    let id = first["submission_id"].as_str().unwrap().to_string();
    let (status, again) = post(&server, "/submissions", &body);
    assert_eq!(
        (status, again["submission_id"].as_str()),
        (202, Some(id.as_str()))
    );
    assert_eq!(again["duplicate"], true);

    // Nothing is published before a moderator approves it.
    assert_eq!(server.get("/services/vcse-walk-1").0, 404);
    let (status, _, item) = server.get(&format!("/submissions/{id}"));
    assert_eq!((status, item["status"].as_str()), (200, Some("in_review")));

    // Bad input: 4xx JSON naming the field; a body over the limit, 413.
    let (status, e) = post(
        &server,
        "/submissions",
        &json!({"client_id": DEVICE, "seq": 2,
        "service": {"id": "x", "name": "X", "status": "active",
            "service_at_locations": [{"id": "x-sal", "location": {"id": "x-loc", "latitude": 95.0, "longitude": 0.0}}]}}),
    );
    assert_eq!(status, 422, "{e}");
    assert!(
        e["field"]
            .as_str()
            .unwrap()
            .starts_with("/service/service_at_locations/0/location/latitude"),
        "{e}"
    );
    assert_eq!(e["error"], "invalid");
    let (status, e) = post(
        &server,
        "/submissions",
        &json!({"client_id": DEVICE, "seq": 9, "service": walk("g", "G")}),
    );
    assert_eq!((status, e["field"].as_str()), (409, Some("/seq")), "{e}");
    let (status, e) = post(
        &server,
        "/submissions",
        &json!({"client_id": "nope", "seq": 3}),
    );
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("/client_id")),
        "{e}"
    );
    assert_eq!(oversized(&server, true), "HTTP/1.1 413 Payload Too Large");
    assert_eq!(oversized(&server, false), "HTTP/1.1 413 Payload Too Large");
    let (status, e) = post_bytes(&server, "/reports", b"{not json".to_vec());
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("bad_request")),
        "{e}"
    );
    // The server is still up and the item is still there, once.
    let out = feed(&data, &["queue", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let queue: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue[0]["name"], "Bedminster <b>walk</b>");

    // A report and a claim work the same way, numbered on from the same device.
    let (status, _) = post(
        &server,
        "/reports",
        &json!({"client_id": DEVICE, "seq": 3, "service_id": "vcse-walk-1", "kind": "wrong-details", "comment": "Starts at 10 now"}),
    );
    assert_eq!(status, 202);
    let (status, claim) = post(
        &server,
        "/claims",
        &json!({"client_id": DEVICE, "seq": 4, "service_id": "vcse-walk-1", "contact_name": "Ann", "contact_email": "ann@example.org"}),
    );
    assert_eq!(status, 202, "{claim}");
    let queue = String::from_utf8(feed(&data, &["queue"]).stdout).unwrap();
    assert!(queue.ends_with("3 waiting\n"), "{queue}");

    // Approved from the operator's command line: published, with the audit in `metadata`.
    let out = feed(&data, &["approve", &id, "--as", "mod-ann"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("approved {id}; published")));
    let (status, _, service) = server.get("/services/vcse-walk-1");
    assert_eq!(status, 200, "{service}");
    assert_eq!(service["name"], "Bedminster <b>walk</b>");
    let meta = service["metadata"].as_array().unwrap();
    assert!(
        meta.iter()
            .any(|m| m["field_name"] == "name" && m["updated_by"] == "mod-ann"),
        "{meta:?}"
    );
    let (_, _, item) = server.get(&format!("/submissions/{id}"));
    assert_eq!(item["status"], "approved");
    let (_, _, head) = server.get("/sync/head");
    assert!(head["seq"].as_u64().unwrap() >= 1, "{head}");

    // Rejected: the reason is what the group sees.
    let claim_id = claim["submission_id"].as_str().unwrap();
    let out = feed(
        &data,
        &[
            "reject",
            claim_id,
            "--reason",
            "We could not confirm you run it",
        ],
    );
    assert!(out.status.success());
    let (_, _, item) = server.get(&format!("/submissions/{claim_id}"));
    assert_eq!(
        (item["status"].as_str(), item["reason"].as_str()),
        (Some("rejected"), Some("We could not confirm you run it"))
    );
    let out = feed(&data, &["approve", claim_id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("was already rejected"));
}

/// A key as a device makes one: 32 random bytes as hex, and the hex SHA-256 of those bytes.
pub(crate) fn new_key() -> (String, String) {
    use rand::RngCore;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    (hex::encode(raw), signpost_personal::key_sha256_of_raw(&raw))
}

/// Edit keys over HTTP: approval grants one; an update with it is taken and spends it; a wrong,
/// replayed or missing key is refused with 403 naming `/edit_key`, and the server keeps
/// answering; a retry of a number already answered gets the same answer; no key is logged or
/// stored.
#[test]
fn a_wrong_or_replayed_edit_key_is_refused_and_the_server_stays_up() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let log = t.path().join("feed.log");
    let server = Server::start_logged(&data, &log, "debug");
    let (k0, h0) = new_key();
    let (k1, h1) = new_key();
    let (k2, h2) = new_key();

    let (status, new) = post(
        &server,
        "/submissions",
        &json!({"client_id": DEVICE, "seq": 1, "service": walk("keyed-walk", "Keyed walk"),
                "edit_key_sha256": h0}),
    );
    assert_eq!(status, 202, "{new}");
    let id = new["submission_id"].as_str().unwrap();
    assert!(feed(&data, &["approve", id]).status.success());

    let update = |seq: u64, name: &str, key: &str, next: &str| {
        json!({"client_id": DEVICE, "seq": seq, "service": walk("keyed-walk", name),
               "edit_key": key, "next_edit_key_sha256": next})
    };
    let (status, first) = post(
        &server,
        "/submissions",
        &update(2, "Keyed walk (Sat)", &k0, &h1),
    );
    assert_eq!(status, 202, "{first}");
    // The same number again (its answer was lost): the same answer, though the key is spent.
    let (status, again) = post(
        &server,
        "/submissions",
        &update(2, "Keyed walk (Sat)", &k0, &h1),
    );
    assert_eq!(
        (
            status,
            again["submission_id"].as_str(),
            again["duplicate"].as_bool()
        ),
        (202, first["submission_id"].as_str(), Some(true))
    );
    // Replayed as a new item: 403.
    let (status, e) = post(&server, "/submissions", &update(3, "Replayed", &k0, &h2));
    assert_eq!(
        (status, e["error"].as_str(), e["field"].as_str()),
        (403, Some("edit_key"), Some("/edit_key")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("already used"),
        "{e}"
    );
    // Wrong keys, of the right form and not: 403.
    let (stranger, _) = new_key();
    for (seq, key) in [(4, stranger.as_str()), (5, "AAAA"), (6, h1.as_str())] {
        let (status, e) = post(&server, "/submissions", &update(seq, "Guess", key, &h2));
        assert_eq!(
            (status, e["field"].as_str()),
            (403, Some("/edit_key")),
            "{key}: {e}"
        );
        assert!(
            !e.to_string().contains(key),
            "the answer never repeats a key"
        );
    }
    // No key for a listing its group manages: 403.
    let (status, e) = post(
        &server,
        "/submissions",
        &json!({"client_id": DEVICE, "seq": 7, "service": walk("keyed-walk", "No key")}),
    );
    assert_eq!(
        (status, e["field"].as_str()),
        (403, Some("/edit_key")),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("managed by its group"),
        "{e}"
    );
    // A refused number, retried, is refused the same way.
    let (status, e) = post(&server, "/submissions", &update(3, "Replayed", &k1, &h2));
    assert_eq!(
        (status, e["field"].as_str()),
        (403, Some("/edit_key")),
        "{e}"
    );

    // The server is still up, and the current key still works.
    let (status, _, item) = server.get(&format!(
        "/submissions/{}",
        first["submission_id"].as_str().unwrap()
    ));
    assert_eq!((status, item["status"].as_str()), (200, Some("in_review")));
    let (status, ok) = post(
        &server,
        "/submissions",
        &update(8, "Keyed walk (Sun)", &k1, &h2),
    );
    assert_eq!(status, 202, "{ok}");
    let queue: Value = serde_json::from_slice(&feed(&data, &["queue", "--json"]).stdout).unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 2, "{queue}");
    drop(server);

    // No key in the log or in any file of the feed's folder; only hashes.
    let mut bytes = std::fs::read(&log).unwrap();
    assert!(!bytes.is_empty(), "the server logged at debug");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    for key in [&k0, &k1, &k2] {
        assert!(!text.contains(key.as_str()), "a key was logged or stored");
    }
    assert!(text.contains(&h2), "the current hash is kept");
}

/// A device's keys against the real server: a new listing's pending key becomes active when
/// the moderators approve it, two updates queued offline go in order each with the key before,
/// and an update whose key the feed no longer knows is refused (the outbox moves on).
#[test]
fn a_devices_edit_key_is_granted_on_approval_and_ratchets() {
    use signpost_personal::{KeyState, KeyStore, OutboxStatus, Personal};
    use signpost_sync::outbox::{refresh_statuses, send_outbox};

    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);
    let options = signpost_sync::Options::default();
    let keys = KeyStore::Database;
    let group = Personal::open(&t.path().join("group.db")).unwrap();
    group
        .queue_listing(
            &keys,
            "dev-walk",
            "Walk",
            walk("dev-walk", "Riverside walk"),
        )
        .unwrap();
    let sent = send_outbox(&group, &server.base, &options).unwrap();
    assert_eq!((sent.delivered, sent.stopped), (1, None));
    let id = group.outbox().unwrap()[0].remote_id.clone().unwrap();
    assert!(feed(&data, &["approve", &id]).status.success());
    refresh_statuses(&group, &server.base, &options).unwrap();
    assert_eq!(
        group.edit_key_state("dev-walk").unwrap(),
        Some(KeyState::Active)
    );

    for name in ["Riverside walk (Sat)", "Riverside walk (Sun)"] {
        group
            .queue_listing(&keys, "dev-walk", "Walk", walk("dev-walk", name))
            .unwrap();
    }
    let sent = send_outbox(&group, &server.base, &options).unwrap();
    assert_eq!((sent.delivered, sent.refused, sent.stopped), (2, 0, None));

    let queue: Value = serde_json::from_slice(&feed(&data, &["queue", "--json"]).stdout).unwrap();
    assert_eq!(
        queue.as_array().unwrap().len(),
        2,
        "both updates wait, verified: {queue}"
    );

    // Another device with no key: its update goes, and is refused for needing the key.
    let other = Personal::open(&t.path().join("other.db")).unwrap();
    other
        .queue_listing(&keys, "dev-walk", "Walk", walk("dev-walk", "Not theirs"))
        .unwrap();
    other
        .queue(
            signpost_personal::OutboxKind::Report,
            "dev-walk",
            "Walk",
            json!({"service_id": "dev-walk", "kind": "wrong-details", "comment": "Starts at 10"}),
        )
        .unwrap();
    let sent = send_outbox(&other, &server.base, &options).unwrap();
    assert_eq!(
        (sent.delivered, sent.refused, sent.waiting, sent.stopped),
        (1, 1, 0, None)
    );
    let refused = other
        .outbox()
        .unwrap()
        .into_iter()
        .find(|i| i.status == OutboxStatus::Invalid)
        .unwrap();
    assert!(
        refused.reason.contains("managed by its group"),
        "{}",
        refused.reason
    );
    assert_eq!(
        group.edit_key_state("dev-walk").unwrap(),
        Some(KeyState::Active)
    );
}

/// The device's outbox against the real server: in order, exactly once across a lost answer,
/// invalid items refused with their reason, nothing lost while the feed is down, and statuses
/// brought back after a moderator decides.
#[test]
fn the_devices_outbox_arrives_exactly_once() {
    use signpost_personal::{OutboxKind, OutboxStatus, Personal};
    use signpost_sync::outbox::{refresh_statuses, send_outbox};

    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let personal = Personal::open(&t.path().join("personal.db")).unwrap();
    let options = signpost_sync::Options::default();
    personal
        .queue(
            OutboxKind::Submission,
            "dev-walk",
            "Walk",
            json!({"service": walk("dev-walk", "Riverside walk")}),
        )
        .unwrap();
    personal
        .queue(
            OutboxKind::Report,
            "dev-walk",
            "Walk",
            json!({"service_id": "dev-walk", "kind": "wrong-details", "comment": "Starts at 10"}),
        )
        .unwrap();
    personal
        .queue(
            OutboxKind::Submission,
            "dev-bad",
            "Bad",
            json!({"service": walk("dev-bad", "")}),
        )
        .unwrap();

    // The feed is down: nothing is lost, everything waits.
    let nowhere = format!("http://127.0.0.1:{}", {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    });
    let sent = send_outbox(&personal, &nowhere, &options).unwrap();
    assert_eq!((sent.delivered, sent.waiting), (0, 3));
    assert!(sent
        .stopped
        .unwrap()
        .starts_with("could not reach the feed"));

    // The first item reached the feed but its answer was lost (sent here by hand, unrecorded).
    let server = Server::start(&data);
    let first = personal.next_to_send().unwrap().unwrap();
    let (status, lost) = post(&server, "/submissions", &first.envelope);
    assert_eq!(status, 202);
    let sent = send_outbox(&personal, &server.base, &options).unwrap();
    assert_eq!(
        (sent.delivered, sent.refused, sent.waiting, sent.stopped),
        (2, 1, 0, None)
    );
    let queue: Value = serde_json::from_slice(&feed(&data, &["queue", "--json"]).stdout).unwrap();
    assert_eq!(
        queue.as_array().unwrap().len(),
        2,
        "the retried item is stored once: {queue}"
    );
    let items = personal.outbox().unwrap();
    let walk_item = items
        .iter()
        .find(|i| i.kind == OutboxKind::Submission && i.service_id == "dev-walk")
        .unwrap();
    assert_eq!(
        walk_item.remote_id.as_deref(),
        lost["submission_id"].as_str()
    );
    let bad = items.iter().find(|i| i.service_id == "dev-bad").unwrap();
    assert_eq!(bad.status, OutboxStatus::Invalid);
    assert!(bad.reason.starts_with("/service/name"), "{}", bad.reason);

    // After the moderator decides, the device learns it.
    let id = lost["submission_id"].as_str().unwrap();
    assert!(feed(&data, &["approve", id]).status.success());
    assert_eq!(
        refresh_statuses(&personal, &server.base, &options).unwrap(),
        1
    );
    let walk_item = personal
        .outbox()
        .unwrap()
        .into_iter()
        .find(|i| i.remote_id.as_deref() == Some(id))
        .unwrap();
    assert_eq!(walk_item.status, OutboxStatus::Approved);
}

/// A flood from one client: the first burst is taken, the rest refused with 429 and a
/// `Retry-After`, nothing is stored twice, and the server keeps answering everyone.
#[test]
fn a_thousand_rapid_submissions_from_one_client_are_held_back() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let server = Server::start(&data);
    let client = reqwest::blocking::Client::new();
    let (mut accepted, mut limited) = (0, 0);
    for seq in 1..=1000u64 {
        // The device only moves on when its item was taken, as the outbox does.
        let n = accepted + 1;
        let r = client
            .post(format!("{}/submissions", server.base))
            .json(&json!({"client_id": DEVICE, "seq": n, "service": walk(&format!("flood-{seq}"), "Flood")}))
            .send()
            .unwrap();
        match r.status().as_u16() {
            202 => accepted += 1,
            429 => {
                assert!(r.headers().get("retry-after").is_some());
                let body: Value = r.json().unwrap();
                assert_eq!(body["error"], "too_many", "{body}");
                limited += 1;
            }
            other => panic!("unexpected {other}: {}", r.text().unwrap()),
        }
    }
    assert!(
        (1..=40).contains(&accepted),
        "the burst, and what refilled meanwhile: {accepted}"
    );
    assert_eq!(accepted + limited, 1000);
    let queue: Value = serde_json::from_slice(&feed(&data, &["queue", "--json"]).stdout).unwrap();
    assert_eq!(queue.as_array().unwrap().len(), accepted);
    let (status, _, _) = server.get("/sync/head");
    assert_eq!(status, 200, "reads are not limited and the server is up");
}
