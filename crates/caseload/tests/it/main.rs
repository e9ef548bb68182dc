//! The caseload against real SQLCipher files and the real default region.
mod common;
mod privacy;
mod records;
mod report;
mod suggest;
