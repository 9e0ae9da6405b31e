//! Issue 12, on a real file system: a data folder on a 4 MiB tmpfs filled up mid-run (as root;
//! skipped with a printed reason otherwise). A binary of its own: the run's processes are
//! waited on by this test's runtime alone, and its CPU figure is this test's alone.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sundial_engine::domain::RunStatus;

/// A 4 MiB tmpfs, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Result<Self, String> {
        if !cfg!(target_os = "linux") {
            return Err("tmpfs mounts need Linux".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !status.success() {
            return Err("mount -t tmpfs failed (not root?)".into());
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// CPU seconds this process has used (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// Fills the file system holding `path` until a write fails.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 4096];
    while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
    let _ = file.sync_all();
}

async fn wait_for_end(
    engine: &sundial_engine::Engine,
    run: sundial_engine::domain::RunId,
) -> sundial_engine::domain::Run {
    let start = std::time::Instant::now();
    loop {
        let current = engine.get_run(run).await.unwrap();
        if current.status.is_terminal() {
            return current;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run did not end within 30 s: {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_folder_filled_up_mid_run_fails_the_run_clearly_idles_and_resumes_when_space_returns()
 {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let disk = match SmallDisk::mount() {
        Ok(disk) => disk,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let data = disk.path();
    let logs = sundial_engine::LogStore::new(data.join("runs"));
    let runner =
        sundial_engine::Runner::new(sundial_engine::RunnerConfig::default(), logs.clone()).unwrap();
    let mut config = sundial_engine::EngineConfig::new(data.join("sundial.db"));
    config.logs = Some(logs);
    let engine = sundial_engine::Engine::start(
        config,
        Arc::new(sundial_engine::SystemClock),
        Arc::new(runner),
    )
    .await
    .unwrap();
    let shell = |name: &str,
                 body: &str,
                 trigger: serde_json::Value|
     -> sundial_engine::domain::JobSpec {
        serde_json::from_value(json!({
            "name": name,
            "kind": {"type": "command", "program": {"mode": "script", "interpreter": "sh", "body": body}},
            "trigger": trigger,
        }))
        .unwrap()
    };
    let small = engine
        .create_job(shell("small", "echo hello", json!({"type": "manual"})))
        .await
        .unwrap();
    let earlier = engine.run_now(small.id).await.unwrap();
    assert_eq!(
        wait_for_end(&engine, earlier.id).await.status,
        RunStatus::Succeeded
    );

    // 8 MB of output onto a 4 MiB disk.
    let big = engine
        .create_job(shell(
            "big",
            "yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 8000000",
            json!({"type": "manual"}),
        ))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let run = engine.run_now(big.id).await.unwrap();
    let ended = wait_for_end(&engine, run.id).await;
    println!(
        "the 8 MB run ended in {:?}: {:?}",
        started.elapsed(),
        ended.error
    );
    assert_eq!(ended.status, RunStatus::Failed);
    let error = ended.error.unwrap();
    assert!(
        error.contains("the run log could not be written: the disk is full")
            && error.contains("bytes of output lost"),
        "{error}"
    );
    assert!(
        engine.storage_problem().unwrap().contains("disk"),
        "the window and tray are told"
    );

    // Now the disk is full to the last block, and a job fires every second.
    let ticker = engine
        .create_job(shell(
            "ticker",
            "true",
            json!({"type": "interval", "every": 1, "unit": "seconds"}),
        ))
        .await
        .unwrap();
    let filler = data.join("filler");
    fill(&filler);
    let before = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let used = cpu_seconds() - before;
    println!("CPU used in 4 s with the disk full: {used:.2} s");
    assert!(
        used < 0.4,
        "the engine spun while the disk was full: {used:.2} CPU s in 4 s"
    );
    assert!(engine.storage_problem().is_some());

    // Space returns: everything resumes by itself.
    std::fs::remove_file(&filler).unwrap();
    // And the big run's log, as a user freeing space would (its row stays).
    for day in std::fs::read_dir(data.join("runs")).unwrap() {
        for file in std::fs::read_dir(day.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&run.id.to_string())
            {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    let freed = std::time::Instant::now();
    let count_ticks = || async {
        engine
            .list_runs(&sundial_engine::store::RunFilter {
                job_id: Some(ticker.id),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
    };
    let ticks_then = count_ticks().await.len();
    while count_ticks().await.len() <= ticks_then + 1 {
        assert!(
            freed.elapsed() < Duration::from_secs(30),
            "the ticker did not resume"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let later = engine.run_now(small.id).await.unwrap();
    assert_eq!(
        wait_for_end(&engine, later.id).await.status,
        RunStatus::Succeeded
    );
    let earlier_now = engine.get_run(earlier.id).await.unwrap();
    assert_eq!(
        earlier_now.status,
        RunStatus::Succeeded,
        "the earlier row is intact"
    );
    assert_eq!(
        engine.get_run(run.id).await.unwrap().status,
        RunStatus::Failed
    );
    assert_eq!(
        engine.storage_problem(),
        None,
        "the problem clears once writes work again"
    );
    engine.shutdown(true).await;
    drop(disk);
}
