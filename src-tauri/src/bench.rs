//! Benchmark B7's paint hook (crates/bench): inert unless `SUNDIAL_BENCH_PAINT_FILE` is set.
//!
//! Without the variable, [`paint_hook`] returns `None` and nothing is registered. With it, a
//! small plugin gives the page `window.__SUNDIAL_BENCH_PAINT__` (an initialization script), which
//! ui/src/bench.ts calls once the jobs list has painted with the engine's first `list_jobs`
//! answer. The function navigates to `https://sundial-bench.invalid/painted`; the plugin catches
//! that navigation, cancels it, and appends the wall-clock time (ns since the Unix epoch) and the
//! page's own clock (ms) to the file. A cancelled navigation rather than a command, so that the
//! command list and the capability are unchanged. The Tauri hello-world the benchmark compares
//! against (crates/bench/peers/tauri-hello) carries a copy of this plugin, so both apps report
//! their first paint the same way.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use tauri::Runtime;
use tauri::plugin::TauriPlugin;

pub const PAINT_FILE_ENV: &str = "SUNDIAL_BENCH_PAINT_FILE";
const PAINT_HOST: &str = "sundial-bench.invalid";

pub fn paint_hook<R: Runtime>() -> Option<TauriPlugin<R>> {
    let file = std::path::PathBuf::from(std::env::var_os(PAINT_FILE_ENV)?);
    let script = format!(
        "window.__SUNDIAL_BENCH_PAINT__ = function (t) {{ \
         window.location.href = 'https://{PAINT_HOST}/painted?t=' + t; }};"
    );
    let plugin = tauri::plugin::Builder::new("sundial-bench-paint")
        .js_init_script(script)
        .on_navigation(move |_webview, url| {
            if url.host_str() != Some(PAINT_HOST) {
                return true;
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let page = url
                .query_pairs()
                .find(|(k, _)| k == "t")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&file)
                .and_then(|mut f| writeln!(f, "{now} {page}"));
            if let Err(e) = written {
                eprintln!("sundial: cannot write {}: {e}", file.display());
            }
            false
        })
        .build();
    Some(plugin)
}
