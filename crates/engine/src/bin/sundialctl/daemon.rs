//! `sundialctl daemon`: the scheduler without a window.
//!
//! It takes the scheduler lease (or says who holds it and exits 3), runs the engine with the
//! real runner (which follows the other processes' edits through the change feed), optionally
//! keeps a jobs folder in sync, and stops cleanly on SIGINT or SIGTERM. It exits 1 if it loses
//! the lease (it hung past the lease's expiry and another scheduler took over).

use std::io::Write;
use std::path::PathBuf;

use chrono::SecondsFormat;
use clap::Args;
use sundial_engine::files::folder::JOBS_DIR_SETTING;
use sundial_engine::files::{FolderEvent, JobsFolder};
use sundial_engine::lease::{LEASE_TTL, Lease, SchedulerRole};
use sundial_engine::store::Store;
use sundial_engine::{Clock, EngineConfig, EngineEvent, Scheduling, SystemClock};

use crate::cli::Failure;
use crate::context::{Context, engine_failure, failed};

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Keep the jobs of the job files in this folder in sync with it (default: the folder
    /// in the `jobs_dir` setting, if any).
    #[arg(long, value_name = "DIR")]
    jobs_dir: Option<PathBuf>,
    /// Runs still going at SIGINT/SIGTERM are waited for instead of cancelled.
    #[arg(long)]
    wait_for_runs: bool,
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub async fn run(ctx: &Context, args: DaemonArgs) -> Result<String, Failure> {
    let clock = SystemClock;
    let db = ctx.paths.database();
    let store = Store::open(&db)
        .await
        .map_err(|e| failed(format!("cannot open {}: {e}", db.display())))?;
    let lease = match Lease::acquire(&store, "sundialctl daemon", clock.now(), LEASE_TTL)
        .await
        .map_err(|e| failed(e.to_string()))?
    {
        Ok(lease) => lease,
        Err(held) => {
            store.close().await;
            return Err(Failure::Failed {
                out: String::new(),
                message: format!("{held}; this daemon does not schedule"),
                code: 3,
            });
        }
    };
    store.close().await;
    let since = lease.record().since;
    // The engine renews the lease, follows the other processes' edits through the change
    // feed, and gives the lease back at shutdown.
    let config = EngineConfig {
        scheduling: Scheduling::Lease(lease.clone()),
        ..EngineConfig::new(&db)
    };
    let engine = match ctx.start_engine(config).await {
        Ok(e) => e,
        Err(e) => {
            let _ = lease.release().await;
            return Err(e);
        }
    };
    let mut events = engine.subscribe();
    let jobs_dir = match &args.jobs_dir {
        Some(dir) => Some(dir.clone()),
        None => engine
            .store()
            .get_setting(JOBS_DIR_SETTING)
            .await
            .ok()
            .flatten()
            .filter(|d| !d.trim().is_empty())
            .map(PathBuf::from),
    };
    let folder = match &jobs_dir {
        Some(dir) => match JobsFolder::start(engine.clone(), dir.clone()).await {
            Ok((folder, initial)) => {
                for event in &initial {
                    report(event);
                }
                Some(folder)
            }
            Err(e) => {
                engine.shutdown(false).await;
                return Err(Failure::BadInput(e.to_string()));
            }
        },
        None => None,
    };
    let mut folder_events = folder.as_ref().map(|f| f.subscribe());
    let jobs = engine.list_jobs().await.map_err(engine_failure)?.len();
    // Signal handlers go in before the ready line, so a signal right after it is not lost.
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| failed(format!("cannot handle SIGTERM: {e}")))?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| failed(format!("cannot handle SIGINT: {e}")))?;
    say(&format!(
        "sundialctl daemon: scheduling {jobs} job(s) from {} (pid {}, lease since {})",
        db.display(),
        std::process::id(),
        since.to_rfc3339_opts(SecondsFormat::Secs, true)
    ));
    let outcome: Result<(), String> = loop {
        #[cfg(unix)]
        let (terminated, interrupted) = (term.recv(), interrupt.recv());
        #[cfg(not(unix))]
        let (terminated, interrupted) = (std::future::pending::<Option<()>>(), async {
            tokio::signal::ctrl_c().await.ok()
        });
        tokio::select! {
            _ = interrupted => break Ok(()),
            _ = terminated => break Ok(()),
            event = events.recv() => match event {
                Ok(EngineEvent::SchedulerChanged) if !engine.is_scheduling() => {
                    break Err(match engine.scheduler_role() {
                        SchedulerRole::Passive { holder: Some(holder) } => format!(
                            "the scheduler lease was lost to {holder} (this daemon stopped renewing it in time); stopping"
                        ),
                        _ => "the scheduler lease was lost (this daemon stopped renewing it in time); stopping".into(),
                    });
                }
                Ok(EngineEvent::StorageChanged { problem: Some(problem) }) => {
                    eprintln!("sundialctl daemon: {problem}");
                }
                Ok(EngineEvent::StorageChanged { problem: None }) => {
                    say("sundialctl daemon: writing to the data folder works again");
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break Err("the engine stopped".into()),
            },
            Some(event) = async {
                match folder_events.as_mut() {
                    Some(rx) => rx.recv().await.ok(),
                    None => std::future::pending().await,
                }
            } => report(&event),
        }
    };
    say("sundialctl daemon: stopping");
    if let Some(folder) = folder {
        folder.stop().await;
    }
    engine.shutdown(!args.wait_for_runs).await;
    match outcome {
        Ok(()) => Ok("sundialctl daemon: stopped\n".into()),
        Err(message) => Err(failed(message)),
    }
}

fn report(event: &FolderEvent) {
    match event {
        FolderEvent::Synced {
            file,
            created,
            updated,
            deleted,
            ..
        } => say(&format!(
            "jobs folder: {file}: {} created, {} updated, {} deleted",
            created.len(),
            updated.len(),
            deleted.len()
        )),
        FolderEvent::Removed { file, deleted } => say(&format!(
            "jobs folder: {file} removed: {} job(s) deleted",
            deleted.len()
        )),
        FolderEvent::Missing { file, jobs } => say(&format!(
            "jobs folder: {file} is gone: its {} job(s) are archived unless it comes back",
            jobs.len()
        )),
        FolderEvent::Archived { file, archived } => say(&format!(
            "jobs folder: {file} removed: {} job(s) disabled and archived with their history",
            archived.len()
        )),
        FolderEvent::Broken { file, problems } => {
            for p in problems {
                eprintln!("jobs folder: {file}: {p} (its jobs keep their last good definition)");
            }
        }
    }
}
