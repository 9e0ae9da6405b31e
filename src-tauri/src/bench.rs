//! The benchmarks' hooks into the page (crates/bench): inert unless `SUNDIAL_BENCH_PAINT_FILE`
//! (B7, B8) or `SUNDIAL_BENCH_VIEWS_FILE` (B9) is set.
//!
//! Without either variable, [`bench_hook`] returns `None` and nothing is registered. With one, a
//! small plugin gives the page a function (an initialization script):
//! - `window.__SUNDIAL_BENCH_PAINT__(t)`, which ui/src/bench.ts calls once the jobs list has
//!   painted with the engine's first `list_jobs` answer;
//! - `window.__SUNDIAL_BENCH_VIEWS__(json)` (and `window.__SUNDIAL_BENCH_VIEWS_REPEAT__`), which
//!   the views driver (ui/src/benchViews.tsx) calls once with its measurements.
//!
//! Each function navigates to `https://sundial-bench.invalid/…`; the plugin catches that
//! navigation, cancels it, and appends a line to the file: for a paint, the wall-clock time (ns
//! since the Unix epoch) and the page's own clock (ms); for the views, the page's report. A
//! cancelled navigation rather than a command, so that the command list and the capability are
//! unchanged. The Tauri hello-world B7 compares against (crates/bench/peers/tauri-hello) carries
//! a copy of the paint part, so both apps report their first paint the same way.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tauri::Runtime;
use tauri::plugin::TauriPlugin;

pub const PAINT_FILE_ENV: &str = "SUNDIAL_BENCH_PAINT_FILE";
pub const VIEWS_FILE_ENV: &str = "SUNDIAL_BENCH_VIEWS_FILE";
pub const VIEWS_REPEAT_ENV: &str = "SUNDIAL_BENCH_VIEWS_REPEAT";
const HOST: &str = "sundial-bench.invalid";

pub fn bench_hook<R: Runtime>() -> Option<TauriPlugin<R>> {
    let paint_file = std::env::var_os(PAINT_FILE_ENV).map(PathBuf::from);
    let views_file = std::env::var_os(VIEWS_FILE_ENV).map(PathBuf::from);
    if paint_file.is_none() && views_file.is_none() {
        return None;
    }
    let mut script = String::new();
    if paint_file.is_some() {
        script.push_str(&format!(
            "window.__SUNDIAL_BENCH_PAINT__ = function (t) {{ \
             window.location.href = 'https://{HOST}/painted?t=' + t; }};"
        ));
    }
    if views_file.is_some() {
        let repeat: u32 = std::env::var(VIEWS_REPEAT_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5);
        script.push_str(&format!(
            "window.__SUNDIAL_BENCH_VIEWS_REPEAT__ = {repeat}; \
             window.__SUNDIAL_BENCH_VIEWS__ = function (r) {{ \
             window.location.href = 'https://{HOST}/views?r=' + encodeURIComponent(r); }};"
        ));
    }
    let plugin = tauri::plugin::Builder::new("sundial-bench")
        .js_init_script(script)
        .on_navigation(move |_webview, url| {
            if url.host_str() != Some(HOST) {
                return true;
            }
            let query = |key: &str| {
                url.query_pairs()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            match (url.path(), &paint_file, &views_file) {
                ("/painted", Some(file), _) => {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos());
                    append(file, &format!("{now} {}", query("t")));
                }
                ("/views", _, Some(file)) => append(file, &query("r")),
                _ => {}
            }
            false
        })
        .build();
    Some(plugin)
}

fn append(file: &Path, line: &str) {
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        eprintln!("sundial: cannot write {}: {e}", file.display());
    }
}
