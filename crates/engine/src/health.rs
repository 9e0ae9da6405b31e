//! Whether Sundial can write to its data folder, for the window and the tray.
//!
//! Each writer reports under a key of its own (a job's firings, a run's end, the run logs):
//! a failure sets the key's problem, a success clears it. The problem shown is a disk-full one
//! when any key has one (it is what the user can act on), else the oldest. A
//! [`EngineEvent::StorageChanged`] goes out whenever the problem shown changes, so one job
//! failing while another writes fine does not flap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::events::EngineEvent;

/// The problem shown when the disk is full, whatever was being written.
pub const DISK_FULL_PROBLEM: &str = "the disk holding Sundial's data is full: runs and their logs cannot be recorded until space is freed";

/// What is being written, for [`Health::failed`] and [`Health::succeeded`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum WriteKind {
    /// The run rows of a job's firings.
    Firings(crate::domain::JobId),
    /// How a run ended.
    RunEnd(crate::domain::RunId),
    /// Run log files.
    RunLogs,
}

#[derive(Debug, Clone)]
struct Failure {
    problem: String,
    disk_full: bool,
    since: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    failing: HashMap<WriteKind, Failure>,
    shown: Option<(String, DateTime<Utc>)>,
}

/// Shared by the engine and its scheduler (clones share one state).
#[derive(Clone)]
pub struct Health {
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<EngineEvent>,
}

impl Health {
    pub fn new(events: broadcast::Sender<EngineEvent>) -> Self {
        Self {
            state: Arc::default(),
            events,
        }
    }

    /// The current storage problem, if any.
    pub fn problem(&self) -> Option<String> {
        self.lock().shown.as_ref().map(|(p, _)| p.clone())
    }

    /// Since when the current problem has been shown.
    pub fn problem_since(&self) -> Option<DateTime<Utc>> {
        self.lock().shown.as_ref().map(|(_, since)| *since)
    }

    /// A write of `kind` failed; `problem` says why in words.
    pub(crate) fn failed(
        &self,
        kind: WriteKind,
        problem: String,
        disk_full: bool,
        now: DateTime<Utc>,
    ) {
        let mut state = self.lock();
        let since = state.failing.get(&kind).map_or(now, |f| f.since);
        state.failing.insert(
            kind,
            Failure {
                problem,
                disk_full,
                since,
            },
        );
        self.update(&mut state, now);
    }

    /// A write of `kind` worked (a no-op unless it had failed).
    pub(crate) fn succeeded(&self, kind: &WriteKind, now: DateTime<Utc>) {
        let mut state = self.lock();
        if state.failing.remove(kind).is_some() {
            self.update(&mut state, now);
        }
    }

    fn update(&self, state: &mut State, now: DateTime<Utc>) {
        let shown = if state.failing.values().any(|f| f.disk_full) {
            Some(DISK_FULL_PROBLEM.to_string())
        } else {
            state
                .failing
                .values()
                .min_by_key(|f| f.since)
                .map(|f| f.problem.clone())
        };
        if shown.as_deref() == state.shown.as_ref().map(|(p, _)| p.as_str()) {
            return;
        }
        match &shown {
            Some(problem) => tracing::warn!(%problem, "storage problem"),
            None => tracing::info!("writing to the data folder works again"),
        }
        state.shown = shown.clone().map(|p| (p, now));
        let _ = self
            .events
            .send(EngineEvent::StorageChanged { problem: shown });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
