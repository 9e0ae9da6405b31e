//! The scheduler loop on a fake wall clock (tokio's clock paused), a real SQLite file and a
//! scripted executor: punctuality, suspends, clock jumps, overlap, edits, pause, crashes.

mod engine_support;

use std::time::Duration;

use engine_support::*;
use serde_json::json;
use sundial_engine::domain::{RunReason, RunStatus};

#[tokio::test(start_paused = true)]
async fn cron_job_fires_at_each_due_second_in_its_zone() {
    let h = Harness::start("2024-01-01T09:59:30Z").await;
    let job = h
        .engine
        .create_job(spec("every-minute", cron("* * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    h.advance_secs(3 * 60).await;
    let runs = h.executor.executions_of("every-minute");
    let due: Vec<_> = runs.iter().map(|e| e.run.scheduled_for).collect();
    assert_eq!(
        due,
        vec![
            at("2024-01-01T10:00:00Z"),
            at("2024-01-01T10:01:00Z"),
            at("2024-01-01T10:02:00Z")
        ]
    );
    for e in &runs {
        assert_eq!(
            e.started_at, e.run.scheduled_for,
            "a run must start at its due instant, not on a polling tick"
        );
        assert_eq!(e.run.reason, RunReason::Schedule);
        assert_eq!(e.run.job_revision, job.revision);
    }
    let stored = h.runs_of(&job).await;
    assert_eq!(statuses(&stored), vec![RunStatus::Succeeded; 3]);
}

#[tokio::test(start_paused = true)]
async fn fixed_time_job_runs_once_right_after_a_spring_forward_gap() {
    // Riga skips 03:00-04:00 local on 2021-03-28 (01:00Z).
    let h = Harness::start("2021-03-27T00:00:00Z").await;
    h.engine
        .create_job(spec(
            "nightly",
            cron("15 3 * * *", "Europe/Riga"),
            json!(null),
        ))
        .await
        .unwrap();
    h.advance_secs(3 * 24 * 3600).await;
    let due: Vec<_> = h
        .executor
        .executions_of("nightly")
        .iter()
        .map(|e| e.run.scheduled_for)
        .collect();
    assert_eq!(
        due,
        vec![
            at("2021-03-27T03:15:00+02:00"),
            at("2021-03-28T04:00:00+03:00"),
            at("2021-03-29T03:15:00+03:00"),
        ]
    );
}

/// An 8-hour suspend: tokio's clock stands still while the wall clock jumps and the system's
/// time asleep grows. Returns the job's runs and its ledger entries.
async fn suspend_eight_hours(
    mode: &str,
    max_catch_up: u32,
) -> (
    Harness,
    Vec<sundial_engine::domain::Run>,
    Vec<sundial_engine::domain::MissedGap>,
) {
    let h = Harness::start("2024-03-01T00:30:00Z").await;
    let job = h
        .engine
        .create_job(spec(
            "hourly",
            cron("0 * * * *", "UTC"),
            policies(mode, max_catch_up, "allow"),
        ))
        .await
        .unwrap();
    h.advance_secs(60).await; // 00:31, nothing due yet
    h.clock.suspend(chrono::Duration::hours(8)); // wakes at 08:31
    h.advance_secs(5).await; // the loop notices within its nap
    let runs = h.runs_of(&job).await;
    let gaps = h.gaps_of(&job).await;
    (h, runs, gaps)
}

/// The one history row standing for the ledger entry.
fn ledger_row<'a>(
    runs: &'a [sundial_engine::domain::Run],
    gap: &sundial_engine::domain::MissedGap,
) -> &'a sundial_engine::domain::Run {
    let row = runs
        .iter()
        .find(|r| r.id == gap.run_id)
        .expect("ledger row");
    assert_eq!(row.status, RunStatus::Skipped);
    row
}

#[tokio::test(start_paused = true)]
async fn suspend_with_skip_policy_records_one_ledger_entry_for_every_missed_firing() {
    use sundial_engine::domain::{MissedCause, MissedRunMode};
    let (h, runs, gaps) = suspend_eight_hours("skip", 10).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let gap = &gaps[0];
    assert_eq!(
        (gap.missed, gap.first_slot, gap.last_slot),
        (8, at("2024-03-01T01:00:00Z"), at("2024-03-01T08:00:00Z")),
        "01:00 through 08:00"
    );
    assert_eq!(
        (gap.cause, gap.policy, gap.ran),
        (MissedCause::Asleep, MissedRunMode::Skip, 0)
    );
    assert_eq!(runs.len(), 1, "one history row, not eight: {runs:?}");
    let text = ledger_row(&runs, gap).error.clone().unwrap();
    assert!(text.starts_with("Missed 8 firings"), "{text}");
    assert!(text.contains("while the computer was asleep"), "{text}");
    assert!(h.executor.executions().is_empty());
}

#[tokio::test(start_paused = true)]
async fn suspend_with_run_once_policy_runs_the_latest_missed_firing_once() {
    let (h, runs, gaps) = suspend_eight_hours("run_once", 10).await;
    let ran: Vec<_> = runs
        .iter()
        .filter(|r| r.status != RunStatus::Skipped)
        .collect();
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].reason, RunReason::CatchUp);
    assert_eq!(ran[0].scheduled_for, at("2024-03-01T08:00:00Z"));
    assert_eq!(gaps.len(), 1);
    assert_eq!((gaps[0].missed, gaps[0].ran), (8, 1));
    assert_eq!(runs.len(), 2, "the catch-up and the ledger row: {runs:?}");
    let text = ledger_row(&runs, &gaps[0]).error.clone().unwrap();
    assert!(
        text.contains("caught up with one run for the latest"),
        "{text}"
    );
    assert_eq!(h.executor.executions().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn suspend_with_run_all_policy_runs_the_most_recent_up_to_the_cap() {
    let (h, runs, gaps) = suspend_eight_hours("run_all", 3).await;
    let ran: Vec<_> = runs
        .iter()
        .filter(|r| r.status != RunStatus::Skipped)
        .map(|r| r.scheduled_for)
        .collect();
    assert_eq!(
        ran,
        vec![
            at("2024-03-01T06:00:00Z"),
            at("2024-03-01T07:00:00Z"),
            at("2024-03-01T08:00:00Z")
        ]
    );
    assert!(
        runs.iter()
            .filter(|r| r.status != RunStatus::Skipped)
            .all(|r| r.reason == RunReason::CatchUp)
    );
    assert_eq!((gaps.len(), gaps[0].missed, gaps[0].ran), (1, 8, 3));
    let text = ledger_row(&runs, &gaps[0]).error.clone().unwrap();
    assert!(
        text.contains("ran the latest 3 (the policy's limit)"),
        "{text}"
    );
    assert_eq!(h.executor.executions().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_eight_hour_sleep_of_a_per_minute_job_is_one_ledger_entry_not_hundreds_of_rows() {
    use sundial_engine::domain::{MissedCause, MissedRunMode};
    let h = Harness::start("2024-03-01T22:00:30Z").await;
    let job = h
        .engine
        .create_job(spec("every-minute", cron("* * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    h.advance_secs(60).await; // 22:01 ran on time
    h.clock.suspend(chrono::Duration::hours(8)); // the lid closed at 22:01:30
    h.advance_secs(5).await; // 06:01:35: noticed
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let gap = &gaps[0];
    // Missed: 22:02 .. 06:00 (06:01 is within the default 60 s grace and runs on time).
    assert_eq!(gap.first_slot, at("2024-03-01T22:02:00Z"));
    assert_eq!(gap.last_slot, at("2024-03-02T06:00:00Z"));
    assert_eq!(gap.missed, 479);
    assert!(gap.counted_all);
    assert_eq!(gap.cause, MissedCause::Asleep);
    assert_eq!(gap.policy, MissedRunMode::RunOnce);
    assert_eq!(gap.ran, 0, "the on-time run at 06:01 covers them");
    assert!(
        gap.gap_start >= at("2024-03-01T22:01:00Z") && gap.gap_start <= at("2024-03-01T22:01:30Z"),
        "the gap began when the lid closed (the wall time before the jump): {}",
        gap.gap_start
    );
    let runs = h.runs_of(&job).await;
    let summary: Vec<_> = runs
        .iter()
        .map(|r| (r.scheduled_for, r.reason, r.status))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                at("2024-03-01T22:01:00Z"),
                RunReason::Schedule,
                RunStatus::Succeeded
            ),
            (
                at("2024-03-01T22:02:00Z"),
                RunReason::Schedule,
                RunStatus::Skipped
            ),
            (
                at("2024-03-02T06:01:00Z"),
                RunReason::Schedule,
                RunStatus::Succeeded
            ),
        ],
        "history: the run before, one row for the night, the run on waking"
    );
    let text = ledger_row(&runs, gap).error.clone().unwrap();
    assert!(text.contains("Missed 479 firings"), "{text}");
    assert!(
        text.contains("the on-time run at 2024-03-02 06:01:00 UTC covers them"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_clock_set_forward_and_a_frozen_process_are_told_apart_from_a_sleep() {
    use sundial_engine::domain::MissedCause;
    let h = Harness::start("2024-03-01T00:30:00Z").await;
    let job = h
        .engine
        .create_job(spec(
            "hourly",
            cron("0 * * * *", "UTC"),
            policies("skip", 1, "allow"),
        ))
        .await
        .unwrap();
    h.advance_secs(60).await;
    // Awake, the clock set three hours forward: the time asleep did not grow.
    h.clock.jump(chrono::Duration::hours(3));
    h.advance_secs(5).await;
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        (gaps[0].cause, gaps[0].missed),
        (MissedCause::ClockChanged, 3)
    );
    assert!(
        h.runs_of(&job).await[0]
            .error
            .as_deref()
            .unwrap()
            .contains("because the clock was set forward")
    );
}

#[tokio::test(start_paused = true)]
async fn clock_set_back_two_hours_does_not_repeat_a_fixed_time_run() {
    clock_set_back_two_hours(false).await;
}

#[tokio::test(start_paused = true)]
async fn clock_set_back_after_a_restart_does_not_repeat_a_fixed_time_run() {
    // After a restart, jobs are loaded from their stored next firing without compiling their
    // schedule, so the scheduler has to find out which are fixed-time when the clock goes back.
    clock_set_back_two_hours(true).await;
}

async fn clock_set_back_two_hours(restart_first: bool) {
    let mut h = Harness::start("2024-05-10T00:04:00Z").await;
    let daily = h
        .engine
        .create_job(spec("daily", cron("15 3 * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    let ticker = h
        .engine
        .create_job(spec("ticker", every_secs(600), json!(null)))
        .await
        .unwrap();
    h.advance_secs(3 * 3600 + 16 * 60).await; // 03:20: the daily run happened
    assert_eq!(h.runs_of(&daily).await.len(), 1);
    let ticks_before = h.runs_of(&ticker).await.len();
    if restart_first {
        h.restart().await;
    }
    h.clock.jump(-chrono::Duration::hours(2)); // 01:20 again
    h.advance_secs(3 * 3600).await; // wall clock passes 03:15 a second time, ends 04:20
    let daily_runs = h.runs_of(&daily).await;
    assert_eq!(
        daily_runs.len(),
        1,
        "the 03:15 run must not repeat: {daily_runs:?}"
    );
    // The interval job kept its cadence through the jump: one run per 10 minutes of time
    // that passed (3 h), never a burst and never a stall.
    let ticks_after = h.runs_of(&ticker).await.len();
    assert_eq!(ticks_after - ticks_before, 18);
    assert!(
        h.runs_of(&ticker)
            .await
            .iter()
            .all(|r| r.status == RunStatus::Succeeded)
    );
}

#[tokio::test(start_paused = true)]
async fn interval_job_keeps_firing_after_a_sleep_longer_than_its_interval() {
    let h = Harness::start("2024-01-01T12:00:00Z").await;
    let job = h
        .engine
        .create_job(spec(
            "poll",
            every_secs(60),
            policies("run_once", 1, "skip"),
        ))
        .await
        .unwrap();
    h.advance_secs(150).await; // 12:01, 12:02
    h.clock.suspend(chrono::Duration::minutes(30)); // asleep until 12:32:30
    h.advance_secs(5 * 60).await; // until 12:37:30
    let runs = h.runs_of(&job).await;
    let ran: Vec<_> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Succeeded)
        .map(|r| (r.scheduled_for, r.reason))
        .collect();
    assert_eq!(
        ran,
        vec![
            (at("2024-01-01T12:01:00Z"), RunReason::Schedule),
            (at("2024-01-01T12:02:00Z"), RunReason::Schedule),
            // 12:32 is 30 s late, inside the 60 s grace: an on-time run covers the gap.
            (at("2024-01-01T12:32:00Z"), RunReason::Schedule),
            (at("2024-01-01T12:33:00Z"), RunReason::Schedule),
            (at("2024-01-01T12:34:00Z"), RunReason::Schedule),
            (at("2024-01-01T12:35:00Z"), RunReason::Schedule),
            (at("2024-01-01T12:36:00Z"), RunReason::Schedule),
            (at("2024-01-01T12:37:00Z"), RunReason::Schedule),
        ]
    );
    // 12:03 … 12:31 were missed: one ledger entry says so.
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        (
            gaps[0].missed,
            gaps[0].first_slot,
            gaps[0].last_slot,
            gaps[0].ran
        ),
        (
            29,
            at("2024-01-01T12:03:00Z"),
            at("2024-01-01T12:31:00Z"),
            0
        )
    );
    assert_eq!(
        runs.iter()
            .filter(|r| r.status == RunStatus::Skipped)
            .count(),
        1
    );
}

async fn overlapping(overlap: &str) -> (Harness, Vec<sundial_engine::domain::Run>) {
    let h = Harness::start("2024-01-01T00:00:30Z").await;
    h.executor
        .set("slow", Behaviour::Take(Duration::from_secs(150)));
    let job = h
        .engine
        .create_job(spec(
            "slow",
            cron("* * * * *", "UTC"),
            policies("skip", 1, overlap),
        ))
        .await
        .unwrap();
    // Firings at 00:01, 00:02, 00:03; each run takes 2.5 minutes.
    h.advance_secs(3 * 60 + 15).await; // 00:03:45
    let runs = h.runs_of(&job).await;
    (h, runs)
}

#[tokio::test(start_paused = true)]
async fn overlap_allow_runs_alongside() {
    let (h, runs) = overlapping("allow").await;
    assert_eq!(h.executor.executions().len(), 3);
    assert_eq!(
        runs.iter()
            .filter(|r| r.status == RunStatus::Running)
            .count(),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_skip_records_skipped_firings() {
    let (h, runs) = overlapping("skip").await;
    // 00:01 runs until 00:03:30, so 00:02 and 00:03 find it still going.
    assert_eq!(h.executor.executions().len(), 1);
    let by_slot: Vec<_> = runs.iter().map(|r| (r.scheduled_for, r.status)).collect();
    assert_eq!(
        by_slot,
        vec![
            (at("2024-01-01T00:01:00Z"), RunStatus::Succeeded),
            (at("2024-01-01T00:02:00Z"), RunStatus::Skipped),
            (at("2024-01-01T00:03:00Z"), RunStatus::Skipped),
        ]
    );
    assert_eq!(
        runs[1].error.as_deref(),
        Some("the previous run was still going")
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_queue_one_keeps_one_waiting_and_skips_the_rest() {
    let (h, runs) = overlapping("queue_one").await;
    // 00:01 runs until 00:03:30; 00:02 waits; 00:03 finds one already waiting: skipped.
    let by_slot: Vec<_> = runs.iter().map(|r| (r.scheduled_for, r.status)).collect();
    assert_eq!(
        by_slot,
        vec![
            (at("2024-01-01T00:01:00Z"), RunStatus::Succeeded),
            (at("2024-01-01T00:02:00Z"), RunStatus::Running),
            (at("2024-01-01T00:03:00Z"), RunStatus::Skipped),
        ]
    );
    let waited = &h.executor.executions_of("slow")[1];
    assert_eq!(waited.run.scheduled_for, at("2024-01-01T00:02:00Z"));
    assert_eq!(
        waited.started_at,
        at("2024-01-01T00:03:30Z"),
        "starts when the first ends"
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_replace_cancels_the_running_one() {
    let (h, runs) = overlapping("replace").await;
    let by_slot: Vec<_> = runs.iter().map(|r| (r.scheduled_for, r.status)).collect();
    assert_eq!(
        by_slot,
        vec![
            (at("2024-01-01T00:01:00Z"), RunStatus::Cancelled),
            (at("2024-01-01T00:02:00Z"), RunStatus::Cancelled),
            (at("2024-01-01T00:03:00Z"), RunStatus::Running),
        ]
    );
    assert_eq!(h.executor.executions().len(), 3);
}

/// What the database holds as a job's next firing (the scheduler stores it back on a task of
/// its own, so this waits a moment of tokio time for it).
async fn stored_next_due(
    h: &Harness,
    job: &sundial_engine::domain::Job,
) -> Option<chrono::DateTime<chrono::Utc>> {
    h.advance(Duration::from_millis(10)).await;
    let stored = h.engine.store().get_job(job.id).await.unwrap().unwrap();
    stored.next_due
}

/// A harness at 00:00:30 with one job due every five minutes.
async fn with_a_five_minute_job() -> (Harness, sundial_engine::domain::Job) {
    let h = Harness::start("2024-01-01T00:00:30Z").await;
    let job = h
        .engine
        .create_job(spec("five", cron("*/5 * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    (h, job)
}

#[tokio::test(start_paused = true)]
async fn the_next_firing_is_stored_with_the_cursor_and_after_every_edit() {
    let (h, job) = with_a_five_minute_job().await;
    assert_eq!(
        stored_next_due(&h, &job).await,
        Some(at("2024-01-01T00:05:00Z")),
        "a new job's next firing is stored"
    );
    h.advance_secs(5 * 60).await; // 00:05:30: the 00:05 run happened
    assert_eq!(h.runs_of(&job).await.len(), 1);
    let stored = h.engine.store().get_job(job.id).await.unwrap().unwrap();
    assert_eq!(stored.schedule_cursor, Some(at("2024-01-01T00:05:00Z")));
    assert_eq!(
        stored.next_due,
        Some(at("2024-01-01T00:10:00Z")),
        "a firing stores the next one in the same write as the cursor"
    );
    let mut edited = job.spec.clone();
    edited.trigger = serde_json::from_value(cron("*/7 * * * *", "UTC")).unwrap();
    h.engine
        .update_job(job.id, edited, stored.job.revision)
        .await
        .unwrap();
    assert_eq!(
        stored_next_due(&h, &job).await,
        Some(at("2024-01-01T00:07:00Z")),
        "an edit replaces the stored next firing with the new schedule's"
    );
}

#[tokio::test(start_paused = true)]
async fn a_start_takes_the_stored_next_firing_and_a_wrong_one_never_runs_a_job_off_schedule() {
    let (mut h, job) = with_a_five_minute_job().await;
    assert_eq!(
        stored_next_due(&h, &job).await,
        Some(at("2024-01-01T00:05:00Z"))
    );
    // A stored next firing that the schedule would never give (00:03) shows that a start uses
    // what is stored instead of compiling the schedule.
    h.engine.shutdown(false).await;
    let three = at("2024-01-01T00:03:00Z").timestamp_millis();
    write_sql(&h.db_path(), &format!("UPDATE jobs SET next_due = {three}")).await;
    h.engine = start_engine(h.db_path(), &h.clock, &h.executor, h.max_parallel).await;
    assert_eq!(
        h.engine.next_fire(job.id).await.unwrap(),
        Some(at("2024-01-01T00:03:00Z"))
    );
    // Waking at 00:03 finds nothing due by the schedule: no run, and the real next firing.
    h.advance_secs(3 * 60).await; // 00:03:30
    assert!(h.runs_of(&job).await.is_empty(), "nothing runs at 00:03");
    assert_eq!(
        h.engine.next_fire(job.id).await.unwrap(),
        Some(at("2024-01-01T00:05:00Z"))
    );
    h.advance_secs(2 * 60).await; // 00:05:30
    let due: Vec<_> = h
        .runs_of(&job)
        .await
        .iter()
        .map(|r| r.scheduled_for)
        .collect();
    assert_eq!(due, vec![at("2024-01-01T00:05:00Z")]);
}

#[tokio::test(start_paused = true)]
async fn next_firings_stored_by_another_build_are_recomputed() {
    let (mut h, job) = with_a_five_minute_job().await;
    h.engine.shutdown(false).await;
    let three = at("2024-01-01T00:03:00Z").timestamp_millis();
    write_sql(&h.db_path(), &format!("UPDATE jobs SET next_due = {three}")).await;
    write_sql(
        &h.db_path(),
        "UPDATE settings SET value = 'sundial-engine 0.0.0' WHERE key = 'next_due_basis'",
    )
    .await;
    h.engine = start_engine(h.db_path(), &h.clock, &h.executor, h.max_parallel).await;
    assert_eq!(
        h.engine.next_fire(job.id).await.unwrap(),
        Some(at("2024-01-01T00:05:00Z")),
        "another build's next firing is not trusted"
    );
    assert_eq!(
        stored_next_due(&h, &job).await,
        Some(at("2024-01-01T00:05:00Z")),
        "and this build's is stored in its place"
    );
}

/// An hourly job whose runs take a minute, catching up every missed firing ("run all", cap
/// 10) under `overlap`, created at 00:30.
async fn hourly_minute_long_run_all(overlap: &str) -> (Harness, sundial_engine::domain::Job) {
    let h = Harness::start("2024-03-01T00:30:00Z").await;
    h.executor.set(
        "hourly",
        Behaviour::Take(std::time::Duration::from_secs(60)),
    );
    let job = h
        .engine
        .create_job(spec(
            "hourly",
            cron("0 * * * *", "UTC"),
            policies("run_all", 10, overlap),
        ))
        .await
        .unwrap();
    (h, job)
}

#[tokio::test(start_paused = true)]
async fn run_all_runs_each_missed_firing_one_after_another_whatever_the_overlap_policy() {
    for overlap in ["allow", "skip", "queue_one", "replace"] {
        let (h, job) = hourly_minute_long_run_all(overlap).await;
        h.advance_secs(60).await;
        h.clock.suspend(chrono::Duration::hours(5)); // wakes at 05:31: 01:00 to 05:00 missed
        h.advance_secs(10 * 60).await; // five runs of a minute each, with room to spare
        let gaps = h.gaps_of(&job).await;
        assert_eq!(
            (gaps.len(), gaps[0].missed, gaps[0].ran),
            (1, 5, 5),
            "{overlap}"
        );
        let runs: Vec<_> = h
            .runs_of(&job)
            .await
            .into_iter()
            .filter(|r| r.id != gaps[0].run_id)
            .collect();
        let slots: Vec<_> = runs.iter().map(|r| r.scheduled_for).collect();
        assert_eq!(
            slots,
            (1..=5)
                .map(|hour| at(&format!("2024-03-01T0{hour}:00:00Z")))
                .collect::<Vec<_>>(),
            "{overlap}: {runs:?}"
        );
        assert!(
            runs.iter()
                .all(|r| r.status == RunStatus::Succeeded && r.reason == RunReason::CatchUp),
            "{overlap}: every missed firing ran, none skipped as overlapping: {runs:?}"
        );
        for pair in runs.windows(2) {
            assert!(
                pair[1].started_at.unwrap() >= pair[0].finished_at.unwrap(),
                "{overlap}: one after another, in order: {pair:?}"
            );
        }
        h.engine.shutdown(false).await;
    }
}

#[tokio::test(start_paused = true)]
async fn catch_up_runs_waiting_their_turn_end_with_a_reason_when_the_job_is_disabled() {
    let (h, job) = hourly_minute_long_run_all("skip").await;
    h.advance_secs(60).await;
    h.clock.suspend(chrono::Duration::hours(3)); // 01:00, 02:00, 03:00 missed
    h.advance_secs(30).await; // the first catch-up is going, two wait their turn
    h.engine.set_enabled(job.id, false).await.unwrap();
    h.advance_secs(120).await;
    let gaps = h.gaps_of(&job).await;
    let runs: Vec<_> = h
        .runs_of(&job)
        .await
        .into_iter()
        .filter(|r| r.id != gaps[0].run_id)
        .collect();
    assert_eq!(
        statuses(&runs),
        vec![
            RunStatus::Succeeded,
            RunStatus::Cancelled,
            RunStatus::Cancelled
        ],
        "{runs:?}"
    );
    assert!(
        runs[1]
            .error
            .as_deref()
            .unwrap()
            .contains("disabled before this catch-up run started")
    );
    assert_eq!(h.executor.executions_of("hourly").len(), 1);
}

#[test]
fn a_firing_moments_late_is_on_time_and_never_a_catch_up_even_without_grace() {
    use sundial_engine::domain::{MissedRunMode, MissedRunPolicy, Trigger};
    use sundial_engine::schedule::Schedule;
    use sundial_engine::scheduler::catchup::{Firing, Missed, plan_due_firings};
    let trigger: Trigger = serde_json::from_value(cron("*/10 * * * * *", "UTC")).unwrap();
    let start = at("2024-01-01T00:00:00Z");
    let schedule = Schedule::from_trigger(&trigger, start).unwrap();
    let policy = MissedRunPolicy {
        mode: MissedRunMode::RunOnce,
        max_catch_up: 10,
        grace_secs: 0,
    };
    // The loop woke 300 ms after the slot (a busy machine): a scheduled run, nothing missed.
    let plan = plan_due_firings(&schedule, start, at("2024-01-01T00:00:10.300Z"), &policy);
    assert_eq!(
        plan.runs,
        vec![Firing {
            slot: at("2024-01-01T00:00:10Z"),
            reason: RunReason::Schedule,
        }]
    );
    assert_eq!(plan.missed, None);
    // Frozen for 20 s: the slots older than the floor were missed (one ledger entry); the one
    // just due is on time, and covers them under "run once".
    let after_freeze = plan_due_firings(&schedule, start, at("2024-01-01T00:00:30.300Z"), &policy);
    assert_eq!(
        after_freeze.runs,
        vec![Firing {
            slot: at("2024-01-01T00:00:30Z"),
            reason: RunReason::Schedule,
        }]
    );
    assert_eq!(
        after_freeze.missed,
        Some(Missed {
            first: at("2024-01-01T00:00:10Z"),
            last: at("2024-01-01T00:00:20Z"),
            count: 2,
            counted_all: true,
            ran: 0,
            covered_by: Some(at("2024-01-01T00:00:30Z")),
        })
    );
}
