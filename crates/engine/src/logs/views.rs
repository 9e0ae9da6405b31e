//! What a log viewer reads: a *view* (a run log or one day of the application log, all of it
//! or one stream only) by position. [`LogViews`] keeps the indexes of recently used views so
//! that scrolling a filtered 1 GB log scans it once; a search counts every match and returns a
//! page of them. The desktop shell's commands and `sundialctl` are thin layers over this.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::LogError;
use super::applog::{app_log_path, is_todays};
use super::format::{LogLine, Stream};
use super::reader::{MatchMode, RunLog, SearchMatch, SearchQuery};
use super::store::LogStore;
use super::view::{StreamIndex, TextLog, utf16_ranges};
use crate::domain::RunId;

/// At most this many lines are read in one call.
pub const MAX_LOG_LINES: u32 = 5000;
/// At most this many matches are returned by one search (all are counted).
pub const MAX_SEARCH_MATCHES: u32 = 10_000;
/// Views whose indexes are kept between calls (a stream filter or an application log each
/// hold eight bytes per line).
const CACHED_VIEWS: usize = 6;

/// Which log a viewer shows: a run's log, or one day's application log.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LogSource {
    Run { run_id: String },
    App { day: String },
}

/// A log as a viewer sees it: every line of the source, or only the lines of one stream.
/// Positions in a view count its lines from 0.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogView {
    pub source: LogSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub stream: Option<Stream>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogInfo {
    /// Lines in the view now (a log being written grows).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub lines: u64,
    /// Size of the file in bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
    /// The file on disk.
    pub path: String,
    /// The run is still writing it.
    pub live: bool,
}

/// A search in a log view, from position `from` to the end.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSearch {
    pub pattern: String,
    /// Read the pattern as a regular expression (Rust regex syntax) instead of literal text.
    pub regex: bool,
    pub case_sensitive: bool,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub from: u64,
    /// At most this many matches are returned (1 to 10000); all are counted.
    pub max_matches: u32,
}

impl LogSearch {
    /// The query this search runs in a view (its stream, if filtered).
    pub fn query(&self, stream: Option<Stream>) -> SearchQuery {
        SearchQuery {
            pattern: self.pattern.clone(),
            mode: if self.regex {
                MatchMode::Regex
            } else {
                MatchMode::Literal
            },
            case_sensitive: self.case_sensitive,
            stream,
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogMatch {
    /// Position of the line in the view.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub position: u64,
    /// The line's number in the file.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub line: u64,
    /// Where the matches are in the line's text, as [start, end) in UTF-16 code units
    /// (JavaScript string indexes).
    #[cfg_attr(feature = "ts", ts(type = "Array<[number, number]>"))]
    pub ranges: Vec<(usize, usize)>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogSearchResult {
    /// Every matching line from `from` to the end of the view.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    /// The first `max_matches` of them, in order.
    pub matches: Vec<LogMatch>,
    /// The position after the last returned match: search from here for the next page.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub next: u64,
}

/// Most recently used first; at most [`CACHED_VIEWS`].
type Recent<K, V> = Mutex<VecDeque<(K, Arc<Mutex<V>>)>>;

/// The log viewer's reads, over the run logs of `logs` and the application logs in
/// `app_logs`, with the indexes of recently used views kept. Cheap to share (`Arc`); every
/// method does blocking file I/O.
pub struct LogViews {
    logs: LogStore,
    app_logs: PathBuf,
    streams: Recent<(RunId, Stream), StreamIndex>,
    texts: Recent<PathBuf, TextLog>,
}

impl LogViews {
    pub fn new(logs: LogStore, app_logs: impl Into<PathBuf>) -> Self {
        Self {
            logs,
            app_logs: app_logs.into(),
            streams: Mutex::default(),
            texts: Mutex::default(),
        }
    }

    /// How many lines the view has now, and its file.
    pub fn info(&self, view: &LogView) -> Result<LogInfo, LogError> {
        self.open(view)?.info()
    }

    /// Lines at positions `start..start+count` of a view (fewer at its end).
    pub fn read(&self, view: &LogView, start: u64, count: usize) -> Result<Vec<LogLine>, LogError> {
        self.open(view)?.read(start, count)
    }

    /// The position in a view of the first line whose number is at least `line`.
    pub fn locate(&self, view: &LogView, line: u64) -> Result<u64, LogError> {
        self.open(view)?.locate(line)
    }

    /// Counts every match from `search.from` to the end of the view and returns the first
    /// `search.max_matches` of them.
    pub fn search(&self, view: &LogView, search: &LogSearch) -> Result<LogSearchResult, LogError> {
        let query = search.query(view.stream);
        self.open(view)?.search(search, &query)
    }

    /// The application log's daily files, newest first.
    pub fn app_log_files(&self) -> std::io::Result<Vec<super::applog::AppLogFile>> {
        super::applog::list_app_logs(&self.app_logs)
    }

    /// The folder of the application log's files.
    pub fn app_logs_dir(&self) -> &std::path::Path {
        &self.app_logs
    }

    /// The file a source is read from.
    pub fn path(&self, source: &LogSource) -> Result<PathBuf, LogError> {
        Ok(match source {
            LogSource::Run { run_id } => self.logs.log_path(RunId::from_str(run_id)?),
            LogSource::App { day } => app_log_path(&self.app_logs, day)?,
        })
    }

    fn open(&self, view: &LogView) -> Result<Opened, LogError> {
        match &view.source {
            LogSource::Run { run_id } => {
                let run = RunId::from_str(run_id)?;
                let log = self.logs.open(run)?;
                let stream = view
                    .stream
                    .map(|s| {
                        let index = cached(&self.streams, (run, s), || Ok(StreamIndex::new(s)))?;
                        lock(&index).update(&log)?;
                        Ok::<_, LogError>(index)
                    })
                    .transpose()?;
                Ok(Opened::Run {
                    log,
                    stream,
                    path: self.logs.log_path(run),
                    live: self.logs.is_live(run),
                })
            }
            LogSource::App { day } => {
                let path = app_log_path(&self.app_logs, day)?;
                let text = cached(&self.texts, path.clone(), || TextLog::open(&path))?;
                lock(&text).update()?;
                Ok(Opened::Text(text, view.stream))
            }
        }
    }
}

/// An opened log: a run log (with its stream index when filtered) or a text log.
enum Opened {
    Run {
        log: RunLog,
        stream: Option<Arc<Mutex<StreamIndex>>>,
        path: PathBuf,
        live: bool,
    },
    Text(Arc<Mutex<TextLog>>, Option<Stream>),
}

fn cached<K: PartialEq, V>(
    cache: &Recent<K, V>,
    key: K,
    make: impl FnOnce() -> Result<V, LogError>,
) -> Result<Arc<Mutex<V>>, LogError> {
    let mut cache = lock(cache);
    if let Some(i) = cache.iter().position(|(k, _)| *k == key) {
        let entry = cache.remove(i).expect("found above");
        let value = entry.1.clone();
        cache.push_front(entry);
        return Ok(value);
    }
    let value = Arc::new(Mutex::new(make()?));
    cache.push_front((key, value.clone()));
    cache.truncate(CACHED_VIEWS);
    Ok(value)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Opened {
    fn info(&self) -> Result<LogInfo, LogError> {
        Ok(match self {
            Opened::Run {
                log,
                stream,
                path,
                live,
            } => LogInfo {
                lines: match stream {
                    Some(index) => lock(index).len(),
                    None => log.line_count()?,
                },
                bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
                path: path.display().to_string(),
                live: *live,
            },
            Opened::Text(text, stream) => {
                let text = lock(text);
                LogInfo {
                    lines: match stream {
                        Some(s) => text_positions(&text, *s)?.len() as u64,
                        None => text.line_count(),
                    },
                    bytes: text.bytes(),
                    path: text.path().display().to_string(),
                    live: is_todays(text.path()),
                }
            }
        })
    }

    fn read(&self, start: u64, count: usize) -> Result<Vec<LogLine>, LogError> {
        Ok(match self {
            Opened::Run {
                log,
                stream: Some(index),
                ..
            } => lock(index).read(log, start, count)?,
            Opened::Run { log, .. } => log.read_lines(start, count)?,
            Opened::Text(text, None) => lock(text).read_lines(start, count)?,
            Opened::Text(text, Some(s)) => {
                let text = lock(text);
                let positions = text_positions(&text, *s)?;
                let from = (start as usize).min(positions.len());
                let to = from.saturating_add(count).min(positions.len());
                let mut lines = Vec::with_capacity(to - from);
                for &n in &positions[from..to] {
                    lines.extend(text.read_lines(n, 1)?);
                }
                lines
            }
        })
    }

    fn locate(&self, line: u64) -> Result<u64, LogError> {
        Ok(match self {
            Opened::Run {
                stream: Some(index),
                ..
            } => lock(index).position_of(line),
            Opened::Run { log, .. } => line.min(log.line_count()?),
            Opened::Text(text, None) => line.min(lock(text).line_count()),
            Opened::Text(text, Some(s)) => {
                let positions = text_positions(&lock(text), *s)?;
                positions.partition_point(|&n| n < line) as u64
            }
        })
    }

    fn search(&self, search: &LogSearch, query: &SearchQuery) -> Result<LogSearchResult, LogError> {
        let max = search.max_matches as usize;
        let mut total = 0u64;
        let mut kept: Vec<SearchMatch> = Vec::new();
        let mut count = |m: SearchMatch| {
            total += 1;
            if kept.len() < max {
                kept.push(m);
            }
            true
        };
        // Positions of a filtered view map to file lines through its index.
        let (matches, size) = match self {
            Opened::Run { log, stream, .. } => {
                let index = stream.as_ref().map(|i| lock(i).clone());
                let start = match &index {
                    Some(index) => index.line_at(search.from).unwrap_or(u64::MAX),
                    None => search.from,
                };
                log.search_each(query, start, None, &mut count)?;
                let texts = read_texts(&kept, |n, k| log.read_lines(n, k))?;
                let size = match &index {
                    Some(index) => index.len(),
                    None => log.line_count()?,
                };
                (
                    to_matches(&kept, &texts, |line| match &index {
                        Some(index) => index.position_of(line),
                        None => line,
                    }),
                    size,
                )
            }
            Opened::Text(text, stream) => {
                let text = lock(text);
                let positions = stream.map(|s| text_positions(&text, s)).transpose()?;
                let start = match &positions {
                    Some(p) => p.get(search.from as usize).copied().unwrap_or(u64::MAX),
                    None => search.from,
                };
                text.search_each(query, start, None, &mut count)?;
                let texts = read_texts(&kept, |n, k| text.read_lines(n, k))?;
                let size = positions
                    .as_ref()
                    .map_or(text.line_count(), |p| p.len() as u64);
                (
                    to_matches(&kept, &texts, |line| match &positions {
                        Some(p) => p.partition_point(|&n| n < line) as u64,
                        None => line,
                    }),
                    size,
                )
            }
        };
        let next = if matches.len() < max {
            size
        } else {
            matches.last().map_or(size, |m| m.position + 1)
        };
        Ok(LogSearchResult {
            total,
            matches,
            next,
        })
    }
}

/// The lines of a text log in `stream` (the application log's warnings and errors are its
/// stderr). Application logs are small enough to filter on each call.
fn text_positions(text: &TextLog, stream: Stream) -> Result<Vec<u64>, LogError> {
    let mut positions = Vec::new();
    let mut at = 0;
    while at < text.line_count() {
        let lines = text.read_lines(at, 4096)?;
        at += lines.len() as u64;
        positions.extend(
            lines
                .iter()
                .filter(|l| l.stream == stream)
                .map(|l| l.number),
        );
    }
    Ok(positions)
}

/// The text of each kept match's line, reading nearby lines together.
pub(crate) fn read_texts(
    kept: &[SearchMatch],
    read: impl Fn(u64, usize) -> Result<Vec<LogLine>, LogError>,
) -> Result<Vec<String>, LogError> {
    let mut texts = Vec::with_capacity(kept.len());
    let mut i = 0;
    while i < kept.len() {
        let mut j = i + 1;
        while j < kept.len() && kept[j].line - kept[j - 1].line <= 32 && j - i < 1000 {
            j += 1;
        }
        let first = kept[i].line;
        let lines = read(first, (kept[j - 1].line - first + 1) as usize)?;
        for m in &kept[i..j] {
            let text = lines
                .get((m.line - first) as usize)
                .map(|l| l.text.clone())
                .unwrap_or_default();
            texts.push(text);
        }
        i = j;
    }
    Ok(texts)
}

fn to_matches(
    kept: &[SearchMatch],
    texts: &[String],
    position: impl Fn(u64) -> u64,
) -> Vec<LogMatch> {
    kept.iter()
        .zip(texts)
        .map(|(m, text)| LogMatch {
            position: position(m.line),
            line: m.line,
            ranges: utf16_ranges(text, &m.ranges),
        })
        .collect()
}
