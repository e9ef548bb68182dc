//! The file is unreadable without the passphrase, a wrong one changes nothing, and a backup
//! restores onto a fresh data folder.
use sha2::{Digest, Sha256};
use signpost_caseload::{Caseload, Contact, ContactHow, Error, PersonDetails};

use crate::common::{contains, new_caseload, person, today, PASSPHRASE};

const SECRET_NAME: &str = "Philippa Quenby-Marsh";
const SECRET_NOTE: &str = "worried about the rent arrears since October";
const SECRET_GOAL: &str = "sing in a choir again like before the stroke";

fn fill(c: &Caseload) -> String {
    let p = c
        .add_person(
            &PersonDetails {
                goals: SECRET_GOAL.into(),
                nhs_number: Some("943 476 5919".into()),
                ..person(SECRET_NAME, "BS3 4")
            },
            today(),
        )
        .unwrap();
    c.log_contact(
        &p.id,
        &Contact {
            id: 0,
            on_date: today(),
            how: ContactHow::Phone,
            note: SECRET_NOTE.into(),
            next_step: "call back Friday".into(),
        },
    )
    .unwrap();
    p.id
}

#[test]
fn the_file_holds_no_plaintext() {
    let (_dir, path, c) = new_caseload();
    fill(&c);
    drop(c);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4096, "the file has pages: {}", bytes.len());
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "no plain SQLite header"
    );
    for secret in [
        SECRET_NAME,
        SECRET_NOTE,
        SECRET_GOAL,
        "943 476 5919",
        "CREATE TABLE",
    ] {
        assert!(
            !contains(&bytes, secret),
            "{secret:?} is in the file in plain text"
        );
    }
    // Nothing else is left beside it (no journal or WAL holding plaintext).
    let others: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "caseload.db")
        .collect();
    assert!(others.is_empty(), "files beside the caseload: {others:?}");
}

#[test]
fn a_wrong_passphrase_is_refused_and_changes_nothing() {
    let (_dir, path, c) = new_caseload();
    let id = fill(&c);
    drop(c);
    let before = Sha256::digest(std::fs::read(&path).unwrap());
    match Caseload::open(&path, "correct horse battery stapler") {
        Err(Error::WrongPassphrase) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a wrong passphrase opened the caseload"),
    }
    let after = Sha256::digest(std::fs::read(&path).unwrap());
    assert_eq!(before, after, "the file changed");
    let c = Caseload::open(&path, PASSPHRASE).unwrap();
    assert_eq!(c.person(&id).unwrap().details.name, SECRET_NAME);
    assert_eq!(
        Error::WrongPassphrase.to_string(),
        "that passphrase does not open this caseload (nothing was changed)"
    );
}

#[test]
fn a_short_passphrase_and_a_plain_database_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Caseload::create(&dir.path().join("c.db"), "short")
        .err()
        .unwrap();
    assert!(
        err.to_string().starts_with("passphrase: use at least 10"),
        "{err}"
    );
    assert!(!dir.path().join("c.db").exists());
    // The directory database is plain SQLite: it is not a caseload, whatever the passphrase.
    let plain = dir.path().join("directory.db");
    drop(signpost_directory::Directory::open(&plain).unwrap());
    let err = Caseload::open(&plain, PASSPHRASE).err().unwrap();
    assert!(matches!(err, Error::NotACaseload(_)), "{err}");
    let err = Caseload::open(&dir.path().join("none.db"), PASSPHRASE)
        .err()
        .unwrap();
    assert!(matches!(err, Error::Missing(_)), "{err}");
}

#[test]
fn a_backup_restores_onto_a_fresh_data_folder() {
    let (_dir, _path, c) = new_caseload();
    let id = fill(&c);
    let elsewhere = tempfile::tempdir().unwrap();
    let backup = elsewhere.path().join("caseload-backup.signpost");
    c.backup(&backup).unwrap();
    let bytes = std::fs::read(&backup).unwrap();
    assert!(!contains(&bytes, SECRET_NAME) && !bytes.starts_with(b"SQLite format 3"));
    assert!(!elsewhere.path().join("caseload-backup.partial").exists());

    let fresh = tempfile::tempdir().unwrap();
    let target = fresh.path().join("data").join("caseload.db");
    match Caseload::restore(&backup, &target, "not the passphrase") {
        Err(Error::WrongPassphrase) => {}
        other => panic!("restored with a wrong passphrase: {:?}", other.err()),
    }
    assert!(!target.exists(), "a refused restore wrote a file");
    let restored = Caseload::restore(&backup, &target, PASSPHRASE).unwrap();
    let p = restored.person(&id).unwrap();
    assert_eq!(p.details.name, SECRET_NAME);
    assert_eq!(restored.contacts(&id).unwrap()[0].note, SECRET_NOTE);
    // Restoring over an existing caseload is refused.
    assert!(matches!(
        Caseload::restore(&backup, &target, PASSPHRASE).err(),
        Some(Error::Exists(_))
    ));
}
