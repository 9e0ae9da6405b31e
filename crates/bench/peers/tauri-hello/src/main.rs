//! A Tauri 2 hello-world: one window with a static page. Benchmark B7's peer for Sundial's cold
//! start and memory. `paint_hook` is a copy of the paint part of sundial-desktop's
//! src-tauri/src/bench.rs, so both apps report their first paint the same way (and neither does
//! unless the variable is set).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use tauri::Runtime;
use tauri::plugin::TauriPlugin;

const PAINT_FILE_ENV: &str = "SUNDIAL_BENCH_PAINT_FILE";
const PAINT_HOST: &str = "sundial-bench.invalid";

fn paint_hook<R: Runtime>() -> Option<TauriPlugin<R>> {
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
                eprintln!("tauri-hello: cannot write {}: {e}", file.display());
            }
            false
        })
        .build();
    Some(plugin)
}

fn main() {
    let builder = tauri::Builder::default();
    let builder = match paint_hook() {
        Some(hook) => builder.plugin(hook),
        None => builder,
    };
    builder
        .run(tauri::generate_context!())
        .expect("error while running the hello-world");
}
