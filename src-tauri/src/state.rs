//! What the shell manages: the engine handle, the run-log reader, paths and settings.

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use sundial_engine::{AppPaths, Engine, LogStore};

use crate::settings::Settings;

pub struct AppState {
    pub engine: Engine,
    pub logs: LogStore,
    pub paths: AppPaths,
    pub settings: Mutex<Settings>,
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
        Self {
            engine,
            logs,
            paths,
            settings: Mutex::new(settings),
            quitting: AtomicBool::new(false),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
