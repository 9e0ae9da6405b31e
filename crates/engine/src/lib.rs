//! Sundial's engine: jobs, schedules, the store, the scheduler loop, the executor seam, the
//! runner and the run logs.
//! It has no GUI dependency, so it builds and tests without a display.

pub mod clock;
pub mod conditions;
pub mod domain;
pub mod engine;
pub mod error;
pub mod events;
pub mod executor;
pub mod files;
pub mod follow;
pub mod health;
pub mod host;
pub mod lease;
pub mod logs;
pub mod paths;
pub mod retention;
pub mod runner;
pub mod schedule;
pub mod scheduler;
pub mod secrets;
pub mod sleep_signal;
pub mod store;

pub use clock::{Clock, FakeClock, SystemClock};
pub use conditions::{ConditionSource, FakeConditions, NetworkState, PowerState};
pub use engine::{DEFAULT_CATCH_UP_STAGGER, Engine, EngineConfig, JobWrite, Scheduling};
pub use error::EngineError;
pub use events::EngineEvent;
pub use executor::{Executor, RunOutcome, RunRequest};
pub use logs::LogStore;
pub use paths::AppPaths;
pub use runner::{Runner, RunnerConfig};
