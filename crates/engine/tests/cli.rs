//! The real `sundialctl` binary: its output and exit status are an interface scripts rely on.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Duration, Utc};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sundialctl"))
        .env("SUNDIAL_SECRETS", "database")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sundialctl");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().expect("exited, not killed"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with_stdin(args, None)
}

/// Exit 0, nothing on stderr, and exactly `lines` on stdout.
fn assert_prints(args: &[&str], lines: &[&str]) {
    let r = run(args);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (0, ""),
        "{args:?}: stdout {:?}",
        r.stdout
    );
    let expected: String = lines.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(r.stdout, expected, "{args:?}");
}

#[test]
fn next_in_riga_across_spring_forward() {
    assert_prints(
        &[
            "next",
            "15 3 * * *",
            "--tz",
            "Europe/Riga",
            "--after",
            "2021-03-27T00:00:00+02:00",
            "--count",
            "3",
        ],
        &[
            "2021-03-27T03:15:00+02:00",
            "2021-03-28T04:00:00+03:00",
            "2021-03-29T03:15:00+03:00",
        ],
    );
}

#[test]
fn next_in_riga_across_fall_back() {
    assert_prints(
        &[
            "next",
            "*/30 * * * *",
            "--tz",
            "Europe/Riga",
            "--after",
            "2021-10-31T02:10:00+03:00",
            "--count",
            "6",
        ],
        &[
            "2021-10-31T02:30:00+03:00",
            "2021-10-31T03:00:00+03:00",
            "2021-10-31T03:30:00+03:00",
            "2021-10-31T03:00:00+02:00",
            "2021-10-31T03:30:00+02:00",
            "2021-10-31T04:00:00+02:00",
        ],
    );
}

#[test]
fn next_takes_after_in_any_offset_and_prints_in_the_zone() {
    // 2021-03-26T22:00:00Z is midnight in Riga: the same answer as above.
    assert_prints(
        &[
            "next",
            "15 3 * * *",
            "--count",
            "2",
            "--tz",
            "Europe/Riga",
            "--after",
            "2021-03-26T22:00:00Z",
        ],
        &["2021-03-27T03:15:00+02:00", "2021-03-28T04:00:00+03:00"],
    );
}

#[test]
fn next_prints_five_by_default() {
    assert_prints(
        &[
            "next",
            "@daily",
            "--tz",
            "America/New_York",
            "--after",
            "2024-03-08T12:00:00-05:00",
        ],
        &[
            "2024-03-09T00:00:00-05:00",
            "2024-03-10T00:00:00-05:00",
            "2024-03-11T00:00:00-04:00",
            "2024-03-12T00:00:00-04:00",
            "2024-03-13T00:00:00-04:00",
        ],
    );
}

#[test]
fn next_shows_seconds_never_fractions_and_utc_as_an_offset() {
    assert_prints(
        &[
            "next",
            "*/20 * * * * *",
            "--tz",
            "UTC",
            "--after",
            "2024-01-01T00:00:00.250Z",
            "--count",
            "3",
        ],
        &[
            "2024-01-01T00:00:20+00:00",
            "2024-01-01T00:00:40+00:00",
            "2024-01-01T00:01:00+00:00",
        ],
    );
}

#[test]
fn next_defaults_to_after_now() {
    let before = Utc::now();
    let r = run(&["next", "* * * * *", "--tz", "UTC", "--count", "2"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let times: Vec<DateTime<Utc>> = r
        .stdout
        .lines()
        .map(|l| DateTime::parse_from_rfc3339(l).unwrap().with_timezone(&Utc))
        .collect();
    assert_eq!(times.len(), 2, "{:?}", r.stdout);
    assert!(times[0] > before, "{} is not after {before}", times[0]);
    assert!(
        times[0] <= before + Duration::seconds(61),
        "{} is not the next minute after {before}",
        times[0]
    );
    assert_eq!(times[1] - times[0], Duration::seconds(60));
}

#[test]
fn next_allows_up_to_ten_thousand() {
    let r = run(&[
        "next",
        "* * * * * *",
        "--tz",
        "UTC",
        "--after",
        "2024-01-01T00:00:00Z",
        "--count",
        "10000",
    ]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(r.stdout.lines().count(), 10_000);
    assert_eq!(r.stdout.lines().last(), Some("2024-01-01T02:46:40+00:00"));
}

#[test]
fn describe_prints_plain_words() {
    assert_prints(
        &["describe", "0 9 * * 1-5"],
        &["At 09:00, on Monday, Tuesday, Wednesday, Thursday, and Friday."],
    );
    assert_prints(
        &["describe", "0 9 1 * 5"],
        &["At 09:00, on day 1 or Friday."],
    );
}

const VALID_JOB: &str = r#"{
  "name": "Nightly export",
  "kind": {"type": "command", "program": {"mode": "exec", "program": "/usr/bin/env", "args": ["true"]}},
  "trigger": {"type": "cron", "expr": "15 3 * * *", "timezone": "Europe/Riga"}
}"#;

const INVALID_JOB: &str = r#"{
  "name": " Nightly export",
  "kind": {"type": "command", "program": {"mode": "exec", "program": ""},
           "env": [{"name": "SUNDIAL_JOB_ID", "value": "x"}]},
  "trigger": {"type": "cron", "expr": "61 3 * * *", "timezone": "Europe/Riga"},
  "policies": {"retry": {"max_attempts": 0, "initial_delay_secs": 10, "multiplier": 2.0, "max_delay_secs": 60}}
}"#;

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn validate_a_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "job.json", VALID_JOB);
    assert_prints(&["validate", &path], &["ok"]);
}

#[test]
fn validate_from_stdin() {
    let r = run_with_stdin(&["validate", "-"], Some(VALID_JOB));
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "ok\n", "")
    );
}

#[test]
fn validate_prints_every_field_error_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "job.json", INVALID_JOB);
    for r in [
        run(&["validate", &path]),
        run_with_stdin(&["validate", "-"], Some(INVALID_JOB)),
    ] {
        assert_eq!(r.code, 2);
        assert_eq!(r.stderr, "");
        let fields: Vec<&str> = r
            .stdout
            .lines()
            .map(|l| l.split_once(": ").expect("field: message").0)
            .collect();
        assert_eq!(
            fields,
            vec![
                "name",
                "kind.program.program",
                "kind.env[0].name",
                "trigger.expr",
                "policies.retry.max_attempts",
            ],
            "{}",
            r.stdout
        );
        assert!(
            r.stdout
                .starts_with("name: must not start or end with spaces\n"),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout
                .contains("\nkind.env[0].name: SUNDIAL_JOB_ID is set by Sundial itself\n"),
            "{}",
            r.stdout
        );
    }
}

/// Exit 2, nothing on stdout, one line on stderr that starts with `prefix`.
fn assert_bad_input(args: &[&str], stdin: Option<&str>, prefix: &str) {
    let r = run_with_stdin(args, stdin);
    assert_eq!(r.code, 2, "{args:?}: {:?}", r.stderr);
    assert_eq!(r.stdout, "", "{args:?}");
    assert!(
        r.stderr.ends_with('\n') && r.stderr.matches('\n').count() == 1,
        "{args:?}: not one line: {:?}",
        r.stderr
    );
    assert!(
        r.stderr.starts_with(prefix),
        "{args:?}: {:?} does not start with {prefix:?}",
        r.stderr
    );
}

#[test]
fn bad_input_is_one_line_on_stderr_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let not_json = write_temp(&dir, "not.json", "name = \"toml, not json\"\n");
    let with_colour = VALID_JOB.replacen('{', "{\"colour\": \"red\",", 1);
    let unknown_key = write_temp(&dir, "extra.json", &with_colour);
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    let missing_prefix = format!("sundialctl: cannot read {missing:?}: ");
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec!["next", "61 * * * *"],
            None,
            "sundialctl: expression \"61 * * * *\": is not a valid cron expression: ",
        ),
        (
            vec!["next", "* * *", "--tz", "UTC"],
            None,
            "sundialctl: expression \"* * *\": has 3 fields: ",
        ),
        (
            vec!["next", "@fortnightly"],
            None,
            "sundialctl: expression \"@fortnightly\": @fortnightly is not a known shortcut",
        ),
        (
            vec!["next", "0 0 31 2 *", "--tz", "UTC"],
            None,
            "sundialctl: expression \"0 0 31 2 *\": never fires after ",
        ),
        (
            vec!["next", "* * * * *", "--tz", "Mars/Olympus_Mons"],
            None,
            "sundialctl: --tz: \"Mars/Olympus_Mons\" is not an IANA time zone name",
        ),
        (
            vec!["next", "* * * * *", "--after", "yesterday"],
            None,
            "sundialctl: --after \"yesterday\": is not an RFC 3339 date-time",
        ),
        (
            vec!["next", "* * * * *", "--after", "2021-03-27T00:00:00"],
            None,
            "sundialctl: --after \"2021-03-27T00:00:00\": is not an RFC 3339 date-time",
        ),
        (
            vec!["next", "* * * * *", "--count", "0"],
            None,
            "sundialctl: --count 0: must be from 1 to 10000",
        ),
        (
            vec!["next", "* * * * *", "--count", "10001"],
            None,
            "sundialctl: --count 10001: must be from 1 to 10000",
        ),
        (
            vec!["next", "* * * * *", "--count", "many"],
            None,
            "sundialctl: invalid value 'many' for '--count <N>'",
        ),
        (
            vec!["describe", "0 0 32 * *"],
            None,
            "sundialctl: expression \"0 0 32 * *\": is not a valid cron expression",
        ),
        (vec!["validate", missing], None, &missing_prefix),
        (vec!["validate", &not_json], None, "sundialctl: \""),
        (vec!["validate", &unknown_key], None, "sundialctl: \""),
        (
            vec!["validate", "-"],
            Some("{\"name\": \"x\""),
            "sundialctl: standard input is not a job spec: EOF while parsing",
        ),
        (
            vec!["validate", "-"],
            Some(&with_colour),
            "sundialctl: standard input is not a job spec: unknown field `colour`",
        ),
        // Usage errors from clap, kept to one line too.
        (
            vec!["next"],
            None,
            "sundialctl: the following required arguments were not provided: <EXPR>",
        ),
        (
            vec![],
            None,
            "sundialctl: a command is required: next, describe or validate",
        ),
        (
            vec!["frobnicate"],
            None,
            "sundialctl: unrecognized subcommand 'frobnicate'",
        ),
        (
            vec!["next", "* * * * *", "--verbose"],
            None,
            "sundialctl: unexpected argument '--verbose' found",
        ),
        (
            vec!["validate"],
            None,
            "sundialctl: the following required arguments were not provided: <FILE>",
        ),
    ];
    for (args, stdin, prefix) in cases {
        assert_bad_input(&args, stdin, prefix);
    }
    // The file errors name the file and say what is wrong with it.
    let r = run(&["validate", &unknown_key]);
    assert!(
        r.stderr
            .contains("extra.json\" is not a job spec: unknown field `colour`"),
        "{}",
        r.stderr
    );
    let r = run(&["validate", &not_json]);
    assert!(
        r.stderr.contains("not.json\" is not a job spec: "),
        "{}",
        r.stderr
    );
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["next", "--help"], &["--version"]] {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(!r.stdout.is_empty(), "{args:?}");
    }
    assert!(run(&["next", "--help"]).stdout.contains("--count <N>"));
}

#[test]
fn bad_input_quotes_the_expression_as_given() {
    assert_bad_input(
        &["next", "0  61 * * *"],
        None,
        "sundialctl: expression \"0  61 * * *\": is not a valid cron expression",
    );
}
