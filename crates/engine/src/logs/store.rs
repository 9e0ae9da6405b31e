//! Where run logs live, and which of them are still being written.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::future::Future;
use std::io::{BufRead, BufReader, BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use super::format::INDEX_AFTER_BYTES;
use super::reader::RunLog;
use super::writer::LogWriter;
use super::{LogError, LogLine, LogStats};
use crate::domain::RunId;

/// Lines sent to a follower per read.
const FOLLOW_BATCH: u64 = 1024;

/// How far the writer of a live log has got.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    pub lines: u64,
    pub bytes: u64,
    pub finished: bool,
}

/// Logs being written in this process, so followers know when a run ends.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveRegistry(Arc<Mutex<HashMap<RunId, watch::Receiver<Progress>>>>);

impl LiveRegistry {
    fn insert(&self, run: RunId, progress: watch::Receiver<Progress>) {
        self.lock().insert(run, progress);
    }
    pub(crate) fn remove(&self, run: RunId) {
        self.lock().remove(&run);
    }
    fn get(&self, run: RunId) -> Option<watch::Receiver<Progress>> {
        self.lock().get(&run).cloned()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RunId, watch::Receiver<Progress>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The directory of run logs. Files are `<dir>/<YYYY-MM-DD>/<run id>.log` and, for a log of
/// more than [`INDEX_AFTER_BYTES`], `.idx`, the date being the UTC day in the run id (ULIDs
/// carry their creation time). Only [`RunId`] values ever become paths: parse untrusted text
/// with [`LogStore::parse_run_id`].
///
/// Clones share the set of logs being written: give the runner and the log viewer clones of
/// one `LogStore`, so that [`LogStore::follow`] knows when a run ends.
#[derive(Debug, Clone)]
pub struct LogStore {
    dir: PathBuf,
    live: LiveRegistry,
}

impl LogStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            live: LiveRegistry::default(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Accepts only a 26-character ULID, so text like `../../etc/passwd` never reaches a path.
    pub fn parse_run_id(text: &str) -> Result<RunId, LogError> {
        Ok(text.parse::<RunId>()?)
    }

    /// The greppable log file of a run.
    pub fn log_path(&self, run: RunId) -> PathBuf {
        self.day_dir(run).join(format!("{run}.log"))
    }

    /// The index file of a run: one little-endian u64 per record, the offset just past it.
    /// Only a log of more than [`INDEX_AFTER_BYTES`] has one; readers index a smaller log by
    /// scanning it.
    pub fn index_path(&self, run: RunId) -> PathBuf {
        self.day_dir(run).join(format!("{run}.idx"))
    }

    fn day_dir(&self, run: RunId) -> PathBuf {
        let day = ulid::Ulid::from_string(&run.to_string())
            .ok()
            .and_then(|u| {
                let millis = i64::try_from(u.timestamp_ms()).ok()?;
                DateTime::<Utc>::from_timestamp_millis(millis)
            })
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "undated".to_string());
        self.dir.join(day)
    }

    /// Starts the log of a run (replacing any earlier files of the same run). `max_bytes` caps
    /// the output kept; Sundial's own notes may go slightly past it. Only the `.log` file is
    /// created: the writer creates the `.idx` when the log grows past [`INDEX_AFTER_BYTES`].
    pub fn create(&self, run: RunId, max_bytes: u64) -> Result<LogWriter, LogError> {
        let day_dir = self.day_dir(run);
        let (log_path, index_path) = (self.log_path(run), self.index_path(run));
        let log = crate::paths::create_private_dir(&day_dir)
            .and_then(|()| create_log_file(&log_path, &index_path))
            .map_err(|e| LogError::write(&day_dir, e))?;
        let (progress, watcher) = watch::channel(Progress::default());
        self.live.insert(run, watcher);
        Ok(LogWriter::new(
            run,
            day_dir,
            log,
            index_path,
            max_bytes,
            progress,
            self.live.clone(),
        ))
    }

    /// Opens a run's log for reading (it may still be being written).
    pub fn open(&self, run: RunId) -> Result<RunLog, LogError> {
        RunLog::open(&self.log_path(run), &self.index_path(run)).map_err(|e| match e {
            LogError::Read { .. } if !self.log_path(run).exists() => {
                LogError::NotFound(run.to_string())
            }
            other => other,
        })
    }

    /// True while this process is writing the run's log.
    pub fn is_live(&self, run: RunId) -> bool {
        self.live.get(run).is_some()
    }

    /// Every line of a run's log from `from_line` on, then new lines as they are written;
    /// the subscription ends when the run's log is finished. For a log not being written by
    /// this process, it yields the lines already there and ends.
    pub fn follow(&self, run: RunId, from_line: u64) -> Result<LogFollow, LogError> {
        let end = match self.live.get(run) {
            Some(progress) => FollowEnd::Live(progress),
            None => FollowEnd::Finished,
        };
        self.start_follow(run, from_line, end)
    }

    /// Like [`LogStore::follow`], for a log another process writes (the CLI following a run of
    /// the desktop app): checks the file for new lines every `poll` until `finished` resolves
    /// (say, when the run's row turns terminal), then delivers the last lines and ends.
    pub fn follow_external(
        &self,
        run: RunId,
        from_line: u64,
        poll: Duration,
        finished: impl Future<Output = ()> + Send + 'static,
    ) -> Result<LogFollow, LogError> {
        let end = FollowEnd::External {
            poll,
            finished: Box::pin(finished),
        };
        self.start_follow(run, from_line, end)
    }

    fn start_follow(
        &self,
        run: RunId,
        from_line: u64,
        end: FollowEnd,
    ) -> Result<LogFollow, LogError> {
        let log = Arc::new(self.open(run)?);
        let (sender, receiver) = mpsc::channel(FOLLOW_BATCH as usize);
        tokio::spawn(follow_loop(log, end, from_line, sender));
        Ok(LogFollow { receiver })
    }

    /// Appends a Sundial note to the log of a run no process is writing (a run found
    /// interrupted), then rebuilds its index. An unfinished last record is ended first, so the
    /// note is a record of its own.
    pub fn append_note(&self, run: RunId, time: DateTime<Utc>, text: &str) -> Result<(), LogError> {
        if self.is_live(run) {
            return Err(LogError::Live(run.to_string()));
        }
        let log_path = self.log_path(run);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => LogError::NotFound(run.to_string()),
                _ => LogError::read(&log_path, e),
            })?;
        let ends_open = {
            use std::io::{Read, Seek, SeekFrom};
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let mut last = [b'\n'];
            if len > 0 {
                file.seek(SeekFrom::Start(len - 1))
                    .and_then(|_| file.read_exact(&mut last))
                    .map_err(|e| LogError::read(&log_path, e))?;
            }
            last[0] != b'\n'
        };
        let stamp = time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let mut records = String::new();
        if ends_open {
            records.push('\n');
        }
        for line in text.split('\n') {
            records.push_str(&format!("{stamp} S {line}\n"));
        }
        file.write_all(records.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| LogError::write(&self.day_dir(run), e))?;
        drop(file);
        self.rebuild_index(run).map(|_| ())
    }

    /// Rebuilds a run's index from its log file, for a log whose writer did not finish (the
    /// app crashed or the machine lost power): every complete record is indexed again and an
    /// unfinished last record is left out. Refused while this process is writing the log.
    ///
    /// As the writer does, it leaves an `.idx` only when the complete records take more than
    /// [`INDEX_AFTER_BYTES`]; for a smaller log any `.idx` is removed (readers scan the log).
    pub fn rebuild_index(&self, run: RunId) -> Result<LogStats, LogError> {
        if self.is_live(run) {
            return Err(LogError::Live(run.to_string()));
        }
        let log_path = self.log_path(run);
        let file = File::open(&log_path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => LogError::NotFound(run.to_string()),
            _ => LogError::read(&log_path, e),
        })?;
        let index_path = self.index_path(run);
        let partial_path = partial_index_path(&index_path);
        let write_err = |e| LogError::write(&self.day_dir(run), e);
        // Offsets stay in memory while the log is small; past the threshold they stream to
        // the side file, which is then renamed over the old index.
        let mut small: Vec<u64> = Vec::new();
        let mut index: Option<BufWriter<File>> = None;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut record = Vec::with_capacity(4096);
        let mut stats = LogStats::default();
        loop {
            record.clear();
            let n = reader
                .read_until(b'\n', &mut record)
                .map_err(|e| LogError::read(&log_path, e))?;
            if n == 0 || record.last() != Some(&b'\n') {
                break;
            }
            stats.bytes += n as u64;
            stats.lines += 1;
            match &mut index {
                Some(index) => index
                    .write_all(&stats.bytes.to_le_bytes())
                    .map_err(write_err)?,
                None => {
                    small.push(stats.bytes);
                    if stats.bytes > INDEX_AFTER_BYTES {
                        let mut file = BufWriter::new(
                            crate::paths::private_file_options()
                                .write(true)
                                .create(true)
                                .truncate(true)
                                .open(&partial_path)
                                .map_err(write_err)?,
                        );
                        for end in small.drain(..) {
                            file.write_all(&end.to_le_bytes()).map_err(write_err)?;
                        }
                        index = Some(file);
                    }
                }
            }
        }
        match index {
            Some(mut index) => {
                index.flush().map_err(write_err)?;
                drop(index);
                fs::rename(&partial_path, &index_path).map_err(write_err)?;
            }
            None => {
                for path in [&index_path, &partial_path] {
                    remove_if_present(path).map_err(write_err)?;
                }
            }
        }
        Ok(stats)
    }

    /// Deletes a run's log files (retention). Missing files are not an error: a small log
    /// has no `.idx`.
    pub fn remove(&self, run: RunId) -> Result<(), LogError> {
        let partial = partial_index_path(&self.index_path(run));
        for path in [self.log_path(run), self.index_path(run), partial] {
            remove_if_present(&path).map_err(|e| LogError::write(&self.day_dir(run), e))?;
        }
        // The day's folder goes when its last run goes; a non-empty folder stays.
        let _ = fs::remove_dir(self.day_dir(run));
        Ok(())
    }
}

/// Creates an empty `.log`. In the usual case the file is new: one `open`, nothing else. When
/// a log of the same run was there, it is emptied and its index files removed, so no reader
/// takes the old `.idx` for the new log's.
/// Run logs are the user's alone (0600 on Unix): a job's output may hold anything.
fn create_log_file(log_path: &Path, index_path: &Path) -> std::io::Result<File> {
    match crate::paths::private_file_options()
        .write(true)
        .create_new(true)
        .open(log_path)
    {
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            remove_if_present(index_path)?;
            remove_if_present(&partial_index_path(index_path))?;
            crate::paths::private_file_options()
                .write(true)
                .create(true)
                .truncate(true)
                .open(log_path)
        }
        other => other,
    }
}

/// The side file an `.idx` is written in before it is renamed into place (by the writer when
/// a log passes the threshold, and by [`LogStore::rebuild_index`]).
pub(crate) fn partial_index_path(index_path: &Path) -> PathBuf {
    index_path.with_extension("idx.partial")
}

/// Deletes a file; one that is not there is not an error.
fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// New lines of a run's log; `None` once the run has finished and every line was delivered.
#[derive(Debug)]
pub struct LogFollow {
    receiver: mpsc::Receiver<Result<LogLine, LogError>>,
}

impl LogFollow {
    pub async fn next(&mut self) -> Option<Result<LogLine, LogError>> {
        self.receiver.recv().await
    }

    pub fn into_receiver(self) -> mpsc::Receiver<Result<LogLine, LogError>> {
        self.receiver
    }
}

/// What ends a follow.
enum FollowEnd {
    /// The log is complete already.
    Finished,
    /// This process writes the log: its progress says when new lines are flushed and when the
    /// log is finished.
    Live(watch::Receiver<Progress>),
    /// Another process writes it: poll, until told it is finished.
    External {
        poll: Duration,
        finished: Pin<Box<dyn Future<Output = ()> + Send>>,
    },
}

impl FollowEnd {
    /// Whether the log is finished; read before counting lines, so that no line written
    /// before the end is missed.
    fn is_finished(&mut self) -> bool {
        match self {
            FollowEnd::Finished => true,
            FollowEnd::Live(progress) => progress.borrow_and_update().finished,
            FollowEnd::External { .. } => false,
        }
    }

    /// Waits for something that may have added lines or finished the log.
    async fn changed(&mut self) {
        match self {
            FollowEnd::Finished => {}
            FollowEnd::Live(progress) => {
                if progress.changed().await.is_err() {
                    // The writer is gone: one last pass picks up whatever it flushed.
                    *self = FollowEnd::Finished;
                }
            }
            FollowEnd::External { poll, finished } => {
                tokio::select! {
                    _ = finished.as_mut() => *self = FollowEnd::Finished,
                    _ = tokio::time::sleep(*poll) => {}
                }
            }
        }
    }
}

async fn follow_loop(
    log: Arc<RunLog>,
    mut end: FollowEnd,
    mut next_line: u64,
    sender: mpsc::Sender<Result<LogLine, LogError>>,
) {
    loop {
        let finished = end.is_finished();
        loop {
            let log = Arc::clone(&log);
            let batch = tokio::task::spawn_blocking(move || {
                let count = log.line_count()?;
                let n = count.saturating_sub(next_line).min(FOLLOW_BATCH);
                log.read_lines(next_line, n as usize)
            })
            .await;
            let lines = match batch {
                Ok(Ok(lines)) => lines,
                Ok(Err(e)) => {
                    let _ = sender.send(Err(e)).await;
                    return;
                }
                Err(_) => return,
            };
            if lines.is_empty() {
                break;
            }
            next_line += lines.len() as u64;
            for line in lines {
                if sender.send(Ok(line)).await.is_err() {
                    return; // Nobody is listening any more.
                }
            }
        }
        if finished {
            return;
        }
        end.changed().await;
    }
}
