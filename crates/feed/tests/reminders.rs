//! Freshness reminders through the real binary: each step once, to the listing's address, by a
//! real SMTP server on 127.0.0.1 (Debian's aiosmtpd) or into the outbox folder.
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::feed;

/// Listings last checked at various ages before 2027-06-15.
fn publish(data: &Path) {
    let listing =
        |id: &str, assured: Option<&str>, email: Option<&str>, org_email: Option<&str>| {
            json!({
                "id": id, "name": format!("Group {id}"), "status": "active",
                "assured_date": assured, "email": email,
                "organization": {"id": format!("org-{id}"), "name": "Org", "email": org_email},
                "service_at_locations": [{"id": format!("{id}-sal"), "location": {
                    "id": format!("{id}-loc"), "latitude": 51.44, "longitude": -2.6}}]
            })
        };
    let listings = json!([
        listing("ten", Some("2026-08-10"), Some("ten@example.org"), None),
        listing(
            "eleven",
            Some("2026-07-01"),
            None,
            Some("org-eleven@example.org")
        ),
        listing(
            "twelve",
            Some("2026-05-01"),
            Some("twelve@example.org"),
            None
        ),
        listing("fresh", Some("2027-03-01"), Some("fresh@example.org"), None),
        listing("no-address", Some("2026-01-01"), None, None),
        listing("never", None, Some("never@example.org"), None),
    ]);
    let file = data.with_extension("json");
    std::fs::write(&file, listings.to_string()).unwrap();
    let out = feed(data, &["import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut all: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    all.sort();
    all
}

#[test]
fn reminders_go_once_per_step_into_the_outbox_without_a_mail_server() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    publish(&data);
    let first = ok(&feed(&data, &["remind", "--today", "2027-06-15"]));
    assert!(first.starts_with("3 reminders written to"), "{first}");
    let mails = files_in(&data.join("outbox"));
    let eml: Vec<&String> = mails.iter().filter(|m| m.contains("Subject:")).collect();
    assert_eq!(eml.len(), 3, "{mails:?}");
    let all = eml.iter().map(|m| m.as_str()).collect::<String>();
    for to in [
        "ten@example.org",
        "org-eleven@example.org",
        "twelve@example.org",
    ] {
        assert!(all.contains(to), "{to} not written to");
    }
    assert!(!all.contains("fresh@example.org") && !all.contains("never@example.org"));
    // The same day again: nothing more. A month on: the next step for those that reached one.
    assert!(ok(&feed(&data, &["remind", "--today", "2027-06-15"])).starts_with("0 reminders"));
    let later = ok(&feed(&data, &["remind", "--today", "2027-07-15"]));
    assert!(
        later.starts_with("2 reminders"),
        "ten reaches 11, eleven reaches 12: {later}"
    );
    assert!(
        ok(&feed(&data, &["remind", "--today", "2027-08-15"])).starts_with("1 reminder "),
        "ten reaches 12"
    );

    // The stale list: over 12 months, or never checked.
    let stale = ok(&feed(&data, &["stale", "--today", "2027-06-15"]));
    let ids: Vec<&str> = stale
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["never", "no-address", "twelve"], "{stale}");
}

/// A real SMTP server on 127.0.0.1 that keeps what it receives in a maildir.
struct Smtp {
    child: Child,
    port: u16,
}

impl Smtp {
    fn start(maildir: &Path) -> Smtp {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new("/usr/bin/python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd is installed by scripts/setup-system.sh (python3-aiosmtpd)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Smtp { child, port }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn reminders_are_delivered_by_a_real_smtp_server() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    publish(&data);
    let maildir = t.path().join("maildir");
    let smtp = Smtp::start(&maildir);
    let out = ok(&feed(
        &data,
        &[
            "remind",
            "--today",
            "2027-06-15",
            "--smtp",
            &format!("smtp://127.0.0.1:{}", smtp.port),
            "--from",
            "Bristol directory <directory@bristol.example>",
        ],
    ));
    assert!(out.starts_with("3 reminders sent"), "{out}");
    let mails = files_in(&maildir.join("new"));
    assert_eq!(mails.len(), 3, "{mails:?}");
    let twelve = mails
        .iter()
        .find(|m| m.contains("twelve@example.org"))
        .unwrap();
    assert!(
        twelve.contains("From: \"Bristol directory\" <directory@bristol.example>"),
        "{twelve}"
    );
    assert!(twelve.contains("X-RcptTo: twelve@example.org"), "{twelve}");
    assert!(twelve.contains("Listing id: twelve"), "{twelve}");
    // Nothing went to the outbox folder, and nothing is sent twice.
    assert!(files_in(&data.join("outbox")).is_empty());
    let again = ok(&feed(
        &data,
        &[
            "remind",
            "--today",
            "2027-06-15",
            "--smtp",
            &format!("smtp://127.0.0.1:{}", smtp.port),
        ],
    ));
    assert!(again.starts_with("0 reminders"), "{again}");
    assert_eq!(files_in(&maildir.join("new")).len(), 3);
}

/// With the feed's public address, each reminder links to its listing's page of the web form,
/// where the group can say it is still running.
#[test]
fn reminders_link_to_the_listings_page_of_the_web_form() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    publish(&data);
    let out = ok(&feed(
        &data,
        &[
            "remind",
            "--today",
            "2027-06-15",
            "--public-url",
            "https://feed.example.org/",
        ],
    ));
    assert!(out.starts_with("3 reminders written to"), "{out}");
    let mails = files_in(&data.join("outbox"));
    let ten = mails
        .iter()
        .find(|m| m.contains("Subject:") && m.contains("ten@example.org"))
        .expect("the reminder to ten");
    assert!(ten.contains("https://feed.example.org/group/ten"), "{ten}");
}
