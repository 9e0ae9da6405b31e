//! The jobs folder: every `*.toml` / `*.json` job file in a folder defines jobs, kept in sync
//! live. Adding, editing or deleting a file creates, updates or deletes its jobs at once
//! (the folder is watched with `notify`). A broken file is reported and its jobs keep their
//! last good definition.
//!
//! Which jobs came from which file is kept in the settings table (one key per folder), so a
//! file deleted while Sundial was not running still takes its jobs away at the next start.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::jobfile::{FileFormat, ImportProblem, parse_job_file};
use crate::domain::validate::validate_spec;
use crate::domain::{Job, JobId, JobSpec, SECRET_MASK, Trigger};
use crate::engine::Engine;
use crate::error::EngineError;

/// The settings key naming the jobs folder the scheduler keeps in sync (the app's setting;
/// `sundialctl daemon --jobs-dir` overrides it).
pub const JOBS_DIR_SETTING: &str = "jobs_dir";

/// What the folder sync did with one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FolderEvent {
    /// The file was read and its jobs now match it.
    Synced {
        file: String,
        created: Vec<String>,
        updated: Vec<String>,
        deleted: Vec<String>,
        unchanged: Vec<String>,
    },
    /// The file has problems: nothing of it was applied; its jobs keep their last good
    /// definition.
    Broken {
        file: String,
        problems: Vec<ImportProblem>,
    },
    /// The file is gone: its jobs were deleted.
    Removed { file: String, deleted: Vec<String> },
}

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("jobs folder {path}: {message}")]
    Folder { path: String, message: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A running folder sync. Dropping it (or [`JobsFolder::stop`]) stops watching.
pub struct JobsFolder {
    events: broadcast::Sender<FolderEvent>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

type Index = BTreeMap<String, Vec<JobId>>;

struct Sync {
    engine: Engine,
    dir: PathBuf,
    key: String,
    index: Index,
    events: broadcast::Sender<FolderEvent>,
}

impl JobsFolder {
    /// Loads every job file in `dir` (reporting each through the returned events), then keeps
    /// the jobs in sync with the folder until stopped.
    pub async fn start(
        engine: Engine,
        dir: impl Into<PathBuf>,
    ) -> Result<(JobsFolder, Vec<FolderEvent>), FolderError> {
        let dir: PathBuf = dir.into();
        let folder_error = |message: String| FolderError::Folder {
            path: dir.display().to_string(),
            message,
        };
        let dir = std::fs::canonicalize(&dir)
            .map_err(|e| folder_error(format!("cannot open it: {e}")))?;
        if !dir.is_dir() {
            return Err(folder_error("is not a folder".into()));
        }
        let (fs_tx, fs_rx) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let _ = fs_tx.send(res);
        })
        .map_err(|e| folder_error(format!("cannot watch it: {e}")))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| folder_error(format!("cannot watch it: {e}")))?;
        let key = format!("jobs_folder:{}", dir.display());
        let index: Index = match engine
            .store()
            .get_setting(&key)
            .await
            .map_err(EngineError::from)?
        {
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => Index::new(),
        };
        let (events, _) = broadcast::channel(1024);
        let mut sync = Sync {
            engine,
            dir,
            key,
            index,
            events: events.clone(),
        };
        let initial = sync.rescan().await;
        let stop = CancellationToken::new();
        let task = tokio::spawn(sync.watch(watcher, fs_rx, stop.clone()));
        Ok((
            JobsFolder {
                events,
                stop,
                task: Some(task),
            },
            initial,
        ))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<FolderEvent> {
        self.events.subscribe()
    }

    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for JobsFolder {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn is_job_file(path: &Path) -> bool {
    FileFormat::from_path(path).is_some()
        && !path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
}

/// Whether a stored job already matches the file's spec. A file without an interval anchor
/// matches the anchor the engine filled in.
fn same_spec(stored: &Job, wanted: &JobSpec) -> bool {
    let mut wanted = wanted.clone();
    if let (
        Trigger::Interval { anchor: want, .. },
        Trigger::Interval {
            anchor: have @ Some(_),
            ..
        },
    ) = (&mut wanted.trigger, &stored.spec.trigger)
        && want.is_none()
    {
        *want = *have;
    }
    stored.spec == wanted
}

impl Sync {
    async fn watch(
        mut self,
        watcher: RecommendedWatcher,
        mut fs_rx: mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
        stop: CancellationToken,
    ) {
        let _watcher = watcher;
        loop {
            let first = tokio::select! {
                _ = stop.cancelled() => return,
                event = fs_rx.recv() => match event {
                    Some(e) => e,
                    None => return,
                },
            };
            // Editors write a file in several steps (truncate, write, rename): take what
            // arrives within a moment together, then read each file once.
            let mut batch = vec![first];
            let quiet = Duration::from_millis(50);
            while let Ok(Some(e)) = tokio::time::timeout(quiet, fs_rx.recv()).await {
                batch.push(e);
                if batch.len() > 10_000 {
                    break;
                }
            }
            let mut names = BTreeSet::new();
            let mut rescan = false;
            for event in batch {
                match event {
                    Ok(event) => {
                        if event.need_rescan() {
                            rescan = true;
                        }
                        for path in event.paths {
                            if is_job_file(&path)
                                && let Some(name) = path.file_name().and_then(|n| n.to_str())
                            {
                                names.insert(name.to_string());
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "jobs folder watch error; reading the folder again");
                        rescan = true;
                    }
                }
            }
            if rescan {
                self.rescan().await;
            } else {
                for name in names {
                    let event = self.sync_file(&name).await;
                    let _ = self.events.send(event);
                }
            }
        }
    }

    /// Syncs every job file in the folder, and every file the index knows that is gone.
    async fn rescan(&mut self) -> Vec<FolderEvent> {
        let mut names: BTreeSet<String> = self.index.keys().cloned().collect();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_file()
                    && is_job_file(&path)
                    && let Some(name) = path.file_name().and_then(|n| n.to_str())
                {
                    names.insert(name.to_string());
                }
            }
        }
        let mut out = Vec::new();
        for name in names {
            let event = self.sync_file(&name).await;
            let _ = self.events.send(event.clone());
            out.push(event);
        }
        out
    }

    async fn save_index(&self) {
        let text = serde_json::to_string(&self.index).unwrap_or_else(|_| "{}".into());
        if let Err(e) = self.engine.store().set_setting(&self.key, &text).await {
            tracing::error!(error = %e, "could not save the jobs folder index");
        }
    }

    fn broken(name: &str, field: &str, message: String) -> FolderEvent {
        FolderEvent::Broken {
            file: name.to_string(),
            problems: vec![ImportProblem {
                line: None,
                column: None,
                job: None,
                job_name: None,
                field: field.to_string(),
                message,
            }],
        }
    }

    async fn sync_file(&mut self, name: &str) -> FolderEvent {
        let path = self.dir.join(name);
        let owned_ids = self.index.get(name).cloned().unwrap_or_default();
        let mut owned: HashMap<String, Job> = HashMap::new();
        for id in &owned_ids {
            if let Ok(job) = self.engine.get_job(*id).await {
                owned.insert(job.spec.name.to_lowercase(), job);
            }
        }
        if !path.exists() {
            let mut deleted = Vec::new();
            for job in owned.values() {
                if self.engine.delete_job(job.id).await.is_ok() {
                    deleted.push(job.spec.name.clone());
                }
            }
            deleted.sort();
            self.index.remove(name);
            self.save_index().await;
            return FolderEvent::Removed {
                file: name.to_string(),
                deleted,
            };
        }
        let Some(format) = FileFormat::from_path(&path) else {
            return Self::broken(name, "", "is not a .toml or .json file".into());
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => return Self::broken(name, "", format!("cannot be read: {e}")),
        };
        let parsed = match parse_job_file(&text, format) {
            Ok(p) => p,
            Err(problems) => {
                return FolderEvent::Broken {
                    file: name.to_string(),
                    problems,
                };
            }
        };
        // Check everything before changing anything.
        let now = self.engine.now();
        let others: Vec<Job> = match self.engine.list_jobs().await {
            Ok(jobs) => jobs,
            Err(e) => return Self::broken(name, "", format!("could not read the jobs: {e}")),
        };
        let mut problems = Vec::new();
        let mut wanted: Vec<(usize, JobSpec)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut in_file_ids: HashMap<JobId, usize> = HashMap::new();
        for (index, job) in parsed.file.jobs.iter().enumerate() {
            let line = parsed.job_lines.get(index).copied().flatten();
            let mut push = |field: &str, message: String| {
                problems.push(ImportProblem {
                    line,
                    column: None,
                    job: Some(index + 1),
                    job_name: Some(job.name.clone()),
                    field: field.to_string(),
                    message,
                })
            };
            let mut spec = job.spec();
            let key = spec.name.to_lowercase();
            if let Some(first) = seen.insert(key.clone(), index + 1) {
                push(
                    "name",
                    format!(
                        "“{}” is also the name of job {first} in this file",
                        spec.name
                    ),
                );
            }
            let previous = owned.get(&key);
            if previous.is_none() && others.iter().any(|o| o.spec.name.to_lowercase() == key) {
                push(
                    "name",
                    format!(
                        "“{}” is already the name of a job that does not come from this file",
                        spec.name
                    ),
                );
            }
            // Masked secrets keep the value stored for this file's job, else are refused.
            for (field, var) in super::jobfile::secret_vars(&mut spec.kind) {
                if var.secret && var.value == SECRET_MASK {
                    let kept = previous.and_then(|p| {
                        super::jobfile::stored_secret(&p.spec.kind, &field, &var.name)
                            .map(str::to_string)
                    });
                    match kept {
                        Some(v) => var.value = v,
                        None => push(
                            &format!("{field}.value"),
                            format!(
                                "is the mask of secret {:?}, not its value: write the real value",
                                var.name
                            ),
                        ),
                    }
                }
            }
            if let Trigger::AfterJob { job_id, .. } = &spec.trigger {
                let earlier_in_file = in_file_ids.contains_key(job_id);
                let exists = others.iter().any(|o| o.id == *job_id);
                if !earlier_in_file && !exists {
                    push(
                        "trigger.job_id",
                        format!(
                            "there is no job with id {job_id} in Sundial or earlier in this file"
                        ),
                    );
                }
            }
            if let Some(id) = job.id {
                in_file_ids.insert(id, index);
            }
            if let Err(errors) = validate_spec(&spec, now, previous.map(|p| &p.spec)) {
                for e in errors.0 {
                    push(&e.field, e.message);
                }
            }
            wanted.push((index, spec));
        }
        if !problems.is_empty() {
            return FolderEvent::Broken {
                file: name.to_string(),
                problems,
            };
        }
        // Apply.
        let (mut created, mut updated, mut deleted, mut unchanged) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut ids = Vec::new();
        let mut id_map: HashMap<JobId, JobId> = HashMap::new();
        let mut failures = Vec::new();
        let wanted_names: BTreeSet<String> =
            wanted.iter().map(|(_, s)| s.name.to_lowercase()).collect();
        // Jobs that left the file go first, so a name can move between its jobs.
        for (key, job) in &owned {
            if !wanted_names.contains(key) {
                match self.engine.delete_job(job.id).await {
                    Ok(()) => deleted.push(job.spec.name.clone()),
                    Err(e) => failures.push((job.spec.name.clone(), e)),
                }
            }
        }
        for (index, mut spec) in wanted {
            if let Trigger::AfterJob { job_id, .. } = &mut spec.trigger
                && let Some(mapped) = id_map.get(job_id)
            {
                *job_id = *mapped;
            }
            let file_id = parsed.file.jobs[index].id;
            let result = match owned.get(&spec.name.to_lowercase()) {
                Some(job) if same_spec(job, &spec) => {
                    unchanged.push(spec.name.clone());
                    Ok(job.id)
                }
                Some(job) => {
                    let name = spec.name.clone();
                    self.engine
                        .update_job(job.id, spec, job.revision)
                        .await
                        .map(|j| {
                            updated.push(name);
                            j.id
                        })
                }
                None => {
                    let name = spec.name.clone();
                    self.engine.create_job(spec).await.map(|j| {
                        created.push(name);
                        j.id
                    })
                }
            };
            match result {
                Ok(id) => {
                    ids.push(id);
                    if let Some(from) = file_id {
                        id_map.insert(from, id);
                    }
                }
                Err(e) => failures.push((parsed.file.jobs[index].name.clone(), e)),
            }
        }
        self.index.insert(name.to_string(), ids);
        self.save_index().await;
        if !failures.is_empty() {
            return FolderEvent::Broken {
                file: name.to_string(),
                problems: failures
                    .into_iter()
                    .map(|(job, e)| ImportProblem {
                        line: None,
                        column: None,
                        job: None,
                        job_name: Some(job),
                        field: String::new(),
                        message: e.to_string(),
                    })
                    .collect(),
            };
        }
        FolderEvent::Synced {
            file: name.to_string(),
            created,
            updated,
            deleted,
            unchanged,
        }
    }
}
