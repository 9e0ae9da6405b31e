//! Errors the engine returns to its callers (the desktop shell, the CLI).

use crate::domain::{InvalidId, ValidationErrors};
use crate::logs::LogError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{what} was not found")]
    NotFound { what: String },
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("the engine has stopped")]
    Stopped,
}

impl EngineError {
    /// A stable code a UI can branch on: not_found, invalid, conflict, io, internal.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotFound { .. } => "not_found",
            EngineError::Invalid(_) => "invalid",
            EngineError::Conflict(_) => "conflict",
            EngineError::Store(StoreError::DatabaseTooNew { .. }) => "conflict",
            EngineError::Store(_) => "io",
            EngineError::Log(LogError::NotFound(_) | LogError::NoAppLog(_)) => "not_found",
            EngineError::Log(
                LogError::InvalidRunId(_) | LogError::Pattern(_) | LogError::NotADay(_),
            ) => "invalid",
            EngineError::Log(LogError::Live(_)) => "conflict",
            EngineError::Log(_) => "io",
            EngineError::Stopped => "internal",
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        EngineError::NotFound { what: what.into() }
    }

    /// The field errors, when this is a validation failure.
    pub fn field_errors(&self) -> Option<&ValidationErrors> {
        match self {
            EngineError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

impl From<ValidationErrors> for EngineError {
    fn from(e: ValidationErrors) -> Self {
        EngineError::Invalid(e)
    }
}

impl From<InvalidId> for EngineError {
    fn from(e: InvalidId) -> Self {
        let mut errors = ValidationErrors::default();
        errors.push("id", e.to_string());
        EngineError::Invalid(errors)
    }
}
