//! `signpost-app`: starts the Signpost window. Everything else is in the library.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    signpost_app_lib::run();
}
