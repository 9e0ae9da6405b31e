//! Import and export in the window, over the engine's `files::transfer` (decisions/0018): a
//! preview the user reads before anything is written, an apply that checks again, and the
//! exports. File dialogs are opened from Rust (tauri-plugin-dialog), so the web view needs no
//! dialog permission and never sees a path it did not get from the user.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;
use sundial_engine::domain::JobId;
use sundial_engine::files::jobfile::ImportReport;
use sundial_engine::files::transfer::{
    self, ApplyError, Export, ExportFormat, ExportSettings, ImportFormat, ImportPlan, ImportSource,
};
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::{Dialog, DialogExt, FilePath};
use ts_rs::TS;

use super::parse;
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;

/// A crontab or job file bigger than this is not one (a wrong file was chosen).
pub const MAX_IMPORT_BYTES: u64 = 4 * 1024 * 1024;
/// Jobs one export may name.
pub const MAX_EXPORT_JOBS: usize = 10_000;

/// The user's crontab as `crontab -l` prints it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CrontabText {
    pub text: String,
    /// Said instead of an error when there is nothing to read ("no crontab for you").
    pub message: Option<String>,
}

/// A file the user chose to import.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChosenFile {
    /// The file's name (shown, and names crontab jobs).
    pub name: String,
    pub text: String,
    /// From its extension (`.toml`, `.json`); `None` for a crontab, which has none.
    pub format: Option<ImportFormat>,
}

/// What importing the text would do; nothing is written.
#[tauri::command]
pub async fn preview_import(
    state: State<'_, AppState>,
    source: serde_json::Value,
) -> CmdResult<ImportPlan> {
    let source: ImportSource = parse("source", source)?;
    Ok(transfer::preview(&state.engine, &source).await?)
}

/// Imports the text if what it would do now is `plan`, the report the user confirmed; else a
/// `conflict` ("preview again") and nothing is written.
#[tauri::command]
pub async fn apply_import(
    state: State<'_, AppState>,
    source: serde_json::Value,
    plan: serde_json::Value,
) -> CmdResult<ImportReport> {
    let source: ImportSource = parse("source", source)?;
    let plan: ImportPlan = parse("plan", plan)?;
    transfer::apply(&state.engine, &source, &plan)
        .await
        .map_err(|e| match e {
            ApplyError::Stale { .. } => IpcError::new(ErrorCode::Conflict, e.to_string()),
            ApplyError::Problems(_) => IpcError::new(ErrorCode::Invalid, e.to_string()),
            ApplyError::Engine(e) => e.into(),
        })
}

/// The user's crontab (`crontab -l`). No crontab, or no `crontab` program, is an empty text
/// with a message, not an error: the dialog says it and offers the other sources.
#[tauri::command]
pub async fn read_crontab() -> CmdResult<CrontabText> {
    let output = tokio::process::Command::new("crontab")
        .arg("-l")
        .stdin(std::process::Stdio::null())
        .output()
        .await;
    Ok(crontab_text(output))
}

/// What `crontab -l` gave, in words.
pub fn crontab_text(output: std::io::Result<std::process::Output>) -> CrontabText {
    match output {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let message = text
                .trim()
                .is_empty()
                .then(|| "your crontab is empty".to_string());
            CrontabText { text, message }
        }
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let message = if said.to_lowercase().contains("no crontab for") {
                "you have no crontab".to_string()
            } else if said.is_empty() {
                format!("crontab -l failed ({})", out.status)
            } else {
                format!("crontab -l failed: {said}")
            };
            CrontabText {
                text: String::new(),
                message: Some(message),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => CrontabText {
            text: String::new(),
            message: Some("there is no crontab program on this computer".into()),
        },
        Err(e) => CrontabText {
            text: String::new(),
            message: Some(format!("could not run crontab -l: {e}")),
        },
    }
}

fn dialog<R: Runtime>(app: &AppHandle<R>) -> CmdResult<()> {
    app.try_state::<Dialog<R>>()
        .map(|_| ())
        .ok_or_else(|| IpcError::internal("file dialogs are not available"))
}

fn local_path(path: FilePath) -> CmdResult<PathBuf> {
    path.into_path()
        .map_err(|e| IpcError::new(ErrorCode::Io, format!("not a local file: {e}")))
}

/// Asks for a crontab or job file and reads it; `None` when the user cancels.
#[tauri::command]
pub async fn choose_import_file<R: Runtime>(app: AppHandle<R>) -> CmdResult<Option<ChosenFile>> {
    dialog(&app)?;
    let picked = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_title("Import jobs from a file")
            .blocking_pick_file()
    })
    .await
    .map_err(|e| IpcError::internal(e.to_string()))?;
    let Some(picked) = picked else {
        return Ok(None);
    };
    read_import_file(&local_path(picked)?).map(Some)
}

/// Reads a file chosen for import: at most 4 MiB of UTF-8 text.
pub fn read_import_file(path: &Path) -> CmdResult<ChosenFile> {
    let shown = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| IpcError::new(ErrorCode::Io, format!("cannot read {shown}: {e}")))?
        .len();
    if size > MAX_IMPORT_BYTES {
        return Err(IpcError::invalid_field(
            "file",
            format!(
                "{shown} is {size} bytes: a crontab or job file to import is at most {MAX_IMPORT_BYTES} bytes"
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| IpcError::new(ErrorCode::Io, format!("cannot read {shown}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        IpcError::invalid_field(
            "file",
            format!("{shown} is not text (UTF-8): choose a crontab, a .toml or a .json job file"),
        )
    })?;
    Ok(ChosenFile {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into()),
        text,
        format: ImportFormat::from_path(path),
    })
}

fn job_ids(ids: &[String]) -> CmdResult<Vec<JobId>> {
    if ids.is_empty() {
        return Err(IpcError::invalid_field(
            "ids",
            "choose at least one job to export",
        ));
    }
    if ids.len() > MAX_EXPORT_JOBS {
        return Err(IpcError::invalid_field(
            "ids",
            format!("at most {MAX_EXPORT_JOBS} jobs can be exported at once"),
        ));
    }
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            JobId::from_str(id)
                .map_err(|e| IpcError::invalid_field(&format!("ids[{i}]"), e.to_string()))
        })
        .collect()
}

/// The export of these jobs, to show before saving. Secret values are always masked.
#[tauri::command]
pub async fn export_jobs(
    state: State<'_, AppState>,
    ids: Vec<String>,
    format: serde_json::Value,
) -> CmdResult<Export> {
    let ids = job_ids(&ids)?;
    let format: ExportFormat = parse("format", format)?;
    Ok(transfer::export(&state.engine, &ids, format, &ExportSettings::default()).await?)
}

/// Exports these jobs and saves the result where the user says: one file (a job file, the
/// Kubernetes manifests), or a folder for systemd's units. Returns where it was written;
/// `None` when the user cancels.
#[tauri::command]
pub async fn save_export<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    ids: Vec<String>,
    format: serde_json::Value,
) -> CmdResult<Option<String>> {
    let ids = job_ids(&ids)?;
    let format: ExportFormat = parse("format", format)?;
    dialog(&app)?;
    let export = transfer::export(&state.engine, &ids, format, &ExportSettings::default()).await?;
    if export.files.is_empty() {
        return Err(IpcError::invalid_field(
            "ids",
            "none of these jobs can be written in this format (see the notes)",
        ));
    }
    let default_name = export.files[0].name.clone();
    let folder = format == ExportFormat::Systemd;
    let picked = tauri::async_runtime::spawn_blocking(move || {
        let dialog = app.dialog().file();
        if folder {
            dialog
                .set_title("Save the systemd units in a folder")
                .blocking_pick_folder()
        } else {
            dialog
                .set_title("Save the export")
                .set_file_name(default_name)
                .blocking_save_file()
        }
    })
    .await
    .map_err(|e| IpcError::internal(e.to_string()))?;
    let Some(picked) = picked else {
        return Ok(None);
    };
    let target = local_path(picked)?;
    write_export(&export, &target, folder)?;
    Ok(Some(target.display().to_string()))
}

/// Writes an export: its files into the folder `target`, or its file at `target` (a job file
/// and the Kubernetes manifests are one file each; several would be joined as YAML documents).
pub fn write_export(export: &Export, target: &Path, folder: bool) -> CmdResult<()> {
    let io = |what: &Path, e: std::io::Error| {
        IpcError::new(
            ErrorCode::Io,
            format!("cannot write {}: {e}", what.display()),
        )
    };
    if folder {
        std::fs::create_dir_all(target).map_err(|e| io(target, e))?;
        for f in &export.files {
            let path = target.join(&f.name);
            std::fs::write(&path, &f.content).map_err(|e| io(&path, e))?;
        }
        return Ok(());
    }
    let text = match export.files.as_slice() {
        [one] => one.content.clone(),
        many => many
            .iter()
            .map(|f| f.content.trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n---\n"),
    };
    std::fs::write(target, text).map_err(|e| io(target, e))
}
