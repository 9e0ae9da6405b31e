//! Validation of a job spec: every problem at once, each tied to the field a form shows it by.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::job::{CommandSpec, HttpSpec, JobKind, JobSpec, Program};
use super::policy::Policies;
use super::trigger::Trigger;
use crate::schedule;

/// One problem with one field. `field` is a dotted path into [`JobSpec`]
/// (`name`, `trigger.expr`, `kind.env[2].name`, `policies.retry.max_attempts`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every problem found, in field order.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl ValidationErrors {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

pub const NAME_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
pub const TAG_MAX_CHARS: usize = 50;
pub const TAGS_MAX: usize = 20;
pub const TIMEOUT_MAX_SECS: u64 = 7 * 24 * 3600;
pub const INTERVAL_MAX_SECS: u64 = 366 * 24 * 3600;
pub const RETRY_MAX_ATTEMPTS: u32 = 100;
pub const RETRY_DELAY_MAX_SECS: u64 = 7 * 24 * 3600;
pub const CATCH_UP_MAX: u32 = 1000;
pub const GRACE_MAX_SECS: u64 = 7 * 24 * 3600;
/// Bounds of [`crate::domain::Conditions::max_wait_secs`]: a minute (the state is looked at
/// every few seconds, a shorter wait is hardly one) to a week.
pub const CONDITION_WAIT_MIN_SECS: u64 = 60;
pub const CONDITION_WAIT_MAX_SECS: u64 = 7 * 24 * 3600;
/// The longest random delay: a day.
pub const RANDOM_DELAY_MAX_SECS: u64 = 24 * 3600;
pub const HTTP_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/// Variables the runner sets itself; a job may not override them.
pub const RESERVED_ENV_PREFIX: &str = "SUNDIAL_";

/// Checks everything that can be checked from the spec alone. `previous` is the stored spec
/// when editing (a `once` time in the past is only an error when the trigger is new).
/// Checks that need other jobs (unique name, the upstream of an after-job trigger) are the
/// engine's.
pub fn validate_spec(
    spec: &JobSpec,
    now: DateTime<Utc>,
    previous: Option<&JobSpec>,
) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    validate_name(&spec.name, &mut errors);
    if spec.description.chars().count() > DESCRIPTION_MAX_CHARS {
        errors.push(
            "description",
            format!("is too long: at most {DESCRIPTION_MAX_CHARS} characters"),
        );
    }
    validate_tags(&spec.tags, &mut errors);
    match &spec.kind {
        JobKind::Command(c) => validate_command(c, &mut errors),
        JobKind::Http(h) => validate_http(h, &mut errors),
    }
    super::secrets::validate_secret_lengths(&spec.kind, &mut errors);
    let trigger_changed = previous.is_none_or(|p| p.trigger != spec.trigger);
    validate_trigger(&spec.trigger, now, trigger_changed, &mut errors);
    validate_policies(&spec.policies, &mut errors);
    errors.into_result()
}

fn validate_name(name: &str, errors: &mut ValidationErrors) {
    let trimmed = name.trim();
    let chars = trimmed.chars().count();
    if chars == 0 {
        errors.push("name", "is required");
    } else if chars > NAME_MAX_CHARS {
        errors.push(
            "name",
            format!("is {chars} characters long: at most {NAME_MAX_CHARS}"),
        );
    } else if trimmed != name {
        errors.push("name", "must not start or end with spaces");
    } else if name.chars().any(char::is_control) {
        errors.push(
            "name",
            "must not contain control characters (tabs, line breaks)",
        );
    }
}

fn validate_tags(tags: &[String], errors: &mut ValidationErrors) {
    if tags.len() > TAGS_MAX {
        errors.push(
            "tags",
            format!("has {} tags: at most {TAGS_MAX}", tags.len()),
        );
    }
    let mut seen = HashSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let field = format!("tags[{i}]");
        if tag.trim().is_empty() {
            errors.push(field, "is empty");
        } else if tag.chars().count() > TAG_MAX_CHARS {
            errors.push(
                field,
                format!("is too long: at most {TAG_MAX_CHARS} characters"),
            );
        } else if tag.chars().any(|c| c.is_control() || c == ',') {
            errors.push(field, "must not contain commas or control characters");
        } else if !seen.insert(tag.to_lowercase()) {
            errors.push(field, format!("repeats the tag {tag:?}"));
        }
    }
}

pub(crate) fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

fn validate_command(c: &CommandSpec, errors: &mut ValidationErrors) {
    match &c.program {
        Program::Exec { program, args } => {
            if program.trim().is_empty() {
                errors.push("kind.program.program", "is required: the program to run");
            } else if has_nul(program) {
                errors.push("kind.program.program", "must not contain a NUL character");
            }
            for (i, arg) in args.iter().enumerate() {
                if has_nul(arg) {
                    errors.push(
                        format!("kind.program.args[{i}]"),
                        "must not contain a NUL character",
                    );
                }
            }
        }
        Program::Script { interpreter, body } => {
            if let super::job::Interpreter::Custom(p) = interpreter
                && p.trim().is_empty()
            {
                errors.push(
                    "kind.program.interpreter",
                    "is required: a program name or path",
                );
            }
            if body.trim().is_empty() {
                errors.push("kind.program.body", "is empty: write the script to run");
            } else if has_nul(body) {
                errors.push("kind.program.body", "must not contain a NUL character");
            }
        }
    }
    if let Some(dir) = &c.working_dir {
        if dir.trim().is_empty() {
            errors.push(
                "kind.working_dir",
                "is blank: leave it unset for the home folder",
            );
        } else if has_nul(dir) {
            errors.push("kind.working_dir", "must not contain a NUL character");
        } else if !std::path::Path::new(dir).is_absolute() {
            errors.push(
                "kind.working_dir",
                format!("{dir:?} is not an absolute path"),
            );
        }
    }
    let mut seen = HashSet::new();
    for (i, var) in c.env.iter().enumerate() {
        let field = format!("kind.env[{i}].name");
        if let Some(why) = env_name_problem(&var.name) {
            errors.push(field, why);
        } else if !seen.insert(var.name.clone()) {
            errors.push(field, format!("{} is set twice", var.name));
        }
        if has_nul(&var.value) {
            errors.push(
                format!("kind.env[{i}].value"),
                "must not contain a NUL character",
            );
        }
    }
}

/// Why `name` cannot be set in a run's environment: not a variable name, or one of Sundial's
/// own (`SUNDIAL_*`). The job's environment and a run's overrides share the rule.
pub(crate) fn env_name_problem(name: &str) -> Option<String> {
    if !is_env_name(name) {
        Some(format!(
            "{name:?} is not a valid variable name: letters, digits and _, not starting with a digit"
        ))
    } else if name.to_ascii_uppercase().starts_with(RESERVED_ENV_PREFIX) {
        Some(format!("{name} is set by Sundial itself"))
    } else {
        None
    }
}

pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn validate_http(h: &HttpSpec, errors: &mut ValidationErrors) {
    if !HTTP_METHODS.contains(&h.method.as_str()) {
        errors.push(
            "kind.method",
            format!(
                "{:?} is not supported: use one of {}",
                h.method,
                HTTP_METHODS.join(", ")
            ),
        );
    }
    match url::Url::parse(&h.url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
            if u.host_str().is_none_or(str::is_empty) {
                errors.push("kind.url", "has no host");
            }
        }
        Ok(u) => errors.push(
            "kind.url",
            format!(
                "uses {}: only http and https URLs are supported",
                u.scheme()
            ),
        ),
        Err(e) => errors.push("kind.url", format!("is not a valid URL ({e})")),
    }
    for (i, header) in h.headers.iter().enumerate() {
        if !is_header_name(&header.name) {
            errors.push(
                format!("kind.headers[{i}].name"),
                format!("{:?} is not a valid header name", header.name),
            );
        }
        if header.value.contains(['\r', '\n', '\0']) {
            errors.push(
                format!("kind.headers[{i}].value"),
                "must not contain line breaks",
            );
        }
    }
    if let Some(path) = &h.ca_bundle
        && !std::path::Path::new(path.trim()).is_absolute()
    {
        errors.push(
            "kind.ca_bundle",
            format!("{path:?} is not an absolute path: name the PEM file of CA certificates by its full path, or leave the field empty"),
        );
    }
    let range = h.expect_status;
    if !(100..=599).contains(&range.min) || !(100..=599).contains(&range.max) {
        errors.push("kind.expect_status", "statuses go from 100 to 599");
    } else if range.min > range.max {
        errors.push(
            "kind.expect_status",
            format!(
                "the lowest status {} is above the highest {}",
                range.min, range.max
            ),
        );
    }
    if let Some(needle) = &h.body_contains
        && needle.is_empty()
    {
        errors.push(
            "kind.body_contains",
            "is empty: leave it unset to skip the check",
        );
    }
    if h.log_body_kib > 10 * 1024 {
        errors.push(
            "kind.log_body_kib",
            "at most 10240 KiB of the body can go into the log",
        );
    }
}

fn validate_trigger(
    trigger: &Trigger,
    now: DateTime<Utc>,
    trigger_changed: bool,
    errors: &mut ValidationErrors,
) {
    match trigger {
        Trigger::Cron { expr, timezone } => {
            let zone = match schedule::resolve_zone(timezone.as_deref()) {
                Ok(z) => Some(z),
                Err(message) => {
                    errors.push("trigger.timezone", message);
                    None
                }
            };
            match schedule::CronSchedule::parse(expr) {
                Ok(cron) => {
                    if let Some(zone) = zone
                        && cron.next_after(zone, now).is_none()
                    {
                        errors.push(
                            "trigger.expr",
                            "never fires: no date matches it (such as February 31st)",
                        );
                    }
                }
                Err(message) => errors.push("trigger.expr", message),
            }
        }
        Trigger::Interval { every, unit, .. } => {
            let secs = every.saturating_mul(unit.seconds());
            if *every == 0 {
                errors.push("trigger.every", "must be at least 1");
            } else if secs > INTERVAL_MAX_SECS {
                errors.push(
                    "trigger.every",
                    "is longer than a year: use a cron schedule",
                );
            }
        }
        Trigger::Once { at } => {
            if trigger_changed && *at < now {
                errors.push("trigger.at", format!("{} is in the past", at.to_rfc3339()));
            }
        }
        Trigger::AtStart { delay_secs } | Trigger::OnWake { delay_secs } => {
            if *delay_secs > crate::domain::trigger::EVENT_DELAY_MAX_SECS {
                errors.push(
                    "trigger.delay_secs",
                    format!(
                        "must be from 0 to {} seconds (a day); {delay_secs} is longer",
                        crate::domain::trigger::EVENT_DELAY_MAX_SECS
                    ),
                );
            }
        }
        Trigger::FileArrives {
            folder,
            glob,
            settle_secs,
        } => {
            use crate::domain::trigger::{FILE_SETTLE_MAX_SECS, FILE_SETTLE_MIN_SECS};
            let path = std::path::Path::new(folder.trim());
            if folder.trim().is_empty() {
                errors.push("trigger.folder", "is required: the folder to watch");
            } else if !path.is_absolute() {
                errors.push(
                    "trigger.folder",
                    format!("{folder:?} is not an absolute path: name the folder by its full path"),
                );
            } else if trigger_changed {
                match std::fs::metadata(path) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => errors.push(
                        "trigger.folder",
                        format!("{folder:?} is a file, not a folder"),
                    ),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => errors.push(
                        "trigger.folder",
                        format!("{folder:?} does not exist: create it first"),
                    ),
                    Err(e) => {
                        errors.push("trigger.folder", format!("{folder:?} cannot be read: {e}"))
                    }
                }
            }
            if let Err(message) = crate::domain::trigger::compile_glob(glob) {
                errors.push("trigger.glob", message);
            }
            if !(FILE_SETTLE_MIN_SECS..=FILE_SETTLE_MAX_SECS).contains(settle_secs) {
                errors.push(
                    "trigger.settle_secs",
                    format!(
                        "must be from {FILE_SETTLE_MIN_SECS} to {FILE_SETTLE_MAX_SECS} seconds (an hour); {settle_secs} is outside"
                    ),
                );
            }
        }
        Trigger::Manual | Trigger::AfterJob { .. } => {}
    }
}

fn validate_policies(p: &Policies, errors: &mut ValidationErrors) {
    if let Some(t) = p.timeout_secs
        && !(1..=TIMEOUT_MAX_SECS).contains(&t)
    {
        errors.push(
            "policies.timeout_secs",
            format!("must be from 1 second to {TIMEOUT_MAX_SECS} (7 days), or unset for no limit"),
        );
    }
    let r = &p.retry;
    if !(1..=RETRY_MAX_ATTEMPTS).contains(&r.max_attempts) {
        errors.push(
            "policies.retry.max_attempts",
            format!("must be from 1 (no retry) to {RETRY_MAX_ATTEMPTS}"),
        );
    }
    if r.initial_delay_secs > RETRY_DELAY_MAX_SECS {
        errors.push(
            "policies.retry.initial_delay_secs",
            "must be at most 7 days",
        );
    }
    if !(1.0..=10.0).contains(&r.multiplier) || r.multiplier.is_nan() {
        errors.push(
            "policies.retry.multiplier",
            "must be from 1 (constant) to 10",
        );
    }
    if r.max_delay_secs > RETRY_DELAY_MAX_SECS {
        errors.push("policies.retry.max_delay_secs", "must be at most 7 days");
    } else if r.max_delay_secs < r.initial_delay_secs {
        errors.push(
            "policies.retry.max_delay_secs",
            "must not be below the first delay (initial_delay_secs)",
        );
    }
    let m = &p.missed;
    if !(1..=CATCH_UP_MAX).contains(&m.max_catch_up) {
        errors.push(
            "policies.missed.max_catch_up",
            format!("must be from 1 to {CATCH_UP_MAX}"),
        );
    }
    if m.grace_secs > GRACE_MAX_SECS {
        errors.push("policies.missed.grace_secs", "must be at most 7 days");
    }
    let c = &p.conditions;
    // The wait matters only with a condition to wait for; an unused one is still checked so
    // that turning a condition on later cannot reveal a bad value.
    if !(CONDITION_WAIT_MIN_SECS..=CONDITION_WAIT_MAX_SECS).contains(&c.max_wait_secs) {
        errors.push(
            "policies.conditions.max_wait_secs",
            format!(
                "must be from {CONDITION_WAIT_MIN_SECS} seconds to {CONDITION_WAIT_MAX_SECS} (7 days); {} is outside",
                c.max_wait_secs
            ),
        );
    }
    if c.random_delay_secs > RANDOM_DELAY_MAX_SECS {
        errors.push(
            "policies.conditions.random_delay_secs",
            format!(
                "must be from 0 (none) to {RANDOM_DELAY_MAX_SECS} seconds (a day); {} is longer",
                c.random_delay_secs
            ),
        );
    }
}
