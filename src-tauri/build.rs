//! Embeds the built UI and generates one permission per app command, so the capability file
//! can grant exactly the commands the UI calls.
fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(signpost_commands::COMMANDS)),
    )
    .expect("tauri build step");
}

#[path = "src/command_names.rs"]
mod signpost_commands;
