//! Failed store writes never stall scheduling (issue 12): a store that refuses one job's rows
//! while another job keeps firing, a job deleted by another process between its firing and
//! its row, a run whose end cannot be recorded for a while, and a data folder on a real 4 MiB
//! file system filled up mid-run.

mod engine_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine_support::*;
use serde_json::json;
use sundial_engine::domain::{JobId, RunStatus};
use sundial_engine::store::Store;
use sundial_engine::{Clock, EngineEvent};

/// Counts the application-log events whose message contains a text (the test's own
/// subscriber, on this test's thread).
#[derive(Clone, Default)]
struct LogCounter {
    seen: Arc<Mutex<Vec<String>>>,
}

impl LogCounter {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(self.clone());
        tracing::subscriber::set_default(subscriber)
    }

    fn count(&self, text: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.contains(text))
            .count()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        self.seen.lock().unwrap().push(message.0);
    }
}

/// Keeps tokio's paused clock from jumping ahead while `work` waits on a thread tokio cannot
/// see (a raw SQLite connection), as the store does with `hold_paused_clock`.
async fn held<T>(work: impl std::future::Future<Output = T>) -> T {
    let (done, wait) = std::sync::mpsc::channel::<()>();
    drop(tokio::task::spawn_blocking(move || {
        let _ = wait.recv();
    }));
    let out = work.await;
    drop(done);
    out
}

fn storage_events(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
) -> Vec<Option<String>> {
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let EngineEvent::StorageChanged { problem } = event {
            seen.push(problem);
        }
    }
    seen
}

async fn refuse_runs_of(h: &Harness, job: JobId) {
    write_sql(
        &h.db_path(),
        &format!(
            "CREATE TRIGGER refuse_runs BEFORE INSERT ON runs WHEN NEW.job_id = '{job}' \
             BEGIN SELECT RAISE(ABORT, 'injected write failure'); END"
        ),
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_store_refusing_one_jobs_rows_holds_back_only_that_job_and_it_resumes_by_itself() {
    let log = LogCounter::default();
    let _guard = log.install();
    let mut h = Harness::start("2024-01-01T00:00:00Z").await;
    let healthy = h
        .engine
        .create_job(spec("healthy", every_secs(10), json!(null)))
        .await
        .unwrap();
    let refused = h
        .engine
        .create_job(spec("refused", every_secs(10), json!(null)))
        .await
        .unwrap();
    h.engine.shutdown(false).await;
    refuse_runs_of(&h, refused.id).await;
    h.restart().await;
    let mut events = h.engine.subscribe();

    h.advance_secs(5 * 60).await;
    let due: Vec<_> = h
        .executor
        .executions_of("healthy")
        .iter()
        .map(|e| (e.run.scheduled_for, e.started_at))
        .collect();
    assert!(
        due.len() >= 29,
        "the healthy job fired every 10 s for 5 minutes: {}",
        due.len()
    );
    assert!(
        due.iter().all(|(due, started)| due == started),
        "and each firing started on time: {due:?}"
    );
    assert!(h.runs_of(&refused).await.is_empty());
    assert!(h.executor.executions_of("refused").is_empty());
    let problem = h
        .engine
        .storage_problem()
        .expect("a storage problem is shown");
    assert!(problem.contains("injected write failure"), "{problem}");
    // Backoff 1, 2, 4 ... 60 s: about ten attempts in 5 minutes, logged at most once a minute.
    let logged = log.count("could not record this job's firings");
    assert!(
        (2..=6).contains(&logged),
        "logged {logged} times in 5 minutes"
    );

    held(write_sql(&h.db_path(), "DROP TRIGGER refuse_runs")).await;
    h.advance_secs(2 * 60).await;
    let runs = h.runs_of(&refused).await;
    assert!(
        runs.iter().any(|r| r.status == RunStatus::Succeeded),
        "the refused job runs again once its rows can be written: {runs:?}"
    );
    assert_eq!(h.engine.storage_problem(), None);
    let seen = storage_events(&mut events);
    assert_eq!(seen.first().map(Option::is_some), Some(true), "{seen:?}");
    assert_eq!(seen.last(), Some(&None), "{seen:?}");
    assert_eq!(
        h.runs_of(&healthy).await.len(),
        h.executor.executions_of("healthy").len(),
        "every firing of the healthy job has its row"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_deleted_by_another_process_before_its_row_is_written_is_dropped_from_the_loop() {
    let log = LogCounter::default();
    let _guard = log.install();
    let h = Harness::start("2024-01-01T00:00:00Z").await;
    let kept = h
        .engine
        .create_job(spec("kept", every_secs(10), json!(null)))
        .await
        .unwrap();
    let gone = h
        .engine
        .create_job(spec("gone", every_secs(10), json!(null)))
        .await
        .unwrap();
    h.advance_secs(15).await;
    assert_eq!(h.executor.executions_of("gone").len(), 1);
    // Another process deletes it; this engine is not told (no change feed in this test).
    let other = Store::open_with(&h.db_path(), true).await.unwrap();
    assert!(other.delete_job(gone.id, h.clock.now()).await.unwrap());
    drop(other);
    h.advance_secs(60).await;
    assert_eq!(
        h.executor.executions_of("gone").len(),
        1,
        "the deleted job never ran again"
    );
    assert_eq!(h.engine.next_fire(gone.id).await.unwrap(), None);
    assert_eq!(
        log.count("a job deleted by another process had a firing due"),
        1,
        "its firing was dropped once, not retried"
    );
    assert_eq!(h.engine.storage_problem(), None);
    let kept_runs = h.runs_of(&kept).await;
    assert!(
        kept_runs.len() >= 7,
        "the other job kept firing: {}",
        kept_runs.len()
    );
    assert!(kept_runs.iter().all(|r| r.status == RunStatus::Succeeded));
}

#[tokio::test(start_paused = true)]
async fn a_run_whose_end_cannot_be_written_is_recorded_once_the_store_takes_it() {
    let h = Harness::start("2024-01-01T00:00:00Z").await;
    let job = h
        .engine
        .create_job(spec("manual", json!({"type": "manual"}), json!(null)))
        .await
        .unwrap();
    held(write_sql(
        &h.db_path(),
        "CREATE TRIGGER refuse_ends BEFORE UPDATE OF status ON runs \
         WHEN NEW.status = 'succeeded' BEGIN SELECT RAISE(ABORT, 'injected'); END",
    ))
    .await;
    let run = h.engine.run_now(job.id).await.unwrap();
    h.advance_secs(30).await;
    assert_eq!(
        h.engine.get_run(run.id).await.unwrap().status,
        RunStatus::Running
    );
    assert!(h.engine.storage_problem().is_some());
    held(write_sql(&h.db_path(), "DROP TRIGGER refuse_ends")).await;
    h.advance_secs(60).await;
    assert_eq!(
        h.engine.get_run(run.id).await.unwrap().status,
        RunStatus::Succeeded,
        "the end is written by a later attempt, not left running"
    );
    assert_eq!(h.engine.storage_problem(), None);
}

/// A 4 MiB tmpfs, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Result<Self, String> {
        if !cfg!(target_os = "linux") {
            return Err("tmpfs mounts need Linux".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !status.success() {
            return Err("mount -t tmpfs failed (not root?)".into());
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// CPU seconds this process has used (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// Fills the file system holding `path` until a write fails.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 4096];
    while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
    let _ = file.sync_all();
}

async fn wait_for_end(
    engine: &sundial_engine::Engine,
    run: sundial_engine::domain::RunId,
) -> sundial_engine::domain::Run {
    let start = std::time::Instant::now();
    loop {
        let current = engine.get_run(run).await.unwrap();
        if current.status.is_terminal() {
            return current;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run did not end within 30 s: {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_folder_filled_up_mid_run_fails_the_run_clearly_idles_and_resumes_when_space_returns()
 {
    let disk = match SmallDisk::mount() {
        Ok(disk) => disk,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let data = disk.path();
    let logs = sundial_engine::LogStore::new(data.join("runs"));
    let runner =
        sundial_engine::Runner::new(sundial_engine::RunnerConfig::default(), logs.clone()).unwrap();
    let mut config = sundial_engine::EngineConfig::new(data.join("sundial.db"));
    config.logs = Some(logs);
    let engine = sundial_engine::Engine::start(
        config,
        Arc::new(sundial_engine::SystemClock),
        Arc::new(runner),
    )
    .await
    .unwrap();
    let shell = |name: &str,
                 body: &str,
                 trigger: serde_json::Value|
     -> sundial_engine::domain::JobSpec {
        serde_json::from_value(json!({
            "name": name,
            "kind": {"type": "command", "program": {"mode": "script", "interpreter": "sh", "body": body}},
            "trigger": trigger,
        }))
        .unwrap()
    };
    let small = engine
        .create_job(shell("small", "echo hello", json!({"type": "manual"})))
        .await
        .unwrap();
    let earlier = engine.run_now(small.id).await.unwrap();
    assert_eq!(
        wait_for_end(&engine, earlier.id).await.status,
        RunStatus::Succeeded
    );

    // 8 MB of output onto a 4 MiB disk.
    let big = engine
        .create_job(shell(
            "big",
            "yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 8000000",
            json!({"type": "manual"}),
        ))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let run = engine.run_now(big.id).await.unwrap();
    let ended = wait_for_end(&engine, run.id).await;
    println!(
        "the 8 MB run ended in {:?}: {:?}",
        started.elapsed(),
        ended.error
    );
    assert_eq!(ended.status, RunStatus::Failed);
    let error = ended.error.unwrap();
    assert!(
        error.contains("the run log could not be written: the disk is full")
            && error.contains("bytes of output lost"),
        "{error}"
    );
    assert!(
        engine.storage_problem().unwrap().contains("disk"),
        "the window and tray are told"
    );

    // Now the disk is full to the last block, and a job fires every second.
    let ticker = engine
        .create_job(shell(
            "ticker",
            "true",
            json!({"type": "interval", "every": 1, "unit": "seconds"}),
        ))
        .await
        .unwrap();
    let filler = data.join("filler");
    fill(&filler);
    let before = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let used = cpu_seconds() - before;
    println!("CPU used in 4 s with the disk full: {used:.2} s");
    assert!(
        used < 1.0,
        "the engine spun while the disk was full: {used:.2} CPU s in 4 s"
    );
    assert!(engine.storage_problem().is_some());

    // Space returns: everything resumes by itself.
    std::fs::remove_file(&filler).unwrap();
    // And the big run's log, as a user freeing space would (its row stays).
    for day in std::fs::read_dir(data.join("runs")).unwrap() {
        for file in std::fs::read_dir(day.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&run.id.to_string())
            {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    let freed = std::time::Instant::now();
    let count_ticks = || async {
        engine
            .list_runs(&sundial_engine::store::RunFilter {
                job_id: Some(ticker.id),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
    };
    let ticks_then = count_ticks().await.len();
    while count_ticks().await.len() <= ticks_then + 1 {
        assert!(
            freed.elapsed() < Duration::from_secs(30),
            "the ticker did not resume"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let later = engine.run_now(small.id).await.unwrap();
    assert_eq!(
        wait_for_end(&engine, later.id).await.status,
        RunStatus::Succeeded
    );
    let earlier_now = engine.get_run(earlier.id).await.unwrap();
    assert_eq!(
        earlier_now.status,
        RunStatus::Succeeded,
        "the earlier row is intact"
    );
    assert_eq!(
        engine.get_run(run.id).await.unwrap().status,
        RunStatus::Failed
    );
    assert_eq!(
        engine.storage_problem(),
        None,
        "the problem clears once writes work again"
    );
    engine.shutdown(true).await;
    drop(disk);
}
