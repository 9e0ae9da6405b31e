//! Running `sundialctl` in tests: one-shot commands, and the daemon as a real process whose
//! output lines can be waited for.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn ctl(data: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_sundialctl"))
        // Never the keychain of whoever runs the tests (the keychain tests choose theirs).
        .env("SUNDIAL_SECRETS", "database")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run sundialctl");
    Out {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn ok(data: &Path, args: &[&str]) -> String {
    let out = ctl(data, args);
    assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
    out.stdout
}

pub fn json(data: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(data, &all)).unwrap()
}

pub struct Daemon {
    pub child: Child,
    pub lines: std::sync::mpsc::Receiver<String>,
}

pub fn start_daemon(data: &Path, extra: &[&str]) -> Daemon {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sundialctl"))
        .env("SUNDIAL_SECRETS", "database")
        .arg("--data-dir")
        .arg(data)
        .arg("daemon")
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Daemon { child, lines }
}

impl Daemon {
    pub fn expect_line(&self, contains: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(contains) => return line,
                Ok(_) => {}
                Err(e) => panic!("no line with {contains:?} from the daemon: {e}"),
            }
        }
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
