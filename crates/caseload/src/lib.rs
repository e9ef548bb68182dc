//! A community connector's caseload: the people they support, contacts, connections to
//! listings, follow-ups and ONS4 outcomes, in one SQLCipher file keyed by the connector's
//! passphrase. It never leaves the device: nothing here talks to a network, writes to the
//! directory, or logs a person's details.
//!
//! [`Caseload`] is the API. [`suggest`] matches a person to listings through the directory's own
//! query engine; [`report`] makes the commissioners' aggregate CSV; [`people_csv`] imports people
//! from a spreadsheet; [`plan`] writes the person's plan and the letter to their GP.
pub mod db;
mod error;
pub mod key;
pub mod listing_state;
pub mod model;
pub mod people_csv;
pub mod plan;
pub mod report;
pub mod schema;
mod store;
pub mod suggest;

pub use error::{Error, Result};
pub use model::{
    ConnectionStatus, Contact, ContactHow, FollowUp, ListingState, Occasion, Ons4, Person,
    PersonDetails, PersonSummary,
};
pub use store::{Agenda, Caseload};
