use std::str::FromStr;

use chrono::{DateTime, Utc};

use serde::Deserialize;
use sundial_engine::domain::{JobId, Run, RunId, RunStatus, RunValues};
use sundial_engine::store::RunFilter;
use tauri::State;
use ts_rs::TS;

use super::{bounded, parse};
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

pub const MAX_RUNS_PAGE: u32 = 1000;

/// Which runs to list; pages go back in time from `before`.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    #[ts(optional)]
    pub job_id: Option<String>,
    #[serde(default)]
    #[ts(as = "Option<Vec<RunStatus>>", optional)]
    pub statuses: Vec<RunStatus>,
    /// Only runs scheduled at or after this instant (RFC 3339).
    #[ts(optional)]
    pub from: Option<String>,
    /// Only runs scheduled before this instant (RFC 3339).
    #[ts(optional)]
    pub to: Option<String>,
    #[ts(optional)]
    pub before: Option<String>,
    pub limit: u32,
}

impl RunQuery {
    fn into_filter(self) -> CmdResult<RunFilter> {
        Ok(RunFilter {
            job_id: self.job_id.as_deref().map(JobId::from_str).transpose()?,
            statuses: self.statuses,
            from: self
                .from
                .as_deref()
                .map(|t| instant("from", t))
                .transpose()?,
            to: self.to.as_deref().map(|t| instant("to", t)).transpose()?,
            before: self.before.as_deref().map(RunId::from_str).transpose()?,
            limit: bounded("limit", self.limit, MAX_RUNS_PAGE)?,
        })
    }
}

pub(crate) fn instant(field: &str, text: &str) -> CmdResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            IpcError::invalid_field(
                field,
                format!(
                    "{text:?} is not an RFC 3339 date-time ({e}), such as 2026-11-21T08:00:00Z"
                ),
            )
        })
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

/// What a run wrote for the runs chained after it and what its upstream passed to it.
#[tauri::command]
pub async fn get_run_values(state: State<'_, AppState>, id: String) -> CmdResult<RunValues> {
    Ok(state.engine.run_values(RunId::from_str(&id)?).await?)
}

#[tauri::command]
pub async fn cancel_run(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(state.engine.cancel_run(RunId::from_str(&id)?).await?)
}
