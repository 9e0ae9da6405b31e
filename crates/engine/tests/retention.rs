//! Retention with the real runner: rows and log files go together, and nothing is orphaned.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sundial_engine::domain::{JobId, JobSpec, RunId, RunStatus};
use sundial_engine::retention::RetentionPolicy;
use sundial_engine::store::RunFilter;
use sundial_engine::{
    Engine, EngineConfig, EngineEvent, FakeClock, LogStore, Runner, RunnerConfig,
};

struct Setup {
    dir: tempfile::TempDir,
    clock: FakeClock,
    engine: Engine,
}

async fn start(dir: tempfile::TempDir, clock: FakeClock) -> Setup {
    let logs = LogStore::new(dir.path().join("runs"));
    let runner = Runner::with_clock(
        RunnerConfig::default(),
        logs.clone(),
        Arc::new(clock.clone()),
    )
    .expect("runner");
    let mut config = EngineConfig::new(dir.path().join("sundial.db"));
    config.logs = Some(logs);
    let engine = Engine::start(config, Arc::new(clock.clone()), Arc::new(runner))
        .await
        .unwrap();
    Setup { dir, clock, engine }
}

fn echo_job(name: &str) -> JobSpec {
    serde_json::from_value(json!({
        "name": name,
        "kind": {"type": "command", "program": {"mode": "exec", "program": "sh", "args": ["-c", "echo one; echo two"]}},
        "trigger": {"type": "manual"},
    }))
    .unwrap()
}

/// Runs the job now and waits (on engine events) until the run has ended.
async fn run_to_end(engine: &Engine, job: JobId) -> RunId {
    let mut events = engine.subscribe();
    let run = engine.run_now(job).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::RunChanged { run_id, status, .. })
                    if run_id == run.id && status.is_terminal() => {}
                Ok(_) => continue,
                Err(e) => panic!("event stream ended: {e}"),
            }
            // The outcome is recorded before the loop is told; wait for that record.
            if engine.get_run(run.id).await.unwrap().status.is_terminal() {
                return;
            }
        }
    })
    .await
    .expect("the run should end");
    run.id
}

fn log_files(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(days) = std::fs::read_dir(root) {
        for day in days.flatten() {
            for file in std::fs::read_dir(day.path()).unwrap().flatten() {
                names.push(file.file_name().to_string_lossy().to_string());
            }
        }
    }
    names.sort();
    names
}

/// The files of short runs: a log without an index (only a log past
/// `INDEX_AFTER_BYTES` has a `.idx`).
fn expected_files(runs: &[RunId]) -> Vec<String> {
    let mut names: Vec<String> = runs.iter().map(|r| format!("{r}.log")).collect();
    names.sort();
    names
}

#[tokio::test]
async fn keep_n_runs_removes_rows_and_files_together() {
    let s = start(
        tempfile::tempdir().unwrap(),
        FakeClock::new(chrono::Utc::now()),
    )
    .await;
    s.engine
        .set_retention(RetentionPolicy {
            keep_runs: Some(3),
            keep_days: None,
        })
        .await
        .unwrap();
    let job = s.engine.create_job(echo_job("echo")).await.unwrap();
    let mut runs = Vec::new();
    for _ in 0..5 {
        runs.push(run_to_end(&s.engine, job.id).await);
    }
    // The prune after the last run happens on the loop, right after its outcome is recorded.
    wait_for(|| async { s.engine.get_run(runs[1]).await.is_err() }).await;
    let kept: Vec<RunId> = {
        let mut rows = s
            .engine
            .list_runs(&RunFilter {
                job_id: Some(job.id),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        rows.sort_by_key(|r| r.id);
        assert!(rows.iter().all(|r| r.status == RunStatus::Succeeded));
        rows.into_iter().map(|r| r.id).collect()
    };
    assert_eq!(kept, runs[2..].to_vec(), "the newest three stay");
    assert_eq!(log_files(&s.dir.path().join("runs")), expected_files(&kept));
}

#[tokio::test]
async fn keep_days_ages_out_runs_and_their_logs_and_deleting_a_job_takes_its_files() {
    let s = start(
        tempfile::tempdir().unwrap(),
        FakeClock::new(chrono::Utc::now()),
    )
    .await;
    s.engine
        .set_retention(RetentionPolicy {
            keep_runs: None,
            keep_days: Some(30),
        })
        .await
        .unwrap();
    let old_job = s.engine.create_job(echo_job("old")).await.unwrap();
    let old = run_to_end(&s.engine, old_job.id).await;
    s.clock.jump(chrono::Duration::days(31));
    let other = s.engine.create_job(echo_job("recent")).await.unwrap();
    let recent = run_to_end(&s.engine, other.id).await;
    // Applying the policy (as saving it does) prunes every job.
    s.engine
        .set_retention(RetentionPolicy {
            keep_runs: None,
            keep_days: Some(30),
        })
        .await
        .unwrap();
    wait_for(|| async { s.engine.get_run(old).await.is_err() }).await;
    assert_eq!(
        log_files(&s.dir.path().join("runs")),
        expected_files(&[recent])
    );

    s.engine.delete_job(other.id).await.unwrap();
    assert!(
        log_files(&s.dir.path().join("runs")).is_empty(),
        "deleting a job takes its logs"
    );
}

#[tokio::test]
async fn log_files_without_a_run_are_swept_at_start() {
    let s = start(
        tempfile::tempdir().unwrap(),
        FakeClock::new(chrono::Utc::now()),
    )
    .await;
    let job = s.engine.create_job(echo_job("echo")).await.unwrap();
    let kept = run_to_end(&s.engine, job.id).await;
    // A crash between deleting rows and files leaves files like these behind.
    let stray = RunId::new();
    let logs = LogStore::new(s.dir.path().join("runs"));
    for path in [logs.log_path(stray), logs.index_path(stray)] {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"left over").unwrap();
    }
    s.engine.shutdown(false).await;
    let Setup { dir, clock, .. } = s;
    let s = start(dir, clock).await;
    wait_for(|| async { !logs.log_path(stray).exists() }).await;
    assert_eq!(
        log_files(&s.dir.path().join("runs")),
        expected_files(&[kept])
    );
}

/// Polls a condition that a background task makes true, failing after 10 s.
async fn wait_for<F, Fut>(condition: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    tokio::time::timeout(Duration::from_secs(10), async {
        while !condition().await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("condition not met within 10 s");
}
