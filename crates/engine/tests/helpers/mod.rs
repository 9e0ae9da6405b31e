//! Shared test harness: jobs and runs, a runner over a temporary log directory, fixture
//! scripts, process checks and a small local HTTP server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use sundial_engine::domain::{
    CommandSpec, EnvVar, HttpSpec, Interpreter, Job, JobId, JobKind, JobSpec, Policies, Program,
    Run, RunId, RunReason, RunStatus, StatusRange, Trigger,
};
use sundial_engine::logs::{LogLine, LogStore};
use sundial_engine::{RunOutcome, RunRequest, Runner, RunnerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A repo-root fixture script (tests/fixtures), as an absolute path.
pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    path.canonicalize()
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
        .display()
        .to_string()
}

pub fn exec(program: &str, args: &[&str]) -> JobKind {
    JobKind::Command(CommandSpec {
        program: Program::Exec {
            program: program.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
        },
        working_dir: None,
        env: Vec::new(),
    })
}

/// `sh <fixture> args...`
pub fn fixture_job(name: &str, args: &[&str]) -> JobKind {
    let script = fixture(name);
    let mut all = vec![script.as_str()];
    all.extend_from_slice(args);
    exec("sh", &all)
}

pub fn script(interpreter: Interpreter, body: &str) -> JobKind {
    JobKind::Command(CommandSpec {
        program: Program::Script {
            interpreter,
            body: body.to_string(),
        },
        working_dir: None,
        env: Vec::new(),
    })
}

pub fn http(url: &str) -> HttpSpec {
    HttpSpec {
        method: "GET".to_string(),
        url: url.to_string(),
        headers: Vec::new(),
        body: None,
        expect_status: StatusRange::default(),
        body_contains: None,
        log_body_kib: 64,
        ca_bundle: None,
    }
}

pub fn with_env(mut kind: JobKind, env: Vec<EnvVar>) -> JobKind {
    if let JobKind::Command(c) = &mut kind {
        c.env = env;
    }
    kind
}

pub fn with_working_dir(mut kind: JobKind, dir: &str) -> JobKind {
    if let JobKind::Command(c) = &mut kind {
        c.working_dir = Some(dir.to_string());
    }
    kind
}

pub fn job(kind: JobKind, timeout_secs: Option<u64>) -> Job {
    let now = Utc::now();
    Job {
        id: JobId::new(),
        revision: 1,
        created_at: now,
        updated_at: now,
        spec: JobSpec {
            name: "test job".to_string(),
            description: String::new(),
            tags: Vec::new(),
            enabled: true,
            kind,
            trigger: Trigger::Manual,
            policies: Policies {
                timeout_secs,
                ..Policies::default()
            },
        },
    }
}

pub fn request(job: Job) -> RunRequest {
    let now = Utc::now();
    RunRequest {
        run: Run {
            id: RunId::new(),
            job_id: job.id,
            job_revision: job.revision,
            reason: RunReason::Manual,
            attempt: 2,
            parent_run_id: None,
            scheduled_for: now,
            created_at: now,
            started_at: Some(now),
            finished_at: None,
            status: RunStatus::Running,
            exit_code: None,
            http_status: None,
            error: None,
            log_bytes: 0,
            log_lines: 0,
            cpu_ms: None,
            peak_memory_bytes: None,
            overrides: None,
            trigger_path: None,
            wait: Default::default(),
        },
        job,
        passed: Vec::new(),
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub runner: Runner,
}

impl Harness {
    /// A runner with a short grace and drain period, logs in a fresh temporary directory.
    pub fn new() -> Self {
        Self::with_config(test_config())
    }

    pub fn with_config(config: RunnerConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let logs = LogStore::new(dir.path().join("logs"));
        let runner = Runner::new(config, logs).expect("runner");
        Self { dir, runner }
    }

    pub fn logs(&self) -> &LogStore {
        self.runner.logs()
    }

    pub async fn run(&self, request: RunRequest) -> RunOutcome {
        self.runner.run(request, CancellationToken::new()).await
    }

    /// Runs a job and returns the outcome with every line of its log.
    pub async fn run_job(&self, kind: JobKind, timeout: Option<u64>) -> (RunOutcome, Vec<LogLine>) {
        let request = request(job(kind, timeout));
        let id = request.run.id;
        let outcome = self.run(request).await;
        (outcome, self.lines(id))
    }

    pub fn lines(&self, run: RunId) -> Vec<LogLine> {
        let log = self.logs().open(run).expect("open log");
        let count = log.line_count().expect("count");
        log.read_lines(0, count as usize).expect("read")
    }
}

pub fn test_config() -> RunnerConfig {
    RunnerConfig {
        kill_grace: Duration::from_secs(1),
        drain_after_exit: Duration::from_millis(300),
        ..RunnerConfig::default()
    }
}

/// Waits for a condition, failing the test after `limit`. For events the code under test
/// does not announce (a process printed its pid, a process died).
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Lines of a run's log so far ("" when the log does not exist yet).
pub fn texts_so_far(logs: &LogStore, run: RunId) -> Vec<String> {
    let Ok(log) = logs.open(run) else {
        return Vec::new();
    };
    let count = log.line_count().unwrap_or(0);
    log.read_lines(0, count as usize)
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// Pids printed by fixtures as "pid N".
pub fn printed_pids(texts: &[String]) -> Vec<i32> {
    texts
        .iter()
        .filter_map(|t| t.strip_prefix("pid ")?.trim().parse().ok())
        .collect()
}

/// True when no live process has this pid (a zombie waiting for its parent counts as gone).
pub fn process_gone(pid: i32) -> bool {
    let state = if std::path::Path::new("/proc/self/stat").exists() {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let after = &stat[stat.rfind(')')? + 1..];
                after.split_whitespace().next().map(str::to_string)
            })
    } else {
        // No /proc (macOS): ask ps for the state.
        std::process::Command::new("ps")
            .args(["-o", "stat=", "-p", &pid.to_string()])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    match state {
        None => true,
        Some(state) => state.starts_with('Z') || state.starts_with('X'),
    }
}

pub fn text_lines(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

/// A local HTTP/1.1 server: `/ok`, `/status/<code>`, `/hang` (never answers), `/big`
/// (1 MiB body). It records each request's head.
pub struct TestServer {
    pub addr: SocketAddr,
    pub heads: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&heads);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let recorded = Arc::clone(&recorded);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match socket.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    recorded.lock().unwrap().push(head.clone());
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (code, body) = match path.as_str() {
                        "/ok" => (200, "hello sundial\nsecond line\n".to_string()),
                        "/hang" => {
                            std::future::pending::<()>().await;
                            unreachable!()
                        }
                        "/big" => (200, "0123456789abcdef\n".repeat(64 * 1024)),
                        other => match other.strip_prefix("/status/") {
                            Some(code) => {
                                (code.parse().unwrap_or(500), "not what you hoped".into())
                            }
                            None => (404, "no such path".to_string()),
                        },
                    };
                    let response = format!(
                        "HTTP/1.1 {code} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { addr, heads }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Live processes whose environment carries `SUNDIAL_RUN_ID=<run>`, found by scanning /proc
/// (independently of Sundial's own bookkeeping). Zombies do not count.
pub fn tagged_processes(run: &str) -> Vec<i32> {
    let tag = format!("SUNDIAL_RUN_ID={run}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == tag.as_bytes()))
                && !process_gone(pid)
        })
        .collect()
}

/// True when this process may create a cgroup v2 child of its own cgroup (root in a container
/// with a writable hierarchy, or a user slice delegated by systemd).
pub fn cgroup_v2_writable() -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let Some(mount) = mounts.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(2) == Some(&"cgroup2")).then(|| f[1].to_string())
    }) else {
        return false;
    };
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::")) else {
        return false;
    };
    let probe = std::path::Path::new(&mount)
        .join(path.trim_start_matches('/'))
        .join(format!("sundial-test-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    let _ = std::fs::remove_dir(&probe);
    ok
}
