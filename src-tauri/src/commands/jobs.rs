use std::str::FromStr;

use serde::Serialize;
use sundial_engine::domain::{Job, JobId, JobSpec, Run, RunOverrides, Trigger};
use sundial_engine::schedule::{FireTime, describe_trigger};
use tauri::State;
use ts_rs::TS;

use super::{bounded, parse};
use crate::error::CmdResult;
use crate::state::AppState;
use crate::status::{JobSummary, job_summaries};

pub const MAX_PREVIEW: u32 = 100;

#[derive(Debug, Clone, Serialize, TS)]
pub struct SchedulePreview {
    /// The trigger in plain words.
    pub description: String,
    pub fires: Vec<FireTime>,
}

#[tauri::command]
pub async fn list_jobs(state: State<'_, AppState>) -> CmdResult<Vec<JobSummary>> {
    Ok(job_summaries(&state.engine).await?)
}

#[tauri::command]
pub async fn get_job(state: State<'_, AppState>, id: String) -> CmdResult<Job> {
    Ok(state.engine.get_job(JobId::from_str(&id)?).await?.masked())
}

#[tauri::command]
pub async fn create_job(state: State<'_, AppState>, spec: serde_json::Value) -> CmdResult<Job> {
    let spec: JobSpec = parse("spec", spec)?;
    Ok(state.engine.create_job(spec).await?.masked())
}

#[tauri::command]
pub async fn update_job(
    state: State<'_, AppState>,
    id: String,
    spec: serde_json::Value,
    expected_revision: i64,
) -> CmdResult<Job> {
    let id = JobId::from_str(&id)?;
    let spec: JobSpec = parse("spec", spec)?;
    let job = state.engine.update_job(id, spec, expected_revision).await?;
    Ok(job.masked())
}

#[tauri::command]
pub async fn set_job_enabled(
    state: State<'_, AppState>,
    id: String,
    enabled: bool,
) -> CmdResult<Job> {
    let id = JobId::from_str(&id)?;
    Ok(state.engine.set_enabled(id, enabled).await?.masked())
}

#[tauri::command]
pub async fn delete_job(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    Ok(state.engine.delete_job(JobId::from_str(&id)?).await?)
}

#[tauri::command]
pub async fn run_job_now(state: State<'_, AppState>, id: String) -> CmdResult<Run> {
    Ok(state.engine.run_now(JobId::from_str(&id)?).await?)
}

/// "Run now with…": one run with environment values set and arguments appended (command and
/// script jobs). Field errors name `env[i].name`, `env[i].value`, `args[i]`, `env`, `args`.
#[tauri::command]
pub async fn run_job_with(
    state: State<'_, AppState>,
    id: String,
    overrides: serde_json::Value,
) -> CmdResult<Run> {
    let id = JobId::from_str(&id)?;
    let overrides: RunOverrides = parse("overrides", overrides)?;
    Ok(state.engine.run_now_with(id, overrides).await?)
}

/// The plain-words description and next fire times of a trigger being edited, from the
/// engine, so the editor and the scheduler cannot disagree.
#[tauri::command]
pub async fn preview_trigger(
    state: State<'_, AppState>,
    trigger: serde_json::Value,
    count: u32,
) -> CmdResult<SchedulePreview> {
    let trigger: Trigger = parse("trigger", trigger)?;
    let count = bounded("count", count, MAX_PREVIEW)?;
    let fires = state.engine.preview(&trigger, count as usize)?;
    Ok(SchedulePreview {
        description: describe_trigger(&trigger, None),
        fires,
    })
}
