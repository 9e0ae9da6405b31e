//! The IPC commands. Each one parses its input (ids with `FromStr`, specs with serde, bounds
//! on counts), calls the engine, and maps the error to [`crate::error::IpcError`].
//! Build.rs lists the same names for the capability file.

pub mod app;
pub mod jobs;
pub mod logs;
pub mod runs;
pub mod transfer;
pub mod views;

use serde::de::DeserializeOwned;
use tauri::Runtime;
use tauri::ipc::Invoke;

use crate::error::IpcError;

/// The handler with every command, for the app and for the command-layer tests.
pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        jobs::list_jobs,
        jobs::get_job,
        jobs::create_job,
        jobs::update_job,
        jobs::set_job_enabled,
        jobs::delete_job,
        jobs::run_job_now,
        jobs::run_job_with,
        jobs::preview_trigger,
        runs::list_runs,
        runs::get_run,
        runs::get_run_values,
        runs::cancel_run,
        views::job_overview,
        views::run_strips,
        views::timeline,
        views::daily_outcomes,
        transfer::preview_import,
        transfer::apply_import,
        transfer::read_crontab,
        transfer::choose_import_file,
        transfer::export_jobs,
        transfer::save_export,
        logs::log_info,
        logs::read_log_lines,
        logs::locate_log_line,
        logs::search_log,
        logs::search_job_logs,
        logs::cancel_job_log_search,
        logs::follow_run_log,
        logs::list_app_logs,
        logs::reveal_log,
        app::get_status,
        app::pause_all,
        app::resume_all,
        app::get_settings,
        app::update_settings,
        app::get_retention,
        app::set_retention,
        app::get_autostart,
        app::set_autostart,
        app::remember_screen,
    ]
}

/// Structured input (a job spec, a trigger) is taken as JSON and parsed here, so that a
/// malformed value is an `invalid` error on its field rather than a bare string from Tauri.
pub(crate) fn parse<T: DeserializeOwned>(
    field: &str,
    value: serde_json::Value,
) -> Result<T, IpcError> {
    serde_json::from_value(value).map_err(|e| IpcError::invalid_field(field, e.to_string()))
}

/// A count from the UI, checked against its bounds.
pub(crate) fn bounded(field: &str, value: u32, max: u32) -> Result<u32, IpcError> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(IpcError::invalid_field(
            field,
            format!("must be between 1 and {max}"),
        ))
    }
}
