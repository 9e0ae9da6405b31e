//! What a run hands to the runs chained after it (pipelines that pass data): the upstream run's
//! identity and outcome, and the `key=value` lines it wrote to the file named by
//! `SUNDIAL_OUTPUT`. Pure rules; the runner reads the file, the scheduler builds the values a
//! chained run is given, the store keeps both.

use serde::{Deserialize, Serialize};

use super::run::{Run, RunStatus};

/// The environment variable naming the file a run may write `key=value` lines to.
pub const OUTPUT_ENV: &str = "SUNDIAL_OUTPUT";
/// Prefix of the variables a chained run gets from its upstream's output lines.
pub const OUTPUT_PREFIX: &str = "SUNDIAL_OUTPUT_";
/// At most this much of an output file is read.
pub const OUTPUT_MAX_BYTES: usize = 64 * 1024;
/// At most this many values are kept from one run's output.
pub const OUTPUT_MAX_VALUES: usize = 100;
/// Longest key.
pub const OUTPUT_KEY_MAX: usize = 64;
/// Longest value, in bytes.
pub const OUTPUT_VALUE_MAX: usize = 4096;

/// One named value: an output a run wrote, or a variable a chained run was given.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunValue {
    pub key: String,
    pub value: String,
}

impl RunValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// What a run wrote for the runs after it, and what its upstream gave it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunValues {
    /// The `key=value` lines of its `SUNDIAL_OUTPUT` file (keys in upper case).
    pub output: Vec<RunValue>,
    /// The variables it was given by the run it was chained after (for a retry: those of
    /// its first attempt).
    pub passed: Vec<RunValue>,
}

/// Which of a run's values: what it wrote, or what it was given by its upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunValueKind {
    Output,
    Passed,
}

impl RunValueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Output => "output",
            Self::Passed => "passed",
        }
    }
}

/// The values read from an output file, and a sentence for each line that was not taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedOutput {
    pub values: Vec<RunValue>,
    pub ignored: Vec<String>,
}

/// Reads `key=value` lines (the format of GitHub Actions' `GITHUB_OUTPUT` without heredocs).
/// Blank lines and lines starting with `#` are skipped; a key is a letter or `_` followed by
/// letters, digits or `_` (at most 64), and names the variable `SUNDIAL_OUTPUT_<KEY>` in
/// upper case, so keys differing only in case are the same key: the last line of a key wins.
/// `truncated`: the file was longer than what was read (said once, after the lines).
pub fn parse_output(text: &str, truncated: bool) -> ParsedOutput {
    let mut parsed = ParsedOutput::default();
    let mut dropped = 0usize;
    let lines: Vec<&str> = text.split('\n').collect();
    let complete = if truncated {
        // The last line read may be cut short: it is not taken.
        lines.len().saturating_sub(1)
    } else {
        lines.len()
    };
    for (i, raw) in lines.iter().take(complete).enumerate() {
        let number = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            parsed
                .ignored
                .push(format!("line {number} has no `=` (expected key=value)"));
            continue;
        };
        let key = key.trim();
        if let Err(why) = check_key(key) {
            parsed.ignored.push(format!("line {number}: {why}"));
            continue;
        }
        if value.len() > OUTPUT_VALUE_MAX {
            parsed.ignored.push(format!(
                "line {number}: the value of {key} is {} bytes long (at most {OUTPUT_VALUE_MAX})",
                value.len()
            ));
            continue;
        }
        let key = key.to_ascii_uppercase();
        if let Some(old) = parsed.values.iter_mut().find(|v| v.key == key) {
            old.value = value.to_string();
        } else if parsed.values.len() < OUTPUT_MAX_VALUES {
            parsed.values.push(RunValue::new(key, value));
        } else {
            dropped += 1;
        }
    }
    if dropped > 0 {
        parsed.ignored.push(format!(
            "{dropped} more key{} not kept (at most {OUTPUT_MAX_VALUES} values)",
            if dropped == 1 { " was" } else { "s were" }
        ));
    }
    if truncated {
        parsed.ignored.push(format!(
            "only the first {} KiB of the file were read",
            OUTPUT_MAX_BYTES / 1024
        ));
    }
    parsed
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key before `=` is empty".into());
    }
    if key.len() > OUTPUT_KEY_MAX {
        return Err(format!(
            "the key {key} is longer than {OUTPUT_KEY_MAX} characters"
        ));
    }
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "the key {key} is not a name (letters, digits and _, not starting with a digit)"
        ));
    }
    Ok(())
}

/// What ended upstream, as a chained run sees it.
pub struct Upstream<'a> {
    pub run: &'a Run,
    pub job_name: &'a str,
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub http_status: Option<u16>,
    /// Its log file, where logs are kept.
    pub log_path: Option<String>,
    pub outputs: &'a [RunValue],
}

/// The variables a run chained after `upstream` is given: `SUNDIAL_UPSTREAM_RUN_ID`,
/// `_JOB_ID`, `_JOB_NAME`, `_STATUS`, `_EXIT_CODE` and `_HTTP_STATUS` (when there is one),
/// `_LOG` (the log file), then `SUNDIAL_OUTPUT_<KEY>` for each output line.
pub fn passed_values(upstream: &Upstream<'_>) -> Vec<RunValue> {
    let mut values = vec![
        RunValue::new("SUNDIAL_UPSTREAM_RUN_ID", upstream.run.id.to_string()),
        RunValue::new("SUNDIAL_UPSTREAM_JOB_ID", upstream.run.job_id.to_string()),
        RunValue::new("SUNDIAL_UPSTREAM_JOB_NAME", upstream.job_name),
        RunValue::new("SUNDIAL_UPSTREAM_STATUS", upstream.status.as_str()),
    ];
    if let Some(code) = upstream.exit_code {
        values.push(RunValue::new(
            "SUNDIAL_UPSTREAM_EXIT_CODE",
            code.to_string(),
        ));
    }
    if let Some(status) = upstream.http_status {
        values.push(RunValue::new(
            "SUNDIAL_UPSTREAM_HTTP_STATUS",
            status.to_string(),
        ));
    }
    if let Some(path) = &upstream.log_path {
        values.push(RunValue::new("SUNDIAL_UPSTREAM_LOG", path.clone()));
    }
    values.extend(
        upstream
            .outputs
            .iter()
            .map(|v| RunValue::new(format!("{OUTPUT_PREFIX}{}", v.key), v.value.clone())),
    );
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &ParsedOutput) -> Vec<(&str, &str)> {
        p.values
            .iter()
            .map(|v| (v.key.as_str(), v.value.as_str()))
            .collect()
    }

    #[test]
    fn key_value_lines_are_read_and_the_last_of_a_key_wins() {
        let p = parse_output(
            "rows=42\n# a comment\n\npath=/tmp/out.csv\r\nRows=43\nnote=a=b\n",
            false,
        );
        assert_eq!(
            keys(&p),
            [("ROWS", "43"), ("PATH", "/tmp/out.csv"), ("NOTE", "a=b")]
        );
        assert!(p.ignored.is_empty(), "{:?}", p.ignored);
    }

    #[test]
    fn bad_lines_are_named_and_skipped() {
        let p = parse_output("just text\n1st=x\n=v\nok=1\nbad-key=2\n", false);
        assert_eq!(keys(&p), [("OK", "1")]);
        assert_eq!(p.ignored.len(), 4, "{:?}", p.ignored);
        assert!(
            p.ignored[0].starts_with("line 1 has no `=`"),
            "{:?}",
            p.ignored
        );
        assert!(
            p.ignored[1].contains("1st is not a name"),
            "{:?}",
            p.ignored
        );
        assert!(p.ignored[2].contains("empty"), "{:?}", p.ignored);
        assert!(p.ignored[3].contains("bad-key"), "{:?}", p.ignored);
    }

    #[test]
    fn a_truncated_file_drops_its_cut_line_and_says_so() {
        let p = parse_output("a=1\nb=2\nc=trunc", true);
        assert_eq!(keys(&p), [("A", "1"), ("B", "2")]);
        assert_eq!(p.ignored, ["only the first 64 KiB of the file were read"]);
    }

    #[test]
    fn values_beyond_the_cap_are_counted() {
        let text: String = (0..OUTPUT_MAX_VALUES + 3)
            .map(|i| format!("k{i}=v\n"))
            .collect();
        let p = parse_output(&text, false);
        assert_eq!(p.values.len(), OUTPUT_MAX_VALUES);
        assert_eq!(
            p.ignored,
            ["3 more keys were not kept (at most 100 values)"]
        );
        let long = format!("big={}\n", "x".repeat(OUTPUT_VALUE_MAX + 1));
        let p = parse_output(&long, false);
        assert!(p.values.is_empty());
        assert!(p.ignored[0].contains("4097 bytes long"), "{:?}", p.ignored);
    }
}
