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

impl AppPaths {
    /// Creates the data folder if needed, and makes it the user's alone (0700 on Unix): it
    /// holds the database, run logs that may quote anything a job printed, and the app log.
    pub fn make_private(&self) -> std::io::Result<()> {
        create_private_dir(&self.data_dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&self.data_dir)?.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        Ok(())
    }
}

/// `create_dir_all`, with every folder it creates 0700 on Unix (folders already there are
/// left as they are).
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Options that create a file readable and writable by its owner only (0600 on Unix).
pub fn private_file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Writes a file only its owner can read (0600 on Unix), also when it was there before.
pub fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = private_file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes.as_ref())?;
    file.flush()
}
