//! The disclosure service's own settings, the `[disclosures]` section (`REKISTERI_DISCLOSURES__…`).

use base64::Engine;
use ed25519_dalek::SigningKey;
use rekisteri_platform::auth::Secret;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisclosuresConfig {
    /// The Ed25519 key that signs checkpoints: its 32-byte seed, base64. Auditors pin its public
    /// half; changing it starts a new chain of trust.
    pub signing_key: Option<Secret>,
    /// The public halves (32 bytes, base64) of earlier signing keys: after a key change their
    /// checkpoints still verify, and the first checkpoint under the new key extends them.
    pub previous_public_keys: Vec<String>,
    /// How often a checkpoint is signed while the log grows (seconds).
    pub checkpoint_interval_secs: u64,
    /// Where the catalogue answers: disclosures are classified against its published versions.
    pub catalogue_endpoint: String,
    /// The token this service presents to the catalogue (role `catalogue.reader`).
    pub catalogue_token: Option<Secret>,
}

impl Default for DisclosuresConfig {
    fn default() -> Self {
        Self {
            signing_key: None,
            previous_public_keys: Vec::new(),
            checkpoint_interval_secs: 60,
            catalogue_endpoint: String::new(),
            catalogue_token: None,
        }
    }
}

impl DisclosuresConfig {
    pub fn previous_public_keys(&self) -> anyhow::Result<Vec<[u8; 32]>> {
        self.previous_public_keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                base64::engine::general_purpose::STANDARD
                    .decode(key.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .filter(|b| ed25519_dalek::VerifyingKey::from_bytes(b).is_ok())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "disclosures.previous_public_keys[{i}]: not an Ed25519 public key (32 bytes, base64)"
                        )
                    })
            })
            .collect()
    }

    pub fn signing_key(&self) -> anyhow::Result<SigningKey> {
        let secret = self.signing_key.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "disclosures.signing_key: required (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)"
            )
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret.expose().trim())
            .map_err(|_| anyhow::anyhow!("disclosures.signing_key: not base64"))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("disclosures.signing_key: an Ed25519 seed is 32 bytes"))?;
        Ok(SigningKey::from_bytes(&seed))
    }
}
