//! The log viewer's commands: thin layers over the engine's [`LogViews`] (a viewer reads a
//! *view*, a run log or one day of the application log, by position; only ranges of lines
//! cross IPC) and over its job-wide search.

use std::str::FromStr;
use std::sync::Arc;

use serde::Serialize;
use sundial_engine::domain::JobId;
use sundial_engine::domain::RunId;
use sundial_engine::logs::{
    AppLogFile, CancellationToken, JobLogRun, JobLogSearch, JobLogSummary, LogInfo, LogLine,
    LogSearch, LogSearchResult, LogSource, LogView, LogViews, MAX_LOG_LINES, MAX_SEARCH_MATCHES,
    search_job_logs as search_all_runs,
};
use tauri::State;
use tauri::ipc::Channel;
use tokio::sync::mpsc;
use tokio::time::Instant;
use ts_rs::TS;

use super::{bounded, parse};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::log_stream::{FRAME, LogBatch, pump};
use crate::state::AppState;

/// Runs blocking log I/O off the async runtime.
async fn blocking<T: Send + 'static>(
    views: &Arc<LogViews>,
    work: impl FnOnce(&LogViews) -> CmdResult<T> + Send + 'static,
) -> CmdResult<T> {
    let views = views.clone();
    tokio::task::spawn_blocking(move || work(&views))
        .await
        .map_err(|e| IpcError::internal(e.to_string()))?
}

#[tauri::command]
pub async fn log_info(state: State<'_, AppState>, view: serde_json::Value) -> CmdResult<LogInfo> {
    let view: LogView = parse("view", view)?;
    blocking(&state.views, move |v| Ok(v.info(&view)?)).await
}

/// Lines at positions `start..start+count` of a view: the viewer fetches ranges, never whole
/// files.
#[tauri::command]
pub async fn read_log_lines(
    state: State<'_, AppState>,
    view: serde_json::Value,
    start: u64,
    count: u32,
) -> CmdResult<Vec<LogLine>> {
    let count = bounded("count", count, MAX_LOG_LINES)?;
    let view: LogView = parse("view", view)?;
    blocking(&state.views, move |v| {
        Ok(v.read(&view, start, count as usize)?)
    })
    .await
}

/// The position in a view of the first line whose number is at least `line`.
#[tauri::command]
pub async fn locate_log_line(
    state: State<'_, AppState>,
    view: serde_json::Value,
    line: u64,
) -> CmdResult<u64> {
    let view: LogView = parse("view", view)?;
    blocking(&state.views, move |v| Ok(v.locate(&view, line)?)).await
}

#[tauri::command]
pub async fn search_log(
    state: State<'_, AppState>,
    view: serde_json::Value,
    search: serde_json::Value,
) -> CmdResult<LogSearchResult> {
    let search: LogSearch = parse("search", search)?;
    bounded("search.max_matches", search.max_matches, MAX_SEARCH_MATCHES)?;
    let view: LogView = parse("view", view)?;
    blocking(&state.views, move |v| Ok(v.search(&view, &search)?)).await
}

/// Streams a run's log from `from_line` as it is written, in batches on `on_batch`, until the
/// run ends (`done`), or the web view goes away.
#[tauri::command]
pub async fn follow_run_log(
    state: State<'_, AppState>,
    run_id: String,
    from_line: u64,
    on_batch: Channel<LogBatch>,
) -> CmdResult<()> {
    let follow = state
        .engine
        .follow_run_log(RunId::from_str(&run_id)?, from_line)
        .await?;
    tokio::spawn(pump(follow.into_receiver(), move |batch| {
        on_batch.send(batch).is_ok()
    }));
    Ok(())
}

/// The application log's daily files, newest first.
#[tauri::command]
pub fn list_app_logs(state: State<'_, AppState>) -> CmdResult<Vec<AppLogFile>> {
    state.views.app_log_files().map_err(|e| {
        IpcError::new(
            ErrorCode::Io,
            format!(
                "cannot list {}: {}",
                state.views.app_logs_dir().display(),
                sundial_engine::logs::io_reason(&e)
            ),
        )
    })
}

/// Opens the folder of a log file in the system's file manager (with the file selected where
/// the file manager can).
#[tauri::command]
pub fn reveal_log(state: State<'_, AppState>, source: serde_json::Value) -> CmdResult<()> {
    let source: LogSource = parse("source", source)?;
    let path = state.views.path(&source)?;
    if !path.exists() {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("{} does not exist", path.display()),
        ));
    }
    crate::reveal::reveal(&path)
        .map_err(|e| IpcError::new(ErrorCode::Io, format!("cannot open the folder: {e}")))
}

/// What a job-wide search sends: the runs found since the last batch (newest first, a run
/// with many lines in several pieces), and at the end what was searched in all.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct JobLogSearchBatch {
    pub runs: Vec<JobLogRun>,
    /// The search is over (finished, or stopped): nothing follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub done: Option<JobLogSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<IpcError>,
}

/// Searches every run log of a job, newest run first; the runs with matches stream on
/// `on_batch` (about one batch per frame) and a last batch says `done`. A new search, or
/// [`cancel_job_log_search`], stops the one before. A bad pattern is refused at once, as a
/// field error on `search.pattern`.
#[tauri::command]
pub async fn search_job_logs(
    state: State<'_, AppState>,
    job_id: String,
    search: serde_json::Value,
    on_batch: Channel<JobLogSearchBatch>,
) -> CmdResult<()> {
    let job = JobId::from_str(&job_id)?;
    let search: JobLogSearch = parse("search", search)?;
    bounded("search.max_matches", search.max_matches, MAX_SEARCH_MATCHES)?;
    search
        .validate()
        .map_err(|e| IpcError::invalid_field("search.pattern", e.to_string()))?;
    state.engine.get_job(job).await?;
    let cancel = CancellationToken::new();
    if let Some(before) = state
        .job_search
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .replace(cancel.clone())
    {
        before.cancel();
    }
    let store = state.engine.store().clone();
    let logs = state.logs.clone();
    let (tx, rx) = mpsc::unbounded_channel::<JobLogRun>();
    let search_cancel = cancel.clone();
    let searching = tokio::spawn(async move {
        search_all_runs(&store, &logs, job, &search, &search_cancel, |run| {
            tx.send(run).is_ok()
        })
        .await
    });
    tokio::spawn(async move {
        let sent = send_in_frames(rx, |batch| on_batch.send(batch).is_ok()).await;
        if !sent {
            cancel.cancel();
        }
        let last = match searching.await {
            Ok(Ok(summary)) => JobLogSearchBatch {
                runs: Vec::new(),
                done: Some(summary),
                error: None,
            },
            Ok(Err(e)) => JobLogSearchBatch {
                runs: Vec::new(),
                done: Some(JobLogSummary::default()),
                error: Some(e.into()),
            },
            Err(e) => JobLogSearchBatch {
                runs: Vec::new(),
                done: Some(JobLogSummary::default()),
                error: Some(IpcError::internal(e.to_string())),
            },
        };
        if sent {
            let _ = on_batch.send(last);
        }
    });
    Ok(())
}

/// Stops the job-wide search under way (the window left the page, or the pattern changed).
#[tauri::command]
pub fn cancel_job_log_search(state: State<'_, AppState>) {
    if let Some(search) = state
        .job_search
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        search.cancel();
    }
}

/// Gathers runs for one frame at a time and sends them; false when a send failed (the web
/// view went away). Returns when the search has handed on its last run.
async fn send_in_frames(
    mut runs: mpsc::UnboundedReceiver<JobLogRun>,
    send: impl Fn(JobLogSearchBatch) -> bool,
) -> bool {
    while let Some(first) = runs.recv().await {
        let deadline = Instant::now() + FRAME;
        let mut batch = vec![first];
        let mut lines = batch[0].matches.len();
        while lines < 500 {
            match tokio::time::timeout_at(deadline, runs.recv()).await {
                Ok(Some(run)) => {
                    lines += run.matches.len().max(1);
                    batch.push(run);
                }
                Ok(None) | Err(_) => break,
            }
        }
        let batch = JobLogSearchBatch {
            runs: batch,
            done: None,
            error: None,
        };
        if !send(batch) {
            return false;
        }
    }
    true
}
