//! Sundial's desktop shell: wires the engine to a Tauri window, the tray and the OS.
//! All scheduling logic lives in `sundial-engine`; this crate only starts it, exposes it over
//! IPC (commands/), forwards its events (events.rs) and handles the app's lifecycle.

pub mod bench;
pub mod bindings;
pub mod commands;
pub mod error;
pub mod events;
pub mod log_stream;
pub mod logging;
pub mod reveal;
pub mod settings;
pub mod shutdown;
pub mod state;
pub mod status;
pub mod tray;
pub mod webkit;
pub mod window;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use sundial_engine::secrets::{KnownSecrets, SecretStorage};
use sundial_engine::{AppPaths, Engine, EngineConfig, LogStore, Runner, RunnerConfig, SystemClock};
use tauri::{AppHandle, Manager, RunEvent, Runtime, WindowEvent};
use tauri_plugin_notification::NotificationExt;

use crate::logging::AppLog;
use crate::settings::Settings;
use crate::shutdown::{QuitPlan, plan_quit};
use crate::state::AppState;

/// Opens the database in the shared data folder and starts the engine with the real runner.
///
/// Only one scheduler may fire a database's jobs (decisions/0003): the engine competes for the
/// scheduler lease. When `sundialctl daemon` already holds it, the app starts passive: it shows
/// and edits jobs, says who schedules, and takes over when the daemon stops.
pub async fn start_engine(
    paths: &AppPaths,
    settings: &Settings,
    secrets: SecretStorage,
    known_secrets: KnownSecrets,
) -> Result<(Engine, Runner), Box<dyn std::error::Error>> {
    paths.make_private()?;
    let logs = LogStore::new(paths.run_logs());
    let runner_config = RunnerConfig {
        max_log_bytes: settings.max_log_bytes(),
        extra_ca_bundle: settings.extra_ca_bundle(),
        ..RunnerConfig::default()
    };
    let runner = Runner::new(runner_config, logs.clone())?;
    // Only one scheduler may fire a database's jobs (decisions/0003): the engine takes the
    // lease when it is free, and otherwise follows the holder (`sundialctl daemon`) and takes
    // over when it stops.
    let mut config = EngineConfig::competing(paths.database(), "Sundial app");
    config.logs = Some(logs);
    config.max_parallel = settings.max_parallel as usize;
    config.catch_up_stagger =
        std::time::Duration::from_secs(u64::from(settings.catch_up_stagger_secs));
    config.secrets = secrets;
    config.known_secrets = known_secrets;
    let engine = Engine::start(config, Arc::new(SystemClock), Arc::new(runner.clone())).await?;
    Ok((engine, runner))
}

pub fn run() {
    let paths = AppPaths::for_user();
    let settings = Settings::load(paths.data_dir());

    let builder = tauri::Builder::default()
        // First, so that a second launch exits before touching the database or the log.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            if window::wants_window(&argv) {
                tracing::info!("a second launch asked for the window");
                window::open_main_window(app);
            } else {
                tracing::info!("a second launch with --tray: Sundial is already running");
            }
        }))
        // Start at login opens the tray only: no web view until the window is asked for.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![window::TRAY_FLAG]),
        ))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init());
    // The benchmarks' page hooks (B7-B9): registered only when a benchmark asks (bench.rs).
    let builder = match bench::bench_hook() {
        Some(hook) => builder.plugin(hook),
        None => builder,
    };
    let app = builder
        .invoke_handler(commands::handler())
        .setup(move |app| {
            // The log opens here, after the single-instance check: a second launch never
            // writes to it (one writer only).
            // Every secret the engine sees is masked in the application log too.
            let known_secrets = KnownSecrets::new();
            match logging::init(
                &paths.app_logs(),
                settings.app_log_days,
                known_secrets.clone(),
            ) {
                Ok(log) => {
                    app.manage(log);
                }
                Err(e) => eprintln!("sundial: cannot write the application log: {e}"),
            }
            tracing::info!(data_dir = %paths.data_dir().display(), "Sundial is starting");
            let (engine, runner) = tauri::async_runtime::block_on(start_engine(
                &paths,
                &settings,
                // The OS keychain where one is reachable, else the database, said in
                // Settings (decisions/0011); `SUNDIAL_SECRETS` chooses otherwise.
                SecretStorage::from_env().unwrap_or_else(|e| {
                    tracing::warn!("{e}; using the OS keychain");
                    SecretStorage::os()
                }),
                known_secrets,
            ))
            .inspect_err(|e| {
                tracing::error!(error = %e, "the engine could not start");
            })?;
            app.manage(AppState::new(engine, paths, settings).with_runner(runner));
            app.manage(window::LastScreen::default());
            tray::build(app.handle())?;
            events::spawn_forwarder(app.handle().clone());
            if window::wants_window(&std::env::args().collect::<Vec<_>>()) {
                window::open_main_window(app.handle());
            } else {
                tracing::info!("started in the tray (--tray)");
            }
            tracing::info!("Sundial is ready");
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Closing destroys the window and its web view; Sundial keeps running in the
            // tray (Quit is in the tray menu) and Open creates the window again.
            WindowEvent::CloseRequested { .. } => close_notice_once(window.app_handle()),
            WindowEvent::Destroyed => window::window_destroyed(window.app_handle()),
            _ => {}
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "Sundial could not start");
            panic!("Sundial could not start: {e}");
        });

    app.run(|app, event| match event {
        // The last window was closed (or went away by other means than Quit): keep running
        // in the tray, with no web view.
        RunEvent::ExitRequested {
            code: None, api, ..
        } if !app.state::<AppState>().quitting.load(Ordering::SeqCst) => api.prevent_exit(),
        RunEvent::Exit => {
            tracing::info!("Sundial has quit");
            if let Some(log) = app.try_state::<AppLog>() {
                log.flush();
            }
        }
        _ => {}
    });
}

/// The first time the window is closed, say that Sundial keeps running.
fn close_notice_once<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let mut settings = state.settings.lock().unwrap_or_else(|e| e.into_inner());
    if settings.close_notice_shown {
        return;
    }
    settings.close_notice_shown = true;
    if let Err(e) = settings.save(state.paths.data_dir()) {
        tracing::warn!(error = %e, "could not save the settings");
    }
    let shown = app
        .notification()
        .builder()
        .title("Sundial keeps running")
        .body("Your jobs still run on schedule. Open or quit Sundial from its tray icon.")
        .show();
    if let Err(e) = shown {
        tracing::warn!(error = %e, "could not show the close notice");
    }
}

/// Quit from the tray: stop scheduling, then wait for or cancel the runs going (the setting),
/// so that every run ends with a recorded status; then exit.
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    let state = app.state::<AppState>();
    if state.quitting.swap(true, Ordering::SeqCst) {
        tracing::info!("quit is already under way");
        return;
    }
    let behaviour = state.settings().quit_behaviour;
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let running = state.engine.active_runs().await.map_or(0, |r| r.len());
        let plan = plan_quit(running, behaviour);
        tracing::info!(?plan, "quitting");
        if let QuitPlan::WaitForRuns { running } = plan
            && let Some(tray) = app.try_state::<tray::Tray<R>>()
            && let Ok(status) = status::app_status(&state.engine).await
        {
            let note = format!("Quitting after {running} running job(s) finish");
            tray::show(&tray, &status, Some(&note));
        }
        state.engine.shutdown(plan.cancel_running()).await;
        tracing::info!("the engine has stopped; every run is recorded");
        app.exit(0);
    });
}
