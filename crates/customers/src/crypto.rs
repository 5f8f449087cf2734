//! Identity codes at rest: encrypted with XChaCha20-Poly1305 under a key chosen by id, and found
//! through a keyed blind index (HMAC-SHA-256), so the database never holds a code in plain text
//! and a copy of it without the keys reveals none.
//!
//! The ciphertext is bound to its subject (the subject id is the associated data): a ciphertext
//! copied onto another row does not decrypt.

use std::collections::BTreeMap;
use std::fmt;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rekisteri_identifiers::{HetuPolicy, PersonalIdentityCode};
use sha2::Sha256;

pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// A code as stored: which key, and nonce followed by ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

pub struct IdentityCodeVault {
    keys: BTreeMap<String, XChaCha20Poly1305>,
    current: String,
    index: [u8; KEY_BYTES],
}

impl fmt::Debug for IdentityCodeVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityCodeVault")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl IdentityCodeVault {
    pub fn new(
        keys: BTreeMap<String, [u8; KEY_BYTES]>,
        current: String,
        index: [u8; KEY_BYTES],
    ) -> Self {
        let keys = keys
            .into_iter()
            .map(|(id, key)| (id, XChaCha20Poly1305::new(&key.into())))
            .collect();
        Self {
            keys,
            current,
            index,
        }
    }

    pub fn seal(&self, subject_id: &str, code: &PersonalIdentityCode) -> Sealed {
        let cipher = &self.keys[&self.current];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: code.expose().as_bytes(),
                    aad: subject_id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message of this size");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Sealed {
            key_id: self.current.clone(),
            bytes,
        }
    }

    /// The code sealed for `subject_id`. Fails when the key is gone or the row was tampered with.
    pub fn open(&self, subject_id: &str, sealed: &Sealed) -> anyhow::Result<PersonalIdentityCode> {
        let cipher = self.keys.get(&sealed.key_id).ok_or_else(|| {
            anyhow::anyhow!(
                "identity code key `{}` is not configured (customers.identity_code_keys)",
                sealed.key_id
            )
        })?;
        if sealed.bytes.len() <= NONCE_BYTES {
            anyhow::bail!("a stored identity code is truncated");
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_BYTES);
        let plain = cipher
            .decrypt(
                &XNonce::from(
                    <[u8; NONCE_BYTES]>::try_from(nonce).expect("split at the nonce's length"),
                ),
                Payload {
                    msg: ciphertext,
                    aad: subject_id.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!("a stored identity code does not decrypt under its key")
            })?;
        let text = String::from_utf8(plain)?;
        // Stored codes passed validation once; temporary ones may have been allowed then.
        PersonalIdentityCode::parse(
            &text,
            HetuPolicy {
                accept_temporary: true,
            },
        )
        .map_err(|_| anyhow::anyhow!("a stored identity code is not valid"))
    }

    /// The lookup value for a code: equal codes give equal values, and without the key the value
    /// says nothing about the code.
    pub fn blind_index(&self, code: &PersonalIdentityCode) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index)
            .expect("HMAC takes a key of any length");
        mac.update(b"rekisteri.customers.hetu.v1:");
        mac.update(code.expose().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(current: &str) -> IdentityCodeVault {
        let keys = BTreeMap::from([("old".to_owned(), [1u8; 32]), ("new".to_owned(), [2u8; 32])]);
        IdentityCodeVault::new(keys, current.into(), [3u8; 32])
    }

    fn code() -> PersonalIdentityCode {
        PersonalIdentityCode::parse("131052-308T", HetuPolicy::default()).unwrap()
    }

    #[test]
    fn seals_opens_and_rotates() {
        let old = vault("old");
        let sealed = old.seal("subject-1", &code());
        assert_eq!(sealed.key_id, "old");
        assert!(!sealed.bytes.windows(6).any(|w| w == b"131052"));
        // A vault whose current key is new still opens codes sealed under the old one.
        let new = vault("new");
        assert_eq!(new.open("subject-1", &sealed).unwrap(), code());
        assert_eq!(new.seal("subject-1", &code()).key_id, "new");
        // Same code, fresh nonce: the ciphertexts differ.
        assert_ne!(old.seal("subject-1", &code()).bytes, sealed.bytes);
    }

    #[test]
    fn refuses_moved_or_altered_ciphertexts() {
        let v = vault("old");
        let mut sealed = v.seal("subject-1", &code());
        assert!(
            v.open("subject-2", &sealed).is_err(),
            "bound to its subject"
        );
        let last = sealed.bytes.len() - 1;
        sealed.bytes[last] ^= 1;
        assert!(v.open("subject-1", &sealed).is_err());
    }

    #[test]
    fn the_blind_index_is_stable_keyed_and_not_the_code() {
        let a = vault("old").blind_index(&code());
        assert_eq!(a, vault("new").blind_index(&code()));
        assert!(!a.contains("131052"));
        let other_key = IdentityCodeVault::new(BTreeMap::new(), "x".into(), [4u8; 32]);
        assert_ne!(a, other_key.blind_index(&code()));
        let other_code = PersonalIdentityCode::parse(
            "010594Y9021",
            HetuPolicy {
                accept_temporary: true,
            },
        )
        .unwrap();
        assert_ne!(a, vault("old").blind_index(&other_code));
    }
}
