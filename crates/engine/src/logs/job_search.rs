//! A job's logs as one: a search over every run log of a job, newest run first, as the older
//! schedulers kept one log folder per job. Results stream run by run (each with the lines that
//! matched and where); at most `max_matches` lines are returned in all, and every matching line
//! and run is counted. The files are searched in parallel, a few at a time, and handed on in
//! order, so the memory used stays bounded by a few runs' worth of shown lines.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;

use chrono::{DateTime, Utc};
use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
/// How a job-wide search is stopped (re-exported so that callers need no tokio-util).
pub use tokio_util::sync::CancellationToken;

use super::LogError;
use super::format::{RawRecord, Stream};
use super::reader::{MatchMode, SearchMatch, SearchQuery};
use super::store::LogStore;
use super::view::utf16_ranges;
use super::views::MAX_SEARCH_MATCHES;
use crate::domain::{JobId, Run, RunId, RunStatus};
use crate::error::EngineError;
use crate::store::{RunFilter, Store};

/// Runs listed from the database at a time (the first page is small, so that the first
/// results show at once).
const FIRST_PAGE: u32 = 16;
const PAGE: u32 = 256;
/// The text of a shown line is cut after this many bytes (the match ranges are kept within).
const MAX_SHOWN_TEXT: usize = 2000;
/// Shown lines of one run are handed on in pieces of at most this many.
const PIECE_LINES: usize = 250;

/// A search over all of a job's run logs.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobLogSearch {
    pub pattern: String,
    /// Read the pattern as a regular expression (Rust regex syntax) instead of literal text.
    pub regex: bool,
    pub case_sensitive: bool,
    /// At most this many lines are returned in all (1 to 10000); all are counted.
    pub max_matches: u32,
}

impl JobLogSearch {
    /// Checks the pattern (not empty; a valid regex when `regex`).
    pub fn validate(&self) -> Result<(), LogError> {
        self.query().compile().map(|_| ())
    }

    fn query(&self) -> SearchQuery {
        SearchQuery {
            pattern: self.pattern.clone(),
            mode: if self.regex {
                MatchMode::Regex
            } else {
                MatchMode::Literal
            },
            case_sensitive: self.case_sensitive,
            stream: None,
        }
    }
}

/// One matching line of a run's log.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobLogLine {
    /// The line's number in the run's log (open the viewer there).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub line: u64,
    /// When it was written, RFC 3339 UTC with milliseconds.
    pub time: String,
    pub stream: Stream,
    /// The line's text (cut after 2000 bytes).
    pub text: String,
    /// Where the matches are in `text`, as [start, end) in UTF-16 code units.
    #[cfg_attr(feature = "ts", ts(type = "Array<[number, number]>"))]
    pub ranges: Vec<(usize, usize)>,
}

/// The matches of one run (a run with many is handed on in several pieces, in order).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobLogRun {
    pub run_id: String,
    /// When the run started (when it was due, for a run that never started).
    pub time: DateTime<Utc>,
    pub status: RunStatus,
    /// Matching lines in this run's log, shown or not.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    pub matches: Vec<JobLogLine>,
}

/// What a finished (or cancelled) search found.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobLogSummary {
    /// Runs whose logs were searched.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub runs: u64,
    /// Runs with at least one matching line.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub runs_matched: u64,
    /// Matching lines in all of them.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    /// Lines returned (at most `max_matches`).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub shown: u64,
    /// Bytes of log searched.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
    /// Logs that could not be read (a run without a log, as a skipped run has, is not one).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unreadable: u64,
    /// The search was stopped before the oldest run.
    pub cancelled: bool,
}

/// A run whose log is to be searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRef {
    pub id: RunId,
    pub time: DateTime<Utc>,
    pub status: RunStatus,
}

impl From<&Run> for RunRef {
    fn from(run: &Run) -> Self {
        Self {
            id: run.id,
            time: run.started_at.unwrap_or(run.scheduled_for),
            status: run.status,
        }
    }
}

/// Searches run logs in the order given, a few files at a time in parallel, keeping the
/// counts across calls. The blocking core of [`search_job_logs`] (and of the benchmark).
pub struct RunLogSearcher {
    logs: LogStore,
    query: SearchQuery,
    regex: Regex,
    max: usize,
    threads: usize,
    summary: JobLogSummary,
}

/// What a worker found in one file.
struct FileResult {
    total: u64,
    bytes: u64,
    lines: Vec<JobLogLine>,
    unreadable: bool,
    /// The run has no log (a skipped run, or one whose log was removed).
    missing: bool,
}

impl RunLogSearcher {
    /// Fails with [`LogError::Pattern`] when the pattern is empty or not a valid regex.
    pub fn new(logs: LogStore, search: &JobLogSearch) -> Result<Self, LogError> {
        let query = search.query();
        let regex = query.compile()?;
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 4);
        Ok(Self {
            logs,
            query,
            regex,
            max: search.max_matches.clamp(1, MAX_SEARCH_MATCHES) as usize,
            threads,
            summary: JobLogSummary::default(),
        })
    }

    /// Files searched at once (at least one).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    pub fn summary(&self) -> &JobLogSummary {
        &self.summary
    }

    pub fn into_summary(self) -> JobLogSummary {
        self.summary
    }

    /// Searches `runs` in order, handing each run with matches to `emit` in that order.
    /// Returns false when `emit` returned false or `cancel` was set (the summary then says
    /// `cancelled`).
    pub fn search(
        &mut self,
        runs: &[RunRef],
        cancel: &CancellationToken,
        mut emit: impl FnMut(JobLogRun) -> bool,
    ) -> bool {
        // A window of files in flight: results are handed on in order, so at most this many
        // runs' shown lines wait in memory.
        let window = self.threads * 2;
        for chunk in runs.chunks(window) {
            if cancel.is_cancelled() {
                self.summary.cancelled = true;
                return false;
            }
            let keep = self.max.saturating_sub(self.summary.shown as usize);
            let results = self.search_files(chunk, keep, cancel);
            for (run, result) in chunk.iter().zip(results) {
                let Some(result) = result else {
                    self.summary.cancelled = true;
                    return false;
                };
                if !self.hand_on(run, result, &mut emit) {
                    self.summary.cancelled = true;
                    return false;
                }
            }
        }
        true
    }

    fn hand_on(
        &mut self,
        run: &RunRef,
        result: FileResult,
        emit: &mut impl FnMut(JobLogRun) -> bool,
    ) -> bool {
        let s = &mut self.summary;
        if result.missing {
            return true;
        }
        if result.unreadable {
            s.unreadable += 1;
            return true;
        }
        s.runs += 1;
        s.bytes += result.bytes;
        if result.total == 0 {
            return true;
        }
        s.runs_matched += 1;
        s.total += result.total;
        let room = self.max.saturating_sub(s.shown as usize);
        let mut lines = result.lines;
        lines.truncate(room);
        s.shown += lines.len() as u64;
        let piece = |matches: Vec<JobLogLine>| JobLogRun {
            run_id: run.id.to_string(),
            time: run.time,
            status: run.status,
            total: result.total,
            matches,
        };
        if lines.is_empty() {
            return emit(piece(Vec::new()));
        }
        while !lines.is_empty() {
            let rest = lines.split_off(lines.len().min(PIECE_LINES));
            if !emit(piece(std::mem::replace(&mut lines, rest))) {
                return false;
            }
        }
        true
    }

    /// Searches the files of `runs` on up to `threads` threads; `None` for a file not
    /// searched because the search was cancelled.
    fn search_files(
        &self,
        runs: &[RunRef],
        keep: usize,
        cancel: &CancellationToken,
    ) -> Vec<Option<FileResult>> {
        if runs.len() == 1 || self.threads == 1 {
            return runs
                .iter()
                .map(|r| (!cancel.is_cancelled()).then(|| self.search_file(r.id, keep)))
                .collect();
        }
        let next = AtomicUsize::new(0);
        let (tx, rx) = std_mpsc::channel();
        std::thread::scope(|scope| {
            for _ in 0..self.threads.min(runs.len()) {
                let tx = tx.clone();
                let next = &next;
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= runs.len() || cancel.is_cancelled() {
                            break;
                        }
                        let result = self.search_file(runs[i].id, keep);
                        if tx.send((i, result)).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        drop(tx);
        let mut found: BTreeMap<usize, FileResult> = rx.into_iter().collect();
        (0..runs.len()).map(|i| found.remove(&i)).collect()
    }

    fn search_file(&self, run: RunId, keep: usize) -> FileResult {
        let mut result = FileResult {
            total: 0,
            bytes: 0,
            lines: Vec::new(),
            unreadable: false,
            missing: false,
        };
        let log = match self.logs.open(run) {
            Ok(log) => log,
            Err(LogError::NotFound(_)) => {
                result.missing = true;
                return result;
            }
            Err(_) => {
                result.unreadable = true;
                return result;
            }
        };
        let before = log.bytes_read();
        let searched = log.search_records(&self.regex, &self.query, 0, None, |m, raw| {
            result.total += 1;
            if result.lines.len() < keep {
                result.lines.push(shown_line(&m, raw));
            }
            true
        });
        result.bytes = log.bytes_read() - before;
        if searched.is_err() {
            result.unreadable = true;
        }
        result
    }
}

fn shown_line(m: &SearchMatch, raw: &RawRecord<'_>) -> JobLogLine {
    let mut cut = raw.text.len().min(MAX_SHOWN_TEXT);
    // Never cut inside a UTF-8 sequence.
    while cut < raw.text.len() && cut > 0 && (raw.text[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    let text = String::from_utf8_lossy(&raw.text[..cut]).into_owned();
    let ranges: Vec<_> = m.ranges.iter().filter(|r| r.end <= cut).cloned().collect();
    JobLogLine {
        line: m.line,
        time: String::from_utf8_lossy(raw.time).into_owned(),
        stream: raw.stream,
        ranges: utf16_ranges(&text, &ranges),
        text,
    }
}

/// Searches every run log of `job`, newest run first, handing each run with matches to
/// `on_run` as soon as it is known (return false to stop). Ends at the oldest run, when
/// `cancel` is set or `on_run` returns false. The runs are listed from the database a page
/// at a time (keyset on the run id), never all at once.
pub async fn search_job_logs(
    store: &Store,
    logs: &LogStore,
    job: JobId,
    search: &JobLogSearch,
    cancel: &CancellationToken,
    mut on_run: impl FnMut(JobLogRun) -> bool,
) -> Result<JobLogSummary, EngineError> {
    if store.get_job(job).await?.is_none() {
        return Err(EngineError::not_found(format!("job {job}")));
    }
    let mut searcher = RunLogSearcher::new(logs.clone(), search)?;
    let mut before = None;
    let mut limit = FIRST_PAGE;
    loop {
        let page = store
            .list_runs(&RunFilter {
                job_id: Some(job),
                before,
                limit,
                ..RunFilter::default()
            })
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        before = Some(last.id);
        let full = page.len() as u32 == limit;
        let runs: Vec<RunRef> = page.iter().map(RunRef::from).collect();
        // The files are read on a blocking thread; its results come back through a channel
        // while it goes on.
        let (tx, mut rx) = mpsc::channel::<JobLogRun>(16);
        let token = cancel.clone();
        let work = tokio::task::spawn_blocking(move || {
            let go_on = searcher.search(&runs, &token, |run| tx.blocking_send(run).is_ok());
            (searcher, go_on)
        });
        while let Some(run) = rx.recv().await {
            if !on_run(run) {
                // Nothing more is handed on; the blocking side stops at its next file.
                cancel.cancel();
                break;
            }
        }
        drop(rx);
        let (back, go_on) = match work.await {
            Ok(done) => done,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => return Err(EngineError::Stopped),
        };
        searcher = back;
        if !go_on || !full {
            break;
        }
        limit = PAGE;
    }
    Ok(searcher.into_summary())
}
