//! B9: the pictures at scale, measured in the real window. A database of 200 jobs with 100,000
//! runs over the last 30 days (about one every 86 minutes per job, ~8 % of them failures, a few
//! slow outliers) and a night the computer slept (a missed-run ledger entry per job), written
//! straight into the store; the newest run of each job has a log file. The release app starts on
//! it under a private Xvfb display, and the page's benchmark driver (ui/src/benchViews.tsx, inert
//! unless `SUNDIAL_BENCH_VIEWS_FILE` is set; src-tauri/src/bench.rs) measures, each time from an
//! empty query cache, from the navigation to the first frame painted with every query of the
//! screen answered:
//! - a job's overview (its heat map, one job over 53 weeks, also on its own);
//! - the timeline at 24 h (the chart, then the whole screen with the all-jobs calendar) and 7 d;
//! - then it drags the 24 h timeline for 120 frames and reports, per frame, the main thread's
//!   work (frame start to the re-rendered chart laid out: React's render and commit, style and
//!   layout; painting is WebKit's, after) and the interval between frames.
//!
//! The page reports once, as JSON, through the hook's cancelled navigation; the app writes it to
//! the file.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::json;
use sundial_engine::AppPaths;
use sundial_engine::domain::{
    Job, JobId, MissedCause, MissedGap, MissedRunMode, Run, RunId, RunReason, RunStatus,
};
use sundial_engine::logs::{LogStore, Stream};
use sundial_engine::store::{CursorUpdate, Store};

use crate::b7::{self, DbusSession, Xvfb, app_command, stop_tree, with_app_output};
use crate::report::Row;
use crate::util::{have, median, percentile};

pub const VIEWS_FILE_ENV: &str = "SUNDIAL_BENCH_VIEWS_FILE";
pub const VIEWS_REPEAT_ENV: &str = "SUNDIAL_BENCH_VIEWS_REPEAT";

struct B9Sizes {
    jobs: usize,
    runs: usize,
    days: i64,
    repeat: usize,
    timeout: Duration,
}

/// What the page reports: milliseconds per repetition, and per dragged frame.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Report {
    overview: Vec<f64>,
    overview_heatmap: Vec<f64>,
    timeline_day_chart: Vec<f64>,
    timeline_day: Vec<f64>,
    timeline_week: Vec<f64>,
    pan_work: Vec<f64>,
    pan_interval: Vec<f64>,
    /// The timeline's bars drawn at 24 h and 7 d (the chart draws at most its limit).
    bars_day: u64,
    bars_week: u64,
    /// False when the drag did not move the view (the figures would measure nothing).
    pan_moved: bool,
    /// For context: the engine's answers alone, over IPC.
    query_overview: Vec<f64>,
    query_timeline_day: Vec<f64>,
    error: Option<String>,
}

pub async fn b9(quick: bool) -> Result<Vec<Row>, String> {
    let sizes = if quick {
        B9Sizes {
            jobs: 20,
            runs: 2_000,
            days: 30,
            repeat: 2,
            timeout: Duration::from_secs(240),
        }
    } else {
        B9Sizes {
            jobs: 200,
            runs: 100_000,
            days: 30,
            repeat: 5,
            timeout: Duration::from_secs(600),
        }
    };
    let (app, _) = b7::binaries();
    let missing = if !app.exists() {
        Some(format!(
            "{} is not built (cargo build --release -p sundial-desktop)",
            app.display()
        ))
    } else {
        ["Xvfb", "dbus-daemon"]
            .into_iter()
            .find(|t| !have(t))
            .map(|t| format!("{t} is missing (bash scripts/setup-system.sh)"))
    };
    if let Some(why) = missing {
        if quick {
            eprintln!("sundial-bench: B9 SKIPPED: {why}; scripts/bench.sh builds and runs it");
            return Ok(Vec::new());
        }
        return Err(why);
    }
    let root = tempfile::tempdir().map_err(|x| x.to_string())?;
    let dir = root.path().join("views");
    let data = dir.join("data");
    let now = Utc::now();
    let seeded = Instant::now();
    let seeded_db = seed(&data, &sizes, now).await?;
    let night = seeded_db.night;
    eprintln!(
        "sundial-bench: B9 seeded {} jobs, {} runs and a slept night ({} to {}) in {:.1} s",
        sizes.jobs,
        seeded_db.runs,
        night.0.format("%d %b %H:%M"),
        night.1.format("%H:%M UTC"),
        seeded.elapsed().as_secs_f64()
    );
    let display = Xvfb::start()?;
    let report = tokio::task::block_in_place(|| measure(&app, &dir, &data, &display, &sizes))
        .map_err(|x| format!("{}: {x}", app.display()))?;
    drop(display);
    if let Some(error) = &report.error {
        return Err(format!("the page's driver: {error}"));
    }
    if !report.pan_moved {
        return Err("dragging the timeline did not move it".into());
    }
    let n = sizes.repeat;
    let scale = format!("{} runs, {} jobs", seeded_db.runs, sizes.jobs);
    let shown = |measure: String, values: &[f64], target: bool| {
        let v = median(values.to_vec());
        let (lo, hi) = range(values);
        Row {
            id: "B9",
            measure: format!("{measure} ({scale}; median of {n}, {lo:.0}–{hi:.0} ms)"),
            unit: "ms",
            sundial: v,
            peer: "–".into(),
            peer_value: None,
            lower_is_better: true,
            target: if target {
                "≤ 300 ms".into()
            } else {
                String::new()
            },
            met: target.then_some(v <= 300.0),
        }
    };
    let frames = report.pan_work.len();
    let sorted = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let work_p95 = percentile(&sorted(&report.pan_work), 95.0);
    let work_max = report.pan_work.iter().copied().fold(0.0, f64::max);
    let interval_p95 = percentile(&sorted(&report.pan_interval), 95.0);
    let frame_row = |measure: String, v: f64, target: bool| Row {
        id: "B9",
        measure,
        unit: "ms",
        sundial: v,
        peer: "–".into(),
        peer_value: None,
        lower_is_better: true,
        target: if target {
            "< 16 ms".into()
        } else {
            String::new()
        },
        met: target.then_some(v < 16.0),
    };
    Ok(vec![
        shown(
            "a job's overview: navigation to the frame with every part answered".into(),
            &report.overview,
            true,
        ),
        shown(
            "a job's calendar heat map (53 weeks), on its overview".into(),
            &report.overview_heatmap,
            true,
        ),
        shown(
            format!(
                "timeline 24 h: navigation to the chart painted ({} bars)",
                report.bars_day
            ),
            &report.timeline_day_chart,
            true,
        ),
        shown(
            "timeline 24 h with the all-jobs calendar heat map: every part answered".into(),
            &report.timeline_day,
            true,
        ),
        shown(
            "for context: a job's overview asked of the engine alone (IPC, SQLite, JSON; no \
             page)"
                .into(),
            &report.query_overview,
            false,
        ),
        shown(
            "for context: the 24 h timeline's data (1.75 days fetched) asked of the engine \
             alone"
                .into(),
            &report.query_timeline_day,
            false,
        ),
        shown(
            format!(
                "timeline 7 d (zoomed out, empty cache): the chart painted ({} bars)",
                report.bars_week
            ),
            &report.timeline_week,
            true,
        ),
        frame_row(
            format!(
                "panning the 24 h timeline, {frames} frames dragged: main-thread work per \
                 frame p95 (render, commit, style, layout; max {work_max:.1} ms)"
            ),
            work_p95,
            true,
        ),
        frame_row(
            format!(
                "panning the 24 h timeline: interval between frames p95 (for context: the \
                 display's refresh is 16.7 ms; median {:.1} ms)",
                median(report.pan_interval.clone())
            ),
            interval_p95,
            false,
        ),
    ])
}

fn range(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    (if lo.is_finite() { lo } else { 0.0 }, hi)
}

/// A small deterministic generator: the same database every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }
}

/// A run id made at `at`, as the engine would have made it then (ids sort by time, and a run's
/// log folder is the day of its id).
fn run_id_at(at: DateTime<Utc>, rng: &mut Lcg) -> Result<RunId, String> {
    let random = (u128::from(rng.next()) << 48) | u128::from(rng.next());
    let ms = u64::try_from(at.timestamp_millis()).map_err(|x| x.to_string())?;
    ulid::Ulid::from_parts(ms, random)
        .to_string()
        .parse::<RunId>()
        .map_err(|x| x.to_string())
}

const TAGS: &[&str] = &["finance", "ops", "data"];

const NAMES: &[&str] = &[
    "sales export",
    "warehouse sync",
    "invoice reminders",
    "nightly backup",
    "crm import",
    "kpi dashboard",
    "log rotate",
    "weather fetch",
    "fx rates",
    "churn model",
];

/// Writes the jobs, runs and ledger: how many runs, and the slept night (start, end).
async fn seed(data: &Path, s: &B9Sizes, now: DateTime<Utc>) -> Result<Seeded, String> {
    let e = |x: sundial_engine::store::StoreError| x.to_string();
    std::fs::create_dir_all(data).map_err(|x| x.to_string())?;
    let paths = AppPaths::new(data);
    let store = Store::open(&paths.database()).await.map_err(e)?;
    let logs = LogStore::new(paths.run_logs());
    let start = now - chrono::Duration::days(s.days);
    let jobs: Vec<Job> = (0..s.jobs)
        .map(|i| {
            let spec = serde_json::from_value(json!({
                "name": format!("{} {:03}", NAMES[i % NAMES.len()], i),
                "tags": [TAGS[i % TAGS.len()]],
                "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
                "trigger": {"type": "cron", "expr": format!("{} */2 * * *", (i * 7) % 60), "timezone": "UTC"},
            }))
            .map_err(|x| x.to_string())?;
            Ok(Job {
                id: JobId::new(),
                revision: 1,
                created_at: start - chrono::Duration::days(1),
                updated_at: start - chrono::Duration::days(1),
                spec,
            })
        })
        .collect::<Result<_, String>>()?;
    store.insert_jobs(&jobs).await.map_err(e)?;
    // The night the laptop slept: from 23:40 to 07:10 UTC, the night before last.
    let day = (now - chrono::Duration::days(1)).date_naive();
    let night_start = Utc.from_utc_datetime(
        &(day - chrono::Duration::days(1))
            .and_hms_opt(23, 40, 0)
            .ok_or("a time")?,
    );
    let night_end = Utc.from_utc_datetime(&day.and_hms_opt(7, 10, 0).ok_or("a time")?);
    let mut rng = Lcg(0x5eed);
    let per_job = s.runs / s.jobs;
    let span_ms = (now - start).num_milliseconds() - 3_600_000;
    let step_ms = span_ms / per_job as i64;
    let mut batch: Vec<Run> = Vec::with_capacity(10_000);
    let mut gaps: Vec<MissedGap> = Vec::new();
    let mut total = 0;
    for (j, job) in jobs.iter().enumerate() {
        // Each job its own typical duration, 0.2 s to 2 min.
        let typical_ms = 200.0 * (600.0f64).powf(j as f64 / s.jobs as f64);
        let offset = (j as i64 * 997_003) % step_ms;
        let mut missed = Vec::new();
        for k in 0..per_job {
            let at = start + chrono::Duration::milliseconds(offset + k as i64 * step_ms);
            if at >= night_start && at < night_end {
                missed.push(at);
                continue;
            }
            let roll = rng.unit();
            let (status, exit_code) = if roll < 0.06 {
                (RunStatus::Failed, Some(1 + (rng.next() % 3) as i32))
            } else if roll < 0.07 {
                (RunStatus::TimedOut, None)
            } else {
                (RunStatus::Succeeded, Some(0))
            };
            let outlier = if rng.unit() < 0.03 { 4.0 } else { 1.0 };
            let duration_ms = (typical_ms * (0.6 + 0.8 * rng.unit()) * outlier) as i64;
            let started = at + chrono::Duration::milliseconds(2 + (rng.next() % 20) as i64);
            let finished = started + chrono::Duration::milliseconds(duration_ms.max(1));
            let id = run_id_at(at, &mut rng)?;
            let last = k + 1 == per_job;
            let (log_bytes, log_lines) = if last {
                write_log(&logs, id, &job.spec.name, started, finished, exit_code)?
            } else {
                (2_400, 40)
            };
            batch.push(Run {
                id,
                job_id: job.id,
                job_revision: 1,
                reason: RunReason::Schedule,
                attempt: 1,
                parent_run_id: None,
                scheduled_for: at,
                created_at: at,
                started_at: Some(started),
                finished_at: Some(finished),
                status,
                exit_code,
                http_status: None,
                error: (status == RunStatus::TimedOut)
                    .then(|| "stopped after its time limit".to_string()),
                log_bytes,
                log_lines,
                cpu_ms: Some((duration_ms / 3).max(0) as u64),
                peak_memory_bytes: Some(20_000_000 + rng.next() % 80_000_000),
                overrides: None,
                trigger_path: None,
                wait: Default::default(),
            });
            total += 1;
            if batch.len() >= 10_000 {
                store.record_firings(&batch, &[], &[]).await.map_err(e)?;
                batch.clear();
            }
        }
        if let (Some(first), Some(last)) = (missed.first(), missed.last()) {
            let run_id = run_id_at(night_end, &mut rng)?;
            let why = format!(
                "missed {} firings while the computer was asleep",
                missed.len()
            );
            batch.push(Run {
                id: run_id,
                job_id: job.id,
                job_revision: 1,
                reason: RunReason::Schedule,
                attempt: 1,
                parent_run_id: None,
                scheduled_for: *last,
                created_at: night_end,
                started_at: None,
                finished_at: Some(night_end),
                status: RunStatus::Skipped,
                exit_code: None,
                http_status: None,
                error: Some(why),
                log_bytes: 0,
                log_lines: 0,
                cpu_ms: None,
                peak_memory_bytes: None,
                overrides: None,
                trigger_path: None,
                wait: Default::default(),
            });
            gaps.push(MissedGap {
                run_id,
                job_id: job.id,
                gap_start: night_start,
                noticed_at: night_end,
                first_slot: *first,
                last_slot: *last,
                missed: missed.len() as u64,
                counted_all: true,
                cause: MissedCause::Asleep,
                policy: MissedRunMode::Skip,
                ran: 0,
            });
        }
    }
    // Every job has fired up to now, as a scheduler that ran all along leaves it: the app
    // starts with nothing to catch up (a start after days away is B3's and the ledger's).
    let cursors: Vec<CursorUpdate> = jobs
        .iter()
        .map(|job| CursorUpdate {
            job_id: job.id,
            cursor: now,
            next_due: None,
        })
        .collect();
    store
        .record_firings(&batch, &gaps, &cursors)
        .await
        .map_err(e)?;
    store.close().await;
    Ok(Seeded {
        runs: total,
        night: (night_start, night_end),
    })
}

struct Seeded {
    runs: usize,
    night: (DateTime<Utc>, DateTime<Utc>),
}

/// The newest run's log: what a report script prints.
fn write_log(
    logs: &LogStore,
    run: RunId,
    name: &str,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    exit_code: Option<i32>,
) -> Result<(u64, u64), String> {
    let mut log = logs.create(run, 10 << 20).map_err(|x| x.to_string())?;
    log.note(started, &format!("started {name}"));
    for i in 0..40 {
        let line = format!("{name}: step {i} of 40, {} rows\n", 1_000 + i * 37);
        log.write_output(Stream::Stdout, started, line.as_bytes());
    }
    log.note(
        finished,
        &format!("exited with code {}", exit_code.unwrap_or(-1)),
    );
    log.flush();
    if let Some(x) = log.error() {
        return Err(x.to_string());
    }
    let stats = log.stats();
    Ok((stats.bytes, stats.lines))
}

fn measure(
    app: &Path,
    dir: &Path,
    data: &Path,
    display: &Xvfb,
    sizes: &B9Sizes,
) -> Result<Report, String> {
    let e = |x: std::io::Error| x.to_string();
    for sub in ["xdg-data", "xdg-config", "xdg-cache", "xdg-state"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(e)?;
    }
    let views_file = dir.join("views.json");
    let bus = DbusSession::start()?;
    let mut cmd = app_command(app, dir, data, display, &bus, &dir.join("paint"), "app.log")?;
    cmd.env(VIEWS_FILE_ENV, &views_file)
        .env(VIEWS_REPEAT_ENV, sizes.repeat.to_string());
    let spawned = Instant::now();
    let mut child = cmd.spawn().map_err(e)?;
    let result = (|| loop {
        if let Ok(text) = std::fs::read_to_string(&views_file)
            && let Some(line) = text.lines().next()
        {
            return serde_json::from_str::<Report>(line)
                .map_err(|x| format!("the page's report {line:?}: {x}"));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited before reporting ({status})"));
        }
        if spawned.elapsed() > sizes.timeout {
            return Err(format!("no report within {} s", sizes.timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    })();
    stop_tree(&mut child);
    drop(bus);
    result.map_err(|x| with_app_output(dir, &x))
}
