//! What the shell manages: the engine handle, the run-log reader, paths and settings.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use sundial_engine::logs::LogViews;
use sundial_engine::{AppPaths, Engine, LogStore, Runner};

use crate::settings::Settings;

pub struct AppState {
    pub engine: Engine,
    pub logs: LogStore,
    /// The indexes of the log views the window has open.
    pub views: Arc<LogViews>,
    /// The runner, for settings that change how runs are made (the output cap); `None` in
    /// the command tests.
    pub runner: Option<Runner>,
    pub paths: AppPaths,
    pub settings: Mutex<Settings>,
    /// The job-wide log search under way, stopped when another starts.
    pub job_search: Mutex<Option<sundial_engine::logs::CancellationToken>>,
    /// Set once Quit is under way, so a second Quit does not start a second shutdown.
    pub quitting: AtomicBool,
}

impl AppState {
    pub fn new(engine: Engine, paths: AppPaths, settings: Settings) -> Self {
        // The engine's own store: its clones know which runs are still being written.
        let logs = engine
            .logs()
            .cloned()
            .unwrap_or_else(|| LogStore::new(paths.run_logs()));
        let views = Arc::new(LogViews::new(logs.clone(), paths.app_logs()));
        Self {
            engine,
            logs,
            views,
            runner: None,
            paths,
            settings: Mutex::new(settings),
            job_search: Mutex::new(None),
            quitting: AtomicBool::new(false),
        }
    }

    pub fn with_runner(mut self, runner: Runner) -> Self {
        self.runner = Some(runner);
        self
    }

    /// Puts the settings the engine and runner read into effect.
    pub fn apply_settings(&self, settings: &Settings) {
        self.engine.set_max_parallel(settings.max_parallel as usize);
        self.engine
            .set_catch_up_stagger(std::time::Duration::from_secs(u64::from(
                settings.catch_up_stagger_secs,
            )));
        if let Some(runner) = &self.runner {
            runner.set_max_log_bytes(settings.max_log_bytes());
            runner.set_extra_ca_bundle(settings.extra_ca_bundle());
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
