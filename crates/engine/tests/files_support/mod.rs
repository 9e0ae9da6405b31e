//! Support for the job file, jobs folder and CLI tests: a passive engine on a temp database,
//! job specs of every kind, and waiting on events with a safety limit.
#![allow(dead_code)]

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sundial_engine::domain::{
    ChainOn, CommandSpec, EnvVar, HttpSpec, Interpreter, IntervalUnit, JobKind, JobSpec,
    OverlapPolicy, Policies, Program, StatusRange, Trigger,
};
use sundial_engine::{Engine, EngineConfig, LogStore, Runner, RunnerConfig, SystemClock};

/// An engine that never schedules (nothing fires during the test) over `dir`.
pub async fn passive_engine(dir: &Path) -> Engine {
    let runner = Runner::new(RunnerConfig::default(), LogStore::new(dir.join("runs"))).unwrap();
    Engine::start(
        EngineConfig::passive(dir.join("sundial.db")),
        Arc::new(SystemClock),
        Arc::new(runner),
    )
    .await
    .unwrap()
}

/// Waits for `work`, failing the test after `limit` instead of hanging.
pub async fn within<T>(what: &str, limit: Duration, work: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, work).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

pub fn command(body: &str) -> JobKind {
    JobKind::Command(CommandSpec {
        program: Program::Script {
            interpreter: Interpreter::Sh,
            body: body.into(),
        },
        working_dir: None,
        env: Vec::new(),
    })
}

pub fn spec(name: &str, kind: JobKind, trigger: Trigger) -> JobSpec {
    JobSpec {
        name: name.into(),
        description: String::new(),
        tags: Vec::new(),
        enabled: true,
        kind,
        trigger,
        policies: Policies::default(),
    }
}

pub fn cron(expr: &str, tz: Option<&str>) -> Trigger {
    Trigger::Cron {
        expr: expr.into(),
        timezone: tz.map(str::to_string),
    }
}

/// One spec of every kind of job, program, trigger and policy (the after-job one is made
/// by the caller, since it names an upstream id).
pub fn every_kind() -> Vec<JobSpec> {
    let mut exec = spec(
        "exec with env",
        JobKind::Command(CommandSpec {
            program: Program::Exec {
                program: "/bin/echo".into(),
                args: vec!["a b".into(), "\"quoted\"".into(), "100%".into()],
            },
            working_dir: Some("/tmp".into()),
            env: vec![
                EnvVar::new("PLAIN", "value with spaces"),
                EnvVar::secret("TOKEN", "s3cr3t-token"),
            ],
        }),
        cron("0 9 * * MON-FRI", Some("Europe/Riga")),
    );
    exec.description = "multi\nline description".into();
    exec.tags = vec!["reports".into(), "daily".into()];
    exec.policies.timeout_secs = Some(600);
    exec.policies.retry.max_attempts = 3;
    exec.policies.retry.multiplier = 1.5;
    exec.policies.overlap = OverlapPolicy::QueueOne;
    exec.policies.missed.mode = sundial_engine::domain::MissedRunMode::RunAll;
    exec.policies.missed.max_catch_up = 4;
    exec.policies.missed.grace_secs = 300;
    exec.policies.notify = sundial_engine::domain::NotifyPolicy::Always;

    let mut python = spec(
        "python script",
        JobKind::Command(CommandSpec {
            program: Program::Script {
                interpreter: Interpreter::Python,
                body: "import sys\nprint('hi', file=sys.stderr)\n".into(),
            },
            working_dir: None,
            env: Vec::new(),
        }),
        cron("*/30 * * * * *", None),
    );
    // Conditions: only on AC power, a random delay (exported to systemd as written).
    python.policies.conditions.ac_power = true;
    python.policies.conditions.max_wait_secs = 1800;
    python.policies.conditions.random_delay_secs = 120;
    let custom = spec(
        "custom interpreter",
        JobKind::Command(CommandSpec {
            program: Program::Script {
                interpreter: Interpreter::Custom("/usr/bin/env".into()),
                body: "true".into(),
            },
            working_dir: None,
            env: Vec::new(),
        }),
        Trigger::Interval {
            every: 15,
            unit: IntervalUnit::Minutes,
            anchor: Some("2026-01-01T00:00:00Z".parse().unwrap()),
        },
    );
    let mut http = spec(
        "http check",
        JobKind::Http(HttpSpec {
            method: "POST".into(),
            url: "https://example.com/hook?x=1".into(),
            headers: vec![
                EnvVar::new("Content-Type", "application/json"),
                EnvVar::secret("Authorization", "Bearer abc"),
            ],
            body: Some("{\"a\": 1}".into()),
            expect_status: StatusRange { min: 200, max: 204 },
            body_contains: Some("ok".into()),
            log_body_kib: 8,
            ca_bundle: None,
        }),
        Trigger::Once {
            at: "2031-05-01T10:00:00Z".parse().unwrap(),
        },
    );
    http.enabled = false;
    http.policies.conditions.network = true;
    http.policies.conditions.on_timeout = sundial_engine::domain::ConditionTimeout::Run;
    let manual = spec("manual only", command("echo manual"), Trigger::Manual);
    vec![exec, python, custom, http, manual]
}

pub fn after(name: &str, upstream: sundial_engine::domain::JobId) -> JobSpec {
    spec(
        name,
        command("echo after"),
        Trigger::AfterJob {
            job_id: upstream,
            on: ChainOn::Failure,
        },
    )
}
