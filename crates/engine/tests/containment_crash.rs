//! A `sundialctl daemon` killed with SIGKILL while its runs go: the next daemon on the same
//! database finds their processes (escaped ones too) and ends them, marks the runs interrupted
//! and says so in their logs. `jobs run` stopped by a signal cancels its run. Real processes;
//! survivors are counted by scanning /proc for the runs' tag.
#![cfg(target_os = "linux")]

mod cli_support;
mod helpers;

use std::time::{Duration, Instant};

use cli_support::*;
use helpers::{process_gone, tagged_processes};
use nix::sys::signal::Signal;

const PATIENCE: Duration = Duration::from_secs(30);

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ids of the job's runs with this status.
fn runs_with(data: &std::path::Path, status: &str) -> Vec<String> {
    json(data, &["runs", "list", "--status", status])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn processes_of_runs_left_by_a_killed_daemon_are_ended_by_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // Each run leaves the group (setsid), ignores SIGTERM in a second process, and keeps one
    // ordinary child; it fires every second until disabled.
    let command = "setsid sh -c 'exec sleep 1000' >/dev/null 2>&1 & \
                   sh -c 'trap \"\" TERM; exec sleep 1000' & sleep 1000";
    ok(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "leaver",
            "--command",
            command,
            "--cron",
            "* * * * * *",
        ],
    );
    let mut daemon = start_daemon(data, &[]);
    daemon.expect_line("sundialctl daemon: scheduling");
    let mut running = Vec::new();
    wait_for("a run with its 4 processes", || {
        running = runs_with(data, "running");
        running.iter().any(|id| tagged_processes(id).len() >= 4)
    });
    ok(data, &["jobs", "disable", "leaver"]);
    daemon.signal(Signal::SIGKILL);
    daemon.child.wait().unwrap();
    let running = runs_with(data, "running");
    let left: Vec<(String, Vec<i32>)> = running
        .iter()
        .map(|id| (id.clone(), tagged_processes(id)))
        .collect();
    assert!(
        left.iter().any(|(_, pids)| pids.len() >= 4),
        "the killed daemon's runs still have their processes: {left:?}"
    );

    let next = start_daemon(data, &[]);
    next.expect_line("sundialctl daemon: scheduling");
    for (id, pids) in &left {
        wait_for("the left processes to be ended", || {
            tagged_processes(id).is_empty() && pids.iter().all(|&p| process_gone(p))
        });
    }
    let interrupted = runs_with(data, "interrupted");
    for (id, pids) in &left {
        assert!(
            interrupted.contains(id),
            "{id} is interrupted: {interrupted:?}"
        );
        let log = ok(data, &["logs", "show", id]);
        assert!(
            log.contains("Sundial stopped while this run was going; the run is interrupted"),
            "{log}"
        );
        if !pids.is_empty() {
            assert!(
                log.contains(&format!(
                    "Processes it left: ended {} processes",
                    pids.len()
                )),
                "{log}"
            );
            // The SIGTERM-ignoring one needed SIGKILL after the 5 s grace.
            assert!(log.contains("killed with SIGKILL"), "{log}");
        }
    }
    next.signal(Signal::SIGTERM);
    next.expect_line("stopped");
}

#[test]
fn jobs_run_stopped_by_a_signal_cancels_its_run_and_ends_its_tree() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let command = "setsid sh -c 'exec sleep 1000' >/dev/null 2>&1 & sleep 1000";
    ok(
        data,
        &["jobs", "add", "--name", "held", "--command", command],
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_sundialctl"))
            .env("SUNDIAL_SECRETS", "database")
            .arg("--data-dir")
            .arg(data)
            .args(["jobs", "run", "held"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut running = Vec::new();
        wait_for("the run's processes", || {
            running = runs_with(data, "running");
            running.len() == 1 && tagged_processes(&running[0]).len() >= 3
        });
        let id = running[0].clone();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
        let out = child.wait_with_output().unwrap();
        let expected = if signal == Signal::SIGINT { 130 } else { 143 };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(tagged_processes(&id).is_empty(), "survivors of {id}");
        let run = json(data, &["runs", "list", "--limit", "1"]);
        assert_eq!(run[0]["id"], id.as_str());
        assert_eq!(run[0]["status"], "cancelled", "{run}");
    }
}
