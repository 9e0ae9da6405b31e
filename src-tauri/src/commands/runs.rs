use std::str::FromStr;

use serde::Deserialize;
use sundial_engine::domain::{JobId, Run, RunId, RunStatus};
use sundial_engine::logs::LogLine;
use sundial_engine::store::RunFilter;
use tauri::State;
use tauri::ipc::Channel;
use ts_rs::TS;

use super::{bounded, parse};
use crate::error::CmdResult;
use crate::log_stream::{LogBatch, pump};
use crate::state::AppState;

pub const MAX_RUNS_PAGE: u32 = 1000;
pub const MAX_LOG_LINES: u32 = 5000;

/// Which runs to list; pages go back in time from `before`.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    #[ts(optional)]
    pub job_id: Option<String>,
    #[serde(default)]
    #[ts(as = "Option<Vec<RunStatus>>", optional)]
    pub statuses: Vec<RunStatus>,
    #[ts(optional)]
    pub before: Option<String>,
    pub limit: u32,
}

impl RunQuery {
    fn into_filter(self) -> CmdResult<RunFilter> {
        Ok(RunFilter {
            job_id: self.job_id.as_deref().map(JobId::from_str).transpose()?,
            statuses: self.statuses,
            before: self.before.as_deref().map(RunId::from_str).transpose()?,
            limit: bounded("limit", self.limit, MAX_RUNS_PAGE)?,
            ..RunFilter::default()
        })
    }
}

#[tauri::command]
pub async fn list_runs(
    state: State<'_, AppState>,
    query: serde_json::Value,
) -> CmdResult<Vec<Run>> {
    let filter = parse::<RunQuery>("query", query)?.into_filter()?;
    Ok(state.engine.list_runs(&filter).await?)
}

#[tauri::command]
pub async fn get_run(state: State<'_, AppState>, id: String) -> CmdResult<Run> {
    Ok(state.engine.get_run(RunId::from_str(&id)?).await?)
}

#[tauri::command]
pub async fn cancel_run(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(state.engine.cancel_run(RunId::from_str(&id)?).await?)
}

/// Lines `start..start+count` of a run's log: the viewer fetches ranges, never whole files.
#[tauri::command]
pub async fn read_log_lines(
    state: State<'_, AppState>,
    run_id: String,
    start: u64,
    count: u32,
) -> CmdResult<Vec<LogLine>> {
    let run_id = RunId::from_str(&run_id)?;
    let count = bounded("count", count, MAX_LOG_LINES)?;
    let log = state.logs.open(run_id)?;
    Ok(
        tokio::task::spawn_blocking(move || log.read_lines(start, count as usize))
            .await
            .map_err(|e| crate::error::IpcError::internal(e.to_string()))??,
    )
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
    let follow = state.logs.follow(RunId::from_str(&run_id)?, from_line)?;
    tokio::spawn(pump(follow.into_receiver(), move |batch| {
        on_batch.send(batch).is_ok()
    }));
    Ok(())
}
