//! B8: the app in the tray, as it lives all day. The release app starts with `--tray` (as start
//! at login starts it) on 1,000 jobs; after 60 s idle, the PSS of its whole process tree is read
//! and no WebKit process may be alive (the web view exists only while the window is open:
//! decisions/0016). Then the window is opened the way a tray click or a second launch opens it
//! (`sundial --show`, through single-instance) and the time to its first paint is taken, against
//! the Tauri hello-world's cold start and idle PSS in the same run (B7's harness and paint hook).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::b7::{
    self, DbusSession, Xvfb, app_command, binaries, descendants, epoch_ns, stop_tree, tree_memory,
};
use crate::report::Row;
use crate::util::median;

const JOBS: usize = 1_000;
const PEER: &str = "Tauri 2 hello-world (same tauri and features, release), cold start";

struct TraySample {
    pss_kib: u64,
    app_pss_kib: u64,
    reopen_ms: f64,
}

pub async fn b8(quick: bool) -> Result<Vec<Row>, String> {
    let (runs, idle) = if quick {
        (1, Duration::from_secs(3))
    } else {
        (3, Duration::from_secs(60))
    };
    if let Some(why) = b7::unavailable() {
        if quick {
            eprintln!("sundial-bench: B8 SKIPPED: {why}; scripts/bench.sh builds and runs it");
            return Ok(Vec::new());
        }
        return Err(why);
    }
    let (app, hello) = binaries();
    let root = tempfile::tempdir().map_err(|x| x.to_string())?;
    let display = Xvfb::start()?;
    let sizes = b7::B7Sizes {
        runs,
        idle,
        paint_timeout: Duration::from_secs(60),
    };
    let mut ours = Vec::new();
    let mut peers = Vec::new();
    for i in 0..runs {
        let dir = root.path().join(format!("tray-{i}"));
        let data = dir.join("data");
        b7::seed(&data, JOBS).await?;
        let s = tokio::task::block_in_place(|| tray_start(&app, &dir, &data, &display, idle))
            .map_err(|x| format!("{}: {x}", app.display()))?;
        eprintln!(
            "sundial-bench: B8 tray start {}: PSS {:.1} MiB (the app {:.1} MiB), reopen to first paint {:.0} ms",
            i + 1,
            s.pss_kib as f64 / 1024.0,
            s.app_pss_kib as f64 / 1024.0,
            s.reopen_ms
        );
        ours.push(s);
        let dir = root.path().join(format!("hello-{i}"));
        let data = dir.join("data");
        let h = tokio::task::block_in_place(|| {
            b7::one_start(&hello, &[], &dir, &data, &display, &sizes)
        })
        .map_err(|x| format!("{}: {x}", hello.display()))?;
        eprintln!(
            "sundial-bench: B8 hello-world start {}: first paint {:.0} ms, PSS {:.1} MiB",
            i + 1,
            h.paint_ms,
            h.pss_kib as f64 / 1024.0
        );
        peers.push(h);
    }
    drop(display);
    let mib = |k: u64| k as f64 / 1024.0;
    let n = ours.len();
    let secs = idle.as_secs();
    let tree = median(ours.iter().map(|s| mib(s.pss_kib)).collect());
    let peer_pss = median(peers.iter().map(|s| mib(s.pss_kib)).collect());
    let reopen = median(ours.iter().map(|s| s.reopen_ms).collect());
    let peer_paint = median(peers.iter().map(|s| s.paint_ms).collect());
    Ok(vec![
        Row {
            id: "B8",
            measure: format!(
                "`--tray`, {JOBS} jobs, idle {secs} s: PSS of the whole process tree, no WebKit \
                 process alive (median of {n}; the hello-world idle {secs} s with its window)"
            ),
            unit: "MiB",
            sundial: tree,
            peer: PEER.into(),
            peer_value: Some(peer_pss),
            lower_is_better: true,
            target: "≤ 40 MiB and ≥ 6× less".into(),
            met: Some(tree <= 40.0 && peer_pss >= 6.0 * tree),
        },
        Row {
            id: "B8",
            measure: format!(
                "`--tray`, {JOBS} jobs, idle {secs} s: PSS of the app's own process (for \
                 context; median of {n})"
            ),
            unit: "MiB",
            sundial: median(ours.iter().map(|s| mib(s.app_pss_kib)).collect()),
            peer: PEER.into(),
            peer_value: Some(peer_pss),
            lower_is_better: true,
            target: String::new(),
            met: None,
        },
        Row {
            id: "B8",
            measure: format!(
                "reopen from the tray (`sundial --show` to the first frame of the jobs list) vs \
                 the hello-world's cold start (median of {n})"
            ),
            unit: "ms",
            sundial: reopen,
            peer: PEER.into(),
            peer_value: Some(peer_paint),
            lower_is_better: true,
            target: "≤ 1.3× the hello-world".into(),
            met: Some(reopen <= 1.3 * peer_paint),
        },
    ])
}

/// The WebKit processes under `pid`, by pid and program name.
fn webkit_processes(pid: u32) -> Vec<(u32, String)> {
    descendants(pid)
        .into_iter()
        .filter_map(|p| {
            let exe = std::fs::read_link(format!("/proc/{p}/exe")).ok()?;
            let name = exe.file_name()?.to_string_lossy().into_owned();
            name.starts_with("WebKit").then_some((p, name))
        })
        .collect()
}

/// The first number of line `index` of the paint file, once written.
fn wait_paint(
    file: &Path,
    index: usize,
    child: &mut std::process::Child,
    timeout: Duration,
) -> Result<u128, String> {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Some(ns) = text
                .lines()
                .nth(index)
                .and_then(|l| l.split(' ').next())
                .and_then(|v| v.parse::<u128>().ok())
        {
            return Ok(ns);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited before the window painted ({status})"));
        }
        if started.elapsed() > timeout {
            return Err(format!("no paint within {} s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn tray_start(
    app: &Path,
    dir: &Path,
    data: &Path,
    display: &Xvfb,
    idle: Duration,
) -> Result<TraySample, String> {
    let e = |x: std::io::Error| x.to_string();
    for sub in ["data", "xdg-data", "xdg-config", "xdg-cache", "xdg-state"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(e)?;
    }
    let paint_file = dir.join("paint");
    let bus = DbusSession::start()?;
    let mut cmd = app_command(app, dir, data, display, &bus, &paint_file, "app.log")?;
    cmd.arg("--tray");
    let spawned = Instant::now();
    let mut child = cmd.spawn().map_err(e)?;
    let pid = child.id();
    let result = (|| {
        std::thread::sleep(idle.saturating_sub(spawned.elapsed()));
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited while idle in the tray ({status})"));
        }
        let webkit = webkit_processes(pid);
        if !webkit.is_empty() {
            return Err(format!("WebKit processes alive in the tray: {webkit:?}"));
        }
        if std::fs::metadata(&paint_file).is_ok() {
            return Err("a page painted although the app started in the tray".into());
        }
        let (pss_kib, _, by_name) = tree_memory(pid)?;
        let app_pss_kib = by_name.get(b7::APP_PROCESS).copied().unwrap_or(0);
        // Open the window as a tray click does: a second launch hands over through
        // single-instance and exits.
        let mut show = app_command(app, dir, data, display, &bus, &paint_file, "show.log")?;
        show.arg("--show");
        let asked_ns = epoch_ns();
        let mut second = show.spawn().map_err(e)?;
        let painted_ns = wait_paint(&paint_file, 0, &mut child, Duration::from_secs(60))?;
        let _ = second.wait();
        Ok(TraySample {
            pss_kib,
            app_pss_kib,
            reopen_ms: painted_ns.saturating_sub(asked_ns) as f64 / 1e6,
        })
    })();
    stop_tree(&mut child);
    drop(bus);
    result.map_err(|x| b7::with_app_output(dir, &x))
}
