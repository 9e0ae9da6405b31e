//! What a log viewer needs beyond [`RunLog`]: random access to the lines of one stream only
//! ([`StreamIndex`]), and the same line-range reads and searches over a plain text file such
//! as the application log ([`TextLog`]). Both grow with their file: call `update` before use.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::LogError;
use super::format::{LogLine, Stream};
use super::reader::{RunLog, SearchMatch, SearchQuery};

/// The line numbers of one stream of a run log: position `p` of the filtered view is line
/// `numbers[p]` of the file. Eight bytes per line of the stream, built by one sequential scan
/// and extended as the log grows.
#[derive(Debug, Clone)]
pub struct StreamIndex {
    stream: Stream,
    numbers: Vec<u64>,
    scanned: u64,
}

impl StreamIndex {
    pub fn new(stream: Stream) -> Self {
        Self {
            stream,
            numbers: Vec::new(),
            scanned: 0,
        }
    }

    pub fn stream(&self) -> Stream {
        self.stream
    }

    /// Indexes the lines written since the last update.
    pub fn update(&mut self, log: &RunLog) -> Result<(), LogError> {
        self.scanned = log.collect_stream_lines(self.stream, self.scanned, &mut self.numbers)?;
        Ok(())
    }

    /// Lines in the view.
    pub fn len(&self) -> u64 {
        self.numbers.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// The file line at a position of the view.
    pub fn line_at(&self, position: u64) -> Option<u64> {
        usize::try_from(position)
            .ok()
            .and_then(|p| self.numbers.get(p).copied())
    }

    /// The position of the first line of the view whose number is at least `line` (the
    /// length when there is none).
    pub fn position_of(&self, line: u64) -> u64 {
        self.numbers.partition_point(|&n| n < line) as u64
    }

    /// The lines at positions `[start, start + n)`. Lines close together in the file are
    /// read in one range; far apart ones one by one.
    pub fn read(&self, log: &RunLog, start: u64, n: usize) -> Result<Vec<LogLine>, LogError> {
        let from = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(self.numbers.len());
        let to = from.saturating_add(n).min(self.numbers.len());
        let wanted = &self.numbers[from..to];
        let mut lines = Vec::with_capacity(wanted.len());
        let mut i = 0;
        while i < wanted.len() {
            // Extend the range while the gaps stay small (reading a few unwanted lines is
            // cheaper than another pair of positioned reads).
            let mut j = i + 1;
            while j < wanted.len() && wanted[j] - wanted[j - 1] <= 16 {
                j += 1;
            }
            let first = wanted[i];
            let span = wanted[j - 1] - first + 1;
            let chunk = log.read_lines(first, usize::try_from(span).unwrap_or(usize::MAX))?;
            let keep = &wanted[i..j];
            lines.extend(
                chunk
                    .into_iter()
                    .filter(|l| keep.binary_search(&l.number).is_ok()),
            );
            i = j;
        }
        Ok(lines)
    }
}

/// A plain text file read by line: the application log. Line start offsets are kept in
/// memory (eight bytes a line) and extended as the file grows; an unfinished last line is
/// left out until its newline is written.
#[derive(Debug)]
pub struct TextLog {
    path: PathBuf,
    file: File,
    /// Start offset of every complete line, then the end of the last one.
    offsets: Vec<u64>,
}

impl TextLog {
    pub fn open(path: &Path) -> Result<Self, LogError> {
        let file = File::open(path).map_err(|e| read_error(path, e))?;
        let mut log = Self {
            path: path.to_path_buf(),
            file,
            offsets: vec![0],
        };
        log.update()?;
        Ok(log)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of complete lines.
    pub fn bytes(&self) -> u64 {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// Indexes the lines written since the last update.
    pub fn update(&mut self) -> Result<(), LogError> {
        let from = self.bytes();
        let mut file = &self.file;
        file.seek(SeekFrom::Start(from)).map_err(|e| self.err(e))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut offset = from;
        loop {
            let buf = reader.fill_buf().map_err(|e| self.err(e))?;
            if buf.is_empty() {
                break;
            }
            let len = buf.len();
            for i in memchr::memchr_iter(b'\n', buf) {
                self.offsets.push(offset + i as u64 + 1);
            }
            offset += len as u64;
            reader.consume(len);
        }
        Ok(())
    }

    pub fn line_count(&self) -> u64 {
        self.offsets.len() as u64 - 1
    }

    /// Lines `[start, start + n)`, fewer at the end.
    pub fn read_lines(&self, start: u64, n: usize) -> Result<Vec<LogLine>, LogError> {
        let count = self.line_count();
        if start >= count || n == 0 {
            return Ok(Vec::new());
        }
        let end = count.min(start.saturating_add(n as u64));
        let (first, last) = (self.offsets[start as usize], self.offsets[end as usize]);
        let mut bytes = vec![0; usize::try_from(last - first).map_err(|_| self.too_big())?];
        let mut file = &self.file;
        file.seek(SeekFrom::Start(first)).map_err(|e| self.err(e))?;
        file.read_exact(&mut bytes).map_err(|e| self.err(e))?;
        Ok((start..end)
            .map(|number| {
                let at = (self.offsets[number as usize] - first) as usize;
                let to = (self.offsets[number as usize + 1] - first) as usize;
                text_line(number, &bytes[at..to])
            })
            .collect())
    }

    /// Calls `on_match` for each line in `[start, end)` matching `query` (its stream is the
    /// one [`text_line`] gives the line) until it returns false. Returns the line after the
    /// last one scanned.
    pub fn search_each(
        &self,
        query: &SearchQuery,
        start: u64,
        end: Option<u64>,
        mut on_match: impl FnMut(SearchMatch) -> bool,
    ) -> Result<u64, LogError> {
        let regex = query.compile()?;
        let end = end.map_or(self.line_count(), |e| e.min(self.line_count()));
        let mut number = start;
        const CHUNK: usize = 4096;
        while number < end {
            let lines = self.read_lines(number, CHUNK.min((end - number) as usize))?;
            for line in lines {
                number = line.number + 1;
                if query.stream.is_some_and(|s| s != line.stream) {
                    continue;
                }
                let ranges: Vec<Range<usize>> = regex
                    .find_iter(line.text.as_bytes())
                    .map(|m| m.range())
                    .collect();
                if !ranges.is_empty()
                    && !on_match(SearchMatch {
                        line: line.number,
                        ranges,
                    })
                {
                    return Ok(number);
                }
            }
        }
        Ok(end)
    }

    fn err(&self, e: io::Error) -> LogError {
        read_error(&self.path, e)
    }

    fn too_big(&self) -> LogError {
        self.err(io::Error::other("the requested range is too large"))
    }
}

fn read_error(path: &Path, e: io::Error) -> LogError {
    if e.kind() == io::ErrorKind::NotFound {
        LogError::NotFound(path.display().to_string())
    } else {
        LogError::read(path, e)
    }
}

/// A line of a text log as the viewer shows it. A leading RFC 3339 timestamp (how
/// tracing writes the application log) becomes the line's time; lines at WARN or ERROR level
/// are marked as stderr, so they stand out and can be filtered like a run's errors.
pub fn text_line(number: u64, raw: &[u8]) -> LogLine {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let text = String::from_utf8_lossy(raw).into_owned();
    let (time, rest) = match text.split_once(' ') {
        Some((first, rest))
            if first.len() >= 20
                && first.as_bytes()[4] == b'-'
                && first.as_bytes()[10] == b'T'
                && chrono::DateTime::parse_from_rfc3339(first).is_ok() =>
        {
            (first.to_string(), rest.trim_start().to_string())
        }
        _ => (String::new(), text),
    };
    let level = rest.split_whitespace().next().unwrap_or("");
    let stream = if matches!(level, "WARN" | "ERROR") {
        Stream::Stderr
    } else {
        Stream::Stdout
    };
    LogLine {
        number,
        time,
        stream,
        continued: false,
        text: rest,
    }
}

/// Converts byte ranges in `text` (from a search) into UTF-16 code-unit ranges, the string
/// indexes of a JavaScript UI.
pub fn utf16_ranges(text: &str, ranges: &[Range<usize>]) -> Vec<(usize, usize)> {
    let to_utf16 = |byte: usize| {
        let mut cut = byte.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text[..cut].encode_utf16().count()
    };
    ranges
        .iter()
        .map(|r| (to_utf16(r.start), to_utf16(r.end)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_keep_their_time_and_mark_warnings() {
        let line = text_line(
            3,
            b"2026-11-21T08:00:00.123456Z  WARN sundial: disk almost full\n",
        );
        assert_eq!(line.number, 3);
        assert_eq!(line.time, "2026-11-21T08:00:00.123456Z");
        assert_eq!(line.stream, Stream::Stderr);
        assert_eq!(line.text, "WARN sundial: disk almost full");
        let plain = text_line(0, b"no time here");
        assert_eq!(plain.time, "");
        assert_eq!(plain.stream, Stream::Stdout);
        assert_eq!(plain.text, "no time here");
    }

    #[test]
    fn utf16_ranges_count_code_units() {
        // "é" is 2 bytes and 1 unit; "𝄞" is 4 bytes and 2 units.
        let text = "é𝄞 error";
        let start = text.find("error").unwrap();
        let ranges = [Range {
            start,
            end: start + 5,
        }];
        assert_eq!(
            utf16_ranges(text, &ranges),
            vec![(4, 9)],
            "units before: é(1) + 𝄞(2) + space(1)"
        );
    }
}
