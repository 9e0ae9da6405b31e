//! B10: an edit made by another process reaches the scheduler — two real processes on one
//! SQLite file. A child process runs the scheduling engine (`EngineConfig::new`, which follows
//! the change feed) and prints the wall-clock time of every `JobChanged` it sees; this process,
//! with a passive engine of its own on the same file, edits jobs one at a time and notes the
//! wall time just after each edit returned. The peer is the mechanism the feed replaced:
//! `sundialctl daemon` asking for `job_revisions()` every 500 ms and reloading what changed
//! (reimplemented here as it was). Then both children stay idle and count their wake-ups.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Timelike, Utc};
use serde_json::json;
use sundial_engine::domain::{JobId, JobSpec};
use sundial_engine::{
    Engine, EngineConfig, EngineEvent, LogStore, Runner, RunnerConfig, SystemClock,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::report::Row;
use crate::scenarios::{Sizes, e, now_ns, row};
use crate::util::{context_switches, percentile};

/// Jobs edited in turn: each is edited again only after about 1.5 s, so even the 500 ms poll
/// sees every edit on its own.
const JOBS: usize = 20;
/// The old daemon's poll (`SYNC_EVERY` in sundialctl's daemon before the change feed).
const OLD_POLL: Duration = Duration::from_millis(500);
const PEER: &str = "old daemon: `job_revisions()` polled every 500 ms (reimplemented in the bench)";

/// One edit made by this process.
struct Edit {
    job: JobId,
    revision: i64,
    /// Wall time (ns) just after the edit returned (committed and applied here).
    after: u128,
}

/// What one child measured.
struct Side {
    /// Edit returned → the child's `JobChanged`, ms, sorted: edits 50–100 ms apart.
    latency_ms: Vec<f64>,
    /// The same for isolated edits (nothing else written for longer than the safety poll).
    isolated_ms: Vec<f64>,
    wakeups_per_s: f64,
}

pub async fn b10(s: &Sizes) -> Result<Vec<Row>, String> {
    let dir = tempfile::tempdir().map_err(e)?;
    let db = dir.path().join("b10.db");
    let logs = LogStore::new(dir.path().join("runs"));
    let runner = Runner::new(RunnerConfig::default(), logs.clone()).map_err(e)?;
    let mut config = EngineConfig::passive(&db);
    config.logs = Some(logs);
    let editor = Engine::start(config, Arc::new(SystemClock), Arc::new(runner))
        .await
        .map_err(e)?;
    let hour = Utc::now().hour();
    let mut jobs = Vec::new();
    for i in 0..JOBS {
        // Daily, hours away: nothing fires during the scenario.
        let spec: JobSpec = serde_json::from_value(json!({
            "name": format!("b10-{i}"),
            "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
            "trigger": {"type": "cron", "expr": format!("{} {} * * *", i % 60, (hour + 6 + (i % 12) as u32) % 24), "timezone": "UTC"},
        }))
        .map_err(e)?;
        jobs.push(editor.create_job(spec).await.map_err(e)?.id);
    }
    let ours = side(&editor, &jobs, &db, false, s).await;
    let peer = match ours {
        Ok(_) => side(&editor, &jobs, &db, true, s).await,
        Err(_) => Err(String::new()),
    };
    editor.shutdown(false).await;
    let (ours, peer) = (ours?, peer?);

    let edits = ours.latency_ms.len();
    let mut rows = Vec::new();
    for (p, label) in [(50.0, "p50"), (99.0, "p99"), (100.0, "max")] {
        let mut r = row(
            "B10",
            format!(
                "cross-process edit → scheduler latency {label} ({edits} edits of a job's \
                 description by another process, 50–100 ms apart: edit returned → `JobChanged` \
                 in the scheduling process)"
            ),
            "ms",
            percentile(&ours.latency_ms, p),
        );
        r.peer = PEER.into();
        r.peer_value = Some(percentile(&peer.latency_ms, p));
        if label == "p99" {
            r.target = "≤ 250 ms".into();
            r.met = Some(r.sundial <= 250.0);
        }
        rows.push(r);
    }
    let isolated = ours.isolated_ms.len();
    let slow = ours.isolated_ms.iter().filter(|&&v| v > 250.0).count();
    for (p, label) in [(50.0, "p50"), (100.0, "max")] {
        let mut r = row(
            "B10",
            format!(
                "cross-process edit → scheduler latency {label}, isolated edits ({isolated} edits, \
                 nothing else written for {:.1} s after each; {slow} of them over 250 ms)",
                isolated_gap(s).as_secs_f64()
            ),
            "ms",
            percentile(&ours.isolated_ms, p),
        );
        r.peer = PEER.into();
        r.peer_value = Some(percentile(&peer.isolated_ms, p));
        if label == "max" {
            r.target = "≤ 250 ms".into();
            r.met = Some(r.sundial <= 250.0);
        }
        rows.push(r);
    }
    let mut r = row(
        "B10",
        format!(
            "{JOBS} jobs idle {} s, following the other process: wake-ups per second (context \
             switches, all threads)",
            s.b10_idle_secs
        ),
        "/s",
        ours.wakeups_per_s,
    );
    r.peer = PEER.into();
    r.peer_value = Some(peer.wakeups_per_s);
    r.target = "≤ 1/s".into();
    r.met = Some(r.sundial <= 1.0);
    rows.push(r);
    Ok(rows)
}

/// Starts a child on `db`, makes the edits, pairs them with the child's lines, then has it
/// count its wake-ups while nothing happens.
async fn side(
    editor: &Engine,
    jobs: &[JobId],
    db: &Path,
    peer: bool,
    s: &Sizes,
) -> Result<Side, String> {
    let me = std::env::current_exe().map_err(e)?;
    let mut args = vec!["b10".to_string(), "--db".into(), db.display().to_string()];
    if peer {
        args.push("--peer".into());
    }
    let mut child = tokio::process::Command::new(&me)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(e)?;
    let mut stdin = child.stdin.take().ok_or("B10: no stdin")?;
    let stdout = child.stdout.take().ok_or("B10: no stdout")?;
    let (tx, mut lines) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let who = if peer { "peer" } else { "Sundial" };
    match next(&mut lines, Duration::from_secs(60)).await {
        Some(l) if l == "ready" => {}
        other => return Err(format!("B10 {who} child did not start: {other:?}")),
    }
    // Let the child settle (its first poll, its watcher) before the first edit.
    tokio::time::sleep(Duration::from_millis(700)).await;

    let mut edits = Vec::with_capacity(s.b10_edits);
    let mut seen: Vec<(String, i64, u128)> = Vec::new();
    let take = |line: String, seen: &mut Vec<(String, i64, u128)>| -> Result<(), String> {
        let mut parts = line.split(' ');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("changed"), Some(id), Some(rev), Some(at)) => {
                seen.push((
                    id.to_string(),
                    rev.parse().map_err(e)?,
                    at.parse().map_err(e)?,
                ));
                Ok(())
            }
            _ => Err(format!("B10 {who} child said {line:?}")),
        }
    };
    // First the edits 50–100 ms apart, then the isolated ones, each followed by a silence.
    let isolated_gap = isolated_gap(s);
    let total = s.b10_edits + s.b10_isolated_edits;
    for k in 0..total {
        let id = jobs[k % jobs.len()];
        let job = editor.get_job(id).await.map_err(e)?;
        let mut spec = job.spec.clone();
        spec.description = format!("B10 edit {k}");
        let done = editor.update_job(id, spec, job.revision).await.map_err(e)?;
        let after = now_ns();
        edits.push(Edit {
            job: id,
            revision: done.revision,
            after,
        });
        while let Ok(line) = lines.try_recv() {
            take(line, &mut seen)?;
        }
        if k < s.b10_edits {
            // 50–100 ms apart, spread evenly, so the edits fall at every phase of a poll.
            tokio::time::sleep(Duration::from_millis(50 + (k as u64 * 37) % 51)).await;
        } else {
            tokio::time::sleep(isolated_gap).await;
        }
    }
    // The last edits arrive within a poll (or the follower's 5 s safety net at worst).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    while pair(&edits, &seen).1 > 0 && tokio::time::Instant::now() < deadline {
        if let Some(line) = next(&mut lines, Duration::from_millis(200)).await {
            take(line, &mut seen)?;
        }
    }
    let (latency, missing) = pair(&edits, &seen);
    if missing > 0 {
        return Err(format!(
            "B10 {who}: {missing} of {} edits never reached the child",
            edits.len()
        ));
    }
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let isolated_ms = sorted(latency[s.b10_edits..].to_vec());
    let latency_ms = sorted(latency[..s.b10_edits].to_vec());

    // Idle: no edits, the child counts its own wake-ups.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stdin
        .write_all(format!("idle {}\n", s.b10_idle_secs).as_bytes())
        .await
        .map_err(e)?;
    stdin.flush().await.map_err(e)?;
    let wakeups_per_s = loop {
        let Some(line) = next(&mut lines, Duration::from_secs(s.b10_idle_secs + 30)).await else {
            return Err(format!("B10 {who} child did not report its idle wake-ups"));
        };
        if let Some(v) = line.strip_prefix("idle ") {
            break v.parse::<f64>().map_err(e)?;
        }
        take(line, &mut seen)?;
    };
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .map_err(|_| format!("B10 {who} child did not stop"))?
        .map_err(e)?;
    if !status.success() {
        return Err(format!("B10 {who} child failed: {status}"));
    }
    Ok(Side {
        latency_ms,
        isolated_ms,
        wakeups_per_s,
    })
}

/// The silence after each isolated edit: far longer than the target, the old poll and the
/// follower's settle window, so an edit the follower did not notice (it would wait for the next
/// write or the 30 s safety poll) shows as a latency of seconds.
fn isolated_gap(s: &Sizes) -> Duration {
    if s.quick {
        Duration::from_millis(300)
    } else {
        Duration::from_secs(3)
    }
}

/// The child's next line, if one comes within `wait`.
async fn next(lines: &mut mpsc::UnboundedReceiver<String>, wait: Duration) -> Option<String> {
    tokio::time::timeout(wait, lines.recv())
        .await
        .ok()
        .flatten()
}

/// Each edit's latency: to the first `JobChanged` of its job that showed its revision or a
/// later one. Also how many edits were not seen.
fn pair(edits: &[Edit], seen: &[(String, i64, u128)]) -> (Vec<f64>, usize) {
    let mut by_job: HashMap<String, Vec<(i64, u128)>> = HashMap::new();
    for (id, rev, at) in seen {
        by_job.entry(id.clone()).or_default().push((*rev, *at));
    }
    let mut latency = Vec::new();
    let mut missing = 0;
    for edit in edits {
        let first = by_job
            .get(&edit.job.to_string())
            .and_then(|v| v.iter().find(|(rev, _)| *rev >= edit.revision));
        match first {
            Some((_, at)) => latency.push((*at as f64 - edit.after as f64) / 1e6),
            None => missing += 1,
        }
    }
    (latency, missing)
}

/// The child: the scheduling engine (or the old polling daemon's loop), one line per
/// `JobChanged` with the wall time it arrived; `idle N` on stdin counts its wake-ups over N s;
/// the end of stdin stops it.
pub async fn b10_child(peer: bool, db: &Path) -> String {
    let logs = LogStore::new(db.parent().expect("dir").join("runs"));
    let runner = Runner::new(RunnerConfig::default(), logs.clone()).expect("runner");
    // The peer stands for the daemon before the change feed: it scheduled without following
    // the feed, which no scheduling engine does now, so its engine is one that does not follow
    // (passive) and the loop below brings it the other process's edits, as the daemon did.
    let mut config = if peer {
        EngineConfig::passive(db)
    } else {
        EngineConfig::new(db)
    };
    config.logs = Some(logs);
    let engine = Engine::start(config, Arc::new(SystemClock), Arc::new(runner))
        .await
        .expect("engine");
    let mut events = engine.subscribe();
    let mut known: HashMap<JobId, i64> = engine
        .store()
        .job_revisions()
        .await
        .expect("revisions")
        .into_iter()
        .collect();
    let mut sync = tokio::time::interval(OLD_POLL);
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut idle: Option<(tokio::time::Instant, u64, u64)> = None;
    println!("ready");
    loop {
        let idle_end = idle.map(|(end, _, _)| end);
        tokio::select! {
            event = events.recv() => match event {
                Ok(EngineEvent::JobChanged { job_id }) => {
                    let at = now_ns();
                    let revision = engine.get_job(job_id).await.map_or(-1, |j| j.revision);
                    println!("changed {job_id} {revision} {at}");
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            line = stdin.next_line() => match line {
                Ok(Some(line)) => {
                    if let Some(secs) = line.strip_prefix("idle ").and_then(|v| v.parse().ok()) {
                        let secs: u64 = secs;
                        idle = Some((
                            tokio::time::Instant::now() + Duration::from_secs(secs),
                            context_switches(),
                            secs.max(1),
                        ));
                    }
                }
                _ => break,
            },
            _ = async {
                match idle_end {
                    Some(end) => tokio::time::sleep_until(end).await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some((_, before, secs)) = idle.take() {
                    let wakes = context_switches().saturating_sub(before);
                    println!("idle {}", wakes as f64 / secs as f64);
                }
            },
            _ = sync.tick(), if peer => {
                // sundialctl daemon's loop before the change feed, as it was.
                if let Ok(current) = engine.store().job_revisions().await {
                    let current: HashMap<_, _> = current.into_iter().collect();
                    for (id, rev) in &current {
                        if known.get(id) != Some(rev) {
                            let _ = engine.reload_job(*id).await;
                        }
                    }
                    for id in known.keys() {
                        if !current.contains_key(id) {
                            let _ = engine.reload_job(*id).await;
                        }
                    }
                    known = current;
                }
            },
        }
    }
    engine.shutdown(false).await;
    "stopped".into()
}
