//! The window's lifecycle (decisions/0016): the web view exists only while the window is open.
//!
//! Closing the window destroys it (WebKit's web process exits with the page) and the app stays
//! in the tray; the tray's Open, a tray click and a second launch ([`wants_window`]) create it
//! again from its configuration in tauri.conf.json (`"create": false`), on the screen it showed
//! last: the page reports every screen it shows (`remember_screen`) and the new page gets the
//! last one in an initialization script (`window.__SUNDIAL_SCREEN__`). Nothing else needs the
//! page: the tray, notifications and the engine live in the shell.
//!
//! On Linux, WebKit keeps its network process for the web context's lifetime, and Tauri keeps
//! that context for the app's (tauri-apps/tauri#14626: a new context would leak a new network
//! process each time). With no page left the process serves nothing, so the shell ends it
//! ([`end_idle_network_process`]); WebKit starts a new one with the next page.

use std::sync::Mutex;

use tauri::{AppHandle, Manager, Runtime, WebviewWindow, WebviewWindowBuilder};

use crate::error::IpcError;

pub const MAIN: &str = "main";
/// Starts with the tray only (start at login passes it).
pub const TRAY_FLAG: &str = "--tray";
/// A second launch with it opens the window (as one without arguments does).
pub const SHOW_FLAG: &str = "--show";
/// The largest screen description kept.
const MAX_SCREEN_BYTES: usize = 4096;

/// Whether a launch with these arguments (program name first) wants the window.
pub fn wants_window<S: AsRef<str>>(argv: &[S]) -> bool {
    !argv.iter().skip(1).any(|a| a.as_ref() == TRAY_FLAG)
}

/// The screen the window showed last, as the page described it (JSON with a `screen` field).
#[derive(Default)]
pub struct LastScreen(Mutex<Option<String>>);

impl LastScreen {
    /// Keeps `screen` after checking its shape; the page reads it back when it is created.
    pub fn remember(&self, screen: &serde_json::Value) -> Result<(), IpcError> {
        let text = check_screen(screen)?;
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
        Ok(())
    }

    pub fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A screen is an object naming its `screen` (at most 64 characters), at most 4 KiB as JSON.
pub fn check_screen(screen: &serde_json::Value) -> Result<String, IpcError> {
    let name = screen
        .as_object()
        .and_then(|o| o.get("screen"))
        .and_then(|s| s.as_str())
        .ok_or_else(|| {
            IpcError::invalid_field("screen", "must be an object with a `screen` name")
        })?;
    if name.is_empty() || name.len() > 64 {
        return Err(IpcError::invalid_field(
            "screen",
            "the screen name must have 1 to 64 characters",
        ));
    }
    let text = screen.to_string();
    if text.len() > MAX_SCREEN_BYTES {
        return Err(IpcError::invalid_field(
            "screen",
            format!("must be at most {MAX_SCREEN_BYTES} bytes as JSON"),
        ));
    }
    Ok(text)
}

/// The initialization script giving a new page the last screen (`null`: the jobs list).
pub fn screen_script(last: Option<&str>) -> String {
    format!("window.__SUNDIAL_SCREEN__ = {};", last.unwrap_or("null"))
}

/// Shows the window, creating it when it was closed. What the tray's Open, a tray click and a
/// second launch run.
pub fn open_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
        return;
    }
    match create_main_window(app) {
        Ok(window) => {
            tracing::info!("the window was opened");
            let _ = window.set_focus();
        }
        Err(e) => tracing::error!(error = %e, "could not open the window"),
    }
}

fn create_main_window<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<WebviewWindow<R>> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    let last = app.try_state::<LastScreen>().and_then(|s| s.get());
    WebviewWindowBuilder::from_config(app, &config)?
        .initialization_script(screen_script(last.as_deref()))
        .build()
}

/// After the window is gone: on Linux, ends WebKit's network process once no page is left.
pub fn window_destroyed<R: Runtime>(app: &AppHandle<R>) {
    tracing::info!("the window was closed; the web view is gone");
    if !app.webview_windows().is_empty() {
        return;
    }
    #[cfg(target_os = "linux")]
    end_idle_network_process();
}

/// Ends this process's `WebKitNetworkProcess` children (there is no page left for them).
#[cfg(target_os = "linux")]
pub fn end_idle_network_process() {
    for pid in webkit_children(std::process::id(), "WebKitNetworkProcess") {
        let ended = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        match ended {
            Ok(()) => tracing::info!(pid, "ended WebKit's idle network process"),
            Err(e) => tracing::warn!(pid, error = %e, "could not end WebKit's network process"),
        }
    }
}

/// The children of `parent` whose program file is named `program` (read from /proc).
#[cfg(target_os = "linux")]
pub fn webkit_children(parent: u32, program: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent_of(pid) == Some(parent))
        .filter(|&pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .is_some_and(|n| n == program)
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may hold spaces: the fields after the last ')' are fixed.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_tray_launches_keep_the_window_closed() {
        assert!(wants_window(&["sundial"]));
        assert!(wants_window(&["sundial", SHOW_FLAG]));
        assert!(!wants_window(&["sundial", TRAY_FLAG]));
        // The program's own name is not an argument.
        assert!(wants_window(&["--tray"]));
    }

    #[test]
    fn the_last_screen_is_kept_and_given_to_the_next_page() {
        let last = LastScreen::default();
        assert_eq!(
            screen_script(last.get().as_deref()),
            "window.__SUNDIAL_SCREEN__ = null;"
        );
        let screen = json!({"screen": "job", "jobId": "01J", "tab": "history"});
        last.remember(&screen).unwrap();
        let script = screen_script(last.get().as_deref());
        let literal = script
            .strip_prefix("window.__SUNDIAL_SCREEN__ = ")
            .and_then(|s| s.strip_suffix(';'))
            .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(literal).unwrap(),
            screen
        );
    }

    #[test]
    fn a_malformed_screen_is_refused_and_the_last_one_kept() {
        let last = LastScreen::default();
        last.remember(&json!({"screen": "settings"})).unwrap();
        for bad in [
            json!("jobs"),
            json!({"tab": "x"}),
            json!({"screen": ""}),
            json!({"screen": 3}),
            json!({"screen": "log", "pad": "x".repeat(5000)}),
        ] {
            let e = last.remember(&bad).unwrap_err();
            assert_eq!(e.fields.as_ref().unwrap()[0].field, "screen", "{bad}");
        }
        assert_eq!(last.get().as_deref(), Some(r#"{"screen":"settings"}"#));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn children_are_found_by_program_name() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let found = webkit_children(std::process::id(), "sleep");
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(found, vec![child.id()]);
        assert!(webkit_children(std::process::id(), "WebKitNetworkProcess").is_empty());
    }
}
