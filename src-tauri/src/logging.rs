//! The application log: tracing → tracing-appender, one file per day in `AppPaths::app_logs()`
//! (`sundial.YYYY-MM-DD.log`), N days kept. The writer thread never drops a line
//! (`lossy(false)`: a full buffer makes the caller wait instead), and its guard lives in managed
//! state until `RunEvent::Exit`, where dropping it flushes every line still queued.
//! Job output never goes through here: it has its own run logs.

use std::path::Path;
use std::sync::Mutex;

use chrono::NaiveDate;
use sundial_engine::secrets::{KnownSecrets, RedactingWriter};
use tracing::Subscriber;
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

pub use sundial_engine::logs::applog::{FILE_PREFIX, FILE_SUFFIX, file_day};

/// Holds the writer's guard; [`AppLog::flush`] at exit.
pub struct AppLog {
    guard: Mutex<Option<WorkerGuard>>,
}

impl AppLog {
    /// Flushes every queued line to disk and stops the writer thread. Later lines are lost,
    /// so this is called last, on `RunEvent::Exit`.
    pub fn flush(&self) {
        let guard = self.guard.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(guard);
    }
}

/// Deletes the daily files older than `keep_days` days (today counts as one). Only files named
/// like ours are touched. Returns how many were deleted.
pub fn prune(dir: &Path, keep_days: u32, today: NaiveDate) -> usize {
    let oldest_kept = today - chrono::Days::new(u64::from(keep_days.max(1)) - 1);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(file_day)
                .is_some_and(|day| day < oldest_kept)
        })
        .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
        .count()
}

/// The non-blocking, lossless daily-file writer and its guard. Prunes old days first.
pub fn writer(dir: &Path, keep_days: u32) -> std::io::Result<(NonBlocking, WorkerGuard)> {
    std::fs::create_dir_all(dir)?;
    prune(dir, keep_days, chrono::Local::now().date_naive());
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix(FILE_SUFFIX)
        .max_log_files(keep_days.max(1) as usize)
        .build(dir)
        .map_err(std::io::Error::other)?;
    Ok(NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("sundial-app-log")
        .finish(appender))
}

/// The subscriber writing to `writer` (level from `RUST_LOG`, default info), every secret
/// in `known` masked.
pub fn subscriber(writer: NonBlocking, known: KnownSecrets) -> impl Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_writer(move || RedactingWriter::new(writer.clone(), known.clone()))
        .with_ansi(false)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .finish()
}

/// Installs the application log as the global subscriber.
pub fn init(dir: &Path, keep_days: u32, known: KnownSecrets) -> std::io::Result<AppLog> {
    let (writer, guard) = writer(dir, keep_days)?;
    // Fails only when a subscriber is already set (tests): keep that one.
    let _ = tracing::subscriber::set_global_default(subscriber(writer, known));
    Ok(AppLog {
        guard: Mutex::new(Some(guard)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(dir: &Path) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        text
    }

    #[test]
    fn lines_written_just_before_quit_are_in_the_file_after_quit() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, guard) = writer(dir.path(), 7).unwrap();
        let log = AppLog {
            guard: Mutex::new(Some(guard)),
        };
        // Many lines at once, far more than the writer's buffer holds: lossy(false) must make
        // the caller wait rather than drop any.
        tracing::subscriber::with_default(subscriber(writer, KnownSecrets::new()), || {
            for i in 0..200_000 {
                tracing::info!(line = i, "written before quit");
            }
            tracing::info!("the very last line");
        });
        log.flush(); // what RunEvent::Exit does
        let text = read_all(dir.path());
        assert_eq!(text.matches("written before quit").count(), 200_000);
        assert!(text.contains("line=199999"));
        assert!(text.trim_end().ends_with("the very last line"));
    }

    #[test]
    fn start_up_prunes_days_older_than_kept() {
        let dir = tempfile::tempdir().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        for day in [
            "2026-03-01",
            "2026-03-07",
            "2026-03-08",
            "2026-03-09",
            "2026-03-10",
        ] {
            std::fs::write(dir.path().join(format!("sundial.{day}.log")), "x\n").unwrap();
        }
        std::fs::write(dir.path().join("notes.2020-01-01.log"), "not ours").unwrap();
        std::fs::write(dir.path().join("sundial.txt"), "not ours").unwrap();
        assert_eq!(prune(dir.path(), 3, today), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "notes.2020-01-01.log",
                "sundial.2026-03-08.log",
                "sundial.2026-03-09.log",
                "sundial.2026-03-10.log",
                "sundial.txt"
            ]
        );
    }
}
