//! While you were away (issue 14): catch-ups spread after a wake under the global cap, the
//! system's zone followed, retries and queued runs kept across restarts and edits, and a quit
//! that waits for runs starting nothing more. The scheduler on a fake wall clock (tokio's
//! clock paused), a real SQLite file and a scripted executor.

mod engine_support;

use std::time::Duration;

use chrono::Duration as ChronoDuration;
use engine_support::*;
use serde_json::json;
use sundial_engine::EngineEvent;
use sundial_engine::clock::{Clock, SleepSignal};
use sundial_engine::domain::{Job, Run, RunReason, RunStatus};

/// `n` hourly jobs ("run once" catch-up), created at 00:30; the machine sleeps from 00:31 to
/// 03:31, so each missed 01:00 to 03:00.
async fn many_hourly_jobs_asleep(h: &Harness, n: usize) -> Vec<Job> {
    let mut jobs = Vec::new();
    for i in 0..n {
        jobs.push(
            h.engine
                .create_job(spec(
                    &format!("job-{i:02}"),
                    cron("0 * * * *", "UTC"),
                    policies("run_once", 1, "skip"),
                ))
                .await
                .unwrap(),
        );
    }
    h.advance_secs(60).await;
    h.clock.suspend(ChronoDuration::hours(3));
    jobs
}

#[tokio::test(start_paused = true)]
async fn the_catch_ups_of_fifty_jobs_after_a_wake_start_one_stagger_apart() {
    let h = Harness::start_with("2024-03-01T00:30:00Z", 8).await;
    let jobs = many_hourly_jobs_asleep(&h, 50).await;
    h.advance_secs(120).await;
    let mut starts: Vec<_> = h
        .executor
        .executions()
        .iter()
        .map(|e| {
            assert_eq!(e.run.reason, RunReason::CatchUp);
            assert_eq!(e.run.scheduled_for, at("2024-03-01T03:00:00Z"));
            (e.started_at, e.run.job_id)
        })
        .collect();
    assert_eq!(starts.len(), 50, "each job caught up once");
    starts.sort();
    let first = starts[0].0;
    for (i, (start, _)) in starts.iter().enumerate() {
        assert_eq!(
            *start - first,
            ChronoDuration::seconds(i as i64),
            "catch-up {i} starts {i} s after the first (the default stagger of 1 s)"
        );
    }
    assert!(
        first - at("2024-03-01T03:31:00Z") < ChronoDuration::seconds(5),
        "the first starts as the wake is noticed: {first}"
    );
    // In the order their firings fell due (the same instant here: the order they were made).
    let order: Vec<_> = starts.iter().map(|(_, id)| *id).collect();
    assert_eq!(order, jobs.iter().map(|j| j.id).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn staggered_catch_ups_still_respect_the_global_cap() {
    let h = Harness::start_with("2024-03-01T00:30:00Z", 2).await;
    for i in 0..10 {
        h.executor.set(
            &format!("job-{i:02}"),
            Behaviour::Take(Duration::from_secs(5)),
        );
    }
    many_hourly_jobs_asleep(&h, 10).await;
    h.advance_secs(120).await;
    let runs: Vec<Run> = h
        .all_runs()
        .await
        .into_iter()
        .filter(|r| r.reason == RunReason::CatchUp)
        .collect();
    assert_eq!(runs.len(), 10);
    assert!(
        runs.iter().all(|r| r.status == RunStatus::Succeeded),
        "{runs:?}"
    );
    // At no instant were more than 2 going.
    for r in &runs {
        let at = r.started_at.unwrap();
        let going = runs
            .iter()
            .filter(|o| o.started_at.unwrap() <= at && at < o.finished_at.unwrap())
            .count();
        assert!(going <= 2, "{going} runs going at {at}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_stagger_of_zero_starts_every_catch_up_in_the_same_instant() {
    let h = Harness::start_configured("2024-03-01T00:30:00Z", 16, |config| {
        config.catch_up_stagger = Duration::ZERO;
    })
    .await;
    many_hourly_jobs_asleep(&h, 10).await;
    h.advance_secs(60).await;
    let starts: std::collections::BTreeSet<_> = h
        .executor
        .executions()
        .iter()
        .map(|e| e.started_at)
        .collect();
    assert_eq!(h.executor.executions().len(), 10);
    assert_eq!(starts.len(), 1, "{starts:?}");
}

#[tokio::test(start_paused = true)]
async fn jobs_without_a_zone_follow_the_system_zone_when_it_changes() {
    let h = Harness::start("2024-06-01T00:00:00Z").await;
    h.clock.set_zone(chrono_tz::Europe::Riga);
    h.advance_secs(5).await;
    let floating = h
        .engine
        .create_job(spec(
            "nine-local",
            json!({"type": "cron", "expr": "0 9 * * *", "timezone": null}),
            json!(null),
        ))
        .await
        .unwrap();
    let riga = h
        .engine
        .create_job(spec(
            "nine-riga",
            cron("0 9 * * *", "Europe/Riga"),
            json!(null),
        ))
        .await
        .unwrap();
    // Riga is UTC+3 in June.
    assert_eq!(
        h.engine.next_fire(floating.id).await.unwrap(),
        Some(at("2024-06-01T06:00:00Z"))
    );
    let mut events = h.engine.subscribe();
    // The laptop lands in New York (UTC-4 in June).
    h.clock.set_zone(chrono_tz::America::New_York);
    h.advance_secs(5).await;
    assert_eq!(
        h.engine.next_fire(floating.id).await.unwrap(),
        Some(at("2024-06-01T13:00:00Z")),
        "09:00 in the new zone"
    );
    assert_eq!(
        h.engine.next_fire(riga.id).await.unwrap(),
        Some(at("2024-06-01T06:00:00Z")),
        "a job with a zone of its own is untouched"
    );
    let mut told = None;
    while let Ok(event) = events.try_recv() {
        if let EngineEvent::ZoneChanged { from, to, jobs } = event {
            told = Some((from, to, jobs));
        }
    }
    assert_eq!(
        told,
        Some((
            "Europe/Riga".to_string(),
            "America/New_York".to_string(),
            vec![floating.id]
        )),
        "the window is told which jobs moved"
    );
    // The stored next firing (what a passive window shows) moved too.
    let stored = h
        .engine
        .store()
        .get_job(floating.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.next_due, Some(at("2024-06-01T13:00:00Z")));
    // The preview the editor shows uses the new zone.
    let preview = h.engine.preview(&floating.spec.trigger, 1).unwrap();
    assert_eq!(preview[0].at, at("2024-06-01T13:00:00Z"));
    h.advance_secs(14 * 3600).await;
    let fired = |name: &str| -> Vec<_> {
        h.executor
            .executions_of(name)
            .iter()
            .map(|e| (e.run.scheduled_for, e.run.reason))
            .collect()
    };
    assert_eq!(
        fired("nine-local"),
        vec![(at("2024-06-01T13:00:00Z"), RunReason::Schedule)]
    );
    assert_eq!(
        fired("nine-riga"),
        vec![(at("2024-06-01T06:00:00Z"), RunReason::Schedule)]
    );
}

/// A manual job that fails, retried up to 3 times, 10 minutes after the first failure and 20
/// after the second.
async fn failing_with_retries(h: &Harness) -> Job {
    h.executor.set("flaky", Behaviour::Fail);
    h.engine
        .create_job(spec(
            "flaky",
            json!({"type": "manual"}),
            json!({"retry": {"max_attempts": 3, "initial_delay_secs": 600, "multiplier": 2.0}}),
        ))
        .await
        .unwrap()
}

/// The job's queued retry, once there is one.
async fn pending_retry(h: &Harness, job: &Job) -> Run {
    let runs = h.runs_of(job).await;
    runs.into_iter()
        .find(|r| r.reason == RunReason::Retry && r.status == RunStatus::Queued)
        .expect("a retry waits")
}

#[tokio::test(start_paused = true)]
async fn a_pending_retry_survives_a_restart_and_runs_at_its_time() {
    let mut h = Harness::start("2024-05-01T10:00:00Z").await;
    let job = failing_with_retries(&h).await;
    h.engine.run_now(job.id).await.unwrap();
    h.advance_secs(60).await;
    let retry = pending_retry(&h, &job).await;
    assert_eq!(retry.scheduled_for, at("2024-05-01T10:10:00Z"));
    h.restart().await; // at 10:01
    h.advance_secs(10 * 60).await; // past 10:10
    let runs = h.runs_of(&job).await;
    let retried = runs.iter().find(|r| r.id == retry.id).unwrap();
    assert_eq!(
        retried.status,
        RunStatus::Failed,
        "the same retry row ran after the restart: {runs:?}"
    );
    assert_eq!(retried.started_at, Some(at("2024-05-01T10:10:00Z")));
    assert_eq!(
        h.executor
            .executions_of("flaky")
            .iter()
            .map(|e| e.run.attempt)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    // ... and it is followed by the third attempt, 20 minutes later.
    let third = pending_retry(&h, &job).await;
    assert_eq!(
        (third.attempt, third.scheduled_for),
        (3, at("2024-05-01T10:30:00Z"))
    );
    assert_eq!(
        runs.len(),
        3,
        "nothing duplicated, nothing interrupted: {runs:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pending_retry_runs_the_edited_job_and_ends_when_the_edit_forbids_it() {
    let h = Harness::start("2024-05-01T10:00:00Z").await;
    let job = failing_with_retries(&h).await;
    h.engine.run_now(job.id).await.unwrap();
    h.advance_secs(60).await;
    let retry = pending_retry(&h, &job).await;
    // Edited while the retry waits: the retry runs the new definition.
    let mut edited = job.spec.clone();
    edited.description = "now with a fix".into();
    let job = h
        .engine
        .update_job(job.id, edited, job.revision)
        .await
        .unwrap();
    h.advance_secs(10 * 60).await;
    let executions = h.executor.executions_of("flaky");
    assert_eq!(executions.len(), 2);
    assert_eq!(executions[1].run.id, retry.id);
    assert_eq!(executions[1].job.revision, job.revision);
    assert_eq!(executions[1].job.spec.description, "now with a fix");
    let recorded = h.engine.get_run(retry.id).await.unwrap();
    assert_eq!(
        recorded.job_revision, job.revision,
        "history says which definition ran"
    );
    // The third attempt waits; an edit down to one attempt ends it, with the reason.
    let third = pending_retry(&h, &job).await;
    let mut fewer = job.spec.clone();
    fewer.policies.retry.max_attempts = 1;
    let job = h
        .engine
        .update_job(job.id, fewer, job.revision)
        .await
        .unwrap();
    let third = h.engine.get_run(third.id).await.unwrap();
    assert_eq!(third.status, RunStatus::Cancelled);
    assert!(
        third
            .error
            .as_deref()
            .unwrap()
            .contains("retry policy now allows 1 attempt"),
        "{third:?}"
    );
    // Another failure, another retry; disabling the job ends it.
    let mut again = job.spec.clone();
    again.policies.retry.max_attempts = 2;
    let job = h
        .engine
        .update_job(job.id, again, job.revision)
        .await
        .unwrap();
    h.engine.run_now(job.id).await.unwrap();
    h.advance_secs(1).await;
    let retry = pending_retry(&h, &job).await;
    h.engine.set_enabled(job.id, false).await.unwrap();
    let retry = h.engine.get_run(retry.id).await.unwrap();
    assert_eq!(retry.status, RunStatus::Cancelled);
    assert!(
        retry.error.as_deref().unwrap().contains("disabled"),
        "{retry:?}"
    );
    h.advance_secs(3600).await;
    assert_eq!(h.executor.executions_of("flaky").len(), 3);
}

/// Every run of the database, read from the file (after the engine quit).
async fn stored_runs(h: &Harness) -> Vec<Run> {
    let store = sundial_engine::store::Store::open(&h.db_path())
        .await
        .unwrap();
    let mut runs = store
        .list_runs(&sundial_engine::store::RunFilter {
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    store.close().await;
    runs.sort_by_key(|r| (r.scheduled_for, r.id));
    runs
}

/// One slot: "long" (100 s from 00:01) takes it; at 00:02 "a" and "b" wait for the slot and a
/// queue-one run of "long" waits for "long" itself.
async fn runs_queued_behind_the_cap(h: &Harness) -> (Job, Job, Job) {
    h.executor
        .set("long", Behaviour::Take(Duration::from_secs(100)));
    let long = h
        .engine
        .create_job(spec(
            "long",
            cron("* * * * *", "UTC"),
            policies("skip", 1, "queue_one"),
        ))
        .await
        .unwrap();
    h.advance_secs(1).await;
    let a = h
        .engine
        .create_job(spec("a", cron("2 * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    let b = h
        .engine
        .create_job(spec("b", cron("2 * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    h.advance_secs(99).await; // 00:02:10
    (long, a, b)
}

#[tokio::test(start_paused = true)]
async fn quit_waiting_for_runs_starts_nothing_queued_and_the_next_start_runs_it() {
    let mut h = Harness::start_with("2024-01-01T00:00:30Z", 1).await;
    let (long, a, b) = runs_queued_behind_the_cap(&h).await;
    assert_eq!(h.executor.executions().len(), 1, "only long holds the slot");
    let queued: Vec<Run> = h
        .all_runs()
        .await
        .into_iter()
        .filter(|r| r.status == RunStatus::Queued)
        .collect();
    assert_eq!(queued.len(), 3, "a, b and long's queue-one run: {queued:?}");
    let quit_at = h.engine.now();
    h.engine.shutdown(false).await; // "Quit, waiting for runs"
    assert!(h.engine.now() > quit_at, "the quit waited for long");
    assert_eq!(
        h.executor.executions().len(),
        1,
        "nothing queued started while quitting, though the slot came free"
    );
    let after_quit: Vec<Run> = stored_runs(&h).await;
    assert_eq!(
        after_quit
            .iter()
            .filter(|r| r.status == RunStatus::Queued)
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        queued.iter().map(|r| r.id).collect::<Vec<_>>(),
        "they stay queued, handed to the next start"
    );
    h.clock.jump(ChronoDuration::seconds(10));
    h.start_again().await;
    h.advance_secs(300).await; // one slot: long's 100 s run and a and b, one after another
    for (job, name) in [(&a, "a"), (&b, "b"), (&long, "long")] {
        let handed = queued.iter().find(|r| r.job_id == job.id).unwrap();
        let run = h.engine.get_run(handed.id).await.unwrap();
        assert_eq!(
            run.status,
            RunStatus::Succeeded,
            "{name}'s run left queued at the quit ran after the next start: {run:?}"
        );
        assert!(run.started_at.unwrap() >= quit_at + ChronoDuration::seconds(10));
    }
    assert_eq!(h.executor.executions_of("a").len(), 1);
    assert_eq!(h.executor.executions_of("b").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn quit_cancelling_runs_records_the_queued_ones_as_cancelled() {
    let h = Harness::start_with("2024-01-01T00:00:30Z", 1).await;
    runs_queued_behind_the_cap(&h).await;
    h.engine.shutdown(true).await;
    let runs = stored_runs(&h).await;
    assert!(runs.iter().all(|r| r.status.is_terminal()), "{runs:?}");
    let cancelled: Vec<_> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Cancelled)
        .collect();
    assert_eq!(
        cancelled.len(),
        4,
        "long, its queue-one run, a and b: {runs:?}"
    );
    assert_eq!(h.executor.executions().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_manual_run_waiting_for_a_slot_at_quit_is_recorded_as_not_started() {
    let h = Harness::start_with("2024-01-01T00:00:30Z", 1).await;
    h.executor
        .set("long", Behaviour::Take(Duration::from_secs(100)));
    let long = h
        .engine
        .create_job(spec("long", json!({"type": "manual"}), json!(null)))
        .await
        .unwrap();
    let other = h
        .engine
        .create_job(spec("other", json!({"type": "manual"}), json!(null)))
        .await
        .unwrap();
    h.engine.run_now(long.id).await.unwrap();
    h.advance_secs(1).await;
    let waiting = h.engine.run_now(other.id).await.unwrap();
    h.advance_secs(1).await;
    h.engine.shutdown(false).await;
    let waiting = stored_runs(&h)
        .await
        .into_iter()
        .find(|r| r.id == waiting.id)
        .unwrap();
    assert_eq!(waiting.status, RunStatus::Cancelled);
    assert!(
        waiting
            .error
            .as_deref()
            .unwrap()
            .contains("Sundial quit while this run waited for a free slot"),
        "{waiting:?}"
    );
    assert_eq!(h.executor.executions_of("other").len(), 0);
}

#[test]
fn a_slot_finer_than_a_millisecond_is_not_after_the_stored_cursor_of_its_firing() {
    use sundial_engine::domain::Trigger;
    use sundial_engine::schedule::Schedule;
    // The store keeps cursors in whole milliseconds; the firing at 10.123456789 is stored as
    // having been looked at up to 10.123. Were the slot kept finer, it would lie after that
    // cursor and fire again after a restart (seen with a daemon killed and started again).
    let stored_cursor = at("2024-01-01T00:00:10.123Z");
    for trigger in [
        json!({"type": "once", "at": "2024-01-01T00:00:10.123456789Z"}),
        json!({"type": "interval", "every": 60, "unit": "seconds",
               "anchor": "2024-01-01T00:00:10.123456789Z"}),
    ] {
        let trigger: Trigger = serde_json::from_value(trigger).unwrap();
        let schedule = Schedule::from_trigger(&trigger, at("2024-01-01T00:00:00Z")).unwrap();
        let next = schedule.next_after(stored_cursor);
        assert!(
            next.is_none_or(|t| t >= at("2024-01-01T00:01:10Z")),
            "{trigger:?}: {next:?}"
        );
    }
}

mod cli_support;

#[tokio::test(start_paused = true)]
async fn sundialctl_lists_the_ledger_entry_of_a_night_asleep() {
    let h = Harness::start("2024-03-01T22:00:30Z").await;
    h.engine
        .create_job(spec("every-minute", cron("* * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    h.advance_secs(60).await;
    h.clock.suspend(ChronoDuration::hours(8));
    h.advance_secs(5).await;
    h.engine.shutdown(false).await;
    let data = h.dir.path().to_path_buf();
    let (text, entries) = tokio::task::spawn_blocking(move || {
        (
            cli_support::ok(&data, &["runs", "missed"]),
            cli_support::json(&data, &["runs", "missed", "--job", "every-minute"]),
        )
    })
    .await
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one entry: {text}");
    for column in [
        "every-minute",
        "479",
        "2024-03-01T22:02:00Z",
        "2024-03-02T06:00:00Z",
        "asleep",
        "skipped",
    ] {
        assert!(lines[1].contains(column), "{column:?} in {:?}", lines[1]);
    }
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["missed"], 479);
    assert_eq!(entries[0]["cause"], "asleep");
}

#[tokio::test(start_paused = true)]
async fn an_at_start_job_runs_its_delay_after_each_start_and_not_otherwise() {
    let mut h = Harness::start("2024-01-01T08:00:00Z").await;
    let job = h
        .engine
        .create_job(spec(
            "at-login",
            json!({"type": "at_start", "delay_secs": 30}),
            json!(null),
        ))
        .await
        .unwrap();
    h.advance_secs(120).await;
    assert!(
        h.executor.executions().is_empty(),
        "created while running: it waits for the next start"
    );
    h.restart().await; // 08:02
    let started = h.engine.now();
    h.advance_secs(60).await;
    let runs = h.executor.executions_of("at-login");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].started_at, started + ChronoDuration::seconds(30));
    assert_eq!(
        runs[0].run.scheduled_for,
        started + ChronoDuration::seconds(30)
    );
    h.advance_secs(3600).await;
    assert_eq!(
        h.executor.executions_of("at-login").len(),
        1,
        "once per start"
    );
    // Disabled: a start does nothing.
    h.engine.set_enabled(job.id, false).await.unwrap();
    h.restart().await;
    h.advance_secs(60).await;
    assert_eq!(h.executor.executions_of("at-login").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_on_wake_job_runs_after_a_sleep_but_not_after_a_clock_change() {
    let h = Harness::start("2024-01-01T08:00:00Z").await;
    h.engine
        .create_job(spec(
            "after-wake",
            json!({"type": "on_wake", "delay_secs": 10}),
            json!(null),
        ))
        .await
        .unwrap();
    h.advance_secs(60).await;
    h.clock.jump(ChronoDuration::hours(1)); // the clock set forward while awake
    h.advance_secs(60).await;
    assert!(
        h.executor.executions().is_empty(),
        "a clock change is not a wake"
    );
    h.clock.suspend(ChronoDuration::hours(2));
    h.advance_secs(60).await;
    let runs = h.executor.executions_of("after-wake");
    assert_eq!(runs.len(), 1, "one run per wake");
    let woke = runs[0].run.scheduled_for - ChronoDuration::seconds(10);
    assert!(
        woke >= at("2024-01-01T11:02:00Z") && woke < at("2024-01-01T11:02:05Z"),
        "10 s after the wake was noticed: {woke}"
    );
    assert_eq!(runs[0].started_at, runs[0].run.scheduled_for);
    // While paused, a wake is recorded as skipped.
    h.engine.pause().await.unwrap();
    h.clock.suspend(ChronoDuration::hours(1));
    h.advance_secs(60).await;
    let job = h.engine.list_jobs().await.unwrap().remove(0);
    let skipped: Vec<_> = h
        .runs_of(&job)
        .await
        .into_iter()
        .filter(|r| r.status == RunStatus::Skipped)
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].error.as_deref().unwrap().contains("paused"));
    assert_eq!(h.executor.executions_of("after-wake").len(), 1);
}

/// The login manager's notices (`PrepareForSleep`) on the fake clock, around a suspend: the
/// loop reads "sleeping" before the machine sleeps. Returns the wall time of the resume.
async fn sleep_for(h: &Harness, by: ChronoDuration) -> chrono::DateTime<chrono::Utc> {
    h.clock.signal(SleepSignal::Sleeping);
    h.advance(Duration::from_millis(1)).await;
    h.clock.suspend(by);
    h.clock.signal(SleepSignal::Resumed);
    h.clock.now()
}

async fn on_wake_job(h: &Harness) {
    h.engine
        .create_job(spec(
            "after-wake",
            json!({"type": "on_wake", "delay_secs": 10}),
            json!(null),
        ))
        .await
        .unwrap();
    h.advance_secs(60).await;
}

#[tokio::test(start_paused = true)]
async fn the_login_managers_resume_notice_fires_on_wake_jobs_at_once_and_once() {
    let h = Harness::start("2024-01-01T08:00:00Z").await;
    on_wake_job(&h).await;
    // Two hours asleep: the notice and the clock's drift both tell of the wake; one run, 10 s
    // after the very instant of the resume (not when the drift is next looked at).
    let resumed = sleep_for(&h, ChronoDuration::hours(2)).await;
    h.advance_secs(30).await;
    let runs = h.executor.executions_of("after-wake");
    assert_eq!(runs.len(), 1, "one run per wake: {runs:?}");
    assert_eq!(
        runs[0].run.scheduled_for,
        resumed + ChronoDuration::seconds(10)
    );
    // Asleep again half a minute later: a new wake, which its notices tell apart from the
    // first (the drift alone could not, so soon).
    sleep_for(&h, ChronoDuration::minutes(30)).await;
    h.advance_secs(120).await;
    assert_eq!(h.executor.executions_of("after-wake").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_sleep_too_short_for_the_clock_to_tell_is_a_wake_when_the_system_says_so() {
    let h = Harness::start("2024-01-01T08:00:00Z").await;
    on_wake_job(&h).await;
    // Under the drift's one-second tolerance: the clock alone sees nothing.
    h.clock.suspend(ChronoDuration::milliseconds(400));
    h.advance_secs(60).await;
    assert!(h.executor.executions_of("after-wake").is_empty());
    sleep_for(&h, ChronoDuration::milliseconds(400)).await;
    h.advance_secs(60).await;
    assert_eq!(h.executor.executions_of("after-wake").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_sleep_notice_read_only_after_the_wake_does_not_make_a_second_wake() {
    let h = Harness::start("2024-01-01T08:00:00Z").await;
    on_wake_job(&h).await;
    // The machine suspended before the loop read the notice: it reads "sleeping" and
    // "resumed" together after the wake, which the drift has also shown.
    h.clock.suspend(ChronoDuration::hours(1));
    h.clock.signal(SleepSignal::Sleeping);
    h.clock.signal(SleepSignal::Resumed);
    h.advance_secs(120).await;
    assert_eq!(h.executor.executions_of("after-wake").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_event_trigger_delay_over_a_day_is_a_field_error() {
    let h = Harness::start("2024-01-01T08:00:00Z").await;
    let e = h
        .engine
        .create_job(spec(
            "late",
            json!({"type": "on_wake", "delay_secs": 86_401}),
            json!(null),
        ))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("trigger.delay_secs"), "{text}");
    assert!(text.contains("from 0 to 86400 seconds"), "{text}");
    assert!(
        h.engine.list_jobs().await.unwrap().is_empty(),
        "nothing was created"
    );
}

#[test]
fn sundialctl_adds_at_start_and_on_wake_jobs_and_refuses_a_delay_over_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    cli_support::ok(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "sync",
            "--command",
            "true",
            "--on-wake",
            "30",
        ],
    );
    cli_support::ok(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "agent",
            "--command",
            "true",
            "--at-start",
        ],
    );
    let list = cli_support::ok(data, &["jobs", "list"]);
    assert!(
        list.contains("When the computer wakes from sleep, 30 s later"),
        "{list}"
    );
    assert!(list.contains("When Sundial starts"), "{list}");
    let shown = cli_support::json(data, &["jobs", "show", "agent"]);
    assert_eq!(
        shown["trigger"],
        json!({"type": "at_start", "delay_secs": 0})
    );
    let refused = cli_support::ctl(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "overdue",
            "--command",
            "true",
            "--on-wake",
            "90000",
        ],
    );
    assert_ne!(refused.code, 0);
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(
        said.contains("trigger.delay_secs: must be from 0 to 86400 seconds"),
        "{}",
        said
    );
    assert!(!cli_support::ok(data, &["jobs", "list"]).contains("overdue"));
}
