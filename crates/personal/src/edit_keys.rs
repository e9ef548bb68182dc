//! Edit keys: a group's proof, on this device, that it may update its listing.
//!
//! A key is 32 random bytes made here (sent as 64 hex digits); the feed only ever holds the
//! SHA-256 of the bytes. A new listing, or an update of a listing this device holds no key for,
//! names the hash of a fresh key ("pending"); when the feed's moderators approve it the key
//! becomes the listing's ("active"). An update then sends the key itself with the hash of the
//! next one, which the device keeps in its place in the same transaction as it queues the
//! update: each key works once, and two updates queued offline go in order.
//!
//! Where the key itself is kept is a [`KeyStore`]: the OS keyring (Secret Service, Keychain,
//! Credential Manager) through the `keyring` crate when there is one, else this personal file.
//! `personal.db` always holds the hash of the current key, so a keyring entry that was written
//! but whose transaction never committed is recognised: the keyring keeps the key before the
//! newest too, and the one matching the file's hash is used.
use std::sync::Arc;

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The keyring's service name for edit keys (the user is the listing's id).
pub const KEYRING_SERVICE: &str = "signpost";

/// A new key: (the key as 64 hex digits, the hex SHA-256 of its bytes).
pub fn new_key() -> (String, String) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    (hex::encode(raw), key_sha256_of_raw(&raw))
}

/// The hex SHA-256 of a key's bytes, as the feed stores it.
pub fn key_sha256_of_raw(raw: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(raw))
}

/// The hex SHA-256 of a key given as hex, if it is a key.
pub fn key_sha256(key: &str) -> Option<String> {
    let raw: [u8; 32] = hex::decode(key).ok()?.try_into().ok()?;
    Some(key_sha256_of_raw(&raw))
}

/// Where a device stands with a listing's edit key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Made and sent (as its hash) with a listing or claim the moderators have not approved
    /// yet.
    Pending,
    /// The listing's key: this device can update the listing.
    Active,
}

impl KeyState {
    pub(crate) fn from_code(code: &str) -> KeyState {
        if code == "active" {
            KeyState::Active
        } else {
            KeyState::Pending
        }
    }
}

/// A place for secrets outside the personal file (the OS keyring, or a test's stand-in).
pub trait SecretStore: Send + Sync {
    /// The secret kept for `user`, if any.
    fn get(&self, user: &str) -> Result<Option<String>, String>;
    /// Keep `secret` for `user`, replacing what was there.
    fn set(&self, user: &str, secret: &str) -> Result<(), String>;
}

/// The OS keyring, through the `keyring` crate: service [`KEYRING_SERVICE`], user the
/// listing's id.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

impl OsKeyring {
    fn entry(user: &str) -> Result<keyring::Entry, String> {
        keyring::Entry::new(KEYRING_SERVICE, user).map_err(|e| e.to_string())
    }

    /// Whether a keyring answers here: reading an entry that is not there must say "no entry",
    /// not fail (no Secret Service on a headless Linux, a locked or missing keychain).
    pub fn available() -> bool {
        match Self::entry("signpost-probe").map(|e| e.get_password()) {
            Ok(Ok(_)) | Ok(Err(keyring::Error::NoEntry)) => true,
            Ok(Err(_)) | Err(_) => false,
        }
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, user: &str) -> Result<Option<String>, String> {
        match Self::entry(user)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn set(&self, user: &str, secret: &str) -> Result<(), String> {
        Self::entry(user)?
            .set_password(secret)
            .map_err(|e| e.to_string())
    }
}

/// Where this device keeps its edit keys.
#[derive(Clone)]
pub enum KeyStore {
    /// In the personal file (`edit_key.key`), when no OS keyring answers.
    Database,
    /// In a secret store outside the file (the OS keyring); the file keeps only hashes.
    Keyring(Arc<dyn SecretStore>),
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl KeyStore {
    /// The OS keyring if one answers, else the personal file.
    pub fn detect() -> KeyStore {
        KeyStore::detect_with(OsKeyring::available)
    }

    /// [`KeyStore::detect`] with the probe given (tests).
    pub fn detect_with(keyring_available: impl FnOnce() -> bool) -> KeyStore {
        if keyring_available() {
            KeyStore::Keyring(Arc::new(OsKeyring))
        } else {
            KeyStore::Database
        }
    }

    /// A store chosen by name: `keyring`, `database`, or `auto` (anything else) to detect.
    pub fn choose(name: &str) -> KeyStore {
        match name.trim() {
            "keyring" => KeyStore::Keyring(Arc::new(OsKeyring)),
            "database" => KeyStore::Database,
            _ => KeyStore::detect(),
        }
    }

    /// `keyring` or `database`.
    pub fn name(&self) -> &'static str {
        match self {
            KeyStore::Database => "database",
            KeyStore::Keyring(_) => "keyring",
        }
    }
}

/// What a keyring entry holds: the newest key and the one before it (so whichever the personal
/// file's hash names can be found after a crash between writing the entry and committing).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct KeyringEntry {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) previous: Option<String>,
}

impl KeyringEntry {
    /// The key of the two whose hash is `sha256`.
    pub(crate) fn matching(&self, sha256: &str) -> Option<String> {
        [Some(&self.key), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| key_sha256(k).as_deref() == Some(sha256))
            .cloned()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    /// A keyring in memory, for tests of the keyring path.
    #[derive(Default)]
    pub(crate) struct MemoryKeyring(pub(crate) Mutex<HashMap<String, String>>);

    impl SecretStore for MemoryKeyring {
        fn get(&self, user: &str) -> Result<Option<String>, String> {
            Ok(self.0.lock().unwrap().get(user).cloned())
        }
        fn set(&self, user: &str, secret: &str) -> Result<(), String> {
            self.0
                .lock()
                .unwrap()
                .insert(user.to_string(), secret.to_string());
            Ok(())
        }
    }

    #[test]
    fn keys_are_random_and_hashed_as_the_feed_hashes_them() {
        let (a, ha) = new_key();
        let (b, _) = new_key();
        assert_ne!(a, b);
        assert_eq!((a.len(), ha.len()), (64, 64));
        assert_eq!(key_sha256(&a).as_deref(), Some(ha.as_str()));
        assert_eq!(key_sha256("not a key"), None);
        // SHA-256 of 32 zero bytes.
        assert_eq!(
            key_sha256(&"00".repeat(32)).unwrap(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
    }

    #[test]
    fn without_a_keyring_the_personal_file_is_chosen() {
        assert_eq!(KeyStore::detect_with(|| false).name(), "database");
        assert_eq!(KeyStore::detect_with(|| true).name(), "keyring");
        assert_eq!(KeyStore::choose("database").name(), "database");
        assert_eq!(KeyStore::choose("keyring").name(), "keyring");
        // Whatever this machine has, detection answers (a headless Linux has no Secret
        // Service, so this is the personal file there).
        let found = KeyStore::detect();
        assert!(["database", "keyring"].contains(&found.name()));
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() && cfg!(target_os = "linux") {
            assert_eq!(found.name(), "database");
        }
    }
}
