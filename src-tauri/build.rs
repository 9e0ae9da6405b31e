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
    "run_job_with",
    "preview_trigger",
    "list_runs",
    "get_run",
    "get_run_values",
    "cancel_run",
    "job_overview",
    "run_strips",
    "timeline",
    "daily_outcomes",
    "preview_import",
    "apply_import",
    "read_crontab",
    "choose_import_file",
    "export_jobs",
    "save_export",
    "log_info",
    "read_log_lines",
    "locate_log_line",
    "search_log",
    "follow_run_log",
    "search_job_logs",
    "cancel_job_log_search",
    "list_app_logs",
    "reveal_log",
    "get_status",
    "pause_all",
    "resume_all",
    "get_settings",
    "update_settings",
    "get_retention",
    "set_retention",
    "get_autostart",
    "set_autostart",
    "remember_screen",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script failed");
}
