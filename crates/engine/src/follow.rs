//! Follows the other processes' writes to the shared database (the change feed, decisions/0003):
//! the window, `sundialctl` and `sundialctl daemon` each run an engine on one database, and an
//! edit made by any of them takes effect in every other at once.
//!
//! A commit by any process writes the database's WAL file, so the follower watches the
//! database's folder (inotify on Linux) and reads the feed when the file changes (looking again
//! shortly when the commit is not visible yet); a slow poll is the safety net, and a fast one
//! stands in where the folder cannot be watched. It applies only what other
//! processes wrote: a job reloaded, a run or pause state relayed to the window, the lease
//! keeper woken when the lease changed hands.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::domain::{JobId, RunId, RunStatus};
use crate::engine::Engine;
use crate::events::{EngineEvent, PAUSED_SETTING};
use crate::retention::{KEEP_DAYS_SETTING, KEEP_RUNS_SETTING};
use crate::store::{Change, ChangeKind};

/// The safety net: the feed is read this often even when no file change was reported (a
/// missed event, a file system that reports none).
pub const SAFETY_POLL: Duration = Duration::from_secs(30);
/// Without a watch on the database's folder, the feed is read this often instead.
pub const POLL_UNWATCHED: Duration = Duration::from_secs(1);
/// A commit writes the WAL (the file change that wakes the follower) before it publishes the
/// transaction in the shared-memory index (no file event), and with `synchronous=FULL` an fsync
/// lies between. A wake that finds nothing new looks again after these delays, until the
/// commit it was woken for is visible.
const SETTLE: [Duration; 4] = [
    Duration::from_millis(5),
    Duration::from_millis(25),
    Duration::from_millis(100),
    Duration::from_millis(250),
];
/// Rows read per query.
const BATCH: u32 = 1_000;

/// Starts following; the task ends when `stop` is cancelled.
pub(crate) fn spawn(
    engine: Engine,
    database: &Path,
    from: i64,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let (wake_tx, wake_rx) = mpsc::channel::<()>(1);
    let zone_engine = engine.clone();
    let watcher = watch_database(database, wake_tx, move || {
        zone_engine.zone_may_have_changed()
    });
    let poll = if watcher.is_some() {
        SAFETY_POLL
    } else {
        POLL_UNWATCHED
    };
    tokio::spawn(async move {
        // Kept alive for as long as the task runs.
        let _watcher = watcher;
        follow(engine, from, wake_rx, poll, stop).await;
    })
}

/// The system's time-zone setting (a symlink, or Debian's name file), watched with the database
/// by the same watcher: a change is applied at once instead of at the scheduler's next wake.
const ZONE_FILES: [&str; 2] = ["/etc/localtime", "/etc/timezone"];

/// Watches the database's folder for writes to the database or its WAL, and the zone setting
/// (calling `zone_changed`). None (and a warning) where the platform cannot watch the folder:
/// the safety poll still runs, and the scheduler still looks at the zone on each wake.
fn watch_database(
    database: &Path,
    wake: mpsc::Sender<()>,
    zone_changed: impl Fn() + Send + 'static,
) -> Option<notify::RecommendedWatcher> {
    let folder = match database.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = database.file_name()?.to_string_lossy().into_owned();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if event.paths.iter().any(|p| ZONE_FILES.iter().any(|z| p == Path::new(z))) {
                zone_changed();
            }
            let ours = event.paths.iter().any(|p| {
                p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(name.as_str()))
            });
            if ours {
                // A full channel already holds a wake-up: nothing is lost.
                let _ = wake.try_send(());
            }
        })
        .map_err(|e| tracing::warn!(error = %e, "cannot watch the database for other processes' changes; looking every second"))
        .ok()?;
    if let Some(etc) = Path::new(ZONE_FILES[0]).parent()
        && let Err(e) = watcher.watch(etc, RecursiveMode::NonRecursive)
    {
        tracing::debug!(error = %e, "cannot watch the time-zone setting; it is looked at on each wake");
    }
    match watcher.watch(&folder, RecursiveMode::NonRecursive) {
        Ok(()) => Some(watcher),
        Err(e) => {
            tracing::warn!(folder = %folder.display(), error = %e, "cannot watch the database's folder; looking for other processes' changes every second");
            None
        }
    }
}

async fn follow(
    engine: Engine,
    mut last: i64,
    mut wake: mpsc::Receiver<()>,
    poll: Duration,
    stop: CancellationToken,
) {
    loop {
        let woken = tokio::select! {
            _ = stop.cancelled() => return,
            _ = wake.recv() => true,
            _ = tokio::time::sleep(poll) => false,
        };
        let mut settle = SETTLE.iter();
        loop {
            match catch_up(&engine, &mut last).await {
                Ok(true) => break,
                Ok(false) if !woken => break,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not read other processes' changes; trying again shortly");
                    break;
                }
            }
            // Woken, but the commit is not visible yet: look again shortly, or at once when
            // another write wakes this follower meanwhile (then the settling starts afresh).
            let Some(delay) = settle.next() else { break };
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = wake.recv() => settle = SETTLE.iter(),
                _ = tokio::time::sleep(*delay) => {}
            }
        }
    }
}

/// Reads and applies every change after `last`; true when the feed had moved on (rows of any
/// process, this one's included).
async fn catch_up(engine: &Engine, last: &mut i64) -> Result<bool, crate::EngineError> {
    let start = *last;
    loop {
        let batch = engine.store().changes_after(*last, BATCH).await?;
        if batch.behind {
            tracing::warn!("fell behind the change feed; reloading every job");
            engine.reload_all().await?;
        }
        apply(engine, &batch.changes).await?;
        *last = batch.last;
        if !batch.more {
            return Ok(*last > start);
        }
    }
}

/// Applies a batch: each job reloaded once however often it changed, runs relayed to the
/// listeners, settings followed, the lease keeper woken.
async fn apply(engine: &Engine, changes: &[Change]) -> Result<(), crate::EngineError> {
    let mut jobs: Vec<JobId> = Vec::new();
    let mut seen_jobs = HashSet::new();
    let mut pause = false;
    let mut retention = false;
    let mut lease = false;
    for change in changes {
        match change.kind {
            ChangeKind::Job => {
                if let Ok(id) = change.key.parse::<JobId>()
                    && seen_jobs.insert(id)
                {
                    jobs.push(id);
                }
            }
            ChangeKind::Run => {
                let run = change.key.parse::<RunId>();
                let job = change.job_id.as_deref().map(str::parse::<JobId>);
                let status = change.detail.as_deref().map(str::parse::<RunStatus>);
                if let (Ok(run_id), Some(Ok(job_id)), Some(Ok(status))) = (run, job, status) {
                    engine.emit(EngineEvent::RunChanged {
                        run_id,
                        job_id,
                        status,
                    });
                }
            }
            ChangeKind::Setting => match change.key.as_str() {
                PAUSED_SETTING => pause = true,
                KEEP_RUNS_SETTING | KEEP_DAYS_SETTING => retention = true,
                _ => {}
            },
            ChangeKind::Lease => lease = true,
        }
    }
    if lease {
        engine.poke_lease();
    }
    for id in jobs {
        engine.reload_job(id).await?;
    }
    if pause {
        engine.follow_pause().await?;
    }
    if retention {
        engine.follow_retention().await?;
    }
    Ok(())
}
