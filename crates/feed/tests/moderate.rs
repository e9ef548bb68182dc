//! The moderators' web queue (`/moderate`) on the real server binary: accounts from the
//! command line, sign-in, CSRF and Origin checks, escaping, approve and reject.
use std::path::Path;
use std::process::{Command, Stdio};

const ADMIN_PASSWORD: &str = "correct horse battery staple";

fn add_admin(data: &Path, name: &str, password: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_signpost-feed"))
        .arg("--data")
        .arg(data)
        .args(["add-admin", name])
        .env("SIGNPOST_ADMIN_PASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_first_admin_is_made_from_the_command_line() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("feed");
    let short = add_admin(&data, "ann", "eleven char");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let made = add_admin(&data, "ann", ADMIN_PASSWORD);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let again = add_admin(&data, "ANN", ADMIN_PASSWORD);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already an account"));
    // The password is not echoed anywhere.
    for out in [&short, &made, &again] {
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        assert!(!String::from_utf8_lossy(&all).contains(ADMIN_PASSWORD));
    }
}
