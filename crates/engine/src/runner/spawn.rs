//! Starting a run's first process straight into its cgroup with `clone3(CLONE_INTO_CGROUP)`.
//!
//! Moving a process into a cgroup once it exists (a write to `cgroup.procs`, all that std's
//! `Command` allows, from between fork and exec) takes the cgroup core's thread-group lock for
//! writing: 16 ms a spawn on this machine's kernel, serialized across the whole machine
//! (docs/BENCHMARKS.md, B1 and B2). A process created in its cgroup takes that lock only for
//! reading. `Command` cannot pass a cgroup to the kernel's clone, so this is Sundial's own fork
//! and exec for that case, doing in between what `Command` does: the output pipes and a null
//! stdin, the process group, the working directory, the environment, an empty signal mask, every
//! signal's default action (SIGPIPE, which Rust ignores, above all), and an exec failure
//! reported back through a close-on-exec pipe. Where the kernel refuses clone3 (older than 5.7,
//! or a sandbox's seccomp filter) the caller falls back to `Command` (decisions/0021).

use std::ffi::{CString, OsString};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::unix::pipe;

use super::process::Launch;

/// Why a clone did not start the process.
#[derive(Debug)]
pub(crate) enum CloneError {
    /// The kernel does not offer clone3 into a cgroup here; `Command` can still start it.
    Unsupported(io::Error),
    /// The process could not be started (program not found, not executable, no memory…).
    Spawn(io::Error),
}

/// Set once clone3 was refused, so that later runs go straight to `Command`.
static REFUSED: AtomicBool = AtomicBool::new(false);

/// True unless clone3 into a cgroup was refused by this kernel.
pub(crate) fn available() -> bool {
    !REFUSED.load(Ordering::Relaxed)
}

/// Makes later runs start by `Command`, as where the kernel refused clone3.
#[cfg(test)]
pub(crate) fn refuse() {
    REFUSED.store(true, Ordering::Relaxed);
}

/// A process started by [`clone_into`]: killed when dropped before it was reaped.
#[derive(Debug)]
pub(crate) struct Cloned {
    pid: i32,
    pidfd: OwnedFd,
    reaped: bool,
    pub stdout: Option<pipe::Receiver>,
    pub stderr: Option<pipe::Receiver>,
}

impl Cloned {
    pub(crate) fn id(&self) -> u32 {
        self.pid as u32
    }

    /// Waits for the process to exit and reaps it.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        if self.reaped {
            return Err(io::Error::other("the process was already reaped"));
        }
        let pid = self.pid;
        let status = tokio::task::spawn_blocking(move || reap(pid))
            .await
            .map_err(io::Error::other)??;
        self.reaped = true;
        Ok(status)
    }
}

impl Drop for Cloned {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        // SAFETY: pidfd_send_signal(2) on our own pidfd; a pidfd names this process only,
        // even after its pid is reused.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
        }
        let pid = self.pid;
        // The zombie is reaped off this thread; a wait already in flight may reap it first.
        std::thread::spawn(move || reap(pid));
    }
}

/// Blocks until `pid` (a child of ours) exits, and reaps it.
#[allow(unsafe_code)]
fn reap(pid: i32) -> io::Result<ExitStatus> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid(2) with a valid out-parameter.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// `struct clone_args` of linux/sched.h (the same on every architecture).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_PIDFD: u64 = 0x1000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Starts `launch` as a process that is in the cgroup `cgroup` (a directory) from its first
/// instruction, in its own process group, with stdout and stderr piped and stdin null.
#[allow(unsafe_code)]
pub(crate) fn clone_into(launch: &Launch, cgroup: &Path) -> Result<Cloned, CloneError> {
    let spawn = CloneError::Spawn;
    let env = environment(&launch.env).map_err(spawn)?;
    let path = resolve(&launch.program, &launch.env, &launch.dir).map_err(spawn)?;
    let argv: Vec<CString> = std::iter::once(launch.program.as_str())
        .chain(launch.args.iter().map(String::as_str))
        .map(c_string)
        .collect::<io::Result<_>>()
        .map_err(spawn)?;
    let dir = c_string_os(launch.dir.as_os_str()).map_err(spawn)?;
    let argv_ptrs = null_terminated(&argv);
    let env_ptrs = null_terminated(&env);

    let null =
        above_stdio(std::fs::File::open("/dev/null").map_err(spawn)?.into()).map_err(spawn)?;
    let (out_r, out_w) = pipe_pair().map_err(spawn)?;
    let (err_r, err_w) = pipe_pair().map_err(spawn)?;
    let (mut report_r, report_w) = std::io::pipe().map_err(spawn)?;
    let group = std::fs::File::open(cgroup).map_err(CloneError::Unsupported)?;

    // SAFETY: a zeroed sigset_t is valid storage for sigemptyset(3).
    let mut no_signals: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe { libc::sigemptyset(&mut no_signals) };
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: CLONE_PIDFD | CLONE_INTO_CGROUP,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: group.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: clone3(2) without CLONE_VM is a fork: the child gets a copy of this address
    // space and runs only `exec_child`, which makes async-signal-safe calls on memory
    // allocated above, then execs or exits.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if pid == 0 {
        // SAFETY: see above; never returns.
        unsafe {
            exec_child(ChildSide {
                null: null.as_raw_fd(),
                out: out_w.as_raw_fd(),
                err: err_w.as_raw_fd(),
                report: report_w.as_raw_fd(),
                dir: &dir,
                path: &path,
                argv: &argv_ptrs,
                env: &env_ptrs,
                signals: &no_signals,
            })
        }
    }
    if pid < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EAGAIN | libc::ENOMEM) => CloneError::Spawn(e),
            _ => {
                REFUSED.store(true, Ordering::Relaxed);
                CloneError::Unsupported(e)
            }
        });
    }
    let pid = pid as i32;
    // SAFETY: the kernel wrote a new pidfd that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    drop((null, out_w, err_w, report_w, group));
    let mut cloned = Cloned {
        pid,
        pidfd,
        reaped: false,
        stdout: None,
        stderr: None,
    };
    // The report pipe closes on exec (nothing read) or carries the errno of a failed exec.
    let mut errno = [0u8; 4];
    let mut got = 0;
    while got < errno.len() {
        match report_r.read(&mut errno[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CloneError::Spawn(e)),
        }
    }
    if got == errno.len() {
        let _ = reap(pid);
        cloned.reaped = true;
        return Err(CloneError::Spawn(io::Error::from_raw_os_error(
            i32::from_ne_bytes(errno),
        )));
    }
    cloned.stdout = Some(pipe::Receiver::from_owned_fd(out_r).map_err(spawn)?);
    cloned.stderr = Some(pipe::Receiver::from_owned_fd(err_r).map_err(spawn)?);
    Ok(cloned)
}

/// The descriptors and strings the child needs, all made before the clone.
struct ChildSide<'a> {
    null: libc::c_int,
    out: libc::c_int,
    err: libc::c_int,
    report: libc::c_int,
    dir: &'a CString,
    path: &'a CString,
    argv: &'a [*const libc::c_char],
    env: &'a [*const libc::c_char],
    signals: &'a libc::sigset_t,
}

/// In the child: stdio, group, directory, signals, exec. Only async-signal-safe calls.
#[allow(unsafe_code)]
unsafe fn exec_child(c: ChildSide<'_>) -> ! {
    // SAFETY: raw system calls on descriptors and NUL-terminated arrays made before the clone.
    unsafe {
        let ready = libc::dup2(c.null, 0) >= 0
            && libc::dup2(c.out, 1) >= 0
            && libc::dup2(c.err, 2) >= 0
            && libc::setpgid(0, 0) == 0
            && libc::chdir(c.dir.as_ptr()) == 0
            && default_actions()
            && libc::sigprocmask(libc::SIG_SETMASK, c.signals, std::ptr::null_mut()) == 0;
        if ready {
            libc::execve(c.path.as_ptr(), c.argv.as_ptr(), c.env.as_ptr());
        }
        let errno = (*libc::__errno_location()).to_ne_bytes();
        libc::write(c.report, errno.as_ptr().cast(), errno.len());
        libc::_exit(127)
    }
}

/// `struct sigaction` as the kernel takes it (x86-64 and arm64; glibc's own differs).
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// Sets every signal's action to its default (an ignored one would stay ignored across exec),
/// as systemd starts a service. The raw call, because glibc will not touch the two signals it
/// keeps for itself (32 and 33), which the process that started Sundial may have ignored.
/// Async-signal-safe.
#[allow(unsafe_code)]
fn default_actions() -> bool {
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for signal in 1..=libc::SIGRTMAX() {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            // SAFETY: rt_sigaction(2) with a valid action and no old one; it only fails for a
            // number the kernel does not know.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    signal,
                    &default as *const KernelSigaction,
                    std::ptr::null_mut::<KernelSigaction>(),
                    std::mem::size_of::<u64>(),
                )
            };
        }
    }
    true
}

/// Sundial's environment with the launch's variables set over it, as `NAME=value` strings.
fn environment(set: &[(OsString, OsString)]) -> io::Result<Vec<CString>> {
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for (name, value) in set {
        match vars.iter_mut().find(|(n, _)| n == name) {
            Some(var) => var.1 = value.clone(),
            None => vars.push((name.clone(), value.clone())),
        }
    }
    vars.into_iter()
        .map(|(name, value)| {
            let mut entry = name.into_encoded_bytes();
            entry.push(b'=');
            entry.extend_from_slice(value.as_encoded_bytes());
            CString::new(entry).map_err(|_| nul_error())
        })
        .collect()
}

/// The file to exec: a program with a `/` as given (from the working directory), otherwise the
/// first executable file of that name in the run's PATH, as execvp(3) searches it.
fn resolve(program: &str, set: &[(OsString, OsString)], dir: &Path) -> io::Result<CString> {
    if program.contains('/') {
        return c_string(program);
    }
    let search = set
        .iter()
        .rev()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| value.clone())
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_else(|| OsString::from("/bin:/usr/bin"));
    let mut denied = false;
    for entry in std::env::split_paths(&search) {
        let folder = if entry.as_os_str().is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(entry)
        };
        let candidate = folder.join(program);
        let Ok(meta) = std::fs::metadata(&candidate) else {
            continue;
        };
        if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
            return c_string_os(candidate.as_os_str());
        }
        denied = true;
    }
    Err(if denied {
        io::Error::from(io::ErrorKind::PermissionDenied)
    } else {
        io::Error::from(io::ErrorKind::NotFound)
    })
}

fn c_string(text: &str) -> io::Result<CString> {
    CString::new(text).map_err(|_| nul_error())
}

fn c_string_os(text: &std::ffi::OsStr) -> io::Result<CString> {
    CString::new(text.as_bytes()).map_err(|_| nul_error())
}

fn nul_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "an argument, a variable or the directory contains a NUL byte",
    )
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// A close-on-exec pipe whose ends are both above 0–2 (so that the child's dup2 onto 0–2
/// never meets its own source).
fn pipe_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = std::io::pipe()?;
    Ok((above_stdio(read.into())?, above_stdio(write.into())?))
}

fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    let moved = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))
        .map_err(io::Error::from)?;
    #[allow(unsafe_code)]
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(moved) })
}
