//! The on-disk record format of a run log (see docs/LOG_FORMAT.md).
//!
//! One record per line: `2026-11-21T05:30:00.123Z O text`. The timestamp is always 24 bytes,
//! then a space, a one-byte tag, a space and the text. Every record ends with `\n`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Length of the timestamp at the start of every record.
pub const TIME_LEN: usize = 24;
/// Bytes before the text: timestamp, space, tag, space.
pub const PREFIX_LEN: usize = TIME_LEN + 3;
/// A line of output longer than this many bytes is split into several records.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;
/// A run log gets its `.idx` file only once it holds more than this many bytes. A smaller
/// log (most runs print a few lines) is a single file, and a reader indexes it by reading it
/// once, a read of at most 64 KiB. Until then the writer keeps the record offsets in memory:
/// at most 2,342 of them (64 KiB of 28-byte empty records, plus the one that crosses).
pub const INDEX_AFTER_BYTES: u64 = 64 * 1024;

/// Where a line came from.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
    /// Lines Sundial writes itself: start and end of the run, truncation, HTTP exchange.
    Sundial,
}

impl Stream {
    /// The tag byte of a record; continuation records use the lower-case letter.
    pub fn tag(self, continued: bool) -> u8 {
        match (self, continued) {
            (Stream::Stdout, false) => b'O',
            (Stream::Stdout, true) => b'o',
            (Stream::Stderr, false) => b'E',
            (Stream::Stderr, true) => b'e',
            (Stream::Sundial, _) => b'S',
        }
    }

    /// The stream and continuation flag of a tag byte.
    pub fn from_tag(tag: u8) -> Option<(Stream, bool)> {
        match tag {
            b'O' => Some((Stream::Stdout, false)),
            b'o' => Some((Stream::Stdout, true)),
            b'E' => Some((Stream::Stderr, false)),
            b'e' => Some((Stream::Stderr, true)),
            b'S' => Some((Stream::Sundial, false)),
            _ => None,
        }
    }
}

/// One record of a run log, as the viewer shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// 0-based record number in the file.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub number: u64,
    /// RFC 3339 UTC with milliseconds, exactly as stored.
    pub time: String,
    pub stream: Stream,
    /// True when this record continues the previous record of the same stream (the output
    /// line was longer than [`MAX_RECORD_BYTES`]).
    pub continued: bool,
    pub text: String,
}

/// The parts of a stored record (without its `\n`). A record that does not follow the format
/// (a file edited by hand) is returned whole as Sundial text with an empty time.
pub(crate) struct RawRecord<'a> {
    pub time: &'a [u8],
    pub stream: Stream,
    pub continued: bool,
    pub text: &'a [u8],
}

pub(crate) fn parse_record(record: &[u8]) -> RawRecord<'_> {
    let well_formed = record.len() >= PREFIX_LEN - 1
        && record[TIME_LEN] == b' '
        && (record.len() == PREFIX_LEN - 1 || record[PREFIX_LEN - 1] == b' ');
    if well_formed && let Some((stream, continued)) = Stream::from_tag(record[TIME_LEN + 1]) {
        return RawRecord {
            time: &record[..TIME_LEN],
            stream,
            continued,
            text: record.get(PREFIX_LEN..).unwrap_or(&[]),
        };
    }
    RawRecord {
        time: &[],
        stream: Stream::Sundial,
        continued: false,
        text: record,
    }
}

impl RawRecord<'_> {
    pub fn into_line(self, number: u64) -> LogLine {
        LogLine {
            number,
            time: String::from_utf8_lossy(self.time).into_owned(),
            stream: self.stream,
            continued: self.continued,
            text: String::from_utf8_lossy(self.text).into_owned(),
        }
    }
}

/// Formats timestamps, reusing the text while the millisecond does not change (output often
/// arrives thousands of lines per millisecond).
#[derive(Debug, Default)]
pub(crate) struct TimeFormatter {
    last_millis: Option<i64>,
    text: String,
}

impl TimeFormatter {
    pub fn format(&mut self, time: DateTime<Utc>) -> &str {
        let millis = time.timestamp_millis();
        if self.last_millis != Some(millis) {
            self.text = time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
            self.last_millis = Some(millis);
        }
        &self.text
    }
}

/// The longest prefix of `bytes` of at most `max` bytes that does not cut a UTF-8 sequence
/// (falls back to `max` when the bytes are not UTF-8 near the cut).
pub(crate) fn utf8_cut(bytes: &[u8], max: usize) -> usize {
    if bytes.len() <= max {
        return bytes.len();
    }
    // A continuation byte looks like 10xxxxxx; back up over at most three of them.
    for back in 0..4 {
        let cut = max - back;
        if cut == 0 {
            break;
        }
        if bytes[cut] & 0b1100_0000 != 0b1000_0000 {
            return cut;
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_never_splits_a_character() {
        let text = "aé€😀".repeat(10);
        for max in 1..text.len() {
            let cut = utf8_cut(text.as_bytes(), max);
            assert!(cut <= max);
            assert!(text.is_char_boundary(cut), "max {max} cut {cut}");
        }
    }

    #[test]
    fn parses_records_and_tolerates_foreign_lines() {
        let r = parse_record(b"2026-11-21T05:30:00.123Z e tail");
        assert_eq!(r.stream, Stream::Stderr);
        assert!(r.continued);
        assert_eq!(r.text, b"tail");
        let empty = parse_record(b"2026-11-21T05:30:00.123Z O ");
        assert_eq!(empty.text, b"");
        let foreign = parse_record(b"hello");
        assert_eq!(foreign.stream, Stream::Sundial);
        assert_eq!(foreign.text, b"hello");
    }
}
