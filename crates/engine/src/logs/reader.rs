//! Reads a run log: any range of lines through the index (the `.idx` file, or for a log
//! without one, offsets found by scanning it), and searches that stream the file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::LogError;
use super::format::{LogLine, RawRecord, Stream, parse_record};

/// How much of the log one read takes when a log without `.idx` is scanned.
const SCAN_CHUNK: u64 = 256 * 1024;

/// An open run log. Reading lines `[k, k + n)` costs two positioned reads whatever `k` is:
/// `n + 1` offsets from the index, then exactly those records from the log.
///
/// A log without `.idx` (one of at most [`super::INDEX_AFTER_BYTES`]) is indexed in memory
/// by scanning it, extended as it grows; once its writer creates the `.idx`, the reader
/// switches to it. Either way only complete records (ending with `\n`) are lines. (A large
/// log left without `.idx`, as a failed index creation leaves it, is read whole when opened
/// and costs eight bytes of memory per record.)
#[derive(Debug)]
pub struct RunLog {
    log_path: PathBuf,
    index_path: PathBuf,
    log: File,
    index: Mutex<Index>,
    bytes_read: AtomicU64,
}

/// Where a reader finds the end offsets of the records.
#[derive(Debug)]
enum Index {
    /// The `.idx` file.
    File(File),
    /// No `.idx` (yet): the end offset of every complete record, found by scanning the log.
    Scanned(Vec<u64>),
}

/// How the pattern of a search is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    #[default]
    Literal,
    Regex,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub pattern: String,
    pub mode: MatchMode,
    #[serde(default = "yes")]
    pub case_sensitive: bool,
    /// Only lines of this stream (continuation records included).
    #[serde(default)]
    pub stream: Option<Stream>,
}

fn yes() -> bool {
    true
}

impl SearchQuery {
    pub fn literal(pattern: impl Into<String>) -> Self {
        Self {
            pattern: pattern.into(),
            mode: MatchMode::Literal,
            case_sensitive: true,
            stream: None,
        }
    }

    pub fn regex(pattern: impl Into<String>) -> Self {
        Self {
            mode: MatchMode::Regex,
            ..Self::literal(pattern)
        }
    }

    pub fn case_insensitive(mut self) -> Self {
        self.case_sensitive = false;
        self
    }

    pub fn in_stream(mut self, stream: Stream) -> Self {
        self.stream = Some(stream);
        self
    }

    /// Patterns that refer to the start or end of a line's text must be run line by line.
    fn anchored(&self) -> bool {
        self.mode == MatchMode::Regex
            && ["^", "$", "\\A", "\\z", "\\Z"]
                .iter()
                .any(|a| self.pattern.contains(a))
    }

    pub(crate) fn compile(&self) -> Result<Regex, LogError> {
        if self.pattern.is_empty() {
            return Err(LogError::Pattern("the pattern is empty".to_string()));
        }
        let source = match self.mode {
            MatchMode::Literal => regex::escape(&self.pattern),
            MatchMode::Regex => self.pattern.clone(),
        };
        RegexBuilder::new(&source)
            .case_insensitive(!self.case_sensitive)
            .build()
            .map_err(|e| LogError::Pattern(e.to_string()))
    }
}

/// Which part of the log a search scans, and how many matching lines it returns at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchOptions {
    pub start_line: u64,
    /// Exclusive; `None` = the end of the log as it is now.
    pub end_line: Option<u64>,
    pub max_matches: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            start_line: 0,
            end_line: None,
            max_matches: 10_000,
        }
    }
}

/// One line that matched: its number and the byte ranges of the matches in its text
/// ([`LogLine::text`], after the timestamp and tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchMatch {
    pub line: u64,
    pub ranges: Vec<Range<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchResults {
    pub matches: Vec<SearchMatch>,
    /// The line the search stopped before: the end, or the line after the last match when
    /// `max_matches` was reached (continue from here for the next page).
    pub next_line: u64,
    /// True when the whole range was scanned.
    pub complete: bool,
}

impl RunLog {
    pub(crate) fn open(log_path: &Path, index_path: &Path) -> Result<Self, LogError> {
        let log = File::open(log_path).map_err(|e| LogError::read(log_path, e))?;
        let index = match File::open(index_path) {
            Ok(file) => Index::File(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Index::Scanned(Vec::new()),
            Err(e) => return Err(LogError::read(index_path, e)),
        };
        Ok(Self {
            log_path: log_path.to_path_buf(),
            index_path: index_path.to_path_buf(),
            log,
            index: Mutex::new(index),
            bytes_read: AtomicU64::new(0),
        })
    }

    /// Lines readable now (a log being written grows).
    pub fn line_count(&self) -> Result<u64, LogError> {
        let mut index = self.index();
        if let Index::Scanned(ends) = &mut *index {
            let known = ends.len() as u64;
            match self.index_file_with(known)? {
                Some(file) => *index = Index::File(file),
                None => {
                    self.scan_new_records(ends)?;
                    return Ok(ends.len() as u64);
                }
            }
        }
        match &*index {
            Index::File(file) => Ok(file.metadata().map_err(|e| self.err(e))?.len() / 8),
            Index::Scanned(ends) => Ok(ends.len() as u64),
        }
    }

    /// The `.idx`, if it exists now and holds at least `records` entries. A reader that
    /// scanned the log may have seen more records than the writer has indexed yet (its
    /// buffer reaches the file before a flush); it keeps scanning until the index catches
    /// up, so the line count never goes down.
    fn index_file_with(&self, records: u64) -> Result<Option<File>, LogError> {
        let file = match File::open(&self.index_path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LogError::read(&self.index_path, e)),
        };
        let len = file
            .metadata()
            .map_err(|e| LogError::read(&self.index_path, e))?
            .len();
        Ok((len / 8 >= records).then_some(file))
    }

    /// Adds the end offsets of the complete records written since the last scan. An
    /// unfinished last record is read again next time.
    fn scan_new_records(&self, ends: &mut Vec<u64>) -> Result<(), LogError> {
        let mut offset = ends.last().copied().unwrap_or(0);
        let len = self.log.metadata().map_err(|e| self.err(e))?.len();
        let mut buf = Vec::new();
        while offset < len {
            let want = SCAN_CHUNK.min(len - offset) as usize;
            buf.resize(want, 0);
            self.read_at(&self.log, &mut buf, offset)?;
            ends.extend(memchr::memchr_iter(b'\n', &buf).map(|i| offset + i as u64 + 1));
            offset += want as u64;
        }
        Ok(())
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes this reader has read from the log and index files so far (scanning a log
    /// without `.idx` included): what a read costs.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Lines `[start, start + n)`, fewer at the end of the log. The lines are read into
    /// memory: ask for a screenful, not for the whole log.
    pub fn read_lines(&self, start: u64, n: usize) -> Result<Vec<LogLine>, LogError> {
        let count = self.line_count()?;
        if start >= count || n == 0 {
            return Ok(Vec::new());
        }
        let end = count.min(start.saturating_add(n as u64));
        let offsets = self.record_offsets(start, end)?;
        let (first, last) = (offsets[0], offsets[offsets.len() - 1]);
        let mut bytes = vec![0; usize::try_from(last - first).map_err(|_| self.too_big())?];
        self.read_at(&self.log, &mut bytes, first)?;
        let mut lines = Vec::with_capacity(offsets.len() - 1);
        for (i, pair) in offsets.windows(2).enumerate() {
            let record = &bytes[(pair[0] - first) as usize..(pair[1] - first) as usize];
            let record = record.strip_suffix(b"\n").unwrap_or(record);
            lines.push(parse_record(record).into_line(start + i as u64));
        }
        Ok(lines)
    }

    /// The last `n` lines.
    pub fn tail(&self, n: usize) -> Result<Vec<LogLine>, LogError> {
        let count = self.line_count()?;
        self.read_lines(count.saturating_sub(n as u64), n)
    }

    /// Up to `n` lines of `stream` from line `start` on (scans forward; continue from the last
    /// returned line + 1).
    pub fn read_stream_lines(
        &self,
        stream: Stream,
        start: u64,
        n: usize,
    ) -> Result<Vec<LogLine>, LogError> {
        let mut lines = Vec::new();
        if n == 0 {
            return Ok(lines);
        }
        let end = self.line_count()?;
        self.scan(start, end, |number, record| {
            let raw = parse_record(record);
            if raw.stream == stream {
                lines.push(raw.into_line(number));
            }
            lines.len() < n
        })?;
        Ok(lines)
    }

    /// Appends the numbers of the lines of `stream` (continuation records included) from line
    /// `start` to the end of the log as it is now; returns the line after the last one scanned.
    /// This is how a viewer shows one stream with random access.
    pub fn collect_stream_lines(
        &self,
        stream: Stream,
        start: u64,
        out: &mut Vec<u64>,
    ) -> Result<u64, LogError> {
        let end = self.line_count()?;
        self.scan(start, end, |number, record| {
            if parse_record(record).stream == stream {
                out.push(number);
            }
            true
        })
    }

    /// Every line matching `query` in the range of `options`, reading the file sequentially
    /// with memory bounded by one record and `max_matches`.
    pub fn search(
        &self,
        query: &SearchQuery,
        options: SearchOptions,
    ) -> Result<SearchResults, LogError> {
        // Fix the end first: a log being written grows while it is searched.
        let count = self.line_count()?;
        let end = options.end_line.map_or(count, |e| e.min(count));
        let mut matches = Vec::new();
        let next = self.search_each(query, options.start_line, Some(end), |m| {
            matches.push(m);
            matches.len() < options.max_matches
        })?;
        Ok(SearchResults {
            matches,
            next_line: next,
            complete: next >= end,
        })
    }

    /// Calls `on_match` for each matching line in `[start, end)` until it returns false.
    /// Returns the line after the last one scanned.
    pub fn search_each(
        &self,
        query: &SearchQuery,
        start: u64,
        end: Option<u64>,
        mut on_match: impl FnMut(SearchMatch) -> bool,
    ) -> Result<u64, LogError> {
        let regex = query.compile()?;
        self.search_records(&regex, query, start, end, |m, _| on_match(m))
    }

    /// [`RunLog::search_each`] with a compiled pattern, giving each matching record too (its
    /// text is what the ranges index).
    pub(crate) fn search_records(
        &self,
        regex: &Regex,
        query: &SearchQuery,
        start: u64,
        end: Option<u64>,
        mut on_match: impl FnMut(SearchMatch, &RawRecord<'_>) -> bool,
    ) -> Result<u64, LogError> {
        let count = self.line_count()?;
        let end = end.map_or(count, |e| e.min(count));
        if !query.anchored() {
            return self.search_blocks(regex, query.stream, start, end, on_match);
        }
        self.scan(start, end, |number, record| {
            let raw = parse_record(record);
            if query.stream.is_some_and(|s| s != raw.stream) {
                return true;
            }
            let ranges: Vec<Range<usize>> = regex.find_iter(raw.text).map(|m| m.range()).collect();
            if ranges.is_empty() {
                return true;
            }
            on_match(
                SearchMatch {
                    line: number,
                    ranges,
                },
                &raw,
            )
        })
    }

    /// The fast path of [`RunLog::search_each`]: the pattern runs over whole blocks of the
    /// file (one regex call finds the next candidate however many lines lie between), and only
    /// a line with a candidate is parsed and searched on its own text. Equivalent to the
    /// line-by-line scan for patterns without `^`/`$`/`\A`/`\z` anchors.
    fn search_blocks(
        &self,
        regex: &Regex,
        stream: Option<Stream>,
        start: u64,
        end: u64,
        mut on_match: impl FnMut(SearchMatch, &RawRecord<'_>) -> bool,
    ) -> Result<u64, LogError> {
        const BLOCK: u64 = 1 << 20;
        if start >= end {
            return Ok(start);
        }
        let from = self.record_offsets(start, start)?[0];
        let to = self.record_offsets(end - 1, end)?[1];
        let mut offset = from;
        let mut number = start;
        let mut carry: Vec<u8> = Vec::new();
        while offset < to {
            let want = BLOCK.min(to - offset);
            let mut buf = std::mem::take(&mut carry);
            let kept = buf.len();
            buf.resize(kept + want as usize, 0);
            self.read_at(&self.log, &mut buf[kept..], offset)?;
            offset += want;
            // Work on whole records; the partial one at the end waits for the next block.
            let cut = if offset >= to {
                buf.len()
            } else {
                match memchr::memrchr(b'\n', &buf) {
                    Some(i) => i + 1,
                    None => {
                        carry = buf;
                        continue;
                    }
                }
            };
            let work = &buf[..cut];
            let mut line_start = 0;
            let mut from_pos = 0;
            while from_pos < work.len() {
                let Some(found) = regex.find_at(work, from_pos) else {
                    break;
                };
                let at = found.start();
                let ls = memchr::memrchr(b'\n', &work[..at]).map_or(0, |i| i + 1);
                let le = memchr::memchr(b'\n', &work[at..]).map_or(work.len(), |i| at + i);
                number += memchr::memchr_iter(b'\n', &work[line_start..ls]).count() as u64;
                line_start = ls;
                let raw = parse_record(&work[ls..le]);
                if stream.is_none_or(|s| s == raw.stream) {
                    let ranges: Vec<Range<usize>> =
                        regex.find_iter(raw.text).map(|m| m.range()).collect();
                    if !ranges.is_empty()
                        && !on_match(
                            SearchMatch {
                                line: number,
                                ranges,
                            },
                            &raw,
                        )
                    {
                        return Ok(number + 1);
                    }
                }
                from_pos = le + 1;
            }
            number += memchr::memchr_iter(b'\n', &work[line_start..]).count() as u64;
            carry = buf[cut..].to_vec();
        }
        Ok(end)
    }

    /// Feeds records `[start, end)` to `visit` (without their `\n`) until it returns false.
    /// Returns the number of the line after the last one visited.
    fn scan(
        &self,
        start: u64,
        end: u64,
        mut visit: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<u64, LogError> {
        if start >= end {
            return Ok(start);
        }
        let offsets = self.record_offsets(start, start)?;
        let last = self.record_offsets(end - 1, end)?;
        let (from, to) = (offsets[0], last[1]);
        let mut file = self.log.try_clone().map_err(|e| self.err(e))?;
        file.seek(SeekFrom::Start(from)).map_err(|e| self.err(e))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file.take(to - from));
        let mut record = Vec::with_capacity(4096);
        let mut number = start;
        while number < end {
            record.clear();
            let read = reader
                .read_until(b'\n', &mut record)
                .map_err(|e| self.err(e))?;
            if read == 0 {
                break;
            }
            self.bytes_read.fetch_add(read as u64, Ordering::Relaxed);
            let body = record.strip_suffix(b"\n").unwrap_or(&record);
            let keep_going = visit(number, body);
            number += 1;
            if !keep_going {
                break;
            }
            if record.capacity() > 1024 * 1024 {
                record = Vec::with_capacity(4096);
            }
        }
        Ok(number)
    }

    /// Start offset of record `start`, then the end offsets of records `start..end`.
    fn record_offsets(&self, start: u64, end: u64) -> Result<Vec<u64>, LogError> {
        let (first_entry, with_leading_zero) = if start == 0 {
            (0, true)
        } else {
            (start - 1, false)
        };
        let entries = usize::try_from(end - first_entry).map_err(|_| self.too_big())?;
        let mut offsets = Vec::with_capacity(entries + 1);
        if with_leading_zero {
            offsets.push(0);
        }
        match &*self.index() {
            Index::File(file) => {
                let mut raw = vec![0u8; entries * 8];
                self.read_at(file, &mut raw, first_entry * 8)?;
                offsets.extend(
                    raw.chunks_exact(8)
                        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))),
                );
            }
            Index::Scanned(ends) => {
                // Callers ask for lines below a line count they got, and the list only grows.
                let range = usize::try_from(first_entry).unwrap_or(usize::MAX)
                    ..usize::try_from(end).unwrap_or(usize::MAX);
                let known = ends
                    .get(range)
                    .ok_or_else(|| self.err(io::Error::from(io::ErrorKind::UnexpectedEof)))?;
                offsets.extend_from_slice(known);
            }
        }
        Ok(offsets)
    }

    fn read_at(&self, file: &File, buf: &mut [u8], offset: u64) -> Result<(), LogError> {
        read_exact_at(file, buf, offset).map_err(|e| self.err(e))?;
        self.bytes_read
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn err(&self, e: io::Error) -> LogError {
        LogError::read(&self.log_path, e)
    }

    fn too_big(&self) -> LogError {
        self.err(io::Error::other("the requested range is too large"))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_from_the_ui_needs_only_a_pattern() {
        let query: SearchQuery =
            serde_json::from_str(r#"{"pattern":"x+","mode":"regex","stream":"stderr"}"#).unwrap();
        assert_eq!(query, SearchQuery::regex("x+").in_stream(Stream::Stderr));
        let options: SearchOptions = serde_json::from_str(r#"{"start_line":7}"#).unwrap();
        assert_eq!(options.start_line, 7);
        assert_eq!(options.max_matches, SearchOptions::default().max_matches);
    }
}
