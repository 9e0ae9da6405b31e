//! File-arrives triggers in the scheduler: the folders watched (with `notify`), the files
//! waiting to settle, and what each job has handled. The loop owns it; only the scheduling
//! process (the lease holder) watches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::domain::{JobId, Trigger, compile_glob};
use crate::store::FileStamp;

/// How often every watched folder is looked at besides its events (a folder removed with its
/// parent, an unmounted disk, a watch the system dropped).
pub(super) const FOLDER_CHECK_EVERY: Duration = Duration::seconds(2);

/// One job's watch.
pub(super) struct Watch {
    pub folder: PathBuf,
    pub glob: String,
    pattern: glob::Pattern,
    settle: Duration,
    /// Why the folder cannot be watched now.
    pub problem: Option<String>,
    /// Files seen changing, by path: their last stamp and when it last changed.
    pending: HashMap<PathBuf, (FileStamp, DateTime<Utc>)>,
    pub handled: HashMap<String, FileStamp>,
}

/// A file that stopped changing: its job runs for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Arrival {
    pub job_id: JobId,
    pub path: String,
    pub stamp: FileStamp,
}

pub(super) struct Arrivals {
    watcher: Option<notify::RecommendedWatcher>,
    pub events: mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
    sender: mpsc::UnboundedSender<notify::Result<notify::Event>>,
    pub watches: HashMap<JobId, Watch>,
    /// Folders (and their parents) watched, with how many jobs need each.
    watched: HashMap<PathBuf, usize>,
    pub next_check: DateTime<Utc>,
}

/// The folder, pattern and settle time of a file-arrives trigger.
pub(super) fn spec_of(trigger: &Trigger) -> Option<(PathBuf, String, u64)> {
    match trigger {
        Trigger::FileArrives {
            folder,
            glob,
            settle_secs,
        } => Some((
            PathBuf::from(folder.trim()),
            glob.trim().to_string(),
            *settle_secs,
        )),
        _ => None,
    }
}

/// A file's stamp, when it is a regular file.
pub(super) fn stamp_of(path: &Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    Some(FileStamp {
        size: meta.len(),
        mtime_ns,
    })
}

fn matches(pattern: &glob::Pattern, path: &Path) -> bool {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        // A pattern such as * does not match editors' and downloads' hidden partial files.
        require_literal_leading_dot: true,
    };
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| pattern.matches_with(n, options))
}

/// The matching files in a folder now, or why it cannot be read.
pub(super) fn scan(folder: &Path, glob: &str) -> Result<Vec<(String, FileStamp)>, String> {
    let pattern = compile_glob(glob)?;
    let entries = std::fs::read_dir(folder).map_err(|e| folder_problem(folder, &e))?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if matches(&pattern, &path)
            && let Some(stamp) = stamp_of(&path)
        {
            found.push((path.display().to_string(), stamp));
        }
    }
    Ok(found)
}

fn folder_problem(folder: &Path, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        format!("the folder {} does not exist any more", folder.display())
    } else {
        format!("the folder {} cannot be read: {e}", folder.display())
    }
}

impl Arrivals {
    pub fn new(now: DateTime<Utc>) -> Self {
        let (sender, events) = mpsc::unbounded_channel();
        Arrivals {
            watcher: None,
            events,
            sender,
            watches: HashMap::new(),
            watched: HashMap::new(),
            next_check: now + FOLDER_CHECK_EVERY,
        }
    }

    /// The watch of a job, if it watches this folder and pattern with this settle time.
    pub fn same(&self, id: JobId, spec: &(PathBuf, String, u64)) -> bool {
        self.watches.get(&id).is_some_and(|w| {
            w.folder == spec.0 && w.glob == spec.1 && w.settle == Duration::seconds(spec.2 as i64)
        })
    }

    fn add_os_watch(&mut self, path: &Path) {
        let count = self.watched.entry(path.to_path_buf()).or_insert(0);
        *count += 1;
        if *count > 1 {
            return;
        }
        if self.watcher.is_none() {
            let sender = self.sender.clone();
            match notify::recommended_watcher(move |event| {
                let _ = sender.send(event);
            }) {
                Ok(w) => self.watcher = Some(w),
                Err(e) => {
                    tracing::error!(error = %e, "cannot watch folders; file-arrives jobs rely on the periodic check");
                    return;
                }
            }
        }
        if let Some(w) = self.watcher.as_mut()
            && let Err(e) = w.watch(path, RecursiveMode::NonRecursive)
        {
            tracing::debug!(path = %path.display(), error = %e, "cannot watch this folder now");
        }
    }

    fn remove_os_watch(&mut self, path: &Path) {
        let Some(count) = self.watched.get_mut(path) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            self.watched.remove(path);
            if let Some(w) = self.watcher.as_mut() {
                let _ = w.unwatch(path);
            }
        }
    }

    /// Re-registers a folder with the system (after it came back, the old watch is gone).
    fn rewatch(&mut self, path: &Path) {
        if let Some(w) = self.watcher.as_mut() {
            let _ = w.unwatch(path);
            let _ = w.watch(path, RecursiveMode::NonRecursive);
        }
    }

    /// Starts watching for a job with what it handled before; the files there now that it has
    /// not handled (new or changed) start settling. Returns the handled files that are gone.
    pub fn insert(
        &mut self,
        id: JobId,
        spec: (PathBuf, String, u64),
        handled: HashMap<String, FileStamp>,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        self.remove(id);
        let (folder, glob, settle) = spec;
        let Ok(pattern) = compile_glob(&glob) else {
            return Vec::new();
        };
        self.add_os_watch(&folder);
        if let Some(parent) = folder.parent() {
            self.add_os_watch(parent);
        }
        let mut watch = Watch {
            folder,
            glob,
            pattern,
            settle: Duration::seconds(i64::try_from(settle).unwrap_or(3600)),
            problem: None,
            pending: HashMap::new(),
            handled,
        };
        let gone = match Self::rescan(&mut watch, now) {
            Ok(gone) => gone,
            Err(problem) => {
                watch.problem = Some(problem);
                Vec::new()
            }
        };
        self.watches.insert(id, watch);
        gone
    }

    /// Stops watching for a job.
    pub fn remove(&mut self, id: JobId) {
        if let Some(w) = self.watches.remove(&id) {
            self.remove_os_watch(&w.folder);
            if let Some(parent) = w.folder.parent() {
                self.remove_os_watch(parent);
            }
        }
    }

    pub fn clear(&mut self) {
        let ids: Vec<JobId> = self.watches.keys().copied().collect();
        for id in ids {
            self.remove(id);
        }
        self.watcher = None;
    }

    /// Looks at every file in a watch's folder: unhandled ones settle; the handled ones gone
    /// are returned (to forget). Err: the folder cannot be read.
    fn rescan(watch: &mut Watch, now: DateTime<Utc>) -> Result<Vec<String>, String> {
        let found = scan(&watch.folder, &watch.glob)?;
        let present: std::collections::HashSet<&String> = found.iter().map(|(p, _)| p).collect();
        let gone: Vec<String> = watch
            .handled
            .keys()
            .filter(|p| !present.contains(p))
            .cloned()
            .collect();
        for p in &gone {
            watch.handled.remove(p);
        }
        for (path, stamp) in &found {
            Self::observe(watch, Path::new(path), Some(*stamp), now);
        }
        Ok(gone)
    }

    /// A file seen now with this stamp (None: it is gone).
    fn observe(watch: &mut Watch, path: &Path, stamp: Option<FileStamp>, now: DateTime<Utc>) {
        let key = path.display().to_string();
        let Some(stamp) = stamp else {
            watch.pending.remove(path);
            watch.handled.remove(&key);
            return;
        };
        if watch.handled.get(&key) == Some(&stamp) {
            watch.pending.remove(path);
            return;
        }
        match watch.pending.get_mut(path) {
            Some((seen, since)) if *seen != stamp => {
                *seen = stamp;
                *since = now;
            }
            Some(_) => {}
            None => {
                watch.pending.insert(path.to_path_buf(), (stamp, now));
            }
        }
    }

    /// Handles a file-system event. Returns whether a watched folder itself was touched (the
    /// caller checks the folders then).
    pub fn on_event(&mut self, event: notify::Result<notify::Event>, now: DateTime<Utc>) -> bool {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(error = %e, "folder watch error; checking the folders");
                return true;
            }
        };
        if event.need_rescan() {
            for watch in self.watches.values_mut() {
                if watch.problem.is_none() {
                    let _ = Self::rescan(watch, now);
                }
            }
            return true;
        }
        let mut folder_touched = false;
        for path in &event.paths {
            for watch in self.watches.values_mut() {
                if path == &watch.folder {
                    folder_touched = true;
                } else if path.parent() == Some(watch.folder.as_path())
                    && watch.problem.is_none()
                    && matches(&watch.pattern, path)
                {
                    let stamp = stamp_of(path);
                    Self::observe(watch, path, stamp, now);
                }
            }
        }
        folder_touched
    }

    /// Looks at every watched folder: one gone or unreadable gets a problem; one back is
    /// watched again and scanned. Returns the jobs whose problem changed, with the new one.
    pub fn check_folders(&mut self, now: DateTime<Utc>) -> Vec<(JobId, Option<String>)> {
        self.next_check = now + FOLDER_CHECK_EVERY;
        let mut changed = Vec::new();
        let mut rewatch = Vec::new();
        for (id, watch) in self.watches.iter_mut() {
            let state = match std::fs::metadata(&watch.folder) {
                Ok(m) if m.is_dir() => match std::fs::read_dir(&watch.folder) {
                    Ok(_) => None,
                    Err(e) => Some(folder_problem(&watch.folder, &e)),
                },
                Ok(_) => Some(format!(
                    "{} is a file now, not a folder",
                    watch.folder.display()
                )),
                Err(e) => Some(folder_problem(&watch.folder, &e)),
            };
            match (&watch.problem, state) {
                (None, None) => {}
                (Some(_), None) => {
                    rewatch.push(watch.folder.clone());
                    watch.problem = Self::rescan(watch, now).err();
                    changed.push((*id, watch.problem.clone()));
                }
                (None, Some(problem)) => {
                    watch.pending.clear();
                    watch.problem = Some(problem);
                    changed.push((*id, watch.problem.clone()));
                }
                (Some(old), Some(problem)) => {
                    if *old != problem {
                        watch.problem = Some(problem);
                        changed.push((*id, watch.problem.clone()));
                    }
                }
            }
        }
        for folder in rewatch {
            self.rewatch(&folder);
        }
        changed
    }

    /// When the loop must look next: the first file to settle, or the next folder check.
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        if self.watches.is_empty() {
            return None;
        }
        let settle = self
            .watches
            .values()
            .flat_map(|w| w.pending.values().map(move |(_, since)| *since + w.settle))
            .min();
        Some(settle.map_or(self.next_check, |s| s.min(self.next_check)))
    }

    /// The files that have not changed for their job's settle time, looked at once more
    /// (a file that changed since the last event starts settling again).
    pub fn settled(&mut self, now: DateTime<Utc>) -> Vec<Arrival> {
        let mut ready = Vec::new();
        for (id, watch) in self.watches.iter_mut() {
            let due: Vec<PathBuf> = watch
                .pending
                .iter()
                .filter(|(_, (_, since))| *since + watch.settle <= now)
                .map(|(p, _)| p.clone())
                .collect();
            for path in due {
                let Some((seen, _)) = watch.pending.remove(&path) else {
                    continue;
                };
                match stamp_of(&path) {
                    None => {}
                    Some(stamp) if stamp != seen => {
                        watch.pending.insert(path, (stamp, now));
                    }
                    Some(stamp) => ready.push(Arrival {
                        job_id: *id,
                        path: path.display().to_string(),
                        stamp,
                    }),
                }
            }
        }
        ready.sort_by(|a, b| (a.job_id, &a.path).cmp(&(b.job_id, &b.path)));
        ready
    }

    /// Puts files back to settle (their runs could not be recorded).
    pub fn retry_later(&mut self, arrivals: Vec<Arrival>, now: DateTime<Utc>) {
        for a in arrivals {
            if let Some(w) = self.watches.get_mut(&a.job_id) {
                w.pending.insert(PathBuf::from(&a.path), (a.stamp, now));
            }
        }
    }

    pub fn handled(&mut self, arrival: &Arrival) {
        if let Some(w) = self.watches.get_mut(&arrival.job_id) {
            w.handled.insert(arrival.path.clone(), arrival.stamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_file_changing_settles_only_after_it_stopped_changing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        let mut arrivals = Arrivals::new(t(0));
        let id = JobId::new();
        arrivals.insert(
            id,
            (dir.path().to_path_buf(), "*.csv".into(), 5),
            HashMap::new(),
            t(0),
        );
        for (i, at) in [0, 2, 4, 6].into_iter().enumerate() {
            std::fs::write(&file, "x".repeat(i + 1)).unwrap();
            let stamp = stamp_of(&file);
            Arrivals::observe(arrivals.watches.get_mut(&id).unwrap(), &file, stamp, t(at));
            assert!(
                arrivals.settled(t(at + 4)).is_empty(),
                "fired while changing"
            );
        }
        assert_eq!(arrivals.deadline(), Some(t(2).min(t(11))));
        let ready = arrivals.settled(t(11));
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].stamp.size, 4);
        arrivals.handled(&ready[0]);
        assert!(arrivals.settled(t(100)).is_empty(), "fired twice");
    }

    #[test]
    fn hidden_files_and_other_names_do_not_match() {
        let p = compile_glob("*.csv").unwrap();
        assert!(matches(&p, Path::new("/d/a.csv")));
        assert!(!matches(&p, Path::new("/d/.a.csv")));
        assert!(!matches(&p, Path::new("/d/a.csv.part")));
    }
}
