//! What the CLI's test binaries share: running the real `signpost` binary on a database file.
use std::path::Path;
use std::process::{Command, Output};

/// Run `signpost --db DB ARGS…` and collect what it printed.
pub fn signpost(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signpost"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run signpost")
}
