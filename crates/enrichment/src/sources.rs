//! The configured sources, each an adapter behind the same resilience, and whether a register
//! declares one of them as a regular source.

use std::sync::Arc;

use rekisteri_proto::catalogue::v1 as catalogue;

use crate::adapters::{self, Adapter, normalise};
use crate::config::{EnrichmentConfig, SourceConfig};
use crate::resilience::Guarded;

/// One source: its name, what it supplies, how registers name it, and the guarded adapter.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub supplies: String,
    /// As configured, for display.
    pub declared_as: Vec<String>,
    normalised: Vec<String>,
    pub guarded: Guarded,
}

impl Source {
    pub fn new(
        name: &str,
        config: &SourceConfig,
        adapter: Arc<dyn Adapter>,
    ) -> anyhow::Result<Self> {
        if config.declared_as.iter().all(|d| normalise(d).is_empty()) {
            anyhow::bail!(
                "enrichment.{name}.declared_as: name at least one word by which registers declare this source (its organisation, e.g. \"PRH\")"
            );
        }
        Ok(Self {
            name: name.to_owned(),
            supplies: config.supplies.clone(),
            declared_as: config.declared_as.clone(),
            normalised: config
                .declared_as
                .iter()
                .map(|d| normalise(d))
                .filter(|d| !d.is_empty())
                .collect(),
            guarded: Guarded::new(adapter, config.policy(name)?),
        })
    }

    pub fn kind(&self) -> &'static str {
        self.guarded.adapter().kind()
    }

    /// Whether this external source of a register names this source: one of its words (as
    /// whole words) in the organisation's name or business ID.
    pub fn is_declared_by(&self, declared: &catalogue::DataSource) -> bool {
        if declared.kind() != catalogue::DataSourceKind::External {
            return false;
        }
        let text = format!(
            " {} {} ",
            normalise(&declared.organisation_name),
            normalise(
                &declared
                    .organisation_business_id
                    .as_ref()
                    .map(|b| b.value.clone())
                    .unwrap_or_default()
            )
        );
        self.normalised
            .iter()
            .any(|words| text.contains(&format!(" {words} ")))
    }
}

/// Every enabled source.
#[derive(Debug, Clone, Default)]
pub struct Sources(Arc<Vec<Source>>);

impl Sources {
    pub fn new(sources: Vec<Source>) -> Self {
        Self(Arc::new(sources))
    }

    pub fn from_config(config: &EnrichmentConfig) -> anyhow::Result<Self> {
        let mut sources = Vec::new();
        let client = |name: &str, c: &SourceConfig| -> anyhow::Result<reqwest::Client> {
            adapters::http_client(c.policy(name)?.timeout)
        };
        if config.prh.enabled {
            let c = &config.prh;
            let base = c.url("prh", "base_url", &c.base_url)?;
            let adapter = adapters::prh::Prh::new(client("prh", c)?, &base);
            sources.push(Source::new("prh", c, Arc::new(adapter))?);
        }
        if config.credit.enabled {
            let c = &config.credit;
            let target = match c.target.as_str() {
                "demo" => c.secure_url("credit", "demo_url", &c.demo_url)?,
                "production" => c.secure_url("credit", "production_url", &c.production_url)?,
                other => anyhow::bail!("enrichment.credit.target `{other}`: demo or production"),
            };
            let adapter = adapters::credit::Credit::new(
                client("credit", c)?,
                &target,
                c.required("credit", "user_id", &c.user_id)?.to_owned(),
                c.required("credit", "end_user", &c.end_user)?.to_owned(),
                c.secret("credit", "key", &c.key)?.clone(),
            );
            sources.push(Source::new("credit", c, Arc::new(adapter))?);
        }
        if config.contacts.enabled {
            let c = &config.contacts;
            let adapter = adapters::contacts::Contacts::new(
                client("contacts", c)?,
                &c.secure_url("contacts", "base_url", &c.base_url)?,
                c.secure_url("contacts", "token_url", &c.token_url)?,
                c.required("contacts", "client_id", &c.client_id)?
                    .to_owned(),
                c.secret("contacts", "client_secret", &c.client_secret)?
                    .clone(),
            );
            sources.push(Source::new("contacts", c, Arc::new(adapter))?);
        }
        if config.opt_out.enabled {
            let c = &config.opt_out;
            let path = c.required("opt_out", "path", &c.path)?;
            let adapter = adapters::opt_out::OptOut::load(path.into())?;
            sources.push(Source::new("opt_out", c, Arc::new(adapter))?);
        }
        for (name, c) in &config.external {
            if !c.enabled {
                continue;
            }
            if ["prh", "credit", "contacts", "opt_out"].contains(&name.as_str()) {
                anyhow::bail!("enrichment.external.{name}: the name of a built-in source");
            }
            let section = format!("external.{name}");
            let address = if c.allow_plaintext {
                c.url(&section, "base_url", &c.base_url)?
            } else {
                c.secure_url(&section, "base_url", &c.base_url)?
            };
            let adapter = adapters::external::External::connect(
                name,
                address.as_str(),
                c.token.as_ref().map(|t| t.expose()),
                c.policy(&section)?.timeout,
            )?;
            sources.push(Source::new(name, c, Arc::new(adapter))?);
        }
        Ok(Self::new(sources))
    }

    /// Each source and its circuit breaker, for the service's status.
    pub fn report(&self) -> Vec<rekisteri_platform::operations::Dependency> {
        use crate::resilience::Circuit;
        self.0
            .iter()
            .map(|s| {
                let (circuit, last_error) = s.guarded.circuit();
                rekisteri_platform::operations::Dependency {
                    name: format!("source {}", s.name),
                    state: match circuit {
                        Circuit::Closed => "circuit closed",
                        Circuit::Open => "circuit OPEN",
                        Circuit::HalfOpen => "circuit half-open",
                    }
                    .into(),
                    detail: if circuit == Circuit::Closed {
                        String::new()
                    } else {
                        last_error.unwrap_or_default()
                    },
                }
            })
            .collect()
    }

    pub fn all(&self) -> &[Source] {
        &self.0
    }

    pub fn by_name(&self, name: &str) -> Option<&Source> {
        self.0.iter().find(|s| s.name == name)
    }

    /// The enabled source of a kind (built-in kinds have one each).
    pub fn by_kind(&self, kind: &str) -> Option<&Source> {
        self.0.iter().find(|s| s.kind() == kind)
    }
}
