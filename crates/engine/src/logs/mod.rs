//! Run logs: one plain, greppable file per run plus, past 64 KiB, an index of line offsets;
//! written with bounded memory, read at any line in constant time, searched, and followed
//! while written. The format is described in docs/LOG_FORMAT.md.

pub mod applog;
mod format;
mod job_search;
mod reader;
mod store;
mod view;
mod views;
mod writer;

use std::fmt;
use std::path::Path;

pub use applog::AppLogFile;
pub use format::{INDEX_AFTER_BYTES, LogLine, MAX_RECORD_BYTES, Stream};
pub use job_search::{
    CancellationToken, JobLogLine, JobLogRun, JobLogSearch, JobLogSummary, RunLogSearcher, RunRef,
    search_job_logs,
};
pub use reader::{MatchMode, RunLog, SearchMatch, SearchOptions, SearchQuery, SearchResults};
pub use store::{LogFollow, LogStore};
pub use view::{StreamIndex, TextLog, text_line, utf16_ranges};
pub use views::{
    LogInfo, LogMatch, LogSearch, LogSearchResult, LogSource, LogView, LogViews, MAX_LOG_LINES,
    MAX_SEARCH_MATCHES,
};
pub use writer::LogWriter;

use crate::domain::InvalidId;

/// What a finished log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogStats {
    pub bytes: u64,
    pub lines: u64,
    /// The per-run cap was reached and later output discarded.
    pub truncated: bool,
    pub discarded_bytes: u64,
}

/// The words every "the disk is full" failure of a run log contains (the scheduler looks for
/// them to tell the window and the tray).
pub const LOG_DISK_FULL: &str = "the disk is full";

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot write the run log in {dir}: {reason}")]
    Write { dir: String, reason: String },
    /// The file system is full, or would leave less than the reserve Sundial keeps for its
    /// database: the rest of the output was read and discarded.
    #[error("the run log could not be written: {LOG_DISK_FULL} ({lost} bytes of output lost)")]
    DiskFull { lost: u64 },
    #[error("cannot read the run log {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the log of run {0} is still being written")]
    Live(String),
    #[error("there is no log for run {0}")]
    NotFound(String),
    #[error(transparent)]
    InvalidRunId(#[from] InvalidId),
    #[error("invalid search pattern: {0}")]
    Pattern(String),
    #[error("{0:?} is not a day: write it as YYYY-MM-DD")]
    NotADay(String),
    #[error("there is no application log for {0}")]
    NoAppLog(String),
}

impl LogError {
    pub(crate) fn write(dir: &Path, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull {
            return LogError::DiskFull { lost: 0 };
        }
        LogError::Write {
            dir: dir.display().to_string(),
            reason: io_reason(&e),
        }
    }

    pub(crate) fn read(path: &Path, e: std::io::Error) -> Self {
        LogError::Read {
            path: path.display().to_string(),
            reason: io_reason(&e),
        }
    }
}

/// An I/O error as a person reads it: "Permission denied", without "(os error 13)".
pub fn io_reason(e: &std::io::Error) -> String {
    without_os_error(&e.to_string())
}

pub(crate) fn without_os_error(text: &str) -> String {
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text.to_string(),
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Sundial => "sundial",
        })
    }
}
