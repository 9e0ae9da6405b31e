//! How a run's first process starts, with a cgroup per run (cloned straight into its cgroup
//! with clone3 on Linux) and without (tokio's `Command`): the program is found the same way,
//! fails to start with the same words, and starts in the same state (null stdin, its own
//! process group, no blocked or ignored signals, the job's directory and variables).
#![cfg(target_os = "linux")]

mod helpers;

use std::os::unix::fs::PermissionsExt;

use helpers::*;
use sundial_engine::RunnerConfig;
use sundial_engine::domain::{EnvVar, JobKind, RunStatus};
use sundial_engine::logs::Stream;

fn harness(cgroups: bool) -> Harness {
    Harness::with_config(RunnerConfig {
        use_cgroups: cgroups,
        ..test_config()
    })
}

/// What a run showed: its status, its error and its stdout lines.
#[derive(Debug, PartialEq)]
struct Seen {
    status: RunStatus,
    error: Option<String>,
    stdout: Vec<String>,
}

/// Runs `kind` with and without a cgroup per run; returns both results, with the cgroup first.
async fn both_ways(kind: JobKind) -> [Seen; 2] {
    let mut seen = Vec::new();
    for cgroups in [true, false] {
        let (outcome, lines) = harness(cgroups).run_job(kind.clone(), None).await;
        seen.push(Seen {
            status: outcome.status,
            error: outcome.error,
            stdout: lines
                .iter()
                .filter(|l| l.stream == Stream::Stdout)
                .map(|l| l.text.clone())
                .collect(),
        });
    }
    seen.try_into().unwrap()
}

fn tool(dir: &std::path::Path, name: &str, body: &str, mode: u32) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn a_program_is_found_on_the_path_the_job_sets() {
    let bin = tempfile::tempdir().unwrap();
    tool(
        bin.path(),
        "sundial-test-tool",
        "#!/bin/sh\necho found \"$@\"\n",
        0o755,
    );
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let kind = with_env(
        exec("sundial-test-tool", &["a b"]),
        vec![EnvVar::new("PATH", &path)],
    );
    let [cloned, spawned] = both_ways(kind).await;
    assert_eq!(cloned.status, RunStatus::Succeeded, "{cloned:?}");
    assert_eq!(cloned.stdout, ["found a b"]);
    assert_eq!(cloned, spawned);
}

#[tokio::test]
async fn a_relative_program_with_a_slash_starts_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    tool(
        &dir.path().join("bin"),
        "local",
        "#!/bin/sh\necho local\n",
        0o755,
    );
    let kind = with_working_dir(exec("./bin/local", &[]), &dir.path().display().to_string());
    let [cloned, spawned] = both_ways(kind).await;
    assert_eq!(cloned.stdout, ["local"], "{cloned:?}");
    assert_eq!(cloned, spawned);
}

#[tokio::test]
async fn a_file_that_cannot_be_executed_fails_with_the_same_words_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let not_executable = tool(dir.path(), "plain", "#!/bin/sh\necho no\n", 0o644);
    let not_a_program = tool(dir.path(), "data", "just text, no #! line\n", 0o755);
    let missing = dir.path().join("missing").display().to_string();
    for (program, expected) in [
        (
            not_executable.as_str(),
            format!("cannot start {not_executable}: permission denied (is it an executable file?)"),
        ),
        (
            missing.as_str(),
            format!("cannot start {missing}: program not found"),
        ),
        (
            "sundial-no-such-program",
            "cannot start sundial-no-such-program: program not found".to_string(),
        ),
        (
            not_a_program.as_str(),
            format!(
                "cannot start {not_a_program}: not a program this system can run (a script needs a #! line naming its interpreter)"
            ),
        ),
    ] {
        let [cloned, spawned] = both_ways(exec(program, &[])).await;
        assert_eq!(cloned.status, RunStatus::Failed, "{program}: {cloned:?}");
        assert_eq!(cloned.error, Some(expected), "{program}");
        assert_eq!(cloned, spawned, "{program}");
    }
}

#[tokio::test]
async fn the_process_starts_with_null_stdin_in_its_own_group() {
    // `cat` returns at once on a null stdin; the group is the shell's own pid.
    let body = "cat\necho \"pid $$ group $(cut -d' ' -f5 /proc/$$/stat)\"\n";
    let [cloned, spawned] = both_ways(exec("sh", &["-c", body])).await;
    for seen in [&cloned, &spawned] {
        assert_eq!(seen.status, RunStatus::Succeeded, "{seen:?}");
        let words: Vec<&str> = seen.stdout[0].split_whitespace().collect();
        assert_eq!(words[1], words[3], "its own process group: {seen:?}");
    }
}

#[tokio::test]
async fn the_process_starts_with_no_signal_blocked_or_ignored() {
    // Sundial ignores SIGPIPE (as every Rust program does), the process that started it may
    // ignore others (this test's runner ignores signal 32), and its threads may block signals;
    // a job starts with none of that. grep reads its own masks as it was started with them.
    let kind = exec("grep", &["-E", "^Sig(Blk|Ign)", "/proc/self/status"]);
    let [cloned, spawned] = both_ways(kind).await;
    assert_eq!(
        cloned.stdout,
        ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]
    );
    // glibc's posix_spawn, under `Command`, leaves its own two signals (32 and 33) ignored;
    // SIGPIPE (bit 12) is back to its default there too.
    assert_eq!(spawned.stdout[0], "SigBlk:\t0000000000000000");
    let ignored = u64::from_str_radix(spawned.stdout[1].trim_start_matches("SigIgn:\t"), 16);
    assert_eq!(ignored.unwrap() & !0x1_8000_0000, 0, "{spawned:?}");
}

#[tokio::test]
async fn with_a_cgroup_the_first_instruction_already_runs_in_the_run_s_own_cgroup() {
    if !cgroup_v2_writable() {
        eprintln!("no writable cgroup v2 hierarchy here: skipped");
        return;
    }
    let request = request(job(exec("cat", &["/proc/self/cgroup"]), None));
    let id = request.run.id;
    let h = harness(true);
    let outcome = h.run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let lines = h.lines(id);
    let cgroup: Vec<&str> = text_lines(&lines)
        .into_iter()
        .filter(|l| l.starts_with("0::"))
        .collect();
    assert_eq!(cgroup.len(), 1, "{lines:?}");
    assert!(
        cgroup[0].ends_with(&format!("/sundial-run-{id}")),
        "{}",
        cgroup[0]
    );
}
