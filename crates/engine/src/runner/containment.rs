//! Every process of a run, whatever it did: found, measured and ended (decisions/0010).
//!
//! A run's processes are the union of: its cgroup (when this process may create one), every
//! process whose environment carries the run's `SUNDIAL_RUN_ID`, the members of its process
//! group, every descendant of any of these, and every process seen as a member before (pid and
//! start time). The engine is a child subreaper, so a process that escapes with `setsid` or a
//! double fork is re-parented to us, not to init; we reap the ones we know are a run's.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::domain::Run;
use crate::logs::LogStore;

/// Between looks at the processes left while they are being ended.
const POLL: Duration = Duration::from_millis(25);
/// After SIGKILL, how long processes get to disappear before they count as survivors.
const AFTER_KILL: Duration = Duration::from_secs(2);
/// The grace between SIGTERM and SIGKILL for processes left by interrupted runs.
pub const SWEEP_GRACE: Duration = Duration::from_secs(5);
/// How many processes a log line names before it says "and N more".
const NAMED: usize = 12;

/// What this process can use to contain runs, found once.
#[derive(Debug)]
pub(crate) struct Mechanism {
    /// A cgroup v2 directory under which this process may create one cgroup per run.
    cgroup_base: Option<PathBuf>,
    /// The kernel has `cgroup.kill` (5.14+).
    cgroup_kill: bool,
    subreaper: bool,
}

impl Mechanism {
    fn describe(&self) -> String {
        let tag = "processes tagged by SUNDIAL_RUN_ID (found in /proc/*/environ), their process groups and descendants";
        let reaper = if self.subreaper {
            "Sundial is a child subreaper (escaped processes are re-parented to it)"
        } else {
            "Sundial could not become a child subreaper"
        };
        match &self.cgroup_base {
            Some(base) => format!(
                "a cgroup per run under {} ({}), plus {tag}; {reaper}",
                base.display(),
                if self.cgroup_kill {
                    "ended with cgroup.kill"
                } else {
                    "ended by signalling its members"
                }
            ),
            None => format!("no cgroup can be created here; {tag}; {reaper}"),
        }
    }
}

/// The mechanism in effect; probing it (once) makes this process a child subreaper and logs
/// what was chosen.
pub(crate) fn mechanism() -> &'static Mechanism {
    static CHOSEN: OnceLock<Mechanism> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        let subreaper = nix::sys::prctl::set_child_subreaper(true).is_ok();
        let cgroup_base = cgroup_base().filter(|base| probe_cgroup(base));
        let cgroup_kill = cgroup_base
            .as_ref()
            .is_some_and(|b| b.join("cgroup.kill").exists());
        let chosen = Mechanism {
            cgroup_base,
            cgroup_kill,
            subreaper,
        };
        tracing::info!(mechanism = %chosen.describe(), "run containment");
        chosen
    })
}

/// Our own cgroup v2 directory: the cgroup2 mount plus the path in `/proc/self/cgroup`.
fn cgroup_base() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    let mount = mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (_, at, kind) = (fields.next()?, fields.next()?, fields.next()?);
        (kind == "cgroup2").then(|| PathBuf::from(at))
    })?;
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    Some(mount.join(path.trim_start_matches('/')))
}

fn probe_cgroup(base: &Path) -> bool {
    let probe = base.join(format!("sundial-probe-{}", std::process::id()));
    match std::fs::create_dir(&probe) {
        Ok(()) => std::fs::remove_dir(&probe).is_ok(),
        Err(_) => false,
    }
}

fn cgroup_name(run_id: &str) -> String {
    format!("sundial-run-{run_id}")
}

/// A run's own cgroup v2 directory, removed when dropped (once empty).
#[derive(Debug)]
pub(crate) struct RunCgroup {
    dir: PathBuf,
    kill: bool,
}

impl RunCgroup {
    /// Creates the cgroup of a run about to start, if cgroups can be used here.
    pub(crate) fn create(run_id: &str) -> Option<Self> {
        let m = mechanism();
        let dir = m.cgroup_base.as_ref()?.join(cgroup_name(run_id));
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot create a run's cgroup");
                return None;
            }
        }
        Some(Self {
            dir,
            kill: m.cgroup_kill,
        })
    }

    /// The cgroup an interrupted run left, if any.
    fn existing(run_id: &str) -> Option<Self> {
        let m = mechanism();
        let dir = m.cgroup_base.as_ref()?.join(cgroup_name(run_id));
        dir.is_dir().then_some(Self {
            dir,
            kill: m.cgroup_kill,
        })
    }

    /// The cgroup's directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The `cgroup.procs` path as a C string, for the child to write "0" (itself) into
    /// between fork and exec.
    pub(crate) fn procs_path(&self) -> Option<CString> {
        CString::new(
            self.dir
                .join("cgroup.procs")
                .into_os_string()
                .into_encoded_bytes(),
        )
        .ok()
    }

    fn pids(&self) -> Vec<i32> {
        std::fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// True when the just-started child joined the cgroup (its `/proc/<pid>/cgroup` names it;
    /// read while it is alive or a zombie we have not reaped).
    pub(crate) fn holds_child(&self, pid: u32) -> bool {
        let name = self.dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let joined = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .map(|text| {
                text.lines()
                    .any(|l| l.starts_with("0::") && l.trim_end().ends_with(name))
            })
            .unwrap_or(false);
        if !joined {
            tracing::warn!(dir = %self.dir.display(), "a run did not join its cgroup; it is contained by its tag");
        }
        joined
    }

    fn kill_all(&self) {
        if self.kill {
            let _ = std::fs::write(self.dir.join("cgroup.kill"), "1");
        }
    }

    /// CPU time of every process that was ever in the cgroup.
    fn cpu(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(self.dir.join("cpu.stat")).ok()?;
        let usec = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))?
            .trim()
            .parse()
            .ok()?;
        Some(Duration::from_micros(usec))
    }

    /// Peak memory of the whole cgroup (needs the memory controller; kernel 5.19+).
    fn peak_memory(&self) -> Option<u64> {
        std::fs::read_to_string(self.dir.join("memory.peak"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        // Fails while a process is left in it (reported as a survivor); a later sweep retries.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// CPU time and peak memory, as `getrusage` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub cpu: Duration,
    /// The largest resident set of a single process, in bytes.
    pub max_rss: u64,
}

impl Usage {
    #[allow(unsafe_code)]
    fn from_rusage(r: &libc::rusage) -> Self {
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        Self {
            cpu: time(r.ru_utime) + time(r.ru_stime),
            // Linux reports kilobytes.
            max_rss: (r.ru_maxrss.max(0) as u64) * 1024,
        }
    }

    fn add(&mut self, other: Usage) {
        self.cpu += other.cpu;
        self.max_rss = self.max_rss.max(other.max_rss);
    }
}

/// Blocks until `pid` (our child) has exited, without reaping it, and returns its resource
/// usage with that of the children it reaped. Tokio's `Child::wait` reaps it afterwards.
/// `None` when it cannot be waited for (already reaped).
#[allow(unsafe_code)]
pub(crate) fn wait_exit_usage(pid: u32) -> Option<Usage> {
    loop {
        // SAFETY: zeroed siginfo and rusage are valid out-parameters for waitid(2); the raw
        // syscall is used because only it returns the rusage (glibc's wrapper drops it).
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::syscall(
                libc::SYS_waitid,
                libc::P_PID,
                pid as libc::id_t,
                &mut info as *mut libc::siginfo_t,
                libc::WEXITED | libc::WNOWAIT,
                &mut usage as *mut libc::rusage,
            )
        };
        if rc == 0 {
            return Some(Usage::from_rusage(&usage));
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None;
        }
    }
}

/// Reaps a zombie child of ours that belonged to a run, returning its usage.
#[allow(unsafe_code)]
fn reap(pid: i32) -> Option<Usage> {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4(2).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
    (rc == pid).then(|| Usage::from_rusage(&usage))
}

/// What /proc says about one process.
#[derive(Debug, Clone)]
struct ProcInfo {
    pid: i32,
    comm: String,
    state: char,
    ppid: i32,
    pgrp: i32,
    start: u64,
}

impl ProcInfo {
    fn read(pid: i32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_string();
        let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
        // Fields after the name: state(3) ppid(4) pgrp(5) … starttime(22).
        Some(Self {
            pid,
            comm,
            state: fields.first()?.chars().next()?,
            ppid: fields.get(1)?.parse().ok()?,
            pgrp: fields.get(2)?.parse().ok()?,
            start: fields.get(19)?.parse().ok()?,
        })
    }

    fn live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

fn all_pids() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// True when the environment of `pid` holds exactly `entry` (`SUNDIAL_RUN_ID=…`).
fn environ_has(pid: i32, entry: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|&b| b == 0).any(|var| var == entry))
        .unwrap_or(false)
}

/// A process that was ended, or could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ended {
    pub pid: i32,
    pub name: String,
}

/// What ending a run's processes did.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndReport {
    /// Every process signalled, in the order found.
    pub ended: Vec<Ended>,
    /// How many of them were still there after the grace period and got SIGKILL.
    pub killed: usize,
    /// Processes still alive after SIGKILL (uninterruptible sleep, frozen), with their state.
    pub survivors: Vec<(Ended, char)>,
}

impl EndReport {
    pub(crate) fn is_empty(&self) -> bool {
        self.ended.is_empty() && self.survivors.is_empty()
    }

    /// "ended 3 processes (2 with SIGTERM, 1 with SIGKILL after a 1 s grace period): 12 sh, …"
    pub(crate) fn describe(&self, grace: Duration) -> String {
        let mut text = if self.ended.is_empty() {
            "no process was left to end".to_string()
        } else {
            let n = self.ended.len();
            let how = match self.killed {
                0 => "with SIGTERM".to_string(),
                k if k == n => format!(
                    "killed with SIGKILL after a {} grace period",
                    super::seconds(grace)
                ),
                k => format!(
                    "{} with SIGTERM, {k} killed with SIGKILL after a {} grace period",
                    n - k,
                    super::seconds(grace)
                ),
            };
            format!(
                "ended {n} {} ({how}): {}",
                if n == 1 { "process" } else { "processes" },
                name_list(self.ended.iter())
            )
        };
        if !self.survivors.is_empty() {
            text.push_str(&format!("; {}", self.survivors_text().unwrap_or_default()));
        }
        text
    }

    /// "2 processes could not be ended: 12 cat (state D), …"
    pub(crate) fn survivors_text(&self) -> Option<String> {
        if self.survivors.is_empty() {
            return None;
        }
        let n = self.survivors.len();
        let names: Vec<String> = self
            .survivors
            .iter()
            .take(NAMED)
            .map(|(p, state)| format!("{} {} (state {state})", p.pid, p.name))
            .collect();
        let more = n.saturating_sub(NAMED);
        Some(format!(
            "{n} {} could not be ended, even with SIGKILL: {}{}",
            if n == 1 { "process" } else { "processes" },
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ))
    }
}

fn name_list<'a>(procs: impl ExactSizeIterator<Item = &'a Ended>) -> String {
    let n = procs.len();
    let mut names: Vec<String> = procs
        .take(NAMED)
        .map(|p| format!("{} {}", p.pid, p.name))
        .collect();
    if n > NAMED {
        names.push(format!("and {} more", n - NAMED));
    }
    names.join(", ")
}

/// The processes of one run.
#[derive(Debug)]
pub(crate) struct RunTree {
    /// `SUNDIAL_RUN_ID=<id>`, as it appears in an environment.
    tag: Vec<u8>,
    /// The direct child (the leader of the run's process group); 0 when there is none (a run
    /// found interrupted after a crash). Whoever started it reaps it, never the sweep.
    leader: i32,
    /// The leader's start time (clock ticks after boot; 0 without a leader): every process of
    /// the run started after it, so the environment of one that started before is never read
    /// (reading every process's environment at each look was most of a short run's cost).
    born: u64,
    cgroup: Option<RunCgroup>,
    /// Every process seen as a member: pid → start time (a reused pid is not a member).
    known: HashMap<i32, u64>,
    /// Processes seen without the tag, so that their environment is read only once.
    untagged: HashSet<(i32, u64)>,
    /// Usage of the run's processes that we reaped.
    reaped: Usage,
}

impl RunTree {
    pub(crate) fn new(run_id: &str, leader: u32, cgroup: Option<RunCgroup>) -> Self {
        Self {
            tag: format!("SUNDIAL_RUN_ID={run_id}").into_bytes(),
            leader: i32::try_from(leader).unwrap_or(0),
            born: i32::try_from(leader)
                .ok()
                .filter(|&pid| pid > 0)
                .and_then(ProcInfo::read)
                .map_or(0, |p| p.start),
            cgroup,
            known: HashMap::new(),
            untagged: HashSet::new(),
            reaped: Usage::default(),
        }
    }

    /// The run's processes alive now. Zombies of ours that were the run's are reaped.
    fn live(&mut self) -> Vec<ProcInfo> {
        let me = std::process::id() as i32;
        let in_cgroup: HashSet<i32> = self
            .cgroup
            .as_ref()
            .map(|c| c.pids().into_iter().collect())
            .unwrap_or_default();
        let procs: Vec<ProcInfo> = all_pids()
            .into_iter()
            .filter(|&pid| pid != me)
            .filter_map(ProcInfo::read)
            .collect();
        let mut member: HashSet<i32> = HashSet::new();
        for p in &procs {
            let known = self.known.get(&p.pid) == Some(&p.start);
            let is = known
                || in_cgroup.contains(&p.pid)
                || (self.leader > 0 && (p.pid == self.leader || p.pgrp == self.leader))
                || (p.live() && p.start >= self.born && self.tagged(p));
            if is {
                member.insert(p.pid);
            }
        }
        // Descendants of members are members (a child that cleared its environment).
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for p in &procs {
            children.entry(p.ppid).or_default().push(p.pid);
        }
        let mut stack: Vec<i32> = member.iter().copied().collect();
        while let Some(pid) = stack.pop() {
            for &child in children.get(&pid).into_iter().flatten() {
                if member.insert(child) {
                    stack.push(child);
                }
            }
        }
        let mut live = Vec::new();
        for p in procs.into_iter().filter(|p| member.contains(&p.pid)) {
            self.known.insert(p.pid, p.start);
            if p.live() {
                live.push(p);
            } else if p.ppid == me
                && p.pid != self.leader
                && let Some(usage) = reap(p.pid)
            {
                self.reaped.add(usage);
                self.known.remove(&p.pid);
            }
        }
        live
    }

    fn tagged(&mut self, p: &ProcInfo) -> bool {
        if self.untagged.contains(&(p.pid, p.start)) {
            return false;
        }
        let tagged = environ_has(p.pid, &self.tag);
        if !tagged {
            self.untagged.insert((p.pid, p.start));
        }
        tagged
    }

    /// Records the run's processes alive now, so that one that later clears its environment
    /// or leaves the group is still known. Returns how many there are.
    pub(crate) fn look(&mut self) -> usize {
        self.live().len()
    }

    /// Ends every process of the run: SIGTERM, up to `grace` for them to go (processes that
    /// appear meanwhile get SIGTERM too), then SIGKILL until none is left, then a final look.
    pub(crate) async fn end(&mut self, grace: Duration) -> EndReport {
        let mut report = EndReport::default();
        let mut signalled: HashSet<i32> = HashSet::new();
        let mut live = self.live();
        if live.is_empty() {
            return report;
        }
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            for p in &live {
                if signalled.insert(p.pid) {
                    report.ended.push(Ended {
                        pid: p.pid,
                        name: p.comm.clone(),
                    });
                    signal(p.pid, Signal::SIGTERM);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(POLL).await;
            live = self.live();
            if live.is_empty() {
                return report;
            }
        }
        let mut killed: HashSet<i32> = HashSet::new();
        let deadline = tokio::time::Instant::now() + AFTER_KILL;
        loop {
            if let Some(cgroup) = &self.cgroup {
                cgroup.kill_all();
            }
            for p in &live {
                if signalled.insert(p.pid) {
                    report.ended.push(Ended {
                        pid: p.pid,
                        name: p.comm.clone(),
                    });
                }
                killed.insert(p.pid);
                signal(p.pid, Signal::SIGKILL);
            }
            tokio::time::sleep(POLL).await;
            live = self.live();
            if live.is_empty() || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        report.killed = killed.len();
        report.survivors = live
            .into_iter()
            .map(|p| {
                (
                    Ended {
                        pid: p.pid,
                        name: p.comm,
                    },
                    p.state,
                )
            })
            .collect();
        report
    }

    /// Whether the run's peak memory is the cgroup's own counter (`memory.peak`).
    pub(crate) fn measures_memory(&self) -> bool {
        self.cgroup
            .as_ref()
            .is_some_and(|c| c.peak_memory().is_some())
    }

    /// CPU time and peak memory of the run's processes, once they have ended: the cgroup's
    /// counters when it has them, else the direct child's rusage (with every child it reaped)
    /// plus that of the processes we reaped.
    pub(crate) fn resources(&self, leader: Option<Usage>) -> Usage {
        let mut usage = leader.unwrap_or_default();
        usage.add(self.reaped);
        if let Some(cgroup) = &self.cgroup {
            if let Some(cpu) = cgroup.cpu() {
                usage.cpu = cpu;
            }
            if let Some(peak) = cgroup.peak_memory() {
                usage.max_rss = peak;
            }
        }
        usage
    }
}

fn signal(pid: i32, signal: Signal) {
    if pid > 0 {
        // ESRCH (gone already) is what we want; EPERM (another user's) cannot be helped.
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// For runs found interrupted (their process crashed or was killed): ends every process they
/// left (their cgroup, or the processes tagged with their id), and writes what was found and
/// done into each run's log and the application log.
pub async fn end_left_processes(
    runs: &[Run],
    logs: Option<&LogStore>,
    now: chrono::DateTime<chrono::Utc>,
) {
    for run in runs {
        let id = run.id.to_string();
        let mut tree = RunTree::new(&id, 0, RunCgroup::existing(&id));
        let report = tree.end(SWEEP_GRACE).await;
        let note = if report.is_empty() {
            "Sundial stopped while this run was going; the run is interrupted. No process of it was left running".to_string()
        } else {
            format!(
                "Sundial stopped while this run was going; the run is interrupted. Processes it left: {}",
                report.describe(SWEEP_GRACE)
            )
        };
        if report.is_empty() {
            tracing::info!(run = %run.id, "an interrupted run left no process running");
        } else if report.survivors.is_empty() {
            tracing::warn!(run = %run.id, "an interrupted run left processes running: {}", report.describe(SWEEP_GRACE));
        } else {
            tracing::error!(run = %run.id, "an interrupted run left processes that cannot be ended: {}", report.describe(SWEEP_GRACE));
        }
        if let Some(logs) = logs {
            match logs.append_note(run.id, now, &format!("[sundial] {note}")) {
                Ok(()) | Err(crate::logs::LogError::NotFound(_)) => {}
                Err(e) => {
                    tracing::warn!(run = %run.id, error = %e, "cannot write to an interrupted run's log")
                }
            }
        }
    }
}
