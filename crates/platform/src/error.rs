//! The one mapping from failures to `tonic::Status`.
//!
//! Services define their own `thiserror` enum and convert it with [`ServiceError`]: validation
//! failures become `INVALID_ARGUMENT` with `google.rpc.BadRequest` field violations, internal
//! errors are logged with their whole chain and returned opaque.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Validation failures collected over a whole request, so that a caller sees every problem at
/// once. Field paths use the request's proto field names, e.g. `content.controller.business_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldViolations(Vec<(String, String)>);

impl FieldViolations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push((field.into(), description.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(f, d)| (f.as_str(), d.as_str()))
    }

    /// `Ok(value)` when nothing was violated.
    pub fn into_result<T>(self, value: T) -> Result<T, ServiceError> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(ServiceError::InvalidArgument(self))
        }
    }
}

/// The failures every service can report.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid argument: {}", summary(.0))]
    InvalidArgument(FieldViolations),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    /// FAILED_PRECONDITION with `google.rpc.PreconditionFailure` details, one violation per
    /// `(type, subject, description)`, so that programs see what to change without parsing text.
    #[error("{message}")]
    PreconditionsFailed {
        message: String,
        violations: Vec<(String, String, String)>,
    },
    /// What the call would create exists already (the message names it).
    #[error("{0}")]
    AlreadyExists(String),
    /// A concurrent change won (optimistic concurrency).
    #[error("{0}")]
    Aborted(String),
    /// A dependency (another service) cannot be reached now; the caller may retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn summary(violations: &FieldViolations) -> String {
    violations
        .iter()
        .map(|(f, d)| format!("{f}: {d}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(err: sea_orm::DbErr) -> Self {
        ServiceError::Internal(anyhow::Error::new(err).context("database"))
    }
}

impl From<ServiceError> for Status {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for (field, description) in violations.iter() {
                    details.add_bad_request_violation(field, description);
                }
                let message = format!("invalid argument: {}", summary(&violations));
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ServiceError::NotFound(m) => Status::not_found(m),
            ServiceError::FailedPrecondition(m) => Status::failed_precondition(m),
            ServiceError::PreconditionsFailed {
                message,
                violations,
            } => {
                let mut details = ErrorDetails::new();
                for (kind, subject, description) in &violations {
                    details.add_precondition_failure_violation(kind, subject, description);
                }
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            ServiceError::Aborted(m) => Status::aborted(m),
            ServiceError::AlreadyExists(m) => Status::already_exists(m),
            ServiceError::Unavailable(m) => Status::unavailable(m),
            ServiceError::PermissionDenied(m) => Status::permission_denied(m),
            ServiceError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                Status::internal("internal error; the server log has the details")
            }
        }
    }
}

/// The precondition violations carried by a status, as `(type, subject, description)`.
pub fn precondition_violations(status: &Status) -> Vec<(String, String, String)> {
    status
        .get_details_precondition_failure()
        .map(|pf| {
            pf.violations
                .into_iter()
                .map(|v| (v.r#type, v.subject, v.description))
                .collect()
        })
        .unwrap_or_default()
}

/// The field violations carried by a status, as `(field, description)` pairs (for clients and tests).
pub fn field_violations(status: &Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .map(|br| {
            br.field_violations
                .into_iter()
                .map(|v| (v.field, v.description))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_every_violation() {
        let mut v = FieldViolations::new();
        v.add("content.name", "required");
        v.add("content.purposes", "at least one purpose");
        let status = Status::from(ServiceError::InvalidArgument(v));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            field_violations(&status),
            vec![
                ("content.name".to_string(), "required".to_string()),
                (
                    "content.purposes".to_string(),
                    "at least one purpose".to_string()
                )
            ]
        );
    }

    #[test]
    fn internal_errors_are_opaque() {
        let err = anyhow::anyhow!("password=hunter2 rejected").context("connecting");
        let status = Status::from(ServiceError::Internal(err));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("hunter2"));
    }
}
