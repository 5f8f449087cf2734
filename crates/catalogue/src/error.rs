//! What can go wrong in the catalogue, in its own words; mapped to `tonic::Status` through the
//! platform's [`ServiceError`], so that every service answers the same way.

use rekisteri_platform::error::{FieldViolations, ServiceError};
use rekisteri_register::Violations;
use tonic::Status;

use crate::convert;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The request's own values, every problem at once (paths of the request).
    #[error("invalid argument")]
    Invalid(FieldViolations),
    /// What publishing needs and the draft lacks (paths of the register's content).
    /// With the register's translation languages, in the order the API lists them.
    #[error("the draft is not complete enough to publish")]
    Incomplete(Violations, Vec<String>),
    /// The content as it would be stored breaks the register's rules (paths of the content).
    #[error("the content breaks the register's rules")]
    Refused(Violations, Vec<String>),
    #[error("register {0} does not exist")]
    NoRegister(String),
    #[error("register {id} has no version {version}")]
    NoVersion { id: String, version: i32 },
    #[error("register {0} has no published version yet; ask for its draft or latest version")]
    NothingPublished(String),
    #[error("register {0} has no published version to render")]
    NothingToRender(String),
    #[error(
        "version {version} of register {id} was never published; only published versions have a public notice"
    )]
    NeverPublished { id: String, version: i32 },
    #[error("register {0} has no draft")]
    NoDraft(String),
    #[error("register {id} has no draft to publish: version {version} is already {state}")]
    NothingToPublish {
        id: String,
        version: i32,
        state: &'static str,
    },
    #[error("register {id} is retired; it cannot be {doing}")]
    Retired { id: String, doing: String },
    #[error(
        "register {id} changed since it was read (etag {read}, now {current}); read it again and retry"
    )]
    StaleEtag {
        id: String,
        read: String,
        current: String,
    },
    #[error("register {id} is at version {current}, not {expected}; read it again and retry")]
    StaleVersion {
        id: String,
        current: i32,
        expected: u32,
    },
    #[error("the draft of register {id} is version {current}, not {expected}")]
    StaleDraft {
        id: String,
        current: i32,
        expected: u32,
    },
    #[error("register {0} was changed by someone else meanwhile; read it again and retry")]
    ChangedMeanwhile(String),
    #[error("stored content of register {id} version {version} does not parse")]
    Corrupt {
        id: String,
        version: i32,
        #[source]
        source: serde_json::Error,
    },
    #[error("database")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl CatalogueError {
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        let mut v = FieldViolations::new();
        v.add(field, description);
        Self::Invalid(v)
    }
}

impl From<CatalogueError> for ServiceError {
    fn from(err: CatalogueError) -> Self {
        use CatalogueError as E;
        let message = err.to_string();
        match err {
            E::Invalid(v) => ServiceError::InvalidArgument(v),
            E::Incomplete(v, translations) | E::Refused(v, translations) => {
                ServiceError::InvalidArgument(convert::violations_pb("content", v, translations))
            }
            E::NoRegister(_) | E::NoVersion { .. } | E::NothingPublished(_) | E::NoDraft(_) => {
                ServiceError::NotFound(message)
            }
            E::NothingToRender(_)
            | E::NeverPublished { .. }
            | E::NothingToPublish { .. }
            | E::Retired { .. } => ServiceError::FailedPrecondition(message),
            E::StaleEtag { .. }
            | E::StaleVersion { .. }
            | E::StaleDraft { .. }
            | E::ChangedMeanwhile(_) => ServiceError::Aborted(message),
            E::Corrupt { .. } => ServiceError::Internal(anyhow::Error::new(err)),
            E::Database(e) => e.into(),
            E::Internal(e) => ServiceError::Internal(e),
        }
    }
}

impl From<CatalogueError> for Status {
    fn from(err: CatalogueError) -> Self {
        ServiceError::from(err).into()
    }
}
