//! The login manager's `PrepareForSleep` signal read from a real bus: a private dbus-daemon,
//! and the signal sent by `dbus-send` exactly as systemd-logind sends it on the system bus.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sundial_engine::sleep_signal::{SleepSignal, watch_prepare_for_sleep};

struct Bus {
    child: Child,
    address: String,
}

impl Bus {
    fn start() -> Bus {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (bash scripts/setup-system.sh installs it)");
        let mut address = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        Bus {
            child,
            address: address.trim().to_string(),
        }
    }

    fn prepare_for_sleep(&self, sleeping: bool) {
        let status = Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args([
                "--type=signal",
                "/org/freedesktop/login1",
                "org.freedesktop.login1.Manager.PrepareForSleep",
            ])
            .arg(format!("boolean:{sleeping}"))
            .status()
            .expect("dbus-send");
        assert!(status.success());
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn next(receiver: &mut tokio::sync::broadcast::Receiver<SleepSignal>) -> SleepSignal {
    tokio::time::timeout(Duration::from_secs(20), receiver.recv())
        .await
        .expect("a signal within 20 s")
        .unwrap()
}

#[tokio::test]
async fn prepare_for_sleep_on_the_bus_is_read_as_sleeping_then_resumed() {
    let bus = Bus::start();
    let sender = watch_prepare_for_sleep(Some(&bus.address)).unwrap();
    let mut receiver = sender.subscribe();
    bus.prepare_for_sleep(true);
    assert_eq!(next(&mut receiver).await, SleepSignal::Sleeping);
    bus.prepare_for_sleep(false);
    assert_eq!(next(&mut receiver).await, SleepSignal::Resumed);
}

#[test]
fn a_bus_that_cannot_be_reached_is_an_error_and_leaves_nothing_watching() {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", dir.path().join("no-bus").display());
    let error = watch_prepare_for_sleep(Some(&address)).unwrap_err();
    assert!(error.contains("cannot reach the bus"), "{error}");
}
