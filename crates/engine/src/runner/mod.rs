//! Performs runs: command jobs as a process group, HTTP jobs with reqwest. Implements
//! [`Executor`] for the scheduler. Job output goes to the run log, never to `tracing`.

mod capture;
#[cfg(target_os = "linux")]
mod containment;
mod group;
mod http;
mod process;
#[cfg(target_os = "linux")]
mod spawn;
mod trust;

pub use trust::ProxyEnv;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, SystemClock};
use crate::domain::{JobKind, RunStatus};
use crate::executor::{BoxFuture, Executor, RunOutcome, RunRequest};
use crate::logs::LogStore;
use crate::secrets::{Redactor, unreadable_secrets};

/// How the runner behaves; the defaults suit the desktop app.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Between SIGTERM and SIGKILL when a run is timed out or cancelled.
    pub kill_grace: Duration,
    /// After the direct child exits, how long to wait for its output pipes to close. A
    /// background process still holding them after this is stopped with its group.
    pub drain_after_exit: Duration,
    /// Per-run cap on the log; output past it is discarded behind a marker line.
    pub max_log_bytes: u64,
    /// Timeout of an HTTP run whose job sets none (an HTTP call never waits forever).
    pub http_default_timeout: Duration,
    /// Directory for script bodies written before they run; `None` = the system temp dir.
    pub script_dir: Option<PathBuf>,
    /// On Linux, put each command run in a cgroup of its own where this process may create
    /// one (decisions/0010). Off, runs are found by their tag, group and descendants only.
    pub use_cgroups: bool,
    /// A PEM file of CA certificates HTTP runs trust besides the system's trust store (the
    /// Settings field; each job may name one more).
    pub extra_ca_bundle: Option<PathBuf>,
    /// The proxies HTTP runs go through; `None`: from the environment (`HTTPS_PROXY`, …).
    pub proxies: Option<ProxyEnv>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            kill_grace: Duration::from_secs(5),
            drain_after_exit: Duration::from_secs(2),
            max_log_bytes: 256 * 1024 * 1024,
            http_default_timeout: Duration::from_secs(300),
            script_dir: None,
            use_cgroups: true,
            extra_ca_bundle: None,
            proxies: None,
        }
    }
}

/// The [`Executor`] of command and HTTP runs.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    config: RunnerConfig,
    /// The per-run log cap in effect: starts as `config.max_log_bytes`, changed by
    /// [`Runner::set_max_log_bytes`].
    max_log_bytes: std::sync::atomic::AtomicU64,
    logs: LogStore,
    clock: Arc<dyn Clock>,
    /// For jobs that trust only the system's roots (and no extra bundle is set).
    http: reqwest::Client,
    /// Clients that trust extra CA bundles, by bundle.
    clients: trust::Clients,
    proxies: ProxyEnv,
    extra_ca_bundle: std::sync::RwLock<Option<PathBuf>>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set up the HTTP client: {0}")]
pub struct RunnerError(String);

impl Runner {
    pub fn new(config: RunnerConfig, logs: LogStore) -> Result<Self, RunnerError> {
        Self::with_clock(config, logs, Arc::new(SystemClock))
    }

    /// The clock stamps log lines.
    pub fn with_clock(
        config: RunnerConfig,
        logs: LogStore,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RunnerError> {
        let proxies = config.proxies.clone().unwrap_or_else(ProxyEnv::from_env);
        let http = trust::build_client(Vec::new(), &proxies).map_err(RunnerError)?;
        // Chosen (and logged) once per process; makes this process a child subreaper.
        #[cfg(target_os = "linux")]
        containment::mechanism();
        Ok(Self {
            inner: Arc::new(Inner {
                max_log_bytes: std::sync::atomic::AtomicU64::new(config.max_log_bytes),
                logs,
                clock,
                http,
                clients: trust::Clients::default(),
                extra_ca_bundle: std::sync::RwLock::new(config.extra_ca_bundle.clone()),
                proxies,
                config,
            }),
        })
    }

    pub fn logs(&self) -> &LogStore {
        &self.inner.logs
    }

    pub fn config(&self) -> &RunnerConfig {
        &self.inner.config
    }

    /// The per-run log cap for runs that start from now on (runs going keep theirs).
    pub fn set_max_log_bytes(&self, bytes: u64) {
        self.inner
            .max_log_bytes
            .store(bytes.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// The extra CA bundle for HTTP runs that start from now on (`None`: the system's trust
    /// store only, plus each job's own bundle).
    pub fn set_extra_ca_bundle(&self, path: Option<PathBuf>) {
        *self
            .inner
            .extra_ca_bundle
            .write()
            .unwrap_or_else(|e| e.into_inner()) = path;
    }

    pub fn max_log_bytes(&self) -> u64 {
        self.inner
            .max_log_bytes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Performs one run to its end (the [`Executor`] entry point, as an `async fn`).
    pub async fn run(&self, request: RunRequest, cancel: CancellationToken) -> RunOutcome {
        let inner = Arc::clone(&self.inner);
        let task = tokio::spawn(async move { inner.perform(request, cancel).await });
        // A bug in the runner must not take the scheduler down: it becomes a failed run.
        task.await
            .unwrap_or_else(|e| RunOutcome::failed(format!("the runner stopped unexpectedly: {e}")))
    }
}

impl Executor for Runner {
    fn execute(&self, request: RunRequest, cancel: CancellationToken) -> BoxFuture<RunOutcome> {
        let runner = self.clone();
        Box::pin(async move { runner.run(request, cancel).await })
    }
}

impl Inner {
    /// The HTTP client for a job: the system's trust store, plus the bundle of Settings and
    /// the job's own.
    fn http_client(&self, spec: &crate::domain::HttpSpec) -> Result<reqwest::Client, String> {
        let global = self
            .extra_ca_bundle
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let job = spec
            .ca_bundle
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let mut bundles: Vec<(&str, &std::path::Path)> = Vec::new();
        if let Some(path) = &global {
            bundles.push(("the extra CA bundle of Settings", path));
        }
        if let Some(path) = &job {
            bundles.push(("the job's CA bundle", path));
        }
        if bundles.is_empty() {
            return Ok(self.http.clone());
        }
        self.clients.get(&bundles, &self.proxies)
    }

    async fn perform(&self, request: RunRequest, cancel: CancellationToken) -> RunOutcome {
        if cancel.is_cancelled() {
            return RunOutcome::with_status(
                RunStatus::Cancelled,
                Some("cancelled before it started".into()),
            );
        }
        let cap = self
            .max_log_bytes
            .load(std::sync::atomic::Ordering::Relaxed);
        let redactor = Redactor::for_job(&request.job);
        let mut log = match self.logs.create(request.run.id, cap) {
            Ok(log) => log,
            Err(e) => return RunOutcome::failed(e.to_string()),
        };
        log.redact(redactor.clone());
        let unreadable = unreadable_secrets(&request.job);
        let mut outcome = if !unreadable.is_empty() {
            let message = format!(
                "the secret{} {} of this job {} kept in the OS keychain, which this process cannot read (see Settings → Secrets); the run did not start",
                if unreadable.len() == 1 { "" } else { "s" },
                unreadable.join(", "),
                if unreadable.len() == 1 { "is" } else { "are" },
            );
            process::failed_before_start(self, log, message)
        } else {
            match &request.job.spec.kind {
                JobKind::Command(spec) => {
                    process::run_command(self, &request, spec, log, cancel).await
                }
                JobKind::Http(spec) => http::run_http(self, &request, spec, log, cancel).await,
            }
        };
        // The error text is shown in the window, in notifications and in the application log.
        if let Some(error) = &outcome.error
            && redactor.finds_in(error)
        {
            outcome.error = Some(redactor.redact(error).into_owned());
        }
        // Outputs are kept in the database and handed to other jobs: a secret of this job
        // written there is masked like in its log (the chained job has its own secrets).
        for value in &mut outcome.outputs {
            if redactor.finds_in(&value.value) {
                value.value = redactor.redact(&value.value).into_owned();
            }
        }
        outcome
    }
}

#[cfg(target_os = "linux")]
pub use containment::end_left_processes;

/// On platforms without run containment, processes left by interrupted runs are not looked
/// for (decisions/0010).
#[cfg(not(target_os = "linux"))]
pub async fn end_left_processes(
    _runs: &[crate::domain::Run],
    _logs: Option<&LogStore>,
    _now: chrono::DateTime<chrono::Utc>,
) {
}

/// "30 s", "1.5 s", "250 ms".
pub(crate) fn seconds(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
