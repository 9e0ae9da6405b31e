//! The seam between the scheduler and whatever performs a run.
//!
//! The scheduler records a run, then hands it to an [`Executor`]; the executor performs it
//! (process tree, HTTP call), enforces the job's timeout, honours cancellation, writes the run
//! log, and reports how it ended. The scheduler records that outcome.

use std::future::Future;
use std::pin::Pin;

use tokio_util::sync::CancellationToken;

use crate::domain::{Job, Run, RunStatus, RunValue};

/// What to run: the run row as recorded and the job at the revision the run uses.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub run: Run,
    pub job: Job,
    /// Variables its upstream run passes to a chained run (and to its retries):
    /// `SUNDIAL_UPSTREAM_*` and `SUNDIAL_OUTPUT_<KEY>` (domain/passing.rs). Empty otherwise.
    pub passed: Vec<RunValue>,
}

impl RunRequest {
    /// A run given nothing by an upstream run.
    pub fn new(run: Run, job: Job) -> Self {
        Self {
            run,
            job,
            passed: Vec::new(),
        }
    }
}

/// How a run ended. `status` is terminal: succeeded, failed, timed_out or cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub http_status: Option<u16>,
    /// A sentence a person understands, for anything but success.
    pub error: Option<String>,
    pub log_bytes: u64,
    pub log_lines: u64,
    /// CPU time (user + system) of the run's whole process tree, in milliseconds.
    pub cpu_ms: Option<u64>,
    /// Peak memory of the run's tree, in bytes (see decisions/0010 for what is measured).
    pub peak_memory_bytes: Option<u64>,
    /// The `key=value` lines the run wrote to its `SUNDIAL_OUTPUT` file (keys in upper case),
    /// handed to the runs chained after it.
    pub outputs: Vec<RunValue>,
}

impl RunOutcome {
    pub fn succeeded() -> Self {
        Self {
            status: RunStatus::Succeeded,
            exit_code: Some(0),
            http_status: None,
            error: None,
            log_bytes: 0,
            log_lines: 0,
            cpu_ms: None,
            peak_memory_bytes: None,
            outputs: Vec::new(),
        }
    }

    pub fn failed(error: impl Into<String>) -> Self {
        Self {
            status: RunStatus::Failed,
            exit_code: None,
            error: Some(error.into()),
            ..Self::succeeded()
        }
    }

    pub fn with_status(status: RunStatus, error: Option<String>) -> Self {
        Self {
            status,
            exit_code: None,
            error,
            ..Self::succeeded()
        }
    }
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

pub trait Executor: Send + Sync + 'static {
    /// Performs the run. When `cancel` fires, stop the run (the whole process tree) and
    /// return `cancelled`. Never panics for a run's own failure: report it in the outcome.
    fn execute(&self, request: RunRequest, cancel: CancellationToken) -> BoxFuture<RunOutcome>;
}
