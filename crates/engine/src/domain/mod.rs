//! Pure types and rules: no I/O, no clock.

pub mod ids;
pub mod job;
pub mod missed;
pub mod overrides;
pub mod passing;
pub mod policy;
pub mod run;
pub mod secrets;
pub mod trigger;
pub mod validate;

pub use ids::{InvalidId, JobId, RunId};
pub use job::{
    CommandSpec, EnvVar, HttpSpec, Interpreter, Job, JobKind, JobSpec, Program, SECRET_MASK,
    StatusRange,
};
pub use missed::{MissedCause, MissedGap};
pub use overrides::{EnvOverride, RunOverrides};
pub use passing::{RunValue, RunValueKind, RunValues};
pub use policy::{
    ConditionTimeout, Conditions, MissedRunMode, MissedRunPolicy, NotifyPolicy, OverlapPolicy,
    Policies, RetryPolicy, WaitingFor,
};
pub use run::{Run, RunReason, RunStatus, RunWait};
pub use trigger::{ChainOn, IntervalUnit, Trigger, compile_glob};
pub use validate::{FieldError, ValidationErrors};
