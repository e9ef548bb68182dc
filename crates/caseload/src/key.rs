//! The caseload's key: the connector's passphrase stretched with argon2id.
//!
//! SQLCipher is given the derived key raw, together with the salt (`x'<key><salt>'`), so it
//! does no key derivation of its own and writes that salt as the file's first 16 bytes. The
//! salt is not secret; keeping it in the file means one file is the whole caseload, and a
//! backup opens with the same passphrase on another machine.
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Bytes of salt at the start of every SQLCipher file.
pub const SALT_LEN: usize = 16;

/// argon2id memory cost in KiB: 64 MiB, RFC 9106's second recommended setting (with 3 passes
/// and 4 lanes), chosen for a laptop that unlocks a few times a day. Changing these makes
/// existing caseloads unreadable, so a change needs a new format version that tries both.
pub const MEMORY_KIB: u32 = 64 * 1024;
/// argon2id passes.
pub const PASSES: u32 = 3;
/// argon2id lanes.
pub const LANES: u32 = 4;

/// The shortest passphrase accepted for a new caseload.
pub const MIN_PASSPHRASE_CHARS: usize = 10;

/// A derived key with its salt, wiped from memory when dropped.
pub struct Key {
    material: Zeroizing<[u8; 32]>,
    salt: [u8; SALT_LEN],
}

impl Key {
    /// Derive the key for `passphrase` with `salt`.
    pub fn derive(passphrase: &str, salt: [u8; SALT_LEN]) -> Result<Key> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(32))
            .map_err(|e| Error::invalid("passphrase", e.to_string()))?;
        let mut material = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &salt, material.as_mut())
            .map_err(|e| Error::invalid("passphrase", e.to_string()))?;
        Ok(Key { material, salt })
    }

    /// A fresh random salt, for a new file.
    pub fn new_salt() -> [u8; SALT_LEN] {
        let mut salt = [0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        salt
    }

    /// The key as SQLCipher's raw-key literal, `x'…'` (wiped when dropped).
    pub(crate) fn sqlcipher_literal(&self) -> Zeroizing<String> {
        let key_hex = Zeroizing::new(hex::encode(self.material.as_ref()));
        Zeroizing::new(format!("x'{}{}'", key_hex.as_str(), hex::encode(self.salt)))
    }

    /// The salt.
    pub fn salt(&self) -> [u8; SALT_LEN] {
        self.salt
    }
}

/// Refuse a passphrase too short to protect a caseload.
pub fn check_new_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::invalid(
            "passphrase",
            format!(
                "use at least {MIN_PASSPHRASE_CHARS} characters; a few ordinary words make a good one"
            ),
        ));
    }
    Ok(())
}
