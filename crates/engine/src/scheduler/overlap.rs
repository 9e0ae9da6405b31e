//! What to do with a firing while the job's previous run is still going. Pure.

use crate::domain::OverlapPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlapDecision {
    Start,
    /// Record the firing as skipped, with this reason.
    Skip(&'static str),
    /// Keep it waiting until the running one ends.
    Wait,
    /// Cancel what is running, then start.
    ReplaceThenStart,
}

/// `active` counts the job's runs that are running or waiting for a free slot under the
/// global cap; `waiting` says whether a queue-one run is already waiting.
pub fn decide(policy: OverlapPolicy, active: usize, waiting: bool) -> OverlapDecision {
    if active == 0 && !waiting {
        return OverlapDecision::Start;
    }
    match policy {
        OverlapPolicy::Allow => OverlapDecision::Start,
        OverlapPolicy::Skip => OverlapDecision::Skip("the previous run was still going"),
        OverlapPolicy::QueueOne if waiting => OverlapDecision::Skip(
            "a run was already waiting for the previous one to finish (overlap policy: queue one)",
        ),
        OverlapPolicy::QueueOne => OverlapDecision::Wait,
        OverlapPolicy::Replace => OverlapDecision::ReplaceThenStart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_job_always_starts() {
        for policy in [
            OverlapPolicy::Allow,
            OverlapPolicy::Skip,
            OverlapPolicy::QueueOne,
            OverlapPolicy::Replace,
        ] {
            assert_eq!(decide(policy, 0, false), OverlapDecision::Start);
        }
    }

    #[test]
    fn a_busy_job_follows_its_policy() {
        assert_eq!(
            decide(OverlapPolicy::Allow, 1, false),
            OverlapDecision::Start
        );
        assert!(matches!(
            decide(OverlapPolicy::Skip, 1, false),
            OverlapDecision::Skip(_)
        ));
        assert_eq!(
            decide(OverlapPolicy::QueueOne, 1, false),
            OverlapDecision::Wait
        );
        assert!(matches!(
            decide(OverlapPolicy::QueueOne, 1, true),
            OverlapDecision::Skip(_)
        ));
        assert_eq!(
            decide(OverlapPolicy::Replace, 2, false),
            OverlapDecision::ReplaceThenStart
        );
    }
}
