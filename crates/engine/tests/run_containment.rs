//! Every process a run starts ends with it (decisions/0010): processes that left the group
//! (setsid), double forks, `nohup … &`, a grandchild ignoring SIGTERM, 500 children; after a
//! timeout, a cancel and the command's own end. Survivors are counted by scanning /proc for the
//! run's tag, not from Sundial's bookkeeping. Each case runs with a cgroup per run (where this
//! machine lets us create one) and with the tag alone.
#![cfg(target_os = "linux")]

mod helpers;

use std::time::Duration;

use helpers::*;
use sundial_engine::domain::{Interpreter, JobKind, RunStatus};
use sundial_engine::{RunOutcome, RunnerConfig};
use tokio_util::sync::CancellationToken;

const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug)]
enum End {
    Timeout,
    Cancel,
}

fn harness(cgroups: bool) -> Harness {
    Harness::with_config(RunnerConfig {
        use_cgroups: cgroups,
        ..test_config()
    })
}

/// Runs `kind` until it printed "ready" and has at least `expected` tagged processes, then
/// ends it by `end`; returns the outcome, the log and the processes seen before the end.
async fn run_and_end(
    harness: &Harness,
    kind: JobKind,
    expected: usize,
    end: End,
) -> (RunOutcome, Vec<String>, Vec<i32>) {
    let timeout = match end {
        End::Timeout => Some(4),
        End::Cancel => None,
    };
    let request = request(job(kind, timeout));
    let id = request.run.id;
    let cancel = CancellationToken::new();
    let runner = harness.runner.clone();
    let token = cancel.clone();
    let run = tokio::spawn(async move { runner.run(request, token).await });
    let logs = harness.logs().clone();
    wait_until("the fixture to be ready", PATIENCE, || {
        texts_so_far(&logs, id).iter().any(|t| t == "ready")
            && tagged_processes(&id.to_string()).len() >= expected
    })
    .await;
    let before = tagged_processes(&id.to_string());
    if let End::Cancel = end {
        cancel.cancel();
    }
    let outcome = run.await.unwrap();
    let texts = texts_so_far(harness.logs(), id);
    let left = tagged_processes(&id.to_string());
    assert!(
        left.is_empty(),
        "survivors {left:?} of {before:?}; log: {texts:?}"
    );
    for pid in printed_pids(&texts)
        .into_iter()
        .chain(before.iter().copied())
    {
        assert!(
            process_gone(pid),
            "process {pid} outlived the run; log: {texts:?}"
        );
    }
    let expected_status = match end {
        End::Timeout => RunStatus::TimedOut,
        End::Cancel => RunStatus::Cancelled,
    };
    assert_eq!(outcome.status, expected_status, "{outcome:?} {texts:?}");
    (outcome, texts, before)
}

async fn each_way(
    name: &str,
    args: &[&str],
    expected: usize,
    check: impl Fn(&RunOutcome, &[String]),
) {
    for cgroups in [true, false] {
        for end in [End::Timeout, End::Cancel] {
            let h = harness(cgroups);
            let (outcome, texts, before) =
                run_and_end(&h, fixture_job(name, args), expected, end).await;
            assert!(before.len() >= expected, "{before:?}");
            assert_eq!(
                texts[0].contains("its own cgroup"),
                cgroups && cgroup_v2_writable(),
                "{}",
                texts[0]
            );
            assert!(
                texts
                    .iter()
                    .any(|t| t.contains(&format!("ended {}", before.len()))),
                "cgroups {cgroups}, {end:?}: {texts:?}"
            );
            check(&outcome, &texts);
        }
    }
}

#[tokio::test]
async fn a_process_that_left_the_group_with_setsid_ends_with_the_run() {
    // sh, the setsid'd sleep, the plain sleep.
    each_way("setsid_escape.sh", &[], 3, |outcome, _| {
        assert!(
            outcome
                .error
                .as_deref()
                .unwrap()
                .ends_with("3 processes ended"),
            "{outcome:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_double_forked_orphan_ends_with_the_run() {
    each_way("double_fork.sh", &[], 3, |_, _| {}).await;
}

#[tokio::test]
async fn a_nohup_background_process_ends_with_the_run() {
    each_way("nohup_background.sh", &[], 2, |_, _| {}).await;
}

#[tokio::test]
async fn a_grandchild_ignoring_sigterm_outside_the_group_is_killed_after_the_grace() {
    each_way("ignore_term_grandchild.sh", &[], 3, |_, texts| {
        assert!(
            texts
                .iter()
                .any(|t| t.contains("killed with SIGKILL after a 1 s grace period")),
            "{texts:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn five_hundred_children_all_end_with_the_run() {
    each_way("fork_many.sh", &["500"], 501, |_, texts| {
        assert!(texts.iter().any(|t| t.contains("and ")), "{texts:?}");
    })
    .await;
}

#[tokio::test]
async fn what_a_command_leaves_running_after_it_exits_is_ended() {
    for cgroups in [true, false] {
        let h = harness(cgroups);
        let request = request(job(fixture_job("double_fork.sh", &["exit"]), None));
        let id = request.run.id;
        let outcome = h.run(request).await;
        let texts = texts_so_far(h.logs(), id);
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        assert!(
            texts.iter().any(|t| t.contains(
                "processes were still running after the command ended; ended 1 process (with SIGTERM)"
            )),
            "{texts:?}"
        );
        let pids = printed_pids(&texts);
        assert_eq!(pids.len(), 1, "{texts:?}");
        assert!(process_gone(pids[0]), "the orphan outlived the run");
        assert!(tagged_processes(&id.to_string()).is_empty());
    }
}

#[tokio::test]
async fn a_run_records_the_cpu_time_and_peak_memory_of_its_tree() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("python3 is not installed: skipped");
        return;
    }
    // A grandchild (python under sh) touches 200 MiB and burns 0.5 s of CPU.
    let body = "python3 -c '\nimport time\nblock = b\"x\" * (200 * 1024 * 1024)\nstart = time.process_time()\nwhile time.process_time() - start < 0.5:\n    pass\nprint(len(block))\n'\n";
    for cgroups in [true, false] {
        let h = harness(cgroups);
        let (outcome, lines) = h.run_job(script(Interpreter::Sh, body), None).await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        let cpu = outcome.cpu_ms.expect("cpu time measured");
        let peak = outcome.peak_memory_bytes.expect("peak memory measured");
        eprintln!("cgroups {cgroups}: cpu {cpu} ms, peak {} MiB", peak >> 20);
        assert!((450..10_000).contains(&cpu), "cpu {cpu} ms");
        assert!(
            (200 << 20..2 << 30).contains(&peak),
            "peak {} MiB",
            peak >> 20
        );
        assert!(
            text_lines(&lines)
                .iter()
                .any(|t| t.starts_with("[sundial] CPU time ")),
            "{lines:?}"
        );
        // A tiny job is not charged with the memory it shared with Sundial before its exec
        // (the kernel counts that in a forked child's peak): unknown, or truly small.
        let (small, _) = h.run_job(script(Interpreter::Sh, "true"), None).await;
        assert!(
            small.peak_memory_bytes.is_none_or(|p| p < 16 << 20),
            "peak of `true`: {:?}",
            small.peak_memory_bytes
        );
    }
}

#[tokio::test]
async fn a_process_that_cannot_be_killed_is_reported_not_hidden() {
    // A process frozen by the cgroup v1 freezer cannot die until it is thawed: it stands for
    // one in uninterruptible sleep.
    let freezer = std::path::Path::new("/sys/fs/cgroup/freezer");
    let dir = freezer.join(format!("sundial-test-{}", std::process::id()));
    if std::fs::create_dir(&dir).is_err() {
        eprintln!("no writable cgroup v1 freezer here: skipped");
        return;
    }
    let h = harness(false);
    let request = request(job(fixture_job("nohup_background.sh", &[]), None));
    let id = request.run.id;
    let cancel = CancellationToken::new();
    let runner = h.runner.clone();
    let token = cancel.clone();
    let run = tokio::spawn(async move { runner.run(request, token).await });
    let logs = h.logs().clone();
    wait_until("the fixture to be ready", PATIENCE, || {
        texts_so_far(&logs, id).iter().any(|t| t == "ready")
    })
    .await;
    let pid = printed_pids(&texts_so_far(h.logs(), id))[0];
    std::fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
    std::fs::write(dir.join("freezer.state"), "FROZEN").unwrap();
    cancel.cancel();
    let outcome = run.await.unwrap();
    std::fs::write(dir.join("freezer.state"), "THAWED").unwrap();
    let texts = texts_so_far(h.logs(), id);
    assert_eq!(outcome.status, RunStatus::Cancelled);
    let error = outcome.error.clone().unwrap();
    assert!(
        error.contains(&format!(
            "1 process could not be ended, even with SIGKILL: {pid} sleep"
        )),
        "{error}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("the run's processes did not all end")),
        "{texts:?}"
    );
    wait_until("the thawed process to die", PATIENCE, || process_gone(pid)).await;
    let _ = std::fs::remove_dir(&dir);
}
