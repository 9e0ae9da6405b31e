//! The `.idx` of a run log exists only past `INDEX_AFTER_BYTES`: a short run leaves one file
//! and reads back in full by scanning, a log crossing the threshold gets exactly the index the
//! format describes, readers and followers opened before the crossing keep up, and remove,
//! rebuild_index and unfinished records behave the same with or without an index.
#![cfg(unix)]

mod helpers;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use helpers::*;
use sundial_engine::domain::{RunId, RunStatus};
use sundial_engine::logs::{
    INDEX_AFTER_BYTES, LogError, LogFollow, LogLine, LogStore, SearchOptions, SearchQuery, Stream,
    StreamIndex,
};

/// The files a run left in its day folder, sorted.
fn files_of(logs: &LogStore, run: RunId) -> Vec<String> {
    let day = logs.log_path(run).parent().unwrap().to_path_buf();
    let mut names: Vec<String> = std::fs::read_dir(day)
        .map(|d| {
            d.flatten()
                .map(|f| f.file_name().to_string_lossy().to_string())
                .filter(|name| name.starts_with(&run.to_string()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The `.idx` the format gives a log: the offset just past every `\n`, little-endian u64.
fn index_by_scanning(log: &[u8]) -> Vec<u8> {
    memchr::memchr_iter(b'\n', log)
        .flat_map(|i| (i as u64 + 1).to_le_bytes())
        .collect()
}

fn partial_path(logs: &LogStore, run: RunId) -> PathBuf {
    logs.index_path(run).with_extension("idx.partial")
}

fn texts(lines: &[LogLine]) -> Vec<String> {
    lines.iter().map(|l| l.text.clone()).collect()
}

/// Writes lines "line <i>" on stdout, every 5th "err <i>" on stderr, flushed every 100 lines,
/// until the log holds more than `bytes`. Returns the texts in file order.
fn write_until(writer: &mut sundial_engine::logs::LogWriter, bytes: u64) -> Vec<String> {
    let now = Utc::now();
    let mut written = Vec::new();
    let mut i = 0;
    while writer.stats().bytes <= bytes {
        let (stream, text) = if i % 5 == 0 {
            (Stream::Stderr, format!("err {i}"))
        } else {
            (Stream::Stdout, format!("line {i}"))
        };
        writer.write_output(stream, now, format!("{text}\n").as_bytes());
        written.push(text);
        i += 1;
        if i % 100 == 0 {
            writer.flush();
        }
    }
    written
}

fn write_log(logs: &LogStore, run: RunId, bytes: u64) -> Vec<String> {
    let mut writer = logs.create(run, u64::MAX).unwrap();
    let written = write_until(&mut writer, bytes);
    let stats = writer.finish(Utc::now()).unwrap();
    assert_eq!(stats.lines, written.len() as u64);
    written
}

#[test]
fn a_short_log_is_one_file_and_reads_back_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    let mut writer = logs.create(run, u64::MAX).unwrap();
    let now = Utc::now();
    writer.note(now, "[sundial] started");
    writer.write_output(Stream::Stdout, now, b"hello\nworld\n");
    writer.write_output(Stream::Stderr, now, b"warning: disk almost full\n");
    writer.write_output(Stream::Stdout, now, b"bye, world");
    let stats = writer.finish(now).unwrap();
    assert_eq!(stats.lines, 5);
    assert_eq!(files_of(&logs, run), [format!("{run}.log")]);

    let log = logs.open(run).unwrap();
    assert_eq!(log.line_count().unwrap(), 5);
    let lines = log.read_lines(0, 100).unwrap();
    assert_eq!(
        texts(&lines),
        [
            "[sundial] started",
            "hello",
            "world",
            "warning: disk almost full",
            "bye, world"
        ]
    );
    assert_eq!(
        lines.iter().map(|l| l.number).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(lines[3].stream, Stream::Stderr);
    assert_eq!(lines[0].stream, Stream::Sundial);
    assert!(lines.iter().all(|l| l.time.len() == 24));
    assert_eq!(texts(&log.read_lines(1, 2).unwrap()), ["hello", "world"]);
    assert_eq!(log.tail(2).unwrap(), log.read_lines(3, 2).unwrap());
    assert!(log.read_lines(5, 1).unwrap().is_empty());

    let found = log
        .search(&SearchQuery::literal("world"), SearchOptions::default())
        .unwrap();
    assert_eq!(
        found.matches.iter().map(|m| m.line).collect::<Vec<_>>(),
        [2, 4]
    );
    assert!(found.complete);
    let anchored = log
        .search(&SearchQuery::regex("^w"), SearchOptions::default())
        .unwrap();
    assert_eq!(
        anchored.matches.iter().map(|m| m.line).collect::<Vec<_>>(),
        [2, 3]
    );
    let in_stderr = log
        .search(
            &SearchQuery::literal("disk").in_stream(Stream::Stderr),
            SearchOptions::default(),
        )
        .unwrap();
    assert_eq!(in_stderr.matches[0].line, 3);

    assert_eq!(
        texts(&log.read_stream_lines(Stream::Stderr, 0, 10).unwrap()),
        ["warning: disk almost full"]
    );
    let mut view = StreamIndex::new(Stream::Stdout);
    view.update(&log).unwrap();
    assert_eq!(view.len(), 3);
    assert_eq!(
        texts(&view.read(&log, 0, 10).unwrap()),
        ["hello", "world", "bye, world"]
    );
}

#[tokio::test]
async fn a_short_run_leaves_a_single_file() {
    let harness = Harness::new();
    let request = request(job(fixture_job("lines.sh", &["10"]), None));
    let id = request.run.id;
    let outcome = harness.run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(files_of(harness.logs(), id), [format!("{id}.log")]);
    let lines = harness.lines(id);
    assert_eq!(lines.len() as u64, outcome.log_lines);
    let of = |stream| {
        lines
            .iter()
            .filter(|l| l.stream == stream)
            .map(|l| l.text.clone())
            .collect::<Vec<_>>()
    };
    let numbered = |prefix: &str| {
        (1..=10)
            .map(|i| format!("{prefix} {i}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(of(Stream::Stdout), numbered("out"));
    assert_eq!(of(Stream::Stderr), numbered("err"));
    assert!(lines[0].text.starts_with("[sundial] started"));
}

#[test]
fn a_log_past_the_threshold_gets_the_index_a_scan_gives() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    let mut writer = logs.create(run, u64::MAX).unwrap();
    let now = Utc::now();
    // Sixteen records of exactly 4 KiB: the log is exactly INDEX_AFTER_BYTES, not past it.
    let text = "x".repeat(4096 - 28);
    for _ in 0..16 {
        writer.write_output(Stream::Stdout, now, format!("{text}\n").as_bytes());
    }
    writer.flush();
    assert_eq!(writer.stats().bytes, INDEX_AFTER_BYTES);
    assert_eq!(files_of(&logs, run), [format!("{run}.log")]);
    assert_eq!(logs.open(run).unwrap().line_count().unwrap(), 16);

    // One more record passes it: the index is there at once, with every record so far.
    writer.write_output(Stream::Stderr, now, b"one more\n");
    assert_eq!(
        files_of(&logs, run),
        [format!("{run}.idx"), format!("{run}.log")]
    );
    let log_now = std::fs::read(logs.log_path(run)).unwrap();
    let index_now = std::fs::read(logs.index_path(run)).unwrap();
    assert_eq!(index_now.len(), 17 * 8);
    assert_eq!(index_now, index_by_scanning(&log_now));

    // From then on the index is appended to, as before.
    let more = write_until(&mut writer, 20 * INDEX_AFTER_BYTES);
    let stats = writer.finish(now).unwrap();
    let log_bytes = std::fs::read(logs.log_path(run)).unwrap();
    let index = std::fs::read(logs.index_path(run)).unwrap();
    assert_eq!(index, index_by_scanning(&log_bytes));
    assert_eq!(index.len() as u64, stats.lines * 8);
    assert_eq!(stats.bytes, log_bytes.len() as u64);
    assert!(!partial_path(&logs, run).exists());

    let log = logs.open(run).unwrap();
    assert_eq!(log.line_count().unwrap(), 17 + more.len() as u64);
    assert_eq!(texts(&log.read_lines(16, 1).unwrap()), ["one more"]);
    assert_eq!(texts(&log.tail(3).unwrap()), more[more.len() - 3..]);
}

/// Receives lines until `want` were seen, failing after 10 s.
async fn receive(follow: &mut LogFollow, seen: &mut Vec<String>, want: usize) {
    while seen.len() < want {
        let line = tokio::time::timeout(Duration::from_secs(10), follow.next())
            .await
            .expect("a line within 10 s")
            .expect("the follow is still open")
            .unwrap();
        seen.push(line.text);
    }
}

#[tokio::test]
async fn readers_and_followers_opened_before_the_index_see_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    // Shares only the files, like another process.
    let elsewhere = LogStore::new(dir.path());
    let run = RunId::new();
    let mut writer = logs.create(run, u64::MAX).unwrap();
    let now = Utc::now();
    writer.write_output(Stream::Stdout, now, b"line 0\n");
    writer.flush();

    let reader = logs.open(run).unwrap();
    let mut errors = StreamIndex::new(Stream::Stderr);
    errors.update(&reader).unwrap();
    let mut live = logs.follow(run, 0).unwrap();
    let (ended, finished) = tokio::sync::oneshot::channel::<()>();
    let mut external = elsewhere
        .follow_external(run, 0, Duration::from_millis(5), async move {
            let _ = finished.await;
        })
        .unwrap();

    let mut written = vec!["line 0".to_string()];
    let (mut by_live, mut by_external) = (Vec::new(), Vec::new());
    let mut before_index = 0;
    let mut i = 1;
    while writer.stats().bytes <= 4 * INDEX_AFTER_BYTES {
        let mut out = String::new();
        for _ in 0..150 {
            out.push_str(&format!("line {i}\n"));
            written.push(format!("line {i}"));
            i += 1;
        }
        writer.write_output(Stream::Stdout, now, out.as_bytes());
        writer.write_output(Stream::Stderr, now, format!("err {i}\n").as_bytes());
        written.push(format!("err {i}"));
        writer.flush();
        if !logs.index_path(run).exists() {
            before_index += 1;
        }
        // The reader counts every flushed line, and never fewer than before.
        assert_eq!(reader.line_count().unwrap(), written.len() as u64);
        assert_eq!(
            reader.tail(1).unwrap()[0].text,
            *written.last().unwrap(),
            "after {} lines",
            written.len()
        );
        errors.update(&reader).unwrap();
        receive(&mut live, &mut by_live, written.len()).await;
        receive(&mut external, &mut by_external, written.len()).await;
    }
    assert!(before_index >= 2, "some batches were read before the index");
    assert!(logs.index_path(run).exists());

    writer.write_output(Stream::Stdout, now, b"the end\n");
    written.push("the end".to_string());
    writer.finish(now).unwrap();
    ended.send(()).unwrap();
    for (follow, seen) in [(&mut live, &mut by_live), (&mut external, &mut by_external)] {
        while let Some(line) = follow.next().await {
            seen.push(line.unwrap().text);
        }
        assert_eq!(*seen, written);
    }
    assert_eq!(
        texts(&reader.read_lines(0, written.len() + 1).unwrap()),
        written
    );
    errors.update(&reader).unwrap();
    let expected_errors: Vec<&String> = written.iter().filter(|t| t.starts_with("err")).collect();
    assert_eq!(errors.len(), expected_errors.len() as u64);
    assert_eq!(
        texts(&errors.read(&reader, 0, usize::MAX).unwrap()),
        expected_errors.into_iter().cloned().collect::<Vec<_>>()
    );
    let index = std::fs::read(logs.index_path(run)).unwrap();
    assert_eq!(
        index,
        index_by_scanning(&std::fs::read(logs.log_path(run)).unwrap())
    );
}

#[test]
fn a_reader_keeps_scanning_until_an_index_holds_what_it_has_seen() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    let path = logs.log_path(run);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let record = |text: &str| format!("2026-11-21T05:30:00.123Z O {text}\n");
    let append = |text: &str| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(record(text).as_bytes()).unwrap();
    };
    let write_index = |records: usize| {
        let log = std::fs::read(&path).unwrap();
        let index = index_by_scanning(&log);
        std::fs::write(logs.index_path(run), &index[..records * 8]).unwrap();
    };
    for text in ["a", "b", "c"] {
        append(text);
    }
    let reader = logs.open(run).unwrap();
    assert_eq!(reader.line_count().unwrap(), 3);

    // An index behind what the reader has seen is not taken: the count never goes down.
    write_index(2);
    assert_eq!(reader.line_count().unwrap(), 3);
    assert_eq!(texts(&reader.read_lines(2, 1).unwrap()), ["c"]);
    append("d");
    assert_eq!(reader.line_count().unwrap(), 4);

    // Once it holds as many, the reader uses it from then on.
    write_index(4);
    assert_eq!(reader.line_count().unwrap(), 4);
    append("e");
    assert_eq!(
        reader.line_count().unwrap(),
        4,
        "the index is read, not the log"
    );
    write_index(5);
    assert_eq!(texts(&reader.read_lines(3, 10).unwrap()), ["d", "e"]);
    // A reader opened on a log with an index uses it as it is.
    write_index(1);
    assert_eq!(logs.open(run).unwrap().line_count().unwrap(), 1);
}

#[test]
fn remove_deletes_a_log_with_or_without_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let (small, large) = (RunId::new(), RunId::new());
    write_log(&logs, small, 100);
    write_log(&logs, large, 2 * INDEX_AFTER_BYTES);
    assert_eq!(files_of(&logs, small), [format!("{small}.log")]);
    assert_eq!(
        files_of(&logs, large),
        [format!("{large}.idx"), format!("{large}.log")]
    );

    logs.remove(small).unwrap();
    assert!(files_of(&logs, small).is_empty());
    assert!(matches!(logs.open(small), Err(LogError::NotFound(_))));
    logs.remove(small).unwrap();
    logs.remove(large).unwrap();
    assert!(files_of(&logs, large).is_empty());
    assert!(matches!(logs.open(large), Err(LogError::NotFound(_))));
    logs.remove(large).unwrap();
    // The day's folder went with its last run.
    assert!(!logs.log_path(large).parent().unwrap().exists());
}

#[test]
fn rebuild_index_writes_an_index_only_for_a_log_past_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let half = b"2026-11-21T05:30:00.123Z O half a rec";
    let append_half = |run: RunId| {
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(logs.log_path(run))
            .unwrap();
        log.write_all(half).unwrap();
    };

    // A small log with a stale index (an earlier version wrote one for every log) and a
    // record cut by the crash: the index goes, the complete records stay readable.
    let small = RunId::new();
    let written = write_log(&logs, small, 1_000);
    let complete = std::fs::metadata(logs.log_path(small)).unwrap().len();
    std::fs::write(logs.index_path(small), [0u8; 8 * 2 + 3]).unwrap();
    std::fs::write(partial_path(&logs, small), b"left by a crash").unwrap();
    append_half(small);
    assert_eq!(logs.open(small).unwrap().line_count().unwrap(), 2);
    let stats = logs.rebuild_index(small).unwrap();
    assert_eq!(stats.lines, written.len() as u64);
    assert_eq!(stats.bytes, complete);
    assert_eq!(files_of(&logs, small), [format!("{small}.log")]);
    let log = logs.open(small).unwrap();
    assert_eq!(texts(&log.read_lines(0, usize::MAX).unwrap()), written);
    // Rebuilding again changes nothing.
    assert_eq!(logs.rebuild_index(small).unwrap(), stats);
    assert_eq!(files_of(&logs, small), [format!("{small}.log")]);

    // A large log whose index is behind and cut mid-entry.
    let large = RunId::new();
    let written = write_log(&logs, large, 3 * INDEX_AFTER_BYTES);
    let complete = std::fs::read(logs.log_path(large)).unwrap();
    let index = std::fs::OpenOptions::new()
        .write(true)
        .open(logs.index_path(large))
        .unwrap();
    index.set_len(8 * 10 + 5).unwrap();
    append_half(large);
    assert_eq!(logs.open(large).unwrap().line_count().unwrap(), 10);
    let stats = logs.rebuild_index(large).unwrap();
    assert_eq!(stats.lines, written.len() as u64);
    assert_eq!(stats.bytes, complete.len() as u64);
    assert_eq!(
        std::fs::read(logs.index_path(large)).unwrap(),
        index_by_scanning(&complete)
    );
    assert!(!partial_path(&logs, large).exists());
    let log = logs.open(large).unwrap();
    assert_eq!(texts(&log.read_lines(0, usize::MAX).unwrap()), written);

    // A large log that lost its index altogether gets one.
    std::fs::remove_file(logs.index_path(large)).unwrap();
    assert_eq!(logs.rebuild_index(large).unwrap(), stats);
    assert_eq!(
        std::fs::read(logs.index_path(large)).unwrap(),
        index_by_scanning(&complete)
    );
}

#[test]
fn an_unfinished_last_record_is_not_a_line_with_or_without_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    for size in [200, 2 * INDEX_AFTER_BYTES] {
        let run = RunId::new();
        let written = write_log(&logs, run, size);
        assert_eq!(
            logs.index_path(run).exists(),
            size > INDEX_AFTER_BYTES,
            "{size}"
        );
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(logs.log_path(run))
            .unwrap();
        file.write_all(b"2026-11-21T05:30:00.123Z E unfinished business")
            .unwrap();
        let log = logs.open(run).unwrap();
        let n = written.len() as u64;
        assert_eq!(log.line_count().unwrap(), n, "{size}");
        assert_eq!(log.tail(1).unwrap()[0].text, *written.last().unwrap());
        assert!(log.read_lines(n, 10).unwrap().is_empty());
        for query in [
            SearchQuery::literal("unfinished"),
            SearchQuery::regex("^unfinished"),
        ] {
            let found = log.search(&query, SearchOptions::default()).unwrap();
            assert!(found.matches.is_empty(), "{size} {query:?}");
        }
        let stderr = log
            .read_stream_lines(Stream::Stderr, 0, usize::MAX)
            .unwrap();
        assert_eq!(
            stderr.last().unwrap().text,
            *written.iter().rfind(|t| t.starts_with("err")).unwrap()
        );
        let mut view = StreamIndex::new(Stream::Stderr);
        view.update(&log).unwrap();
        assert_eq!(view.len(), stderr.len() as u64);

        if size < INDEX_AFTER_BYTES {
            // Finished by its `\n`, the record is a line for the scanning reader.
            file.write_all(b"\n").unwrap();
            assert_eq!(log.line_count().unwrap(), n + 1);
            assert_eq!(log.tail(1).unwrap()[0].text, "unfinished business");
        }
    }
}

#[test]
fn an_index_that_cannot_be_created_keeps_every_line_and_does_not_fail_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    // A directory where the index is written first makes creating it fail.
    std::fs::create_dir_all(partial_path(&logs, run)).unwrap();
    let mut writer = logs.create(run, u64::MAX).unwrap();
    let mut written = write_until(&mut writer, INDEX_AFTER_BYTES);
    assert!(writer.error().is_none(), "{:?}", writer.error());
    written.extend(write_until(&mut writer, 3 * INDEX_AFTER_BYTES));
    let stats = writer.finish(Utc::now()).unwrap();
    assert_eq!(stats.lines, written.len() as u64);
    assert!(!logs.index_path(run).exists());
    let log = logs.open(run).unwrap();
    assert_eq!(log.line_count().unwrap(), stats.lines);
    assert_eq!(texts(&log.read_lines(0, usize::MAX).unwrap()), written);
}

#[test]
fn creating_a_log_again_replaces_the_old_log_and_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    write_log(&logs, run, 2 * INDEX_AFTER_BYTES);
    assert!(logs.index_path(run).exists());

    // The new log is short: the old index must not describe it.
    let mut writer = logs.create(run, u64::MAX).unwrap();
    assert_eq!(files_of(&logs, run), [format!("{run}.log")]);
    writer.write_output(Stream::Stdout, Utc::now(), b"fresh\nstart\n");
    writer.finish(Utc::now()).unwrap();
    assert_eq!(files_of(&logs, run), [format!("{run}.log")]);
    let log = logs.open(run).unwrap();
    assert_eq!(
        texts(&log.read_lines(0, usize::MAX).unwrap()),
        ["fresh", "start"]
    );
}
