//! Run with parameters: environment values and extra arguments for one run (issue 16).
//!
//! The overrides are recorded on the run row (`runs.overrides`, migration 0009) and the runner
//! applies them from the run it is handed (values set after the job's own, arguments appended
//! after the program's or after the script), so a run queued by one process and started by
//! another (a retry re-armed by the next scheduler) runs with them too. Secret variables
//! cannot be overridden: their values would have to be stored with the run in clear
//! (decisions/0013); they are changed in the job's settings.

use serde::{Deserialize, Serialize};

use super::job::{Job, JobKind};
use super::validate::{ValidationErrors, env_name_problem, has_nul};

/// At most this many environment values and this many arguments in one run's overrides.
pub const MAX_OVERRIDE_ITEMS: usize = 64;
/// The longest environment value or argument taken, in bytes.
pub const MAX_OVERRIDE_VALUE_BYTES: usize = 8 * 1024;
/// The longest variable name taken, in bytes.
pub const MAX_OVERRIDE_NAME_BYTES: usize = 256;

/// One environment value set for one run (replacing the job's value or adding a variable).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvOverride {
    pub name: String,
    pub value: String,
}

impl EnvOverride {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// What one run changes from its job: environment values set and arguments appended (to the
/// program's arguments, or after the script for a script job). Only command and script jobs
/// take overrides; an HTTP job has neither an environment nor arguments.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOverrides {
    #[serde(default)]
    pub env: Vec<EnvOverride>,
    #[serde(default)]
    pub args: Vec<String>,
}

impl RunOverrides {
    pub fn is_empty(&self) -> bool {
        self.env.is_empty() && self.args.is_empty()
    }

    /// Every problem at once, with fields `env[i].name`, `env[i].value`, `args[i]`, `env`,
    /// `args`. `job` says which variables are secrets and whether the job takes any.
    pub fn validate(&self, job: &Job) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let command = match &job.spec.kind {
            JobKind::Command(c) => Some(c),
            JobKind::Http(_) => None,
        };
        if command.is_none() {
            if !self.env.is_empty() {
                errors.push(
                    "env",
                    "an HTTP job has no environment: environment values apply to command and script jobs only",
                );
            }
            if !self.args.is_empty() {
                errors.push(
                    "args",
                    "an HTTP job takes no arguments: arguments apply to command and script jobs only",
                );
            }
            return errors.into_result();
        }
        if self.env.len() > MAX_OVERRIDE_ITEMS {
            errors.push(
                "env",
                format!(
                    "{} values is too many: at most {MAX_OVERRIDE_ITEMS} for one run",
                    self.env.len()
                ),
            );
        }
        if self.args.len() > MAX_OVERRIDE_ITEMS {
            errors.push(
                "args",
                format!(
                    "{} arguments is too many: at most {MAX_OVERRIDE_ITEMS} for one run",
                    self.args.len()
                ),
            );
        }
        let secrets: Vec<&str> = command
            .map(|c| {
                c.env
                    .iter()
                    .filter(|v| v.secret)
                    .map(|v| v.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        for (i, var) in self.env.iter().enumerate() {
            let field = format!("env[{i}].name");
            if var.name.len() > MAX_OVERRIDE_NAME_BYTES {
                errors.push(
                    field,
                    format!("is too long: at most {MAX_OVERRIDE_NAME_BYTES} bytes"),
                );
            } else if let Some(why) = env_name_problem(&var.name) {
                errors.push(field, why);
            } else if secrets.contains(&var.name.as_str()) {
                errors.push(
                    field,
                    format!(
                        "{} is a secret: a secret is not overridden for one run (its value would be kept with the run); change it in the job's settings",
                        var.name
                    ),
                );
            } else if !seen.insert(var.name.as_str()) {
                errors.push(field, format!("{} is set twice", var.name));
            }
            let field = format!("env[{i}].value");
            if var.value.len() > MAX_OVERRIDE_VALUE_BYTES {
                errors.push(
                    field,
                    format!(
                        "is {} bytes long: at most {MAX_OVERRIDE_VALUE_BYTES}",
                        var.value.len()
                    ),
                );
            } else if has_nul(&var.value) {
                errors.push(field, "must not contain a NUL character");
            }
        }
        for (i, arg) in self.args.iter().enumerate() {
            let field = format!("args[{i}]");
            if arg.len() > MAX_OVERRIDE_VALUE_BYTES {
                errors.push(
                    field,
                    format!(
                        "is {} bytes long: at most {MAX_OVERRIDE_VALUE_BYTES}",
                        arg.len()
                    ),
                );
            } else if has_nul(arg) {
                errors.push(field, "must not contain a NUL character");
            }
        }
        errors.into_result()
    }

    /// A short note for history: `with LEVEL=debug, +2 args`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .env
            .iter()
            .map(|v| format!("{}={}", v.name, v.value))
            .collect();
        match self.args.len() {
            0 => {}
            1 => parts.push(format!("+ {}", self.args[0])),
            n => parts.push(format!("+{n} args")),
        }
        format!("with {}", parts.join(", "))
    }
}
