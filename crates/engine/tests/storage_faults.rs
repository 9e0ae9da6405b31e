//! Failed store writes never stall scheduling (issue 12): a store that refuses one job's rows
//! while another job keeps firing, a job deleted by another process between its firing and
//! its row, and a run whose end cannot be recorded for a while (the full disk itself: in
//! storage_full_disk.rs).

mod engine_support;

use std::sync::{Arc, Mutex};

use engine_support::*;
use serde_json::json;
use sundial_engine::EngineEvent;
use sundial_engine::domain::{JobId, RunStatus};

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
    let executed = h.executor.executions_of("healthy").len();
    assert!(
        h.runs_of(&healthy).await.len() >= executed,
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
    // Deleted behind the engine's back, by a write that is not on the change feed (the feed
    // would tell the loop before the firing; here the firing's row write finds it gone).
    held(write_sql(
        &h.db_path(),
        &format!("DELETE FROM jobs WHERE id = '{}'", gone.id),
    ))
    .await;
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
