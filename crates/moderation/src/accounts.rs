//! Moderators' accounts and sign-in sessions, kept in the moderation file beside what they
//! decide, so the audit's names and the accounts that made them live together.
//!
//! Passwords are argon2id PHC strings. A session token is 32 random bytes given to the browser
//! once; only its SHA-256 is stored, so reading the file does not let anyone sign in.
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::{rfc3339, Moderation};

/// Shorter passwords are refused: long ones resist guessing better than complex short ones.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longer passwords are refused, so hashing cannot be made to take long.
pub const MAX_PASSWORD_CHARS: usize = 1_000;
/// How long a session lasts from sign-in: a working day, after which the moderator signs in
/// again.
pub const SESSION_HOURS: i64 = 12;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Moderates, and manages the moderators' accounts.
    Admin,
    /// Moderates.
    Moderator,
}

impl Role {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
        }
    }

    fn from_code(code: &str) -> Role {
        if code == "admin" {
            Role::Admin
        } else {
            Role::Moderator
        }
    }
}

/// An account, as the admins' list shows it (never its password hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    /// The name the moderator signs in with; it also names them in the audit.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it was disabled, if it was.
    pub disabled_at: Option<String>,
}

/// A signed-in moderator, found from a session token.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    /// The account's name.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// The session's CSRF token, which each form must carry back.
    pub csrf: String,
    /// When the session ends (RFC 3339).
    pub expires_at: String,
}

impl SignedIn {
    /// Whether a form's CSRF token is this session's, compared in constant time so the
    /// comparison does not reveal how much of a guess was right.
    pub fn csrf_matches(&self, given: &str) -> bool {
        same_secret(self.csrf.as_bytes(), given.as_bytes())
    }
}

/// A new session: the token to give the browser (once; it is not stored) and who it is.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session token, 64 hex digits.
    pub token: String,
    /// Who signed in.
    pub signed_in: SignedIn,
}

/// Constant-time equality for secrets of public length.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes as hex.
fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Password(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Password(e.to_string()))
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password nobody knows, checked when the name is unknown or disabled, so
/// that such a sign-in takes as long as a wrong password and cannot tell names apart.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(Error::Invalid {
            field: "/name".into(),
            message: "give a name of 1 to 64 characters".into(),
        });
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid {
            field: "/name".into(),
            message: "a name cannot hold control characters".into(),
        });
    }
    Ok(name)
}

/// Why a password is refused, if it is.
pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(Error::Invalid {
            field: "/password".into(),
            message: format!("use at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(Error::Invalid {
            field: "/password".into(),
            message: format!("use at most {MAX_PASSWORD_CHARS} characters"),
        });
    }
    Ok(())
}

impl Moderation {
    /// Make an account. Names are unique regardless of case, so "Ann" and "ann" cannot be two
    /// people in the audit.
    pub fn add_account(
        &mut self,
        name: &str,
        password: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let name = check_name(name)?;
        check_password(password)?;
        let hash = hash_password(password)?;
        let added = self.conn.execute(
            "INSERT INTO account(name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO NOTHING",
            params![name, role.as_str(), hash, rfc3339(now)],
        )?;
        if added == 0 {
            return Err(Error::AccountExists { name: name.into() });
        }
        Ok(())
    }

    /// Sign in: a new session for a right name and password of an enabled account. A wrong
    /// password, an unknown name and a disabled account all get [`Error::SignInRefused`], after
    /// the same work.
    pub fn sign_in(
        &mut self,
        name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<NewSession> {
        let found: Option<(i64, String, String, String)> = self
            .conn
            .query_row(
                "SELECT id, name, role, password_hash FROM account
                 WHERE name = ?1 AND disabled_at IS NULL",
                [name.trim()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let too_long = password.chars().count() > MAX_PASSWORD_CHARS;
        let Some((id, name, role, phc)) = found else {
            if !too_long {
                password_matches(password, decoy_hash());
            }
            return Err(Error::SignInRefused);
        };
        if too_long || !password_matches(password, &phc) {
            return Err(Error::SignInRefused);
        }
        let token = random_token();
        let csrf = random_token();
        let expires_at = rfc3339(now + Duration::hours(SESSION_HOURS));
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM session WHERE expires_at <= ?1", [rfc3339(now)])?;
        tx.execute(
            "INSERT INTO session(token_sha256, account_id, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_digest(&token), id, csrf, rfc3339(now), expires_at],
        )?;
        tx.commit()?;
        Ok(NewSession {
            token,
            signed_in: SignedIn {
                name,
                role: Role::from_code(&role),
                csrf,
                expires_at,
            },
        })
    }

    /// Who a session token belongs to, if it is a live session of an enabled account.
    pub fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<SignedIn>> {
        Ok(self
            .conn
            .query_row(
                "SELECT a.name, a.role, s.csrf, s.expires_at
                 FROM session s JOIN account a ON a.id = s.account_id
                 WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 AND a.disabled_at IS NULL",
                params![token_digest(token), rfc3339(now)],
                |r| {
                    let role: String = r.get(1)?;
                    Ok(SignedIn {
                        name: r.get(0)?,
                        role: Role::from_code(&role),
                        csrf: r.get(2)?,
                        expires_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// End a session (nothing happens if it has already ended).
    pub fn sign_out(&mut self, token: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM session WHERE token_sha256 = ?1",
            [token_digest(token)],
        )?;
        Ok(())
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, role, created_at, disabled_at FROM account ORDER BY name COLLATE NOCASE",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let role: String = r.get(1)?;
                Ok(Account {
                    name: r.get(0)?,
                    role: Role::from_code(&role),
                    created_at: r.get(2)?,
                    disabled_at: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Disable an account and end its sessions at once. The last enabled admin cannot be
    /// disabled, or nobody could manage the accounts from the web.
    pub fn disable_account(&mut self, name: &str, now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        let found: Option<(i64, String, Option<String>)> = tx
            .query_row(
                "SELECT id, role, disabled_at FROM account WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((id, role, disabled_at)) = found else {
            return Err(Error::NotFound {
                kind: "account",
                id: name.into(),
            });
        };
        if disabled_at.is_some() {
            return Ok(());
        }
        if role == "admin" {
            let admins: i64 = tx.query_row(
                "SELECT count(*) FROM account WHERE role = 'admin' AND disabled_at IS NULL",
                [],
                |r| r.get(0),
            )?;
            if admins <= 1 {
                return Err(Error::Invalid {
                    field: "/name".into(),
                    message: "this is the last admin; add another before disabling it".into(),
                });
            }
        }
        tx.execute(
            "UPDATE account SET disabled_at = ?2 WHERE id = ?1",
            params![id, rfc3339(now)],
        )?;
        tx.execute("DELETE FROM session WHERE account_id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret(b"abcd", b"abcd"));
        assert!(!same_secret(b"abcd", b"abce"));
        assert!(!same_secret(b"abcd", b"abc"));
        assert!(!same_secret(b"", b"a"));
    }

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(password_matches("correct horse battery", &phc));
        assert!(!password_matches("correct horse batterY", &phc));
        assert!(!password_matches("correct horse battery", decoy_hash()));
    }
}
