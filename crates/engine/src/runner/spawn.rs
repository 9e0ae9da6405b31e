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
        let pidfd = self.pidfd.try_clone()?;
        let status = tokio::task::spawn_blocking(move || reap(&pidfd))
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
        // The zombie is reaped off this thread (a wait already in flight may reap it first;
        // through the pidfd neither can reap another child that got the pid since).
        if let Ok(pidfd) = self.pidfd.try_clone() {
            std::thread::spawn(move || reap(&pidfd));
        }
    }
}

/// Blocks until the process of `pidfd` (a child of ours) exits, and reaps it.
#[allow(unsafe_code)]
fn reap(pidfd: &OwnedFd) -> io::Result<ExitStatus> {
    /// `P_PIDFD` of linux/wait.h (5.4+).
    const P_PIDFD: libc::idtype_t = 3;
    loop {
        // SAFETY: waitid(2) with a zeroed siginfo as its out-parameter.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::waitid(
                P_PIDFD,
                pidfd.as_raw_fd() as libc::id_t,
                &mut info,
                libc::WEXITED,
            )
        };
        if rc == 0 {
            // SAFETY: waitid filled in a child's exit.
            let status = unsafe { info.si_status() };
            // As waitpid(2) would have encoded it.
            return Ok(ExitStatus::from_raw(match info.si_code {
                libc::CLD_EXITED => (status & 0xff) << 8,
                libc::CLD_DUMPED => status | 0x80,
                _ => status,
            }));
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

const CLONE_VM: u64 = 0x100;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_PIDFD: u64 = 0x1000;
/// The child's stack until exec (it calls a few functions with small frames).
const CHILD_STACK: usize = 64 * 1024;
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
    let (report_r, report_w) = pipe_pair().map_err(spawn)?;
    let mut report_r = std::fs::File::from(report_r);
    let group = std::fs::File::open(cgroup).map_err(CloneError::Unsupported)?;

    // SAFETY: a zeroed sigset_t is valid storage for sigemptyset(3).
    let mut no_signals: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe { libc::sigemptyset(&mut no_signals) };
    let side = ChildSide {
        null: null.as_raw_fd(),
        out: out_w.as_raw_fd(),
        err: err_w.as_raw_fd(),
        report: report_w.as_raw_fd(),
        dir: &dir,
        path: &path,
        argv: &argv_ptrs,
        env: &env_ptrs,
        signals: &no_signals,
    };
    // The child's own stack (16-byte aligned), used only until it execs.
    let mut stack = vec![0u128; CHILD_STACK / 16];
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_INTO_CGROUP,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.as_mut_ptr() as u64,
        stack_size: CHILD_STACK as u64,
        cgroup: group.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // Every signal blocked while the child shares this memory: a handler of Sundial's must
    // not run in it (the child sets every action to its default, then unblocks).
    let all: u64 = !0;
    let mut before: u64 = 0;
    // SAFETY: rt_sigprocmask(2) on this thread with valid 8-byte masks (the kernel's size).
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &all as *const u64,
            &mut before as *mut u64,
            8usize,
        )
    };
    // SAFETY: clone3(2) with CLONE_VM | CLONE_VFORK, as posix_spawn(3) clones: the child runs
    // `child_main` on its own stack in this address space, making only async-signal-safe
    // system calls on `side` (alive: this thread is suspended until the child execs or exits).
    let pid = unsafe { clone3_vfork(&mut args, &side) };
    // SAFETY: as above, restoring this thread's mask.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &before as *const u64,
            std::ptr::null_mut::<u64>(),
            8usize,
        )
    };
    drop(stack);
    if pid < 0 {
        let e = io::Error::from_raw_os_error((-pid) as i32);
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
        let _ = reap(&cloned.pidfd);
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

/// clone3 in assembly, because a child on a stack of its own cannot return through the C
/// library's `syscall` (its frame is on the parent's stack): the child calls `child_main`
/// with `side` straight from the system call. Returns the child's pid or `-errno`.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
unsafe fn clone3_vfork(args: &mut CloneArgs, side: &ChildSide<'_>) -> i64 {
    let ret: i64;
    // SAFETY: the caller's contract; rcx and r11 are clobbered by `syscall`.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => ret,
            in("rdi") args as *mut CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") side as *const ChildSide<'_>,
            in("r13") child_main as extern "C" fn(*const ChildSide<'_>) -> !,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
unsafe fn clone3_vfork(args: &mut CloneArgs, side: &ChildSide<'_>) -> i64 {
    let ret: i64;
    // SAFETY: the caller's contract.
    unsafe {
        std::arch::asm!(
            "svc 0",
            "cbnz x0, 2f",
            "mov x0, x20",
            "blr x21",
            "brk #1",
            "2:",
            inlateout("x0") args as *mut CloneArgs => ret,
            in("x1") std::mem::size_of::<CloneArgs>(),
            in("x8") libc::SYS_clone3,
            in("x20") side as *const ChildSide<'_>,
            in("x21") child_main as extern "C" fn(*const ChildSide<'_>) -> !,
            options(nostack),
        );
    }
    ret
}

/// Elsewhere the kernel's clone3 is not called: runs start by `Command`.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[allow(unsafe_code)]
unsafe fn clone3_vfork(_: &mut CloneArgs, _: &ChildSide<'_>) -> i64 {
    -(libc::ENOSYS as i64)
}

/// The child's first function, on its own stack.
#[allow(unsafe_code)]
extern "C" fn child_main(side: *const ChildSide<'_>) -> ! {
    // SAFETY: `side` points into the suspended parent's frame (see clone_into).
    unsafe { exec_child(&*side) }
}

/// In the child: stdio, group, directory, signals, exec. Only async-signal-safe calls.
#[allow(unsafe_code)]
unsafe fn exec_child(c: &ChildSide<'_>) -> ! {
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
/// never meets one of them, even where Sundial was started with 0–2 closed).
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
