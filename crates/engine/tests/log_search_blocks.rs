//! The block-wise search finds exactly the lines the line-by-line scan finds, across block
//! boundaries, with stream filters, and never inside the time/stream prefix.

use chrono::Utc;
use sundial_engine::LogStore;
use sundial_engine::domain::RunId;
use sundial_engine::logs::{SearchQuery, Stream};

fn lines_matching(logs: &LogStore, run: RunId, query: &SearchQuery) -> Vec<u64> {
    let log = logs.open(run).unwrap();
    let mut found = Vec::new();
    log.search_each(query, 0, None, |m| {
        found.push(m.line);
        true
    })
    .unwrap();
    found
}

#[test]
fn block_search_agrees_with_the_line_scan_over_a_multi_block_log() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path());
    let run = RunId::new();
    let mut writer = logs.create(run, u64::MAX).unwrap();
    // ~3.5 MiB: several 1 MiB blocks, lines of varying length so matches straddle block edges.
    for n in 0..60_000u64 {
        let stream = if n % 3 == 0 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        let pad = "x".repeat((n % 40) as usize);
        let line = format!("row {n} {pad} tail{}\n", n % 97);
        writer.write_output(stream, Utc::now(), line.as_bytes());
    }
    writer.finish(Utc::now()).unwrap();

    // Unanchored patterns take the block path; the same pattern anchored with `^.*` takes
    // the line scan. Both must select the same lines.
    let block = lines_matching(&logs, run, &SearchQuery::regex("tail4[0-9]"));
    let by_line = lines_matching(&logs, run, &SearchQuery::regex("^.*tail4[0-9]"));
    assert_eq!(block, by_line);
    assert_eq!(
        block.len(),
        60_000 / 97 * 10 + 10,
        "tail40..tail49 on every 97th group"
    );

    let literal = lines_matching(&logs, run, &SearchQuery::literal("row 59999 "));
    assert_eq!(literal, vec![59_999]);

    let errs = lines_matching(
        &logs,
        run,
        &SearchQuery::regex("tail1[0-9]").in_stream(Stream::Stderr),
    );
    let errs_by_line = lines_matching(
        &logs,
        run,
        &SearchQuery::regex("^.*tail1[0-9]").in_stream(Stream::Stderr),
    );
    assert_eq!(errs, errs_by_line);
    assert!(errs.iter().all(|n| n % 3 == 0));

    // The time and stream prefix is not searchable text: "Z O row" only exists across it.
    assert!(lines_matching(&logs, run, &SearchQuery::literal("Z O row")).is_empty());
}
