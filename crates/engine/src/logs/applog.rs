//! The application log's daily files (`sundial.YYYY-MM-DD.log` in `AppPaths::app_logs()`), as
//! the log viewer and `sundialctl` find them. The desktop shell writes them (tracing-appender);
//! they are plain text, read through [`super::TextLog`].

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use super::LogError;

pub const FILE_PREFIX: &str = "sundial";
pub const FILE_SUFFIX: &str = "log";

/// One day's application log file.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppLogFile {
    /// The day, as YYYY-MM-DD.
    pub day: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
}

/// The day in a log file name, when it is one of ours.
pub fn file_day(file_name: &str) -> Option<NaiveDate> {
    let middle = file_name
        .strip_prefix(FILE_PREFIX)?
        .strip_prefix('.')?
        .strip_suffix(FILE_SUFFIX)?
        .strip_suffix('.')?;
    NaiveDate::parse_from_str(middle, "%Y-%m-%d").ok()
}

/// The file of one day's application log in `dir`. The day must be a date (no path tricks)
/// and the file must exist.
pub fn app_log_path(dir: &Path, day: &str) -> Result<PathBuf, LogError> {
    let name = format!("{FILE_PREFIX}.{day}.{FILE_SUFFIX}");
    if file_day(&name).is_none() {
        return Err(LogError::NotADay(day.to_string()));
    }
    let path = dir.join(name);
    if !path.is_file() {
        return Err(LogError::NoAppLog(day.to_string()));
    }
    Ok(path)
}

/// The daily files in `dir`, newest first (none when the folder does not exist yet).
pub fn list_app_logs(dir: &Path) -> std::io::Result<Vec<AppLogFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<AppLogFile> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let day = file_day(name.to_str()?)?;
            Some(AppLogFile {
                day: day.format("%Y-%m-%d").to_string(),
                bytes: entry.metadata().ok()?.len(),
            })
        })
        .collect();
    files.sort_by(|a, b| b.day.cmp(&a.day));
    Ok(files)
}

/// Today's application log is still being written (the daily files are named by UTC day).
pub fn is_todays(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(file_day)
        .is_some_and(|day| day == chrono::Utc::now().date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_day_reads_only_our_names() {
        assert_eq!(
            file_day("sundial.2026-11-21.log"),
            NaiveDate::from_ymd_opt(2026, 11, 21)
        );
        assert_eq!(file_day("sundial.2026-11-21.txt"), None);
        assert_eq!(file_day("other.2026-11-21.log"), None);
        assert_eq!(file_day("sundial.yesterday.log"), None);
    }

    #[test]
    fn a_day_is_a_date_and_its_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            app_log_path(dir.path(), "../../etc/passwd"),
            Err(LogError::NotADay(_))
        ));
        assert!(matches!(
            app_log_path(dir.path(), "2026-11-20"),
            Err(LogError::NoAppLog(_))
        ));
        std::fs::write(dir.path().join("sundial.2026-11-20.log"), "x\n").unwrap();
        std::fs::write(dir.path().join("sundial.2026-11-21.log"), "xy\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "no").unwrap();
        assert!(app_log_path(dir.path(), "2026-11-20").is_ok());
        let days: Vec<String> = list_app_logs(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.day)
            .collect();
        assert_eq!(days, ["2026-11-21", "2026-11-20"]);
        assert!(
            list_app_logs(&dir.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }
}
