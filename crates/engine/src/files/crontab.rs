//! Crontab import: a user crontab (`crontab -l`) or an `/etc/cron.d`-style file (with a user
//! field). Every line ends up either as a job or in the report of lines not imported, with
//! the reason.
//!
//! What is carried over: the five time fields (or an `@` macro) into a cron trigger; `SHELL`
//! into the script's interpreter; `PATH` and other `VAR=value` lines into the environment of
//! the jobs below them; `CRON_TZ`/`TZ` into the trigger's zone; `HOME` into the working
//! directory; the `%` rule (the first unescaped `%` ends the command, the rest, with each
//! further `%` as a line break, is its standard input; `\%` is a literal `%`). Cron runs jobs
//! side by side and never catches up, so imported jobs allow overlap and skip missed runs.

use serde::{Deserialize, Serialize};

use crate::domain::validate::NAME_MAX_CHARS;
use crate::domain::{
    CommandSpec, EnvVar, Interpreter, JobKind, JobSpec, MissedRunMode, OverlapPolicy, Program,
    Trigger,
};
use crate::schedule::CronSchedule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrontabFlavor {
    /// `crontab -e` format: five time fields, then the command.
    User,
    /// `/etc/crontab` and `/etc/cron.d/*`: five time fields, the user, then the command.
    System,
}

#[derive(Debug, Clone, Default)]
pub struct CrontabOptions {
    /// Shown in job names and descriptions (e.g. the file's path).
    pub source: String,
    /// IANA zone for the triggers (`None`: the system's), unless the file sets `CRON_TZ`.
    pub timezone: Option<String>,
}

/// One imported line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrontabJob {
    pub line: usize,
    pub text: String,
    /// The user field of a system crontab (jobs run as the Sundial user).
    pub user: Option<String>,
    pub spec: JobSpec,
}

/// A line that did not become a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLine {
    pub line: usize,
    pub text: String,
    pub kind: SkipKind,
    pub reason: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    Blank,
    Comment,
    /// A `VAR=value` line: applied to the jobs below it (or noted as not applicable).
    Variable,
    /// A valid crontab line Sundial has no equivalent for.
    Unsupported,
    /// A line that is not valid crontab syntax.
    Invalid,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrontabImport {
    pub jobs: Vec<CrontabJob>,
    pub skipped: Vec<SkippedLine>,
}

/// Splits a command at the first unescaped `%`: (command, standard input).
/// `\%` becomes `%`; in the input, each further unescaped `%` is a line break.
pub fn split_percent(command: &str) -> (String, Option<String>) {
    let mut cmd = String::new();
    let mut input: Option<String> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        let target = input.as_mut().unwrap_or(&mut cmd);
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                chars.next();
                target.push('%');
            }
            '%' => match input.as_mut() {
                None => input = Some(String::new()),
                Some(text) => text.push('\n'),
            },
            c => target.push(c),
        }
    }
    (cmd, input)
}

fn interpreter_for(shell: &str) -> Interpreter {
    match shell.rsplit('/').next().unwrap_or(shell) {
        "sh" => Interpreter::Sh,
        "bash" => Interpreter::Bash,
        _ => Interpreter::Custom(shell.to_string()),
    }
}

/// `NAME=value`, `NAME = value`, `NAME="value"`, `NAME='value'` (cron's own rules).
fn parse_variable(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim();
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || name.chars().next().is_some_and(|c| c.is_ascii_digit())
    {
        return None;
    }
    let value = value.trim();
    let value = if value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')))
    {
        &value[1..value.len() - 1]
    } else {
        value
    };
    Some((name.to_string(), value.to_string()))
}

/// Takes `n` whitespace-separated fields off the front of `s`; returns them and the rest.
fn take_fields(s: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut rest = s.trim_start();
    let mut fields = Vec::with_capacity(n);
    for _ in 0..n {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        fields.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Some((fields, rest))
}

fn short(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Reads a crontab. Never fails: what cannot be imported is in `skipped`.
pub fn parse_crontab(text: &str, flavor: CrontabFlavor, options: &CrontabOptions) -> CrontabImport {
    let mut out = CrontabImport::default();
    let mut shell = "/bin/sh".to_string();
    let mut env: Vec<EnvVar> = Vec::new();
    let mut home: Option<String> = None;
    let mut zone = options.timezone.clone();
    let source = if options.source.is_empty() {
        "crontab".to_string()
    } else {
        options.source.clone()
    };
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let line = raw.trim();
        let mut skip = |kind: SkipKind, reason: String| {
            out.skipped.push(SkippedLine {
                line: number,
                text: raw.to_string(),
                kind,
                reason,
            })
        };
        if line.is_empty() {
            skip(SkipKind::Blank, "blank line".into());
            continue;
        }
        if line.starts_with('#') {
            skip(SkipKind::Comment, "comment".into());
            continue;
        }
        if !line.starts_with('@')
            && !line.starts_with(|c: char| c.is_ascii_digit() || c == '*')
            && let Some((name, value)) = parse_variable(line)
        {
            let reason = match name.as_str() {
                "SHELL" => {
                    shell = value.clone();
                    format!("variable: the jobs below run their command with {value}")
                }
                "MAILTO" | "MAILFROM" => format!(
                    "variable {name} not applied: Sundial keeps each run's output in its run log instead of mailing it"
                ),
                "CRON_TZ" | "TZ" => {
                    zone = if value.is_empty() {
                        options.timezone.clone()
                    } else {
                        Some(value.clone())
                    };
                    format!("variable: the jobs below fire in time zone {value}")
                }
                _ => {
                    if name == "HOME" {
                        home = Some(value.clone());
                    }
                    env.retain(|v| v.name != name);
                    env.push(EnvVar::new(name.clone(), value.clone()));
                    format!("variable: {name} is set in the environment of the jobs below")
                }
            };
            skip(SkipKind::Variable, reason);
            continue;
        }
        // Time fields: an @ macro or five fields. `@reboot` runs when Sundial starts.
        let mut at_start = false;
        let (expr, rest) = if line.starts_with('@') {
            let (fields, rest) = take_fields(line, 1).unwrap_or((vec![line], ""));
            let word = fields[0].to_ascii_lowercase();
            match word.as_str() {
                "@reboot" => {
                    at_start = true;
                    (word, rest)
                }
                "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight"
                | "@hourly" => (word, rest),
                _ => {
                    skip(
                        SkipKind::Invalid,
                        format!(
                            "{} is not a cron shortcut: use @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly",
                            fields[0]
                        ),
                    );
                    continue;
                }
            }
        } else {
            match take_fields(line, 5) {
                Some((fields, rest)) => (fields.join(" "), rest),
                None => {
                    skip(
                        SkipKind::Invalid,
                        "is neither a job (five time fields, then the command), a VAR=value line nor a comment".into(),
                    );
                    continue;
                }
            }
        };
        if !at_start && let Err(e) = CronSchedule::parse(&expr) {
            skip(SkipKind::Invalid, format!("time fields {expr:?}: {e}"));
            continue;
        }
        let (user, command) = match flavor {
            CrontabFlavor::User => (None, rest),
            CrontabFlavor::System => match take_fields(rest, 1) {
                Some((user, command)) => (Some(user[0].to_string()), command),
                None => {
                    skip(
                        SkipKind::Invalid,
                        "has no user and command after the time fields (a system crontab line is: time fields, user, command)".into(),
                    );
                    continue;
                }
            },
        };
        if command.trim().is_empty() {
            skip(
                SkipKind::Invalid,
                "has no command after the time fields".into(),
            );
            continue;
        }
        let (cmd, input) = split_percent(command);
        let body = match input {
            None => cmd.clone(),
            Some(input) => {
                let mut delimiter = "SUNDIAL_STDIN".to_string();
                while input.lines().any(|l| l == delimiter) {
                    delimiter.push('_');
                }
                format!("(\n{cmd}\n) <<'{delimiter}'\n{input}\n{delimiter}\n")
            }
        };
        let mut description = format!("Imported from {source}, line {number}: {}", raw.trim());
        if let Some(user) = &user {
            description.push_str(&format!(
                "\nThe crontab ran it as user {user}; Sundial runs it as the user Sundial runs as."
            ));
        }
        let label = format!("{source}:{number} ");
        let name = format!(
            "{label}{}",
            short(&cmd, NAME_MAX_CHARS.saturating_sub(label.chars().count()))
        );
        let mut spec = JobSpec {
            name,
            description,
            tags: vec!["crontab".into()],
            enabled: true,
            kind: JobKind::Command(CommandSpec {
                program: Program::Script {
                    interpreter: interpreter_for(&shell),
                    body,
                },
                working_dir: home.clone(),
                env: env.clone(),
            }),
            trigger: if at_start {
                Trigger::AtStart { delay_secs: 0 }
            } else {
                Trigger::Cron {
                    expr,
                    timezone: zone.clone(),
                }
            },
            policies: Default::default(),
        };
        spec.policies.overlap = OverlapPolicy::Allow;
        spec.policies.missed.mode = MissedRunMode::Skip;
        out.jobs.push(CrontabJob {
            line: number,
            text: raw.to_string(),
            user,
            spec,
        });
    }
    out
}
