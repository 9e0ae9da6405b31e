//! A followed run log goes to the web view in batches through a `tauri::ipc::Channel`: about
//! one batch per frame, each under 8 KB of JSON. One event per line is known to freeze Tauri
//! apps on chatty jobs, so lines are never sent one by one.

use std::time::Duration;

use serde::Serialize;
use sundial_engine::logs::{LogError, LogLine};
use tokio::sync::mpsc;
use tokio::time::Instant;
use ts_rs::TS;

use crate::error::IpcError;

/// The JSON size limit of one batch.
pub const MAX_BATCH_BYTES: usize = 8 * 1024;
/// A batch is sent at least this often while lines arrive (one frame at 60 Hz).
pub const FRAME: Duration = Duration::from_millis(16);
/// Text pieces of an over-long line; even escaped six-fold (`\u0000`) they stay under the
/// batch limit with the other fields.
const PIECE_BYTES: usize = 1000;
/// JSON around the lines: `{"lines":[],"done":false}` and a little slack.
const ENVELOPE_BYTES: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct LogBatch {
    pub lines: Vec<LogLine>,
    /// The run has finished and every line was delivered; nothing follows.
    pub done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<IpcError>,
}

fn json_len(line: &LogLine) -> usize {
    serde_json::to_string(line).map_or(usize::MAX, |s| s.len()) + 1
}

/// Splits a line whose JSON would not fit in a batch into pieces; the later pieces are marked
/// `continued`, as the run log itself marks records longer than its own limit.
fn split_long(line: LogLine) -> Vec<LogLine> {
    if json_len(&line) + ENVELOPE_BYTES <= MAX_BATCH_BYTES {
        return vec![line];
    }
    let mut pieces = Vec::new();
    let mut rest = line.text.as_str();
    let mut first = true;
    while !rest.is_empty() {
        let mut cut = rest.len().min(PIECE_BYTES);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        pieces.push(LogLine {
            number: line.number,
            time: line.time.clone(),
            stream: line.stream,
            continued: line.continued || !first,
            text: rest[..cut].to_string(),
        });
        rest = &rest[cut..];
        first = false;
    }
    pieces
}

/// Groups lines into batches under [`MAX_BATCH_BYTES`].
#[derive(Default)]
pub struct Batcher {
    lines: Vec<LogLine>,
    bytes: usize,
}

impl Batcher {
    /// Adds a line; returns the batches that became full.
    pub fn push(&mut self, line: LogLine) -> Vec<Vec<LogLine>> {
        let mut full = Vec::new();
        for piece in split_long(line) {
            let size = json_len(&piece);
            if !self.lines.is_empty() && self.bytes + size + ENVELOPE_BYTES > MAX_BATCH_BYTES {
                full.push(self.take());
            }
            self.bytes += size;
            self.lines.push(piece);
        }
        full
    }

    pub fn take(&mut self) -> Vec<LogLine> {
        self.bytes = 0;
        std::mem::take(&mut self.lines)
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// Forwards `lines` to `send` in batches until the log ends, an error occurs, or `send`
/// returns false (the web view went away).
pub async fn pump(
    mut lines: mpsc::Receiver<Result<LogLine, LogError>>,
    send: impl Fn(LogBatch) -> bool,
) {
    let batch = |lines, done, error| LogBatch { lines, done, error };
    let mut batcher = Batcher::default();
    loop {
        // Wait for the first line of a frame, then gather for one frame.
        let first = lines.recv().await;
        let deadline = Instant::now() + FRAME;
        let mut next = first;
        loop {
            match next {
                None => {
                    send(batch(batcher.take(), true, None));
                    return;
                }
                Some(Err(e)) => {
                    send(batch(batcher.take(), true, Some(e.into())));
                    return;
                }
                Some(Ok(line)) => {
                    for full in batcher.push(line) {
                        if !send(batch(full, false, None)) {
                            return;
                        }
                    }
                }
            }
            match tokio::time::timeout_at(deadline, lines.recv()).await {
                Ok(more) => next = more,
                Err(_) => break,
            }
        }
        if !batcher.is_empty() && !send(batch(batcher.take(), false, None)) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use sundial_engine::logs::Stream;

    use super::*;

    fn line(number: u64, text: &str) -> LogLine {
        LogLine {
            number,
            time: "2026-11-21T10:00:00.000Z".into(),
            stream: Stream::Stdout,
            continued: false,
            text: text.into(),
        }
    }

    async fn collect(input: Vec<LogLine>) -> Vec<LogBatch> {
        let (tx, rx) = mpsc::channel(input.len() + 1);
        for l in input {
            tx.send(Ok(l)).await.unwrap();
        }
        drop(tx);
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        pump(rx, move |b| {
            sink.lock().unwrap().push(b);
            true
        })
        .await;
        Arc::try_unwrap(out).unwrap().into_inner().unwrap()
    }

    #[tokio::test]
    async fn many_lines_go_in_few_batches_each_under_8_kb() {
        let input: Vec<_> = (0..20_000)
            .map(|i| line(i, &format!("line {i} of a chatty job")))
            .collect();
        let batches = collect(input).await;
        for b in &batches {
            assert!(serde_json::to_string(b).unwrap().len() < MAX_BATCH_BYTES);
        }
        let numbers: Vec<u64> = batches
            .iter()
            .flat_map(|b| b.lines.iter().map(|l| l.number))
            .collect();
        assert_eq!(numbers, (0..20_000).collect::<Vec<_>>());
        // Batched, not line by line: every batch but the last two is more than half full.
        for b in &batches[..batches.len() - 2] {
            assert!(serde_json::to_string(b).unwrap().len() > MAX_BATCH_BYTES / 2);
        }
        assert!(batches.last().unwrap().done);
        assert!(batches[..batches.len() - 1].iter().all(|b| !b.done));
    }

    #[tokio::test]
    async fn a_line_longer_than_a_batch_is_split_into_continued_pieces() {
        let long = "é\u{1}".repeat(20_000); // multi-byte and escaped characters
        let batches = collect(vec![line(7, &long), line(8, "after")]).await;
        let pieces: Vec<&LogLine> = batches.iter().flat_map(|b| &b.lines).collect();
        for b in &batches {
            assert!(serde_json::to_string(b).unwrap().len() < MAX_BATCH_BYTES);
        }
        let (long_pieces, rest): (Vec<&LogLine>, Vec<&LogLine>) =
            pieces.iter().copied().partition(|l| l.number == 7);
        assert!(long_pieces.len() > 1);
        assert!(!long_pieces[0].continued);
        assert!(long_pieces[1..].iter().all(|l| l.continued));
        let joined: String = long_pieces.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(joined, long);
        assert_eq!(rest[0].text, "after");
    }

    #[tokio::test]
    async fn a_read_error_ends_the_stream_with_the_error() {
        let (tx, rx) = mpsc::channel(4);
        tx.send(Ok(line(0, "a"))).await.unwrap();
        tx.send(Err(LogError::NotFound("x".into()))).await.unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        pump(rx, move |b| {
            sink.lock().unwrap().push(b);
            true
        })
        .await;
        let batches = out.lock().unwrap();
        let last = batches.last().unwrap();
        assert!(last.done);
        assert_eq!(
            last.error.as_ref().unwrap().code,
            crate::error::ErrorCode::NotFound
        );
        assert_eq!(batches.iter().map(|b| b.lines.len()).sum::<usize>(), 1);
    }

    #[tokio::test]
    async fn stops_when_the_web_view_is_gone() {
        let input: Vec<_> = (0..5_000)
            .map(|i| line(i, "x".repeat(100).as_str()))
            .collect();
        let (tx, rx) = mpsc::channel(input.len());
        for l in input {
            tx.send(Ok(l)).await.unwrap();
        }
        let calls = Arc::new(Mutex::new(0));
        let counter = calls.clone();
        pump(rx, move |_| {
            *counter.lock().unwrap() += 1;
            false
        })
        .await;
        assert_eq!(*calls.lock().unwrap(), 1);
        drop(tx);
    }
}
