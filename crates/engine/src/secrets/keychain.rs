//! The OS keychain behind a small trait, so the engine's tests choose theirs: the real one
//! (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows, through the
//! `keyring` crate), or an in-memory one.
//!
//! Every call blocks (a D-Bus round trip, perhaps a prompt): callers run them on blocking
//! threads with a time limit (see `vault.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

/// What went wrong talking to a keychain, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeychainError(pub String);

pub trait Keychain: Send + Sync + 'static {
    /// What it is, for messages: "the Secret Service".
    fn name(&self) -> String;
    fn get(&self, account: &str) -> Result<Option<String>, KeychainError>;
    fn set(&self, account: &str, value: &str) -> Result<(), KeychainError>;
    /// Removing an entry that is not there is not an error.
    fn delete(&self, account: &str) -> Result<(), KeychainError>;

    /// Whether secrets can be kept there now: writes, reads back and removes a probe entry
    /// (a keychain that answers but is locked, or has no collection to write to, is no place
    /// for secrets).
    fn probe(&self) -> Result<(), KeychainError> {
        const PROBE: &str = "sundial-probe";
        let value = ulid::Ulid::new().to_string();
        self.set(PROBE, &value)?;
        let read = self.get(PROBE)?;
        self.delete(PROBE)?;
        if read.as_deref() == Some(value.as_str()) {
            Ok(())
        } else {
            Err(KeychainError(
                "a value written to it could not be read back".into(),
            ))
        }
    }
}

/// The platform keychain, through `keyring`. Entries are named by `service` and account.
pub struct OsKeychain {
    service: String,
}

impl OsKeychain {
    /// Sundial's entries: service "Sundial".
    pub fn new() -> Self {
        Self::with_service("Sundial")
    }

    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, account).map_err(describe)
    }
}

impl Default for OsKeychain {
    fn default() -> Self {
        Self::new()
    }
}

impl Keychain for OsKeychain {
    fn name(&self) -> String {
        if cfg!(target_os = "macos") {
            "the macOS Keychain".into()
        } else if cfg!(windows) {
            "the Windows Credential Manager".into()
        } else {
            "the Secret Service (GNOME Keyring, KWallet)".into()
        }
    }

    fn get(&self, account: &str) -> Result<Option<String>, KeychainError> {
        match self.entry(account)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(describe(e)),
        }
    }

    fn set(&self, account: &str, value: &str) -> Result<(), KeychainError> {
        self.entry(account)?.set_password(value).map_err(describe)
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(describe(e)),
        }
    }
}

fn describe(e: keyring::Error) -> KeychainError {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = s.source();
    }
    KeychainError(text)
}

/// A keychain in memory, for tests and for a keychain that must not be the user's.
#[derive(Default)]
pub struct MemoryKeychain {
    entries: Mutex<HashMap<String, String>>,
    /// When set, every call fails with this (a keychain that went away).
    broken: Mutex<Option<String>>,
}

impl MemoryKeychain {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry (account → value).
    pub fn entries(&self) -> HashMap<String, String> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn break_with(&self, reason: Option<&str>) {
        *self.broken.lock().unwrap_or_else(|e| e.into_inner()) = reason.map(str::to_string);
    }

    fn check(&self) -> Result<(), KeychainError> {
        match &*self.broken.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(reason) => Err(KeychainError(reason.clone())),
            None => Ok(()),
        }
    }
}

impl Keychain for MemoryKeychain {
    fn name(&self) -> String {
        "the test keychain".into()
    }
    fn get(&self, account: &str) -> Result<Option<String>, KeychainError> {
        self.check()?;
        Ok(self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(account)
            .cloned())
    }
    fn set(&self, account: &str, value: &str) -> Result<(), KeychainError> {
        self.check()?;
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(account.to_string(), value.to_string());
        Ok(())
    }
    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.check()?;
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(account);
        Ok(())
    }
}
