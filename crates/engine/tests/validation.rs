//! Job spec validation: each problem names the field a form shows it by, and every problem is
//! reported at once. Specs are written as JSON, the shape of job files and of
//! `sundialctl validate`, so the serde shape is tested along the way.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sundial_engine::domain::validate::validate_spec;
use sundial_engine::domain::{
    FieldError, IntervalUnit, JobKind, JobSpec, MissedRunMode, NotifyPolicy, OverlapPolicy,
    Program, StatusRange, Trigger, ValidationErrors,
};

const NOW: &str = "2024-06-01T12:00:00Z";

fn now() -> DateTime<Utc> {
    NOW.parse().unwrap()
}

/// A valid command job with every policy written out.
fn command_job() -> Value {
    json!({
        "name": "Nightly export",
        "description": "Exports the day's rows",
        "tags": ["reports", "nightly"],
        "enabled": true,
        "kind": {
            "type": "command",
            "program": {"mode": "exec", "program": "/usr/bin/python3", "args": ["export.py", "--all"]},
            "working_dir": "/home/analyst/exports",
            "env": [
                {"name": "DB_URL", "value": "postgres://db/prod", "secret": true},
                {"name": "_LEVEL", "value": "info"}
            ]
        },
        "trigger": {"type": "cron", "expr": "15 3 * * *", "timezone": "Europe/Riga"},
        "policies": {
            "timeout_secs": 3600,
            "retry": {"max_attempts": 3, "initial_delay_secs": 10, "multiplier": 2.0, "max_delay_secs": 600},
            "overlap": "skip",
            "missed": {"mode": "run_once", "max_catch_up": 10, "grace_secs": 60},
            "notify": "on_failure"
        }
    })
}

/// A valid http job.
fn http_job() -> Value {
    json!({
        "name": "Ping API",
        "kind": {
            "type": "http",
            "method": "POST",
            "url": "https://api.example.com/v1/ping",
            "headers": [{"name": "Authorization", "value": "Bearer x", "secret": true}],
            "body": "{}",
            "expect_status": {"min": 200, "max": 204},
            "body_contains": "pong",
            "log_body_kib": 128
        },
        "trigger": {"type": "interval", "every": 15, "unit": "minutes"}
    })
}

/// A valid script job.
fn script_job() -> Value {
    json!({
        "name": "Clean temp",
        "kind": {
            "type": "command",
            "program": {"mode": "script", "interpreter": "bash", "body": "rm -rf /tmp/sundial-scratch/*"}
        },
        "trigger": {"type": "manual"}
    })
}

/// Sets `value` at a JSON pointer such as `/kind/env/0/name`, creating missing object keys.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let mut target = doc;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for part in &parts[..parts.len() - 1] {
        target = match target {
            Value::Array(items) => &mut items[part.parse::<usize>().unwrap()],
            Value::Object(map) => map.entry(*part).or_insert_with(|| json!({})),
            other => panic!("cannot descend into {other} at {pointer}"),
        };
    }
    let last = parts[parts.len() - 1];
    match target {
        Value::Array(items) => items[last.parse::<usize>().unwrap()] = value,
        Value::Object(map) => {
            map.insert(last.to_string(), value);
        }
        other => panic!("cannot set {pointer} in {other}"),
    }
}

fn spec(doc: Value) -> JobSpec {
    serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{e}: {doc:#}"))
}

fn errors_of(doc: Value) -> ValidationErrors {
    match validate_spec(&spec(doc), now(), None) {
        Ok(()) => ValidationErrors::default(),
        Err(errors) => errors,
    }
}

#[test]
fn valid_specs_pass() {
    for doc in [command_job(), http_job(), script_job()] {
        assert_eq!(
            validate_spec(&spec(doc.clone()), now(), None),
            Ok(()),
            "{doc:#}"
        );
    }
}

#[test]
fn values_just_inside_the_limits_pass() {
    let long_name: String = "é".repeat(200); // counted in characters, not bytes
    let cases: Vec<(&str, &str, Value)> = vec![
        ("command", "/name", json!(long_name)),
        ("command", "/description", json!("d".repeat(10_000))),
        (
            "command",
            "/tags",
            json!((0..20).map(|i| format!("t{i}")).collect::<Vec<_>>()),
        ),
        ("command", "/tags/0", json!("x".repeat(50))),
        ("command", "/policies/timeout_secs", json!(604_800)),
        ("command", "/policies/timeout_secs", json!(null)),
        ("command", "/policies/retry/max_attempts", json!(1)),
        ("command", "/policies/retry/max_attempts", json!(100)),
        ("command", "/policies/retry/multiplier", json!(1.0)),
        ("command", "/policies/retry/multiplier", json!(10.0)),
        ("command", "/policies/retry/max_delay_secs", json!(604_800)),
        ("command", "/policies/retry/max_delay_secs", json!(10)), // equal to the first delay
        ("command", "/policies/missed/max_catch_up", json!(1000)),
        ("command", "/policies/missed/grace_secs", json!(604_800)),
        ("command", "/policies/conditions/max_wait_secs", json!(60)),
        (
            "command",
            "/policies/conditions/max_wait_secs",
            json!(604_800),
        ),
        (
            "command",
            "/policies/conditions/random_delay_secs",
            json!(0),
        ),
        (
            "command",
            "/policies/conditions/random_delay_secs",
            json!(86_400),
        ),
        (
            "http",
            "/policies/conditions",
            json!({"ac_power": true, "network": true, "on_timeout": "run"}),
        ),
        ("command", "/kind/env/0/name", json!("sundial")), // only the SUNDIAL_ prefix is reserved
        (
            "http",
            "/kind/expect_status",
            json!({"min": 100, "max": 599}),
        ),
        (
            "http",
            "/kind/expect_status",
            json!({"min": 404, "max": 404}),
        ),
        ("http", "/kind/log_body_kib", json!(10_240)),
        ("http", "/kind/url", json!("http://localhost:8080/health")),
        (
            "http",
            "/trigger",
            json!({"type": "interval", "every": 8784, "unit": "hours"}),
        ), // 366 days
        ("http", "/trigger", json!({"type": "once", "at": NOW})),
    ];
    for (base, pointer, value) in cases {
        let mut doc = if base == "http" {
            http_job()
        } else {
            command_job()
        };
        set(&mut doc, pointer, value.clone());
        let errors = errors_of(doc);
        assert!(
            errors.is_empty(),
            "{pointer} = {value}: unexpected errors {errors}"
        );
    }
}

struct Case {
    what: &'static str,
    base: fn() -> Value,
    patch: Vec<(&'static str, Value)>,
    field: &'static str,
    message: &'static str,
}

fn case(
    what: &'static str,
    base: fn() -> Value,
    patch: Vec<(&'static str, Value)>,
    field: &'static str,
    message: &'static str,
) -> Case {
    Case {
        what,
        base,
        patch,
        field,
        message,
    }
}

/// One case per error path in validate.rs: the spec has exactly that one problem.
fn cases() -> Vec<Case> {
    let cmd = command_job as fn() -> Value;
    let http = http_job as fn() -> Value;
    let script = script_job as fn() -> Value;
    vec![
        // name
        case(
            "empty name",
            cmd,
            vec![("/name", json!(""))],
            "name",
            "is required",
        ),
        case(
            "blank name",
            cmd,
            vec![("/name", json!("   "))],
            "name",
            "is required",
        ),
        case(
            "name over 200 characters",
            cmd,
            vec![("/name", json!("n".repeat(201)))],
            "name",
            "is 201 characters long: at most 200",
        ),
        case(
            "name with a leading space",
            cmd,
            vec![("/name", json!(" Export"))],
            "name",
            "must not start or end with spaces",
        ),
        case(
            "name with a trailing space",
            cmd,
            vec![("/name", json!("Export "))],
            "name",
            "must not start or end with spaces",
        ),
        case(
            "name with a tab",
            cmd,
            vec![("/name", json!("Nightly\texport"))],
            "name",
            "must not contain control characters",
        ),
        // description
        case(
            "description over 10000 characters",
            cmd,
            vec![("/description", json!("d".repeat(10_001)))],
            "description",
            "is too long: at most 10000 characters",
        ),
        // tags
        case(
            "21 tags",
            cmd,
            vec![(
                "/tags",
                json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()),
            )],
            "tags",
            "has 21 tags: at most 20",
        ),
        case(
            "blank tag",
            cmd,
            vec![("/tags/1", json!("  "))],
            "tags[1]",
            "is empty",
        ),
        case(
            "tag over 50 characters",
            cmd,
            vec![("/tags/0", json!("t".repeat(51)))],
            "tags[0]",
            "is too long: at most 50 characters",
        ),
        case(
            "tag with a comma",
            cmd,
            vec![("/tags/1", json!("a,b"))],
            "tags[1]",
            "must not contain commas or control characters",
        ),
        case(
            "tag with a line break",
            cmd,
            vec![("/tags/1", json!("a\nb"))],
            "tags[1]",
            "must not contain commas or control characters",
        ),
        case(
            "tag repeated in another case",
            cmd,
            vec![("/tags/1", json!("Reports"))],
            "tags[1]",
            "repeats the tag \"Reports\"",
        ),
        // command: exec
        case(
            "empty program",
            cmd,
            vec![("/kind/program/program", json!(" "))],
            "kind.program.program",
            "is required: the program to run",
        ),
        case(
            "program with NUL",
            cmd,
            vec![("/kind/program/program", json!("/bin/x\u{0}y"))],
            "kind.program.program",
            "must not contain a NUL character",
        ),
        case(
            "argument with NUL",
            cmd,
            vec![("/kind/program/args/1", json!("--a\u{0}ll"))],
            "kind.program.args[1]",
            "must not contain a NUL character",
        ),
        // command: script
        case(
            "custom interpreter left empty",
            script,
            vec![("/kind/program/interpreter", json!({"custom": " "}))],
            "kind.program.interpreter",
            "is required: a program name or path",
        ),
        case(
            "empty script",
            script,
            vec![("/kind/program/body", json!("\n  \n"))],
            "kind.program.body",
            "is empty: write the script to run",
        ),
        case(
            "script with NUL",
            script,
            vec![("/kind/program/body", json!("echo a\u{0}b"))],
            "kind.program.body",
            "must not contain a NUL character",
        ),
        // command: working directory
        case(
            "blank working directory",
            cmd,
            vec![("/kind/working_dir", json!(" "))],
            "kind.working_dir",
            "is blank: leave it unset for the home folder",
        ),
        case(
            "working directory with NUL",
            cmd,
            vec![("/kind/working_dir", json!("/tmp/a\u{0}"))],
            "kind.working_dir",
            "must not contain a NUL character",
        ),
        case(
            "relative working directory",
            cmd,
            vec![("/kind/working_dir", json!("exports/daily"))],
            "kind.working_dir",
            "\"exports/daily\" is not an absolute path",
        ),
        // command: environment
        case(
            "variable name starting with a digit",
            cmd,
            vec![("/kind/env/1/name", json!("1LEVEL"))],
            "kind.env[1].name",
            "\"1LEVEL\" is not a valid variable name",
        ),
        case(
            "variable name with a dash",
            cmd,
            vec![("/kind/env/0/name", json!("DB-URL"))],
            "kind.env[0].name",
            "\"DB-URL\" is not a valid variable name",
        ),
        case(
            "empty variable name",
            cmd,
            vec![("/kind/env/0/name", json!(""))],
            "kind.env[0].name",
            "\"\" is not a valid variable name",
        ),
        case(
            "variable Sundial sets itself",
            cmd,
            vec![("/kind/env/1/name", json!("SUNDIAL_RUN_ID"))],
            "kind.env[1].name",
            "SUNDIAL_RUN_ID is set by Sundial itself",
        ),
        case(
            "reserved prefix in lower case",
            cmd,
            vec![("/kind/env/0/name", json!("sundial_job_id"))],
            "kind.env[0].name",
            "sundial_job_id is set by Sundial itself",
        ),
        case(
            "variable set twice",
            cmd,
            vec![("/kind/env/1/name", json!("DB_URL"))],
            "kind.env[1].name",
            "DB_URL is set twice",
        ),
        case(
            "variable value with NUL",
            cmd,
            vec![("/kind/env/1/value", json!("a\u{0}"))],
            "kind.env[1].value",
            "must not contain a NUL character",
        ),
        // http
        case(
            "unsupported method",
            http,
            vec![("/kind/method", json!("FETCH"))],
            "kind.method",
            "\"FETCH\" is not supported: use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
        case(
            "method in lower case",
            http,
            vec![("/kind/method", json!("get"))],
            "kind.method",
            "\"get\" is not supported",
        ),
        case(
            "URL that is not a URL",
            http,
            vec![("/kind/url", json!("api.example.com/ping"))],
            "kind.url",
            "is not a valid URL",
        ),
        case(
            "http URL without a host",
            http,
            vec![("/kind/url", json!("http://"))],
            "kind.url",
            "is not a valid URL",
        ),
        case(
            "ftp URL",
            http,
            vec![("/kind/url", json!("ftp://files.example.com/x"))],
            "kind.url",
            "uses ftp: only http and https URLs are supported",
        ),
        case(
            "header name with a space",
            http,
            vec![("/kind/headers/0/name", json!("X Token"))],
            "kind.headers[0].name",
            "\"X Token\" is not a valid header name",
        ),
        case(
            "empty header name",
            http,
            vec![("/kind/headers/0/name", json!(""))],
            "kind.headers[0].name",
            "\"\" is not a valid header name",
        ),
        case(
            "header value with a line break (header injection)",
            http,
            vec![("/kind/headers/0/value", json!("x\r\nX-Evil: 1"))],
            "kind.headers[0].value",
            "must not contain line breaks",
        ),
        case(
            "expected status below 100",
            http,
            vec![("/kind/expect_status", json!({"min": 99, "max": 299}))],
            "kind.expect_status",
            "statuses go from 100 to 599",
        ),
        case(
            "expected status above 599",
            http,
            vec![("/kind/expect_status", json!({"min": 200, "max": 600}))],
            "kind.expect_status",
            "statuses go from 100 to 599",
        ),
        case(
            "expected status range upside down",
            http,
            vec![("/kind/expect_status", json!({"min": 300, "max": 200}))],
            "kind.expect_status",
            "the lowest status 300 is above the highest 200",
        ),
        case(
            "empty body check",
            http,
            vec![("/kind/body_contains", json!(""))],
            "kind.body_contains",
            "is empty: leave it unset to skip the check",
        ),
        case(
            "too much body in the log",
            http,
            vec![("/kind/log_body_kib", json!(10_241))],
            "kind.log_body_kib",
            "at most 10240 KiB",
        ),
        // trigger
        case(
            "cron expression out of range",
            cmd,
            vec![("/trigger/expr", json!("61 * * * *"))],
            "trigger.expr",
            "the minute field has 61, but a minute is 0 to 59",
        ),
        case(
            "cron month out of range in a list",
            cmd,
            vec![("/trigger/expr", json!("0 9 1 1,13 *"))],
            "trigger.expr",
            "the month field has 13, but a month is 1 to 12",
        ),
        case(
            "cron seconds out of range",
            cmd,
            vec![("/trigger/expr", json!("0-60 * * * * *"))],
            "trigger.expr",
            "the second field has 60, but a second is 0 to 59",
        ),
        case(
            "cron expression with too few fields",
            cmd,
            vec![("/trigger/expr", json!("* * *"))],
            "trigger.expr",
            "has 3 fields",
        ),
        case(
            "empty cron expression",
            cmd,
            vec![("/trigger/expr", json!(""))],
            "trigger.expr",
            "is required",
        ),
        case(
            "cron expression that never fires",
            cmd,
            vec![("/trigger/expr", json!("0 0 30 2 *"))],
            "trigger.expr",
            "never fires",
        ),
        case(
            "unknown time zone",
            cmd,
            vec![("/trigger/timezone", json!("Europe/Atlantis"))],
            "trigger.timezone",
            "\"Europe/Atlantis\" is not an IANA time zone name",
        ),
        case(
            "interval of zero",
            http,
            vec![("/trigger/every", json!(0))],
            "trigger.every",
            "must be at least 1",
        ),
        case(
            "interval over a year",
            http,
            vec![(
                "/trigger",
                json!({"type": "interval", "every": 8785, "unit": "hours"}),
            )],
            "trigger.every",
            "is longer than a year: use a cron schedule",
        ),
        case(
            "interval that overflows when multiplied out",
            http,
            vec![(
                "/trigger",
                json!({"type": "interval", "every": u64::MAX, "unit": "hours"}),
            )],
            "trigger.every",
            "is longer than a year",
        ),
        case(
            "once in the past",
            script,
            vec![(
                "/trigger",
                json!({"type": "once", "at": "2024-06-01T11:59:59Z"}),
            )],
            "trigger.at",
            "2024-06-01T11:59:59+00:00 is in the past",
        ),
        // policies
        case(
            "timeout of zero",
            cmd,
            vec![("/policies/timeout_secs", json!(0))],
            "policies.timeout_secs",
            "must be from 1 second to 604800 (7 days), or unset for no limit",
        ),
        case(
            "timeout over 7 days",
            cmd,
            vec![("/policies/timeout_secs", json!(604_801))],
            "policies.timeout_secs",
            "must be from 1 second to 604800",
        ),
        case(
            "zero attempts",
            cmd,
            vec![("/policies/retry/max_attempts", json!(0))],
            "policies.retry.max_attempts",
            "must be from 1 (no retry) to 100",
        ),
        case(
            "101 attempts",
            cmd,
            vec![("/policies/retry/max_attempts", json!(101))],
            "policies.retry.max_attempts",
            "must be from 1 (no retry) to 100",
        ),
        case(
            "multiplier below 1",
            cmd,
            vec![("/policies/retry/multiplier", json!(0.5))],
            "policies.retry.multiplier",
            "must be from 1 (constant) to 10",
        ),
        case(
            "multiplier above 10",
            cmd,
            vec![("/policies/retry/multiplier", json!(10.5))],
            "policies.retry.multiplier",
            "must be from 1 (constant) to 10",
        ),
        case(
            "longest delay over 7 days",
            cmd,
            vec![("/policies/retry/max_delay_secs", json!(604_801))],
            "policies.retry.max_delay_secs",
            "must be at most 7 days",
        ),
        case(
            "longest delay below the first",
            cmd,
            vec![
                ("/policies/retry/initial_delay_secs", json!(60)),
                ("/policies/retry/max_delay_secs", json!(59)),
            ],
            "policies.retry.max_delay_secs",
            "must not be below the first delay",
        ),
        case(
            "catch up none",
            cmd,
            vec![("/policies/missed/max_catch_up", json!(0))],
            "policies.missed.max_catch_up",
            "must be from 1 to 1000",
        ),
        case(
            "catch up over 1000",
            cmd,
            vec![("/policies/missed/max_catch_up", json!(1001))],
            "policies.missed.max_catch_up",
            "must be from 1 to 1000",
        ),
        case(
            "grace over 7 days",
            cmd,
            vec![("/policies/missed/grace_secs", json!(604_801))],
            "policies.missed.grace_secs",
            "must be at most 7 days",
        ),
        case(
            "condition wait under a minute",
            cmd,
            vec![
                ("/policies/conditions/ac_power", json!(true)),
                ("/policies/conditions/max_wait_secs", json!(59)),
            ],
            "policies.conditions.max_wait_secs",
            "must be from 60 seconds to 604800 (7 days); 59 is outside",
        ),
        case(
            "condition wait over 7 days",
            cmd,
            vec![("/policies/conditions/max_wait_secs", json!(604_801))],
            "policies.conditions.max_wait_secs",
            "must be from 60 seconds to 604800 (7 days)",
        ),
        case(
            "random delay over a day",
            cmd,
            vec![("/policies/conditions/random_delay_secs", json!(86_401))],
            "policies.conditions.random_delay_secs",
            "must be from 0 (none) to 86400 seconds (a day); 86401 is longer",
        ),
    ]
}

#[test]
fn each_problem_names_its_field() {
    let mut failures = Vec::new();
    for case in cases() {
        let mut doc = (case.base)();
        for (pointer, value) in &case.patch {
            set(&mut doc, pointer, value.clone());
        }
        let errors = errors_of(doc);
        let ok = errors.fields() == vec![case.field]
            && errors.0.iter().all(|e| e.message.contains(case.message));
        if !ok {
            failures.push(format!(
                "{}: expected only {}: …{}…, got {:?}",
                case.what, case.field, case.message, errors.0
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_problem_is_reported_at_once_in_field_order() {
    let mut doc = command_job();
    for (pointer, value) in [
        ("/name", json!("")),
        ("/tags/1", json!("a,b")),
        ("/kind/program/program", json!("")),
        ("/kind/env/1/name", json!("SUNDIAL_X")),
        ("/trigger/expr", json!("0 0 31 2 *")),
        ("/policies/retry/max_attempts", json!(0)),
        ("/policies/missed/grace_secs", json!(10_000_000)),
    ] {
        set(&mut doc, pointer, value);
    }
    let errors = validate_spec(&spec(doc), now(), None).unwrap_err();
    assert_eq!(
        errors.fields(),
        vec![
            "name",
            "tags[1]",
            "kind.program.program",
            "kind.env[1].name",
            "trigger.expr",
            "policies.retry.max_attempts",
            "policies.missed.grace_secs",
        ]
    );
    // The one-line form joins them, each with its field.
    let line = errors.to_string();
    assert!(line.starts_with("name: is required; tags[1]: "), "{line}");
    assert!(!line.contains('\n'), "{line}");
}

#[test]
fn a_first_delay_over_7_days_is_named_along_with_the_longest_delay_below_it() {
    // The longest delay can be at most 7 days, so it is always below such a first delay.
    let mut doc = command_job();
    set(
        &mut doc,
        "/policies/retry/initial_delay_secs",
        json!(604_801),
    );
    set(&mut doc, "/policies/retry/max_delay_secs", json!(604_800));
    let errors = validate_spec(&spec(doc), now(), None).unwrap_err();
    assert_eq!(
        errors.0,
        vec![
            FieldError::new(
                "policies.retry.initial_delay_secs",
                "must be at most 7 days"
            ),
            FieldError::new(
                "policies.retry.max_delay_secs",
                "must not be below the first delay (initial_delay_secs)"
            ),
        ]
    );
}

#[test]
fn a_bad_zone_and_a_bad_expression_are_both_reported() {
    let mut doc = command_job();
    set(&mut doc, "/trigger/expr", json!("0 0 32 * *"));
    set(&mut doc, "/trigger/timezone", json!("Nowhere/Town"));
    let errors = validate_spec(&spec(doc), now(), None).unwrap_err();
    assert_eq!(errors.fields(), vec!["trigger.timezone", "trigger.expr"]);
}

#[test]
fn a_once_time_in_the_past_is_only_an_error_when_the_trigger_changes() {
    let past = json!({"type": "once", "at": "2024-05-01T09:00:00Z"});
    let mut doc = script_job();
    set(&mut doc, "/trigger", past);
    let stored = spec(doc.clone());

    // Editing the name of a job whose one run is behind it is fine.
    let mut renamed = doc.clone();
    set(&mut renamed, "/name", json!("Clean temp (done)"));
    assert_eq!(validate_spec(&spec(renamed), now(), Some(&stored)), Ok(()));

    // A new past time is not.
    let mut moved = doc.clone();
    set(
        &mut moved,
        "/trigger",
        json!({"type": "once", "at": "2024-05-02T09:00:00Z"}),
    );
    assert_eq!(
        validate_spec(&spec(moved), now(), Some(&stored))
            .unwrap_err()
            .fields(),
        vec!["trigger.at"]
    );

    // Nor is a new job with a past time.
    assert_eq!(
        validate_spec(&stored, now(), None).unwrap_err().fields(),
        vec!["trigger.at"]
    );
}

// --- the serde shape of a job file ---

#[test]
fn unknown_keys_are_rejected_at_every_level() {
    for (pointer, what) in [
        ("/colour", "top level"),
        ("/kind/retries", "command kind"),
        ("/kind/env/0/hidden", "environment variable"),
        ("/trigger/tz", "trigger"),
        ("/policies/priority", "policies"),
        ("/policies/retry/jitter", "retry policy"),
        ("/policies/missed/window", "missed-run policy"),
    ] {
        let mut doc = command_job();
        set(&mut doc, pointer, json!(1));
        let err = serde_json::from_value::<JobSpec>(doc)
            .expect_err(what)
            .to_string();
        let key = pointer.rsplit('/').next().unwrap();
        assert!(
            err.contains(&format!("unknown field `{key}`")),
            "{what}: {err}"
        );
    }
    let mut doc = http_job();
    set(&mut doc, "/kind/timeout", json!(5));
    let err = serde_json::from_value::<JobSpec>(doc)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `timeout`"), "{err}");
}

#[test]
fn required_keys_and_known_variants_are_enforced() {
    let mut no_name = command_job();
    no_name.as_object_mut().unwrap().remove("name");
    let err = serde_json::from_value::<JobSpec>(no_name).unwrap_err();
    assert!(err.to_string().contains("missing field `name`"), "{err}");

    for (pointer, value, fragment) in [
        ("/kind/type", json!("ftp"), "unknown variant `ftp`"),
        ("/trigger/type", json!("hourly"), "unknown variant `hourly`"),
        (
            "/policies/overlap",
            json!("sometimes"),
            "unknown variant `sometimes`",
        ),
        (
            "/policies/missed/mode",
            json!("run_twice"),
            "unknown variant `run_twice`",
        ),
        (
            "/kind/program/mode",
            json!("shell"),
            "unknown variant `shell`",
        ),
        ("/policies/timeout_secs", json!(-1), "invalid value"),
    ] {
        let mut doc = command_job();
        set(&mut doc, pointer, value);
        let err = serde_json::from_value::<JobSpec>(doc)
            .unwrap_err()
            .to_string();
        assert!(err.contains(fragment), "{pointer}: {err}");
    }
}

#[test]
fn a_minimal_job_file_gets_the_documented_defaults() {
    let minimal = spec(json!({
        "name": "Ping",
        "kind": {"type": "http", "url": "https://example.com/"},
        "trigger": {"type": "cron", "expr": "@hourly"}
    }));
    assert!(minimal.enabled);
    assert_eq!(minimal.description, "");
    assert!(minimal.tags.is_empty());
    let JobKind::Http(http) = &minimal.kind else {
        panic!("not http: {:?}", minimal.kind)
    };
    assert_eq!(http.method, "GET");
    assert_eq!(http.expect_status, StatusRange { min: 200, max: 299 });
    assert_eq!(http.log_body_kib, 64);
    assert_eq!(http.body_contains, None);
    assert_eq!(
        minimal.trigger,
        Trigger::Cron {
            expr: "@hourly".into(),
            timezone: None
        }
    );
    let p = &minimal.policies;
    assert_eq!(p.timeout_secs, None);
    assert_eq!(p.retry.max_attempts, 1);
    assert_eq!(p.overlap, OverlapPolicy::Skip);
    assert_eq!(p.missed.mode, MissedRunMode::RunOnce);
    assert_eq!(p.missed.max_catch_up, 10);
    assert_eq!(p.missed.grace_secs, 60);
    assert_eq!(p.notify, NotifyPolicy::OnFailure);
    assert_eq!(validate_spec(&minimal, now(), None), Ok(()));

    let command = spec(json!({
        "name": "ls",
        "kind": {"type": "command", "program": {"mode": "exec", "program": "ls"}},
        "trigger": {"type": "interval", "every": 5, "unit": "seconds"}
    }));
    let JobKind::Command(c) = &command.kind else {
        panic!("not a command")
    };
    assert_eq!(
        c.program,
        Program::Exec {
            program: "ls".into(),
            args: vec![]
        }
    );
    assert_eq!(c.working_dir, None);
    assert!(c.env.is_empty());
    assert!(matches!(
        command.trigger,
        Trigger::Interval {
            every: 5,
            unit: IntervalUnit::Seconds,
            anchor: None
        }
    ));
}

#[test]
fn a_spec_round_trips_through_json() {
    let original = spec(command_job());
    let text = serde_json::to_string(&original).unwrap();
    let again: JobSpec = serde_json::from_str(&text).unwrap();
    assert_eq!(again, original);
}

#[test]
fn a_multiplier_that_is_not_a_number_is_refused() {
    // JSON cannot carry NaN, but a spec built in code (the editor, an import) can.
    let mut nan = spec(command_job());
    nan.policies.retry.multiplier = f64::NAN;
    assert_eq!(
        validate_spec(&nan, now(), None).unwrap_err().fields(),
        vec!["policies.retry.multiplier"]
    );
}
