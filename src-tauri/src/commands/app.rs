use sundial_engine::retention::RetentionPolicy;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_autostart::AutoLaunchManager;

use super::parse;
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::settings::Settings;
use crate::state::AppState;
use crate::status::{AppStatus, app_status};

#[tauri::command]
pub async fn get_status(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    Ok(app_status(&state.engine).await?)
}

/// Pauses every schedule (persisted by the engine); runs already going continue.
#[tauri::command]
pub async fn pause_all(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    state.engine.pause().await?;
    Ok(app_status(&state.engine).await?)
}

#[tauri::command]
pub async fn resume_all(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    state.engine.resume().await?;
    Ok(app_status(&state.engine).await?)
}

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    state.settings()
}

/// Saves the settings. The parallel cap applies at once, the output cap to runs that start
/// from now, and the application-log retention from the next start.
#[tauri::command]
pub fn update_settings(
    state: State<'_, AppState>,
    settings: serde_json::Value,
) -> CmdResult<Settings> {
    let settings: Settings = parse("settings", settings)?;
    settings.validate()?;
    settings
        .save(state.paths.data_dir())
        .map_err(|e| IpcError::new(ErrorCode::Io, format!("cannot save the settings: {e}")))?;
    state.apply_settings(&settings);
    *state.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings.clone();
    Ok(settings)
}

#[tauri::command]
pub async fn get_retention(state: State<'_, AppState>) -> CmdResult<RetentionPolicy> {
    Ok(state.engine.retention().await?)
}

/// Sets how much history each job keeps; runs beyond it are pruned with their log files.
#[tauri::command]
pub async fn set_retention(
    state: State<'_, AppState>,
    policy: serde_json::Value,
) -> CmdResult<RetentionPolicy> {
    let policy: RetentionPolicy = parse("policy", policy)?;
    state.engine.set_retention(policy).await?;
    Ok(state.engine.retention().await?)
}

fn autostart<R: Runtime>(app: &AppHandle<R>) -> CmdResult<State<'_, AutoLaunchManager>> {
    app.try_state::<AutoLaunchManager>()
        .ok_or_else(|| IpcError::internal("start at login is not available"))
}

#[tauri::command]
pub fn get_autostart<R: Runtime>(app: AppHandle<R>) -> CmdResult<bool> {
    autostart(&app)?
        .is_enabled()
        .map_err(|e| IpcError::new(ErrorCode::Io, e.to_string()))
}

/// Turns start at login on or off; returns the state now in effect.
#[tauri::command]
pub fn set_autostart<R: Runtime>(app: AppHandle<R>, enabled: bool) -> CmdResult<bool> {
    let manager = autostart(&app)?;
    let result = if enabled {
        manager.enable()
    } else {
        manager.disable()
    };
    result.map_err(|e| IpcError::new(ErrorCode::Io, e.to_string()))?;
    manager
        .is_enabled()
        .map_err(|e| IpcError::new(ErrorCode::Io, e.to_string()))
}

/// The page says which screen it shows, so that the window opens on it again after it was
/// closed to the tray (window.rs).
#[tauri::command]
pub fn remember_screen(
    last: State<'_, crate::window::LastScreen>,
    screen: serde_json::Value,
) -> CmdResult<()> {
    last.remember(&screen)
}
