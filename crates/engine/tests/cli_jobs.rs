//! The real `sundialctl` binary over a temp --data-dir: jobs, runs, logs, import, export and
//! the daemon with its scheduler lease.

mod cli_support;
mod files_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Duration as ChronoDuration, Utc};
use cli_support::*;
use serde_json::Value;
use sundial_engine::lease::Lease;
use sundial_engine::store::Store;

#[test]
fn jobs_commands_add_list_show_edit_disable_run_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let added = ok(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "hello",
            "--command",
            "echo hi; echo oops >&2",
            "--cron",
            "0 9 * * *",
            "--tz",
            "Europe/Riga",
        ],
    );
    assert!(
        added.starts_with("added ") && added.contains("“hello”"),
        "{added}"
    );
    let list = json(data, &["jobs", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "hello");
    assert_eq!(list[0]["trigger"]["expr"], "0 9 * * *");
    assert!(list[0]["next_fire"].as_str().unwrap().ends_with("Z"));
    let id = list[0]["id"].as_str().unwrap().to_string();
    let human = ok(data, &["jobs", "list"]);
    assert!(human.contains("hello") && human.contains(&id), "{human}");

    let shown = ok(data, &["jobs", "show", "HELLO"]);
    assert!(
        shown.contains(&format!("id:        {id}")) && shown.contains("expr = \"0 9 * * *\""),
        "{shown}"
    );

    let edited = json(data, &["jobs", "edit", "hello", "--cron", "30 8 * * 1-5"]);
    assert_eq!(edited["revision"], 2);
    assert_eq!(edited["trigger"]["expr"], "30 8 * * 1-5");
    assert_eq!(edited["trigger"]["timezone"], Value::Null);

    let disabled = json(data, &["jobs", "disable", &id]);
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["next_fire"], Value::Null);
    assert_eq!(json(data, &["jobs", "enable", "hello"])["enabled"], true);

    let run = json(data, &["jobs", "run", "hello"]);
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["reason"], "manual");
    let run_id = run["id"].as_str().unwrap().to_string();
    let runs = json(data, &["runs", "list", "--job", "hello"]);
    assert_eq!(runs[0]["id"], run_id.as_str());
    let log = ok(data, &["logs", "show", &run_id]);
    assert!(
        log.contains("stdout  hi") && log.contains("stderr  oops"),
        "{log}"
    );
    let tail = ok(data, &["logs", "show", &run_id, "--tail", "1"]);
    assert_eq!(tail.lines().count(), 1);
    // Follow of a finished run prints it all and ends.
    assert!(ok(data, &["logs", "follow", &run_id]).contains("stdout  hi"));

    // A failing run: exit 1 and its status.
    ok(
        data,
        &["jobs", "add", "--name", "fails", "--command", "exit 3"],
    );
    let out = ctl(data, &["jobs", "run", "fails"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("failed (exit code 3)"),
        "{}",
        out.stdout
    );
    let failed = json(data, &["runs", "list", "--status", "failed"]);
    assert_eq!(failed.as_array().unwrap().len(), 1);

    let removed = ok(data, &["jobs", "rm", "hello"]);
    assert!(removed.starts_with("deleted "), "{removed}");
    assert_eq!(json(data, &["jobs", "list"]).as_array().unwrap().len(), 1);
}

#[test]
fn jobs_commands_refuse_bad_input_with_specific_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = ctl(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "x",
            "--command",
            "true",
            "--cron",
            "61 * * * *",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(out.stdout.starts_with("trigger.expr: "), "{}", out.stdout);
    let out = ctl(
        data,
        &[
            "--json",
            "jobs",
            "add",
            "--name",
            "",
            "--command",
            "true",
            "--cron",
            "61 * * * *",
        ],
    );
    assert_eq!(out.code, 2);
    let errors: Value = serde_json::from_str(&out.stdout).unwrap();
    let fields: Vec<&str> = errors["field_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "trigger.expr"], "{}", out.stdout);
    let out = ctl(data, &["jobs", "add", "--name", "x"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.lines().count(), 1);
    assert!(
        out.stderr.contains("--name and --command"),
        "{}",
        out.stderr
    );
    let out = ctl(data, &["jobs", "show", "nope"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no job named or with id \"nope\""),
        "{}",
        out.stderr
    );
    let out = ctl(data, &["runs", "list", "--status", "done"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--status \"done\": use queued"),
        "{}",
        out.stderr
    );
    let out = ctl(data, &["logs", "show", "not-a-run"]);
    assert_eq!(out.code, 2);
    assert_eq!(json(data, &["jobs", "list"]).as_array().unwrap().len(), 0);
}

#[test]
fn import_and_export_over_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    ok(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "a",
            "--command",
            "echo a",
            "--cron",
            "*/10 * * * *",
            "--tz",
            "UTC",
        ],
    );
    ok(data, &["jobs", "add", "--name", "b", "--command", "echo b"]);
    let file = dir.path().join("jobs.toml");
    let wrote = ok(data, &["export", "--out", file.to_str().unwrap()]);
    assert!(wrote.contains("wrote 2 job(s)"), "{wrote}");

    // Into another data dir, then again with each conflict choice.
    let other = dir.path().join("other");
    let report = json(&other, &["import", file.to_str().unwrap()]);
    assert_eq!(report["created"].as_array().unwrap().len(), 2);
    let out = ctl(&other, &["import", file.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("job 1 “a”: name: “a” is already the name of a job"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("2 problem(s); nothing was changed"),
        "{}",
        out.stderr
    );
    let renamed = json(
        &other,
        &["import", file.to_str().unwrap(), "--on-conflict", "rename"],
    );
    assert_eq!(renamed["renamed"][0]["to"], "a (2)");
    assert_eq!(json(&other, &["jobs", "list"]).as_array().unwrap().len(), 4);

    // A broken file: every problem listed with its line, nothing imported.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "version = 1\n\n[[jobs]]\nname = \"c\"\nkind = { type = \"command\", program = { mode = \"exec\", program = \"/bin/true\" } }\ntrigger = { type = \"cron\", expr = \"* * *\" }\n\n[[jobs]]\nname = \"\"\nkind = { type = \"command\", program = { mode = \"exec\", program = \"/bin/true\" } }\ntrigger = { type = \"manual\" }\n\n[[jobs]]\nname = \"d\"\nkind = { type = \"command\", program = { mode = \"exec\", program = \"/bin/true\" } }\ntrigger = { type = \"manual\" }\npriority = 3\n",
    )
    .unwrap();
    let out = ctl(data, &["import", bad.to_str().unwrap(), "--dry-run"]);
    assert_eq!(out.code, 2);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines[0].contains("line 3: job 1 “c”: trigger.expr:"),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("line 8: job 2 “”: name:"), "{}", lines[1]);
    assert!(
        lines[2].contains("line 13: job 3 “d”: priority: unknown field `priority`"),
        "{}",
        lines[2]
    );
    let out = ctl(data, &["import", bad.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    // The same for programs.
    let out = ctl(data, &["--json", "import", bad.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3);
    assert_eq!(problems[0]["line"], 3);
    assert_eq!(problems[0]["job"], 1);
    assert_eq!(problems[0]["field"], "trigger.expr");
    assert_eq!(problems[2]["field"], "priority");
    assert_eq!(json(data, &["jobs", "list"]).as_array().unwrap().len(), 2);

    // A real cron.d file: jobs plus the report of lines not imported.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crontab/sysstat");
    let text = ok(
        data,
        &[
            "import",
            fixture.to_str().unwrap(),
            "--format",
            "system-crontab",
            "--tz",
            "UTC",
        ],
    );
    assert_eq!(text.matches("created  ").count(), 2, "{text}");
    assert!(
        text.contains("lines not imported:") && text.contains("line 3: PATH="),
        "{text}"
    );

    // systemd and Kubernetes.
    let units = dir.path().join("units");
    let text = ok(
        data,
        &[
            "export",
            "--format",
            "systemd",
            "--out",
            units.to_str().unwrap(),
            "--job",
            "a",
            "--job",
            "b",
        ],
    );
    assert!(
        units.join("sundial-a.service").exists() && units.join("sundial-a.timer").exists(),
        "{text}"
    );
    assert!(
        std::fs::read_to_string(units.join("sundial-a.timer"))
            .unwrap()
            .contains("OnCalendar=*-*-* *:00,10,20,30,40,50:00 UTC")
    );
    assert!(text.contains("b: manual job"), "{text}");
    let k8s = json(
        data,
        &[
            "export",
            "--format",
            "kubernetes",
            "--job",
            "a",
            "--job",
            "b",
        ],
    );
    assert!(
        k8s["files"][0]["content"]
            .as_str()
            .unwrap()
            .contains("schedule: \"*/10 * * * *\"")
    );
    assert_eq!(k8s["untranslatable"][0]["job"], "b");
}

#[test]
fn jobs_edit_from_an_exported_file_keeps_masked_secrets_and_refuses_a_bare_mask() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    let file = dir.path().join("job.toml");
    std::fs::write(
        &file,
        "version = 1\n[[jobs]]\nname = \"with secret\"\ntrigger = { type = \"manual\" }\n[jobs.kind]\ntype = \"command\"\nprogram = { mode = \"exec\", program = \"/bin/true\" }\nenv = [{ name = \"TOKEN\", value = \"t0k3n\", secret = true }]\n",
    )
    .unwrap();
    assert!(ok(data, &["jobs", "add", "--file", file.to_str().unwrap()]).contains("added "));
    let exported = dir.path().join("exported.toml");
    ok(
        data,
        &[
            "export",
            "--job",
            "with secret",
            "--out",
            exported.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(!text.contains("t0k3n"));
    std::fs::write(&exported, text.replace("/bin/true", "/bin/echo")).unwrap();
    let edited = json(
        data,
        &[
            "jobs",
            "edit",
            "with secret",
            "--file",
            exported.to_str().unwrap(),
        ],
    );
    assert_eq!(edited["revision"], 2);
    let full = ok(data, &["export", "--include-secrets", "--format", "json"]);
    assert!(
        full.contains("\"t0k3n\"") && full.contains("/bin/echo"),
        "{full}"
    );

    // A job with no stored secret cannot take a mask.
    ok(
        data,
        &["jobs", "add", "--name", "plain", "--command", "true"],
    );
    let out = ctl(
        data,
        &[
            "jobs",
            "edit",
            "plain",
            "--file",
            exported.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .starts_with("kind.env[0].value: is the mask of secret \"TOKEN\""),
        "{}",
        out.stdout
    );
    assert_eq!(json(data, &["jobs", "show", "plain"])["revision"], 1);
}

#[test]
fn logs_follow_prints_a_run_written_by_another_process_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.as_path();
    let gate = dir.path().join("gate");
    assert!(
        Command::new("mkfifo")
            .arg(&gate)
            .status()
            .unwrap()
            .success()
    );
    let body = format!("echo one; cat '{}' > /dev/null; echo two", gate.display());
    ok(data, &["jobs", "add", "--name", "slow", "--command", &body]);
    // `jobs run` executes the run in its own process and waits for it.
    let mut runner = Command::new(env!("CARGO_BIN_EXE_sundialctl"))
        .env("SUNDIAL_SECRETS", "database")
        .arg("--data-dir")
        .arg(data)
        .args(["jobs", "run", "slow"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let run_id = loop {
        let running = json(data, &["runs", "list", "--status", "running"]);
        if let Some(id) = running[0]["id"].as_str() {
            break id.to_string();
        }
        assert!(Instant::now() < deadline, "the run did not start");
        // Another process: no event to wait on, so look again.
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut follower = Command::new(env!("CARGO_BIN_EXE_sundialctl"))
        .env("SUNDIAL_SECRETS", "database")
        .arg("--data-dir")
        .arg(data)
        .args(["logs", "follow", &run_id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next = |want: &str| loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no {want:?} from logs follow: {e}"));
        if line.contains(want) {
            return line;
        }
    };
    next("stdout  one");
    // Let the job go on: it prints "two" and ends; follow prints it and ends too.
    drop(std::fs::OpenOptions::new().write(true).open(&gate).unwrap());
    next("stdout  two");
    assert!(follower.wait().unwrap().success());
    assert!(runner.wait().unwrap().success());
}

// ----- the daemon and the lease --------------------------------------------------------------

#[test]
fn a_second_scheduler_is_refused_and_says_who_holds_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut first = start_daemon(data, &[]);
    first.expect_line("sundialctl daemon: scheduling");
    let second = ctl(data, &["daemon"]);
    assert_eq!(second.code, 3, "{}{}", second.stdout, second.stderr);
    assert_eq!(second.stderr.lines().count(), 1, "{}", second.stderr);
    let host = sundial_engine::lease::host_name();
    assert!(
        second.stderr.contains(&format!(
            "the scheduler is already running: sundialctl daemon (pid {} on host {host}) since ",
            first.child.id()
        )),
        "{}",
        second.stderr
    );
    assert!(second.stderr.contains("this daemon does not schedule"));

    // SIGTERM: a clean stop that gives the lease back.
    first.signal(nix::sys::signal::Signal::SIGTERM);
    first.expect_line("sundialctl daemon: stopped");
    assert!(first.child.wait().unwrap().success());
    let mut third = start_daemon(data, &[]);
    third.expect_line("sundialctl daemon: scheduling");
    third.signal(nix::sys::signal::Signal::SIGINT);
    third.expect_line("stopped");
    assert!(third.child.wait().unwrap().success());
}

#[test]
fn a_crashed_daemon_on_this_machine_does_not_block_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut crashed = start_daemon(data, &[]);
    crashed.expect_line("sundialctl daemon: scheduling");
    crashed.signal(nix::sys::signal::Signal::SIGKILL);
    crashed.child.wait().unwrap();
    // Its lease is still in the database, unexpired, but its process is gone.
    let next = start_daemon(data, &[]);
    next.expect_line("sundialctl daemon: scheduling");
    next.signal(nix::sys::signal::Signal::SIGTERM);
    next.expect_line("stopped");
}

#[tokio::test]
async fn a_lease_expires_when_its_holder_stops_renewing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sundial.db")).await.unwrap();
    let ttl = Duration::from_secs(30);
    let t0 = Utc::now();
    let mut crashed = Lease::acquire(&store, "app", t0, ttl)
        .await
        .unwrap()
        .unwrap();
    // Another scheduler within the TTL is refused and told who holds it.
    let held = Lease::acquire(&store, "daemon", t0 + ChronoDuration::seconds(10), ttl)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(held.0.holder, "app");
    assert_eq!(held.0.pid, std::process::id());
    assert_eq!(held.0.since.timestamp_millis(), t0.timestamp_millis());
    // Renewal keeps it.
    assert!(
        crashed
            .renew(t0 + ChronoDuration::seconds(20))
            .await
            .unwrap()
    );
    assert!(
        Lease::acquire(&store, "daemon", t0 + ChronoDuration::seconds(45), ttl)
            .await
            .unwrap()
            .is_err()
    );
    // No renewal for a whole TTL: taken over; the old holder learns it lost it.
    let taken = Lease::acquire(&store, "daemon", t0 + ChronoDuration::seconds(51), ttl)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !crashed
            .renew(t0 + ChronoDuration::seconds(52))
            .await
            .unwrap()
    );
    assert_eq!(
        store.current_lease().await.unwrap().unwrap().holder,
        "daemon"
    );
    taken.release().await.unwrap();
    assert!(store.current_lease().await.unwrap().is_none());
    store.close().await;
}

#[test]
fn the_daemon_fires_jobs_added_by_the_cli_and_follows_a_jobs_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let folder = dir.path().join("jobs");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("tick.toml"),
        "version = 1\n[[jobs]]\nname = \"from folder\"\nkind = { type = \"command\", program = { mode = \"exec\", program = \"/bin/true\" } }\ntrigger = { type = \"manual\" }\n",
    )
    .unwrap();
    let daemon = start_daemon(&data, &["--jobs-dir", folder.to_str().unwrap()]);
    daemon.expect_line("jobs folder: tick.toml: 1 created");
    daemon.expect_line("sundialctl daemon: scheduling 1 job(s)");
    // A job added by another process fires on the daemon's schedule.
    ok(
        &data,
        &[
            "jobs",
            "add",
            "--name",
            "every second",
            "--command",
            "echo tick",
            "--cron",
            "* * * * * *",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let runs = json(
            &data,
            &[
                "runs",
                "list",
                "--job",
                "every second",
                "--status",
                "succeeded",
            ],
        );
        if !runs.as_array().unwrap().is_empty() {
            assert_eq!(runs[0]["reason"], "schedule");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon did not fire the CLI's job"
        );
        // The daemon is another process: there is no event to wait on, so look again.
        std::thread::sleep(Duration::from_millis(200));
    }
    // Removing the folder's file archives its job (disabled, history kept).
    std::fs::remove_file(folder.join("tick.toml")).unwrap();
    daemon.expect_line(
        "jobs folder: tick.toml removed: 1 job(s) disabled and archived with their history",
    );
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    daemon.expect_line("stopped");
}

#[test]
fn logs_search_finds_lines_across_a_jobs_runs_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "backup",
            "--command",
            "echo copied; echo 'ERROR disk full' >&2",
        ],
    );
    let first = json(data, &["jobs", "run", "backup"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let second = json(data, &["jobs", "run", "backup"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = ok(data, &["logs", "search", "backup", "error", "-i"]);
    let headers: Vec<&str> = out.lines().filter(|l| l.starts_with("run ")).collect();
    assert_eq!(headers.len(), 2, "{out}");
    assert!(headers[0].contains(&second), "newest first: {out}");
    assert!(headers[1].contains(&first), "{out}");
    assert!(out.contains(": ERROR disk full"), "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("2 matching lines in 2 of 2 runs"),
        "{out}"
    );
    // Case matters without -i; nothing matched is exit 1, like grep.
    let none = ctl(data, &["logs", "search", "backup", "error"]);
    assert_eq!(none.code, 1, "{}{}", none.stdout, none.stderr);
    // A bad regex is a field error on stdout, exit 2.
    let bad = ctl(data, &["logs", "search", "backup", "(x", "--regex"]);
    assert_eq!(bad.code, 2, "{}{}", bad.stdout, bad.stderr);
    assert!(bad.stdout.starts_with("pattern: "), "{}", bad.stdout);
    let unknown = ctl(data, &["logs", "search", "nope", "x"]);
    assert_eq!(unknown.code, 2);
    // --json: a line per match, then the summary.
    let out = ok(data, &["--json", "logs", "search", "backup", "copied"]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0]["run_id"], second.as_str());
    assert_eq!(lines[0]["text"], "copied");
    assert_eq!(lines[2]["summary"]["total"], 2, "{out}");
}

#[test]
fn jobs_run_with_env_and_args_runs_once_with_them_and_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "params",
            "--command",
            r#"echo "LEVEL=${LEVEL-unset} first=$1 second=$2""#,
        ],
    );
    let run = json(
        data,
        &[
            "jobs",
            "run",
            "params",
            "--env",
            "LEVEL=debug",
            "--arg",
            "a b",
            "--arg=-x",
        ],
    );
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["overrides"]["env"][0]["name"], "LEVEL");
    assert_eq!(run["overrides"]["env"][0]["value"], "debug");
    assert_eq!(run["overrides"]["args"], serde_json::json!(["a b", "-x"]));
    let run_id = run["id"].as_str().unwrap().to_string();
    let log = ok(data, &["logs", "show", &run_id]);
    assert!(
        log.contains("stdout  LEVEL=debug first=a b second=-x"),
        "{log}"
    );
    // History says what the run was run with; the job itself is unchanged.
    let listed = ok(data, &["runs", "list", "--job", "params"]);
    assert!(listed.contains("with LEVEL=debug, +2 args"), "{listed}");
    let plain = json(data, &["jobs", "run", "params"]);
    assert_eq!(plain["overrides"], Value::Null);
    let log = ok(data, &["logs", "show", plain["id"].as_str().unwrap()]);
    assert!(log.contains("stdout  LEVEL=unset first= second="), "{log}");

    // Bad input: field errors on stdout, rc 2, nothing runs.
    let before = json(data, &["runs", "list"]).as_array().unwrap().len();
    let out = ctl(data, &["jobs", "run", "params", "--env", "NOEQUALS"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("env[0]") && out.stdout.contains("NAME=value"),
        "{}",
        out.stdout
    );
    let out = ctl(data, &["jobs", "run", "params", "--env", "9X=1"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("not a valid variable name"),
        "{}",
        out.stdout
    );
    assert_eq!(
        json(data, &["runs", "list"]).as_array().unwrap().len(),
        before
    );
}

#[test]
fn jobs_add_and_edit_set_and_remove_conditions_with_field_errors_for_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let added = json(
        data,
        &[
            "jobs",
            "add",
            "--name",
            "laptop backup",
            "--command",
            "true",
            "--cron",
            "0 2 * * *",
            "--only-on-ac",
            "--max-wait",
            "1800",
            "--random-delay",
            "600",
        ],
    );
    let c = &added["policies"]["conditions"];
    assert_eq!(c["ac_power"], true);
    assert_eq!(c["network"], false);
    assert_eq!(c["max_wait_secs"], 1800);
    assert_eq!(c["on_timeout"], "skip");
    assert_eq!(c["random_delay_secs"], 600);
    let shown = ok(data, &["jobs", "show", "laptop backup"]);
    assert!(
        shown.contains(
            "conditions: only on AC power (waits up to 30 min, then skips); random delay up to 10 min"
        ),
        "{shown}"
    );
    // Each flag changes only what it names.
    let edited = json(
        data,
        &[
            "jobs",
            "edit",
            "laptop backup",
            "--only-online",
            "--only-on-ac=false",
            "--on-timeout",
            "run",
        ],
    );
    let c = &edited["policies"]["conditions"];
    assert_eq!(
        (c["ac_power"].clone(), c["network"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );
    assert_eq!(c["on_timeout"], "run");
    assert_eq!(c["max_wait_secs"], 1800, "kept");
    // A value out of bounds names its field and changes nothing.
    let out = ctl(data, &["jobs", "edit", "laptop backup", "--max-wait", "30"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout
            .starts_with("policies.conditions.max_wait_secs: must be from 60 seconds"),
        "{}",
        out.stdout
    );
    let out = ctl(
        data,
        &["jobs", "edit", "laptop backup", "--random-delay", "86401"],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stdout
            .starts_with("policies.conditions.random_delay_secs: "),
        "{}",
        out.stdout
    );
    // --no-conditions removes them all: the job's file has none.
    let cleared = json(data, &["jobs", "edit", "laptop backup", "--no-conditions"]);
    assert!(cleared["policies"].get("conditions").is_none(), "{cleared}");
    let out = ctl(
        data,
        &[
            "jobs",
            "edit",
            "laptop backup",
            "--no-conditions",
            "--only-on-ac",
        ],
    );
    assert_eq!(out.code, 2, "--no-conditions with a condition is refused");
}
