//! What the window's pictures need, each from one engine query made for it (store/views.rs):
//! a job's overview, the jobs list's run strips, the timeline and the heat map.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sundial_engine::domain::{JobId, MissedGap, Run};
use sundial_engine::schedule::FireTime;
use sundial_engine::store::{DayOutcomes, MissedFilter, OutcomeCounts, RunFilter, RunMark};
use tauri::State;
use ts_rs::TS;

use super::bounded;
use super::runs::instant;
use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

/// Runs a job's overview shows in its strip and duration chart.
pub const OVERVIEW_RUNS: u32 = 50;
/// Next firings on the overview.
pub const OVERVIEW_FIRES: usize = 5;
pub const MAX_STRIP: u32 = 50;
/// The widest timeline window (a week and a bit, for panning).
pub const MAX_TIMELINE_DAYS: i64 = 15;
/// Runs a timeline window draws at most (the newest).
pub const MAX_TIMELINE_RUNS: u32 = 5000;
/// Upcoming firings drawn per job in a timeline window.
pub const MAX_UPCOMING_PER_JOB: usize = 200;
/// Missed-run ledger entries a timeline window shades at most (the newest).
pub const MAX_TIMELINE_GAPS: u32 = 2000;
pub const MAX_HEATMAP_DAYS: i64 = 400;

#[derive(Debug, Clone, Serialize, TS)]
pub struct JobOverview {
    /// The next firings from now, with daylight-saving notes (empty: manual or after-job).
    pub next_fires: Vec<FireTime>,
    /// The newest runs, newest first (at most 50).
    pub recent_runs: Vec<Run>,
    pub last_7_days: OutcomeCounts,
    pub last_30_days: OutcomeCounts,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct UpcomingFire {
    pub job_id: JobId,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Timeline {
    /// Runs overlapping the window, newest first.
    pub runs: Vec<RunMark>,
    /// More runs fell in the window than are drawn (the newest are kept).
    pub truncated: bool,
    /// Firings from now to the window's end (none while paused).
    pub upcoming: Vec<UpcomingFire>,
    /// Missed-run ledger entries whose gap overlaps the window (when Sundial was asleep,
    /// closed, paused, or the clock jumped), newest first.
    pub gaps: Vec<MissedGap>,
}

#[tauri::command]
pub async fn job_overview(state: State<'_, AppState>, id: String) -> CmdResult<JobOverview> {
    let id = JobId::from_str(&id)?;
    let engine = &state.engine;
    let now = engine.now();
    let recent_runs = engine
        .list_runs(&RunFilter {
            job_id: Some(id),
            limit: OVERVIEW_RUNS,
            ..RunFilter::default()
        })
        .await?;
    Ok(JobOverview {
        next_fires: engine.next_firings(id, OVERVIEW_FIRES).await?,
        recent_runs,
        last_7_days: engine
            .outcome_counts(Some(id), now - Duration::days(7))
            .await?,
        last_30_days: engine
            .outcome_counts(Some(id), now - Duration::days(30))
            .await?,
    })
}

/// The newest `per_job` runs of every job, oldest first within a job, in one query.
#[tauri::command]
pub async fn run_strips(state: State<'_, AppState>, per_job: u32) -> CmdResult<Vec<RunMark>> {
    let per_job = bounded("per_job", per_job, MAX_STRIP)?;
    Ok(state.engine.recent_runs_per_job(per_job).await?)
}

fn window(from: &str, to: &str, max_days: i64) -> CmdResult<(DateTime<Utc>, DateTime<Utc>)> {
    let (from, to) = (instant("from", from)?, instant("to", to)?);
    if to <= from {
        return Err(IpcError::invalid_field("to", "must be after from"));
    }
    if to - from > Duration::days(max_days) {
        return Err(IpcError::invalid_field(
            "to",
            format!("the window may span at most {max_days} days"),
        ));
    }
    Ok((from, to))
}

#[tauri::command]
pub async fn timeline(state: State<'_, AppState>, from: String, to: String) -> CmdResult<Timeline> {
    let (from, to) = window(&from, &to, MAX_TIMELINE_DAYS)?;
    let engine = &state.engine;
    let runs = engine.runs_in_window(from, to, MAX_TIMELINE_RUNS).await?;
    let upcoming = if to > engine.now() {
        engine.upcoming_firings(to, MAX_UPCOMING_PER_JOB).await?
    } else {
        Vec::new()
    };
    // A gap overlaps the window when it was noticed after the window began and began before
    // it ended.
    let gaps = engine
        .missed_gaps(&MissedFilter {
            from: Some(from),
            limit: MAX_TIMELINE_GAPS,
            ..MissedFilter::default()
        })
        .await?
        .into_iter()
        .filter(|g| g.gap_start < to)
        .collect();
    Ok(Timeline {
        runs: runs.runs,
        truncated: runs.truncated,
        gaps,
        upcoming: upcoming
            .into_iter()
            .filter(|(_, at)| *at >= from)
            .map(|(job_id, at)| UpcomingFire { job_id, at })
            .collect(),
    })
}

/// Runs per local day in `[from, to)`, of one job or of all.
#[tauri::command]
pub async fn daily_outcomes(
    state: State<'_, AppState>,
    job_id: Option<String>,
    from: String,
    to: String,
) -> CmdResult<Vec<DayOutcomes>> {
    let job_id = job_id.as_deref().map(JobId::from_str).transpose()?;
    let (from, to) = window(&from, &to, MAX_HEATMAP_DAYS)?;
    Ok(state.engine.daily_outcomes(job_id, from, to).await?)
}
