//! The shell's own settings, in `desktop.json` next to the database. They are read before the
//! engine starts (the application log needs its retention first), so they are a small file
//! rather than rows in the engine's store.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sundial_engine::domain::ValidationErrors;
use ts_rs::TS;

use crate::shutdown::QuitBehaviour;

pub const FILE_NAME: &str = "desktop.json";
pub const MAX_APP_LOG_DAYS: u32 = 365;
pub const MAX_PARALLEL: u32 = 64;
pub const MAX_LOG_MIB: u32 = 65_536;
pub const MAX_CATCH_UP_STAGGER_SECS: u32 = 600;

/// The window's colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Light or dark as the system is.
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// What Quit does while runs are going.
    pub quit_behaviour: QuitBehaviour,
    /// How many daily application-log files are kept (1 to 365); older ones are deleted at
    /// start-up and at each rotation.
    pub app_log_days: u32,
    /// Desktop notifications for finished runs (each job's notify policy decides which).
    pub notifications: bool,
    /// Set once the "Sundial keeps running in the tray" notice has been shown.
    pub close_notice_shown: bool,
    /// How many runs may go at once (1 to 64); more wait as queued. Applies at once.
    pub max_parallel: u32,
    /// Per-run cap on a run's log, in MiB (1 to 65536); output past it is dropped behind a
    /// marker line. Applies to runs that start after the change.
    pub max_log_mib: u32,
    /// The window's colours: follow the system, or always light or dark.
    pub theme: Theme,
    /// After a sleep, the catch-up runs of several jobs start this many seconds apart (0 to
    /// 600; 0 starts them together). Applies at once.
    pub catch_up_stagger_secs: u32,
    /// A PEM file of CA certificates HTTP jobs trust besides the system's trust store (a
    /// corporate CA, a TLS-inspecting proxy's); each job may name one more. Applies to runs
    /// that start after the change.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_ca_bundle: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            quit_behaviour: QuitBehaviour::Wait,
            app_log_days: 14,
            notifications: true,
            close_notice_shown: false,
            max_parallel: std::thread::available_parallelism()
                .map_or(2, |n| n.get() as u32)
                .clamp(2, 8),
            max_log_mib: 256,
            theme: Theme::System,
            catch_up_stagger_secs: sundial_engine::DEFAULT_CATCH_UP_STAGGER.as_secs() as u32,
            extra_ca_bundle: None,
        }
    }
}

impl Settings {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE_NAME)
    }

    /// The saved settings; defaults when the file is missing or unreadable (a broken file must
    /// not keep the app from starting; it is logged and rewritten on the next save).
    pub fn load(data_dir: &Path) -> Self {
        match std::fs::read_to_string(Self::path(data_dir)) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "desktop settings unreadable; using defaults");
                Self::default()
            }),
            Err(_) => Self::default(),
        }
    }

    /// Writes atomically (temp file, then rename).
    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(data_dir)?;
        let path = Self::path(data_dir);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }

    /// The extra CA bundle, when one is set.
    pub fn extra_ca_bundle(&self) -> Option<PathBuf> {
        self.extra_ca_bundle
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    }

    /// The run-log cap in bytes.
    pub fn max_log_bytes(&self) -> u64 {
        u64::from(self.max_log_mib) * 1024 * 1024
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if !(1..=MAX_PARALLEL).contains(&self.max_parallel) {
            errors.push(
                "max_parallel",
                format!("allow between 1 and {MAX_PARALLEL} runs at once"),
            );
        }
        if !(1..=MAX_LOG_MIB).contains(&self.max_log_mib) {
            errors.push(
                "max_log_mib",
                format!("cap each run's log at between 1 and {MAX_LOG_MIB} MiB"),
            );
        }
        if self.catch_up_stagger_secs > MAX_CATCH_UP_STAGGER_SECS {
            errors.push(
                "catch_up_stagger_secs",
                format!(
                    "space catch-up runs between 0 and {MAX_CATCH_UP_STAGGER_SECS} seconds apart"
                ),
            );
        }
        if let Some(path) = self.extra_ca_bundle() {
            if !path.is_absolute() {
                errors.push(
                    "extra_ca_bundle",
                    format!(
                        "{:?} is not an absolute path: name the PEM file of CA certificates by its full path, or leave the field empty",
                        path.display().to_string()
                    ),
                );
            } else if !path.is_file() {
                errors.push(
                    "extra_ca_bundle",
                    format!(
                        "{} is not a file: name a PEM file of CA certificates, or leave the field empty",
                        path.display()
                    ),
                );
            }
        }
        if !(1..=MAX_APP_LOG_DAYS).contains(&self.app_log_days) {
            errors.push(
                "app_log_days",
                format!("keep between 1 and {MAX_APP_LOG_DAYS} days of application log"),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            quit_behaviour: QuitBehaviour::Cancel,
            app_log_days: 3,
            notifications: false,
            close_notice_shown: true,
            max_parallel: 3,
            max_log_mib: 10,
            theme: Theme::Dark,
            catch_up_stagger_secs: 30,
            extra_ca_bundle: Some("/etc/ssl/corp-ca.pem".into()),
        };
        settings.save(dir.path()).unwrap();
        assert_eq!(Settings::load(dir.path()), settings);
    }

    #[test]
    fn the_extra_ca_bundle_must_be_an_existing_file_named_by_its_full_path() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("corp-ca.pem");
        std::fs::write(&bundle, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let with = |path: &str| Settings {
            extra_ca_bundle: Some(path.to_string()),
            ..Settings::default()
        };
        assert!(with(bundle.to_str().unwrap()).validate().is_ok());
        assert!(with("  ").validate().is_ok(), "blank means none");
        let relative = with("certs/ca.pem").validate().unwrap_err();
        assert_eq!(relative.fields(), ["extra_ca_bundle"]);
        assert!(relative.0[0].message.contains("is not an absolute path"));
        let missing = dir.path().join("missing.pem");
        let missing = with(missing.to_str().unwrap()).validate().unwrap_err();
        assert!(missing.0[0].message.contains("is not a file"), "{missing}");
    }

    #[test]
    fn missing_or_broken_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()), Settings::default());
        std::fs::write(Settings::path(dir.path()), "{not json").unwrap();
        assert_eq!(Settings::load(dir.path()), Settings::default());
    }

    #[test]
    fn a_file_from_an_older_version_gets_defaults_for_new_fields() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            Settings::path(dir.path()),
            r#"{"quit_behaviour":"cancel","app_log_days":5,"notifications":true,"close_notice_shown":true}"#,
        )
        .unwrap();
        let loaded = Settings::load(dir.path());
        assert_eq!(loaded.quit_behaviour, QuitBehaviour::Cancel);
        assert_eq!(loaded.max_log_mib, 256);
        assert_eq!(loaded.theme, Theme::System);
        assert_eq!(loaded.catch_up_stagger_secs, 1);
    }

    #[test]
    fn a_stagger_past_ten_minutes_is_a_field_error() {
        let errors = Settings {
            catch_up_stagger_secs: MAX_CATCH_UP_STAGGER_SECS + 1,
            ..Settings::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(errors.0[0].field, "catch_up_stagger_secs");
        assert!(errors.0[0].message.contains("between 0 and 600 seconds"));
        let zero = Settings {
            catch_up_stagger_secs: 0,
            ..Settings::default()
        };
        assert!(zero.validate().is_ok(), "0 starts catch-ups together");
    }

    #[test]
    fn caps_out_of_range_are_field_errors() {
        let errors = Settings {
            max_parallel: 0,
            max_log_mib: MAX_LOG_MIB + 1,
            ..Settings::default()
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["max_parallel", "max_log_mib"]);
    }

    #[test]
    fn log_days_out_of_range_is_a_field_error() {
        for days in [0, MAX_APP_LOG_DAYS + 1] {
            let errors = Settings {
                app_log_days: days,
                ..Settings::default()
            }
            .validate()
            .unwrap_err();
            assert_eq!(errors.0[0].field, "app_log_days");
        }
        assert!(
            Settings {
                app_log_days: 1,
                ..Settings::default()
            }
            .validate()
            .is_ok()
        );
    }
}
