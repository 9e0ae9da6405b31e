// The app manifest lists Sundial's commands so that capabilities/ can allow them one by one:
// a command not listed there cannot be called from the web view.
const COMMANDS: &[&str] = &[
    "list_jobs",
    "get_job",
    "create_job",
    "update_job",
    "set_job_enabled",
    "delete_job",
    "run_job_now",
    "preview_trigger",
    "list_runs",
    "get_run",
    "cancel_run",
    "read_log_lines",
    "follow_run_log",
    "get_status",
    "pause_all",
    "resume_all",
    "get_settings",
    "update_settings",
    "get_autostart",
    "set_autostart",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script failed");
}
