//! Command runs with real processes: exit codes, environment, spawn failures, and stopping
//! whole process trees on timeout and cancel.
#![cfg(unix)]

mod helpers;

use std::sync::Arc;
use std::time::Duration;

use helpers::*;
use sundial_engine::Executor;
use sundial_engine::domain::{EnvVar, Interpreter, RunStatus};
use sundial_engine::logs::Stream;
use tokio_util::sync::CancellationToken;

/// For waiting on the fixture's own output.
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_successful_command_logs_both_streams() {
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(fixture_job("exit_code.sh", &["0"]), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(outcome.error, None);
    let out: Vec<_> = lines
        .iter()
        .filter(|l| l.stream == Stream::Stdout)
        .collect();
    let err: Vec<_> = lines
        .iter()
        .filter(|l| l.stream == Stream::Stderr)
        .collect();
    assert_eq!(out[0].text, "to stdout");
    assert_eq!(err[0].text, "to stderr");
    assert_eq!(outcome.log_lines, lines.len() as u64);
    assert!(lines.last().unwrap().text.contains("exited with status 0"));
}

#[tokio::test]
async fn a_non_zero_exit_is_a_failed_run_with_its_code() {
    let harness = Harness::new();
    let (outcome, _) = harness
        .run_job(fixture_job("exit_code.sh", &["3"]), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(outcome.exit_code, Some(3));
    assert_eq!(outcome.error.as_deref(), Some("exited with status 3"));
}

#[tokio::test]
async fn a_process_killed_by_a_signal_says_which() {
    let harness = Harness::new();
    let (outcome, _) = harness
        .run_job(script(Interpreter::Sh, "kill -9 $$"), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(outcome.exit_code, None);
    assert_eq!(
        outcome.error.as_deref(),
        Some("killed by signal 9 (SIGKILL)")
    );
}

#[tokio::test]
async fn sundial_variables_and_job_env_reach_the_process() {
    let harness = Harness::new();
    let kind = with_env(
        script(
            Interpreter::Sh,
            "echo \"job=$SUNDIAL_JOB_ID\"\necho \"name=$SUNDIAL_JOB_NAME\"\necho \"run=$SUNDIAL_RUN_ID\"\n\
             echo \"at=$SUNDIAL_SCHEDULED_AT\"\necho \"attempt=$SUNDIAL_ATTEMPT\"\n\
             echo \"plain=$PLAIN\"\necho \"secret-length=${#TOKEN}\"\npwd\n",
        ),
        vec![
            EnvVar::new("PLAIN", "visible"),
            EnvVar::secret("TOKEN", "abc123"),
        ],
    );
    let request = request(job(kind, None));
    let expected = [
        format!("job={}", request.job.id),
        "name=test job".to_string(),
        format!("run={}", request.run.id),
        format!(
            "at={}",
            request
                .run
                .scheduled_for
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        ),
        "attempt=2".to_string(),
        "plain=visible".to_string(),
        "secret-length=6".to_string(),
        std::env::home_dir().unwrap().display().to_string(),
    ];
    let id = request.run.id;
    let outcome = harness.run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let lines = harness.lines(id);
    let out: Vec<&str> = lines
        .iter()
        .filter(|l| l.stream == Stream::Stdout)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(out, expected);
    assert!(out[3].ends_with('Z'), "scheduled_at is UTC: {}", out[3]);
}

#[tokio::test]
async fn the_working_directory_is_used() {
    let harness = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().canonicalize().unwrap().display().to_string();
    let (outcome, lines) = harness
        .run_job(with_working_dir(exec("pwd", &[]), &path), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded);
    assert!(text_lines(&lines).contains(&path.as_str()));
}

#[tokio::test]
async fn a_missing_program_is_a_failed_run_with_a_clear_error() {
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(exec("sundial-no-such-program", &["x"]), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert_eq!(
        error,
        "cannot start sundial-no-such-program: program not found"
    );
    assert!(text_lines(&lines).iter().any(|t| t.contains(&error)));
}

#[tokio::test]
async fn a_missing_working_directory_is_a_failed_run_with_a_clear_error() {
    let harness = Harness::new();
    let (outcome, _) = harness
        .run_job(with_working_dir(exec("pwd", &[]), "/no/such/dir"), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(
        outcome.error.as_deref(),
        Some("the working directory /no/such/dir does not exist")
    );
}

#[tokio::test]
async fn scripts_run_with_their_interpreter() {
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(
            script(
                Interpreter::Bash,
                "echo \"bash ${BASH_VERSINFO[0]}\" | cut -c1-4",
            ),
            None,
        )
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert!(text_lines(&lines).contains(&"bash"));

    let (outcome, lines) = harness
        .run_job(
            script(Interpreter::Custom("sh".into()), "echo custom; exit 4"),
            None,
        )
        .await;
    assert_eq!(outcome.exit_code, Some(4));
    assert!(text_lines(&lines).contains(&"custom"));

    if which("python3") {
        let (outcome, lines) = harness
            .run_job(
                script(
                    Interpreter::Python,
                    "import sys\nprint('py', sys.version_info[0])",
                ),
                None,
            )
            .await;
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
        assert!(text_lines(&lines).contains(&"py 3"));
    }
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[tokio::test]
async fn a_timeout_stops_every_process_of_the_tree() {
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(fixture_job("sleep_tree.sh", &[]), Some(1))
        .await;
    assert_eq!(outcome.status, RunStatus::TimedOut);
    assert_eq!(
        outcome.error.as_deref(),
        Some("timed out after 1 s; 3 processes ended")
    );
    let texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
    let pids = printed_pids(&texts);
    assert_eq!(pids.len(), 2, "{texts:?}");
    for pid in pids {
        assert!(process_gone(pid), "process {pid} outlived the run");
    }
}

#[tokio::test]
async fn a_process_ignoring_sigterm_is_killed_after_the_grace() {
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(fixture_job("ignore_term.sh", &[]), Some(1))
        .await;
    assert_eq!(outcome.status, RunStatus::TimedOut);
    let texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("killed with SIGKILL after a 1 s grace period")),
        "{texts:?}"
    );
    let pids = printed_pids(&texts);
    assert_eq!(pids.len(), 2, "{texts:?}");
    for pid in pids {
        // These ignore SIGTERM: only the SIGKILL to the group ended them.
        assert!(process_gone(pid), "process {pid} outlived the run");
    }
}

#[tokio::test]
async fn cancel_stops_every_process_of_the_tree() {
    let harness = Harness::new();
    let request = request(job(fixture_job("grandchild.sh", &[]), None));
    let id = request.run.id;
    let cancel = CancellationToken::new();
    // Through the scheduler's seam, as a trait object.
    let executor: Arc<dyn Executor> = Arc::new(harness.runner.clone());
    let run = tokio::spawn(executor.execute(request, cancel.clone()));
    let logs = harness.logs().clone();
    wait_until("the fixture to print both pids", PATIENCE, || {
        printed_pids(&texts_so_far(&logs, id)).len() == 2
    })
    .await;
    let pids = printed_pids(&texts_so_far(&logs, id));
    cancel.cancel();
    let outcome = run.await.unwrap();
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(
        outcome.error.as_deref(),
        Some("cancelled; 3 processes ended")
    );
    for pid in pids {
        assert!(process_gone(pid), "process {pid} outlived the run");
    }
}

#[tokio::test]
async fn a_background_child_holding_stdout_does_not_hang_the_run() {
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(fixture_job("hold_stdout.sh", &[]), None)
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
    assert!(texts.contains(&"parent done".to_string()));
    assert!(
        texts
            .iter()
            .any(|t| t.contains("a background process kept the output open")),
        "{texts:?}"
    );
    let pids = printed_pids(&texts);
    assert_eq!(pids.len(), 1);
    assert!(
        process_gone(pids[0]),
        "the background sleep outlived the run"
    );
}

#[tokio::test]
async fn a_million_lines_on_each_stream_arrive_in_order() {
    use std::io::BufRead;
    const N: u64 = 1_000_000;
    let harness = Harness::new();
    let request = request(job(fixture_job("lines.sh", &[&N.to_string()]), None));
    let id = request.run.id;
    let outcome = harness.run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");

    let file = std::fs::File::open(harness.logs().log_path(id)).unwrap();
    let (mut next_out, mut next_err, mut records) = (1u64, 1u64, 0u64);
    for line in std::io::BufReader::new(file).lines() {
        let line = line.unwrap();
        records += 1;
        let (tag, text) = (&line[25..26], &line[27..]);
        match tag {
            "O" => {
                assert_eq!(text, format!("out {next_out}"));
                next_out += 1;
            }
            "E" => {
                assert_eq!(text, format!("err {next_err}"));
                next_err += 1;
            }
            "S" => {}
            other => panic!("unexpected tag {other:?} in {line:?}"),
        }
    }
    assert_eq!((next_out - 1, next_err - 1), (N, N));
    assert_eq!(outcome.log_lines, records);
    let log = harness.logs().open(id).unwrap();
    assert_eq!(log.line_count().unwrap(), records);
}

#[tokio::test]
async fn a_run_cancelled_before_it_starts_spawns_nothing() {
    let harness = Harness::new();
    let marker = harness.dir.path().join("started");
    let body = format!("touch '{}'", marker.display());
    let request = request(job(script(Interpreter::Sh, &body), None));
    let cancel = CancellationToken::new();
    cancel.cancel();
    let outcome = harness.runner.run(request, cancel).await;
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(
        outcome.error.as_deref(),
        Some("cancelled before it started")
    );
    assert!(!marker.exists());
}
