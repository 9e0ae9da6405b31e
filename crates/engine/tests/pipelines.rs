//! Pipelines that pass data, with the real runner: a run chained after another gets the
//! upstream run's identity, outcome and log (`SUNDIAL_UPSTREAM_*`) and the `key=value` lines it
//! wrote to `$SUNDIAL_OUTPUT` (`SUNDIAL_OUTPUT_<KEY>`); both are kept with the runs.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sundial_engine::domain::{EnvVar, Job, JobId, JobSpec, Run, RunId, RunStatus, RunValue};
use sundial_engine::store::RunFilter;
use sundial_engine::{Engine, EngineConfig, FakeClock, LogStore, Runner, RunnerConfig};

struct Setup {
    _dir: tempfile::TempDir,
    engine: Engine,
    logs: LogStore,
}

async fn start() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::new(chrono::Utc::now());
    let logs = LogStore::new(dir.path().join("runs"));
    let runner = Runner::with_clock(
        RunnerConfig::default(),
        logs.clone(),
        Arc::new(clock.clone()),
    )
    .expect("runner");
    let mut config = EngineConfig::new(dir.path().join("sundial.db"));
    config.logs = Some(logs.clone());
    let engine = Engine::start(config, Arc::new(clock), Arc::new(runner))
        .await
        .unwrap();
    Setup {
        _dir: dir,
        engine,
        logs,
    }
}

fn script_job(name: &str, body: &str, trigger: Value, extra: Value) -> JobSpec {
    let mut spec = json!({
        "name": name,
        "kind": {"type": "command", "program": {"mode": "script", "interpreter": "sh", "body": body}},
        "trigger": trigger,
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            spec.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(spec).unwrap()
}

fn after(job: &Job, on: &str) -> Value {
    json!({"type": "after_job", "job_id": job.id.to_string(), "on": on})
}

/// The job's finished runs, oldest first, once there are `n` of them.
async fn finished_runs(engine: &Engine, job: JobId, n: usize) -> Vec<Run> {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let mut runs = engine
                .list_runs(&RunFilter {
                    job_id: Some(job),
                    limit: 100,
                    ..RunFilter::default()
                })
                .await
                .unwrap();
            runs.retain(|r| r.status.is_terminal());
            if runs.len() >= n {
                runs.reverse();
                return runs;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{n} runs of the job did not end within 30 s"))
}

fn log_text(logs: &LogStore, run: RunId) -> String {
    let log = logs.open(run).unwrap();
    let n = log.line_count().unwrap() as usize;
    log.read_lines(0, n)
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect::<Vec<_>>()
        .join("\n")
}

fn value<'a>(values: &'a [RunValue], key: &str) -> Option<&'a str> {
    values
        .iter()
        .find(|v| v.key == key)
        .map(|v| v.value.as_str())
}

const PRINT_PASSED: &str = "env | grep -E '^SUNDIAL_(UPSTREAM|OUTPUT)_' | sort";

#[tokio::test]
async fn a_chained_run_gets_the_upstream_run_and_what_it_wrote_to_its_output_file() {
    let s = start().await;
    let producer = s
        .engine
        .create_job(script_job(
            "producer",
            "echo 'rows=42' >> \"$SUNDIAL_OUTPUT\"\n\
             echo '# a comment' >> \"$SUNDIAL_OUTPUT\"\n\
             echo 'path=/data/out 1.csv' >> \"$SUNDIAL_OUTPUT\"\n\
             echo 'not a pair' >> \"$SUNDIAL_OUTPUT\"\n\
             echo produced",
            json!({"type": "manual"}),
            json!({}),
        ))
        .await
        .unwrap();
    let processor = s
        .engine
        .create_job(script_job(
            "processor",
            PRINT_PASSED,
            after(&producer, "success"),
            json!({}),
        ))
        .await
        .unwrap();
    let up = s.engine.run_now(producer.id).await.unwrap();
    let down = finished_runs(&s.engine, processor.id, 1).await.remove(0);
    assert_eq!(down.status, RunStatus::Succeeded, "{:?}", down.error);
    assert_eq!(down.parent_run_id, Some(up.id));

    // The child saw the values in its environment.
    let printed = log_text(&s.logs, down.id);
    let up_log = s.logs.log_path(up.id);
    for line in [
        format!("SUNDIAL_UPSTREAM_RUN_ID={}", up.id),
        format!("SUNDIAL_UPSTREAM_JOB_ID={}", producer.id),
        "SUNDIAL_UPSTREAM_JOB_NAME=producer".to_string(),
        "SUNDIAL_UPSTREAM_STATUS=succeeded".to_string(),
        "SUNDIAL_UPSTREAM_EXIT_CODE=0".to_string(),
        format!("SUNDIAL_UPSTREAM_LOG={}", up_log.display()),
        "SUNDIAL_OUTPUT_ROWS=42".to_string(),
        "SUNDIAL_OUTPUT_PATH=/data/out 1.csv".to_string(),
    ] {
        assert!(
            printed.contains(&line),
            "{line:?} not in the log:\n{printed}"
        );
    }
    assert!(up_log.is_file(), "the upstream log path names its file");
    assert!(
        printed.contains(&format!(
            "[sundial] after run {} of producer (succeeded): SUNDIAL_UPSTREAM_* set, and 2 of its outputs: SUNDIAL_OUTPUT_ROWS, SUNDIAL_OUTPUT_PATH",
            up.id
        )),
        "the log says what was passed:\n{printed}"
    );

    // The producer's log says what it handed on and which line was not taken.
    let produced = log_text(&s.logs, up.id);
    assert!(
        produced.contains("[sundial] output for the jobs chained after this one: ROWS, PATH"),
        "{produced}"
    );
    assert!(
        produced.contains("[sundial] SUNDIAL_OUTPUT: line 4 has no `=` (expected key=value)"),
        "{produced}"
    );

    // Both are kept with the runs, for the run page.
    let written = s.engine.run_values(up.id).await.unwrap();
    assert_eq!(
        written.output,
        [
            RunValue::new("ROWS", "42"),
            RunValue::new("PATH", "/data/out 1.csv")
        ]
    );
    assert!(written.passed.is_empty());
    let given = s.engine.run_values(down.id).await.unwrap();
    assert_eq!(value(&given.passed, "SUNDIAL_OUTPUT_ROWS"), Some("42"));
    assert_eq!(
        value(&given.passed, "SUNDIAL_UPSTREAM_RUN_ID"),
        Some(up.id.to_string().as_str())
    );
    assert!(given.output.is_empty());
}

#[tokio::test]
async fn a_failed_upstream_passes_its_status_and_exit_code_to_the_job_run_on_failure() {
    let s = start().await;
    let producer = s
        .engine
        .create_job(script_job(
            "flaky source",
            "echo 'reason=no input' >> \"$SUNDIAL_OUTPUT\"; exit 3",
            json!({"type": "manual"}),
            json!({}),
        ))
        .await
        .unwrap();
    let alert = s
        .engine
        .create_job(script_job(
            "alert",
            PRINT_PASSED,
            after(&producer, "failure"),
            json!({}),
        ))
        .await
        .unwrap();
    s.engine.run_now(producer.id).await.unwrap();
    let down = finished_runs(&s.engine, alert.id, 1).await.remove(0);
    let printed = log_text(&s.logs, down.id);
    for line in [
        "SUNDIAL_UPSTREAM_STATUS=failed",
        "SUNDIAL_UPSTREAM_EXIT_CODE=3",
        "SUNDIAL_OUTPUT_REASON=no input",
    ] {
        assert!(
            printed.contains(line),
            "{line:?} not in the log:\n{printed}"
        );
    }
}

#[tokio::test]
async fn a_retry_of_a_chained_run_is_given_the_same_values_as_its_first_attempt() {
    let s = start().await;
    let marker = s._dir.path().join("tried-once");
    let producer = s
        .engine
        .create_job(script_job(
            "producer",
            "echo 'batch=2026-12-02' >> \"$SUNDIAL_OUTPUT\"",
            json!({"type": "manual"}),
            json!({}),
        ))
        .await
        .unwrap();
    let body = format!(
        "{PRINT_PASSED}\nif [ ! -e '{m}' ]; then touch '{m}'; exit 1; fi",
        m = marker.display()
    );
    let consumer = s
        .engine
        .create_job(script_job(
            "consumer",
            &body,
            after(&producer, "success"),
            json!({"policies": {"retry": {"max_attempts": 2, "initial_delay_secs": 0, "multiplier": 2.0, "max_delay_secs": 0}}}),
        ))
        .await
        .unwrap();
    s.engine.run_now(producer.id).await.unwrap();
    let runs = finished_runs(&s.engine, consumer.id, 2).await;
    assert_eq!(
        runs.iter().map(|r| r.status).collect::<Vec<_>>(),
        [RunStatus::Failed, RunStatus::Succeeded]
    );
    assert_eq!(
        runs[1].parent_run_id,
        Some(runs[0].id),
        "the second is a retry"
    );
    for run in &runs {
        let printed = log_text(&s.logs, run.id);
        assert!(
            printed.contains("SUNDIAL_OUTPUT_BATCH=2026-12-02"),
            "attempt {}:\n{printed}",
            run.attempt
        );
    }
    let retry = s.engine.run_values(runs[1].id).await.unwrap();
    assert_eq!(
        value(&retry.passed, "SUNDIAL_OUTPUT_BATCH"),
        Some("2026-12-02")
    );
}

#[tokio::test]
async fn a_secret_written_to_the_output_file_is_masked_where_it_is_kept_and_passed() {
    let s = start().await;
    let mut spec = script_job(
        "with a token",
        "echo \"token=$API_TOKEN\" >> \"$SUNDIAL_OUTPUT\"; echo 'plain=visible' >> \"$SUNDIAL_OUTPUT\"",
        json!({"type": "manual"}),
        json!({}),
    );
    if let sundial_engine::domain::JobKind::Command(command) = &mut spec.kind {
        command
            .env
            .push(EnvVar::secret("API_TOKEN", "tok-7c1d44e0"));
    }
    let producer = s.engine.create_job(spec).await.unwrap();
    let consumer = s
        .engine
        .create_job(script_job(
            "consumer",
            PRINT_PASSED,
            after(&producer, "success"),
            json!({}),
        ))
        .await
        .unwrap();
    let up = s.engine.run_now(producer.id).await.unwrap();
    let down = finished_runs(&s.engine, consumer.id, 1).await.remove(0);
    let kept = s.engine.run_values(up.id).await.unwrap();
    assert_eq!(value(&kept.output, "PLAIN"), Some("visible"));
    let token = value(&kept.output, "TOKEN").expect("the key is kept");
    assert!(!token.contains("tok-7c1d44e0"), "kept in clear: {token}");
    let printed = log_text(&s.logs, down.id);
    assert!(!printed.contains("tok-7c1d44e0"), "{printed}");
    assert!(
        printed.contains(&format!("SUNDIAL_OUTPUT_TOKEN={token}")),
        "{printed}"
    );
}
