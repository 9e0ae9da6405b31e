//! "Open the file's folder": the system's file manager, with the file selected where it can.

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

/// Shows `path` in the file manager and returns at once (the file manager is not waited for).
pub fn reveal(path: &Path) -> io::Result<()> {
    let folder = path.parent().unwrap_or(path);
    let mut command = if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.arg("-R").arg(path);
        c
    } else if cfg!(windows) {
        let mut c = Command::new("explorer");
        c.arg(format!("/select,{}", path.display()));
        c
    } else {
        // freedesktop: xdg-open opens the folder in whatever file manager the desktop uses.
        let mut c = Command::new("xdg-open");
        c.arg(folder);
        c
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Reap it in the background so it does not stay a zombie.
    std::thread::spawn(move || child.wait());
    Ok(())
}
