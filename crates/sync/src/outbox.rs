//! Sending the device's outbox to the feed: each item in order, with the device's id and the
//! item's number, so the feed stores it exactly once however often a cut connection makes the
//! device send it again. What the feed answers is written back to the outbox.
use serde_json::Value;
use signpost_personal::{OutboxStatus, Personal};

use crate::{Options, SyncError};

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    /// Items the feed accepted.
    pub delivered: usize,
    /// Items the feed refused as invalid (each keeps the reason).
    pub refused: usize,
    /// Items still waiting.
    pub waiting: usize,
    /// Why sending stopped early (the feed unreachable or failing), if it did.
    pub stopped: Option<String>,
}

/// Send everything waiting in the outbox, oldest first, until it is empty or the feed cannot
/// take more.
pub fn send_outbox(personal: &Personal, feed: &str, options: &Options) -> Result<Sent, SyncError> {
    let feed = feed.trim_end_matches('/');
    let failed = |message: String| SyncError::Feed {
        feed: feed.to_string(),
        message,
    };
    let http = reqwest::blocking::Client::builder()
        .timeout(options.timeout)
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut sent = Sent::default();
    // A feed that keeps asking for another number is not followed round in circles.
    let mut renumbered = 0;
    while let Some(out) = personal.next_to_send().map_err(|e| failed(e.to_string()))? {
        let response = http
            .post(format!("{feed}{}", out.item.kind.path()))
            .json(&out.envelope)
            .send();
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                sent.stopped = Some(format!("could not reach the feed: {e}"));
                break;
            }
        };
        let status = response.status().as_u16();
        // Answers are small; one that is not JSON is treated as a failing feed.
        let body: Value = response.json().unwrap_or(Value::Null);
        let message = body["message"].as_str().unwrap_or_default().to_string();
        let record = |r: signpost_personal::Result<()>| r.map_err(|e| failed(e.to_string()));
        match status {
            200 | 202 => {
                let remote = body["submission_id"].as_str().unwrap_or_default();
                let state = OutboxStatus::from_code(body["status"].as_str().unwrap_or("in_review"));
                record(personal.delivered(out.item.id, remote, state))?;
                sent.delivered += 1;
            }
            422 => {
                record(personal.refused(out.item.id, &message, true))?;
                sent.refused += 1;
            }
            // The listing's edit key was wrong, already used or needed: the feed used the
            // number, as for an invalid item; the reason says what to do.
            403 if body["error"] == "edit_key" => {
                record(personal.refused_edit_key(out.item.id, &message))?;
                sent.refused += 1;
            }
            400 | 413 => {
                let why = if status == 413 {
                    "too large for the feed to take".to_string()
                } else {
                    message
                };
                record(personal.refused(out.item.id, &why, false))?;
                sent.refused += 1;
            }
            409 if renumbered < 3 => match body["expected"].as_i64() {
                Some(expected) if expected >= 1 => {
                    record(personal.renumber_from(out.item.id, expected))?;
                    renumbered += 1;
                }
                _ => {
                    sent.stopped = Some(format!("the feed refused the item's number: {message}"));
                    break;
                }
            },
            _ => {
                sent.stopped = Some(format!(
                    "the feed answered {status}{}",
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    }
                ));
                break;
            }
        }
    }
    sent.waiting = personal
        .outbox()
        .map_err(|e| failed(e.to_string()))?
        .iter()
        .filter(|i| i.status == OutboxStatus::Queued)
        .count();
    Ok(sent)
}

/// Ask the feed where each accepted item stands now (in review, approved, rejected with a
/// reason) and write it back. Items the feed cannot be asked about keep what they had.
pub fn refresh_statuses(
    personal: &Personal,
    feed: &str,
    options: &Options,
) -> Result<usize, SyncError> {
    let feed = feed.trim_end_matches('/');
    let failed = |message: String| SyncError::Feed {
        feed: feed.to_string(),
        message,
    };
    let http = reqwest::blocking::Client::builder()
        .timeout(options.timeout)
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut changed = 0;
    for item in personal.outbox().map_err(|e| failed(e.to_string()))? {
        let (Some(remote), OutboxStatus::InReview) = (&item.remote_id, item.status) else {
            continue;
        };
        let Ok(response) = http.get(format!("{feed}/submissions/{remote}")).send() else {
            break;
        };
        if !response.status().is_success() {
            continue;
        }
        let body: Value = response.json().unwrap_or(Value::Null);
        let now = OutboxStatus::from_code(body["status"].as_str().unwrap_or("in_review"));
        if now != item.status {
            personal
                .set_remote_status(remote, now, body["reason"].as_str().unwrap_or_default())
                .map_err(|e| failed(e.to_string()))?;
            changed += 1;
        }
    }
    Ok(changed)
}
