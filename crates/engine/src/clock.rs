//! The wall clock, injected. Business logic never calls `Utc::now()` itself.
//!
//! Sleeping uses tokio's timer (monotonic, and it stops while the machine sleeps); the wall
//! clock says what time it is. The scheduler compares the two on every wake.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

pub use crate::sleep_signal::SleepSignal;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// How long the machine has been suspended since it booted, when the system can say
    /// (Linux: `CLOCK_BOOTTIME` minus `CLOCK_MONOTONIC`). The scheduler compares it across a
    /// wall-clock jump to tell a sleep from a clock change.
    fn time_asleep(&self) -> Option<std::time::Duration> {
        None
    }

    /// The system's time zone now: the zone of every cron job without one of its own.
    fn zone(&self) -> Tz {
        crate::schedule::system_zone()
    }

    /// How the scheduler waits for its next wall-clock deadline. The default naps on tokio's
    /// timer, never longer than [`MAX_NAP`], because tokio's clock stops while the machine
    /// sleeps.
    fn timer(&self) -> Box<dyn WallTimer> {
        Box::new(NapTimer)
    }

    /// The system's own notifications of a sleep and a wake, where it gives them (Linux: the
    /// login manager's `PrepareForSleep`); `None` where it does not. The scheduler takes a wake
    /// from them at once, and from the clock's drift when they are missing or late.
    fn sleep_signals(&self) -> Option<tokio::sync::broadcast::Receiver<SleepSignal>> {
        None
    }
}

/// The longest the scheduler naps on tokio's timer before it looks at the wall clock again.
pub const MAX_NAP: std::time::Duration = std::time::Duration::from_secs(4);

type TimerFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// Waits until the wall clock reaches a deadline (`None`: no deadline). It may return early,
/// for instance when the clock is changed: the caller always looks at the clock again.
pub trait WallTimer: Send {
    fn sleep(&mut self, now: DateTime<Utc>, deadline: Option<DateTime<Utc>>) -> TimerFuture<'_>;
}

/// Naps on tokio's monotonic timer, at most [`MAX_NAP`] at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct NapTimer;

impl WallTimer for NapTimer {
    fn sleep(&mut self, now: DateTime<Utc>, deadline: Option<DateTime<Utc>>) -> TimerFuture<'_> {
        let nap = match deadline {
            Some(t) if t <= now => std::time::Duration::ZERO,
            Some(t) => (t - now).to_std().unwrap_or(MAX_NAP).min(MAX_NAP),
            None => MAX_NAP,
        };
        Box::pin(tokio::time::sleep(nap))
    }
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn time_asleep(&self) -> Option<std::time::Duration> {
        #[cfg(target_os = "linux")]
        {
            use nix::time::{ClockId, clock_gettime};
            // Read monotonic on both sides of boottime so the pair is consistent to within
            // the reads themselves.
            let mono = clock_gettime(ClockId::CLOCK_MONOTONIC).ok()?;
            let boot = clock_gettime(ClockId::CLOCK_BOOTTIME).ok()?;
            let to = |t: nix::sys::time::TimeSpec| {
                std::time::Duration::new(t.tv_sec().max(0) as u64, t.tv_nsec().max(0) as u32)
            };
            Some(to(boot).saturating_sub(to(mono)))
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    fn timer(&self) -> Box<dyn WallTimer> {
        #[cfg(target_os = "linux")]
        match realtime::RealtimeTimer::new() {
            Ok(timer) => return Box::new(timer),
            Err(e) => tracing::warn!(error = %e, "no realtime timer; napping on tokio's timer"),
        }
        Box::new(NapTimer)
    }

    fn sleep_signals(&self) -> Option<tokio::sync::broadcast::Receiver<SleepSignal>> {
        crate::sleep_signal::system_sleep_signals()
    }
}

/// On Linux the scheduler sleeps on an absolute `CLOCK_REALTIME` timer: it fires when the wall
/// clock reaches the deadline, also right after a suspend (the realtime clock moves on while
/// the machine sleeps), and `TFD_TIMER_CANCEL_ON_SET` wakes it when the clock is set. So it
/// needs no short naps: an idle scheduler wakes about once a minute.
#[cfg(target_os = "linux")]
mod realtime {
    use chrono::{DateTime, Utc};
    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    use tokio::io::unix::AsyncFd;

    use super::{TimerFuture, WallTimer};

    /// Even with a realtime timer, look at the clock this often.
    const SAFETY_NAP: chrono::Duration = chrono::Duration::seconds(60);

    pub struct RealtimeTimer {
        fd: AsyncFd<Fd>,
    }

    /// `AsyncFd` wants `AsRawFd`; nix's `TimerFd` offers `AsFd`.
    struct Fd(TimerFd);

    impl std::os::fd::AsRawFd for Fd {
        fn as_raw_fd(&self) -> std::os::fd::RawFd {
            use std::os::fd::AsFd;
            self.0.as_fd().as_raw_fd()
        }
    }

    impl RealtimeTimer {
        pub fn new() -> std::io::Result<Self> {
            let timer = TimerFd::new(
                ClockId::CLOCK_REALTIME,
                TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
            )?;
            // `AsyncFd::new` is deprecated because a caller could close the fd while it is
            // registered; here the `AsyncFd` owns the `TimerFd`, so it closes only on drop.
            #[allow(deprecated)]
            let fd = AsyncFd::new(Fd(timer))?;
            Ok(Self { fd })
        }
    }

    impl WallTimer for RealtimeTimer {
        fn sleep(
            &mut self,
            now: DateTime<Utc>,
            deadline: Option<DateTime<Utc>>,
        ) -> TimerFuture<'_> {
            let until = deadline.unwrap_or(now + SAFETY_NAP).min(now + SAFETY_NAP);
            Box::pin(async move {
                if until <= now {
                    return;
                }
                let nanos = until.timestamp_subsec_nanos();
                let at = TimeSpec::new(until.timestamp(), i64::from(nanos));
                let flags = TimerSetTimeFlags::TFD_TIMER_ABSTIME
                    | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET;
                if let Err(e) = self.fd.get_ref().0.set(Expiration::OneShot(at), flags) {
                    tracing::warn!(error = %e, "could not arm the realtime timer");
                    return tokio::time::sleep(super::MAX_NAP).await;
                }
                loop {
                    let Ok(mut ready) = self.fd.readable().await else {
                        return tokio::time::sleep(super::MAX_NAP).await;
                    };
                    // Expired (Ok), or the clock was set (ECANCELED): either way, wake up.
                    // EAGAIN: not yet; wait again.
                    let mut buf = [0u8; 8];
                    match nix::unistd::read(&ready.get_inner().0, &mut buf) {
                        Err(nix::errno::Errno::EAGAIN) => ready.clear_ready(),
                        _ => {
                            ready.clear_ready();
                            return;
                        }
                    }
                }
            })
        }
    }
}

/// A wall clock that follows tokio's (pausable) clock from a chosen start, and can jump
/// without tokio time passing: that is exactly what a suspend or a clock change looks like to
/// the scheduler. Use with `tokio::time::pause()`.
#[derive(Debug, Clone)]
pub struct FakeClock {
    state: Arc<Mutex<FakeState>>,
    signals: tokio::sync::broadcast::Sender<SleepSignal>,
}

#[derive(Debug)]
struct FakeState {
    start_wall: DateTime<Utc>,
    start_instant: tokio::time::Instant,
    jumped: Duration,
    asleep: std::time::Duration,
    zone: Tz,
}

impl FakeClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            state: Arc::new(Mutex::new(FakeState {
                start_wall: start,
                start_instant: tokio::time::Instant::now(),
                jumped: Duration::zero(),
                asleep: std::time::Duration::ZERO,
                zone: crate::schedule::system_zone(),
            })),
            signals: tokio::sync::broadcast::channel(16).0,
        }
    }

    /// The system's notification of a sleep or a wake (as the login manager sends it), to
    /// every scheduler on this clock. It moves no clock: pair it with [`FakeClock::suspend`].
    pub fn signal(&self, signal: SleepSignal) {
        let _ = self.signals.send(signal);
    }

    /// Moves the wall clock by `by` (negative: back) while tokio's clock stands still: a
    /// clock change (the machine did not sleep).
    pub fn jump(&self, by: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.jumped += by;
    }

    /// The machine sleeps for `by`: the wall clock moves on, tokio's clock stands still, and
    /// the time asleep grows by as much.
    pub fn suspend(&self, by: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.jumped += by;
        state.asleep += by.to_std().unwrap_or_default();
    }

    /// The system's time zone changes (the laptop travelled).
    pub fn set_zone(&self, zone: Tz) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).zone = zone;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = tokio::time::Instant::now() - state.start_instant;
        state.start_wall + Duration::from_std(elapsed).unwrap_or(Duration::MAX) + state.jumped
    }

    fn time_asleep(&self) -> Option<std::time::Duration> {
        Some(self.state.lock().unwrap_or_else(|e| e.into_inner()).asleep)
    }

    fn zone(&self) -> Tz {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).zone
    }

    fn sleep_signals(&self) -> Option<tokio::sync::broadcast::Receiver<SleepSignal>> {
        Some(self.signals.subscribe())
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }

    fn time_asleep(&self) -> Option<std::time::Duration> {
        (**self).time_asleep()
    }

    fn zone(&self) -> Tz {
        (**self).zone()
    }

    fn timer(&self) -> Box<dyn WallTimer> {
        (**self).timer()
    }

    fn sleep_signals(&self) -> Option<tokio::sync::broadcast::Receiver<SleepSignal>> {
        (**self).sleep_signals()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_system_timer_does_not_wake_before_its_wall_clock_deadline() {
        // Through `Arc<dyn Clock>`, as the scheduler holds it.
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut timer = clock.timer();
        for ms in [0, 30, 120] {
            let now = clock.now();
            let deadline = now + Duration::milliseconds(ms);
            timer.sleep(now, Some(deadline)).await;
            assert!(
                clock.now() >= deadline,
                "woke before the deadline (+{ms} ms)"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_nap_timer_never_sleeps_past_max_nap() {
        let clock = FakeClock::new(Utc::now());
        let start = tokio::time::Instant::now();
        NapTimer.sleep(clock.now(), None).await;
        assert_eq!(tokio::time::Instant::now() - start, MAX_NAP);
        let start = tokio::time::Instant::now();
        NapTimer
            .sleep(clock.now(), Some(clock.now() + Duration::hours(5)))
            .await;
        assert_eq!(tokio::time::Instant::now() - start, MAX_NAP);
    }
}
