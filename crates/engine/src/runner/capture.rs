//! Carries a process's stdout and stderr into its run log: one task per pipe reads, one
//! blocking thread writes. Memory is bounded by the channel (a few chunks of 64 KiB).
//!
//! The pipes are read to their end whatever happens to the log: when it cannot be written (the
//! disk is full) the writer keeps taking chunks and discards them, so a process never blocks on
//! a full pipe and is not ended for it; the run fails afterwards (decisions/0009).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use crate::clock::Clock;
use crate::logs::{LogWriter, Stream};

const CHUNK: usize = 64 * 1024;
const CHANNEL_CHUNKS: usize = 16;

struct Chunk {
    stream: Stream,
    time: DateTime<Utc>,
    bytes: Vec<u8>,
}

pub(crate) struct Capture {
    readers: JoinSet<()>,
    writer: JoinHandle<LogWriter>,
}

impl Capture {
    pub fn start(
        log: LogWriter,
        clock: Arc<dyn Clock>,
        stdout: Option<impl AsyncRead + Unpin + Send + 'static>,
        stderr: Option<impl AsyncRead + Unpin + Send + 'static>,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
        let mut readers = JoinSet::new();
        if let Some(pipe) = stdout {
            readers.spawn(read_pipe(
                pipe,
                Stream::Stdout,
                sender.clone(),
                Arc::clone(&clock),
            ));
        }
        if let Some(pipe) = stderr {
            readers.spawn(read_pipe(
                pipe,
                Stream::Stderr,
                sender.clone(),
                Arc::clone(&clock),
            ));
        }
        drop(sender);
        let writer = tokio::task::spawn_blocking(move || write_chunks(log, receiver));
        Self { readers, writer }
    }

    /// Waits up to `limit` for both pipes to reach end of file. True when they did.
    pub async fn drained_within(&mut self, limit: Duration) -> bool {
        let all = async { while self.readers.join_next().await.is_some() {} };
        tokio::time::timeout(limit, all).await.is_ok()
    }

    /// Stops reading (output not read yet is lost) and returns the log once every chunk read
    /// so far is written.
    pub async fn finish(mut self) -> Option<LogWriter> {
        self.readers.abort_all();
        while self.readers.join_next().await.is_some() {}
        self.writer.await.ok()
    }
}

async fn read_pipe(
    mut pipe: impl AsyncRead + Unpin,
    stream: Stream,
    sender: mpsc::Sender<Chunk>,
    clock: Arc<dyn Clock>,
) {
    loop {
        let mut bytes = vec![0; CHUNK];
        let n = match pipe.read(&mut bytes).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        bytes.truncate(n);
        let chunk = Chunk {
            stream,
            time: clock.now(),
            bytes,
        };
        if sender.send(chunk).await.is_err() {
            return;
        }
    }
}

fn write_chunks(mut log: LogWriter, mut receiver: mpsc::Receiver<Chunk>) -> LogWriter {
    while let Some(chunk) = receiver.blocking_recv() {
        log.write_output(chunk.stream, chunk.time, &chunk.bytes);
        // Write whatever else is waiting, then make it visible to followers.
        while let Ok(chunk) = receiver.try_recv() {
            log.write_output(chunk.stream, chunk.time, &chunk.bytes);
        }
        log.flush();
    }
    log
}
