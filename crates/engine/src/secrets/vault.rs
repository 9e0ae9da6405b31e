//! Where secret values rest: the OS keychain when one is reachable, else the database (said
//! plainly: [`SecretStoreStatus`]). The store passes every job through the vault: [`Vault::seal`]
//! before a job is written (values go to the keychain, the row keeps a reference) and
//! [`Vault::open`] after one is read (references become values again). Keychain calls run on
//! blocking threads, with a time limit, and are cached: a job read again costs no call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::keychain::{Keychain, KeychainError, OsKeychain};
use super::known::KnownSecrets;
use crate::domain::{Job, JobId, secrets};

/// A secret value kept in the keychain is stored in the database as this prefix and its
/// keychain account, `<job id>/<env|header>/<name>#<nonce>`. Each value written gets an entry
/// of its own (a new nonce): a save that fails after the keychain write leaves the stored
/// row's entry untouched (the new entry is removed), and another process's cache, keyed by
/// reference, never serves an old value.
pub const KEYCHAIN_REF_PREFIX: &str = "sundial-keychain:";

/// Longest wait for one keychain call (a keychain that hangs, e.g. on a prompt nobody sees).
const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Where this process keeps secrets: the choice given to the engine.
#[derive(Clone, Default)]
pub enum SecretStorage {
    /// In the database, as before Sundial used a keychain. References to keychain entries
    /// that are found are not followed (the engine's tests; `SUNDIAL_SECRETS=database`).
    #[default]
    Database,
    /// In this keychain, if it works now; else in the database, said plainly.
    Keychain(Arc<dyn Keychain>),
    /// In the database, moving any secret found in this keychain back into it.
    DatabaseFrom(Arc<dyn Keychain>),
}

impl std::fmt::Debug for SecretStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretStorage::Database => f.write_str("Database"),
            SecretStorage::Keychain(k) => write!(f, "Keychain({})", k.name()),
            SecretStorage::DatabaseFrom(k) => write!(f, "DatabaseFrom({})", k.name()),
        }
    }
}

impl SecretStorage {
    /// The OS keychain (falling back to the database where it is not reachable).
    pub fn os() -> Self {
        SecretStorage::Keychain(Arc::new(OsKeychain::new()))
    }

    /// From `SUNDIAL_SECRETS`: `keychain` (the default), `database` (the keychain is not
    /// used; references found are left as they are), `move-to-database` (secrets in the
    /// keychain are moved back into the database).
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("SUNDIAL_SECRETS").ok().as_deref() {
            None | Some("" | "keychain" | "auto") => Ok(Self::os()),
            Some("database") => Ok(SecretStorage::Database),
            Some("move-to-database") => {
                Ok(SecretStorage::DatabaseFrom(Arc::new(OsKeychain::new())))
            }
            Some(other) => Err(format!(
                "SUNDIAL_SECRETS={other:?} is not understood: use keychain, database or move-to-database"
            )),
        }
    }
}

/// Where secrets are kept, as the Settings screen shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretStoreStatus {
    /// `keychain` or `database`.
    pub location: SecretLocation,
    /// One plain sentence or two.
    pub message: String,
    /// Secrets kept in a keychain this process cannot read (runs that need them fail).
    pub unreadable: u32,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretLocation {
    Keychain,
    Database,
}

/// What [`Vault::relocate`] moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub to_keychain: u32,
    pub to_database: u32,
    /// References to a keychain this process cannot read, left as they are.
    pub unreadable: u32,
}

pub struct Vault {
    /// Secrets are written here (None: in the database).
    keychain: Option<Arc<dyn Keychain>>,
    /// References found are read from here.
    reader: Option<Arc<dyn Keychain>>,
    /// Reference → value, for every reference read or written by this process.
    cache: Mutex<HashMap<String, String>>,
    known: KnownSecrets,
    status: Mutex<SecretStoreStatus>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Secrets in the database, references left unread.
    pub fn database(known: KnownSecrets) -> Self {
        Self::build(
            None,
            None,
            known,
            SecretStoreStatus {
                location: SecretLocation::Database,
                message: "Secrets are kept in Sundial's database (this process does not use the OS keychain).".into(),
                unreadable: 0,
            },
        )
    }

    fn build(
        keychain: Option<Arc<dyn Keychain>>,
        reader: Option<Arc<dyn Keychain>>,
        known: KnownSecrets,
        status: SecretStoreStatus,
    ) -> Self {
        Self {
            keychain,
            reader,
            cache: Mutex::default(),
            known,
            status: Mutex::new(status),
        }
    }

    /// The vault for a choice: a keychain is probed first (on a blocking thread), and a
    /// keychain that does not work now means the database, with the reason in the status.
    pub async fn choose(storage: SecretStorage, known: KnownSecrets, database: &str) -> Self {
        match storage {
            SecretStorage::Database => Self::database(known),
            SecretStorage::DatabaseFrom(keychain) => {
                let reader = match blocking(&keychain, |k| k.probe()).await {
                    Ok(()) => Some(keychain.clone()),
                    Err(_) => None,
                };
                Self::build(
                    None,
                    reader,
                    known,
                    SecretStoreStatus {
                        location: SecretLocation::Database,
                        message: format!(
                            "Secrets are kept in Sundial's database ({database}), as chosen; any found in {} are moved back into it.",
                            keychain.name()
                        ),
                        unreadable: 0,
                    },
                )
            }
            SecretStorage::Keychain(keychain) => match blocking(&keychain, |k| k.probe()).await {
                Ok(()) => Self::build(
                    Some(keychain.clone()),
                    Some(keychain.clone()),
                    known,
                    SecretStoreStatus {
                        location: SecretLocation::Keychain,
                        message: format!(
                            "Secrets are kept in {}; the database holds only references to them.",
                            keychain.name()
                        ),
                        unreadable: 0,
                    },
                ),
                Err(e) => Self::build(
                    None,
                    None,
                    known,
                    SecretStoreStatus {
                        location: SecretLocation::Database,
                        message: format!(
                            "No OS keychain is reachable ({} said: {e}), so secrets are kept in Sundial's database ({database}), readable by anyone who can read that file. They move into the keychain by themselves when Sundial next starts with one reachable.",
                            keychain.name()
                        ),
                        unreadable: 0,
                    },
                ),
            },
        }
    }

    pub fn status(&self) -> SecretStoreStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn known(&self) -> &KnownSecrets {
        &self.known
    }

    /// Whether values are written to a keychain.
    pub fn uses_keychain(&self) -> bool {
        self.keychain.is_some()
    }

    /// The job as it is to be stored: with a keychain, each secret value is written there and
    /// replaced by its reference. A reference this process could not read stays as it is.
    pub async fn seal(&self, job: &Job) -> Result<Job, KeychainError> {
        self.known.set_job(job);
        let mut sealed = job.clone();
        let Some(keychain) = &self.keychain else {
            return Ok(sealed);
        };
        let mut writes = Vec::new();
        let (place, list) = secrets::vars_mut(&mut sealed.spec.kind);
        for var in list.iter_mut().filter(|v| v.secret) {
            if is_reference(&var.value) {
                continue;
            }
            let account = account(job.id, place, &var.name);
            let reference = match self.cached_reference(&account, &var.value) {
                Some(reference) => reference,
                None => {
                    let reference = format!("{KEYCHAIN_REF_PREFIX}{account}#{}", ulid::Ulid::new());
                    writes.push((
                        account_of(&reference).to_string(),
                        var.value.clone(),
                        reference.clone(),
                    ));
                    reference
                }
            };
            var.value = reference;
        }
        if !writes.is_empty() {
            let pairs: Vec<(String, String)> = writes
                .iter()
                .map(|(a, v, _)| (a.clone(), v.clone()))
                .collect();
            blocking(keychain, move |k| {
                pairs
                    .iter()
                    .try_for_each(|(account, value)| k.set(account, value))
            })
            .await
            .map_err(|e| {
                KeychainError(format!(
                    "cannot keep the job's secrets in {}: {e}",
                    keychain.name()
                ))
            })?;
            let mut cache = self.lock_cache();
            for (_, value, reference) in writes {
                cache.insert(reference, value);
            }
        }
        Ok(sealed)
    }

    /// The job as stored, made whole: references become their values. One that cannot be
    /// read is left as it is (the runner refuses to run with it, saying why).
    pub async fn open(&self, job: &mut Job) {
        let (_, list) = secrets::vars_mut(&mut job.spec.kind);
        let mut missing = Vec::new();
        {
            let cache = self.lock_cache();
            for var in list
                .iter_mut()
                .filter(|v| v.secret && is_reference(&v.value))
            {
                match cache.get(&var.value) {
                    Some(value) => var.value = value.clone(),
                    None => missing.push(var.value.clone()),
                }
            }
        }
        if !missing.is_empty()
            && let Some(reader) = &self.reader
        {
            let wanted = missing.clone();
            let read = blocking(reader, move |k| {
                Ok(wanted
                    .iter()
                    .map(|r| k.get(account_of(r)).ok().flatten())
                    .collect::<Vec<_>>())
            })
            .await;
            match read {
                Ok(values) => {
                    let mut cache = self.lock_cache();
                    for (reference, value) in missing.iter().zip(values) {
                        if let Some(value) = value {
                            cache.insert(reference.clone(), value);
                        }
                    }
                    for var in list
                        .iter_mut()
                        .filter(|v| v.secret && is_reference(&v.value))
                    {
                        if let Some(value) = cache.get(&var.value) {
                            var.value = value.clone();
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %e, "could not read a job's secrets from the OS keychain")
                }
            }
        }
        self.known.set_job(job);
    }

    /// Removes the keychain entries of references no longer in use (a secret removed or
    /// renamed, a job deleted). Failures are only warned about.
    pub async fn forget(&self, references: Vec<String>) {
        if references.is_empty() {
            return;
        }
        let Some(keychain) = self.keychain.as_ref().or(self.reader.as_ref()) else {
            return;
        };
        {
            let mut cache = self.lock_cache();
            for r in &references {
                cache.remove(r);
            }
        }
        let accounts: Vec<String> = references
            .iter()
            .map(|r| account_of(r).to_string())
            .collect();
        if let Err(e) = blocking(keychain, move |k| {
            accounts.iter().try_for_each(|a| k.delete(a))
        })
        .await
        {
            tracing::warn!(error = %e, "could not remove secrets no longer used from the OS keychain");
        }
    }

    /// The references in `sealed` that `original` (the job before [`Vault::seal`]) did not
    /// have: the entries a failed save must remove again.
    pub fn new_references(original: &Job, sealed: &Job) -> Vec<String> {
        let had = references_of(original);
        references_of(sealed)
            .into_iter()
            .filter(|r| !had.contains(r))
            .map(str::to_string)
            .collect()
    }

    /// For a job as stored now (`stored`, references in it) and as it is to be stored
    /// (`sealed`): the references only `stored` has.
    pub fn dropped_references(stored: &Job, sealed: Option<&Job>) -> Vec<String> {
        let keep: Vec<&str> = sealed.map_or_else(Vec::new, references_of);
        references_of(stored)
            .into_iter()
            .filter(|r| !keep.contains(r))
            .map(str::to_string)
            .collect()
    }

    /// How a job as stored should be rewritten to be where this vault keeps secrets: `Some`
    /// when it moves (to the keychain, or back into the database), with the count of values.
    /// `stored` has its references; `opened` is the same job through [`Vault::open`].
    pub async fn relocation(
        &self,
        stored: &Job,
        opened: &Job,
        moved: &mut Moved,
    ) -> Result<Option<Job>, KeychainError> {
        let (_, stored_vars) = secrets::vars(&stored.spec.kind);
        let (_, opened_vars) = secrets::vars(&opened.spec.kind);
        let plain = stored_vars
            .iter()
            .filter(|v| v.secret && !is_reference(&v.value))
            .count() as u32;
        let references = stored_vars
            .iter()
            .filter(|v| v.secret && is_reference(&v.value))
            .count() as u32;
        let unreadable = opened_vars
            .iter()
            .filter(|v| v.secret && is_reference(&v.value))
            .count() as u32;
        moved.unreadable += unreadable;
        if self.keychain.is_some() {
            if plain == 0 {
                return Ok(None);
            }
            moved.to_keychain += plain;
            return self.seal(opened).await.map(Some);
        }
        let readable = references - unreadable;
        if readable == 0 {
            return Ok(None);
        }
        moved.to_database += readable;
        Ok(Some(opened.clone()))
    }

    /// Records the outcome of moving secrets at start, for the status.
    pub fn note_unreadable(&self, count: u32) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.unreadable = count;
        if count > 0 && !status.message.contains("cannot read") {
            status.message.push_str(&format!(
                " {count} secret{} kept in an OS keychain this process cannot read: runs that need {} fail, saying so, until Sundial runs where that keychain is reachable.",
                if count == 1 { " is" } else { "s are" },
                if count == 1 { "it" } else { "them" }
            ));
        }
    }

    fn cached_reference(&self, account: &str, value: &str) -> Option<String> {
        let prefix = format!("{KEYCHAIN_REF_PREFIX}{account}#");
        self.lock_cache()
            .iter()
            .find(|(r, v)| r.starts_with(&prefix) && v.as_str() == value)
            .map(|(r, _)| r.clone())
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether a stored secret value is a reference to a keychain entry.
pub fn is_reference(value: &str) -> bool {
    value.starts_with(KEYCHAIN_REF_PREFIX)
}

/// The secret values of a job that are references this process could not read, by name.
pub fn unreadable_secrets(job: &Job) -> Vec<&str> {
    let (_, list) = secrets::vars(&job.spec.kind);
    list.iter()
        .filter(|v| v.secret && is_reference(&v.value))
        .map(|v| v.name.as_str())
        .collect()
}

fn references_of(job: &Job) -> Vec<&str> {
    let (_, list) = secrets::vars(&job.spec.kind);
    list.iter()
        .filter(|v| v.secret && is_reference(&v.value))
        .map(|v| v.value.as_str())
        .collect()
}

fn account(job: JobId, place: secrets::SecretPlace, name: &str) -> String {
    format!("{job}/{}/{name}", place.slug())
}

fn account_of(reference: &str) -> &str {
    reference
        .strip_prefix(KEYCHAIN_REF_PREFIX)
        .unwrap_or(reference)
}

/// Runs keychain work on a blocking thread, with [`KEYCHAIN_TIMEOUT`].
async fn blocking<T: Send + 'static>(
    keychain: &Arc<dyn Keychain>,
    work: impl FnOnce(&dyn Keychain) -> Result<T, KeychainError> + Send + 'static,
) -> Result<T, KeychainError> {
    let keychain = keychain.clone();
    let task = tokio::task::spawn_blocking(move || work(keychain.as_ref()));
    match tokio::time::timeout(KEYCHAIN_TIMEOUT, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(KeychainError(format!("the keychain call stopped: {e}"))),
        Err(_) => Err(KeychainError(format!(
            "no answer within {} s",
            KEYCHAIN_TIMEOUT.as_secs()
        ))),
    }
}
