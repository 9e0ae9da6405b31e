//! The harness in quick mode (tiny sizes), so it cannot rot: every scenario runs against its
//! peer and the report has a row for each.

use std::process::Command;

#[test]
fn quick_mode_runs_every_scenario_and_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BENCHMARKS.md");
    let status = Command::new(env!("CARGO_BIN_EXE_sundial-bench"))
        .args(["--quick", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "sundial-bench --quick failed");
    let report = std::fs::read_to_string(&out).unwrap();
    for id in ["B1", "B2", "B3", "B4", "B5", "B6"] {
        assert!(
            report.contains(&format!("| {id} |")),
            "no {id} row in:\n{report}"
        );
    }
    assert!(report.contains("tokio-cron-scheduler"));
    assert!(report.contains("bare spawn loop"));
    assert!(report.contains("Mode: quick"));
}
