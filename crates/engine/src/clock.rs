//! The wall clock, injected. Business logic never calls `Utc::now()` itself.
//!
//! Sleeping uses tokio's timer (monotonic, and it stops while the machine sleeps); the wall
//! clock says what time it is. The scheduler compares the two on every wake.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A wall clock that follows tokio's (pausable) clock from a chosen start, and can jump
/// without tokio time passing: that is exactly what a suspend or a clock change looks like to
/// the scheduler. Use with `tokio::time::pause()`.
#[derive(Debug, Clone)]
pub struct FakeClock {
    state: Arc<Mutex<FakeState>>,
}

#[derive(Debug)]
struct FakeState {
    start_wall: DateTime<Utc>,
    start_instant: tokio::time::Instant,
    jumped: Duration,
}

impl FakeClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            state: Arc::new(Mutex::new(FakeState {
                start_wall: start,
                start_instant: tokio::time::Instant::now(),
                jumped: Duration::zero(),
            })),
        }
    }

    /// Moves the wall clock by `by` (negative: back) while tokio's clock stands still.
    pub fn jump(&self, by: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.jumped += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = tokio::time::Instant::now() - state.start_instant;
        state.start_wall + Duration::from_std(elapsed).unwrap_or(Duration::MAX) + state.jumped
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}
