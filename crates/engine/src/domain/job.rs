//! What a user defines: a job, what it runs, when, and under which policies.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::JobId;
use super::policy::Policies;
use super::trigger::Trigger;

/// The part of a job a user edits. Everything here round-trips through the editor and job files.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default = "default_true")]
    pub enabled: bool,
    pub kind: JobKind,
    pub trigger: Trigger,
    #[serde(default)]
    pub policies: Policies,
}

fn default_true() -> bool {
    true
}

/// A stored job: the spec plus what the engine keeps about it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    /// Incremented by every edit; each run records the revision it ran.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub spec: JobSpec,
}

impl Job {
    /// A copy safe to show or log: secret values replaced by [`SECRET_MASK`].
    pub fn masked(&self) -> Job {
        let mut job = self.clone();
        job.spec.kind.mask_secrets();
        job
    }
}

/// What a run of the job does.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobKind {
    Command(CommandSpec),
    Http(HttpSpec),
}

impl JobKind {
    pub fn mask_secrets(&mut self) {
        match self {
            JobKind::Command(c) => c.env.iter_mut().for_each(EnvVar::mask),
            JobKind::Http(h) => h.headers.iter_mut().for_each(EnvVar::mask),
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    pub program: Program,
    /// Working directory; `None` means the user's home directory.
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
}

/// Either an executable with arguments (no shell involved) or a script body for an interpreter.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Program {
    Exec {
        program: String,
        #[serde(default)]
        args: Vec<String>,
    },
    Script {
        interpreter: Interpreter,
        body: String,
    },
}

/// Interpreters a script body can be run with. `Custom` takes a program name or path.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpreter {
    Sh,
    Bash,
    Python,
    Node,
    Pwsh,
    Cmd,
    Custom(String),
}

impl Interpreter {
    pub fn label(&self) -> &str {
        match self {
            Interpreter::Sh => "sh",
            Interpreter::Bash => "bash",
            Interpreter::Python => "python",
            Interpreter::Node => "node",
            Interpreter::Pwsh => "pwsh",
            Interpreter::Cmd => "cmd",
            Interpreter::Custom(p) => p,
        }
    }
}

/// Replaces a secret value wherever a job is shown or logged.
pub const SECRET_MASK: &str = "••••••";

/// A name/value pair (environment variable or HTTP header). Secret values are masked in
/// `Debug` output, in [`Job::masked`] and in run logs.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub secret: bool,
}

impl EnvVar {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            secret: false,
        }
    }
    pub fn secret(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            secret: true,
        }
    }
    pub fn shown_value(&self) -> &str {
        if self.secret {
            SECRET_MASK
        } else {
            &self.value
        }
    }
    fn mask(&mut self) {
        if self.secret {
            self.value = SECRET_MASK.to_string();
        }
    }
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVar")
            .field("name", &self.name)
            .field("value", &self.shown_value())
            .field("secret", &self.secret)
            .finish()
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    #[serde(default = "default_method")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<EnvVar>,
    #[serde(default)]
    pub body: Option<String>,
    /// Inclusive range of HTTP statuses that count as success.
    #[serde(default)]
    pub expect_status: StatusRange,
    /// When set, the response body must contain this text for the run to succeed.
    #[serde(default)]
    pub body_contains: Option<String>,
    /// How much of the response body goes into the run log.
    #[serde(default = "default_body_log_kib")]
    pub log_body_kib: u32,
    /// A PEM file of CA certificates trusted for this job on top of the system's trust store
    /// (and of the extra bundle in Settings): an intranet API's corporate CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub ca_bundle: Option<String>,
}

fn default_method() -> String {
    "GET".to_string()
}

fn default_body_log_kib() -> u32 {
    64
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRange {
    pub min: u16,
    pub max: u16,
}

impl Default for StatusRange {
    fn default() -> Self {
        Self { min: 200, max: 299 }
    }
}

impl StatusRange {
    pub fn contains(&self, status: u16) -> bool {
        (self.min..=self.max).contains(&status)
    }
}
