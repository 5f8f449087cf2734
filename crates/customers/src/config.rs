//! The customer service's own settings, the `[customers]` section (`REKISTERI_CUSTOMERS__…`).

use std::collections::BTreeMap;

use base64::Engine;
use rekisteri_identifiers::HetuPolicy;
use rekisteri_platform::auth::Secret;
use serde::Deserialize;

use crate::crypto::{IdentityCodeVault, KEY_BYTES};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CustomersConfig {
    /// Accept personal identity codes with individual numbers 900–999 (temporary and test
    /// identities). Off in production unless the organisation issues such codes itself.
    pub accept_temporary_identity_codes: bool,
    /// Keys that encrypt identity codes, by id: 32 bytes each, base64. Old keys stay listed so
    /// that codes written under them can still be read.
    pub identity_code_keys: BTreeMap<String, Secret>,
    /// The key new codes are encrypted under.
    pub identity_code_key_id: String,
    /// The key of the blind index that finds a person by identity code (32 bytes, base64). It
    /// cannot rotate without recomputing the index; keep it apart from the encryption keys.
    pub blind_index_key: Option<Secret>,
    /// Where the catalogue answers, to ask about a register not yet learnt from its events.
    pub catalogue_endpoint: String,
    /// The token this service presents to the catalogue (role `catalogue.reader`).
    pub catalogue_token: Option<Secret>,
}

impl CustomersConfig {
    pub fn hetu_policy(&self) -> HetuPolicy {
        HetuPolicy {
            accept_temporary: self.accept_temporary_identity_codes,
        }
    }

    /// The keys, checked; errors name the setting.
    pub fn vault(&self) -> anyhow::Result<IdentityCodeVault> {
        let decode = |name: &str, secret: &Secret| -> anyhow::Result<[u8; KEY_BYTES]> {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(secret.expose().trim())
                .map_err(|_| anyhow::anyhow!("customers.{name}: not base64"))?;
            bytes.try_into().map_err(|_| {
                anyhow::anyhow!("customers.{name}: a key is {KEY_BYTES} bytes (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)")
            })
        };
        if self.identity_code_keys.is_empty() {
            anyhow::bail!(
                "customers.identity_code_keys: configure at least one key (id = base64 of 32 random bytes)"
            );
        }
        let mut keys = BTreeMap::new();
        for (id, secret) in &self.identity_code_keys {
            // Stored beside every sealed code (a column of 64 characters).
            if id.is_empty() || id.len() > 64 {
                anyhow::bail!(
                    "customers.identity_code_keys: key id `{id}` must be 1 to 64 characters"
                );
            }
            keys.insert(
                id.clone(),
                decode(&format!("identity_code_keys.{id}"), secret)?,
            );
        }
        if !keys.contains_key(&self.identity_code_key_id) {
            anyhow::bail!(
                "customers.identity_code_key_id: `{}` is not among identity_code_keys ({})",
                self.identity_code_key_id,
                keys.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        let index = self
            .blind_index_key
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("customers.blind_index_key: required"))?;
        let index = decode("blind_index_key", index)?;
        if keys.values().any(|k| *k == index) {
            anyhow::bail!("customers.blind_index_key: must differ from every identity code key");
        }
        Ok(IdentityCodeVault::new(
            keys,
            self.identity_code_key_id.clone(),
            index,
        ))
    }
}
