//! "Run now with…" (issue 16): environment values and arguments for one run, with real
//! processes. The child prints what it got into its log; the run row records the overrides;
//! bad overrides are field errors and nothing runs.
#![cfg(unix)]

mod files_support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use files_support::{passive_engine, spec, within};
use sundial_engine::domain::{
    CommandSpec, EnvOverride, EnvVar, Interpreter, JobKind, Program, Run, RunOverrides, RunReason,
    RunStatus, Trigger,
};
use sundial_engine::logs::Stream;
use sundial_engine::store::RunFilter;
use sundial_engine::{
    Engine, EngineConfig, EngineError, LogStore, Runner, RunnerConfig, SystemClock,
};

fn script_job(body: &str, env: Vec<EnvVar>) -> JobKind {
    JobKind::Command(CommandSpec {
        program: Program::Script {
            interpreter: Interpreter::Sh,
            body: body.into(),
        },
        working_dir: None,
        env,
    })
}

async fn run_to_end(engine: &Engine, run: Run) -> Run {
    let mut events = engine.subscribe();
    within("the run to end", Duration::from_secs(30), async {
        loop {
            let r = engine.get_run(run.id).await.unwrap();
            if r.status.is_terminal() {
                return r;
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), events.recv()).await;
        }
    })
    .await
}

fn stdout(dir: &Path, run: &Run) -> Vec<String> {
    LogStore::new(dir.join("runs"))
        .open(run.id)
        .unwrap()
        .read_lines(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|l| l.stream == Stream::Stdout)
        .map(|l| l.text)
        .collect()
}

fn notes(dir: &Path, run: &Run) -> Vec<String> {
    LogStore::new(dir.join("runs"))
        .open(run.id)
        .unwrap()
        .read_lines(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|l| l.stream == Stream::Sundial)
        .map(|l| l.text)
        .collect()
}

const PRINT_ENV: &str = r#"echo "LEVEL=$LEVEL EXTRA=${EXTRA-unset}"
[ "$TOKEN" = "s3cret-token" ] && echo "token kept"
for a in "$@"; do echo "arg:$a"; done"#;

fn overrides(env: &[(&str, &str)], args: &[&str]) -> RunOverrides {
    RunOverrides {
        env: env.iter().map(|(n, v)| EnvOverride::new(*n, *v)).collect(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

#[tokio::test]
async fn a_script_runs_with_the_values_and_arguments_given_and_the_run_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let job = engine
        .create_job(spec(
            "print env",
            script_job(
                PRINT_ENV,
                vec![
                    EnvVar::new("LEVEL", "info"),
                    EnvVar::secret("TOKEN", "s3cret-token"),
                ],
            ),
            Trigger::Manual,
        ))
        .await
        .unwrap();

    let asked = overrides(
        &[("LEVEL", "debug"), ("EXTRA", "x y")],
        &["first arg", "--flag"],
    );
    let run = engine.run_now_with(job.id, asked.clone()).await.unwrap();
    assert_eq!(run.overrides.as_ref(), Some(&asked));
    let run = run_to_end(&engine, run).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        stdout(dir.path(), &run),
        vec![
            "LEVEL=debug EXTRA=x y",
            "token kept",
            "arg:first arg",
            "arg:--flag"
        ]
    );
    // The log says which values were set for the run (names only).
    assert!(
        notes(dir.path(), &run)
            .iter()
            .any(|n| n == "[sundial] run with values set for LEVEL, EXTRA"),
        "{:?}",
        notes(dir.path(), &run)
    );
    // Recorded on the row, as read back by another process on the database.
    let other = passive_engine(dir.path()).await;
    let stored = other.get_run(run.id).await.unwrap();
    assert_eq!(stored.overrides, Some(asked));
    assert_eq!(stored.reason, RunReason::Manual);
    other.shutdown(false).await;

    // The job itself is unchanged: the next plain run gets the job's values.
    let plain = engine.run_now(job.id).await.unwrap();
    let plain = run_to_end(&engine, plain).await;
    assert_eq!(plain.overrides, None);
    assert_eq!(
        stdout(dir.path(), &plain),
        vec!["LEVEL=info EXTRA=unset", "token kept"]
    );
    let stored_job = engine.get_job(job.id).await.unwrap();
    assert_eq!(stored_job.revision, job.revision);
    engine.shutdown(false).await;
}

#[tokio::test]
async fn arguments_go_after_a_programs_own() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let kind = JobKind::Command(CommandSpec {
        program: Program::Exec {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                r#"printf '%s|' "$@"; echo"#.into(),
                "sh".into(),
                "own".into(),
            ],
        },
        working_dir: None,
        env: vec![],
    });
    let job = engine
        .create_job(spec("exec", kind, Trigger::Manual))
        .await
        .unwrap();
    let run = engine
        .run_now_with(job.id, overrides(&[], &["added", "two words"]))
        .await
        .unwrap();
    let run = run_to_end(&engine, run).await;
    assert_eq!(stdout(dir.path(), &run), vec!["own|added|two words|"]);
    engine.shutdown(false).await;
}

fn fields(e: EngineError) -> Vec<(String, String)> {
    e.field_errors()
        .expect("field errors")
        .0
        .iter()
        .map(|f| (f.field.clone(), f.message.clone()))
        .collect()
}

#[tokio::test]
async fn bad_overrides_are_field_errors_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let job = engine
        .create_job(spec(
            "strict",
            script_job("echo hi", vec![EnvVar::secret("TOKEN", "s3cret-token")]),
            Trigger::Manual,
        ))
        .await
        .unwrap();
    let long = "x".repeat(8 * 1024 + 1);
    let bad = RunOverrides {
        env: vec![
            EnvOverride::new("1BAD", "v"),
            EnvOverride::new("SUNDIAL_RUN_ID", "v"),
            EnvOverride::new("TOKEN", "guess"),
            EnvOverride::new("OK", "a"),
            EnvOverride::new("OK", "b"),
            EnvOverride::new("NUL", "a\0b"),
            EnvOverride::new("LONG", long.clone()),
        ],
        args: vec!["fine".into(), long],
    };
    let errors = fields(engine.run_now_with(job.id, bad).await.unwrap_err());
    let field = |f: &str| {
        errors
            .iter()
            .find(|(name, _)| name == f)
            .map(|(_, m)| m.as_str())
            .unwrap_or_else(|| panic!("no error for {f}: {errors:?}"))
    };
    assert!(field("env[0].name").contains("not a valid variable name"));
    assert!(field("env[1].name").contains("set by Sundial itself"));
    assert!(field("env[2].name").contains("TOKEN is a secret"));
    assert!(field("env[4].name").contains("set twice"));
    assert!(field("env[5].value").contains("NUL"));
    assert!(field("env[6].value").contains("at most 8192"));
    assert!(field("args[1]").contains("at most 8192"));
    assert_eq!(errors.len(), 7, "{errors:?}");

    let too_many = RunOverrides {
        env: vec![],
        args: (0..65).map(|i| i.to_string()).collect(),
    };
    let errors = fields(engine.run_now_with(job.id, too_many).await.unwrap_err());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "args");
    assert!(errors[0].1.contains("at most 64"), "{errors:?}");

    // An HTTP job has neither an environment nor arguments: said, not ignored.
    let http = engine
        .create_job(spec(
            "ping",
            JobKind::Http(
                serde_json::from_value(serde_json::json!({"url": "http://127.0.0.1:9/"})).unwrap(),
            ),
            Trigger::Manual,
        ))
        .await
        .unwrap();
    let errors = fields(
        engine
            .run_now_with(http.id, overrides(&[("A", "b")], &["x"]))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        errors.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
        vec!["env", "args"]
    );
    assert!(errors[0].1.contains("HTTP job has no environment"));

    let runs = engine.list_runs(&RunFilter::default()).await.unwrap();
    assert!(runs.is_empty(), "nothing ran: {runs:?}");
    engine.shutdown(false).await;
}

#[tokio::test]
async fn a_retry_of_a_run_with_parameters_runs_with_them_too() {
    let dir = tempfile::tempdir().unwrap();
    let runner = Runner::new(
        RunnerConfig::default(),
        LogStore::new(dir.path().join("runs")),
    )
    .unwrap();
    let engine = Engine::start(
        EngineConfig::new(dir.path().join("sundial.db")),
        Arc::new(SystemClock),
        Arc::new(runner),
    )
    .await
    .unwrap();
    let mut job_spec = spec(
        "flaky",
        script_job(r#"echo "MODE=$MODE $1"; exit 3"#, vec![]),
        Trigger::Manual,
    );
    job_spec.policies.retry.max_attempts = 2;
    job_spec.policies.retry.initial_delay_secs = 0;
    job_spec.policies.retry.max_delay_secs = 0;
    let job = engine.create_job(job_spec).await.unwrap();
    let asked = overrides(&[("MODE", "again")], &["arg"]);
    let first = engine.run_now_with(job.id, asked.clone()).await.unwrap();
    let runs = within("the retry to end", Duration::from_secs(30), async {
        loop {
            let runs = engine
                .list_runs(&RunFilter {
                    job_id: Some(job.id),
                    ..RunFilter::default()
                })
                .await
                .unwrap();
            if runs.len() == 2 && runs.iter().all(|r| r.status.is_terminal()) {
                return runs;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let retry = runs.iter().find(|r| r.id != first.id).unwrap();
    assert_eq!(retry.reason, RunReason::Retry);
    assert_eq!(retry.overrides, Some(asked));
    assert_eq!(stdout(dir.path(), retry), vec!["MODE=again arg"]);
    engine.shutdown(false).await;
}
