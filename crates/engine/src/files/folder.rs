//! The jobs folder: every `*.toml` / `*.json` job file in a folder defines jobs, kept in sync
//! live. Adding or editing a file creates or updates its jobs at once (the folder is watched
//! with `notify`). A broken file is reported and its jobs keep their last good definition.
//!
//! The folder never destroys history. A file that vanishes is given [`SETTLE`] to come back
//! (editors, `git checkout` and sync clients replace files in several steps); a file that
//! appears meanwhile with its jobs (a rename or a move: matched by id, else by name) takes
//! them over with their ids and runs. A file gone for good, or a job taken out of a file,
//! is archived: the job is disabled and kept with its history, until a file defines it again.
//!
//! Which jobs came from which file, and which are archived, is kept in the settings table (one
//! key per folder), so a file deleted while Sundial was not running is archived at the next
//! start.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::jobfile::{FileFormat, ImportProblem, parse_job_file};
use crate::domain::validate::validate_spec;
use crate::domain::{Job, JobId, JobSpec, Trigger};
use crate::engine::Engine;
use crate::error::EngineError;

/// The settings key naming the jobs folder the scheduler keeps in sync (the app's setting;
/// `sundialctl daemon --jobs-dir` overrides it).
pub const JOBS_DIR_SETTING: &str = "jobs_dir";

/// How long a vanished job file may stay away before its jobs are archived: long enough for
/// an editor's save, a `git checkout` or a sync client replacing the file.
pub const SETTLE: Duration = Duration::from_secs(2);

/// What the folder sync did with one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FolderEvent {
    /// The file was read and its jobs now match it.
    Synced {
        file: String,
        created: Vec<String>,
        updated: Vec<String>,
        /// Always empty: the folder no longer deletes jobs (see `archived`). Kept so that
        /// readers of the event keep working.
        deleted: Vec<String>,
        unchanged: Vec<String>,
        /// Jobs taken out of the file: disabled, kept with their history.
        #[serde(default)]
        archived: Vec<String>,
        /// Jobs this file took over, with their ids and history, from a file that was renamed,
        /// moved or deleted (each is also in `updated` or `unchanged`).
        #[serde(default)]
        taken_over: Vec<String>,
    },
    /// The file has problems: nothing of it was applied; its jobs keep their last good
    /// definition.
    Broken {
        file: String,
        problems: Vec<ImportProblem>,
    },
    /// Not sent any more (a deleted file's jobs are archived, not deleted); kept so that
    /// readers of the event keep working.
    Removed { file: String, deleted: Vec<String> },
    /// The file is gone: its jobs are archived after [`SETTLE`] unless it, or a file with
    /// them, appears by then.
    Missing { file: String, jobs: Vec<String> },
    /// The file stayed gone: its jobs are disabled and kept with their history; a file that
    /// defines them again (by id or name) takes them back.
    Archived { file: String, archived: Vec<String> },
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

/// Which jobs belong to which file, as stored in the settings table.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    /// The jobs of each file in the folder (or gone for less than [`SETTLE`]).
    files: BTreeMap<String, Vec<JobId>>,
    /// The jobs archived from each file: disabled, until a file defines them again.
    archived: BTreeMap<String, Vec<JobId>>,
}

impl Index {
    /// Reads the stored index, also in its first form (a bare map of file to job ids).
    fn parse(text: &str) -> Index {
        if let Ok(files) = serde_json::from_str::<BTreeMap<String, Vec<JobId>>>(text) {
            return Index {
                files,
                archived: BTreeMap::new(),
            };
        }
        serde_json::from_str(text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the stored jobs folder index is unreadable; starting afresh");
            Index::default()
        })
    }

    /// Forgets `id` everywhere but under `file`'s own jobs.
    fn release(&mut self, id: JobId, file: &str) {
        for (name, ids) in self.files.iter_mut() {
            if name != file {
                ids.retain(|i| *i != id);
            }
        }
        for ids in self.archived.values_mut() {
            ids.retain(|i| *i != id);
        }
        self.archived.retain(|_, ids| !ids.is_empty());
    }
}

struct Sync {
    engine: Engine,
    dir: PathBuf,
    key: String,
    index: Index,
    /// The text of each file as last synced without problems: the same text is not synced again.
    synced_text: HashMap<String, String>,
    /// Files found gone, and when their jobs are archived unless they come back.
    gone: BTreeMap<String, Instant>,
    events: broadcast::Sender<FolderEvent>,
}

impl JobsFolder {
    /// Loads every job file in `dir` (reporting each through the returned events; files the
    /// index knows that are gone are archived at once), then keeps the jobs in sync with the
    /// folder until stopped.
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
        let index = match engine
            .store()
            .get_setting(&key)
            .await
            .map_err(EngineError::from)?
        {
            Some(text) => Index::parse(&text),
            None => Index::default(),
        };
        let (events, _) = broadcast::channel(1024);
        let mut sync = Sync {
            engine,
            dir,
            key,
            index,
            synced_text: HashMap::new(),
            gone: BTreeMap::new(),
            events: events.clone(),
        };
        let initial = sync.rescan(true).await;
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

/// Whether a watch event can change what a file says. Reading a file (`Access`: the sync's
/// own reads used to wake it again, 20 times a second) and its metadata cannot.
fn may_change_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(notify::event::ModifyKind::Metadata(_)) => false,
        _ => true,
    }
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
            let next_archive = self.gone.values().min().copied();
            let first = tokio::select! {
                _ = stop.cancelled() => return,
                _ = async {
                    match next_archive {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {
                    self.archive_due().await;
                    continue;
                }
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
                        if !may_change_content(&event.kind) {
                            continue;
                        }
                        for path in event.paths {
                            if path.parent() == Some(self.dir.as_path())
                                && is_job_file(&path)
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
                self.rescan(false).await;
            } else {
                // Files present first, so that a renamed file takes its jobs over before
                // its old name is reported missing.
                let (present, vanished): (Vec<String>, Vec<String>) =
                    names.into_iter().partition(|n| self.dir.join(n).exists());
                for name in present.into_iter().chain(vanished) {
                    if let Some(event) = self.sync_file(&name).await {
                        let _ = self.events.send(event);
                    }
                }
            }
        }
    }

    /// Syncs every job file in the folder, then every file the index knows that is gone:
    /// archived at once at the start (`now`), else given [`SETTLE`] to come back.
    async fn rescan(&mut self, now: bool) -> Vec<FolderEvent> {
        let mut present = BTreeSet::new();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_file()
                    && is_job_file(&path)
                    && let Some(name) = path.file_name().and_then(|n| n.to_str())
                {
                    present.insert(name.to_string());
                }
            }
        }
        let mut out = Vec::new();
        for name in &present {
            if let Some(event) = self.sync_file(name).await {
                out.push(event);
            }
        }
        let vanished: Vec<String> = self
            .index
            .files
            .keys()
            .filter(|n| !present.contains(*n))
            .cloned()
            .collect();
        for name in vanished {
            let event = if now {
                self.archive_file(&name).await
            } else {
                self.sync_file(&name).await
            };
            out.extend(event);
        }
        for event in &out {
            let _ = self.events.send(event.clone());
        }
        out
    }

    /// Archives the jobs of every file whose [`SETTLE`] is over and that is still gone.
    async fn archive_due(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .gone
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            self.gone.remove(&name);
            let event = if self.dir.join(&name).exists() {
                self.sync_file(&name).await
            } else {
                self.archive_file(&name).await
            };
            if let Some(event) = event {
                let _ = self.events.send(event);
            }
        }
    }

    /// Disables the jobs of a file gone for good and keeps them, with their history, as
    /// archived.
    async fn archive_file(&mut self, name: &str) -> Option<FolderEvent> {
        self.gone.remove(name);
        self.synced_text.remove(name);
        let ids = self.index.files.remove(name).unwrap_or_default();
        let archived = self.archive_jobs(name, &ids).await;
        self.save_index().await;
        if archived.is_empty() {
            return None;
        }
        Some(FolderEvent::Archived {
            file: name.to_string(),
            archived,
        })
    }

    /// Disables `ids` and records them as archived from `name`; returns the names of those
    /// that still exist.
    async fn archive_jobs(&mut self, name: &str, ids: &[JobId]) -> Vec<String> {
        let mut names = Vec::new();
        for id in ids {
            match self.engine.set_enabled(*id, false).await {
                Ok(job) => {
                    names.push(job.spec.name);
                    let list = self.index.archived.entry(name.to_string()).or_default();
                    if !list.contains(id) {
                        list.push(*id);
                    }
                }
                // Deleted meanwhile (by the user): nothing to keep.
                Err(EngineError::NotFound { .. }) => {}
                Err(e) => {
                    tracing::error!(job = %id, error = %e, "could not archive a job of the jobs folder");
                    names.push(id.to_string());
                    let list = self.index.archived.entry(name.to_string()).or_default();
                    if !list.contains(id) {
                        list.push(*id);
                    }
                }
            }
        }
        names.sort();
        names
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

    /// The names of the jobs `ids` that exist, sorted.
    async fn names_of(&self, ids: &[JobId]) -> Vec<String> {
        let mut names = Vec::new();
        for id in ids {
            if let Ok(job) = self.engine.get_job(*id).await {
                names.push(job.spec.name);
            }
        }
        names.sort();
        names
    }

    /// Brings `name`'s jobs in line with the file. `None`: nothing to report (the text is the
    /// one last synced, or a file gone that had no jobs or was already reported missing).
    async fn sync_file(&mut self, name: &str) -> Option<FolderEvent> {
        let path = self.dir.join(name);
        if !path.exists() {
            self.synced_text.remove(name);
            let ids = self.index.files.get(name).cloned().unwrap_or_default();
            let jobs = self.names_of(&ids).await;
            if jobs.is_empty() {
                self.gone.remove(name);
                if self.index.files.remove(name).is_some() {
                    self.save_index().await;
                }
                return None;
            }
            if self.gone.contains_key(name) {
                return None;
            }
            self.gone.insert(name.to_string(), Instant::now() + SETTLE);
            return Some(FolderEvent::Missing {
                file: name.to_string(),
                jobs,
            });
        }
        let came_back = self.gone.remove(name).is_some();
        let Some(format) = FileFormat::from_path(&path) else {
            return Some(Self::broken(
                name,
                "",
                "is not a .toml or .json file".into(),
            ));
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => return Some(Self::broken(name, "", format!("cannot be read: {e}"))),
        };
        if !came_back && self.synced_text.get(name) == Some(&text) {
            return None;
        }
        self.synced_text.remove(name);
        let event = self.apply_text(name, &text, format).await;
        if matches!(event, FolderEvent::Synced { .. }) {
            self.synced_text.insert(name.to_string(), text);
        }
        Some(event)
    }

    async fn apply_text(&mut self, name: &str, text: &str, format: FileFormat) -> FolderEvent {
        let parsed = match parse_job_file(text, format) {
            Ok(p) => p,
            Err(problems) => {
                return FolderEvent::Broken {
                    file: name.to_string(),
                    problems,
                };
            }
        };
        let owned_ids = self.index.files.get(name).cloned().unwrap_or_default();
        // Jobs another file may give up: those archived, and those of files that are gone
        // (a rename or a move seen from its new name first).
        let mut claimable: HashSet<JobId> =
            self.index.archived.values().flatten().copied().collect();
        for (file, ids) in &self.index.files {
            if file != name && !self.dir.join(file).exists() {
                claimable.extend(ids.iter().copied());
            }
        }
        // Check everything before changing anything.
        let now = self.engine.now();
        let others: Vec<Job> = match self.engine.list_jobs().await {
            Ok(jobs) => jobs,
            Err(e) => return Self::broken(name, "", format!("could not read the jobs: {e}")),
        };
        let by_id: HashMap<JobId, &Job> = others.iter().map(|j| (j.id, j)).collect();
        // Which stored job each of the file's jobs becomes: its own or a claimable one, by id,
        // else by name.
        let mut previous: Vec<Option<Job>> = vec![None; parsed.file.jobs.len()];
        let mut taken: HashSet<JobId> = HashSet::new();
        for (index, job) in parsed.file.jobs.iter().enumerate() {
            if let Some(id) = job.id
                && (owned_ids.contains(&id) || claimable.contains(&id))
                && let Some(stored) = by_id.get(&id)
                && taken.insert(id)
            {
                previous[index] = Some((*stored).clone());
            }
        }
        for (index, job) in parsed.file.jobs.iter().enumerate() {
            if previous[index].is_some() {
                continue;
            }
            let key = job.name.to_lowercase();
            let found = others.iter().find(|o| {
                o.spec.name.to_lowercase() == key
                    && (owned_ids.contains(&o.id) || claimable.contains(&o.id))
                    && !taken.contains(&o.id)
            });
            if let Some(stored) = found {
                taken.insert(stored.id);
                previous[index] = Some(stored.clone());
            }
        }
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
            let previous = previous[index].as_ref();
            let holder = others.iter().find(|o| o.spec.name.to_lowercase() == key);
            if let Some(holder) = holder
                && Some(holder.id) != previous.map(|p| p.id)
                && !owned_ids.contains(&holder.id)
            {
                push(
                    "name",
                    format!(
                        "“{}” is already the name of a job that does not come from this file",
                        spec.name
                    ),
                );
            }
            // Masked secrets keep the value stored for this file's job, else are refused.
            if let Err(errors) =
                crate::domain::secrets::keep_masked_secrets(&mut spec, previous.map(|p| &p.spec))
            {
                for e in errors.0 {
                    push(&e.field, e.message);
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
        // Apply. Jobs that left the file are archived first.
        let (mut created, mut updated, mut unchanged, mut taken_over) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut ids = Vec::new();
        let mut id_map: HashMap<JobId, JobId> = HashMap::new();
        let mut failures = Vec::new();
        let left: Vec<JobId> = owned_ids
            .iter()
            .filter(|id| !taken.contains(id))
            .copied()
            .collect();
        let archived = self.archive_jobs(name, &left).await;
        for (index, mut spec) in wanted {
            if let Trigger::AfterJob { job_id, .. } = &mut spec.trigger
                && let Some(mapped) = id_map.get(job_id)
            {
                *job_id = *mapped;
            }
            let file_id = parsed.file.jobs[index].id;
            let result = match &previous[index] {
                Some(job) => {
                    if !owned_ids.contains(&job.id) {
                        taken_over.push(spec.name.clone());
                    }
                    if same_spec(job, &spec) {
                        unchanged.push(spec.name.clone());
                        Ok(job.id)
                    } else {
                        let name = spec.name.clone();
                        self.engine
                            .update_job(job.id, spec, job.revision)
                            .await
                            .map(|j| {
                                updated.push(name);
                                j.id
                            })
                    }
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
        for id in &ids {
            self.index.release(*id, name);
        }
        // A job that failed to update stays this file's, as it was.
        for (index, job) in previous.iter().enumerate() {
            if let Some(job) = job
                && owned_ids.contains(&job.id)
                && !ids.contains(&job.id)
                && failures
                    .iter()
                    .any(|(n, _)| *n == parsed.file.jobs[index].name)
            {
                ids.push(job.id);
            }
        }
        self.index.files.insert(name.to_string(), ids);
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
            deleted: Vec::new(),
            unchanged,
            archived,
            taken_over,
        }
    }
}
