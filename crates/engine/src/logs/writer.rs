//! Writes one run's log: records in the `.log` file, their end offsets in the `.idx` file
//! once the log is larger than [`INDEX_AFTER_BYTES`] (until then, in memory).

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::format::{INDEX_AFTER_BYTES, MAX_RECORD_BYTES, Stream, TimeFormatter, utf8_cut};
use super::store::{LiveRegistry, Progress};
use super::{LogError, LogStats};
use crate::domain::RunId;
use crate::secrets::{Redactor, StreamRedactor};

/// How many index entries are kept in memory before they are written out with a flush.
const INDEX_BATCH: usize = 8 * 1024;

/// How often (in bytes of log) the free space of the log's file system is looked at.
const SPACE_CHECK_EVERY: u64 = 256 * 1024;
/// The free space a run log leaves for the database, so that a run filling the disk can still
/// be recorded as failed: 8 MiB, or an eighth of a small file system.
const RESERVE_MAX: u64 = 8 * 1024 * 1024;

/// Where the end offsets of the records go.
#[derive(Debug)]
enum Index {
    /// The log is at most [`INDEX_AFTER_BYTES`]: no `.idx` yet, the offsets of every record
    /// so far are here (2,342 at most).
    InMemory { path: PathBuf, ends: Vec<u64> },
    /// The `.idx` file, and the entries not written to it yet.
    File { file: File, pending: Vec<u8> },
    /// Creating the `.idx` failed (a warning was logged): the log goes on without one, and
    /// readers index it by scanning it.
    Failed,
}

/// The writer of one run's log. Output bytes go in with [`LogWriter::write_output`]; Sundial's
/// own lines with [`LogWriter::note`]. Memory stays bounded whatever the output: a partial
/// line is held up to [`MAX_RECORD_BYTES`] per stream.
///
/// The first write error is kept: later writes are dropped and [`LogWriter::finish`] returns
/// it. A full disk is not an error the run waits on: output goes on being accepted (so the
/// process never blocks on a full pipe) and is counted and discarded, and `finish` returns
/// [`LogError::DiskFull`]. The log stops taking output a little before the disk is full (it
/// leaves a reserve, see [`RESERVE_MAX`]), so Sundial's own closing lines and the database
/// row saying the run failed still fit. An `.idx` that cannot be created is only warned about: the `.log` keeps every line
/// (readers index a log without `.idx` by scanning it). Readers see a record after
/// [`LogWriter::flush`] (the log is flushed before the index, so an indexed record is always
/// complete on disk).
///
/// The `.idx` is created only when the log grows past [`INDEX_AFTER_BYTES`]: a short run
/// leaves a single file.
#[derive(Debug)]
pub struct LogWriter {
    run: RunId,
    dir: PathBuf,
    log: BufWriter<File>,
    index: Index,
    bytes: u64,
    lines: u64,
    max_bytes: u64,
    truncated: bool,
    discarded_bytes: u64,
    pending: [PendingLine; 2],
    times: TimeFormatter,
    error: Option<LogError>,
    /// Writing the `.log` failed: later records are dropped.
    stopped: bool,
    /// Free space fell under the reserve: output is discarded, Sundial's notes still written.
    out_of_space: bool,
    /// Output bytes discarded because the disk was full.
    lost_bytes: u64,
    /// The log size at which free space is looked at next.
    next_space_check: u64,
    progress: watch::Sender<Progress>,
    registry: LiveRegistry,
    record: Vec<u8>,
    /// The run's secrets, masked in every record before it is written (so offsets, the index
    /// and the line count describe the masked text); one stream redactor per output stream.
    redactor: Redactor,
    streams: [StreamRedactor; 2],
    /// When the bytes a stream redactor holds back arrived.
    held_since: [Option<DateTime<Utc>>; 2],
    redacted: Vec<u8>,
}

#[derive(Debug, Default)]
struct PendingLine {
    bytes: Vec<u8>,
    /// When the first byte of the held line arrived.
    since: Option<DateTime<Utc>>,
    /// The held bytes continue a record already written.
    continued: bool,
}

impl LogWriter {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        run: RunId,
        dir: PathBuf,
        log: File,
        index_path: PathBuf,
        max_bytes: u64,
        progress: watch::Sender<Progress>,
        registry: LiveRegistry,
    ) -> Self {
        Self {
            run,
            dir,
            log: BufWriter::with_capacity(256 * 1024, log),
            index: Index::InMemory {
                path: index_path,
                ends: Vec::new(),
            },
            bytes: 0,
            lines: 0,
            max_bytes,
            truncated: false,
            discarded_bytes: 0,
            pending: Default::default(),
            times: TimeFormatter::default(),
            error: None,
            stopped: false,
            out_of_space: false,
            lost_bytes: 0,
            next_space_check: 0,
            progress,
            registry,
            record: Vec::with_capacity(MAX_RECORD_BYTES + 64),
            redactor: Redactor::none(),
            streams: [Redactor::none().stream(), Redactor::none().stream()],
            held_since: [None, None],
            redacted: Vec::new(),
        }
    }

    /// Masks these secrets in everything written from now on: output (a secret split across
    /// writes included) and notes.
    pub fn redact(&mut self, redactor: Redactor) {
        self.streams = [redactor.stream(), redactor.stream()];
        self.redactor = redactor;
    }

    pub fn run_id(&self) -> RunId {
        self.run
    }

    /// The first write error, if any: the log is incomplete from that point on.
    pub fn error(&self) -> Option<&LogError> {
        self.error.as_ref()
    }

    /// Records and bytes written so far (including ones not yet flushed).
    pub fn stats(&self) -> LogStats {
        LogStats {
            bytes: self.bytes,
            lines: self.lines,
            truncated: self.truncated,
            discarded_bytes: self.discarded_bytes,
        }
    }

    /// Bytes a process wrote on `stream` (stdout or stderr), read at `time`. Lines are split on
    /// `\n`; a trailing `\r` is dropped; a line longer than [`MAX_RECORD_BYTES`] is split into
    /// continuation records; invalid UTF-8 is replaced by U+FFFD.
    pub fn write_output(&mut self, stream: Stream, time: DateTime<Utc>, data: &[u8]) {
        if self.redactor.is_empty() {
            return self.write_lines(stream, time, data);
        }
        let mut clean = std::mem::take(&mut self.redacted);
        clean.clear();
        let slot = pending_slot(stream);
        self.streams[slot].feed(data, &mut clean);
        let since = self.held_since[slot].take();
        if self.streams[slot].held() > 0 {
            self.held_since[slot] = Some(since.unwrap_or(time));
        }
        self.write_lines(stream, since.unwrap_or(time), &clean);
        self.redacted = clean;
    }

    fn write_lines(&mut self, stream: Stream, time: DateTime<Utc>, mut data: &[u8]) {
        let slot = pending_slot(stream);
        while !data.is_empty() {
            let newline = memchr::memchr(b'\n', data);
            let (segment, rest) = match newline {
                Some(at) => (&data[..at], &data[at + 1..]),
                None => (data, &data[data.len()..]),
            };
            data = rest;
            let pending_empty = self.pending[slot].bytes.is_empty();
            if newline.is_some() && pending_empty && segment.len() <= MAX_RECORD_BYTES {
                // The common case: a whole short line, written without copying.
                let continued = std::mem::take(&mut self.pending[slot].continued);
                self.put_output(time, stream, continued, strip_cr(segment));
                continue;
            }
            if pending_empty {
                self.pending[slot].since = Some(time);
            }
            self.pending[slot].bytes.extend_from_slice(segment);
            self.emit_full_records(stream, time);
            if newline.is_some() {
                self.end_line(stream, time);
            }
        }
    }

    /// Writes out the held partial line of each output stream (output that ended without `\n`).
    pub fn end_partial_lines(&mut self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let slot = pending_slot(stream);
            if self.streams[slot].held() > 0 {
                let mut rest = Vec::new();
                self.streams[slot].finish(&mut rest);
                if let Some(time) = self.held_since[slot].take() {
                    self.write_lines(stream, time, &rest);
                }
            }
            let held = &self.pending[pending_slot(stream)];
            if let (false, Some(since)) = (held.bytes.is_empty(), held.since) {
                self.end_line(stream, since);
            }
        }
    }

    /// A line Sundial writes itself (stream `S`). Notes are written even past the size cap, so
    /// the end of a run is always visible.
    pub fn note(&mut self, time: DateTime<Utc>, text: &str) {
        let redactor = self.redactor.clone();
        let text = redactor.redact(text);
        for line in text.split('\n') {
            self.put_record(time, Stream::Sundial.tag(false), line.as_bytes(), true);
        }
    }

    /// Makes everything written so far visible to readers and followers.
    pub fn flush(&mut self) {
        if self.stopped {
            return;
        }
        if let Err(e) = self.log.flush() {
            self.fail(e);
            return;
        }
        // The log is on disk: the offsets of its records may follow.
        match &mut self.index {
            Index::InMemory { .. } if self.bytes > INDEX_AFTER_BYTES => self.create_index(),
            Index::InMemory { .. } | Index::Failed => {}
            Index::File { file, pending } => {
                let result = file.write_all(pending).and_then(|()| file.flush());
                pending.clear();
                if let Err(e) = result {
                    self.fail(e);
                    return;
                }
            }
        }
        let (lines, bytes) = (self.lines, self.bytes);
        self.progress.send_modify(|p| {
            p.lines = lines;
            p.bytes = bytes;
        });
    }

    /// Ends the log: held partial lines are written, a note says how much the cap discarded,
    /// everything is flushed and followers are told the run is over.
    pub fn finish(mut self, time: DateTime<Utc>) -> Result<LogStats, LogError> {
        self.end_partial_lines();
        if self.truncated {
            let note = format!(
                "[sundial] {} more bytes of output were discarded after the size cap",
                self.discarded_bytes
            );
            self.note(time, &note);
        }
        self.flush();
        match self.error.take() {
            Some(LogError::DiskFull { .. }) => {
                // What reached the buffer but not the disk is lost too.
                let on_disk = self.log.get_ref().metadata().map_or(0, |m| m.len());
                let unwritten = self.bytes.saturating_sub(on_disk);
                Err(LogError::DiskFull {
                    lost: self.lost_bytes + unwritten,
                })
            }
            Some(e) => Err(e),
            None if self.out_of_space => Err(LogError::DiskFull {
                lost: self.lost_bytes,
            }),
            None => Ok(self.stats()),
        }
        // Drop marks the log finished.
    }

    fn emit_full_records(&mut self, stream: Stream, now: DateTime<Utc>) {
        let slot = pending_slot(stream);
        while self.pending[slot].bytes.len() > MAX_RECORD_BYTES {
            let held = std::mem::take(&mut self.pending[slot].bytes);
            let cut = utf8_cut(&held, MAX_RECORD_BYTES);
            let time = self.pending[slot].since.unwrap_or(now);
            let continued = self.pending[slot].continued;
            self.put_output(time, stream, continued, &held[..cut]);
            let mut rest = held;
            rest.drain(..cut);
            self.pending[slot].bytes = rest;
            self.pending[slot].continued = true;
        }
    }

    fn end_line(&mut self, stream: Stream, now: DateTime<Utc>) {
        let slot = pending_slot(stream);
        let held = std::mem::take(&mut self.pending[slot].bytes);
        let time = self.pending[slot].since.take().unwrap_or(now);
        let continued = std::mem::take(&mut self.pending[slot].continued);
        self.put_output(time, stream, continued, strip_cr(&held));
        // Keep the allocation for the next long line, but not a huge one.
        let mut held = held;
        held.clear();
        if held.capacity() <= 2 * MAX_RECORD_BYTES {
            self.pending[slot].bytes = held;
        }
    }

    fn put_output(&mut self, time: DateTime<Utc>, stream: Stream, continued: bool, raw: &[u8]) {
        let text = sanitize(raw);
        self.put_record(time, stream.tag(continued), text.as_bytes(), false);
    }

    fn put_record(&mut self, time: DateTime<Utc>, tag: u8, text: &[u8], is_note: bool) {
        if self.stopped {
            if !is_note {
                self.lost_bytes += text.len() as u64 + 1;
            }
            return;
        }
        let len = (super::format::PREFIX_LEN + text.len() + 1) as u64;
        if !is_note {
            if self.truncated {
                self.discarded_bytes += text.len() as u64 + 1;
                return;
            }
            if self.out_of_space {
                self.lost_bytes += text.len() as u64 + 1;
                return;
            }
            if self.bytes >= self.next_space_check {
                self.next_space_check = self.bytes + SPACE_CHECK_EVERY;
                if space_is_low(&self.dir) {
                    self.out_of_space = true;
                    self.lost_bytes += text.len() as u64 + 1;
                    self.put_record(
                        time,
                        Stream::Sundial.tag(false),
                        b"[sundial] the disk is full: the rest of the output is read and discarded",
                        true,
                    );
                    self.flush();
                    return;
                }
            }
            if self.bytes + len > self.max_bytes {
                self.truncated = true;
                self.discarded_bytes += text.len() as u64 + 1;
                let marker = format!(
                    "[sundial] output truncated: the run log reached its cap of {} bytes",
                    self.max_bytes
                );
                self.put_record(time, Stream::Sundial.tag(false), marker.as_bytes(), true);
                return;
            }
        }
        let mut record = std::mem::take(&mut self.record);
        record.clear();
        record.extend_from_slice(self.times.format(time).as_bytes());
        record.push(b' ');
        record.push(tag);
        record.push(b' ');
        record.extend_from_slice(text);
        record.push(b'\n');
        let result = self.log.write_all(&record);
        self.record = record;
        if let Err(e) = result {
            if !is_note {
                self.lost_bytes += text.len() as u64 + 1;
            }
            self.fail(e);
            return;
        }
        self.bytes += len;
        self.lines += 1;
        let full = match &mut self.index {
            Index::InMemory { ends, .. } => {
                ends.push(self.bytes);
                // The moment the log passes the threshold, its index goes to disk.
                self.bytes > INDEX_AFTER_BYTES
            }
            Index::File { pending, .. } => {
                pending.extend_from_slice(&self.bytes.to_le_bytes());
                pending.len() >= INDEX_BATCH * 8
            }
            Index::Failed => false,
        };
        if full {
            self.flush();
        }
    }

    /// Writes the offsets kept in memory to a new `.idx` (the log is flushed). The file is
    /// written aside and renamed, so a reader never sees an `.idx` with fewer records than
    /// the log had when it appeared.
    fn create_index(&mut self) {
        let Index::InMemory { path, ends } = &self.index else {
            return;
        };
        let partial = super::store::partial_index_path(path);
        let created = (|| {
            let mut file = crate::paths::private_file_options()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&partial)?;
            let bytes: Vec<u8> = ends.iter().flat_map(|end| end.to_le_bytes()).collect();
            file.write_all(&bytes)?;
            fs::rename(&partial, path)?;
            Ok(file)
        })();
        match created {
            Ok(file) => {
                self.index = Index::File {
                    file,
                    pending: Vec::with_capacity(INDEX_BATCH * 8),
                };
            }
            Err(e) => {
                // Not the run's failure: its output is all in the `.log`, which readers index
                // by scanning (slower for a large log, nothing lost).
                let _ = fs::remove_file(&partial);
                self.index = Index::Failed;
                tracing::warn!(
                    run = %self.run,
                    error = %LogError::write(&self.dir, e),
                    "could not create a run log's index; readers will scan the log"
                );
            }
        }
    }

    fn fail(&mut self, e: std::io::Error) {
        self.stopped = true;
        self.error.get_or_insert(LogError::write(&self.dir, e));
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.progress.send_modify(|p| p.finished = true);
        self.registry.remove(self.run);
    }
}

/// Whether the file system holding `dir` has less free space than the reserve left for the
/// database. Unknown (no statvfs, or it failed) counts as enough: the write itself then says.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
fn space_is_low(dir: &std::path::Path) -> bool {
    let Ok(stat) = nix::sys::statvfs::statvfs(dir) else {
        return false;
    };
    let unit = stat.fragment_size() as u64;
    let total = stat.blocks() as u64 * unit;
    let free = stat.blocks_available() as u64 * unit;
    free < (total / 8).min(RESERVE_MAX)
}

#[cfg(not(unix))]
fn space_is_low(_dir: &std::path::Path) -> bool {
    false
}

fn pending_slot(stream: Stream) -> usize {
    match stream {
        Stream::Stderr => 1,
        _ => 0,
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Invalid UTF-8 becomes U+FFFD; NUL becomes U+FFFD too, so `grep` keeps treating the file
/// as text.
fn sanitize(raw: &[u8]) -> Cow<'_, str> {
    let text = String::from_utf8_lossy(raw);
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        text
    }
}
