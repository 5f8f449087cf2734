//! What a register version declares about disclosures, fetched from the catalogue (published
//! versions never change, so each is fetched once), and the classification of a disclosure
//! against it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rekisteri_catalogue::client::Catalogue;
use rekisteri_platform::error::ServiceError;
use rekisteri_proto::catalogue::v1 as catalogue;
use rekisteri_proto::disclosures::v1 as pb;

use crate::domain::{NewDisclosure, in_eea};

/// The parts of a published register version that classify a disclosure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declarations {
    pub register_name: String,
    pub category_keys: Vec<String>,
    /// Declared regular disclosures' recipients, normalised.
    pub recipients: Vec<String>,
    /// Declared transfers outside the EU/EEA: country code and safeguard.
    pub transfers: Vec<(String, catalogue::TransferSafeguard)>,
}

/// Lower case, letters and digits only, single spaces: "Posti Oy:n osoitepalvelu" and
/// "POSTI OY" compare by words.
fn normalise(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `words` occurs in `text` as whole words.
fn contains_words(text: &str, words: &str) -> bool {
    !words.is_empty() && format!(" {text} ").contains(&format!(" {words} "))
}

impl Declarations {
    pub fn of(content: &catalogue::RegisterContent) -> Self {
        Self {
            register_name: content.name.clone(),
            category_keys: content
                .data_categories
                .iter()
                .map(|c| c.key.clone())
                .collect(),
            recipients: content
                .disclosures
                .iter()
                .map(|d| normalise(&d.recipient))
                .filter(|r| !r.is_empty())
                .collect(),
            transfers: content
                .transfers
                .iter()
                .map(|t| (t.country_code.to_ascii_uppercase(), t.safeguard()))
                .collect(),
        }
    }

    /// A declared regular disclosure: a declared recipient names this one (its name or business
    /// ID as whole words), or this one's name contains a declared recipient.
    fn declares_recipient(&self, name: &str, business_id: &str) -> bool {
        let name = normalise(name);
        let business_id = normalise(business_id);
        self.recipients.iter().any(|declared| {
            contains_words(declared, &name)
                || contains_words(&name, declared)
                || contains_words(declared, &business_id)
        })
    }

    pub fn classify(&self, d: &NewDisclosure) -> pb::Classification {
        let mut flags = Vec::new();
        // A business ID counts only when it is a checked Finnish one: a foreign registration
        // number is free text and could match any word of a declaration.
        let business_id = if d.recipient_country == "FI" {
            d.recipient_business_id.as_str()
        } else {
            ""
        };
        let regular = self.declares_recipient(&d.recipient_name, business_id);
        if !regular {
            flags.push(pb::Flag::IrregularDisclosure);
        }
        let (transfer, safeguard) = if in_eea(&d.recipient_country) {
            (
                pb::TransferKind::WithinEea,
                catalogue::TransferSafeguard::Unspecified,
            )
        } else {
            let declared = self.transfers.iter().find(|(country, safeguard)| {
                *country == d.recipient_country
                    && !matches!(
                        safeguard,
                        catalogue::TransferSafeguard::None
                            | catalogue::TransferSafeguard::Unspecified
                    )
            });
            match declared {
                Some((_, safeguard)) => (pb::TransferKind::Safeguarded, *safeguard),
                None => {
                    flags.push(pb::Flag::TransferWithoutSafeguard);
                    (
                        pb::TransferKind::Undeclared,
                        catalogue::TransferSafeguard::Unspecified,
                    )
                }
            }
        };
        if d.data_categories
            .iter()
            .any(|c| !self.category_keys.contains(c))
        {
            flags.push(pb::Flag::UndeclaredCategory);
        }
        pb::Classification {
            regular,
            transfer: transfer as i32,
            flags: flags.into_iter().map(|f| f as i32).collect(),
            safeguard: safeguard as i32,
        }
    }
}

/// Fetched versions by register id and version number.
type Known = HashMap<(String, u32), Arc<Declarations>>;

/// Register versions as the catalogue published them, remembered once fetched.
#[derive(Debug, Clone)]
pub struct Registers {
    catalogue: Option<Catalogue>,
    known: Arc<Mutex<Known>>,
}

impl Registers {
    pub fn new(catalogue: Option<Catalogue>) -> Self {
        Self {
            catalogue,
            known: Arc::default(),
        }
    }

    /// The declarations of a version that was published (current, superseded or retired).
    pub async fn version(&self, id: &str, version: u32) -> Result<Arc<Declarations>, ServiceError> {
        let key = (id.to_owned(), version);
        if let Some(known) = self.known.lock().expect("not poisoned").get(&key) {
            return Ok(known.clone());
        }
        let Some(client) = &self.catalogue else {
            return Err(ServiceError::Unavailable(
                "no catalogue endpoint is configured (disclosures.catalogue_endpoint)".into(),
            ));
        };
        let answer = client
            .clone()
            .get_register(catalogue::GetRegisterRequest {
                register_id: id.to_owned(),
                selector: catalogue::VersionSelector::Number as i32,
                version,
            })
            .await;
        let version_pb = match answer {
            Ok(r) => r.into_inner().version.unwrap_or_default(),
            Err(status) if status.code() == tonic::Code::NotFound => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "register {id} has no version {version} in the catalogue"
                )));
            }
            Err(status) => {
                tracing::warn!(register_id = %id, version, code = ?status.code(), message = status.message(), "cannot ask the catalogue about a register version");
                return Err(ServiceError::Unavailable(format!(
                    "the catalogue cannot be asked about register {id} version {version} now; retry"
                )));
            }
        };
        use catalogue::VersionState;
        match version_pb.state() {
            VersionState::Published | VersionState::Superseded | VersionState::Retired => {}
            _ => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "register {id} version {version} was never published: disclosures are made under a published declaration"
                )));
            }
        }
        let declarations = Arc::new(Declarations::of(&version_pb.content.unwrap_or_default()));
        self.known
            .lock()
            .expect("not poisoned")
            .insert(key, declarations.clone());
        Ok(declarations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use rekisteri_proto::catalogue::v1::LegalBasis;

    fn declarations() -> Declarations {
        Declarations::of(&catalogue::RegisterContent {
            name: "Asiakasrekisteri".into(),
            data_categories: vec![catalogue::DataCategory {
                key: "contact_details".into(),
                ..Default::default()
            }],
            disclosures: vec![
                catalogue::Disclosure {
                    recipient: "Perintätoimisto Saatava Oy (2135102-9)".into(),
                    ..Default::default()
                },
                catalogue::Disclosure {
                    recipient: "Posti Oy:n osoitepalvelu".into(),
                    ..Default::default()
                },
            ],
            transfers: vec![
                catalogue::ThirdCountryTransfer {
                    country_code: "US".into(),
                    safeguard: catalogue::TransferSafeguard::StandardContractualClauses as i32,
                    description: "Pilvipalvelu".into(),
                },
                catalogue::ThirdCountryTransfer {
                    country_code: "IN".into(),
                    safeguard: catalogue::TransferSafeguard::None as i32,
                    description: "Ei suojatoimia".into(),
                },
            ],
            ..Default::default()
        })
    }

    fn to(name: &str, business_id: &str, country: &str, categories: &[&str]) -> NewDisclosure {
        NewDisclosure {
            disclosure_id: None,
            recipient_name: name.into(),
            recipient_business_id: business_id.into(),
            recipient_country: country.into(),
            subject_ids: vec![],
            register_id: String::new(),
            register_version: 1,
            data_categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            purpose: "x".into(),
            legal_basis: LegalBasis::Contract,
            channel: pb::Channel::Api,
            disclosed_at: Utc::now(),
            disclosed_time_given: None,
        }
    }

    fn flags(c: &pb::Classification) -> Vec<pb::Flag> {
        c.flags
            .iter()
            .map(|f| pb::Flag::try_from(*f).unwrap())
            .collect()
    }

    #[test]
    fn declared_recipients_are_regular_by_name_or_business_id() {
        let d = declarations();
        for (name, business_id) in [
            ("Perintätoimisto Saatava Oy", ""),
            ("PERINTÄTOIMISTO SAATAVA OY", ""),
            ("Saatava", "2135102-9"),
            ("Posti Oy", ""),
        ] {
            let c = d.classify(&to(name, business_id, "FI", &["contact_details"]));
            assert!(c.regular, "{name} {business_id}");
            assert!(flags(&c).is_empty(), "{name}: {:?}", flags(&c));
            assert_eq!(c.transfer(), pb::TransferKind::WithinEea);
        }
        let c = d.classify(&to("Markkinointi Oy", "", "FI", &["contact_details"]));
        assert!(!c.regular);
        assert_eq!(flags(&c), [pb::Flag::IrregularDisclosure]);
        // Part of a word is not a name.
        let c = d.classify(&to("Post", "", "FI", &["contact_details"]));
        assert!(!c.regular, "a fragment of a declared name");
    }

    #[test]
    fn transfers_outside_the_eea_need_a_declared_safeguard() {
        let d = declarations();
        let c = d.classify(&to("Posti Oy", "", "US", &["contact_details"]));
        assert_eq!(c.transfer(), pb::TransferKind::Safeguarded);
        assert_eq!(
            c.safeguard(),
            catalogue::TransferSafeguard::StandardContractualClauses
        );
        for country in ["IN", "CN", "GB"] {
            let c = d.classify(&to("Posti Oy", "", country, &["contact_details"]));
            assert_eq!(c.transfer(), pb::TransferKind::Undeclared, "{country}");
            assert_eq!(flags(&c), [pb::Flag::TransferWithoutSafeguard], "{country}");
        }
        let c = d.classify(&to("Posti Oy", "", "NO", &["contact_details"]));
        assert_eq!(c.transfer(), pb::TransferKind::WithinEea);
    }

    #[test]
    fn undeclared_categories_are_flagged() {
        let c = declarations().classify(&to("Posti Oy", "", "FI", &["contact_details", "health"]));
        assert_eq!(flags(&c), [pb::Flag::UndeclaredCategory]);
    }
}
