//! Where a register and each of its versions stand, and the moves between those states.
//!
//! A register is a draft until its first version is published, then published (each publication
//! supersedes the previous version), and finally retired, which is for good. A version is a draft
//! until published; a published version's content never changes, only its state moves on.

use crate::error::CatalogueError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterStatus {
    Draft,
    Published,
    Retired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    Draft,
    Published,
    Superseded,
    Retired,
    /// A draft left behind when its register was retired.
    Abandoned,
}

impl RegisterStatus {
    /// As stored in `registers.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Retired => "retired",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Draft, Self::Published, Self::Retired]
            .into_iter()
            .find(|s| s.as_str() == stored)
    }

    /// Editing, publishing and retiring all need a register that is not retired; `doing` says what
    /// was refused ("edited", "published", "retired again").
    pub fn ensure_open(self, id: &str, doing: &str) -> Result<(), CatalogueError> {
        if self == Self::Retired {
            return Err(CatalogueError::Retired {
                id: id.to_owned(),
                doing: doing.to_owned(),
            });
        }
        Ok(())
    }
}

impl VersionState {
    /// As stored in `register_versions.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Superseded => "superseded",
            Self::Retired => "retired",
            Self::Abandoned => "abandoned",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Published,
            Self::Superseded,
            Self::Retired,
            Self::Abandoned,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
    }

    /// What becomes of a version when its register is retired: the published one is retired with
    /// it, a pending draft is abandoned; older versions keep their state.
    pub fn on_retire(self) -> Option<Self> {
        match self {
            Self::Published => Some(Self::Retired),
            Self::Draft => Some(Self::Abandoned),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_back() {
        for s in [
            RegisterStatus::Draft,
            RegisterStatus::Published,
            RegisterStatus::Retired,
        ] {
            assert_eq!(RegisterStatus::parse(s.as_str()), Some(s));
        }
        for s in [
            VersionState::Draft,
            VersionState::Published,
            VersionState::Superseded,
            VersionState::Retired,
            VersionState::Abandoned,
        ] {
            assert_eq!(VersionState::parse(s.as_str()), Some(s));
        }
        assert_eq!(RegisterStatus::parse("archived"), None);
    }

    #[test]
    fn retiring_retires_the_published_version_and_abandons_the_draft() {
        assert_eq!(
            VersionState::Published.on_retire(),
            Some(VersionState::Retired)
        );
        assert_eq!(
            VersionState::Draft.on_retire(),
            Some(VersionState::Abandoned)
        );
        assert_eq!(VersionState::Superseded.on_retire(), None);
        assert!(RegisterStatus::Retired.ensure_open("r", "edit").is_err());
        assert!(RegisterStatus::Published.ensure_open("r", "edit").is_ok());
    }
}
