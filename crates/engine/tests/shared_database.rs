//! Several processes on one database, as a user has them: the window (an engine standing for
//! the app), `sundialctl daemon` and one-shot `sundialctl` commands, all real processes on one
//! SQLite file. Each change made by one reaches the others through the change feed.
//!
//! The other processes cannot be waited on through events, so these tests look at the
//! database until what they expect is there, with a generous limit; where they check that
//! something does NOT happen, they watch for a bounded window after the change took effect.

mod cli_support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cli_support::*;
use serde_json::Value;
use sundial_engine::lease::{LEASE_TTL, Lease, SchedulerRole};
use sundial_engine::store::{LeaseRecord, Store};
use sundial_engine::{
    Engine, EngineConfig, EngineEvent, LogStore, Runner, RunnerConfig, Scheduling, SystemClock,
};
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(20);
/// How long after a change took effect a test watches that nothing it stopped still happens.
const QUIET: chrono::TimeDelta = chrono::TimeDelta::milliseconds(1500);

fn runs(data: &Path, job: &str) -> Vec<Value> {
    json(data, &["runs", "list", "--job", job, "--limit", "10000"])
        .as_array()
        .unwrap()
        .clone()
}

fn created(run: &Value) -> DateTime<Utc> {
    run["created_at"].as_str().unwrap().parse().unwrap()
}

/// Looks again until `check` holds (another process's writes have no event to wait on).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn add_every_second(data: &Path, name: &str, command: &str) -> String {
    let added = json(
        data,
        &[
            "jobs",
            "add",
            "--name",
            name,
            "--command",
            command,
            "--cron",
            "* * * * * *",
        ],
    );
    added["id"].as_str().unwrap().to_string()
}

/// Waits until `job` has a run created after `after` (the daemon fired it since).
fn fires_after(data: &Path, job: &str, after: DateTime<Utc>) {
    eventually(&format!("{job} to fire after {after}"), || {
        runs(data, job).iter().any(|r| created(r) > after)
    });
}

#[test]
fn the_daemon_applies_every_cli_edit_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let daemon = start_daemon(data, &[]);
    daemon.expect_line("sundialctl daemon: scheduling 0 job(s)");
    add_every_second(data, "control", "true");
    // Added by another process: fires on the daemon's schedule.
    let t = Utc::now();
    add_every_second(data, "probe", "echo one");
    fires_after(data, "probe", t);
    // Edited: the new revision is what runs.
    ok(data, &["jobs", "edit", "probe", "--command", "echo two"]);
    eventually("a run of the edited probe", || {
        runs(data, "probe")
            .iter()
            .any(|r| r["job_revision"] == 2 && r["status"] == "succeeded")
    });
    // Disabled: no firing once the change is in, while the control job goes on.
    ok(data, &["jobs", "disable", "probe"]);
    let disabled = Utc::now();
    fires_after(data, "control", disabled + QUIET + QUIET);
    let late: Vec<_> = runs(data, "probe")
        .into_iter()
        .filter(|r| created(r) > disabled + QUIET)
        .collect();
    assert!(late.is_empty(), "the disabled job fired: {late:?}");
    // Enabled again: fires again.
    let enabled = Utc::now();
    ok(data, &["jobs", "enable", "probe"]);
    fires_after(data, "probe", enabled);
    // Paused from the CLI: the daemon stops firing; resumed: it goes on.
    ok(data, &["pause"]);
    let paused = Utc::now();
    let status = ok(data, &["status"]);
    assert!(status.contains("paused: yes"), "{status}");
    assert!(
        status.contains(&format!("sundialctl daemon, pid {}", daemon.child.id())),
        "{status}"
    );
    eventually("the pause to be old enough", || {
        Utc::now() > paused + QUIET + QUIET
    });
    for job in ["probe", "control"] {
        let late: Vec<_> = runs(data, job)
            .into_iter()
            .filter(|r| created(r) > paused + QUIET && r["reason"] == "schedule")
            .collect();
        assert!(late.is_empty(), "{job} fired while paused: {late:?}");
    }
    let resumed = Utc::now();
    ok(data, &["resume"]);
    fires_after(data, "control", resumed);
    // Removed: gone for good, and nothing else stalls on its absence.
    ok(data, &["jobs", "rm", "probe"]);
    let removed = Utc::now();
    fires_after(data, "control", removed + QUIET);
    assert!(ctl(data, &["runs", "list", "--job", "probe"]).code != 0);
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    daemon.expect_line("sundialctl daemon: stopped");
}

fn runner(dir: &Path) -> Arc<Runner> {
    Arc::new(Runner::new(RunnerConfig::default(), LogStore::new(dir.join("runs"))).unwrap())
}

/// An engine as the desktop app starts it: competing for the lease, with the run logs.
async fn app_engine(data: &Path) -> Engine {
    let logs = LogStore::new(data.join("runs"));
    let mut config = EngineConfig::competing(data.join("sundial.db"), "Sundial app");
    config.logs = Some(logs.clone());
    let runner = Runner::new(RunnerConfig::default(), logs).unwrap();
    Engine::start(config, Arc::new(SystemClock), Arc::new(runner))
        .await
        .unwrap()
}

/// Waits for an event that `want` accepts.
async fn event(
    events: &mut broadcast::Receiver<EngineEvent>,
    what: &str,
    want: impl Fn(&EngineEvent) -> bool,
) -> EngineEvent {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(e) if want(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the engine stopped"),
            }
        }
    };
    tokio::time::timeout(LIMIT, wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn cli(data: &Path, args: &[&str]) -> Value {
    let data = data.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        json(&data, &args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_sees_what_the_cli_adds_runs_removes_and_pauses() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let app = app_engine(data).await;
    assert!(app.is_scheduling(), "no daemon: the app holds the lease");
    let mut events = app.subscribe();
    // A job added by the CLI appears in the window and fires on the app's schedule.
    let added = cli(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "ticks",
            "--command",
            "true",
            "--cron",
            "* * * * * *",
        ],
    )
    .await;
    let id: sundial_engine::domain::JobId = added["id"].as_str().unwrap().parse().unwrap();
    event(&mut events, "the added job", |e| {
        *e == EngineEvent::JobChanged { job_id: id }
    })
    .await;
    assert!(app.list_jobs().await.unwrap().iter().any(|j| j.id == id));
    event(&mut events, "the added job's first run", |e| {
        matches!(e, EngineEvent::RunChanged { job_id, status, .. } if *job_id == id && status.is_terminal())
    })
    .await;
    // A run made by the CLI process shows in the window as it starts and ends.
    cli(
        data,
        &["jobs", "add", "--name", "by hand", "--command", "echo hi"],
    )
    .await;
    let by_hand = app
        .store()
        .find_job_by_name("by hand")
        .await
        .unwrap()
        .unwrap()
        .job
        .id;
    let data_dir = data.to_path_buf();
    let run = tokio::task::spawn_blocking(move || ok(&data_dir, &["jobs", "run", "by hand"]));
    event(&mut events, "the CLI's run ending", |e| {
        matches!(e, EngineEvent::RunChanged { job_id, status, .. } if *job_id == by_hand && *status == sundial_engine::domain::RunStatus::Succeeded)
    })
    .await;
    run.await.unwrap();
    // Pause and resume from the CLI reach the scheduler in the window.
    cli(data, &["pause"]).await;
    event(&mut events, "the pause", |e| {
        *e == EngineEvent::PauseChanged { paused: true }
    })
    .await;
    assert_eq!(app.next_fire(id).await.unwrap(), None);
    cli(data, &["resume"]).await;
    event(&mut events, "the resume", |e| {
        *e == EngineEvent::PauseChanged { paused: false }
    })
    .await;
    // Removed by the CLI: gone from the window.
    cli(data, &["jobs", "rm", "ticks"]).await;
    event(&mut events, "the removal", |e| {
        *e == EngineEvent::JobDeleted { job_id: id }
    })
    .await;
    assert!(app.list_jobs().await.unwrap().iter().all(|j| j.id != id));
    app.shutdown(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passive_window_says_who_schedules_and_takes_over_when_the_daemon_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let daemon = start_daemon(data, &[]);
    daemon.expect_line("sundialctl daemon: scheduling");
    let app = app_engine(data).await;
    let mut events = app.subscribe();
    match app.scheduler_role() {
        SchedulerRole::Passive {
            holder: Some(holder),
        } => {
            assert_eq!(holder.name, "sundialctl daemon");
            assert_eq!(holder.pid, daemon.child.id());
            assert!(holder.this_host);
        }
        other => panic!("the daemon schedules, not {other:?}"),
    }
    // A slow job the daemon is running when it is killed.
    cli(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "slow",
            "--command",
            "sleep 30",
            "--cron",
            "* * * * * *",
        ],
    )
    .await;
    let slow = app
        .store()
        .find_job_by_name("slow")
        .await
        .unwrap()
        .unwrap()
        .job
        .id;
    // While passive, the window shows the next firing the daemon stored.
    let deadline = Instant::now() + LIMIT;
    while app.next_fire(slow).await.unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "no next firing shown while passive"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    event(&mut events, "the daemon's run starting", |e| {
        matches!(e, EngineEvent::RunChanged { job_id, status, .. } if *job_id == slow && *status == sundial_engine::domain::RunStatus::Running)
    })
    .await;
    let killed = Instant::now();
    daemon.signal(nix::sys::signal::Signal::SIGKILL);
    event(&mut events, "the takeover", |e| {
        *e == EngineEvent::SchedulerChanged
    })
    .await;
    assert!(app.is_scheduling(), "{:?}", app.scheduler_role());
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "took over {:?} after the daemon died",
        killed.elapsed()
    );
    // The run the dead daemon left going is interrupted, not left "running".
    let interrupted = app
        .list_runs(&sundial_engine::store::RunFilter {
            job_id: Some(slow),
            statuses: vec![sundial_engine::domain::RunStatus::Interrupted],
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(interrupted.len(), 1, "{interrupted:?}");
    app.shutdown(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_that_loses_its_lease_stops_firing_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sundial.db");
    let store = Store::open(&db).await.unwrap();
    let lease = Lease::acquire(&store, "first", Utc::now(), LEASE_TTL)
        .await
        .unwrap()
        .unwrap();
    let token = lease.record().token.clone();
    let engine = Engine::start(
        EngineConfig {
            scheduling: Scheduling::Lease(lease),
            ..EngineConfig::new(&db)
        },
        Arc::new(SystemClock),
        runner(dir.path()),
    )
    .await
    .unwrap();
    let mut events = engine.subscribe();
    let spec: sundial_engine::domain::JobSpec = serde_json::from_value(serde_json::json!({
        "name": "ticks",
        "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
        "trigger": {"type": "cron", "expr": "* * * * * *", "timezone": "UTC"},
    }))
    .unwrap();
    let job = engine.create_job(spec).await.unwrap();
    event(
        &mut events,
        "a firing",
        |e| matches!(e, EngineEvent::RunChanged { job_id, .. } if *job_id == job.id),
    )
    .await;
    // Another scheduler takes the lease over (as after this one hung past its expiry).
    let now = Utc::now();
    let thief = LeaseRecord {
        token: "thief".into(),
        holder: "another scheduler".into(),
        pid: 1,
        host: "elsewhere".into(),
        since: now,
        renewed_at: now,
        expires_at: now + chrono::Duration::seconds(30),
    };
    assert!(store.take_over_lease(&thief, &token).await.unwrap());
    let stolen = Utc::now();
    event(&mut events, "stepping down", |e| {
        *e == EngineEvent::SchedulerChanged
    })
    .await;
    match engine.scheduler_role() {
        SchedulerRole::Passive { holder: Some(h) } => assert_eq!(h.name, "another scheduler"),
        other => panic!("expected passive, got {other:?}"),
    }
    tokio::time::sleep(QUIET.to_std().unwrap()).await;
    let after: Vec<_> = engine
        .list_runs(&sundial_engine::store::RunFilter {
            job_id: Some(job.id),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.created_at > stolen)
        .collect();
    assert!(after.is_empty(), "fired after losing the lease: {after:?}");
    engine.shutdown(false).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_starting_leaves_a_cli_run_that_is_still_going_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    ok(
        &data,
        &["jobs", "add", "--name", "slow", "--command", "sleep 2"],
    );
    let d = data.clone();
    let cli_run = tokio::task::spawn_blocking(move || ok(&d, &["jobs", "run", "slow"]));
    let deadline = Instant::now() + LIMIT;
    loop {
        let going = cli(&data, &["runs", "list", "--status", "running"]).await;
        if !going.as_array().unwrap().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the CLI's run never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The app starts while the CLI's run goes: it is not "interrupted".
    let app = app_engine(&data).await;
    assert!(app.is_scheduling());
    cli_run.await.unwrap();
    let runs = cli(&data, &["runs", "list", "--job", "slow"]).await;
    assert_eq!(runs[0]["status"], "succeeded", "{runs}");
    app.shutdown(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_follows_the_log_of_a_run_another_process_is_running() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let app = app_engine(&data).await;
    let mut events = app.subscribe();
    cli(
        &data,
        &[
            "jobs",
            "add",
            "--name",
            "talker",
            "--command",
            "echo first; sleep 1; echo second; sleep 1; echo third",
        ],
    )
    .await;
    let d = data.clone();
    let cli_run = tokio::task::spawn_blocking(move || ok(&d, &["jobs", "run", "talker"]));
    let started = event(&mut events, "the CLI's run starting", |e| {
        matches!(e, EngineEvent::RunChanged { status, .. } if *status == sundial_engine::domain::RunStatus::Running)
    })
    .await;
    let EngineEvent::RunChanged { run_id, .. } = started else {
        unreachable!()
    };
    let mut follow = app.follow_run_log(run_id, 0).await.unwrap();
    let mut texts = Vec::new();
    let all = async {
        while let Some(line) = follow.next().await {
            let line = line.unwrap();
            if line.stream == sundial_engine::logs::Stream::Stdout {
                texts.push(line.text);
            }
        }
    };
    tokio::time::timeout(LIMIT, all)
        .await
        .expect("the follow ends when the CLI's run ends");
    assert_eq!(texts, ["first", "second", "third"]);
    cli_run.await.unwrap();
    app.shutdown(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_at_once_lose_nothing_and_a_stale_edit_names_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let app = app_engine(&data).await;
    // Two CLI processes add jobs at the same time as the window edits: every write lands.
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|who| {
            let data = data.clone();
            tokio::task::spawn_blocking(move || {
                for i in 0..15 {
                    let name = format!("{who}{i}");
                    ok(
                        &data,
                        &["jobs", "add", "--name", &name, "--command", "true"],
                    );
                }
            })
        })
        .collect();
    let mut mine = Vec::new();
    for i in 0..15 {
        let spec = serde_json::from_value(serde_json::json!({
            "name": format!("window{i}"),
            "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
            "trigger": {"type": "manual"},
        }))
        .unwrap();
        mine.push(app.create_job(spec).await.unwrap());
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(app.list_jobs().await.unwrap().len(), 45);
    // An edit based on a revision another process has since replaced is refused by name.
    let job = &mine[0];
    cli(
        &data,
        &["jobs", "edit", "window0", "--command", "echo elsewhere"],
    )
    .await;
    let mut spec = job.spec.clone();
    spec.description = "from the window".into();
    let err = app
        .update_job(job.id, spec, job.revision)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert!(
        err.to_string()
            .contains("job “window0” was changed elsewhere"),
        "{err}"
    );
    let stored = app.get_job(job.id).await.unwrap();
    assert_eq!(stored.revision, 2, "the other process's edit is kept");
    app.shutdown(false).await;
}

/// Every run on the database, read straight from the file.
fn stored_runs(data: &Path) -> Vec<sundial_engine::domain::Run> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(&data.join("sundial.db")).await.unwrap();
        let runs = store
            .list_runs(&sundial_engine::store::RunFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        store.close().await;
        runs
    })
}

#[test]
fn a_retry_the_daemon_had_waiting_when_killed_runs_after_the_next_start() {
    use sundial_engine::domain::{RunReason, RunStatus};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let daemon = start_daemon(data, &[]);
    daemon.expect_line("sundialctl daemon: scheduling");
    // Fires once, 2 s from now, fails, and is retried 4 s after.
    let at = (Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339();
    let file = data.join("flaky.toml");
    std::fs::write(
        &file,
        format!(
            r#"version = 1

[[jobs]]
name = "flaky"

[jobs.kind]
type = "command"

[jobs.kind.program]
mode = "exec"
program = "sh"
args = ["-c", "exit 3"]

[jobs.trigger]
type = "once"
at = "{at}"

[jobs.policies]
retry = {{ max_attempts = 2, initial_delay_secs = 4 }}
"#
        ),
    )
    .unwrap();
    ok(data, &["jobs", "add", "--file", file.to_str().unwrap()]);
    let retry_waiting = || {
        stored_runs(data)
            .into_iter()
            .find(|r| r.reason == RunReason::Retry && r.status == RunStatus::Queued)
    };
    eventually("the first attempt to fail and its retry to wait", || {
        retry_waiting().is_some()
    });
    let retry = retry_waiting().unwrap();
    daemon.signal(nix::sys::signal::Signal::SIGKILL);
    drop(daemon); // reaped
    let restarted = start_daemon(data, &[]);
    restarted.expect_line("sundialctl daemon: scheduling");
    eventually("the retry to run after the restart", || {
        stored_runs(data)
            .iter()
            .any(|r| r.id == retry.id && r.status.is_terminal())
    });
    let runs = stored_runs(data);
    let ran = runs.iter().find(|r| r.id == retry.id).unwrap();
    assert_eq!(
        (ran.status, ran.attempt, ran.exit_code),
        (RunStatus::Failed, 2, Some(3)),
        "the same retry row ran, not interrupted: {ran:?}"
    );
    assert!(
        ran.started_at.unwrap() >= retry.scheduled_for,
        "at its time, not early: {ran:?}"
    );
    assert_eq!(
        runs.len(),
        2,
        "no third attempt, nothing duplicated: {runs:?}"
    );
    assert!(
        runs.iter().all(|r| r.status != RunStatus::Interrupted),
        "{runs:?}"
    );
}
