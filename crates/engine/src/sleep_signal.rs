//! The operating system's own word that the machine is going to sleep and has woken: on Linux,
//! the login manager's `PrepareForSleep(true|false)` signal on the system bus (systemd-logind,
//! elogind).
//!
//! The scheduler already notices a sleep by itself, from the wall clock running ahead of
//! tokio's monotonic one (scheduler/mod.rs `observe_clock`), but only when it next looks: within
//! a minute with the realtime timer, and not at all for a sleep shorter than its one-second
//! tolerance. The signal is immediate. Both lead to the same wake, which the scheduler takes
//! once ([`crate::clock::Clock::sleep_signals`]).
//!
//! Where there is no system bus or no login manager (a container, a server without logind,
//! another OS), there is no signal and the drift alone tells.

use tokio::sync::broadcast;

/// One notification from the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SleepSignal {
    /// The system is about to suspend (`PrepareForSleep(true)`).
    Sleeping,
    /// The system has resumed (`PrepareForSleep(false)`).
    Resumed,
}

/// How many signals a slow scheduler may fall behind before it misses some.
const CAPACITY: usize = 16;

/// The login manager's signals on the system bus, watched by one thread for the whole process
/// (started on the first call). `None` where the system bus cannot be reached.
#[cfg(target_os = "linux")]
pub fn system_sleep_signals() -> Option<broadcast::Receiver<SleepSignal>> {
    use std::sync::OnceLock;
    static WATCHER: OnceLock<Option<broadcast::Sender<SleepSignal>>> = OnceLock::new();
    WATCHER
        .get_or_init(|| match watch_prepare_for_sleep(None) {
            Ok(sender) => Some(sender),
            Err(e) => {
                tracing::info!(error = %e, "no sleep notifications from the login manager; wakes are noticed from the clock alone");
                None
            }
        })
        .as_ref()
        .map(broadcast::Sender::subscribe)
}

#[cfg(not(target_os = "linux"))]
pub fn system_sleep_signals() -> Option<broadcast::Receiver<SleepSignal>> {
    None
}

/// Watches `PrepareForSleep` on the bus at `address` (`None`: the system bus) on a thread of its
/// own, and sends each signal on the returned channel. Fails, before any thread is left
/// running, when the bus cannot be reached or refuses the match.
#[cfg(target_os = "linux")]
pub fn watch_prepare_for_sleep(
    address: Option<&str>,
) -> Result<broadcast::Sender<SleepSignal>, String> {
    use dbus::blocking::Connection;
    use dbus::message::MatchRule;

    let (sender, _) = broadcast::channel(CAPACITY);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let address = address.map(str::to_string);
    let tx = sender.clone();
    std::thread::Builder::new()
        .name("sundial-sleep-signal".into())
        .spawn(move || {
            let connected = match &address {
                Some(a) => Connection::new_address(a),
                None => Connection::new_system(),
            };
            let conn = match connected {
                Ok(c) => c,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("cannot reach the bus: {e}")));
                    return;
                }
            };
            let rule = MatchRule::new_signal("org.freedesktop.login1.Manager", "PrepareForSleep");
            let matched = conn.add_match(rule, move |(sleeping,): (bool,), _, _| {
                let signal = if sleeping {
                    SleepSignal::Sleeping
                } else {
                    SleepSignal::Resumed
                };
                tracing::debug!(?signal, "the login manager says");
                // No receiver now (no scheduler yet, or between two) is not an error.
                let _ = tx.send(signal);
                true
            });
            if let Err(e) = matched {
                let _ = ready_tx.send(Err(format!("cannot watch PrepareForSleep: {e}")));
                return;
            }
            let _ = ready_tx.send(Ok(()));
            loop {
                if let Err(e) = conn.process(std::time::Duration::from_secs(3600)) {
                    tracing::warn!(error = %e, "lost the bus; wakes are noticed from the clock alone");
                    return;
                }
            }
        })
        .map_err(|e| format!("cannot start the watcher: {e}"))?;
    ready_rx
        .recv()
        .map_err(|_| "the watcher ended before it was ready".to_string())??;
    Ok(sender)
}
