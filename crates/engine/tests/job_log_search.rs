//! A job's logs as one: one search over every run log of a job, on real log files and a real
//! SQLite file. Newest run first, matches across runs with their lines and ranges, the cap
//! and the counts, cancellation, other jobs' runs left out, and a bad regex as a field error.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde_json::json;
use sundial_engine::EngineError;
use sundial_engine::domain::{Job, JobId, JobSpec, Run, RunId, RunReason, RunStatus};
use sundial_engine::logs::{
    JobLogRun, JobLogSearch, JobLogSummary, LogError, LogStore, Stream, search_job_logs,
};
use sundial_engine::store::Store;
use tokio_util::sync::CancellationToken;

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

fn run(job: &Job, t: DateTime<Utc>, status: RunStatus) -> Run {
    Run {
        id: id_at(t),
        job_id: job.id,
        job_revision: 1,
        reason: RunReason::Schedule,
        attempt: 1,
        parent_run_id: None,
        scheduled_for: t,
        created_at: t,
        started_at: Some(t),
        finished_at: Some(t + chrono::Duration::seconds(1)),
        status,
        exit_code: Some(if status == RunStatus::Succeeded { 0 } else { 1 }),
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

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    logs: LogStore,
}

impl Fixture {
    async fn new(jobs: &[&Job]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sundial.db")).await.unwrap();
        let jobs: Vec<Job> = jobs.iter().map(|j| (*j).clone()).collect();
        store.insert_jobs(&jobs).await.unwrap();
        let logs = LogStore::new(dir.path().join("runs"));
        Self {
            _dir: dir,
            store,
            logs,
        }
    }

    /// Records `run` and writes its log: each line on stdout, `err:` lines on stderr.
    async fn add(&self, run: &Run, lines: &[&str]) {
        self.store
            .record_firings(std::slice::from_ref(run), &[], &[])
            .await
            .unwrap();
        let mut log = self.logs.create(run.id, 1 << 30).unwrap();
        for line in lines {
            let (stream, text) = match line.strip_prefix("err:") {
                Some(rest) => (Stream::Stderr, rest),
                None => (Stream::Stdout, *line),
            };
            log.write_output(stream, run.scheduled_for, format!("{text}\n").as_bytes());
        }
        log.finish(run.scheduled_for).unwrap();
    }

    async fn search(
        &self,
        job: &Job,
        search: JobLogSearch,
    ) -> Result<(Vec<JobLogRun>, JobLogSummary), EngineError> {
        let mut found = Vec::new();
        let summary = search_job_logs(
            &self.store,
            &self.logs,
            job.id,
            &search,
            &CancellationToken::new(),
            |r| {
                found.push(r);
                true
            },
        )
        .await?;
        Ok((found, summary))
    }
}

fn literal(pattern: &str) -> JobLogSearch {
    JobLogSearch {
        pattern: pattern.into(),
        regex: false,
        case_sensitive: true,
        max_matches: 10_000,
    }
}

#[tokio::test]
async fn matches_come_newest_run_first_with_their_lines_and_ranges() {
    let backup = job("backup");
    let other = job("other");
    let f = Fixture::new(&[&backup, &other]).await;
    let old = run(&backup, at("2026-03-01T02:00:00Z"), RunStatus::Failed);
    let mid = run(&backup, at("2026-03-02T02:00:00Z"), RunStatus::Succeeded);
    let new = run(&backup, at("2026-03-03T02:00:00Z"), RunStatus::Failed);
    // Written out of order: the order comes from the runs, not from the files.
    f.add(&mid, &["copied 3 files", "all good"]).await;
    f.add(
        &new,
        &["copied 1 file", "err:ERROR disk full", "err:ERROR again"],
    )
    .await;
    f.add(&old, &["err:ERROR network down", "retrying"]).await;
    f.add(
        &run(&other, at("2026-03-03T03:00:00Z"), RunStatus::Failed),
        &["ERROR not mine"],
    )
    .await;

    let (found, summary) = f.search(&backup, literal("ERROR")).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, [new.id.to_string(), old.id.to_string()]);
    assert_eq!(found[0].time, new.scheduled_for);
    assert_eq!(found[0].status, RunStatus::Failed);
    assert_eq!(found[0].total, 2);
    let lines: Vec<(u64, &str)> = found[0]
        .matches
        .iter()
        .map(|m| (m.line, m.text.as_str()))
        .collect();
    assert_eq!(lines, [(1, "ERROR disk full"), (2, "ERROR again")]);
    assert_eq!(found[0].matches[0].ranges, [(0, 5)]);
    assert_eq!(found[0].matches[0].stream, Stream::Stderr);
    assert_eq!(found[1].matches[0].text, "ERROR network down");
    assert_eq!(summary.runs, 3);
    assert_eq!(summary.runs_matched, 2);
    assert_eq!(summary.total, 3);
    assert_eq!(summary.shown, 3);
    assert!(!summary.cancelled);
    assert!(summary.bytes > 0);
}

#[tokio::test]
async fn regex_and_case_and_utf16_ranges() {
    let j = job("j");
    let f = Fixture::new(&[&j]).await;
    let r = run(&j, at("2026-03-01T02:00:00Z"), RunStatus::Succeeded);
    f.add(&r, &["ééé took 12 ms", "Took 345 ms", "nothing"])
        .await;
    let (found, _) = f
        .search(
            &j,
            JobLogSearch {
                pattern: r"took \d+".into(),
                regex: true,
                case_sensitive: false,
                max_matches: 100,
            },
        )
        .await
        .unwrap();
    let m = &found[0].matches;
    assert_eq!(m.len(), 2);
    // "ééé " is 4 UTF-16 units (7 bytes): the ranges index the JavaScript string.
    assert_eq!(m[0].ranges, [(4, 11)]);
    assert_eq!(m[1].ranges, [(0, 8)]);
    let (found, _) = f.search(&j, literal("took")).await.unwrap();
    assert_eq!(found[0].total, 1, "literal and case-sensitive by default");
}

#[tokio::test]
async fn the_cap_limits_shown_lines_in_run_order_and_everything_is_counted() {
    let j = job("chatty");
    let f = Fixture::new(&[&j]).await;
    let mut runs = Vec::new();
    for day in 1..=40 {
        let t = at("2026-01-01T00:00:00Z") + chrono::Duration::hours(day);
        let r = run(&j, t, RunStatus::Succeeded);
        let lines: Vec<String> = (0..30).map(|i| format!("hit {day} {i}")).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        f.add(&r, &lines).await;
        runs.push(r);
    }
    runs.sort_by_key(|r| std::cmp::Reverse(r.id));
    let (found, summary) = f
        .search(
            &j,
            JobLogSearch {
                max_matches: 100,
                ..literal("hit")
            },
        )
        .await
        .unwrap();
    assert_eq!(summary.total, 40 * 30);
    assert_eq!(summary.runs_matched, 40);
    assert_eq!(summary.shown, 100);
    let shown: usize = found.iter().map(|r| r.matches.len()).sum();
    assert_eq!(shown, 100);
    // The newest runs' lines are the ones shown; later runs are still listed with counts.
    let with_lines: Vec<String> = found
        .iter()
        .filter(|r| !r.matches.is_empty())
        .map(|r| r.run_id.clone())
        .collect();
    let newest: Vec<String> = runs.iter().take(4).map(|r| r.id.to_string()).collect();
    assert_eq!(with_lines, newest);
    assert_eq!(found.len(), 40);
    assert!(found.iter().all(|r| r.total == 30));
    // Runs are listed a page at a time: the order holds across pages too.
    let order: Vec<String> = found.iter().map(|r| r.run_id.clone()).collect();
    let expected: Vec<String> = runs.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(order, expected);
}

#[tokio::test]
async fn a_bad_regex_is_a_field_error_and_a_missing_log_is_skipped() {
    let j = job("j");
    let f = Fixture::new(&[&j]).await;
    let with_log = run(&j, at("2026-03-01T02:00:00Z"), RunStatus::Succeeded);
    f.add(&with_log, &["needle"]).await;
    // A skipped run has no log.
    let skipped = run(&j, at("2026-03-02T02:00:00Z"), RunStatus::Skipped);
    f.store.record_firings(&[skipped], &[], &[]).await.unwrap();
    let bad = JobLogSearch {
        regex: true,
        ..literal("(unclosed")
    };
    let e = f.search(&j, bad).await.unwrap_err();
    assert!(matches!(e, EngineError::Log(LogError::Pattern(_))), "{e}");
    assert_eq!(e.code(), "invalid");
    let e = f.search(&j, literal("")).await.unwrap_err();
    assert!(matches!(e, EngineError::Log(LogError::Pattern(_))), "{e}");

    let (found, summary) = f.search(&j, literal("needle")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(summary.runs, 1);
    assert_eq!(summary.unreadable, 0);

    let e = f.search(&job("unknown"), literal("x")).await.unwrap_err();
    assert_eq!(e.code(), "not_found");
}

#[tokio::test]
async fn stopping_ends_the_search_and_says_so() {
    let j = job("j");
    let f = Fixture::new(&[&j]).await;
    for h in 0..30 {
        let r = run(
            &j,
            at("2026-03-01T00:00:00Z") + chrono::Duration::hours(h),
            RunStatus::Succeeded,
        );
        f.add(&r, &["needle"]).await;
    }
    let mut seen = 0;
    let summary = search_job_logs(
        &f.store,
        &f.logs,
        j.id,
        &literal("needle"),
        &CancellationToken::new(),
        |_| {
            seen += 1;
            seen < 3
        },
    )
    .await
    .unwrap();
    assert_eq!(seen, 3);
    assert!(summary.cancelled);
    assert!(summary.runs < 30);

    let cancel = CancellationToken::new();
    cancel.cancel();
    let summary = search_job_logs(&f.store, &f.logs, j.id, &literal("needle"), &cancel, |_| {
        panic!("nothing is handed on after a cancel")
    })
    .await
    .unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.runs, 0);
}
