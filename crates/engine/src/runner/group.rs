//! Stopping a run's process group: SIGTERM, a grace period, then SIGKILL. On Linux a run's
//! processes are ended by `containment.rs` instead (decisions/0010); this serves the others.
#![cfg_attr(target_os = "linux", allow(dead_code))]

use std::time::Duration;

use tokio::process::Child;

/// How long to wait between checks that a stopped group is empty.
const POLL: Duration = Duration::from_millis(20);
/// How long to wait for killed processes to disappear.
#[cfg(unix)]
const AFTER_KILL: Duration = Duration::from_secs(2);

/// What stopping the group took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// Every process left after SIGTERM.
    ByTerm,
    /// Something was still there after the grace period and got SIGKILL.
    ByKill,
}

/// Sends SIGTERM to the group led by `child`, waits up to `grace` for the leader to exit and
/// the group to be empty, then sends SIGKILL to the group. The leader is reaped on return.
#[cfg(unix)]
pub(crate) async fn stop_group(child: &mut Child, pgid: u32, grace: Duration) -> Stopped {
    use nix::sys::signal::Signal;

    signal_group(pgid, Signal::SIGTERM);
    let deadline = tokio::time::Instant::now() + grace;
    let mut leader_done = false;
    loop {
        if !leader_done {
            leader_done = matches!(child.try_wait(), Ok(Some(_)) | Err(_));
        }
        if leader_done && !group_alive(pgid) {
            return Stopped::ByTerm;
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        let next = (tokio::time::Instant::now() + POLL).min(deadline);
        if leader_done {
            tokio::time::sleep_until(next).await;
        } else {
            tokio::select! {
                _ = child.wait() => {}
                _ = tokio::time::sleep_until(next) => {}
            }
        }
    }
    signal_group(pgid, Signal::SIGKILL);
    let _ = child.wait().await;
    // SIGKILL cannot be caught, but dying takes a moment: return once the group is gone, so
    // that a run never outlives its outcome (bounded, in case a process is stuck in the kernel).
    let deadline = tokio::time::Instant::now() + AFTER_KILL;
    while group_alive(pgid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(POLL).await;
    }
    Stopped::ByKill
}

#[cfg(not(unix))]
pub(crate) async fn stop_group(child: &mut Child, _pgid: u32, grace: Duration) -> Stopped {
    // Without process groups, stop the direct child only (Job Objects are for the Windows port).
    if tokio::time::timeout(grace, child.wait()).await.is_ok() {
        return Stopped::ByTerm;
    }
    let _ = child.kill().await;
    Stopped::ByKill
}

/// True when the group still has a live member (its zombies do not count).
#[cfg(unix)]
pub(crate) fn group_alive(pgid: u32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::killpg;
    use nix::unistd::Pid;

    // Group 0 would mean our own group: never signal or probe it.
    let Some(raw) = as_group(pgid) else {
        return false;
    };
    match killpg(Pid::from_raw(raw), None) {
        Err(Errno::ESRCH) => false,
        _ => has_live_member(raw),
    }
}

#[cfg(not(unix))]
pub(crate) fn group_alive(_pgid: u32) -> bool {
    false
}

/// On Linux, a group whose members are all zombies is as good as gone: orphaned zombies wait
/// for a parent (an init that may never reap them), not for us.
#[cfg(target_os = "linux")]
fn has_live_member(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the command name in parentheses: state, ppid, pgrp.
        let Some(after) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
            continue;
        };
        let mut fields = after.split_whitespace();
        let state = fields.next();
        let group = fields.nth(1).and_then(|g| g.parse::<i32>().ok());
        if group == Some(pgid) && state != Some("Z") && state != Some("X") {
            return true;
        }
    }
    false
}

#[cfg(all(unix, not(target_os = "linux")))]
fn has_live_member(_pgid: i32) -> bool {
    true
}

#[cfg(unix)]
pub(crate) fn signal_group(pgid: u32, signal: nix::sys::signal::Signal) {
    use nix::sys::signal::killpg;
    use nix::unistd::Pid;
    // Group 0 would mean our own group: never signal it.
    if let Some(raw) = as_group(pgid) {
        // ESRCH (already gone) is the outcome we want; nothing else can be done about others.
        let _ = killpg(Pid::from_raw(raw), signal);
    }
}

#[cfg(unix)]
fn as_group(pgid: u32) -> Option<i32> {
    i32::try_from(pgid).ok().filter(|&p| p > 0)
}

/// "exited with status 3", "killed by signal 9 (SIGKILL)".
pub(crate) fn describe_exit(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return match nix::sys::signal::Signal::try_from(signal) {
                Ok(s) => format!("killed by signal {signal} ({})", s.as_str()),
                Err(_) => format!("killed by signal {signal}"),
            };
        }
    }
    format!("ended: {status}")
}
