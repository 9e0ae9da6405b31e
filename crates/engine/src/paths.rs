//! Where Sundial keeps its files. The desktop app, `sundialctl` and the daemon share them, so
//! they all see the same jobs and runs.

use std::path::{Path, PathBuf};

/// Overrides the data folder (tests, portable installs, a second profile).
pub const DATA_DIR_ENV: &str = "SUNDIAL_DATA_DIR";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    pub data_dir: PathBuf,
}

impl AppPaths {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
        }
    }

    /// `$SUNDIAL_DATA_DIR`, else the OS's per-user data folder (`~/.local/share/sundial` on
    /// Linux, `~/Library/Application Support/sundial` on macOS, `%APPDATA%\sundial` on
    /// Windows), else `./sundial-data`.
    pub fn for_user() -> Self {
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
            return Self::new(dir);
        }
        Self::new(
            dirs::data_dir().map_or_else(|| PathBuf::from("sundial-data"), |d| d.join("sundial")),
        )
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("sundial.db")
    }

    /// One log file (and its index) per run.
    pub fn run_logs(&self) -> PathBuf {
        self.data_dir.join("runs")
    }

    /// The application log (daily files).
    pub fn app_logs(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}
