//! The engine API end to end on a real SQLite file: edits, pause across restarts, crash
//! recovery, a thousand simultaneous firings, retries, chains, and what it refuses.

mod engine_support;

use std::time::Duration;

use chrono::Utc;
use engine_support::*;
use serde_json::json;
use sundial_engine::domain::{Run, RunId, RunReason, RunStatus};
use sundial_engine::store::{Store, StoreError};
use sundial_engine::{EngineError, RunOutcome};

#[tokio::test(start_paused = true)]
async fn an_edit_while_a_run_is_going_leaves_that_run_alone_and_applies_to_the_next() {
    let h = Harness::start("2024-01-01T00:00:30Z").await;
    h.executor
        .set("report", Behaviour::Take(Duration::from_secs(90)));
    let job = h
        .engine
        .create_job(spec("report", cron("* * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    h.advance_secs(40).await; // 00:01:10, the 00:01 run is going
    let mut edited = job.spec.clone();
    edited.description = "now with a description".into();
    edited.trigger = serde_json::from_value(cron("*/5 * * * *", "UTC")).unwrap();
    let saved = h
        .engine
        .update_job(job.id, edited, job.revision)
        .await
        .unwrap();
    assert_eq!(saved.revision, 2);
    assert_eq!(
        h.engine.next_fire(job.id).await.unwrap(),
        Some(at("2024-01-01T00:05:00Z")),
        "the new schedule is in effect as soon as the edit returns"
    );
    h.advance_secs(6 * 60).await; // 00:07:10
    let runs = h.runs_of(&job).await;
    let summary: Vec<_> = runs
        .iter()
        .map(|r| (r.scheduled_for, r.status, r.job_revision))
        .collect();
    assert_eq!(
        summary,
        vec![
            (at("2024-01-01T00:01:00Z"), RunStatus::Succeeded, 1),
            (at("2024-01-01T00:05:00Z"), RunStatus::Succeeded, 2),
        ]
    );
    // A stale edit (based on revision 1) is refused and changes nothing.
    let err = h
        .engine
        .update_job(job.id, job.spec.clone(), 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert_eq!(h.engine.get_job(job.id).await.unwrap().revision, 2);
}

#[tokio::test(start_paused = true)]
async fn pause_survives_a_restart_and_resume_starts_from_now() {
    let mut h = Harness::start("2024-01-01T00:00:30Z").await;
    let job = h
        .engine
        .create_job(spec("tick", cron("* * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    h.advance_secs(60).await; // 00:01:30: one run
    h.engine.pause().await.unwrap();
    h.advance_secs(60).await; // 00:02 passes while paused
    h.restart().await;
    assert!(h.engine.is_paused().await.unwrap());
    h.advance_secs(120).await; // 00:03 and 00:04 pass, still paused after the restart
    assert_eq!(h.runs_of(&job).await.len(), 1, "nothing ran while paused");
    h.engine.resume().await.unwrap(); // at 00:04:30
    assert!(!h.engine.is_paused().await.unwrap());
    h.advance_secs(60).await; // 00:05:30
    let due: Vec<_> = h
        .runs_of(&job)
        .await
        .iter()
        .filter(|r| r.status != RunStatus::Skipped)
        .map(|r| r.scheduled_for)
        .collect();
    assert_eq!(
        due,
        vec![at("2024-01-01T00:01:00Z"), at("2024-01-01T00:05:00Z")]
    );
    // The pause is one ledger entry: 00:02 to 00:04, not caught up.
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        (
            gaps[0].cause,
            gaps[0].missed,
            gaps[0].first_slot,
            gaps[0].last_slot,
            gaps[0].ran
        ),
        (
            sundial_engine::domain::MissedCause::Paused,
            3,
            at("2024-01-01T00:02:00Z"),
            at("2024-01-01T00:04:00Z"),
            0
        )
    );
}

#[tokio::test(start_paused = true)]
async fn a_crash_leaves_runs_interrupted_and_missed_firings_follow_the_policy() {
    let mut h = Harness::start("2024-06-01T00:30:00Z").await;
    let job = h
        .engine
        .create_job(spec(
            "hourly",
            cron("0 * * * *", "UTC"),
            policies("run_once", 1, "allow"),
        ))
        .await
        .unwrap();
    h.engine.shutdown(false).await;
    // What a crash leaves behind: a run still marked running.
    let store = Store::open(&h.db_path()).await.unwrap();
    let left_running = Run {
        id: RunId::new(),
        job_id: job.id,
        job_revision: 1,
        reason: RunReason::Manual,
        attempt: 1,
        parent_run_id: None,
        scheduled_for: at("2024-06-01T00:29:00Z"),
        created_at: at("2024-06-01T00:29:00Z"),
        started_at: Some(at("2024-06-01T00:29:00Z")),
        finished_at: None,
        status: RunStatus::Running,
        exit_code: None,
        http_status: None,
        error: None,
        log_bytes: 0,
        log_lines: 0,
        cpu_ms: None,
        peak_memory_bytes: None,
        overrides: None,
        trigger_path: None,
        wait: Default::default(),
    };
    store.insert_run(&left_running).await.unwrap();
    store.close().await;
    drop(store);
    // Recorded by a process that is gone (this one is alive: its runs would be left alone).
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    write_sql(
        &h.db_path(),
        &format!(
            "UPDATE runs SET owner_pid = {gone_pid}, owner_start = NULL WHERE id = '{}'",
            left_running.id
        ),
    )
    .await;
    h.clock.jump(chrono::Duration::hours(5)); // down until 05:30
    h.restart().await;
    h.advance_secs(1).await;
    let runs = h.runs_of(&job).await;
    let crashed = runs.iter().find(|r| r.id == left_running.id).unwrap();
    assert_eq!(crashed.status, RunStatus::Interrupted);
    assert!(crashed.error.as_deref().unwrap().contains("stopped"));
    let caught_up: Vec<_> = runs
        .iter()
        .filter(|r| r.reason == RunReason::CatchUp)
        .map(|r| (r.scheduled_for, r.status))
        .collect();
    assert_eq!(
        caught_up,
        vec![(at("2024-06-01T05:00:00Z"), RunStatus::Succeeded)]
    );
    // 01:00 to 05:00 were missed while no Sundial ran: one ledger entry, one history row.
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        (gaps[0].cause, gaps[0].missed, gaps[0].ran),
        (sundial_engine::domain::MissedCause::NotRunning, 5, 1)
    );
    assert_eq!(
        runs.iter()
            .filter(|r| r.status == RunStatus::Skipped)
            .count(),
        1,
        "one row stands for 01:00 to 05:00"
    );
    assert!(
        runs.iter()
            .find(|r| r.id == gaps[0].run_id)
            .and_then(|r| r.error.as_deref())
            .unwrap()
            .contains("while Sundial was not running")
    );
}

#[tokio::test(start_paused = true)]
async fn a_thousand_jobs_due_in_the_same_second_each_get_their_run() {
    let h = Harness::start_with("2024-01-01T00:00:50Z", 8).await;
    for i in 0..1000 {
        h.engine
            .create_job(spec(
                &format!("job-{i:04}"),
                cron("* * * * *", "UTC"),
                json!(null),
            ))
            .await
            .unwrap();
    }
    h.advance_secs(20).await; // 00:01:10
    let runs = h.all_runs().await;
    assert_eq!(runs.len(), 1000);
    assert!(
        runs.iter()
            .all(|r| r.status == RunStatus::Succeeded
                && r.scheduled_for == at("2024-01-01T00:01:00Z"))
    );
    let mut names: Vec<_> = h
        .executor
        .executions()
        .into_iter()
        .map(|e| e.job_name)
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 1000, "every job ran exactly once");
}

#[tokio::test(start_paused = true)]
async fn failed_runs_are_retried_with_backoff_as_linked_attempts() {
    let h = Harness::start("2024-01-01T00:00:00Z").await;
    h.executor.set("flaky", Behaviour::Fail);
    let job = h
        .engine
        .create_job(spec(
            "flaky",
            json!({"type": "manual"}),
            json!({"retry": {"max_attempts": 3, "initial_delay_secs": 10, "multiplier": 2.0, "max_delay_secs": 60}}),
        ))
        .await
        .unwrap();
    let first = h.engine.run_now(job.id).await.unwrap();
    h.advance_secs(60).await;
    let attempts: Vec<_> = h
        .executor
        .executions_of("flaky")
        .iter()
        .map(|e| (e.run.attempt, e.started_at, e.run.parent_run_id))
        .collect();
    assert_eq!(
        attempts,
        vec![
            (1, at("2024-01-01T00:00:00Z"), None),
            (2, at("2024-01-01T00:00:10Z"), Some(first.id)),
            (3, at("2024-01-01T00:00:30Z"), Some(first.id)),
        ]
    );
    let runs = h.runs_of(&job).await;
    assert!(runs.iter().all(|r| r.status == RunStatus::Failed));
    assert_eq!(runs[1].reason, RunReason::Retry);
}

#[tokio::test(start_paused = true)]
async fn after_job_triggers_follow_the_upstream_outcome() {
    let h = Harness::start("2024-01-01T00:00:00Z").await;
    h.executor.set("produce", Behaviour::Succeed);
    let producer = h
        .engine
        .create_job(spec("produce", json!({"type": "manual"}), json!(null)))
        .await
        .unwrap();
    let on_success = h
        .engine
        .create_job(spec(
            "process",
            json!({"type": "after_job", "job_id": producer.id, "on": "success"}),
            json!(null),
        ))
        .await
        .unwrap();
    let on_failure = h
        .engine
        .create_job(spec(
            "alert",
            json!({"type": "after_job", "job_id": producer.id, "on": "failure"}),
            json!(null),
        ))
        .await
        .unwrap();
    let store = h
        .engine
        .create_job(spec(
            "store",
            json!({"type": "after_job", "job_id": on_success.id, "on": "any"}),
            json!(null),
        ))
        .await
        .unwrap();
    let upstream = h.engine.run_now(producer.id).await.unwrap();
    h.advance_secs(1).await;
    let processed = h.runs_of(&on_success).await;
    assert_eq!(processed.len(), 1);
    assert_eq!(processed[0].reason, RunReason::Chain);
    assert_eq!(processed[0].parent_run_id, Some(upstream.id));
    assert_eq!(
        h.runs_of(&store).await.len(),
        1,
        "producer → processor → storer"
    );
    assert!(h.runs_of(&on_failure).await.is_empty());

    h.executor.set("produce", Behaviour::Fail);
    h.engine.run_now(producer.id).await.unwrap();
    h.advance_secs(1).await;
    assert_eq!(h.runs_of(&on_failure).await.len(), 1);
    assert_eq!(h.runs_of(&on_success).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn engine_checks_names_and_chains_and_saves_nothing_when_they_are_wrong() {
    let h = Harness::start("2024-01-01T00:00:00Z").await;
    let a = h
        .engine
        .create_job(spec(
            "Nightly export",
            json!({"type": "manual"}),
            json!(null),
        ))
        .await
        .unwrap();
    let err = h
        .engine
        .create_job(spec(
            "nightly export",
            json!({"type": "manual"}),
            json!(null),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
    assert_eq!(err.field_errors().unwrap().fields(), vec!["name"]);

    let missing = h
        .engine
        .create_job(spec(
            "orphan",
            json!({"type": "after_job", "job_id": RunId::new().to_string(), "on": "any"}),
            json!(null),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        missing.field_errors().unwrap().fields(),
        vec!["trigger.job_id"]
    );

    let b = h
        .engine
        .create_job(spec(
            "b",
            json!({"type": "after_job", "job_id": a.id, "on": "any"}),
            json!(null),
        ))
        .await
        .unwrap();
    // a after b would close the loop a → b → a.
    let mut looped = a.spec.clone();
    looped.trigger =
        serde_json::from_value(json!({"type": "after_job", "job_id": b.id, "on": "any"})).unwrap();
    let err = h
        .engine
        .update_job(a.id, looped, a.revision)
        .await
        .unwrap_err();
    assert_eq!(err.field_errors().unwrap().fields(), vec!["trigger.job_id"]);
    assert_eq!(
        h.engine.get_job(a.id).await.unwrap().revision,
        1,
        "nothing was saved"
    );

    let bad = spec("bad", cron("0 0 31 2 *", "UTC"), json!({"timeout_secs": 0}));
    let err = h.engine.create_job(bad).await.unwrap_err();
    assert_eq!(
        err.field_errors().unwrap().fields(),
        vec!["trigger.expr", "policies.timeout_secs"],
        "every problem at once"
    );
    assert_eq!(h.engine.list_jobs().await.unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn deleting_a_job_while_it_runs_lets_the_run_finish_then_removes_it() {
    let h = Harness::start("2024-01-01T00:00:00Z").await;
    h.executor
        .set("long", Behaviour::Take(Duration::from_secs(30)));
    let job = h
        .engine
        .create_job(spec("long", json!({"type": "manual"}), json!(null)))
        .await
        .unwrap();
    let run = h.engine.run_now(job.id).await.unwrap();
    h.advance_secs(1).await;
    h.engine.delete_job(job.id).await.unwrap();
    assert!(matches!(
        h.engine.get_job(job.id).await,
        Err(EngineError::NotFound { .. })
    ));
    assert_eq!(
        h.engine.get_run(run.id).await.unwrap().status,
        RunStatus::Running
    );
    h.advance_secs(40).await;
    // The run ended undisturbed, then the job and its history went.
    assert_eq!(h.executor.executions_of("long").len(), 1);
    assert!(matches!(
        h.engine.get_run(run.id).await,
        Err(EngineError::NotFound { .. })
    ));
    // The name is free again.
    h.engine
        .create_job(spec("long", json!({"type": "manual"}), json!(null)))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_run_records_it_as_cancelled() {
    let h = Harness::start("2024-01-01T00:00:00Z").await;
    h.executor
        .set("long", Behaviour::Take(Duration::from_secs(300)));
    let job = h
        .engine
        .create_job(spec("long", json!({"type": "manual"}), json!(null)))
        .await
        .unwrap();
    let run = h.engine.run_now(job.id).await.unwrap();
    h.advance_secs(1).await;
    h.engine.cancel_run(run.id).await.unwrap();
    h.advance_secs(1).await;
    assert_eq!(
        h.engine.get_run(run.id).await.unwrap().status,
        RunStatus::Cancelled
    );
    let again = h.engine.cancel_run(run.id).await.unwrap_err();
    assert_eq!(again.code(), "conflict");
}

#[tokio::test]
async fn an_older_build_refuses_a_newer_database_and_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sundial.db");
    let store = Store::open(&path).await.unwrap();
    store.close().await;
    drop(store);
    // A newer Sundial applied migration 9999.
    write_sql(
        &path,
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (9999, 'future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .await;
    let before = std::fs::read(&path).unwrap();
    let err = match Store::open(&path).await {
        Err(e) => e,
        Ok(_) => panic!("a newer database must be refused"),
    };
    assert!(
        matches!(err, StoreError::DatabaseTooNew { found: 9999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer version of Sundial"));
    assert_eq!(std::fs::read(&path).unwrap(), before, "not a byte changed");
}

#[tokio::test]
async fn the_store_is_durable_and_two_writers_never_fail_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sundial.db");
    let a = Store::open(&path).await.unwrap();
    let b = Store::open(&path).await.unwrap(); // as the CLI would, beside the app
    let mut handles = Vec::new();
    for (i, store) in [a.clone(), b.clone()].into_iter().enumerate() {
        handles.push(tokio::spawn(async move {
            for k in 0..200 {
                store.set_setting(&format!("w{i}-{k}"), "x").await.unwrap();
                store
                    .record_firings(&[], &[], &[])
                    .await
                    .expect("a write transaction must wait, not fail with SQLITE_BUSY");
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(a.get_setting("w1-199").await.unwrap().as_deref(), Some("x"));
    let _ = (Utc::now(), RunOutcome::succeeded());
}

#[tokio::test]
async fn on_the_system_clock_jobs_fire_on_their_second() {
    // The real wall clock and (on Linux) the realtime timer, not the fake one.
    let dir = tempfile::tempdir().unwrap();
    let clock = sundial_engine::FakeClock::new(Utc::now());
    let executor = ScriptedExecutor::new(clock);
    let mut config = sundial_engine::EngineConfig::new(dir.path().join("sundial.db"));
    config.max_parallel = 2;
    let engine = sundial_engine::Engine::start(
        config,
        std::sync::Arc::new(sundial_engine::SystemClock),
        std::sync::Arc::new(executor.clone()),
    )
    .await
    .unwrap();
    let mut events = engine.subscribe();
    engine
        .create_job(spec("each-second", cron("* * * * * *", "UTC"), json!(null)))
        .await
        .unwrap();
    let mut ended = 0;
    tokio::time::timeout(Duration::from_secs(10), async {
        while ended < 2 {
            if let Ok(sundial_engine::EngineEvent::RunChanged {
                status: RunStatus::Succeeded,
                ..
            }) = events.recv().await
            {
                ended += 1;
            }
        }
    })
    .await
    .expect("two runs within 10 s");
    engine.shutdown(false).await;
    let runs = executor.executions();
    assert!(runs.len() >= 2);
    for e in runs {
        assert_eq!(
            e.run.scheduled_for.timestamp_subsec_millis(),
            0,
            "slots are whole seconds"
        );
        assert!(
            e.run.started_at.unwrap() >= e.run.scheduled_for,
            "never started before its slot"
        );
    }
}

#[tokio::test]
async fn an_engine_gives_its_scheduler_lease_back_when_it_shuts_down() {
    use sundial_engine::lease::{LEASE_TTL, Lease};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sundial.db");
    let store = Store::open(&db).await.unwrap();
    let lease = Lease::acquire(&store, "first", Utc::now(), LEASE_TTL)
        .await
        .unwrap()
        .expect("a free lease");
    let mut config = sundial_engine::EngineConfig::new(&db);
    config.scheduling = sundial_engine::Scheduling::Lease(lease);
    let clock = sundial_engine::FakeClock::new(Utc::now());
    let engine = sundial_engine::Engine::start(
        config,
        std::sync::Arc::new(sundial_engine::SystemClock),
        std::sync::Arc::new(ScriptedExecutor::new(clock)),
    )
    .await
    .unwrap();
    // While it runs, the lease is its own: a second scheduler in this process is refused.
    let held = Lease::acquire(&store, "second", Utc::now(), LEASE_TTL)
        .await
        .unwrap();
    assert_eq!(held.unwrap_err().0.holder, "first");
    engine.shutdown(false).await;
    // Given back at shutdown: the next scheduler starts at once, not after the TTL.
    let next = Lease::acquire(&store, "second", Utc::now(), LEASE_TTL)
        .await
        .unwrap();
    assert_eq!(next.expect("the lease is free").record().holder, "second");
}

#[tokio::test(start_paused = true)]
async fn the_parallel_cap_changes_while_runs_go() {
    let h = Harness::start_with("2024-01-01T00:00:00Z", 1).await;
    let mut jobs = Vec::new();
    for name in ["a", "b", "c"] {
        h.executor
            .set(name, Behaviour::Take(Duration::from_secs(60)));
        let job = h
            .engine
            .create_job(spec(name, json!({"type": "manual"}), json!(null)))
            .await
            .unwrap();
        h.engine.run_now(job.id).await.unwrap();
        jobs.push(job);
    }
    h.advance_secs(1).await;
    let going = |runs: Vec<Run>| {
        runs.iter()
            .filter(|r| r.status == RunStatus::Running)
            .count()
    };
    assert_eq!(going(h.all_runs().await), 1, "cap 1: one run, two queued");
    h.engine.set_max_parallel(3);
    h.advance_secs(1).await;
    assert_eq!(
        going(h.all_runs().await),
        3,
        "raised: the queued runs start at once"
    );
    assert_eq!(h.engine.max_parallel(), 3);
    h.engine.set_max_parallel(1);
    for job in &jobs {
        h.engine.run_now(job.id).await.unwrap();
    }
    h.advance_secs(2).await;
    assert_eq!(
        going(h.all_runs().await),
        3,
        "lowered: the runs going are left alone"
    );
    h.advance_secs(60).await; // the first three end
    assert_eq!(going(h.all_runs().await), 1, "then only one at a time");
    h.advance_secs(60).await;
    assert_eq!(going(h.all_runs().await), 1);
}

#[tokio::test(start_paused = true)]
async fn saving_a_job_as_shown_keeps_its_secrets() {
    let h = Harness::start("2024-01-01T00:00:00Z").await;
    let mut with_secret = spec("report", json!({"type": "manual"}), json!(null));
    if let sundial_engine::domain::JobKind::Command(command) = &mut with_secret.kind {
        command.env = vec![
            serde_json::from_value(json!({"name": "TOKEN", "value": "s3cret", "secret": true}))
                .unwrap(),
        ];
    }
    let job = h.engine.create_job(with_secret).await.unwrap();
    // What the window shows and sends back: the mask, and an edited description.
    let mut shown = job.masked().spec;
    shown.description = "edited".into();
    let saved = h
        .engine
        .update_job(job.id, shown.clone(), job.revision)
        .await
        .unwrap();
    let env = |job: &sundial_engine::domain::Job| match &job.spec.kind {
        sundial_engine::domain::JobKind::Command(c) => c.env[0].value.clone(),
        _ => unreachable!(),
    };
    assert_eq!(env(&saved), "s3cret");
    assert_eq!(env(&h.engine.get_job(job.id).await.unwrap()), "s3cret");
    // A mask for a secret the job never had is refused, and nothing changes.
    if let sundial_engine::domain::JobKind::Command(command) = &mut shown.kind {
        command.env[0].name = "OTHER".into();
    }
    let err = h
        .engine
        .update_job(job.id, shown, saved.revision)
        .await
        .unwrap_err();
    match err {
        EngineError::Invalid(errors) => {
            assert_eq!(errors.0[0].field, "kind.env[0].value");
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(
        h.engine.get_job(job.id).await.unwrap().revision,
        saved.revision
    );
}
