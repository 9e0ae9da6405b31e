//! Firings written ahead (issue 18, decisions/0020): a firing's run row is committed half a
//! second before it is due, so that at the instant only the spawn is left; a firing that can
//! no longer run as written (an edit, a pause, a sleep past its grace, a quit) is withdrawn
//! and planned again as if never written. The scheduler on a fake wall clock (tokio's clock
//! paused), a real SQLite file and a scripted executor; the kill -9 cases with real processes
//! are in write_ahead_crash.rs.

mod engine_support;

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use engine_support::*;
use sundial_engine::domain::{Job, MissedCause, Run, RunReason, RunStatus};

const START: &str = "2024-05-01T10:00:00Z";

/// A job firing every 10 s (:00, :10, …), with "skip" for missed firings and for overlaps.
async fn every_ten(h: &Harness, name: &str) -> Job {
    h.engine
        .create_job(spec(
            name,
            cron("*/10 * * * * *", "UTC"),
            policies("skip", 1, "skip"),
        ))
        .await
        .unwrap()
}

/// Lets tokio (and the fake wall) clock run to `at` from where it is.
async fn advance_to(h: &Harness, at: chrono::DateTime<chrono::Utc>) {
    let by = (at - h.clock_now()).to_std().expect("a later instant");
    h.advance(by).await;
}

fn for_slot(runs: &[Run], slot: chrono::DateTime<chrono::Utc>) -> Vec<Run> {
    runs.iter()
        .filter(|r| r.scheduled_for == slot)
        .cloned()
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_firing_is_recorded_before_its_time_and_only_started_at_it() {
    let h = Harness::start(START).await;
    let job = every_ten(&h, "tick").await;
    let slot = at("2024-05-01T10:00:10Z");

    advance_to(&h, slot - ChronoDuration::milliseconds(600)).await;
    assert!(h.runs_of(&job).await.is_empty(), "not written 600 ms ahead");

    advance_to(&h, slot - ChronoDuration::milliseconds(400)).await;
    let runs = h.runs_of(&job).await;
    assert_eq!(runs.len(), 1, "written within 500 ms of its time: {runs:?}");
    let row = &runs[0];
    assert_eq!(
        (row.status, row.reason, row.scheduled_for),
        (RunStatus::Queued, RunReason::Schedule, slot)
    );
    assert!(row.created_at < slot, "recorded before its time: {row:?}");
    assert!(h.executor.executions().is_empty(), "nothing started early");

    advance_to(&h, slot + ChronoDuration::milliseconds(10)).await;
    let started = h.executor.executions_of("tick");
    assert_eq!(started.len(), 1);
    assert_eq!(
        started[0].run.id, row.id,
        "the row written ahead is the run"
    );
    assert_eq!(
        started[0].started_at, slot,
        "started at the instant, not later"
    );
    h.advance(Duration::from_millis(100)).await;
    let runs = h.runs_of(&job).await;
    assert_eq!(runs.len(), 1, "one row for the firing: {runs:?}");
    assert_eq!(runs[0].status, RunStatus::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn runs_due_in_the_same_instant_are_written_in_one_go_and_all_start_at_it() {
    let h = Harness::start_with(START, 32).await;
    let mut jobs = Vec::new();
    for i in 0..20 {
        jobs.push(every_ten(&h, &format!("job-{i:02}")).await);
    }
    let slot = at("2024-05-01T10:00:10Z");
    advance_to(&h, slot - ChronoDuration::milliseconds(1)).await;
    let written = h.all_runs().await;
    assert_eq!(written.len(), 20, "every firing written ahead: {written:?}");
    assert!(written.iter().all(|r| r.status == RunStatus::Queued));
    advance_to(&h, slot + ChronoDuration::milliseconds(10)).await;
    let started = h.executor.executions();
    assert_eq!(started.len(), 20);
    assert!(
        started.iter().all(|e| e.started_at == slot),
        "all at the instant: {:?}",
        started.iter().map(|e| e.started_at).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn an_edit_just_before_the_instant_withdraws_the_firing_it_no_longer_has() {
    let h = Harness::start(START).await;
    let job = every_ten(&h, "tick").await;
    let slot = at("2024-05-01T10:00:10Z");
    advance_to(&h, slot - ChronoDuration::milliseconds(300)).await;
    assert_eq!(h.runs_of(&job).await.len(), 1, "written ahead");

    // Now every 30 s: 10:00:10 is no longer one of its firings.
    let mut edited = job.spec.clone();
    edited.trigger = serde_json::from_value(cron("*/30 * * * * *", "UTC")).unwrap();
    h.engine
        .update_job(job.id, edited, job.revision)
        .await
        .unwrap();
    advance_to(&h, at("2024-05-01T10:00:29Z")).await;
    assert!(
        h.runs_of(&job).await.is_empty(),
        "the withdrawn firing left no row and did not run: {:?}",
        h.runs_of(&job).await
    );
    assert!(h.executor.executions().is_empty());

    advance_to(&h, at("2024-05-01T10:00:30.010Z")).await;
    let started = h.executor.executions_of("tick");
    assert_eq!(started.len(), 1, "the new schedule fires");
    assert_eq!(started[0].run.scheduled_for, at("2024-05-01T10:00:30Z"));
}

#[tokio::test(start_paused = true)]
async fn an_edit_that_keeps_the_firing_runs_it_at_its_time_with_the_new_definition() {
    let h = Harness::start(START).await;
    let job = every_ten(&h, "tick").await;
    let slot = at("2024-05-01T10:00:10Z");
    advance_to(&h, slot - ChronoDuration::milliseconds(300)).await;
    let mut edited = job.spec.clone();
    edited.description = "edited".into();
    let edited = h
        .engine
        .update_job(job.id, edited, job.revision)
        .await
        .unwrap();
    advance_to(&h, slot + ChronoDuration::milliseconds(10)).await;
    let started = h.executor.executions_of("tick");
    assert_eq!(started.len(), 1, "the firing still runs, once");
    assert_eq!(started[0].started_at, slot);
    assert_eq!(started[0].job.revision, edited.revision, "as edited");
    h.advance(Duration::from_millis(100)).await;
    assert_eq!(for_slot(&h.runs_of(&job).await, slot).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_pause_just_before_the_instant_withdraws_the_firing_and_the_ledger_has_it() {
    let h = Harness::start(START).await;
    let job = every_ten(&h, "tick").await;
    let slot = at("2024-05-01T10:00:10Z");
    advance_to(&h, slot - ChronoDuration::milliseconds(200)).await;
    h.engine.pause().await.unwrap();
    advance_to(&h, at("2024-05-01T10:00:15Z")).await;
    assert!(
        h.executor.executions().is_empty(),
        "nothing runs while paused"
    );
    h.engine.resume().await.unwrap();
    h.advance(Duration::from_millis(10)).await;
    let runs = h.runs_of(&job).await;
    assert!(
        runs.iter().all(|r| r.status == RunStatus::Skipped),
        "the firing is not run: {runs:?}"
    );
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        (gaps[0].cause, gaps[0].first_slot, gaps[0].missed),
        (MissedCause::Paused, slot, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_sleep_past_the_grace_puts_a_written_firing_through_the_missed_policy() {
    let h = Harness::start(START).await;
    let job = every_ten(&h, "skipper").await;
    let slot = at("2024-05-01T10:00:10Z");
    advance_to(&h, slot - ChronoDuration::milliseconds(200)).await;
    let written = h.runs_of(&job).await;
    assert_eq!(written.len(), 1, "written ahead");
    h.clock.suspend(ChronoDuration::hours(2));
    h.advance(Duration::from_secs(2)).await;

    let runs = h.runs_of(&job).await;
    let at_slot = for_slot(&runs, slot);
    assert_eq!(at_slot.len(), 1, "{at_slot:?}");
    assert_eq!(
        at_slot[0].status,
        RunStatus::Skipped,
        "skip: not run on waking"
    );
    assert_ne!(
        at_slot[0].id, written[0].id,
        "the written row was withdrawn"
    );
    assert!(
        h.executor
            .executions_of("skipper")
            .iter()
            .all(|e| e.run.scheduled_for != slot),
        "the slept-through firing did not run"
    );
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        (gaps[0].cause, gaps[0].first_slot),
        (MissedCause::Asleep, slot)
    );
}

#[tokio::test(start_paused = true)]
async fn the_overlap_policy_is_applied_at_the_instant_against_the_runs_going_then() {
    let h = Harness::start(START).await;
    h.executor
        .set("slow", Behaviour::Take(Duration::from_secs(15)));
    let job = h
        .engine
        .create_job(spec(
            "slow",
            cron("*/10 * * * * *", "UTC"),
            policies("skip", 1, "skip"),
        ))
        .await
        .unwrap();
    advance_to(&h, at("2024-05-01T10:00:21Z")).await;
    let runs = h.runs_of(&job).await;
    let second = for_slot(&runs, at("2024-05-01T10:00:20Z"));
    assert_eq!(second.len(), 1, "{runs:?}");
    assert_eq!(
        second[0].status,
        RunStatus::Skipped,
        "the 10 s run still went"
    );
    assert!(
        second[0].error.as_deref().unwrap_or("").contains("still"),
        "says why: {:?}",
        second[0].error
    );
    // The 10:00:10 run ends at :25; the :30 firing starts at its time.
    advance_to(&h, at("2024-05-01T10:00:30.010Z")).await;
    let started = h.executor.executions_of("slow");
    assert_eq!(started.len(), 2);
    assert_eq!(started[1].started_at, at("2024-05-01T10:00:30Z"));
}

#[tokio::test(start_paused = true)]
async fn a_quit_just_before_the_instant_leaves_nothing_for_the_next_start_to_repeat() {
    let mut h = Harness::start(START).await;
    let job = every_ten(&h, "tick").await;
    let slot = at("2024-05-01T10:00:10Z");
    advance_to(&h, slot - ChronoDuration::milliseconds(200)).await;
    assert_eq!(h.runs_of(&job).await.len(), 1);
    h.restart().await;
    assert!(
        h.runs_of(&job).await.is_empty(),
        "the quit withdrew the firing: {:?}",
        h.runs_of(&job).await
    );
    advance_to(&h, slot + ChronoDuration::milliseconds(50)).await;
    let started = h.executor.executions_of("tick");
    assert_eq!(started.len(), 1, "fired once, by the new start");
    assert_eq!(started[0].started_at, slot);
    h.advance(Duration::from_millis(100)).await;
    assert_eq!(for_slot(&h.runs_of(&job).await, slot).len(), 1);
}
