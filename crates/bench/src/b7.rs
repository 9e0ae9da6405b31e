//! B7: the desktop app's cold start and idle memory against a Tauri 2 hello-world
//! (crates/bench/peers/tauri-hello) built in the same run.
//!
//! Both apps run under the same private Xvfb display, each start with a D-Bus session of its
//! own, fresh data and XDG folders, and the same paint hook (src-tauri/src/bench.rs and its copy
//! in the peer): the page reports once its content has been painted, and the app appends the
//! wall-clock time to `$SUNDIAL_BENCH_PAINT_FILE`. Time to first paint is that time minus the
//! instant just before the process was spawned. After `idle` seconds from the spawn, the PSS
//! and RSS of the whole process tree (the app and every descendant: WebKit's web and network
//! processes and anything else) are read from /proc/<pid>/smaps_rollup. Starts alternate
//! between the apps; a start that fails stops the scenario (nothing is dropped).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::Utc;
use serde_json::json;
use sundial_engine::AppPaths;
use sundial_engine::domain::{Job, JobId, JobSpec};
use sundial_engine::store::Store;

use crate::report::Row;
use crate::util::{have, median, sibling_binary};

pub const PAINT_FILE_ENV: &str = "SUNDIAL_BENCH_PAINT_FILE";
/// Jobs in the database each Sundial start lists (the jobs screen is the first screen).
const SEEDED_JOBS: usize = 20;
pub(crate) const APP_PROCESS: &str = "the app's own process";
const PEER: &str = "Tauri 2 hello-world (same tauri and features, release)";
const PEER_PLAIN: &str = "the same hello-world told to use WebKit's non-composited mode \
    (`WEBKIT_DISABLE_COMPOSITING_MODE=1`) and no GDK OpenGL (`GDK_GL=disable`), as Sundial \
    chooses on a machine without a GPU";
/// What Sundial sets for itself on a machine without a GPU (src-tauri/src/webkit.rs).
const PLAIN_MODE: &[(&str, &str)] = &[
    ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
    ("GDK_GL", "disable"),
];

/// The three kinds of start, taken in turn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sundial,
    Hello,
    /// The hello-world in the drawing mode Sundial picks on this machine (for context).
    HelloPlain,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Sundial => "Sundial",
            Kind::Hello => "hello-world",
            Kind::HelloPlain => "hello-world (non-composited)",
        }
    }
}

pub(crate) struct B7Sizes {
    pub runs: usize,
    pub idle: Duration,
    pub paint_timeout: Duration,
}

/// The two release binaries: `$SUNDIAL_BENCH_APP` / `$SUNDIAL_BENCH_HELLO`, else next to this
/// binary (scripts/bench.sh builds all three into the same target folder).
pub(crate) fn binaries() -> (PathBuf, PathBuf) {
    let pick = |env: &str, name: &str| {
        std::env::var_os(env)
            .map(PathBuf::from)
            .unwrap_or_else(|| sibling_binary(name))
    };
    (
        pick("SUNDIAL_BENCH_APP", "sundial"),
        pick("SUNDIAL_BENCH_HELLO", "tauri-hello"),
    )
}

/// Why B7 cannot run here, if it cannot.
pub(crate) fn unavailable() -> Option<String> {
    let (app, hello) = binaries();
    for (bin, how) in [
        (&app, "cargo build --release -p sundial-desktop"),
        (
            &hello,
            "cargo build --release --manifest-path crates/bench/peers/tauri-hello/Cargo.toml",
        ),
    ] {
        if !bin.exists() {
            return Some(format!("{} is not built ({how})", bin.display()));
        }
    }
    for tool in ["Xvfb", "dbus-daemon"] {
        if !have(tool) {
            return Some(format!("{tool} is missing (bash scripts/setup-system.sh)"));
        }
    }
    None
}

pub(crate) struct Sample {
    pub(crate) paint_ms: f64,
    pub(crate) pss_kib: u64,
    pub(crate) rss_kib: u64,
    /// PSS by process name (WebKitWebProcess, WebKitNetworkProcess, the app, …).
    pub(crate) by_name: BTreeMap<String, u64>,
}

pub async fn b7(quick: bool) -> Result<Vec<Row>, String> {
    let sizes = if quick {
        B7Sizes {
            runs: 2,
            idle: Duration::from_secs(3),
            paint_timeout: Duration::from_secs(60),
        }
    } else {
        B7Sizes {
            runs: 5,
            idle: Duration::from_secs(60),
            paint_timeout: Duration::from_secs(60),
        }
    };
    if let Some(why) = unavailable() {
        if quick {
            eprintln!("sundial-bench: B7 SKIPPED: {why}; scripts/bench.sh builds and runs it");
            return Ok(Vec::new());
        }
        return Err(why);
    }
    let (app, hello) = binaries();
    let root = tempfile::tempdir().map_err(|x| x.to_string())?;
    let display = Xvfb::start()?;
    let mut ours = Vec::new();
    let mut peers = Vec::new();
    let mut plain = Vec::new();
    let kinds = [Kind::Sundial, Kind::Hello, Kind::HelloPlain];
    for i in 0..sizes.runs {
        // Rotate which app goes first, so none always follows another.
        for k in 0..kinds.len() {
            let kind = kinds[(i + k) % kinds.len()];
            let dir = root.path().join(format!("run-{i}-{k}"));
            let data = dir.join("data");
            if kind == Kind::Sundial {
                seed(&data, SEEDED_JOBS).await?;
            }
            let (bin, env) = match kind {
                Kind::Sundial => (&app, &[][..]),
                Kind::Hello => (&hello, &[][..]),
                Kind::HelloPlain => (&hello, PLAIN_MODE),
            };
            let s =
                tokio::task::block_in_place(|| one_start(bin, env, &dir, &data, &display, &sizes))
                    .map_err(|x| format!("{}: {x}", bin.display()))?;
            eprintln!(
                "sundial-bench: B7 {} start {}: first paint {:.0} ms, PSS {:.1} MiB, RSS {:.1} MiB",
                kind.label(),
                i + 1,
                s.paint_ms,
                s.pss_kib as f64 / 1024.0,
                s.rss_kib as f64 / 1024.0
            );
            match kind {
                Kind::Sundial => ours.push(s),
                Kind::Hello => peers.push(s),
                Kind::HelloPlain => plain.push(s),
            }
        }
    }
    drop(display);
    let mut out = rows(&ours, &peers, PEER, true, &sizes);
    out.extend(
        rows(&ours, &plain, PEER_PLAIN, false, &sizes)
            .into_iter()
            .take(2),
    );
    Ok(out)
}

/// Sundial's figures against one peer's; `targets` marks the two rows the issue sets a target
/// for (paint and PSS), which come first.
fn rows(ours: &[Sample], peers: &[Sample], peer: &str, targets: bool, sizes: &B7Sizes) -> Vec<Row> {
    let n = ours.len();
    let idle = sizes.idle.as_secs();
    let range = |v: Vec<f64>, unit: &str| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{lo:.0}–{hi:.0} {unit}")
    };
    let mib = |k: u64| k as f64 / 1024.0;
    let figure =
        |measure: String, unit: &'static str, get: &dyn Fn(&Sample) -> f64, target: bool| {
            let a: Vec<f64> = ours.iter().map(get).collect();
            let b: Vec<f64> = peers.iter().map(get).collect();
            let measure = format!(
                "{measure} (median of {n}; Sundial {}, hello-world {})",
                range(a.clone(), unit),
                range(b.clone(), unit)
            );
            let mut row = Row {
                id: "B7",
                measure,
                unit,
                sundial: median(a),
                peer: peer.into(),
                peer_value: Some(median(b)),
                lower_is_better: true,
                target: String::new(),
                met: None,
            };
            if target && targets {
                row.target = "≤ 1.3× the hello-world".into();
                row.met = row.peer_value.map(|p| row.sundial <= 1.3 * p);
            }
            row
        };
    let mut out = vec![
        figure(
            "cold start: time to first paint (spawn to the first frame with the page's content)"
                .into(),
            "ms",
            &|s| s.paint_ms,
            true,
        ),
        figure(
            format!("idle {idle} s: PSS of the whole process tree"),
            "MiB",
            &|s| mib(s.pss_kib),
            true,
        ),
        figure(
            format!("idle {idle} s: RSS summed over the process tree (for context)"),
            "MiB",
            &|s| mib(s.rss_kib),
            false,
        ),
    ];
    // PSS per process kind, for the findings.
    let mut names: Vec<String> = ours
        .iter()
        .chain(peers)
        .flat_map(|s| s.by_name.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        let get = |s: &Sample| mib(s.by_name.get(&name).copied().unwrap_or(0));
        out.push(figure(
            format!("idle {idle} s: PSS of {name}"),
            "MiB",
            &get,
            false,
        ));
    }
    out
}

/// A fresh data folder with the same jobs for every Sundial start.
pub(crate) async fn seed(data: &Path, jobs: usize) -> Result<(), String> {
    std::fs::create_dir_all(data).map_err(|x| x.to_string())?;
    let store = Store::open(&AppPaths::new(data).database())
        .await
        .map_err(|x| x.to_string())?;
    let now = Utc::now();
    let jobs: Vec<Job> = (0..jobs)
        .map(|i| {
            let spec: JobSpec = serde_json::from_value(json!({
                "name": format!("backup {i}"),
                "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
                // Once a year: nothing fires while the app is measured.
                "trigger": {"type": "cron", "expr": format!("{} 3 1 1 *", i % 60), "timezone": "UTC"},
            }))
            .expect("a valid job");
            Job {
                id: JobId::new(),
                revision: 1,
                created_at: now,
                updated_at: now,
                spec,
            }
        })
        .collect();
    store.insert_jobs(&jobs).await.map_err(|x| x.to_string())?;
    store.close().await;
    Ok(())
}

pub(crate) fn epoch_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// The command starting `bin` on the private display and bus, with fresh data and XDG folders
/// under `dir` (made by the caller), the paint hook writing to `paint_file`, output to `log`.
pub(crate) fn app_command(
    bin: &Path,
    dir: &Path,
    data: &Path,
    display: &Xvfb,
    bus: &DbusSession,
    paint_file: &Path,
    log: &str,
) -> Result<Command, String> {
    let e = |x: std::io::Error| x.to_string();
    let log = std::fs::File::create(dir.join(log)).map_err(e)?;
    let mut cmd = Command::new(bin);
    cmd.env("DISPLAY", &display.name)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("GDK_BACKEND", "x11")
        .env_remove("WAYLAND_DISPLAY")
        .env("SUNDIAL_DATA_DIR", data)
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("XDG_CACHE_HOME", dir.join("xdg-cache"))
        .env("XDG_STATE_HOME", dir.join("xdg-state"))
        .env(PAINT_FILE_ENV, paint_file)
        // Sundial decides its drawing mode itself (src-tauri/src/webkit.rs): no one else's.
        .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
        .env_remove("GDK_GL")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(e)?)
        .stderr(log);
    Ok(cmd)
}

pub(crate) fn one_start(
    bin: &Path,
    env: &[(&str, &str)],
    dir: &Path,
    data: &Path,
    display: &Xvfb,
    sizes: &B7Sizes,
) -> Result<Sample, String> {
    let e = |x: std::io::Error| x.to_string();
    for sub in ["data", "xdg-data", "xdg-config", "xdg-cache", "xdg-state"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(e)?;
    }
    let paint_file = dir.join("paint");
    let bus = DbusSession::start()?;
    let mut cmd = app_command(bin, dir, data, display, &bus, &paint_file, "app.log")?;
    cmd.envs(env.iter().copied());
    let spawned_ns = epoch_ns();
    let spawned = Instant::now();
    let mut child = cmd.spawn().map_err(e)?;
    let pid = child.id();
    let result = (|| {
        let painted_ns = loop {
            if let Ok(text) = std::fs::read_to_string(&paint_file)
                && let Some(ns) = text
                    .lines()
                    .next()
                    .and_then(|l| l.split(' ').next())
                    .and_then(|v| v.parse::<u128>().ok())
            {
                break ns;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("exited before its first paint ({status})"));
            }
            if spawned.elapsed() > sizes.paint_timeout {
                return Err(format!(
                    "no first paint within {} s",
                    sizes.paint_timeout.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let paint_ms = (painted_ns.saturating_sub(spawned_ns)) as f64 / 1e6;
        if let Some(rest) = sizes.idle.checked_sub(spawned.elapsed()) {
            std::thread::sleep(rest);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited while idle ({status})"));
        }
        let (pss_kib, rss_kib, by_name) = tree_memory(pid)?;
        Ok(Sample {
            paint_ms,
            pss_kib,
            rss_kib,
            by_name,
        })
    })();
    stop_tree(&mut child);
    drop(bus);
    result.map_err(|x| with_app_output(dir, &x))
}

/// A failure with the last 20 lines the app wrote to `dir/app.log`.
pub(crate) fn with_app_output(dir: &Path, failure: &str) -> String {
    let log = std::fs::read_to_string(dir.join("app.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!("{failure}; its output:\n{}", tail.join("\n"))
}

/// Every process under `root` (and `root`), from the parent ids in /proc.
pub(crate) fn descendants(root: u32) -> Vec<u32> {
    let mut parent = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // The name is in parentheses and may hold spaces: the fields follow the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree
}

fn rollup_kib(text: &str, field: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// PSS and RSS (KiB) of the tree under `root`, and PSS by process name.
pub(crate) fn tree_memory(root: u32) -> Result<(u64, u64, BTreeMap<String, u64>), String> {
    let (mut pss, mut rss) = (0, 0);
    let mut by_name = BTreeMap::new();
    for pid in descendants(root) {
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .map_err(|x| format!("/proc/{pid}/smaps_rollup: {x}"))?;
        let name = if pid == root {
            APP_PROCESS.to_string()
        } else {
            // The program's file name (comm is cut at 15 characters).
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            let argv0 = String::from_utf8_lossy(argv0);
            argv0.rsplit('/').next().unwrap_or_default().to_string()
        };
        let p = rollup_kib(&rollup, "Pss:");
        pss += p;
        rss += rollup_kib(&rollup, "Rss:");
        *by_name.entry(name).or_insert(0) += p;
    }
    Ok((pss, rss, by_name))
}

fn kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Kills the app, then whatever of its tree outlives it (WebKit's processes leave on their own
/// when the app's sockets close; anything still there after 2 s is killed by its pid).
pub(crate) fn stop_tree(child: &mut Child) {
    let tree = descendants(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(2);
    let alive = |pid: &u32| Path::new(&format!("/proc/{pid}")).exists();
    while tree[1..].iter().any(alive) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in tree[1..].iter().filter(|p| alive(p)) {
        kill(*pid);
    }
}

/// A private X display for the whole scenario.
pub(crate) struct Xvfb {
    child: Child,
    pub(crate) name: String,
}

impl Xvfb {
    pub(crate) fn start() -> Result<Self, String> {
        // -displayfd: Xvfb picks a free display and writes its number once it is ready.
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|x| format!("Xvfb: {x}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("Xvfb: no stdout")?;
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|x| format!("Xvfb: {x}"))?;
        let number = line.trim();
        if number.is_empty() {
            let _ = child.kill();
            return Err("Xvfb did not start".into());
        }
        Ok(Self {
            name: format!(":{number}"),
            child,
        })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A D-Bus session bus of its own for each start (the tray and single-instance use it).
pub(crate) struct DbusSession {
    child: Child,
    pub(crate) address: String,
}

impl DbusSession {
    pub(crate) fn start() -> Result<Self, String> {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|x| format!("dbus-daemon: {x}"))?;
        let mut stdout = child.stdout.take().ok_or("dbus-daemon: no stdout")?;
        let mut address = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).map_err(|x| x.to_string())? == 1 && byte[0] != b'\n' {
            address.push(byte[0]);
        }
        let address = String::from_utf8_lossy(&address).trim().to_string();
        if address.is_empty() {
            let _ = child.kill();
            return Err("dbus-daemon did not start".into());
        }
        Ok(Self { child, address })
    }
}

impl Drop for DbusSession {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
