//! The log viewer's commands. A viewer reads a *view*: a run log or one day of the
//! application log, all of it or one stream only, by position. Only ranges of lines cross IPC;
//! a search counts every match in the engine and sends back a page of them.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sundial_engine::domain::RunId;
use sundial_engine::logs::{
    LogError, LogLine, LogStore, MatchMode, RunLog, SearchMatch, SearchQuery, Stream, StreamIndex,
    TextLog, utf16_ranges,
};
use tauri::State;
use tauri::ipc::Channel;
use ts_rs::TS;

use super::{bounded, parse};
use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::log_stream::{LogBatch, pump};
use crate::logging::{FILE_PREFIX, FILE_SUFFIX, file_day};
use crate::state::AppState;

pub const MAX_LOG_LINES: u32 = 5000;
pub const MAX_SEARCH_MATCHES: u32 = 10_000;
/// Views whose indexes are kept between calls (a stream filter or an application log each
/// hold eight bytes per line).
const CACHED_VIEWS: usize = 6;

/// Which log a viewer shows: a run's log, or one day's application log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LogSource {
    Run { run_id: String },
    App { day: String },
}

/// A log as a viewer sees it: every line of the source, or only the lines of one stream.
/// Positions in a view count its lines from 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct LogView {
    pub source: LogSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub stream: Option<Stream>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LogInfo {
    /// Lines in the view now (a log being written grows).
    #[ts(type = "number")]
    pub lines: u64,
    /// Size of the file in bytes.
    #[ts(type = "number")]
    pub bytes: u64,
    /// The file on disk.
    pub path: String,
    /// The run is still writing it.
    pub live: bool,
}

/// A search in a log view, from position `from` to the end.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct LogSearch {
    pub pattern: String,
    /// Read the pattern as a regular expression (Rust regex syntax) instead of literal text.
    pub regex: bool,
    pub case_sensitive: bool,
    #[ts(type = "number")]
    pub from: u64,
    /// At most this many matches are returned (1 to 10000); all are counted.
    pub max_matches: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LogMatch {
    /// Position of the line in the view.
    #[ts(type = "number")]
    pub position: u64,
    /// The line's number in the file.
    #[ts(type = "number")]
    pub line: u64,
    /// Where the matches are in the line's text, as [start, end) in UTF-16 code units
    /// (JavaScript string indexes).
    #[ts(type = "Array<[number, number]>")]
    pub ranges: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LogSearchResult {
    /// Every matching line from `from` to the end of the view.
    #[ts(type = "number")]
    pub total: u64,
    /// The first `max_matches` of them, in order.
    pub matches: Vec<LogMatch>,
    /// The position after the last returned match: search from here for the next page.
    #[ts(type = "number")]
    pub next: u64,
}

/// One day's application log file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppLogFile {
    /// The day, as YYYY-MM-DD.
    pub day: String,
    #[ts(type = "number")]
    pub bytes: u64,
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

/// Most recently used first; at most [`CACHED_VIEWS`].
type Recent<K, V> = Mutex<VecDeque<(K, Arc<Mutex<V>>)>>;

/// The indexes of recently used views, so that scrolling a filtered 1 GB log scans it once.
#[derive(Default)]
pub struct LogViews {
    streams: Recent<(RunId, Stream), StreamIndex>,
    texts: Recent<PathBuf, TextLog>,
}

fn cached<K: PartialEq, V>(
    cache: &Recent<K, V>,
    key: K,
    make: impl FnOnce() -> Result<V, LogError>,
) -> Result<Arc<Mutex<V>>, LogError> {
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LogViews {
    fn open(
        &self,
        logs: &LogStore,
        app_logs: &std::path::Path,
        view: &LogView,
    ) -> CmdResult<Opened> {
        match &view.source {
            LogSource::Run { run_id } => {
                let run = RunId::from_str(run_id)?;
                let log = logs.open(run)?;
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
                    path: logs.log_path(run),
                    live: logs.is_live(run),
                })
            }
            LogSource::App { day } => {
                let path = app_log_path(app_logs, day)?;
                let text = cached(&self.texts, path.clone(), || TextLog::open(&path))?;
                lock(&text).update()?;
                Ok(Opened::Text(text, view.stream))
            }
        }
    }
}

/// The file of one day's application log; the day must be a date (no path tricks).
fn app_log_path(dir: &std::path::Path, day: &str) -> CmdResult<PathBuf> {
    let name = format!("{FILE_PREFIX}.{day}.{FILE_SUFFIX}");
    if file_day(&name).is_none() {
        return Err(IpcError::invalid_field(
            "source.day",
            format!("{day:?} is not a day: write it as YYYY-MM-DD"),
        ));
    }
    let path = dir.join(name);
    if !path.is_file() {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("there is no application log for {day}"),
        ));
    }
    Ok(path)
}

impl Opened {
    fn info(&self) -> CmdResult<LogInfo> {
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

    fn read(&self, start: u64, count: usize) -> CmdResult<Vec<LogLine>> {
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

    fn locate(&self, line: u64) -> CmdResult<u64> {
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

    fn search(&self, search: &LogSearch, query: &SearchQuery) -> CmdResult<LogSearchResult> {
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
                let texts = read_texts(&kept, |n, k| Ok(log.read_lines(n, k)?))?;
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
                let texts = read_texts(&kept, |n, k| Ok(text.read_lines(n, k)?))?;
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

/// Today's application log is still being written (the daily files are named by UTC day).
fn is_todays(path: &std::path::Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(file_day)
        .is_some_and(|day| day == chrono::Utc::now().date_naive())
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
fn read_texts(
    kept: &[SearchMatch],
    read: impl Fn(u64, usize) -> CmdResult<Vec<LogLine>>,
) -> CmdResult<Vec<String>> {
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

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> CmdResult<T> + Send + 'static,
) -> CmdResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| IpcError::internal(e.to_string()))?
}

fn opened(
    state: &AppState,
    view: serde_json::Value,
) -> CmdResult<(LogView, Arc<LogViews>, LogStore, PathBuf)> {
    let view: LogView = parse("view", view)?;
    Ok((
        view,
        state.views.clone(),
        state.logs.clone(),
        state.paths.app_logs(),
    ))
}

#[tauri::command]
pub async fn log_info(state: State<'_, AppState>, view: serde_json::Value) -> CmdResult<LogInfo> {
    let (view, views, logs, app_logs) = opened(&state, view)?;
    blocking(move || views.open(&logs, &app_logs, &view)?.info()).await
}

/// Lines at positions `start..start+count` of a view: the viewer fetches ranges, never whole
/// files.
#[tauri::command]
pub async fn read_log_lines(
    state: State<'_, AppState>,
    view: serde_json::Value,
    start: u64,
    count: u32,
) -> CmdResult<Vec<LogLine>> {
    let count = bounded("count", count, MAX_LOG_LINES)?;
    let (view, views, logs, app_logs) = opened(&state, view)?;
    blocking(move || {
        views
            .open(&logs, &app_logs, &view)?
            .read(start, count as usize)
    })
    .await
}

/// The position in a view of the first line whose number is at least `line`.
#[tauri::command]
pub async fn locate_log_line(
    state: State<'_, AppState>,
    view: serde_json::Value,
    line: u64,
) -> CmdResult<u64> {
    let (view, views, logs, app_logs) = opened(&state, view)?;
    blocking(move || views.open(&logs, &app_logs, &view)?.locate(line)).await
}

#[tauri::command]
pub async fn search_log(
    state: State<'_, AppState>,
    view: serde_json::Value,
    search: serde_json::Value,
) -> CmdResult<LogSearchResult> {
    let search: LogSearch = parse("search", search)?;
    bounded("search.max_matches", search.max_matches, MAX_SEARCH_MATCHES)?;
    let query = SearchQuery {
        pattern: search.pattern.clone(),
        mode: if search.regex {
            MatchMode::Regex
        } else {
            MatchMode::Literal
        },
        case_sensitive: search.case_sensitive,
        stream: None,
    };
    let (view, views, logs, app_logs) = opened(&state, view)?;
    blocking(move || {
        let query = SearchQuery {
            stream: view.stream,
            ..query
        };
        views.open(&logs, &app_logs, &view)?.search(&search, &query)
    })
    .await
}

/// Streams a run's log from `from_line` as it is written, in batches on `on_batch`, until the
/// run ends (`done`), or the web view goes away.
#[tauri::command]
pub async fn follow_run_log(
    state: State<'_, AppState>,
    run_id: String,
    from_line: u64,
    on_batch: Channel<LogBatch>,
) -> CmdResult<()> {
    let follow = state
        .engine
        .follow_run_log(RunId::from_str(&run_id)?, from_line)
        .await?;
    tokio::spawn(pump(follow.into_receiver(), move |batch| {
        on_batch.send(batch).is_ok()
    }));
    Ok(())
}

/// The application log's daily files, newest first.
#[tauri::command]
pub fn list_app_logs(state: State<'_, AppState>) -> CmdResult<Vec<AppLogFile>> {
    let dir = state.paths.app_logs();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(IpcError::new(
                ErrorCode::Io,
                format!("cannot list {}: {e}", dir.display()),
            ));
        }
    };
    let mut files: Vec<AppLogFile> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let day = file_day(name.to_str()?)?;
            Some(AppLogFile {
                day: day.format("%Y-%m-%d").to_string(),
                bytes: entry.metadata().ok()?.len(),
            })
        })
        .collect();
    files.sort_by(|a, b| b.day.cmp(&a.day));
    Ok(files)
}

/// Opens the folder of a log file in the system's file manager (with the file selected where
/// the file manager can).
#[tauri::command]
pub fn reveal_log(state: State<'_, AppState>, source: serde_json::Value) -> CmdResult<()> {
    let source: LogSource = parse("source", source)?;
    let path = match &source {
        LogSource::Run { run_id } => state.logs.log_path(RunId::from_str(run_id)?),
        LogSource::App { day } => app_log_path(&state.paths.app_logs(), day)?,
    };
    if !path.exists() {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("{} does not exist", path.display()),
        ));
    }
    crate::reveal::reveal(&path)
        .map_err(|e| IpcError::new(ErrorCode::Io, format!("cannot open the folder: {e}")))
}
