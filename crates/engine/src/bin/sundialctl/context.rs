//! What every database subcommand needs: the data paths, the output mode, a runtime, and a
//! passive engine (it edits and runs jobs but never schedules: that is the lease holder's job).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use sundial_engine::domain::{Job, JobId};
use sundial_engine::{
    AppPaths, Engine, EngineConfig, EngineError, LogStore, Runner, RunnerConfig, SystemClock,
};

use crate::cli::Failure;
use sundial_engine::secrets::SecretStorage;

/// A PEM file of CA certificates HTTP runs trust besides the system's store (what the
/// desktop app's Settings field is for the window).
pub const CA_BUNDLE_ENV: &str = "SUNDIAL_CA_BUNDLE";

pub struct Context {
    pub paths: AppPaths,
    pub json: bool,
}

impl Context {
    pub fn new(data_dir: Option<PathBuf>, json: bool) -> Self {
        Self {
            paths: data_dir.map_or_else(AppPaths::for_user, AppPaths::new),
            json,
        }
    }

    pub fn block_on<T>(&self, work: impl Future<Output = T>) -> T {
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(work),
            Err(e) => panic!("cannot start the async runtime: {e}"),
        }
    }

    pub fn logs(&self) -> LogStore {
        LogStore::new(self.paths.run_logs())
    }

    /// A passive engine over the shared database, with the real runner for `jobs run`.
    pub async fn engine(&self) -> Result<Engine, Failure> {
        self.start_engine(EngineConfig::passive(self.paths.database()))
            .await
    }

    pub async fn start_engine(&self, mut config: EngineConfig) -> Result<Engine, Failure> {
        // One log store (clones share which runs are live) for the runner and the engine,
        // which removes a deleted job's log files and prunes them with their rows.
        if let Err(e) = self.paths.make_private() {
            return Err(failed(format!(
                "cannot prepare the data folder {}: {e}",
                self.paths.data_dir().display()
            )));
        }
        let logs = self.logs();
        config.logs = Some(logs.clone());
        config.secrets = SecretStorage::from_env().map_err(Failure::BadInput)?;
        let runner_config = RunnerConfig {
            extra_ca_bundle: std::env::var_os(CA_BUNDLE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            ..RunnerConfig::default()
        };
        let runner = Runner::new(runner_config, logs).map_err(|e| failed(e.to_string()))?;
        Engine::start(config, Arc::new(SystemClock), Arc::new(runner))
            .await
            .map_err(|e| {
                failed(format!(
                    "cannot open {}: {e}",
                    self.paths.database().display()
                ))
            })
    }

    /// Text for people, or the value as JSON.
    pub fn output<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) -> String {
        if self.json {
            let mut out = serde_json::to_string_pretty(value)
                .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
            out.push('\n');
            out
        } else {
            text()
        }
    }
}

/// An operation that failed (exit 1).
pub fn failed(message: impl Into<String>) -> Failure {
    Failure::Failed {
        out: String::new(),
        message: message.into(),
        code: 1,
    }
}

/// An engine error as the CLI reports it: field errors on stdout (exit 2), a missing thing as
/// bad input, anything else as a failure.
pub fn engine_failure(e: EngineError) -> Failure {
    match e {
        EngineError::Invalid(errors) => Failure::FieldErrors(errors.0),
        EngineError::NotFound { what } => Failure::BadInput(format!("{what} was not found")),
        other => failed(other.to_string()),
    }
}

/// A job named by its id or its name (names are case-insensitive).
pub async fn find_job(engine: &Engine, which: &str) -> Result<Job, Failure> {
    if let Ok(id) = which.parse::<JobId>()
        && let Ok(job) = engine.get_job(id).await
    {
        return Ok(job);
    }
    match engine.store().find_job_by_name(which).await {
        Ok(Some(stored)) => Ok(stored.job),
        Ok(None) => Err(Failure::BadInput(format!(
            "there is no job named or with id {which:?} (see sundialctl jobs list)"
        ))),
        Err(e) => Err(failed(e.to_string())),
    }
}
