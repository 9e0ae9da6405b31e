//! The harness in quick mode (tiny sizes), so it cannot rot: every scenario runs against its
//! peer and the report has a row for each. B7 (the desktop app against a Tauri hello-world)
//! needs both apps built and Xvfb; without them it is skipped, and says so on stderr.

use std::io::Write;
use std::process::Command;

#[test]
fn quick_mode_runs_every_scenario_and_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BENCHMARKS.md");
    let run = Command::new(env!("CARGO_BIN_EXE_sundial-bench"))
        .args(["--quick", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    // Straight to stderr, past the test harness's capture: a skipped B7 shows in the output.
    let _ = std::io::stderr().write_all(&run.stderr);
    assert!(run.status.success(), "sundial-bench --quick failed");
    let stderr = String::from_utf8_lossy(&run.stderr);
    let report = std::fs::read_to_string(&out).unwrap();
    for id in ["B1", "B2", "B3", "B4", "B5", "B6", "B10", "B11"] {
        assert!(
            report.contains(&format!("| {id} |")),
            "no {id} row in:\n{report}"
        );
    }
    assert!(report.contains("tokio-cron-scheduler"));
    assert!(report.contains("bare spawn loop"));
    assert!(report.contains("Mode: quick"));
    // B10 measured something: a latency for both sides and an idle wake-up rate (no timing
    // thresholds here, only figures that are numbers).
    let b10: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("| B10 |"))
        .collect();
    assert_eq!(b10.len(), 6, "B10 rows:\n{}", b10.join("\n"));
    for line in &b10 {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        for figure in [cells[3], cells[5]] {
            let value: f64 = figure
                .split(' ')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("B10 figure {figure:?} in {line}"));
            assert!(value.is_finite(), "B10 figure {figure:?} in {line}");
        }
    }
    assert!(report.contains("polled every 500 ms"));
    if report.contains("| B7 |") {
        assert!(report.contains("Tauri 2 hello-world"));
    } else {
        assert!(
            stderr.contains("B7 SKIPPED"),
            "no B7 row and no skip message in:\n{stderr}"
        );
    }
}
