//! What the engine tells its listeners, and the settings keys the scheduler reads: shared by
//! the engine handle, the scheduler loop and the change feed, so none of them imports another
//! for these.

use serde::{Deserialize, Serialize};

use crate::domain::{JobId, RunId, RunStatus};

/// The settings key holding the global pause state ("true"/"false").
pub const PAUSED_SETTING: &str = "paused";
/// Which build computed the stored next firing times.
pub(crate) const NEXT_DUE_BASIS_SETTING: &str = "next_due_basis";

/// "Something changed": the UI refetches what it shows.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    JobChanged {
        job_id: JobId,
    },
    JobDeleted {
        job_id: JobId,
    },
    RunChanged {
        run_id: RunId,
        job_id: JobId,
        status: RunStatus,
    },
    PauseChanged {
        paused: bool,
    },
    /// Who schedules changed: this process took or lost the scheduler lease, or the holder
    /// changed ([`crate::Engine::scheduler_role`] says who it is now).
    SchedulerChanged,
    /// Writing to the data folder failed (`problem` says why, e.g. the disk is full) or works
    /// again (`problem` is None).
    StorageChanged {
        problem: Option<String>,
    },
    /// The system's time zone changed: `jobs` (cron jobs without a zone of their own) have
    /// new next firings.
    ZoneChanged {
        from: String,
        to: String,
        jobs: Vec<JobId>,
    },
}
