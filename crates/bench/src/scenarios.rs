//! The scenarios B1–B6; B7 (the desktop app against a Tauri hello-world) is in b7.rs, B11 (a
//! job's logs searched as one) in b11.rs, B10 (cross-process edit → scheduler latency) in b10.rs.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use serde_json::json;
use sundial_engine::domain::{Job, JobId, JobSpec, Run, RunId, RunReason, RunStatus};
use sundial_engine::logs::SearchQuery;
use sundial_engine::logs::Stream;
use sundial_engine::store::{RunFilter, Store};
use sundial_engine::{
    Engine, EngineConfig, Executor, LogStore, RunRequest, Runner, RunnerConfig, SystemClock,
};
use tokio_util::sync::CancellationToken;

use crate::report::Row;
use crate::util::*;

pub struct Sizes {
    pub quick: bool,
    b1_jobs: usize,
    b1_secs: u64,
    /// B1 light: a few jobs every second (the resident case), and for how long.
    b1_light_jobs: usize,
    b1_light_secs: u64,
    b2_jobs: usize,
    b3_jobs: Vec<usize>,
    b3_idle_secs: u64,
    b4_bytes: u64,
    b5_lines: u64,
    b6_jobs: usize,
    b6_runs_per_job: usize,
    /// B11: runs of one job and the size of each run's log.
    b11_runs: usize,
    b11_bytes_per_run: u64,
    /// B10: edits made by the other process 50–100 ms apart, isolated edits (each followed by
    /// a silence), and the idle window after them.
    pub b10_edits: usize,
    pub b10_isolated_edits: usize,
    pub b10_idle_secs: u64,
}

impl Sizes {
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                b1_jobs: 5,
                b1_secs: 3,
                b1_light_jobs: 3,
                b1_light_secs: 3,
                b2_jobs: 20,
                b3_jobs: vec![200],
                b3_idle_secs: 2,
                b4_bytes: 4 << 20,
                b5_lines: 50_000,
                b6_jobs: 20,
                b6_runs_per_job: 100,
                b11_runs: 20,
                b11_bytes_per_run: 64 << 10,
                b10_edits: 10,
                b10_isolated_edits: 2,
                b10_idle_secs: 1,
            }
        } else {
            Self {
                quick,
                b1_jobs: 200,
                b1_secs: 60,
                b1_light_jobs: 3,
                b1_light_secs: 60,
                b2_jobs: 1000,
                b3_jobs: vec![10_000, 100_000],
                b3_idle_secs: 60,
                b4_bytes: 1 << 30,
                b5_lines: 10_000_000,
                b6_jobs: 1000,
                b6_runs_per_job: 1000,
                b11_runs: 1000,
                b11_bytes_per_run: 1 << 20,
                b10_edits: 200,
                b10_isolated_edits: 10,
                b10_idle_secs: 20,
            }
        }
    }
}

impl Sizes {
    /// B11's runs and bytes per run.
    pub fn b11(&self) -> (usize, u64) {
        (self.b11_runs, self.b11_bytes_per_run)
    }
}

type Scenario = fn(&Sizes) -> Pin<Box<dyn Future<Output = Result<Vec<Row>, String>> + '_>>;

pub const ALL: &[(&str, Scenario)] = &[
    ("b1", |s| Box::pin(b1(s))),
    ("b2", |s| Box::pin(b2(s))),
    ("b3", |s| Box::pin(b3(s))),
    ("b4", |s| Box::pin(b4(s))),
    ("b5", |s| Box::pin(b5(s))),
    ("b6", |s| Box::pin(b6(s))),
    ("b7", |s| Box::pin(crate::b7::b7(s.quick))),
    ("b8", |s| Box::pin(crate::b8::b8(s.quick))),
    ("b9", |s| Box::pin(crate::b9::b9(s.quick))),
    ("b11", |s| Box::pin(crate::b11::b11(s))),
    ("b10", |s| Box::pin(crate::b10::b10(s))),
];

pub(crate) fn e(x: impl std::fmt::Display) -> String {
    x.to_string()
}

async fn start_sundial(dir: &Path, max_parallel: usize) -> Result<(Engine, LogStore), String> {
    start_sundial_with(dir, max_parallel, RunnerConfig::default()).await
}

async fn start_sundial_with(
    dir: &Path,
    max_parallel: usize,
    runner: RunnerConfig,
) -> Result<(Engine, LogStore), String> {
    let logs = LogStore::new(dir.join("runs"));
    let runner = Runner::new(runner, logs.clone()).map_err(e)?;
    let mut config = EngineConfig::new(dir.join("sundial.db"));
    config.max_parallel = max_parallel;
    config.logs = Some(logs.clone());
    let engine = Engine::start(config, Arc::new(SystemClock), Arc::new(runner))
        .await
        .map_err(e)?;
    Ok((engine, logs))
}

fn stamp_job(name: &str, stamp: &Path, out: &Path, cron: &str) -> JobSpec {
    serde_json::from_value(json!({
        "name": name,
        "kind": {"type": "command", "program": {"mode": "exec",
            "program": stamp.display().to_string(), "args": [out.display().to_string()]}},
        "trigger": {"type": "cron", "expr": cron, "timezone": "UTC"},
        "policies": {"overlap": "allow", "missed": {"mode": "skip", "max_catch_up": 1, "grace_secs": 5}},
    }))
    .expect("a valid job")
}

pub(crate) fn row(
    id: &'static str,
    measure: impl Into<String>,
    unit: &'static str,
    sundial: f64,
) -> Row {
    Row {
        id,
        measure: measure.into(),
        unit,
        sundial,
        peer: String::new(),
        peer_value: None,
        lower_is_better: true,
        target: String::new(),
        met: None,
    }
}

// ----- B1: punctuality -------------------------------------------------------------------

pub async fn b1(s: &Sizes) -> Result<Vec<Row>, String> {
    // The light case first, on a machine not yet warmed by 12,000 spawns.
    let mut rows = b1_light(s).await?;
    rows.extend(b1_heavy(s).await?);
    Ok(rows)
}

/// B1 light: a few jobs every second, as a desktop has them, each child stamping its own
/// start; against a bare loop that sleeps to each second on its own thread and spawns the
/// same children (the floor for any scheduler that starts processes), in the same run.
async fn b1_light(s: &Sizes) -> Result<Vec<Row>, String> {
    let stamp = sibling_binary("stamp");
    let dir = tempfile::tempdir().map_err(e)?;
    let (jobs, secs) = (s.b1_light_jobs, s.b1_light_secs);

    // As installed (a cgroup per run where one can be made), then, for context, with the
    // runner told not to make one: the part of the figure that is the cgroup.
    let mut ours = Vec::new();
    for (i, cgroups) in [true, false].into_iter().enumerate() {
        let out = dir.path().join(format!("sundial-{i}.stamps"));
        let runner = RunnerConfig {
            use_cgroups: cgroups,
            ..RunnerConfig::default()
        };
        let (engine, _) =
            start_sundial_with(&dir.path().join(format!("sundial-{i}")), jobs * 2, runner).await?;
        for j in 0..jobs {
            engine
                .create_job(stamp_job(
                    &format!("light-{j}"),
                    &stamp,
                    &out,
                    "* * * * * *",
                ))
                .await
                .map_err(e)?;
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        engine.shutdown(false).await;
        ours.push(lateness_ms(&read_stamps(&out)));
    }

    let bare_out = dir.path().join("bare.stamps");
    let (stamp2, out2) = (stamp.clone(), bare_out.clone());
    tokio::task::spawn_blocking(move || bare_spawn_loop(&stamp2, &out2, jobs, secs))
        .await
        .map_err(e)??;
    let bare = lateness_ms(&read_stamps(&bare_out));
    if ours.iter().any(Vec::is_empty) || bare.is_empty() {
        return Err("B1 light: no stamps were written".into());
    }
    let mut rows = Vec::new();
    for (which, late) in ours.iter().enumerate() {
        for (p, label) in [(50.0, "p50"), (99.0, "p99"), (100.0, "max")] {
            let mine = percentile(late, p);
            let how = if which == 0 {
                ""
            } else {
                " (for context: the runner making no cgroup per run)"
            };
            let mut r = row(
                "B1",
                format!(
                    "light: lateness {label}, {jobs} jobs every second for {secs} s ({} spawns), \
                     stamped by the child{how}",
                    late.len()
                ),
                "ms",
                mine,
            );
            r.peer =
                "a bare loop: sleep to the second on its own thread, spawn the children".into();
            r.peer_value = Some(percentile(&bare, p));
            if label == "p99" && which == 0 {
                r.target = "≤ 5 ms and ≤ 1.5× the bare loop's".into();
                r.met = Some(mine <= 5.0 && mine <= 1.5 * percentile(&bare, p));
            }
            rows.push(r);
        }
    }
    Ok(rows)
}

/// The floor B1 light is held to: at each whole second, spawn `jobs` stamp children, no
/// bookkeeping at all; children are reaped on the next turn.
fn bare_spawn_loop(stamp: &Path, out: &Path, jobs: usize, secs: u64) -> Result<(), String> {
    let mut children = Vec::new();
    let first = now_ns() / 1_000_000_000 + 1;
    for second in first..first + u128::from(secs) {
        let target = second * 1_000_000_000;
        let now = now_ns();
        if target > now {
            std::thread::sleep(Duration::from_nanos((target - now) as u64));
        }
        for _ in 0..jobs {
            children.push(
                std::process::Command::new(stamp)
                    .arg(out)
                    .spawn()
                    .map_err(e)?,
            );
        }
        children.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
    }
    for mut c in children {
        let _ = c.wait();
    }
    Ok(())
}

async fn b1_heavy(s: &Sizes) -> Result<Vec<Row>, String> {
    let stamp = sibling_binary("stamp");
    let dir = tempfile::tempdir().map_err(e)?;
    let secs = Duration::from_secs(s.b1_secs);

    let sundial_out = dir.path().join("sundial.stamps");
    let (engine, _) = start_sundial(&dir.path().join("sundial"), s.b1_jobs * 2).await?;
    for i in 0..s.b1_jobs {
        engine
            .create_job(stamp_job(
                &format!("b1-{i}"),
                &stamp,
                &sundial_out,
                "* * * * * *",
            ))
            .await
            .map_err(e)?;
    }
    tokio::time::sleep(secs).await;
    engine.shutdown(false).await;
    // When Sundial handed each firing to the runner: the run's recorded start.
    let store = Store::open(&dir.path().join("sundial").join("sundial.db"))
        .await
        .map_err(e)?;
    let runs = store
        .list_runs(&RunFilter {
            limit: 1_000_000,
            ..Default::default()
        })
        .await
        .map_err(e)?;
    store.close().await;
    let mut our_dispatch: Vec<f64> = runs
        .iter()
        .filter_map(|r| Some((r.started_at? - r.scheduled_for).num_microseconds()? as f64 / 1e3))
        .collect();
    our_dispatch.sort_by(f64::total_cmp);

    let tcs_out = dir.path().join("tcs.stamps");
    let tcs_dispatch = Arc::new(std::sync::Mutex::new(Vec::<u128>::new()));
    let scheduler = tokio_cron_scheduler::JobScheduler::new().await.map_err(e)?;
    for _ in 0..s.b1_jobs {
        let (stamp, out) = (stamp.clone(), tcs_out.clone());
        let dispatch = tcs_dispatch.clone();
        let job = tokio_cron_scheduler::Job::new_async("* * * * * *", move |_, _| {
            dispatch.lock().expect("dispatch stamps").push(now_ns());
            let (stamp, out) = (stamp.clone(), out.clone());
            Box::pin(async move {
                let _ = tokio::process::Command::new(&stamp)
                    .arg(&out)
                    .status()
                    .await;
            })
        })
        .map_err(e)?;
        scheduler.add(job).await.map_err(e)?;
    }
    scheduler.start().await.map_err(e)?;
    tokio::time::sleep(secs).await;
    let mut scheduler = scheduler;
    scheduler.shutdown().await.map_err(e)?;
    // Let the last spawned stamps land.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let aps_out = dir.path().join("apscheduler.stamps");
    let has_aps = Path::new("/usr/bin/python3").exists()
        && std::process::Command::new("python3")
            .args(["-c", "import apscheduler"])
            .status()
            .is_ok_and(|st| st.success());
    if has_aps {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/apscheduler_b1.py");
        let args = [
            script.display().to_string(),
            stamp.display().to_string(),
            aps_out.display().to_string(),
            s.b1_jobs.to_string(),
            s.b1_secs.to_string(),
        ];
        let status = tokio::process::Command::new("python3")
            .args(&args)
            .status()
            .await
            .map_err(e)?;
        if !status.success() {
            return Err(format!("APScheduler peer failed: {status}"));
        }
    }

    let ours = lateness_ms(&read_stamps(&sundial_out));
    let tcs = lateness_ms(&read_stamps(&tcs_out));
    let aps = lateness_ms(&read_stamps(&aps_out));
    let tcs_dispatch = lateness_ms(&tcs_dispatch.lock().expect("dispatch stamps"));
    let aps_dispatch = lateness_ms(&read_stamps(&aps_out.with_extension("dispatch")));
    if ours.is_empty() || tcs.is_empty() {
        return Err("no stamps were written".into());
    }
    let mut rows = Vec::new();
    for (p, label) in [(50.0, "p50"), (99.0, "p99"), (100.0, "max")] {
        let mine = percentile(&ours, p);
        let measure = format!(
            "lateness {label}, {} jobs every second for {} s ({} spawns)",
            s.b1_jobs,
            s.b1_secs,
            ours.len()
        );
        let target = if label == "p99" {
            "≤ 5 ms and ≥ 20× better"
        } else {
            ""
        };
        let mut r = row("B1", measure.clone(), "ms", mine);
        r.peer = "tokio-cron-scheduler 0.15".into();
        r.peer_value = Some(percentile(&tcs, p));
        if label == "p99" {
            r.target = target.into();
            r.met = Some(mine <= 5.0 && r.advantage().is_some_and(|a| a >= 20.0));
        }
        rows.push(r);
        let mut r = row("B1", measure, "ms", mine);
        if has_aps {
            r.peer = "APScheduler 3".into();
            r.peer_value = Some(percentile(&aps, p));
            if label == "p99" {
                r.target = target.into();
                r.met = Some(mine <= 5.0 && r.advantage().is_some_and(|a| a >= 20.0));
            }
        } else {
            r.peer = "APScheduler 3 (not installed: run scripts/bench.sh)".into();
        }
        rows.push(r);
    }
    // For context, without the spawn: when each scheduler handed the firing to the job.
    for (p, label) in [(50.0, "p50"), (99.0, "p99"), (100.0, "max")] {
        let measure = format!(
            "dispatch lateness {label} (firing handed to the job: Sundial's recorded run start, \
             the peers' job function entered), same run"
        );
        let mine = percentile(&our_dispatch, p);
        let mut r = row("B1", measure.clone(), "ms", mine);
        r.peer = "tokio-cron-scheduler 0.15".into();
        r.peer_value = Some(percentile(&tcs_dispatch, p));
        rows.push(r);
        if has_aps {
            let mut r = row("B1", measure, "ms", mine);
            r.peer = "APScheduler 3".into();
            r.peer_value = Some(percentile(&aps_dispatch, p));
            rows.push(r);
        }
    }
    Ok(rows)
}

pub(crate) fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

// ----- B2: a thousand runs due at once under a cap of 8 -----------------------------------

pub async fn b2(s: &Sizes) -> Result<Vec<Row>, String> {
    let stamp = sibling_binary("stamp");
    let dir = tempfile::tempdir().map_err(e)?;
    let data = dir.path().join("sundial");
    let out = dir.path().join("b2.stamps");
    // The jobs are written straight to the store so they all fall due in the same second.
    let due = (Utc::now() + chrono::Duration::seconds(4))
        .with_nanosecond(0)
        .expect("valid");
    let expr = format!("{} {} {} * * *", due.second(), due.minute(), due.hour());
    let store = Store::open(&data.join("sundial.db")).await.map_err(e)?;
    let now = Utc::now();
    let jobs: Vec<Job> = (0..s.b2_jobs)
        .map(|i| Job {
            id: JobId::new(),
            revision: 1,
            created_at: now,
            updated_at: now,
            spec: stamp_job(&format!("b2-{i}"), &stamp, &out, &expr),
        })
        .collect();
    store.insert_jobs(&jobs).await.map_err(e)?;
    store.close().await;
    drop(store);
    let (engine, logs) = start_sundial(&data, 8).await?;
    // Waiting asks the database two one-row questions every 50 ms (the figures come from the
    // runs' own recorded times, so this only has to notice the end, and must not compete with
    // the runs for the CPU: listing every run each time took a sixth of it).
    let deadline = Instant::now() + Duration::from_secs(600);
    let one = |statuses: Vec<RunStatus>| RunFilter {
        statuses,
        limit: 1,
        ..Default::default()
    };
    loop {
        let recorded = !engine.list_runs(&one(vec![])).await.map_err(e)?.is_empty();
        let going = engine
            .list_runs(&one(vec![RunStatus::Queued, RunStatus::Running]))
            .await
            .map_err(e)?;
        if recorded && going.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            return Err("B2 runs did not all finish within 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let runs = engine
        .list_runs(&RunFilter {
            limit: 10_000,
            ..Default::default()
        })
        .await
        .map_err(e)?;
    if runs.len() != s.b2_jobs {
        return Err(format!("B2: {} runs for {} jobs", runs.len(), s.b2_jobs));
    }
    engine.shutdown(false).await;
    if runs.iter().any(|r| r.status != RunStatus::Succeeded) {
        return Err("a B2 run did not succeed".into());
    }
    let files = runs.iter().filter(|r| logs.log_path(r.id).exists()).count();
    if files != s.b2_jobs {
        return Err(format!("B2: {files} log files for {} runs", s.b2_jobs));
    }
    let last_start = runs
        .iter()
        .filter_map(|r| r.started_at)
        .max()
        .expect("started");
    let last_end = runs
        .iter()
        .filter_map(|r| r.finished_at)
        .max()
        .expect("finished");
    let to_ms = |t: chrono::DateTime<Utc>| (t - due).num_milliseconds() as f64;

    // The floor: a bare loop spawning and waiting for the same program, 8 at a time.
    let floor_out = dir.path().join("floor.stamps");
    let permits = Arc::new(tokio::sync::Semaphore::new(8));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..s.b2_jobs {
        let permit = permits.clone().acquire_owned().await.map_err(e)?;
        let (stamp, out) = (stamp.clone(), floor_out.clone());
        tasks.spawn(async move {
            let _ = tokio::process::Command::new(&stamp)
                .arg(&out)
                .status()
                .await;
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    let floor = ms(start.elapsed());

    let mut started = row(
        "B2",
        format!(
            "{} runs due in one second, cap 8: last run started",
            s.b2_jobs
        ),
        "ms",
        to_ms(last_start),
    );
    started.peer = "bare spawn loop (floor)".into();
    let mut ended = row(
        "B2",
        format!(
            "{} runs due in one second, cap 8: last run ended (rows and log files written)",
            s.b2_jobs
        ),
        "ms",
        to_ms(last_end),
    );
    ended.peer = "bare spawn loop (floor)".into();
    ended.peer_value = Some(floor);
    ended.target = "≥ 0.8× the floor's throughput".into();
    ended.met = ended.advantage().map(|a| a >= 0.8);
    Ok(vec![started, ended])
}

// ----- B3: many idle jobs -------------------------------------------------------------------

fn b3_expr(i: usize, hour_now: u32) -> (u32, u32) {
    // Hours away from now, so nothing fires while idle.
    let hour = (hour_now + 6 + (i % 12) as u32) % 24;
    ((i % 60) as u32, hour)
}

pub async fn b3(s: &Sizes) -> Result<Vec<Row>, String> {
    let me = std::env::current_exe().map_err(e)?;
    let dir = tempfile::tempdir().map_err(e)?;
    let mut rows = Vec::new();
    for &n in &s.b3_jobs {
        let db = dir.path().join(format!("b3-{n}.db"));
        let store = Store::open(&db).await.map_err(e)?;
        let now = Utc::now();
        let jobs: Vec<Job> = (0..n)
            .map(|i| {
                let (m, h) = b3_expr(i, now.hour());
                let spec: JobSpec = serde_json::from_value(json!({
                    "name": format!("b3-{i}"),
                    "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
                    "trigger": {"type": "cron", "expr": format!("{m} {h} * * *"), "timezone": "UTC"},
                }))
                .expect("valid");
                Job { id: JobId::new(), revision: 1, created_at: now, updated_at: now, spec }
            })
            .collect();
        for chunk in jobs.chunks(10_000) {
            store.insert_jobs(chunk).await.map_err(e)?;
        }
        store.close().await;
        drop(store);
        // The jobs were written straight into the database, so the first start compiles every
        // schedule to find its next firing (and stores them). That start is timed for the
        // record; then one start and clean quit as the app makes, which leaves the database
        // as Sundial keeps it; the figure is the start after that.
        let mut results = Vec::new();
        for (peer, idle) in [(false, 0), (false, s.b3_idle_secs), (true, s.b3_idle_secs)] {
            if !peer && idle > 0 {
                let logs = LogStore::new(dir.path().join(format!("b3-logs-{n}")));
                let runner = Runner::new(RunnerConfig::default(), logs).map_err(e)?;
                let engine = Engine::start(
                    EngineConfig::new(db.clone()),
                    Arc::new(SystemClock),
                    Arc::new(runner),
                )
                .await
                .map_err(e)?;
                engine.shutdown(false).await;
            }
            let mut args = vec![
                "b3".to_string(),
                "--jobs".into(),
                n.to_string(),
                "--idle-secs".into(),
                idle.to_string(),
                "--db".into(),
                db.display().to_string(),
            ];
            if peer {
                args.push("--peer".into());
            }
            let out = tokio::process::Command::new(&me)
                .args(&args)
                .output()
                .await
                .map_err(e)?;
            if !out.status.success() {
                return Err(format!(
                    "B3 child failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let v: serde_json::Value =
                serde_json::from_slice(&out.stdout).map_err(|x| format!("B3 child output: {x}"))?;
            results.push(v);
        }
        let get = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        let (first, ours, peer) = (&results[0], &results[1], &results[2]);
        let peer_name = "tokio-cron-scheduler 0.15, same jobs".to_string();
        let mut first_load = row(
            "B3",
            format!(
                "{n} jobs: first start after they were written straight into the database \
                 (every schedule compiled; for the record)"
            ),
            "ms",
            get(first, "load_ms"),
        );
        first_load.peer = format!("{peer_name} (adding them)");
        first_load.peer_value = Some(get(peer, "load_ms"));
        let mut load = row(
            "B3",
            format!("{n} jobs: load from the database until ready (as Sundial left it)"),
            "ms",
            get(ours, "load_ms"),
        );
        load.peer = format!("{peer_name} (adding them)");
        load.peer_value = Some(get(peer, "load_ms"));
        if n >= 100_000 {
            load.target = "≤ 2 s at 100k".into();
            load.met = Some(load.sundial <= 2000.0);
        }
        let mut wakes = row(
            "B3",
            format!(
                "{n} jobs idle {} s: wake-ups per second (context switches, all threads)",
                s.b3_idle_secs
            ),
            "/s",
            get(ours, "wakeups_per_s"),
        );
        wakes.peer = peer_name.clone();
        wakes.peer_value = Some(get(peer, "wakeups_per_s"));
        wakes.target = "≤ 1/s and ≥ 10× fewer".into();
        wakes.met = Some(wakes.sundial <= 1.0 && wakes.advantage().is_some_and(|a| a >= 10.0));
        let mut rss = row(
            "B3",
            format!("{n} jobs idle: resident memory"),
            "MiB",
            get(ours, "rss_kib") / 1024.0,
        );
        rss.peer = peer_name;
        rss.peer_value = Some(get(peer, "rss_kib") / 1024.0);
        rows.extend([first_load, load, wakes, rss]);
    }
    Ok(rows)
}

pub async fn b3_child(peer: bool, n: usize, idle_secs: u64, db: &Path) -> String {
    let start = Instant::now();
    let hour_now = Utc::now().hour();
    // Both sides stay alive until the end of the measurement.
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    if peer {
        let scheduler = tokio_cron_scheduler::JobScheduler::new()
            .await
            .expect("scheduler");
        for i in 0..n {
            let (m, h) = b3_expr(i, hour_now);
            let job = tokio_cron_scheduler::Job::new_async(format!("0 {m} {h} * * *"), |_, _| {
                Box::pin(async {})
            })
            .expect("job");
            scheduler.add(job).await.expect("add");
        }
        scheduler.start().await.expect("start");
        keep.push(Box::new(scheduler));
    } else {
        let data = db.parent().expect("dir").join(format!("b3-logs-{n}"));
        let logs = LogStore::new(data);
        let runner = Runner::new(RunnerConfig::default(), logs).expect("runner");
        let config = EngineConfig::new(db);
        let engine = Engine::start(config, Arc::new(SystemClock), Arc::new(runner))
            .await
            .expect("engine");
        keep.push(Box::new(engine));
    }
    let load_ms = ms(start.elapsed());
    if idle_secs == 0 {
        // Only the load is wanted.
        return json!({ "load_ms": load_ms }).to_string();
    }
    // Settle, then count wake-ups over the idle window.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = context_switches();
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let wakes = context_switches().saturating_sub(before);
    let rss = status_kib("VmRSS");
    drop(keep);
    json!({
        "load_ms": load_ms,
        "wakeups_per_s": wakes as f64 / idle_secs as f64,
        "rss_kib": rss,
    })
    .to_string()
}

// ----- B4: a job writing a lot --------------------------------------------------------------

const B4_LINE: &str =
    "Sundial benchmark output line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOP";

fn b4_command(bytes: u64) -> String {
    format!("yes '{B4_LINE}' | head -c {bytes}")
}

pub async fn b4(s: &Sizes) -> Result<Vec<Row>, String> {
    let me = std::env::current_exe().map_err(e)?;
    let dir = tempfile::tempdir().map_err(e)?;
    let out = tokio::process::Command::new(&me)
        .args([
            "b4",
            "--bytes",
            &s.b4_bytes.to_string(),
            "--dir",
            &dir.path().display().to_string(),
        ])
        .output()
        .await
        .map_err(e)?;
    if !out.status.success() {
        return Err(format!(
            "B4 child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(e)?;
    if v["status"] != "succeeded" {
        return Err(format!("B4 run did not succeed: {v}"));
    }
    let file = dir.path().join("shell.out");
    let shell = time_command(
        "sh",
        &[
            "-c",
            &format!("{} > {}", b4_command(s.b4_bytes), file.display()),
        ],
    )?;
    let mib = s.b4_bytes as f64 / (1u64 << 20) as f64;
    let mut wall = row(
        "B4",
        format!("a job writing {mib:.0} MiB of lines: wall time"),
        "ms",
        v["wall_ms"].as_f64().unwrap_or(f64::NAN),
    );
    wall.peer = "the same command redirected to a file by the shell".into();
    wall.peer_value = Some(ms(shell));
    wall.target = "≤ 1.3× the shell's time".into();
    wall.met = wall.advantage().map(|a| a >= 1.0 / 1.3);
    let mut memory = row(
        "B4",
        format!("a job writing {mib:.0} MiB of lines: Sundial's peak memory (whole process)"),
        "MiB",
        v["peak_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0,
    );
    memory.peer = "–".into();
    memory.target = "≤ 64 MiB".into();
    memory.met = Some(memory.sundial <= 64.0);
    Ok(vec![wall, memory])
}

pub async fn b4_child(bytes: u64, dir: &Path) -> String {
    let logs = LogStore::new(dir.join("runs"));
    let config = RunnerConfig {
        max_log_bytes: bytes + (16 << 20),
        ..RunnerConfig::default()
    };
    let runner = Runner::new(config, logs).expect("runner");
    let spec: JobSpec = serde_json::from_value(json!({
        "name": "b4",
        "kind": {"type": "command", "program": {"mode": "exec", "program": "sh", "args": ["-c", b4_command(bytes)]}},
        "trigger": {"type": "manual"},
    }))
    .expect("valid");
    let now = Utc::now();
    let job = Job {
        id: JobId::new(),
        revision: 1,
        created_at: now,
        updated_at: now,
        spec,
    };
    let run = Run {
        id: RunId::new(),
        job_id: job.id,
        job_revision: 1,
        reason: RunReason::Manual,
        attempt: 1,
        parent_run_id: None,
        scheduled_for: now,
        created_at: now,
        started_at: Some(now),
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
    let start = Instant::now();
    let outcome = runner
        .execute(RunRequest::new(run, job), CancellationToken::new())
        .await;
    let wall = ms(start.elapsed());
    json!({
        "wall_ms": wall,
        "peak_kib": status_kib("VmHWM"),
        "status": outcome.status.as_str(),
        "log_lines": outcome.log_lines,
    })
    .to_string()
}

// ----- B5: a huge run log -------------------------------------------------------------------

const B5_LITERAL: &str = "7777 Sundial";
const B5_REGEX: &str = "line 12[0-9]*5 Sundial";

pub async fn b5(s: &Sizes) -> Result<Vec<Row>, String> {
    let dir = tempfile::tempdir().map_err(e)?;
    let logs = LogStore::new(dir.path().join("runs"));
    let run = RunId::new();
    {
        let mut writer = logs.create(run, u64::MAX).map_err(e)?;
        let mut chunk = String::with_capacity(110_000);
        let mut n = 0u64;
        while n < s.b5_lines {
            chunk.clear();
            for _ in 0..1000.min(s.b5_lines - n) {
                n += 1;
                chunk.push_str(&format!(
                    "line {n} Sundial log benchmark text 0123456789 abcdefghijklmnopqrstuvwxyz\n"
                ));
            }
            writer.write_output(Stream::Stdout, Utc::now(), chunk.as_bytes());
        }
        writer.finish(Utc::now()).map_err(e)?;
    }
    let file = logs.log_path(run);
    let file_s = file.display().to_string();
    let lines = logs.open(run).map_err(e)?.line_count().map_err(e)?;
    let target_line = s.b5_lines - 1; // "line 9,999,999" of 10M, 1-based
    let repeat = 5;
    let time_ours = |f: &dyn Fn() -> Result<(), String>| -> Result<f64, String> {
        let mut v = Vec::new();
        for _ in 0..repeat {
            let start = Instant::now();
            f()?;
            v.push(ms(start.elapsed()));
        }
        Ok(median(v))
    };
    let time_peer = |program: &str, args: &[&str]| -> Result<f64, String> {
        let mut v = Vec::new();
        for _ in 0..repeat {
            v.push(ms(time_command(program, args)?));
        }
        Ok(median(v))
    };
    let count_ours = |query: &SearchQuery| -> Result<u64, String> {
        let log = logs.open(run).map_err(e)?;
        let mut count = 0u64;
        log.search_each(query, 0, None, |_| {
            count += 1;
            true
        })
        .map_err(e)?;
        Ok(count)
    };
    let first = time_ours(&|| {
        logs.open(run)
            .and_then(|l| l.read_lines(0, 100))
            .map(drop)
            .map_err(e)
    })?;
    let last = time_ours(&|| {
        logs.open(run)
            .and_then(|l| l.tail(100))
            .map(drop)
            .map_err(e)
    })?;
    let jump = time_ours(&|| {
        let got = logs
            .open(run)
            .and_then(|l| l.read_lines(target_line - 1, 50))
            .map_err(e)?;
        if got
            .first()
            .is_some_and(|l| l.text.contains(&format!("line {target_line} ")))
        {
            Ok(())
        } else {
            Err("jump landed on the wrong line".into())
        }
    })?;
    let literal = SearchQuery::literal(B5_LITERAL);
    let regex = SearchQuery::regex(B5_REGEX);
    let lit_ours = time_ours(&|| count_ours(&literal).map(drop))?;
    let re_ours = time_ours(&|| count_ours(&regex).map(drop))?;
    // Both must count the same lines.
    let lit_count = count_ours(&literal)?;
    let grep_count: u64 = output_of("grep", &["-c", B5_LITERAL, &file_s])?
        .parse()
        .map_err(e)?;
    if lit_count != grep_count {
        return Err(format!(
            "B5: Sundial counted {lit_count}, grep {grep_count}"
        ));
    }
    let jump_arg = format!("{target_line}p;{target_line}q");
    let size_mib = std::fs::metadata(&file).map_err(e)?.len() as f64 / (1u64 << 20) as f64;
    let label = |what: &str| format!("{what} ({lines} lines, {size_mib:.0} MiB log)");
    let mut rows = Vec::new();
    let mut r = row("B5", label("first page at the start"), "ms", first);
    r.peer = "`sed -n '1,100p;100q'`".into();
    r.peer_value = Some(time_peer("sed", &["-n", "1,100p;100q", &file_s])?);
    r.target = "≤ 50 ms".into();
    r.met = Some(first <= 50.0);
    rows.push(r);
    let mut r = row("B5", label("first page at the end"), "ms", last);
    r.peer = "`tail -n 100`".into();
    r.peer_value = Some(time_peer("tail", &["-n", "100", &file_s])?);
    r.target = "≤ 50 ms".into();
    r.met = Some(last <= 50.0);
    rows.push(r);
    let mut r = row(
        "B5",
        label(&format!("jump to line {target_line}")),
        "ms",
        jump,
    );
    r.peer = "`sed -n 'Np;Nq'`".into();
    r.peer_value = Some(time_peer("sed", &["-n", &jump_arg, &file_s])?);
    rows.push(r);
    let mut r = row(
        "B5",
        label(&format!("count of a literal ({lit_count} lines)")),
        "ms",
        lit_ours,
    );
    r.peer = "`grep -c`".into();
    r.peer_value = Some(time_peer("grep", &["-c", B5_LITERAL, &file_s])?);
    r.target = "≤ 1.5× grep".into();
    r.met = r.advantage().map(|a| a >= 1.0 / 1.5);
    rows.push(r);
    let mut r = row("B5", label("count of a regex"), "ms", re_ours);
    r.peer = "`grep -cE`".into();
    r.peer_value = Some(time_peer("grep", &["-cE", B5_REGEX, &file_s])?);
    r.target = "≤ 1.5× grep".into();
    r.met = r.advantage().map(|a| a >= 1.0 / 1.5);
    rows.push(r);
    if have("rg") {
        let mut r = row("B5", label("count of a literal"), "ms", lit_ours);
        r.peer = "`rg -c`".into();
        r.peer_value = Some(time_peer("rg", &["-c", B5_LITERAL, &file_s])?);
        rows.push(r);
    }
    Ok(rows)
}

// ----- B6: a million runs -------------------------------------------------------------------

const RUN_COLUMNS: &str = "id, job_id, job_revision, reason, attempt, parent_run_id, \
    scheduled_for, created_at, started_at, finished_at, status, exit_code, http_status, error, \
    log_bytes, log_lines";

pub async fn b6(s: &Sizes) -> Result<Vec<Row>, String> {
    let dir = tempfile::tempdir().map_err(e)?;
    let db = dir.path().join("b6.db");
    let store = Store::open(&db).await.map_err(e)?;
    let now = Utc::now();
    let jobs: Vec<Job> = (0..s.b6_jobs)
        .map(|i| {
            let spec: JobSpec = serde_json::from_value(json!({
                "name": format!("b6-{i}"),
                "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
                "trigger": {"type": "manual"},
            }))
            .expect("valid");
            Job {
                id: JobId::new(),
                revision: 1,
                created_at: now,
                updated_at: now,
                spec,
            }
        })
        .collect();
    store.insert_jobs(&jobs).await.map_err(e)?;
    let mut batch = Vec::with_capacity(10_000);
    for k in 0..s.b6_runs_per_job {
        for job in &jobs {
            let status = if (k + job.spec.name.len()) % 2 == 0 {
                RunStatus::Failed
            } else {
                RunStatus::Succeeded
            };
            batch.push(Run {
                id: RunId::new(),
                job_id: job.id,
                job_revision: 1,
                reason: RunReason::Schedule,
                attempt: 1,
                parent_run_id: None,
                scheduled_for: now,
                created_at: now,
                started_at: Some(now),
                finished_at: Some(now),
                status,
                exit_code: Some(i32::from(status == RunStatus::Failed)),
                http_status: None,
                error: None,
                log_bytes: 100,
                log_lines: 2,
                cpu_ms: None,
                peak_memory_bytes: None,
                overrides: None,
                trigger_path: None,
                wait: Default::default(),
            });
            if batch.len() == 10_000 {
                store.record_firings(&batch, &[], &[]).await.map_err(e)?;
                batch.clear();
            }
        }
    }
    store.record_firings(&batch, &[], &[]).await.map_err(e)?;
    let job = jobs[jobs.len() / 2].id;
    let first_filter = RunFilter {
        job_id: Some(job),
        statuses: vec![RunStatus::Failed],
        limit: 50,
        ..Default::default()
    };
    // The deep page: walk the pages once to find where the last page starts.
    let mut before = None;
    let walks = (s.b6_runs_per_job / 2).saturating_sub(1) / 50;
    for _ in 0..walks {
        let page = store
            .list_runs(&RunFilter {
                before,
                ..first_filter.clone()
            })
            .await
            .map_err(e)?;
        before = page.last().map(|r| r.id).or(before);
    }
    let deep_filter = RunFilter {
        before,
        ..first_filter.clone()
    };
    let repeat = 20;
    let mut measure = Vec::new();
    for filter in [&first_filter, &deep_filter] {
        let mut v = Vec::new();
        for _ in 0..repeat {
            let start = Instant::now();
            let page = store.list_runs(filter).await.map_err(e)?;
            v.push(ms(start.elapsed()));
            if page.is_empty() {
                return Err("B6: an empty page".into());
            }
        }
        measure.push(median(v));
    }
    // The floor under any query through the store: one row of a tiny table.
    let mut v = Vec::new();
    for _ in 0..repeat {
        let start = Instant::now();
        store.get_setting("paused").await.map_err(e)?;
        v.push(ms(start.elapsed()));
    }
    let floor = median(v);
    store.close().await;
    drop(store);
    let sql = |filter: &RunFilter| {
        let mut q = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1 AND job_id = '{job}' AND status IN ('failed')"
        );
        if let Some(b) = filter.before {
            q.push_str(&format!(" AND id < '{b}'"));
        }
        q.push_str(" ORDER BY id DESC LIMIT 50;");
        q
    };
    let total = s.b6_jobs * s.b6_runs_per_job;
    let mut rows = Vec::new();
    for (i, (filter, what)) in [
        (&first_filter, "first page"),
        (&deep_filter, "a deep page (keyset)"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = row(
            "B6",
            format!(
                "{total} runs, {} jobs: one job's failed runs, {what}",
                s.b6_jobs
            ),
            "ms",
            measure[i],
        );
        r.target = "≥ 0.8× the shell and ≤ 10 ms".into();
        if have("sqlite3") {
            // The shell's timer prints whole milliseconds; instead, time one query and 101
            // queries in one process each, and take the difference per query.
            let run_shell = |queries: usize| -> Result<f64, String> {
                let script = format!("{}\n", sql(filter)).repeat(queries);
                let start = Instant::now();
                let out = std::process::Command::new("sqlite3")
                    .arg(&db)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .and_then(|mut child| {
                        use std::io::Write;
                        child
                            .stdin
                            .take()
                            .expect("stdin")
                            .write_all(script.as_bytes())?;
                        child.wait()
                    })
                    .map_err(e)?;
                if !out.success() {
                    return Err(format!("B6: sqlite3 failed: {out}"));
                }
                Ok(ms(start.elapsed()))
            };
            let mut per_query = Vec::new();
            for _ in 0..5 {
                per_query.push((run_shell(101)? - run_shell(1)?) / 100.0);
            }
            let times = vec![median(per_query).max(0.0)];
            r.peer = "the same SQL in the `sqlite3` shell".into();
            r.peer_value = Some(median(times));
            r.met = Some(r.sundial <= 10.0 && r.advantage().is_some_and(|a| a >= 0.8));
        } else {
            r.peer = "`sqlite3` shell (not installed: run scripts/bench.sh)".into();
            r.met = Some(r.sundial <= 10.0);
        }
        rows.push(r);
    }
    let mut r = row(
        "B6",
        "any query through Sundial's store: one settings row (for context: the part of the \
         figures above that is not the query)",
        "ms",
        floor,
    );
    r.peer = "–".into();
    rows.push(r);
    Ok(rows)
}
