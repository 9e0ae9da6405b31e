//! Run logs: the file format on real output, random access through the index, search,
//! follow, the size cap, run id validation, retention and write failures.
#![allow(clippy::single_range_in_vec_init)] // match ranges read best as written
#![cfg(unix)]

mod helpers;

use std::time::Duration;

use chrono::Utc;
use helpers::*;
use sundial_engine::domain::{Interpreter, RunId, RunStatus};
use sundial_engine::logs::{
    LogError, LogStore, MAX_RECORD_BYTES, SearchOptions, SearchQuery, Stream,
};
use sundial_engine::{RunnerConfig, logs::LogLine};

/// Writes `n` lines "line <i>" (stdout) with every 7th on stderr as "ERR <i>", in chunks.
fn write_numbered_log(logs: &LogStore, run: RunId, n: u64) {
    let mut writer = logs.create(run, u64::MAX).unwrap();
    let now = Utc::now();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    for i in 0..n {
        if i % 7 == 0 {
            err.extend_from_slice(format!("ERR {i}\n").as_bytes());
        } else {
            out.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        if out.len() > 60_000 || i + 1 == n {
            writer.write_output(Stream::Stdout, now, &out);
            out.clear();
        }
        if err.len() > 60_000 || i + 1 == n {
            writer.write_output(Stream::Stderr, now, &err);
            err.clear();
        }
    }
    let stats = writer.finish(now).unwrap();
    assert_eq!(stats.lines, n);
}

#[test]
fn reading_near_the_end_of_a_huge_log_touches_only_those_lines() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    // Stdout and stderr lines are interleaved per chunk, so compute the expected order by
    // reading the index directly rather than assuming it.
    const N: u64 = 2_000_000;
    write_numbered_log(&logs, run, N);
    let file_len = std::fs::metadata(logs.log_path(run)).unwrap().len();

    let log = logs.open(run).unwrap();
    assert_eq!(log.line_count().unwrap(), N);
    let before = log.bytes_read();
    let lines = log.read_lines(N - 5, 10).unwrap();
    let cost = log.bytes_read() - before;
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0].number, N - 5);
    assert_eq!(lines[4].number, N - 1);
    // Five records of ~40 bytes and six index entries: nowhere near the 50 MB before them.
    let record_bytes: u64 = lines.iter().map(|l| 27 + l.text.len() as u64 + 1).sum();
    assert_eq!(
        cost,
        record_bytes + 6 * 8,
        "read {cost} bytes of a {file_len}-byte log"
    );

    // The same cost in the middle and at the very start.
    let before = log.bytes_read();
    let middle = log.read_lines(N / 2, 3).unwrap();
    let cost = log.bytes_read() - before;
    let record_bytes: u64 = middle.iter().map(|l| 27 + l.text.len() as u64 + 1).sum();
    assert_eq!(cost, record_bytes + 4 * 8);

    let tail = log.tail(2).unwrap();
    assert_eq!(tail, log.read_lines(N - 2, 2).unwrap());
    // Every record parsed back: stream and text agree with what was written.
    for line in log.read_lines(N - 20, 20).unwrap() {
        match line.stream {
            Stream::Stdout => assert!(line.text.starts_with("line ")),
            Stream::Stderr => assert!(line.text.starts_with("ERR ")),
            Stream::Sundial => panic!("no notes were written"),
        }
        assert_eq!(line.time.len(), 24);
    }
    assert!(log.read_lines(N, 10).unwrap().is_empty());
}

#[test]
fn search_finds_every_match_literal_regex_and_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    let mut writer = logs.create(run, u64::MAX).unwrap();
    let now = Utc::now();
    writer.write_output(
        Stream::Stdout,
        now,
        b"Error one\nall fine\nerror error twice\nERROR loud\nterror.txt\n",
    );
    writer.write_output(Stream::Stderr, now, b"stderr error\nid=42 id=7\n");
    writer.note(now, "[sundial] no errors here? error");
    writer.finish(now).unwrap();
    let log = logs.open(run).unwrap();
    let all: Vec<LogLine> = log.read_lines(0, 100).unwrap();
    let number_of = |text: &str| all.iter().find(|l| l.text == text).unwrap().number;

    let literal = log
        .search(&SearchQuery::literal("error"), SearchOptions::default())
        .unwrap();
    let found: Vec<(u64, Vec<std::ops::Range<usize>>)> = literal
        .matches
        .iter()
        .map(|m| (m.line, m.ranges.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (number_of("error error twice"), vec![0..5, 6..11]),
            (number_of("terror.txt"), vec![1..6]),
            (number_of("stderr error"), vec![7..12]),
            (
                number_of("[sundial] no errors here? error"),
                vec![13..18, 26..31]
            ),
        ]
    );
    assert!(literal.complete);

    let insensitive = log
        .search(
            &SearchQuery::literal("error").case_insensitive(),
            SearchOptions::default(),
        )
        .unwrap();
    assert_eq!(insensitive.matches.len(), 6);
    assert_eq!(insensitive.matches[0].line, number_of("Error one"));

    // A literal dot is not a regex dot.
    let dot = log
        .search(&SearchQuery::literal("r.t"), SearchOptions::default())
        .unwrap();
    assert_eq!(dot.matches.len(), 1);
    assert_eq!(dot.matches[0].line, number_of("terror.txt"));
    let any = log
        .search(&SearchQuery::regex("r.t"), SearchOptions::default())
        .unwrap();
    assert!(any.matches.len() > 1);
    let regex = log
        .search(&SearchQuery::regex(r"id=(\d+)"), SearchOptions::default())
        .unwrap();
    assert_eq!(regex.matches.len(), 1);
    assert_eq!(regex.matches[0].ranges, vec![0..5, 6..10]);

    let stderr_only = log
        .search(
            &SearchQuery::literal("error").in_stream(Stream::Stderr),
            SearchOptions::default(),
        )
        .unwrap();
    assert_eq!(stderr_only.matches.len(), 1);
    assert_eq!(stderr_only.matches[0].line, number_of("stderr error"));

    // Paging: one match at a time, continuing from next_line.
    let mut options = SearchOptions {
        max_matches: 1,
        ..SearchOptions::default()
    };
    let mut paged = Vec::new();
    loop {
        let page = log.search(&SearchQuery::literal("error"), options).unwrap();
        paged.extend(page.matches.iter().map(|m| m.line));
        if page.complete {
            break;
        }
        options.start_line = page.next_line;
    }
    assert_eq!(
        paged,
        literal.matches.iter().map(|m| m.line).collect::<Vec<_>>()
    );

    assert!(matches!(
        log.search(&SearchQuery::regex("("), SearchOptions::default()),
        Err(LogError::Pattern(_))
    ));

    let stderr_lines = log.read_stream_lines(Stream::Stderr, 0, 10).unwrap();
    assert_eq!(
        stderr_lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>(),
        ["stderr error", "id=42 id=7"]
    );
}

#[test]
fn search_over_a_large_log_finds_every_match() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    write_numbered_log(&logs, run, 200_000);
    let log = logs.open(run).unwrap();
    let mut count = 0;
    log.search_each(&SearchQuery::regex(r"^ERR \d+5$"), 0, None, |_| {
        count += 1;
        true
    })
    .unwrap();
    // i % 7 == 0 and i % 10 == 5: i = 35 + 70k for i < 200_000.
    assert_eq!(
        count,
        (0..200_000).filter(|i| i % 7 == 0 && i % 10 == 5).count()
    );
}

#[tokio::test]
async fn invalid_utf8_crlf_and_nul_are_stored_visibly() {
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(fixture_job("invalid_utf8.sh", &[]), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded);
    let out: Vec<&str> = lines
        .iter()
        .filter(|l| l.stream == Stream::Stdout)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(
        out,
        [
            "before \u{FFFD}\u{FFFD} after",
            "café ok",
            "nul\u{FFFD}byte",
            "cut \u{FFFD}",
        ]
    );
}

#[tokio::test]
async fn a_ten_megabyte_line_is_split_and_what_follows_is_kept() {
    const LEN: usize = 10_000_000;
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(fixture_job("long_line.sh", &[&LEN.to_string()]), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let out: Vec<&LogLine> = lines
        .iter()
        .filter(|l| l.stream == Stream::Stdout)
        .collect();
    let pieces = LEN.div_ceil(MAX_RECORD_BYTES);
    assert_eq!(out.len(), pieces + 1);
    assert!(!out[0].continued);
    assert!(out[1..pieces].iter().all(|l| l.continued));
    let total: usize = out[..pieces].iter().map(|l| l.text.len()).sum();
    assert_eq!(total, LEN);
    assert!(
        out[..pieces]
            .iter()
            .all(|l| l.text.bytes().all(|b| b == b'x'))
    );
    assert_eq!(out[pieces].text, "after the long line");
    assert!(!out[pieces].continued);
}

#[tokio::test]
async fn the_size_cap_truncates_with_a_marker_and_the_run_still_finishes() {
    let harness = Harness::with_config(RunnerConfig {
        max_log_bytes: 20_000,
        ..test_config()
    });
    let (outcome, lines) = harness
        .run_job(fixture_job("lines.sh", &["50000"]), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert!(outcome.log_bytes < 21_000, "{} bytes", outcome.log_bytes);
    let texts = text_lines(&lines);
    let marker = texts
        .iter()
        .position(|t| t.contains("output truncated: the run log reached its cap of 20000 bytes"))
        .expect("truncation marker");
    assert!(
        texts[marker + 1..]
            .iter()
            .any(|t| t.contains("more bytes of output were discarded"))
    );
    assert!(texts.iter().any(|t| t.contains("exited with status 0")));
}

#[tokio::test]
async fn follow_yields_lines_as_written_and_ends_with_the_run() {
    let harness = Harness::new();
    let go = harness.dir.path().join("go");
    let body = format!(
        "echo one\necho two\nwhile [ ! -e '{}' ]; do sleep 0.02; done\necho three\n",
        go.display()
    );
    let request = request(job(script(Interpreter::Sh, &body), None));
    let id = request.run.id;
    let runner = harness.runner.clone();
    let run = tokio::spawn(async move {
        runner
            .run(request, tokio_util::sync::CancellationToken::new())
            .await
    });
    let logs = harness.logs().clone();
    wait_until("the run to print two", Duration::from_secs(10), || {
        texts_so_far(&logs, id).contains(&"two".to_string())
    })
    .await;
    assert!(logs.is_live(id));
    let mut follow = logs.follow(id, 0).unwrap();
    let mut seen = Vec::new();
    while !seen.contains(&"two".to_string()) {
        seen.push(follow.next().await.unwrap().unwrap().text);
    }
    std::fs::write(&go, b"").unwrap();
    while let Some(line) = follow.next().await {
        seen.push(line.unwrap().text);
    }
    let outcome = run.await.unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    assert!(seen[0].starts_with("[sundial] started"));
    assert_eq!(&seen[1..4], ["one", "two", "three"]);
    assert!(seen.last().unwrap().contains("exited with status 0"));
    assert_eq!(seen.len() as u64, outcome.log_lines);
    assert!(!logs.is_live(id));

    // Following a finished log yields what is there, from the line asked for, and ends.
    let mut again = logs.follow(id, 2).unwrap();
    let mut rest = Vec::new();
    while let Some(line) = again.next().await {
        rest.push(line.unwrap().text);
    }
    assert_eq!(rest, seen[2..]);
}

#[test]
fn only_run_ids_reach_the_file_system() {
    for bad in [
        "../../etc/passwd",
        "../../../../../../etc/pass",
        "01HZX3K5V6Q8W2N4M7P9R0S1T/",
        "",
    ] {
        assert!(
            matches!(LogStore::parse_run_id(bad), Err(LogError::InvalidRunId(_))),
            "{bad:?} was accepted"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let id = RunId::new();
    let parsed = LogStore::parse_run_id(&id.to_string()).unwrap();
    let path = logs.log_path(parsed);
    assert!(path.starts_with(dir.path()));
    assert_eq!(path.file_name().unwrap(), format!("{id}.log").as_str());
}

#[tokio::test]
async fn remove_deletes_a_runs_files() {
    let harness = Harness::new();
    let request = request(job(fixture_job("exit_code.sh", &["0"]), None));
    let id = request.run.id;
    harness.run(request).await;
    let logs = harness.logs();
    // A short run has no index (see log_index.rs for a log with one).
    assert!(logs.log_path(id).exists() && !logs.index_path(id).exists());
    logs.remove(id).unwrap();
    assert!(!logs.log_path(id).exists() && !logs.index_path(id).exists());
    assert!(matches!(logs.open(id), Err(LogError::NotFound(_))));
    logs.remove(id).unwrap();
}

#[tokio::test]
async fn an_unwritable_log_directory_fails_the_run_and_the_next_run_works() {
    let harness = Harness::new();
    let log_dir = harness.logs().dir().to_path_buf();
    // Root ignores permissions, so the dependable way to make the directory unusable is a
    // regular file where it should be.
    std::fs::write(&log_dir, b"not a directory").unwrap();
    let (outcome, _) = run_once(&harness).await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with(&format!(
            "cannot write the run log in {}",
            log_dir.display()
        )),
        "{error}"
    );
    std::fs::remove_file(&log_dir).unwrap();
    let (outcome, _) = run_once(&harness).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");

    if !running_as_root() {
        use std::os::unix::fs::PermissionsExt;
        let day_dirs: Vec<_> = std::fs::read_dir(&log_dir).unwrap().flatten().collect();
        for entry in &day_dirs {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        let (outcome, _) = run_once(&harness).await;
        assert_eq!(outcome.status, RunStatus::Failed);
        assert!(outcome.error.unwrap().ends_with(": Permission denied"));
        for entry in &day_dirs {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let (outcome, _) = run_once(&harness).await;
        assert_eq!(outcome.status, RunStatus::Succeeded);
    }
}

#[tokio::test]
async fn a_full_disk_fails_the_run_with_a_clear_error() {
    if !std::path::Path::new("/dev/full").exists() {
        return; // Linux and the BSDs have it; macOS does not.
    }
    let harness = Harness::new();
    let request = request(job(fixture_job("lines.sh", &["20000"]), None));
    let id = request.run.id;
    // /dev/full answers every write with ENOSPC, like a full disk.
    let log_path = harness.logs().log_path(id);
    std::fs::create_dir_all(log_path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/dev/full", &log_path).unwrap();
    let outcome = harness.run(request).await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with("the run log could not be written: the disk is full ("),
        "{error}"
    );
    assert!(error.ends_with(" bytes of output lost)"), "{error}");
    let (outcome, _) = run_once(&harness).await;
    assert_eq!(outcome.status, RunStatus::Succeeded);
}

async fn run_once(harness: &Harness) -> (sundial_engine::RunOutcome, RunId) {
    let request = request(job(fixture_job("exit_code.sh", &["0"]), None));
    let id = request.run.id;
    (harness.run(request).await, id)
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn the_index_of_an_unfinished_log_can_be_rebuilt() {
    use std::io::Write;
    let harness = Harness::new();
    // 2 × 2000 lines, about 140 KB: past INDEX_AFTER_BYTES, so the log has an index.
    let request = request(job(fixture_job("lines.sh", &["2000"]), None));
    let id = request.run.id;
    let outcome = harness.run(request).await;
    let logs = harness.logs();
    assert!(outcome.log_bytes > sundial_engine::logs::INDEX_AFTER_BYTES);
    let whole = harness.lines(id);

    // What a crash leaves: an index behind the log, cut mid-entry, and a half-written record.
    let index = std::fs::OpenOptions::new()
        .write(true)
        .open(logs.index_path(id))
        .unwrap();
    index.set_len(8 * 10 + 5).unwrap();
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(logs.log_path(id))
        .unwrap();
    log.write_all(b"2026-11-21T05:30:00.123Z O half a rec")
        .unwrap();
    assert_eq!(logs.open(id).unwrap().line_count().unwrap(), 10);

    let stats = logs.rebuild_index(id).unwrap();
    assert_eq!(stats.lines, outcome.log_lines);
    assert_eq!(stats.bytes, outcome.log_bytes);
    assert_eq!(harness.lines(id), whole);
    assert!(matches!(
        logs.rebuild_index(RunId::new()),
        Err(LogError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_log_written_by_another_process_can_be_followed_until_told_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    // Two stores on one directory share nothing but the files, like two processes.
    let writer_side = LogStore::new(dir.path());
    let reader_side = LogStore::new(dir.path());
    let run = RunId::new();
    let mut writer = writer_side.create(run, u64::MAX).unwrap();
    let now = Utc::now();
    writer.write_output(Stream::Stdout, now, b"first\n");
    writer.flush();
    assert!(!reader_side.is_live(run));

    let (ended, finished) = tokio::sync::oneshot::channel::<()>();
    let mut follow = reader_side
        .follow_external(run, 0, Duration::from_millis(10), async move {
            let _ = finished.await;
        })
        .unwrap();
    assert_eq!(follow.next().await.unwrap().unwrap().text, "first");
    writer.write_output(Stream::Stderr, now, b"second\n");
    writer.flush();
    assert_eq!(follow.next().await.unwrap().unwrap().text, "second");
    writer.write_output(Stream::Stdout, now, b"last\n");
    writer.finish(now).unwrap();
    ended.send(()).unwrap();
    let mut rest = Vec::new();
    while let Some(line) = follow.next().await {
        rest.push(line.unwrap().text);
    }
    assert_eq!(rest, ["last"]);
}

#[test]
fn lines_split_across_chunks_are_joined_and_an_unterminated_last_line_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    let mut writer = logs.create(run, u64::MAX).unwrap();
    let now = Utc::now();
    // Byte by byte, with stderr interleaved: each stream keeps its own partial line.
    let (out, err) = (&b"hello world\r\nsecond"[..], &b"oops\nno newline"[..]);
    for i in 0..out.len().max(err.len()) {
        if let Some(byte) = out.get(i) {
            writer.write_output(Stream::Stdout, now, std::slice::from_ref(byte));
        }
        if let Some(byte) = err.get(i) {
            writer.write_output(Stream::Stderr, now, std::slice::from_ref(byte));
        }
    }
    writer.write_output(Stream::Stdout, now, b"\n\nafter an empty line");
    // A multi-byte character cut between two chunks is one character, not two U+FFFD.
    writer.write_output(Stream::Stderr, now, b"\ncaf\xC3");
    writer.write_output(Stream::Stderr, now, b"\xA9\n");
    let stats = writer.finish(now).unwrap();
    let log = logs.open(run).unwrap();
    let lines = log.read_lines(0, 100).unwrap();
    let shown: Vec<(Stream, &str)> = lines.iter().map(|l| (l.stream, l.text.as_str())).collect();
    assert_eq!(
        shown,
        [
            (Stream::Stderr, "oops"),
            (Stream::Stdout, "hello world"),
            (Stream::Stdout, "second"),
            (Stream::Stdout, ""),
            (Stream::Stderr, "no newline"),
            (Stream::Stderr, "café"),
            (Stream::Stdout, "after an empty line"),
        ]
    );
    assert_eq!(stats.lines, 7);
    assert_eq!(
        stats.bytes,
        std::fs::metadata(logs.log_path(run)).unwrap().len()
    );
}

#[test]
fn a_stream_view_reads_only_that_streams_lines_by_position_and_grows() {
    use sundial_engine::logs::StreamIndex;
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    write_numbered_log(&logs, run, 10_000);
    let log = logs.open(run).unwrap();
    // The expected stderr lines, read the slow way.
    let all = log.read_lines(0, 10_000).unwrap();
    let stderr: Vec<u64> = all
        .iter()
        .filter(|l| l.stream == Stream::Stderr)
        .map(|l| l.number)
        .collect();
    assert_eq!(stderr.len(), 10_000 / 7 + 1);

    let mut view = StreamIndex::new(Stream::Stderr);
    view.update(&log).unwrap();
    assert_eq!(view.len(), stderr.len() as u64);
    let page = view.read(&log, 100, 50).unwrap();
    let numbers: Vec<u64> = page.iter().map(|l| l.number).collect();
    assert_eq!(numbers, stderr[100..150]);
    assert!(
        page.iter()
            .all(|l| l.stream == Stream::Stderr && l.text.starts_with("ERR "))
    );
    // Past the end: fewer lines, no error.
    assert_eq!(view.read(&log, view.len() - 2, 10).unwrap().len(), 2);
    // Jumping to a file line lands on the first stream line at or after it.
    assert_eq!(view.position_of(stderr[40]), 40);
    assert_eq!(view.position_of(stderr[39] + 1), 40);
    assert_eq!(view.position_of(u64::MAX), view.len());
}

#[tokio::test]
async fn a_stream_view_of_a_log_being_written_extends_with_it() {
    use sundial_engine::logs::StreamIndex;
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    let mut writer = logs.create(run, u64::MAX).unwrap();
    writer.write_output(Stream::Stdout, Utc::now(), b"one\ntwo\n");
    writer.write_output(Stream::Stderr, Utc::now(), b"bad one\n");
    writer.flush();
    let log = logs.open(run).unwrap();
    let mut view = StreamIndex::new(Stream::Stdout);
    view.update(&log).unwrap();
    assert_eq!(view.len(), 2);
    writer.write_output(Stream::Stdout, Utc::now(), b"three\n");
    writer.flush();
    view.update(&log).unwrap();
    assert_eq!(view.len(), 3);
    assert_eq!(view.read(&log, 2, 1).unwrap()[0].text, "three");
    writer.finish(Utc::now()).unwrap();
}

#[test]
fn a_text_log_reads_lines_by_range_and_searches_like_a_run_log() {
    use sundial_engine::logs::TextLog;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sundial.2026-11-21.log");
    let mut text = String::new();
    for i in 0..5_000 {
        let level = if i % 100 == 0 { "ERROR" } else { " INFO" };
        text.push_str(&format!(
            "2026-11-21T08:00:{:02}.000000Z {level} sundial: event {i}\n",
            i % 60
        ));
    }
    text.push_str("2026-11-21T08:01:00.000000Z  INFO sundial: unfinish");
    std::fs::write(&path, &text).unwrap();
    let mut log = TextLog::open(&path).unwrap();
    assert_eq!(log.line_count(), 5_000, "the unfinished last line waits");
    let lines = log.read_lines(4_998, 10).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1].number, 4_999);
    assert!(lines[1].text.ends_with("event 4999"));
    assert_eq!(lines[1].time, "2026-11-21T08:00:19.000000Z");
    let errors = log.read_lines(100, 1).unwrap();
    assert_eq!(errors[0].stream, Stream::Stderr);

    let mut found = Vec::new();
    log.search_each(&SearchQuery::regex(r"event 4\d{3}$"), 0, None, |m| {
        found.push(m.line);
        true
    })
    .unwrap();
    assert_eq!(found, (4_000..5_000).collect::<Vec<_>>());
    let mut errs = 0;
    log.search_each(
        &SearchQuery::literal("sundial").in_stream(Stream::Stderr),
        0,
        None,
        |_| {
            errs += 1;
            true
        },
    )
    .unwrap();
    assert_eq!(errs, 50);

    // The file grows (the app keeps logging): the new lines appear after an update.
    std::fs::write(&path, format!("{text}ed\nnext line\n")).unwrap();
    log.update().unwrap();
    assert_eq!(log.line_count(), 5_002);
    assert_eq!(log.read_lines(5_001, 1).unwrap()[0].text, "next line");
}
