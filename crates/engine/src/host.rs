//! Who a process is on this machine: its pid, the host, and when it started (so that a pid the
//! OS has since given to another process is not taken for the one that wrote a row).
//! The scheduler lease and the runs table record it; a scheduler uses it to tell whether the
//! process behind a lease or a run is still there.

/// A process, as recorded with the lease and with each run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: u32,
    pub host: String,
    /// When the process started, in the OS's own unit (clock ticks since boot on Linux); None
    /// where the OS does not tell.
    pub start: Option<i64>,
}

impl ProcessIdentity {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            host: host_name(),
            start: process_start(pid),
        }
    }

    /// Whether the process is still there. Another host's process cannot be looked at: it
    /// counts as alive (the caller decides what that means for it).
    pub fn is_alive(&self) -> bool {
        if self.host != host_name() {
            return true;
        }
        if !process_alive(self.pid) || is_zombie(self.pid) {
            return false;
        }
        match (self.start, process_start(self.pid)) {
            // The pid exists but belongs to a process that started at another time: reused.
            (Some(recorded), Some(now)) => recorded == now,
            _ => true,
        }
    }

    /// True for a process on this machine (whose liveness [`Self::is_alive`] can check).
    pub fn is_local(&self) -> bool {
        self.host == host_name()
    }
}

/// This machine's host name ("unknown" if it cannot be read).
pub fn host_name() -> String {
    #[cfg(unix)]
    {
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".into())
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".into())
    }
}

/// Whether a process with this pid exists on this machine (a pid reused by another process
/// counts as alive: callers that can, compare the start time too).
pub fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else {
            return true;
        };
        if pid <= 0 {
            return true;
        }
        !matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// A process that has exited but was not reaped yet (its parent has not waited for it): it
/// still has a pid, but nothing of it runs.
fn is_zombie(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let rest = &stat[stat.rfind(')')? + 1..];
                rest.split_whitespace().next().map(|state| state == "Z")
            })
            .unwrap_or(false)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        false
    }
}

/// When a process started: field 22 of `/proc/PID/stat` on Linux (clock ticks since boot).
pub fn process_start(pid: u32) -> Option<i64> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name (field 2) is in parentheses and may hold spaces: count from the
        // last ')'. After it come field 3 (state) onwards; start time is field 22.
        let rest = &stat[stat.rfind(')')? + 1..];
        rest.split_whitespace().nth(19)?.parse().ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not_taken_for_it() {
        let me = ProcessIdentity::current();
        assert!(me.is_local());
        assert!(me.is_alive());
        if me.start.is_some() {
            let reused = ProcessIdentity {
                start: me.start.map(|s| s + 1),
                ..me.clone()
            };
            assert!(!reused.is_alive(), "another start time is another process");
        }
    }

    #[test]
    fn a_process_that_ended_is_gone() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        let gone = ProcessIdentity {
            pid,
            host: host_name(),
            start: None,
        };
        assert!(!gone.is_alive());
    }
}
