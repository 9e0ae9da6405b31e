//! The error every command returns: `{code, message, fields?}`, so the UI branches on `code`
//! and shows `fields` next to their inputs, never matching on message text.

use serde::Serialize;
use sundial_engine::EngineError;
use sundial_engine::domain::{FieldError, InvalidId, ValidationErrors};
use sundial_engine::logs::LogError;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    Invalid,
    Conflict,
    Io,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub fields: Option<Vec<FieldError>>,
}

pub type CmdResult<T> = Result<T, IpcError>;

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: None,
        }
    }

    /// A single invalid input, reported against `field`.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = ValidationErrors::default();
        errors.push(field, message.into());
        errors.into()
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

impl From<EngineError> for IpcError {
    fn from(e: EngineError) -> Self {
        let code = match e.code() {
            "not_found" => ErrorCode::NotFound,
            "invalid" => ErrorCode::Invalid,
            "conflict" => ErrorCode::Conflict,
            "io" => ErrorCode::Io,
            _ => ErrorCode::Internal,
        };
        Self {
            code,
            message: e.to_string(),
            fields: e.field_errors().map(|errors| errors.0.clone()),
        }
    }
}

impl From<ValidationErrors> for IpcError {
    fn from(e: ValidationErrors) -> Self {
        EngineError::from(e).into()
    }
}

impl From<InvalidId> for IpcError {
    fn from(e: InvalidId) -> Self {
        EngineError::from(e).into()
    }
}

impl From<LogError> for IpcError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::NotFound(_) | LogError::NoAppLog(_) => {
                Self::new(ErrorCode::NotFound, e.to_string())
            }
            LogError::NotADay(_) => Self::invalid_field("source.day", e.to_string()),
            LogError::InvalidRunId(id) => id.into(),
            LogError::Pattern(_) => Self::invalid_field("pattern", e.to_string()),
            LogError::Live(_) => Self::new(ErrorCode::Conflict, e.to_string()),
            LogError::Read { .. } | LogError::Write { .. } | LogError::DiskFull { .. } => {
                Self::new(ErrorCode::Io, e.to_string())
            }
        }
    }
}
