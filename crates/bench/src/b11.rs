//! B11: a job's logs as one. A job with 1,000 runs whose logs total 1 GiB, searched through the
//! engine's job-wide search (every run newest first, through the runs table, with the lines
//! and their ranges handed on), against `grep -r` over the same files in the same run.

use std::time::Instant;

use chrono::Utc;
use serde_json::json;
use sundial_engine::LogStore;
use sundial_engine::domain::{Job, JobId, JobSpec, Run, RunId, RunReason, RunStatus};
use sundial_engine::logs::{CancellationToken, JobLogSearch, Stream, search_job_logs};
use sundial_engine::store::Store;

use crate::report::Row;
use crate::scenarios::{Sizes, e, row};
use crate::util::*;

/// Matches about one line in 10,000 (so about one per run), as a search for an error does.
const B11_LITERAL: &str = "7777 of run";
const B11_REGEX: &str = "line 7{3}[0-9] of run";

pub async fn b11(s: &Sizes) -> Result<Vec<Row>, String> {
    let (runs, bytes_per_run) = s.b11();
    let dir = tempfile::tempdir().map_err(e)?;
    let store = Store::open(&dir.path().join("b11.db")).await.map_err(e)?;
    let logs = LogStore::new(dir.path().join("runs"));
    let now = Utc::now();
    let spec: JobSpec = serde_json::from_value(json!({
        "name": "b11",
        "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
        "trigger": {"type": "manual"},
    }))
    .map_err(e)?;
    let job = Job {
        id: JobId::new(),
        revision: 1,
        created_at: now,
        updated_at: now,
        spec,
    };
    store
        .insert_jobs(std::slice::from_ref(&job))
        .await
        .map_err(e)?;
    let mut rows_of_runs = Vec::with_capacity(runs);
    let mut chunk = String::with_capacity(110_000);
    for r in 0..runs {
        let id = RunId::new();
        let mut writer = logs.create(id, u64::MAX).map_err(e)?;
        let mut written = 0u64;
        let mut n = 0u64;
        while written < bytes_per_run {
            chunk.clear();
            for _ in 0..1000 {
                n += 1;
                chunk.push_str(&format!(
                    "line {n} of run {r}: Sundial job log benchmark text 0123456789 abcdefghij\n"
                ));
            }
            written += chunk.len() as u64 + 1000 * 28;
            writer.write_output(Stream::Stdout, now, chunk.as_bytes());
        }
        let stats = writer.finish(now).map_err(e)?;
        rows_of_runs.push(Run {
            id,
            job_id: job.id,
            job_revision: 1,
            reason: RunReason::Schedule,
            attempt: 1,
            parent_run_id: None,
            scheduled_for: now,
            created_at: now,
            started_at: Some(now),
            finished_at: Some(now),
            status: RunStatus::Succeeded,
            exit_code: Some(0),
            http_status: None,
            error: None,
            log_bytes: stats.bytes,
            log_lines: stats.lines,
            cpu_ms: None,
            peak_memory_bytes: None,
            overrides: None,
            trigger_path: None,
            wait: Default::default(),
        });
    }
    store
        .record_firings(&rows_of_runs, &[], &[])
        .await
        .map_err(e)?;
    let runs_dir = logs.dir().display().to_string();
    let total_bytes: u64 = rows_of_runs.iter().map(|r| r.log_bytes).sum();

    let search = |regex: bool| JobLogSearch {
        pattern: if regex { B11_REGEX } else { B11_LITERAL }.into(),
        regex,
        case_sensitive: true,
        max_matches: 10_000,
    };
    // Ours: the whole search, as the window gets it (every matching line with its text).
    let ours = |regex: bool| {
        let store = &store;
        let logs = &logs;
        let search = search(regex);
        async move {
            let start = Instant::now();
            let mut lines = 0u64;
            let summary = search_job_logs(
                store,
                logs,
                job.id,
                &search,
                &CancellationToken::new(),
                |run| {
                    lines += run.matches.len() as u64;
                    true
                },
            )
            .await
            .map_err(e)?;
            Ok::<_, String>((ms(start.elapsed()), summary.total, lines))
        }
    };
    let grep_args = |regex: bool| -> Vec<String> {
        let mut args = vec!["-r".to_string(), "--include=*.log".to_string()];
        if regex {
            args.push("-E".into());
        }
        args.push("--".into());
        args.push(if regex { B11_REGEX } else { B11_LITERAL }.into());
        args.push(runs_dir.clone());
        args
    };
    let repeat = if s.quick { 2 } else { 5 };
    let mut out = Vec::new();
    for regex in [false, true] {
        // Same pages in the cache for both: one search of each first.
        let (_, our_total, our_lines) = ours(regex).await?;
        let args = grep_args(regex);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let grep_lines = output_of("grep", &args)?.lines().count() as u64;
        if our_total != grep_lines {
            return Err(format!(
                "B11: Sundial found {our_total} lines, grep -r {grep_lines}"
            ));
        }
        let mut ours_ms = Vec::new();
        let mut grep_ms = Vec::new();
        for _ in 0..repeat {
            ours_ms.push(ours(regex).await?.0);
            grep_ms.push(ms(time_command("grep", &args)?));
        }
        let mut r = row(
            "B11",
            format!(
                "search all of one job's logs for a {} ({runs} runs, {:.0} MiB of logs, \
                 {our_total} matching lines, {our_lines} handed on with their text; median of \
                 {repeat})",
                if regex { "regex" } else { "literal" },
                total_bytes as f64 / (1u64 << 20) as f64,
            ),
            "ms",
            median(ours_ms),
        );
        r.peer = format!(
            "`grep -r{} --include=*.log` over the same files",
            if regex { " -E" } else { "" }
        );
        r.peer_value = Some(median(grep_ms));
        r.target = "≤ grep -r".into();
        r.met = r.advantage().map(|a| a >= 1.0);
        out.push(r);
    }
    store.close().await;
    Ok(out)
}
