//! The aggregates behind the window's pictures (store/views.rs), on a real SQLite file: the
//! jobs list's run strips, a job's success rates, the timeline's window of runs and the heat
//! map's days.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Local, Utc};
use serde_json::json;
use sundial_engine::domain::{Job, JobId, JobSpec, Run, RunId, RunReason, RunStatus};
use sundial_engine::store::{DayOutcomes, OutcomeCounts, Store};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A run id made at `t`, as the engine makes them (ULIDs sort by creation time).
fn id_at(t: DateTime<Utc>) -> RunId {
    let system = SystemTime::UNIX_EPOCH + Duration::from_millis(t.timestamp_millis() as u64);
    RunId::from_str(&ulid::Ulid::from_datetime(system).to_string()).unwrap()
}

fn job(name: &str) -> Job {
    let spec: JobSpec = serde_json::from_value(json!({
        "name": name,
        "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
        "trigger": {"type": "manual"},
    }))
    .unwrap();
    let created = at("2026-01-01T00:00:00Z");
    Job {
        id: JobId::new(),
        revision: 1,
        created_at: created,
        updated_at: created,
        spec,
    }
}

/// A run of `job` scheduled at `t` that took `secs` (unfinished when `status` is going).
fn run(job: &Job, t: DateTime<Utc>, secs: i64, status: RunStatus) -> Run {
    let going = !status.is_terminal();
    Run {
        id: id_at(t),
        job_id: job.id,
        job_revision: 1,
        reason: RunReason::Schedule,
        attempt: 1,
        parent_run_id: None,
        scheduled_for: t,
        created_at: t,
        started_at: (status != RunStatus::Skipped).then_some(t),
        finished_at: (!going).then(|| t + chrono::Duration::seconds(secs)),
        status,
        exit_code: match status {
            RunStatus::Succeeded => Some(0),
            RunStatus::Failed => Some(2),
            _ => None,
        },
        http_status: None,
        error: None,
        log_bytes: 0,
        log_lines: 0,
        cpu_ms: None,
        peak_memory_bytes: None,
        overrides: None,
        trigger_path: None,
        wait: Default::default(),
    }
}

async fn store_with(jobs: &[&Job], runs: &[Run]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sundial.db")).await.unwrap();
    let jobs: Vec<Job> = jobs.iter().map(|j| (*j).clone()).collect();
    store.insert_jobs(&jobs).await.unwrap();
    store.record_firings(runs, &[], &[]).await.unwrap();
    (dir, store)
}

fn hours(h: i64) -> chrono::Duration {
    chrono::Duration::hours(h)
}

#[tokio::test]
async fn run_strips_hold_the_newest_runs_of_every_job_oldest_first() {
    let (busy, quiet, never) = (job("busy"), job("quiet"), job("never run"));
    let t0 = at("2026-11-01T00:00:00Z");
    let mut runs: Vec<Run> = (0..30)
        .map(|i| run(&busy, t0 + hours(i), 5, RunStatus::Succeeded))
        .collect();
    runs.push(run(&quiet, t0, 1, RunStatus::Failed));
    runs.push(run(&quiet, t0 + hours(1), 1, RunStatus::Succeeded));
    let (_dir, store) = store_with(&[&busy, &quiet, &never], &runs).await;

    let marks = store.recent_runs_per_job(20).await.unwrap();
    let of = |j: &Job| -> Vec<DateTime<Utc>> {
        marks
            .iter()
            .filter(|m| m.job_id == j.id)
            .map(|m| m.scheduled_for)
            .collect()
    };
    let expected: Vec<_> = (10..30).map(|i| t0 + hours(i)).collect();
    assert_eq!(of(&busy), expected, "the newest 20, oldest first");
    assert_eq!(of(&quiet), vec![t0, t0 + hours(1)]);
    assert!(of(&never).is_empty());
    let first_quiet = marks.iter().find(|m| m.job_id == quiet.id).unwrap();
    assert_eq!(first_quiet.status, RunStatus::Failed);
    assert_eq!(first_quiet.exit_code, Some(2));
    assert_eq!(
        first_quiet.finished_at,
        Some(t0 + chrono::Duration::seconds(1))
    );
}

#[tokio::test]
async fn success_rates_count_failures_of_every_kind_and_leave_out_cancelled_and_skipped() {
    let (a, b) = (job("a"), job("b"));
    let now = at("2026-11-30T12:00:00Z");
    let days = |d: i64| now - chrono::Duration::days(d);
    let runs = vec![
        run(&a, days(1), 1, RunStatus::Succeeded),
        run(&a, days(2), 1, RunStatus::Failed),
        run(&a, days(3), 1, RunStatus::TimedOut),
        run(&a, days(4), 1, RunStatus::Cancelled),
        run(&a, days(5), 1, RunStatus::Skipped),
        run(&a, days(7), 1, RunStatus::Succeeded), // exactly 7 days ago: inside
        run(&a, days(10), 1, RunStatus::Interrupted),
        run(&a, days(20), 1, RunStatus::Succeeded),
        run(&a, days(31), 1, RunStatus::Failed), // outside 30 days
        run(&b, days(1), 1, RunStatus::Failed),
    ];
    let (_dir, store) = store_with(&[&a, &b], &runs).await;

    let week = store.outcome_counts(Some(a.id), days(7)).await.unwrap();
    assert_eq!(
        week,
        OutcomeCounts {
            succeeded: 2,
            failed: 2
        }
    );
    let month = store.outcome_counts(Some(a.id), days(30)).await.unwrap();
    assert_eq!(
        month,
        OutcomeCounts {
            succeeded: 3,
            failed: 3
        }
    );
    let all_jobs = store.outcome_counts(None, days(7)).await.unwrap();
    assert_eq!(
        all_jobs,
        OutcomeCounts {
            succeeded: 2,
            failed: 3
        }
    );
    let none = store.outcome_counts(Some(b.id), now).await.unwrap();
    assert_eq!(none, OutcomeCounts::default());
}

#[tokio::test]
async fn a_window_holds_the_runs_that_overlap_it_and_every_run_still_going() {
    let j = job("j");
    let from = at("2026-11-30T00:00:00Z");
    let to = from + hours(24);
    let inside = run(&j, from + hours(3), 60, RunStatus::Succeeded);
    let ends_inside = run(&j, from - hours(1), 2 * 3600, RunStatus::Failed);
    let ended_before = run(&j, from - hours(3), 60, RunStatus::Succeeded);
    let at_end = run(&j, to, 1, RunStatus::Succeeded);
    let long_going = run(&j, from - hours(72), 0, RunStatus::Running);
    let runs = vec![
        inside.clone(),
        ends_inside.clone(),
        ended_before,
        at_end,
        long_going.clone(),
    ];
    let (_dir, store) = store_with(&[&j], &runs).await;

    let window = store.runs_in_window(from, to, 100).await.unwrap();
    let ids: Vec<RunId> = window.runs.iter().map(|m| m.id).collect();
    assert_eq!(
        ids,
        vec![inside.id, ends_inside.id, long_going.id],
        "newest first"
    );
    assert!(!window.truncated);
}

#[tokio::test]
async fn a_window_with_more_runs_than_its_limit_keeps_the_newest_and_says_so() {
    let j = job("j");
    let from = at("2026-11-30T00:00:00Z");
    let runs: Vec<Run> = (0..10)
        .map(|i| run(&j, from + hours(i), 1, RunStatus::Succeeded))
        .collect();
    let (_dir, store) = store_with(&[&j], &runs).await;

    let window = store
        .runs_in_window(from, from + hours(24), 4)
        .await
        .unwrap();
    let times: Vec<_> = window.runs.iter().map(|m| m.scheduled_for).collect();
    assert_eq!(
        times,
        (6..10).rev().map(|i| from + hours(i)).collect::<Vec<_>>()
    );
    assert!(window.truncated);
    let all = store
        .runs_in_window(from, from + hours(24), 10)
        .await
        .unwrap();
    assert_eq!(all.runs.len(), 10);
    assert!(!all.truncated);
}

#[tokio::test]
async fn days_count_runs_and_failures_in_local_time_for_one_job_or_all() {
    let (a, b) = (job("a"), job("b"));
    // Noon UTC is the same local day everywhere from UTC-11 to UTC+11.
    let d1 = at("2026-11-10T12:00:00Z");
    let d2 = at("2026-11-12T12:00:00Z");
    let runs = vec![
        run(&a, d1, 1, RunStatus::Succeeded),
        run(&a, d1 + chrono::Duration::minutes(5), 1, RunStatus::Failed),
        run(
            &a,
            d1 + chrono::Duration::minutes(10),
            1,
            RunStatus::Skipped,
        ),
        run(
            &b,
            d1 + chrono::Duration::minutes(15),
            1,
            RunStatus::TimedOut,
        ),
        run(&a, d2, 1, RunStatus::Succeeded),
        run(&b, d2 + chrono::Duration::minutes(1), 1, RunStatus::Skipped), // only skipped for b
        run(&a, at("2026-12-20T12:00:00Z"), 1, RunStatus::Failed),         // after `to`
    ];
    let (_dir, store) = store_with(&[&a, &b], &runs).await;
    let local_day = |t: DateTime<Utc>| t.with_timezone(&Local).format("%Y-%m-%d").to_string();
    let (from, to) = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));

    let of_a = store.daily_outcomes(Some(a.id), from, to).await.unwrap();
    assert_eq!(
        of_a,
        vec![
            DayOutcomes {
                day: local_day(d1),
                runs: 2,
                succeeded: 1,
                failed: 1
            },
            DayOutcomes {
                day: local_day(d2),
                runs: 1,
                succeeded: 1,
                failed: 0
            },
        ]
    );
    let of_b = store.daily_outcomes(Some(b.id), from, to).await.unwrap();
    assert_eq!(
        of_b,
        vec![DayOutcomes {
            day: local_day(d1),
            runs: 1,
            succeeded: 0,
            failed: 1
        }],
        "a day of skipped firings only is no day of runs"
    );
    let all = store.daily_outcomes(None, from, to).await.unwrap();
    assert_eq!(
        all,
        vec![
            DayOutcomes {
                day: local_day(d1),
                runs: 3,
                succeeded: 1,
                failed: 2
            },
            DayOutcomes {
                day: local_day(d2),
                runs: 1,
                succeeded: 1,
                failed: 0
            },
        ]
    );
}
