//! The machine's state that a job's conditions ask about (decisions/0019): on AC power or
//! on battery, the network up or down. Injected like the clock: the engine reads it through
//! [`ConditionSource`]; tests give it a [`FakeConditions`]; Linux reads sysfs and
//! NetworkManager ([`LinuxConditions`], its sysfs roots injectable for tests).
//!
//! A state the system cannot tell is [`PowerState::Unknown`] / [`NetworkState::Unknown`], and
//! counts as met: a job is never held back on a machine that cannot say (a desktop without a
//! `power_supply` class, a container without NetworkManager or interfaces).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where the computer's power comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    OnAc,
    OnBattery,
    Unknown,
}

/// Whether the computer has a network connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkState {
    Up,
    Down,
    Unknown,
}

/// Answers what a job's conditions ask. Both methods are called by run tasks every few
/// seconds while a run waits, and must answer at once (no blocking I/O beyond a sysfs read).
pub trait ConditionSource: Send + Sync + fmt::Debug + 'static {
    fn power(&self) -> PowerState;
    fn network(&self) -> NetworkState;
}

/// This system's source: [`LinuxConditions`] on Linux; elsewhere one that cannot tell
/// (every condition counts as met).
pub fn system() -> Arc<dyn ConditionSource> {
    #[cfg(target_os = "linux")]
    {
        Arc::new(LinuxConditions::new())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Arc::new(UnknownConditions)
    }
}

/// Knows nothing: every condition counts as met.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnknownConditions;

impl ConditionSource for UnknownConditions {
    fn power(&self) -> PowerState {
        PowerState::Unknown
    }
    fn network(&self) -> NetworkState {
        NetworkState::Unknown
    }
}

/// For tests: a state set by hand (on AC power, network up, until told otherwise).
#[derive(Debug)]
pub struct FakeConditions {
    state: Mutex<(PowerState, NetworkState)>,
}

impl Default for FakeConditions {
    fn default() -> Self {
        Self {
            state: Mutex::new((PowerState::OnAc, NetworkState::Up)),
        }
    }
}

impl FakeConditions {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    pub fn set_power(&self, power: PowerState) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 = power;
    }
    pub fn set_network(&self, network: NetworkState) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = network;
    }
}

impl ConditionSource for FakeConditions {
    fn power(&self) -> PowerState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }
    fn network(&self) -> NetworkState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}

/// Linux: power from `/sys/class/power_supply`, the network from NetworkManager where it
/// runs (asked over D-Bus on a thread of its own, so a call never waits for D-Bus), else
/// from the link state in `/sys/class/net`.
#[derive(Debug)]
pub struct LinuxConditions {
    power_supply: PathBuf,
    net: PathBuf,
    network_manager: Option<Arc<NetworkManagerWatch>>,
}

impl Default for LinuxConditions {
    fn default() -> Self {
        Self::new()
    }
}

impl LinuxConditions {
    /// The system's sysfs and NetworkManager.
    pub fn new() -> Self {
        Self {
            power_supply: PathBuf::from("/sys/class/power_supply"),
            net: PathBuf::from("/sys/class/net"),
            network_manager: Some(Arc::new(NetworkManagerWatch::default())),
        }
    }

    /// Reads these folders instead of `/sys/class/power_supply` and `/sys/class/net`, and
    /// never asks NetworkManager (tests: a fake sysfs folder).
    pub fn with_roots(power_supply: impl Into<PathBuf>, net: impl Into<PathBuf>) -> Self {
        Self {
            power_supply: power_supply.into(),
            net: net.into(),
            network_manager: None,
        }
    }
}

impl ConditionSource for LinuxConditions {
    fn power(&self) -> PowerState {
        power_from_sysfs(&self.power_supply)
    }

    fn network(&self) -> NetworkState {
        if let Some(nm) = &self.network_manager
            && let Some(state) = nm.state()
        {
            return state;
        }
        network_from_sysfs(&self.net)
    }
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The power state a `power_supply` class folder describes. External power (`Mains`, or a
/// `USB` supply such as a USB-C charger) with `online` = 1 means AC. Otherwise a system
/// battery (`Battery`, not a mouse's: `scope` = `Device`) that is discharging, or any system
/// battery while every external supply is offline, means battery. No system battery: AC
/// when the folder lists supplies, unknown when it lists none (or cannot be read).
pub fn power_from_sysfs(root: &Path) -> PowerState {
    let Ok(entries) = std::fs::read_dir(root) else {
        return PowerState::Unknown;
    };
    let (mut any, mut mains_seen, mut mains_online) = (false, false, false);
    let (mut battery_seen, mut discharging, mut charging) = (false, false, false);
    for entry in entries.flatten() {
        let dir = entry.path();
        let Some(kind) = read_trimmed(&dir.join("type")) else {
            continue;
        };
        any = true;
        match kind.as_str() {
            "Mains" | "USB" => {
                mains_seen = true;
                if read_trimmed(&dir.join("online")).as_deref() == Some("1") {
                    mains_online = true;
                }
            }
            "Battery" => {
                if read_trimmed(&dir.join("scope")).as_deref() == Some("Device") {
                    continue;
                }
                battery_seen = true;
                match read_trimmed(&dir.join("status")).as_deref() {
                    Some("Discharging") => discharging = true,
                    Some("Charging" | "Full") => charging = true,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if mains_online {
        PowerState::OnAc
    } else if discharging || (battery_seen && mains_seen) {
        PowerState::OnBattery
    } else if charging || (any && !battery_seen) {
        PowerState::OnAc
    } else {
        PowerState::Unknown
    }
}

/// The network state a `net` class folder describes: up when an interface other than
/// loopback has `operstate` = `up` (or `unknown` with `carrier` = 1, as tunnels and PPP links
/// report). Physical interfaces (with a `device` link) are asked first; only where there is
/// none (a container, a VM with virtual links) do virtual ones count, so a bridge or a
/// container's veth that is up does not make an unplugged laptop "online". No interface at
/// all (or no folder): unknown.
pub fn network_from_sysfs(root: &Path) -> NetworkState {
    let Ok(entries) = std::fs::read_dir(root) else {
        return NetworkState::Unknown;
    };
    let (mut physical, mut virtual_) = (None::<bool>, None::<bool>);
    for entry in entries.flatten() {
        if entry.file_name() == "lo" {
            continue;
        }
        let dir = entry.path();
        let up = match read_trimmed(&dir.join("operstate")).as_deref() {
            Some("up") => true,
            Some("unknown") => read_trimmed(&dir.join("carrier")).as_deref() == Some("1"),
            _ => false,
        };
        let slot = if dir.join("device").exists() {
            &mut physical
        } else {
            &mut virtual_
        };
        *slot = Some(slot.unwrap_or(false) || up);
    }
    match physical.or(virtual_) {
        Some(true) => NetworkState::Up,
        Some(false) => NetworkState::Down,
        None => NetworkState::Unknown,
    }
}

/// NetworkManager's `State` (`org.freedesktop.NetworkManager`): 60 (connected to a site, such
/// as an intranet without internet) and 70 (connected globally) are up; 10–50 (asleep,
/// disconnected, connecting, link-local only) are down; 0 is unknown.
pub fn network_from_nm_state(state: u32) -> NetworkState {
    match state {
        60 | 70 => NetworkState::Up,
        10..=59 => NetworkState::Down,
        _ => NetworkState::Unknown,
    }
}

/// NetworkManager's state, kept fresh by a thread of its own that asks over D-Bus every
/// [`NM_POLL`] (with a short timeout) while anyone still holds the watch. Started at the first
/// question, so a process whose jobs have no network condition never talks to D-Bus.
/// `None` (not yet known, or no NetworkManager on the bus): the caller reads sysfs.
#[derive(Debug, Default)]
struct NetworkManagerWatch {
    state: Mutex<Option<NetworkState>>,
    started: std::sync::OnceLock<()>,
}

#[cfg(target_os = "linux")]
const NM_POLL: std::time::Duration = std::time::Duration::from_secs(2);

impl NetworkManagerWatch {
    fn state(self: &Arc<Self>) -> Option<NetworkState> {
        #[cfg(target_os = "linux")]
        self.started.get_or_init(|| {
            let weak = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name("sundial-network-manager".into())
                .spawn(move || network_manager::watch(weak));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot ask NetworkManager; the network state comes from the links in /sys/class/net");
            }
        });
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(target_os = "linux")]
mod network_manager {
    use std::sync::Weak;
    use std::time::Duration;

    use dbus::blocking::Connection;
    use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;

    use super::{NM_POLL, NetworkManagerWatch, network_from_nm_state};

    const TIMEOUT: Duration = Duration::from_millis(500);
    const NAME: &str = "org.freedesktop.NetworkManager";

    /// Asks NetworkManager until the watch is dropped. No system bus, or NetworkManager not
    /// on it: `None` (sysfs decides), asked again later (it may start after Sundial).
    pub(super) fn watch(watch: Weak<NetworkManagerWatch>) {
        let mut conn: Option<Connection> = None;
        let mut told_absent = false;
        loop {
            let Some(shared) = watch.upgrade() else {
                return;
            };
            if conn.is_none() {
                conn = Connection::new_system().ok();
            }
            let state = conn.as_ref().and_then(|c| {
                let proxy = c.with_proxy(NAME, "/org/freedesktop/NetworkManager", TIMEOUT);
                match proxy.get::<u32>(NAME, "State") {
                    Ok(state) => Some(network_from_nm_state(state)),
                    Err(e) => {
                        if !told_absent {
                            tracing::info!(error = %e, "NetworkManager does not answer; the network state comes from the links in /sys/class/net");
                            told_absent = true;
                        }
                        None
                    }
                }
            });
            if state.is_some() {
                told_absent = false;
            } else {
                // A broken connection is made again at the next turn.
                conn = None;
            }
            *shared.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
            drop(shared);
            std::thread::sleep(NM_POLL);
        }
    }
}
