//! Shared test harness: a real SQLite file, a fake wall clock on tokio's paused clock, and a
//! scripted executor that records what it was asked to run.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sundial_engine::domain::{JobSpec, Run, RunStatus};
use sundial_engine::executor::BoxFuture;
use sundial_engine::store::RunFilter;
use sundial_engine::{
    Engine, EngineConfig, Executor, FakeClock, FakeConditions, RunOutcome, RunRequest,
};
use tokio_util::sync::CancellationToken;

/// How a scripted run behaves, by job name.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    Succeed,
    Fail,
    /// Runs this long (tokio time), then succeeds; cancellable.
    Take(StdDuration),
}

#[derive(Debug, Clone)]
pub struct Execution {
    pub run: Run,
    /// The job as the executor was given it (the definition the run used).
    pub job: sundial_engine::domain::Job,
    pub job_name: String,
    /// The wall clock when the executor was called.
    pub started_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct ScriptedExecutor {
    clock: FakeClock,
    behaviours: Arc<Mutex<HashMap<String, Behaviour>>>,
    executions: Arc<Mutex<Vec<Execution>>>,
}

impl ScriptedExecutor {
    pub fn new(clock: FakeClock) -> Self {
        Self {
            clock,
            behaviours: Arc::default(),
            executions: Arc::default(),
        }
    }

    pub fn set(&self, job_name: &str, behaviour: Behaviour) {
        self.behaviours
            .lock()
            .unwrap()
            .insert(job_name.to_string(), behaviour);
    }

    pub fn executions(&self) -> Vec<Execution> {
        self.executions.lock().unwrap().clone()
    }

    pub fn executions_of(&self, job_name: &str) -> Vec<Execution> {
        self.executions()
            .into_iter()
            .filter(|e| e.job_name == job_name)
            .collect()
    }
}

impl Executor for ScriptedExecutor {
    fn execute(&self, request: RunRequest, cancel: CancellationToken) -> BoxFuture<RunOutcome> {
        use sundial_engine::Clock;
        let name = request.job.spec.name.clone();
        let behaviour = self
            .behaviours
            .lock()
            .unwrap()
            .get(&name)
            .copied()
            .unwrap_or(Behaviour::Succeed);
        self.executions.lock().unwrap().push(Execution {
            run: request.run.clone(),
            job: request.job.clone(),
            job_name: name,
            started_at: self.clock.now(),
        });
        Box::pin(async move {
            match behaviour {
                Behaviour::Succeed => RunOutcome::succeeded(),
                Behaviour::Fail => RunOutcome {
                    exit_code: Some(1),
                    ..RunOutcome::failed("exited with status 1")
                },
                Behaviour::Take(d) => tokio::select! {
                    _ = tokio::time::sleep(d) => RunOutcome::succeeded(),
                    _ = cancel.cancelled() => RunOutcome::with_status(
                        RunStatus::Cancelled, Some("cancelled".into())),
                },
            }
        })
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub clock: FakeClock,
    pub executor: ScriptedExecutor,
    pub engine: Engine,
    pub max_parallel: usize,
    /// Applied to the engine's configuration at each start.
    pub configure: fn(&mut EngineConfig),
    /// The power and network state every start of this harness sees (on AC, network up,
    /// until a test says otherwise).
    pub conditions: Arc<FakeConditions>,
}

impl Harness {
    /// Starts an engine on a new database file with the wall clock at `start`.
    /// Call inside `#[tokio::test(start_paused = true)]`.
    pub async fn start(start: &str) -> Harness {
        Self::start_with(start, 4).await
    }

    pub async fn start_with(start: &str, max_parallel: usize) -> Harness {
        Self::start_configured(start, max_parallel, |_| {}).await
    }

    /// As [`Harness::start_with`], with `configure` applied to the configuration (at this
    /// start and every restart).
    pub async fn start_configured(
        start: &str,
        max_parallel: usize,
        configure: fn(&mut EngineConfig),
    ) -> Harness {
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let dir = tempfile::tempdir().unwrap();
        let clock = FakeClock::new(at(start));
        let executor = ScriptedExecutor::new(clock.clone());
        let conditions = FakeConditions::new();
        let engine = start_engine_with(
            dir.path().join("sundial.db"),
            &clock,
            &executor,
            max_parallel,
            configure,
            &conditions,
        )
        .await;
        Harness {
            dir,
            clock,
            executor,
            engine,
            max_parallel,
            configure,
            conditions,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("sundial.db")
    }

    /// A clean quit and a new start on the same database and clock.
    pub async fn restart(&mut self) {
        self.engine.shutdown(false).await;
        self.start_again().await;
    }

    /// A new engine on the same database and clock (after a shutdown, or a crash simulated
    /// by leaving the old engine be).
    pub async fn start_again(&mut self) {
        self.engine = start_engine_with(
            self.db_path(),
            &self.clock,
            &self.executor,
            self.max_parallel,
            self.configure,
            &self.conditions,
        )
        .await;
    }

    /// The fake wall clock's time now.
    pub fn clock_now(&self) -> DateTime<Utc> {
        use sundial_engine::Clock;
        self.clock.now()
    }

    /// Lets `d` of tokio time (and so wall time) pass, with the scheduler waking as it needs.
    pub async fn advance(&self, d: StdDuration) {
        tokio::time::sleep(d).await;
    }

    pub async fn advance_secs(&self, secs: u64) {
        self.advance(StdDuration::from_secs(secs)).await;
    }

    /// All runs of a job, oldest first.
    pub async fn runs_of(&self, job: &sundial_engine::domain::Job) -> Vec<Run> {
        let mut runs = self
            .engine
            .list_runs(&RunFilter {
                job_id: Some(job.id),
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap();
        runs.sort_by_key(|r| (r.scheduled_for, r.id));
        runs
    }

    /// The job's missed-run ledger, oldest first.
    pub async fn gaps_of(
        &self,
        job: &sundial_engine::domain::Job,
    ) -> Vec<sundial_engine::domain::MissedGap> {
        let mut gaps = self
            .engine
            .missed_gaps(&sundial_engine::store::MissedFilter {
                job_id: Some(job.id),
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap();
        gaps.reverse();
        gaps
    }

    pub async fn all_runs(&self) -> Vec<Run> {
        let mut runs = self
            .engine
            .list_runs(&RunFilter {
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap();
        runs.sort_by_key(|r| (r.scheduled_for, r.id));
        runs
    }
}

pub async fn start_engine(
    db: PathBuf,
    clock: &FakeClock,
    executor: &ScriptedExecutor,
    max_parallel: usize,
) -> Engine {
    start_engine_configured(db, clock, executor, max_parallel, |_| {}).await
}

pub async fn start_engine_configured(
    db: PathBuf,
    clock: &FakeClock,
    executor: &ScriptedExecutor,
    max_parallel: usize,
    configure: fn(&mut EngineConfig),
) -> Engine {
    start_engine_with(
        db,
        clock,
        executor,
        max_parallel,
        configure,
        &FakeConditions::new(),
    )
    .await
}

pub async fn start_engine_with(
    db: PathBuf,
    clock: &FakeClock,
    executor: &ScriptedExecutor,
    max_parallel: usize,
    configure: fn(&mut EngineConfig),
    conditions: &Arc<FakeConditions>,
) -> Engine {
    let mut config = EngineConfig::new(db);
    config.conditions = conditions.clone();
    config.max_parallel = max_parallel;
    config.hold_paused_clock = true;
    configure(&mut config);
    Engine::start(config, Arc::new(clock.clone()), Arc::new(executor.clone()))
        .await
        .unwrap()
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test instant {s}: {e}"))
        .with_timezone(&Utc)
}

/// A command job spec with the given trigger JSON; policies can be patched with `policies`.
pub fn spec(name: &str, trigger: serde_json::Value, policies: serde_json::Value) -> JobSpec {
    let mut value = json!({
        "name": name,
        "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
        "trigger": trigger,
    });
    if !policies.is_null() {
        value["policies"] = policies;
    }
    serde_json::from_value(value).unwrap()
}

pub fn cron(expr: &str, tz: &str) -> serde_json::Value {
    json!({"type": "cron", "expr": expr, "timezone": tz})
}

pub fn every_secs(n: u64) -> serde_json::Value {
    json!({"type": "interval", "every": n, "unit": "seconds"})
}

/// Full policies with the given missed-run mode and overlap; everything else default.
pub fn policies(missed: &str, max_catch_up: u32, overlap: &str) -> serde_json::Value {
    json!({
        "overlap": overlap,
        "missed": {"mode": missed, "max_catch_up": max_catch_up, "grace_secs": 60},
    })
}

pub fn statuses(runs: &[Run]) -> Vec<RunStatus> {
    runs.iter().map(|r| r.status).collect()
}

/// Runs one SQL statement straight on a database file (no engine may have it open), as another
/// build or a hand edit would.
pub async fn write_sql(db: &Path, sql: &str) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}
