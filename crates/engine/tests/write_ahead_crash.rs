//! A scheduler killed with SIGKILL after it wrote a firing ahead of its time and before the
//! firing was due (decisions/0020): the next scheduler on the same database fires it once — at
//! its time when that is still to come, under the job's missed-run policy when it has long
//! passed. A real `sundialctl daemon` is killed; its database is read as it writes.
#![cfg(target_os = "linux")]

mod cli_support;
mod engine_support;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use cli_support::*;
use engine_support::{ScriptedExecutor, start_engine};
use nix::sys::signal::Signal;
use sundial_engine::FakeClock;
use sundial_engine::domain::{MissedCause, Run, RunReason, RunStatus};
use sundial_engine::store::{MissedFilter, RunFilter, Store};

const PATIENCE: Duration = Duration::from_secs(30);

/// A job that fires once, at `at`, with this missed-run mode.
fn add_once(data: &Path, at: DateTime<Utc>, missed: &str) {
    let file = data.join("once.toml");
    std::fs::write(
        &file,
        format!(
            r#"version = 1

[[jobs]]
name = "once"

[jobs.kind]
type = "command"

[jobs.kind.program]
mode = "exec"
program = "sh"
args = ["-c", "echo ran"]

[jobs.trigger]
type = "once"
at = "{}"

[jobs.policies]
missed = {{ mode = "{missed}" }}
"#,
            at.to_rfc3339()
        ),
    )
    .unwrap();
    ok(data, &["jobs", "add", "--file", file.to_str().unwrap()]);
}

async fn runs_in(store: &Store) -> Vec<Run> {
    store
        .list_runs(&RunFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// Starts a daemon, adds a job firing once a few seconds from now, and kills the daemon with
/// SIGKILL the moment the firing's row is committed (it is written half a second before its
/// time). Returns the slot and the row the killed daemon left.
fn kill_between_the_early_row_and_its_time(data: &Path, missed: &str) -> (DateTime<Utc>, Run) {
    let daemon = start_daemon(data, &[]);
    daemon.expect_line("sundialctl daemon: scheduling");
    let slot = (Utc::now() + chrono::TimeDelta::seconds(3)).trunc_subsecs(0);
    add_once(data, slot, missed);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let left = rt.block_on(async {
        let store = Store::open(&data.join("sundial.db")).await.unwrap();
        let deadline = Instant::now() + PATIENCE;
        let row = loop {
            if let Some(row) = runs_in(&store)
                .await
                .into_iter()
                .find(|r| r.scheduled_for == slot)
            {
                break row;
            }
            assert!(Instant::now() < deadline, "no row written for {slot}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        daemon.signal(Signal::SIGKILL);
        assert!(
            Utc::now() < slot,
            "the row was seen before its time (a busy machine can miss this): {row:?}"
        );
        assert_eq!(
            row.status,
            RunStatus::Queued,
            "written ahead, not started: {row:?}"
        );
        let row = store
            .get_run(row.id)
            .await
            .unwrap()
            .expect("the row is committed");
        store.close().await;
        row
    });
    drop(daemon); // reaped
    (slot, left)
}

#[test]
fn a_firing_written_ahead_by_a_killed_daemon_runs_once_at_its_time_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (slot, left) = kill_between_the_early_row_and_its_time(data, "run_once");
    assert_eq!(left.status, RunStatus::Queued);

    let next = start_daemon(data, &[]);
    next.expect_line("sundialctl daemon: scheduling");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let runs = rt.block_on(async {
        let store = Store::open(&data.join("sundial.db")).await.unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let runs = runs_in(&store).await;
            if runs.iter().any(|r| r.status.is_terminal()) {
                // Anything still to come for the slot would have been written by now.
                tokio::time::sleep(Duration::from_millis(300)).await;
                let runs = runs_in(&store).await;
                store.close().await;
                break runs;
            }
            assert!(Instant::now() < deadline, "the firing never ran: {runs:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let ran: Vec<&Run> = runs
        .iter()
        .filter(|r| r.status != RunStatus::Skipped)
        .collect();
    assert_eq!(ran.len(), 1, "fired once, not lost, not twice: {runs:?}");
    let run = ran[0];
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert!(
        run.started_at.unwrap() >= slot,
        "not before its time: {run:?}"
    );
    assert!(
        matches!(run.reason, RunReason::Schedule | RunReason::CatchUp),
        "{run:?}"
    );
    assert!(
        runs.iter().all(|r| r.status != RunStatus::Interrupted),
        "nothing left half-done: {runs:?}"
    );
}

#[test]
fn a_firing_written_ahead_by_a_killed_daemon_goes_through_skip_when_the_next_start_is_late() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let (slot, left) = kill_between_the_early_row_and_its_time(&data, "skip");

    // The next start is an hour later (on a fake clock): the firing was missed.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async move {
        let clock = FakeClock::new(slot + chrono::TimeDelta::hours(1));
        let executor = ScriptedExecutor::new(clock.clone());
        let engine = start_engine(data.join("sundial.db"), &clock, &executor, 4).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let runs = engine
            .list_runs(&RunFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            runs.iter().all(|r| r.id != left.id),
            "the killed daemon's row was withdrawn: {runs:?}"
        );
        assert_eq!(runs.len(), 1, "one row, for the ledger: {runs:?}");
        assert_eq!(runs[0].status, RunStatus::Skipped);
        assert!(executor.executions().is_empty(), "skip: not run");
        let gaps = engine
            .missed_gaps(&MissedFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(
            (gaps[0].first_slot, gaps[0].missed, gaps[0].cause),
            (slot, 1, MissedCause::NotRunning)
        );
        engine.shutdown(false).await;
    });
}
