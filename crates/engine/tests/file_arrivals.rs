//! File-arrives triggers with real files and real inotify events: a file fires once after it
//! stopped changing, with its path on the run; 1,000 files are each handled once under the
//! global cap; a restart handles what arrived meanwhile and nothing twice; a folder that goes
//! away puts the job in an error state until it comes back. Waits are on the engine's records
//! with a generous limit (inotify events arrive from the kernel), never a bare sleep.

mod engine_support;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use engine_support::*;
use serde_json::json;
use sundial_engine::Clock;
use sundial_engine::domain::{Job, Run, RunStatus};

const LIMIT: Duration = Duration::from_secs(60);

fn arrives(folder: &Path, glob: &str, settle: u64) -> serde_json::Value {
    json!({"type": "file_arrives", "folder": folder.display().to_string(), "glob": glob, "settle_secs": settle})
}

async fn file_job(h: &Harness, name: &str, folder: &Path, glob: &str, settle: u64) -> Job {
    h.engine
        .create_job(spec(
            name,
            arrives(folder, glob, settle),
            json!({"overlap": "allow"}),
        ))
        .await
        .unwrap()
}

/// Waits until `check` holds for the job's runs.
async fn wait_runs(h: &Harness, job: &Job, what: &str, check: impl Fn(&[Run]) -> bool) -> Vec<Run> {
    let start = Instant::now();
    loop {
        let runs = h.runs_of(job).await;
        if check(&runs) {
            return runs;
        }
        assert!(
            start.elapsed() < LIMIT,
            "gave up waiting for {what}: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn with_path<'a>(runs: &'a [Run], path: &Path) -> Vec<&'a Run> {
    let p = path.display().to_string();
    runs.iter()
        .filter(|r| r.trigger_path.as_deref() == Some(p.as_str()))
        .collect()
}

#[tokio::test]
async fn a_file_written_slowly_fires_once_after_it_stopped_changing_with_its_path() {
    let h = Harness::start("2026-03-02T09:00:00Z").await;
    let folder = tempfile::tempdir().unwrap();
    let job = file_job(&h, "slow", folder.path(), "*.csv", 1).await;
    let file = folder.path().join("report.csv");
    let mut out = std::fs::File::create(&file).unwrap();
    let mut last_write = h.clock.now();
    for i in 0..6 {
        // A writer that pauses less than the settle time between pieces.
        writeln!(out, "row {i}").unwrap();
        out.sync_all().unwrap();
        last_write = h.clock.now();
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    drop(out);
    let runs = wait_runs(&h, &job, "the run of report.csv", |r| {
        !with_path(r, &file).is_empty()
    })
    .await;
    let run = with_path(&runs, &file)[0].clone();
    assert!(
        // Run times are kept to the millisecond.
        run.created_at + chrono::Duration::milliseconds(1)
            > last_write + chrono::Duration::seconds(1),
        "fired at {} before the file had been still for a second (last write {last_write})",
        run.created_at
    );
    // A second file's run shows the first one's events have all been handled.
    let other = folder.path().join("other.csv");
    std::fs::write(&other, "x").unwrap();
    let runs = wait_runs(&h, &job, "the run of other.csv", |r| {
        !with_path(r, &other).is_empty() && r.iter().all(|r| r.status.is_terminal())
    })
    .await;
    assert_eq!(
        with_path(&runs, &file).len(),
        1,
        "report.csv fired more than once: {runs:?}"
    );
    assert_eq!(runs.len(), 2);
    let executed = h.executor.executions_of("slow");
    assert_eq!(executed.len(), 2);
    assert!(
        executed
            .iter()
            .any(|e| e.run.trigger_path == Some(file.display().to_string()))
    );
    // A file not matching the pattern, a hidden one and a folder do nothing.
    std::fs::write(folder.path().join("notes.txt"), "x").unwrap();
    std::fs::write(folder.path().join(".partial.csv"), "x").unwrap();
    std::fs::create_dir(folder.path().join("sub.csv")).unwrap();
    let last = folder.path().join("last.csv");
    std::fs::write(&last, "x").unwrap();
    let runs = wait_runs(&h, &job, "the run of last.csv", |r| {
        !with_path(r, &last).is_empty()
    })
    .await;
    assert_eq!(runs.len(), 3, "{runs:?}");
}

#[tokio::test]
async fn a_file_renamed_into_the_folder_arrives_and_files_there_before_the_job_do_not() {
    let h = Harness::start("2026-03-02T09:00:00Z").await;
    let folder = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let before = folder.path().join("before.csv");
    std::fs::write(&before, "old").unwrap();
    let job = file_job(&h, "renamed", folder.path(), "*.csv", 1).await;
    let staged = outside.path().join("staged.csv");
    std::fs::write(&staged, "data").unwrap();
    let moved = folder.path().join("moved.csv");
    std::fs::rename(&staged, &moved).unwrap();
    // A partial download renamed to its final name when complete.
    let part = folder.path().join("download.csv.part");
    std::fs::write(&part, "data").unwrap();
    let done = folder.path().join("download.csv");
    std::fs::rename(&part, &done).unwrap();
    let runs = wait_runs(&h, &job, "the moved files' runs", |r| {
        !with_path(r, &moved).is_empty() && !with_path(r, &done).is_empty()
    })
    .await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(with_path(&runs, &before).is_empty());
}

#[tokio::test]
async fn a_thousand_files_dropped_at_once_are_each_handled_once_under_the_cap() {
    let h = Harness::start_with("2026-03-02T09:00:00Z", 3).await;
    h.executor
        .set("bulk", Behaviour::Take(Duration::from_millis(5)));
    let folder = tempfile::tempdir().unwrap();
    let job = file_job(&h, "bulk", folder.path(), "*.csv", 1).await;
    for i in 0..1000 {
        std::fs::write(folder.path().join(format!("f{i:04}.csv")), format!("{i}")).unwrap();
    }
    let runs = wait_runs(&h, &job, "1,000 finished runs", |r| {
        r.len() >= 1000 && r.iter().all(|r| r.status.is_terminal())
    })
    .await;
    let mut per_file: HashMap<String, usize> = HashMap::new();
    for r in &runs {
        assert_eq!(r.status, RunStatus::Succeeded, "{r:?}");
        *per_file.entry(r.trigger_path.clone().unwrap()).or_default() += 1;
    }
    assert_eq!(per_file.len(), 1000);
    assert!(per_file.values().all(|n| *n == 1));
    // Never more than the cap at once: the runs' start/finish intervals.
    let mut edges: Vec<(chrono::DateTime<chrono::Utc>, i32)> = Vec::new();
    for r in &runs {
        edges.push((r.started_at.unwrap(), 1));
        edges.push((r.finished_at.unwrap(), -1));
    }
    edges.sort_by_key(|(t, d)| (*t, *d));
    let (mut going, mut most) = (0, 0);
    for (_, d) in edges {
        going += d;
        most = most.max(going);
    }
    assert!(most <= 3, "{most} runs at once under a cap of 3");
}

#[tokio::test]
async fn a_restart_handles_what_arrived_meanwhile_and_nothing_twice() {
    let mut h = Harness::start("2026-03-02T09:00:00Z").await;
    let folder = tempfile::tempdir().unwrap();
    let job = file_job(&h, "restart", folder.path(), "*.csv", 1).await;
    let first = folder.path().join("first.csv");
    std::fs::write(&first, "1").unwrap();
    wait_runs(&h, &job, "first.csv's run", |r| {
        !with_path(r, &first).is_empty() && r.iter().all(|r| r.status.is_terminal())
    })
    .await;
    h.engine.shutdown(false).await;
    // While Sundial is not running: a new file, and the handled one changed.
    let second = folder.path().join("second.csv");
    std::fs::write(&second, "2").unwrap();
    std::fs::write(&first, "1 and more").unwrap();
    h.start_again().await;
    let runs = wait_runs(&h, &job, "the runs after the restart", |r| {
        with_path(r, &first).len() == 2 && !with_path(r, &second).is_empty()
    })
    .await;
    assert_eq!(runs.len(), 3, "{runs:?}");
    // Another restart with nothing new handles nothing again.
    h.restart().await;
    let third = folder.path().join("third.csv");
    std::fs::write(&third, "3").unwrap();
    let runs = wait_runs(&h, &job, "third.csv's run", |r| {
        !with_path(r, &third).is_empty()
    })
    .await;
    assert_eq!(runs.len(), 4, "{runs:?}");
}

#[tokio::test]
async fn a_folder_that_disappears_puts_the_job_in_error_until_it_comes_back() {
    let h = Harness::start("2026-03-02T09:00:00Z").await;
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("inbox");
    std::fs::create_dir(&folder).unwrap();
    let job = file_job(&h, "inbox", &folder, "*", 1).await;
    assert!(h.engine.trigger_problems().await.unwrap().is_empty());
    std::fs::remove_dir_all(&folder).unwrap();
    let start = Instant::now();
    let problem = loop {
        if let Some((p, _)) = h.engine.trigger_problems().await.unwrap().remove(&job.id) {
            break p;
        }
        assert!(
            start.elapsed() < LIMIT,
            "no error state for the removed folder"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(problem.contains("does not exist"), "{problem}");
    assert!(problem.contains("inbox"), "{problem}");
    // Saving the job again with the folder missing is a field error.
    let err = h
        .engine
        .create_job(spec(
            "again",
            arrives(&folder, "*", 1),
            serde_json::Value::Null,
        ))
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("trigger.folder"), "{err:?}");
    std::fs::create_dir(&folder).unwrap();
    let start = Instant::now();
    while h
        .engine
        .trigger_problems()
        .await
        .unwrap()
        .contains_key(&job.id)
    {
        assert!(start.elapsed() < LIMIT, "the job did not recover");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let file = folder.join("back.txt");
    std::fs::write(&file, "x").unwrap();
    wait_runs(&h, &job, "the run of a file in the recreated folder", |r| {
        !with_path(r, &file).is_empty()
    })
    .await;
}

mod cli_support;
mod helpers;

#[tokio::test]
async fn the_run_gets_the_file_path_in_its_environment() {
    let h = helpers::Harness::new();
    let mut request = helpers::request(helpers::job(
        helpers::exec("sh", &["-c", "echo \"got $SUNDIAL_TRIGGER_PATH\""]),
        Some(30),
    ));
    request.run.trigger_path = Some("/data/in/report 1.csv".into());
    let id = request.run.id;
    let outcome = h.run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded);
    let lines: Vec<String> = h.lines(id).into_iter().map(|l| l.text).collect();
    assert!(
        lines.contains(&"got /data/in/report 1.csv".to_string()),
        "{lines:?}"
    );
}

#[test]
fn a_job_file_round_trips_the_trigger_and_the_cli_adds_one_with_field_errors() {
    use sundial_engine::files::jobfile::{ExportOptions, FileFormat, export_jobs, parse_job_file};
    let folder = tempfile::tempdir().unwrap();
    let trigger = sundial_engine::domain::Trigger::FileArrives {
        folder: folder.path().display().to_string(),
        glob: "*.csv".into(),
        settle_secs: 7,
    };
    let mut job = helpers::job(helpers::exec("true", &[]), None);
    job.spec.trigger = trigger.clone();
    for format in [FileFormat::Toml, FileFormat::Json] {
        let text = export_jobs(std::slice::from_ref(&job), format, ExportOptions::default());
        let parsed = parse_job_file(&text, format).unwrap();
        assert_eq!(parsed.file.jobs[0].trigger, trigger, "{text}");
    }
    // Defaults: every file, five seconds.
    let text = format!(
        "version = 1\n[[jobs]]\nname = \"x\"\nkind = {{ type = \"command\", program = {{ mode = \"exec\", program = \"true\" }} }}\ntrigger = {{ type = \"file_arrives\", folder = {:?} }}\n",
        folder.path().display().to_string()
    );
    let parsed = parse_job_file(&text, FileFormat::Toml).unwrap();
    assert_eq!(
        parsed.file.jobs[0].trigger,
        sundial_engine::domain::Trigger::FileArrives {
            folder: folder.path().display().to_string(),
            glob: "*".into(),
            settle_secs: 5,
        }
    );

    let data = tempfile::tempdir().unwrap();
    let dir = folder.path().display().to_string();
    cli_support::ok(
        data.path(),
        &[
            "jobs",
            "add",
            "--name",
            "csv",
            "--command",
            "echo $SUNDIAL_TRIGGER_PATH",
            "--file-arrives",
            &dir,
            "--glob",
            "*.csv",
            "--settle",
            "3",
        ],
    );
    let shown = cli_support::json(data.path(), &["jobs", "show", "csv"]);
    assert_eq!(
        shown["trigger"],
        json!({"type": "file_arrives", "folder": dir, "glob": "*.csv", "settle_secs": 3})
    );
    let list = cli_support::ok(data.path(), &["jobs", "list"]);
    assert!(
        list.contains(&format!("When a file matching *.csv arrives or changes in {dir}, once it has not changed for 3 seconds")),
        "{list}"
    );
    let missing = folder.path().join("nope").display().to_string();
    let refused = cli_support::ctl(
        data.path(),
        &[
            "jobs",
            "add",
            "--name",
            "bad",
            "--command",
            "true",
            "--file-arrives",
            &missing,
            "--glob",
            "[a",
            "--settle",
            "0",
        ],
    );
    assert_eq!(refused.code, 2);
    for expected in [
        "trigger.folder: ",
        "does not exist: create it first",
        "trigger.glob: ",
        "trigger.settle_secs: must be from 1 to 3600 seconds",
    ] {
        assert!(
            refused.stdout.contains(expected),
            "{expected}: {}",
            refused.stdout
        );
    }
    assert!(!cli_support::ok(data.path(), &["jobs", "list"]).contains("bad"));
}

#[tokio::test]
async fn with_the_default_skip_policy_every_file_still_runs_one_after_another() {
    let h = Harness::start("2026-03-02T09:00:00Z").await;
    h.executor
        .set("serial", Behaviour::Take(Duration::from_millis(300)));
    let folder = tempfile::tempdir().unwrap();
    let job = h
        .engine
        .create_job(spec(
            "serial",
            arrives(folder.path(), "*", 1),
            serde_json::Value::Null,
        ))
        .await
        .unwrap();
    for i in 0..3 {
        std::fs::write(folder.path().join(format!("f{i}")), "x").unwrap();
    }
    let runs = wait_runs(&h, &job, "three finished runs", |r| {
        r.len() == 3 && r.iter().all(|r| r.status == RunStatus::Succeeded)
    })
    .await;
    let mut spans: Vec<_> = runs
        .iter()
        .map(|r| (r.started_at.unwrap(), r.finished_at.unwrap()))
        .collect();
    spans.sort();
    assert!(
        spans.windows(2).all(|w| w[0].1 <= w[1].0),
        "runs overlapped: {spans:?}"
    );
}
