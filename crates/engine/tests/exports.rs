//! Exports that the target engines accept: the systemd units pass `systemd-analyze verify`,
//! interval jobs fire at Sundial's instants under systemd and Kubernetes, and every CronJob
//! deserializes into the typed `k8s-openapi` `CronJob` with a valid DNS-1123 name.

mod files_support;

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, SubsecRound, Timelike, Utc};
use files_support::*;
use k8s_openapi::api::batch::v1::CronJob;
use serde::Deserialize;
use sundial_engine::domain::{
    CommandSpec, EnvVar, Interpreter, IntervalUnit, Job, JobId, JobKind, JobSpec, Program, Trigger,
};
use sundial_engine::files::translate::{KubernetesOptions, to_kubernetes, to_systemd};
use sundial_engine::schedule::{CronSchedule, Schedule};

fn job_with(spec: JobSpec) -> Job {
    let now = Utc::now();
    Job {
        id: JobId::new(),
        revision: 1,
        created_at: now,
        updated_at: now,
        spec,
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn interval(every: u64, unit: IntervalUnit, anchor: &str) -> Trigger {
    Trigger::Interval {
        every,
        unit,
        anchor: Some(at(anchor)),
    }
}

fn sh(body: &str, working_dir: Option<&str>, env: Vec<EnvVar>) -> JobKind {
    JobKind::Command(CommandSpec {
        program: Program::Script {
            interpreter: Interpreter::Sh,
            body: body.into(),
        },
        working_dir: working_dir.map(str::to_string),
        env,
    })
}

fn has_systemd_analyze() -> bool {
    Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn content<'a>(files: &'a [sundial_engine::files::translate::OutputFile], name: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not written"))
        .content
}

/// Jobs whose text needs every kind of quoting, and interval jobs of each grid.
fn tricky_jobs(workdir: &Path) -> Vec<Job> {
    let dir = workdir.to_str().unwrap();
    vec![
        job_with(spec(
            "Quoting: 100% of $HOME \\ \"q\"",
            sh(
                "echo \"$HOME costs 100%\" 'a\\b'",
                Some(dir),
                vec![
                    EnvVar::new("PRICE", "$5 or 100% \"quoted\" back\\slash"),
                    EnvVar::new("MULTI", "line one\nline two\ttab"),
                ],
            ),
            cron("*/5 * * * *", Some("Europe/Riga")),
        )),
        job_with(spec(
            "every 15 minutes at :05",
            sh("true", Some("/"), Vec::new()),
            interval(15, IntervalUnit::Minutes, "2026-03-10T07:05:00Z"),
        )),
        job_with(spec(
            "every 6 hours",
            sh("true", None, Vec::new()),
            interval(6, IntervalUnit::Hours, "2026-03-10T13:42:07.250Z"),
        )),
        job_with(spec(
            "every 10 seconds",
            sh("true", None, Vec::new()),
            interval(10, IntervalUnit::Seconds, "2026-03-10T13:42:03Z"),
        )),
        job_with(spec(
            "once",
            sh("true", None, Vec::new()),
            Trigger::Once {
                at: at("2031-05-01T10:00:00Z"),
            },
        )),
        job_with(spec(
            "manual",
            sh("true", None, Vec::new()),
            Trigger::Manual,
        )),
        job_with(spec(
            "at login",
            sh("true", None, Vec::new()),
            Trigger::AtStart { delay_secs: 90 },
        )),
    ]
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    let dir = tempfile::tempdir().unwrap();
    let workdir = dir.path().join("work dir 100%");
    std::fs::create_dir(&workdir).unwrap();
    let t = to_systemd(&tricky_jobs(&workdir), false);
    assert!(t.untranslatable.is_empty(), "{:?}", t.untranslatable);

    // The text, by systemd.syntax(7), systemd.exec(5) and systemd.service(5): a plain path,
    // `%%` everywhere, `$$` only in ExecStart= (Environment= does no `$` expansion).
    let service = content(&t.files, "sundial-quoting-100-of-home-q.service");
    let lines: Vec<&str> = service.lines().collect();
    let escaped_dir = workdir.to_str().unwrap().replace('%', "%%");
    // "At start" is a timer counting from the user's login.
    let at_login = content(&t.files, "sundial-at-login.timer");
    assert!(
        at_login.lines().any(|l| l == "OnStartupSec=90"),
        "{at_login}"
    );
    assert!(!at_login.contains("OnCalendar="), "{at_login}");
    for line in [
        "Description=Sundial job: Quoting: 100%% of $HOME \\ \"q\"".to_string(),
        format!("WorkingDirectory={escaped_dir}"),
        "Environment=\"PRICE=$5 or 100%% \\\"quoted\\\" back\\\\slash\"".to_string(),
        "Environment=\"MULTI=line one\\nline two\\ttab\"".to_string(),
        "ExecStart=\"/bin/sh\" \"-c\" \"echo \\\"$$HOME costs 100%%\\\" 'a\\\\b'\"".to_string(),
    ] {
        assert!(lines.contains(&line.as_str()), "{line}\nnot in\n{service}");
    }

    if !has_systemd_analyze() {
        println!(
            "note: systemd-analyze is not installed; `systemd-analyze verify` of the exported units was skipped"
        );
        return;
    }
    let units = dir.path().join("units");
    std::fs::create_dir(&units).unwrap();
    let mut paths = Vec::new();
    for file in &t.files {
        let path = units.join(&file.name);
        std::fs::write(&path, &file.content).unwrap();
        paths.push(path);
    }
    assert_eq!(
        paths.len(),
        13,
        "6 services and timers and a manual service"
    );
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--recursive-errors=no"])
        .args(&paths)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {}\n{stderr}",
        out.status
    );
}

#[test]
fn the_old_systemd_quoting_is_what_systemd_analyze_rejects() {
    // Guards the check above: verify does reject a quoted WorkingDirectory=.
    if !has_systemd_analyze() {
        println!(
            "note: systemd-analyze is not installed; the check that verify rejects a quoted WorkingDirectory= was skipped"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.service");
    std::fs::write(
        &path,
        "[Service]\nType=oneshot\nExecStart=/bin/true\nWorkingDirectory=\"/tmp\"\n",
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--recursive-errors=no"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Next fire times from `systemd-analyze calendar` (whole seconds, UTC).
fn systemd_next(expr: &str, base: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let out = Command::new("systemd-analyze")
        .env("TZ", "UTC")
        .args([
            "calendar",
            &format!("--iterations={n}"),
            &format!("--base-time={}", base.format("%Y-%m-%d %H:%M:%S UTC")),
            expr,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{expr}: {text}");
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("Next elapse:").or_else(|| {
                line.strip_prefix("Iter. #")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, r)| r)
            })?;
            let parts: Vec<&str> = rest.split_whitespace().collect();
            Some(at(&format!("{}T{}Z", parts[1], parts[2])))
        })
        .collect()
}

fn sundial_next(trigger: &Trigger, base: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let schedule = Schedule::from_trigger(trigger, base).unwrap();
    let mut out = Vec::new();
    let mut cursor = base;
    for _ in 0..n {
        cursor = schedule.next_after(cursor).unwrap();
        out.push(cursor);
    }
    out
}

fn on_calendar_of(t: &sundial_engine::files::translate::Translation) -> String {
    let timer = t.files.iter().find(|f| f.name.ends_with(".timer")).unwrap();
    let lines: Vec<&str> = timer
        .content
        .lines()
        .filter_map(|l| l.strip_prefix("OnCalendar="))
        .collect();
    assert_eq!(lines.len(), 1, "{}", timer.content);
    lines[0].to_string()
}

fn cron_job_schedule(t: &sundial_engine::files::translate::Translation) -> (String, String) {
    let cron_job: CronJob = serde_yaml::from_str(&t.files[0].content).unwrap();
    let spec = cron_job.spec.unwrap();
    (spec.schedule, spec.time_zone.unwrap())
}

#[test]
fn intervals_that_divide_an_hour_or_a_day_fire_at_sundials_instants() {
    // (every, unit, anchor, OnCalendar=, CronJob schedule: None where a CronJob cannot)
    let cases: [(u64, IntervalUnit, &str, &str, Option<&str>); 9] = [
        (
            15,
            IntervalUnit::Minutes,
            "2026-03-10T07:05:00Z",
            "*-*-* *:05/15:00 UTC",
            Some("5-59/15 * * * *"),
        ),
        (
            1,
            IntervalUnit::Minutes,
            "2026-03-10T07:05:00Z",
            "*-*-* *:*:00 UTC",
            Some("* * * * *"),
        ),
        (
            30,
            IntervalUnit::Minutes,
            "2026-03-10T07:40:00Z",
            "*-*-* *:10/30:00 UTC",
            Some("10-59/30 * * * *"),
        ),
        (
            120,
            IntervalUnit::Seconds,
            "2026-03-10T07:41:00Z",
            "*-*-* *:01/2:00 UTC",
            Some("1-59/2 * * * *"),
        ),
        (
            6,
            IntervalUnit::Hours,
            "2026-03-10T13:42:07.250Z",
            "*-*-* 01/6:42:07.250 UTC",
            Some("42 1-23/6 * * *"),
        ),
        (
            1,
            IntervalUnit::Hours,
            "2026-03-10T13:42:00Z",
            "*-*-* *:42:00 UTC",
            Some("42 * * * *"),
        ),
        (
            24,
            IntervalUnit::Hours,
            "2026-03-10T03:00:00Z",
            "*-*-* 03:00:00 UTC",
            Some("0 3 * * *"),
        ),
        (90, IntervalUnit::Minutes, "2026-03-10T00:00:00Z", "", None),
        (
            10,
            IntervalUnit::Seconds,
            "2026-03-10T13:42:03Z",
            "*-*-* *:*:03/10 UTC",
            None,
        ),
    ];
    let base = at("2026-11-21T10:17:30Z");
    let analyze = has_systemd_analyze();
    for (every, unit, anchor, calendar, schedule) in cases {
        let trigger = interval(every, unit, anchor);
        let jobs = [job_with(spec(
            "interval",
            sh("true", None, Vec::new()),
            trigger.clone(),
        ))];
        let label = format!("every {every} {unit:?} from {anchor}");
        let systemd = to_systemd(&jobs, false);
        if calendar.is_empty() {
            assert!(systemd.files.is_empty(), "{label}");
            continue;
        }
        assert_eq!(on_calendar_of(&systemd), calendar, "{label}");
        let expected = sundial_next(&trigger, base, 12);
        if analyze {
            let whole: Vec<_> = expected.iter().map(|t| t.trunc_subsecs(0)).collect();
            assert_eq!(
                systemd_next(calendar, base, 12),
                whole,
                "{label}: {calendar}"
            );
        }
        let k8s = to_kubernetes(&jobs, &KubernetesOptions::default());
        match schedule {
            Some(schedule) => {
                assert_eq!(
                    cron_job_schedule(&k8s),
                    (schedule.to_string(), "UTC".to_string()),
                    "{label}"
                );
                let cron = CronSchedule::parse(schedule).unwrap();
                let mut cursor = base;
                for want in &expected {
                    cursor = cron.next_after(chrono_tz::UTC, cursor).unwrap();
                    // A CronJob fires on the whole minute (the anchor's seconds are noted).
                    let minute = want.with_second(0).unwrap().with_nanosecond(0).unwrap();
                    assert_eq!(cursor, minute, "{label}: {schedule}");
                }
            }
            None => {
                assert!(k8s.files.is_empty(), "{label}");
                assert!(
                    k8s.untranslatable[0].reason.contains("minute resolution"),
                    "{:?}",
                    k8s.untranslatable
                );
            }
        }
    }
    if !analyze {
        println!(
            "note: systemd-analyze is not installed; the OnCalendar= fire times of intervals were not checked"
        );
    }
}

#[test]
fn intervals_that_do_not_divide_evenly_are_refused_with_the_reason() {
    let cases = [
        (45, IntervalUnit::Minutes),
        (7, IntervalUnit::Seconds),
        (90, IntervalUnit::Seconds),
        (90, IntervalUnit::Minutes),
        (5, IntervalUnit::Hours),
        (48, IntervalUnit::Hours),
    ];
    for (every, unit) in cases {
        let jobs = [job_with(spec(
            "uneven",
            sh("true", None, Vec::new()),
            interval(every, unit, "2026-03-10T07:05:00Z"),
        ))];
        for t in [
            to_systemd(&jobs, false),
            to_kubernetes(&jobs, &KubernetesOptions::default()),
        ] {
            assert!(t.files.is_empty(), "every {every} {unit:?}: {:?}", t.files);
            assert!(
                t.untranslatable[0].reason.contains("does not divide"),
                "{:?}",
                t.untranslatable
            );
        }
    }
    let no_anchor = [job_with(spec(
        "no anchor",
        sh("true", None, Vec::new()),
        Trigger::Interval {
            every: 5,
            unit: IntervalUnit::Minutes,
            anchor: None,
        },
    ))];
    let t = to_systemd(&no_anchor, false);
    assert!(
        t.untranslatable[0].reason.contains("no anchor"),
        "{:?}",
        t.untranslatable
    );
}

#[test]
fn a_relative_working_directory_is_refused_by_the_systemd_export() {
    let jobs = [job_with(spec(
        "relative",
        sh("true", Some("data/in"), Vec::new()),
        cron("0 * * * *", Some("UTC")),
    ))];
    let t = to_systemd(&jobs, false);
    assert!(t.files.is_empty());
    assert!(
        t.untranslatable[0].reason.contains("absolute"),
        "{:?}",
        t.untranslatable
    );
}

fn is_dns1123_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 52
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

#[test]
fn every_cron_job_deserializes_into_the_typed_cron_job_with_a_valid_name() {
    let long = "A very long job name that goes on and on well past fifty-two characters -- really";
    let mut jobs = vec![
        job_with(spec(
            long,
            command("true"),
            cron("0 9 * * 1-5", Some("Europe/Riga")),
        )),
        job_with(spec(long, command("true"), cron("0 10 * * *", None))),
        job_with(spec(
            "Ежедневный отчёт",
            command("true"),
            cron("0 10 * * *", None),
        )),
        job_with(spec(
            "--Report_2026!--",
            command("true"),
            cron("0 10 * * *", None),
        )),
    ];
    jobs.extend(tricky_jobs(Path::new("/srv/work")));
    let t = to_kubernetes(&jobs, &KubernetesOptions::default());
    assert_eq!(t.files.len(), 1);
    let mut names = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&t.files[0].content) {
        let cron_job = CronJob::deserialize(document).unwrap_or_else(|e| {
            panic!("not a CronJob: {e}\n{}", t.files[0].content);
        });
        let name = cron_job.metadata.name.clone().unwrap();
        assert!(is_dns1123_label(&name), "{name:?}");
        let spec = cron_job.spec.unwrap();
        CronSchedule::parse(&spec.schedule).unwrap();
        let container = &spec
            .job_template
            .spec
            .unwrap()
            .template
            .spec
            .unwrap()
            .containers[0];
        assert_eq!(container.command.as_ref().unwrap()[0], "/bin/sh");
        names.push(name);
    }
    // 4 named jobs, the quoting job and 2 intervals (the seconds one and once/manual are not).
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(names[0].len(), 52, "{names:?}");
    assert_eq!(
        names[1],
        format!("{}-2", names[0][..50].trim_end_matches('-')),
        "{names:?}"
    );
    assert_eq!(names[2], "job");
    assert_eq!(names[3], "report-2026");
    let quoting: CronJob = serde_yaml::Deserializer::from_str(&t.files[0].content)
        .nth(4)
        .map(|d| CronJob::deserialize(d).unwrap())
        .unwrap();
    let container = quoting
        .spec
        .unwrap()
        .job_template
        .spec
        .unwrap()
        .template
        .spec
        .unwrap()
        .containers[0]
        .clone();
    assert_eq!(container.working_dir.as_deref(), Some("/srv/work"));
    let env = container.env.unwrap();
    assert_eq!(
        env[0].value.as_deref(),
        Some("$5 or 100% \"quoted\" back\\slash")
    );
    assert_eq!(env[1].value.as_deref(), Some("line one\nline two\ttab"));
    let refused: Vec<&str> = t.untranslatable.iter().map(|u| u.job.as_str()).collect();
    assert_eq!(refused, ["every 10 seconds", "once", "manual", "at login"]);
}
