//! What Quit does while runs are going: a pure decision, so it is tested without a window.
//! Either way every run ends with a recorded status: `Engine::shutdown` waits for runs to
//! finish, or cancels them (recorded as cancelled) when asked to.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The user's setting for quitting with runs going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum QuitBehaviour {
    /// Stop scheduling, let running jobs finish, then exit.
    Wait,
    /// Cancel running jobs (their process trees are stopped), then exit.
    Cancel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitPlan {
    /// Nothing is running: exit at once.
    ExitNow,
    /// Wait for these runs to finish, then exit.
    WaitForRuns { running: usize },
    /// Cancel these runs, then exit.
    CancelRuns { running: usize },
}

impl QuitPlan {
    /// The argument for `Engine::shutdown`.
    pub fn cancel_running(self) -> bool {
        matches!(self, QuitPlan::CancelRuns { .. })
    }
}

/// The plan for a quit asked with `running` runs going.
pub fn plan_quit(running: usize, behaviour: QuitBehaviour) -> QuitPlan {
    match (running, behaviour) {
        (0, _) => QuitPlan::ExitNow,
        (running, QuitBehaviour::Wait) => QuitPlan::WaitForRuns { running },
        (running, QuitBehaviour::Cancel) => QuitPlan::CancelRuns { running },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_running_exits_now_whatever_the_setting() {
        for behaviour in [QuitBehaviour::Wait, QuitBehaviour::Cancel] {
            assert_eq!(plan_quit(0, behaviour), QuitPlan::ExitNow);
        }
        assert!(!QuitPlan::ExitNow.cancel_running());
    }

    #[test]
    fn wait_setting_waits_for_running_jobs() {
        let plan = plan_quit(3, QuitBehaviour::Wait);
        assert_eq!(plan, QuitPlan::WaitForRuns { running: 3 });
        assert!(!plan.cancel_running());
    }

    #[test]
    fn cancel_setting_cancels_running_jobs() {
        let plan = plan_quit(2, QuitBehaviour::Cancel);
        assert_eq!(plan, QuitPlan::CancelRuns { running: 2 });
        assert!(plan.cancel_running());
    }
}
