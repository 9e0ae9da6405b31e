//! Every secret value this process has seen, for what is written outside a run's own log:
//! the application log goes through [`RedactingWriter`], so a secret that reaches a
//! `tracing` line (an error quoting a URL, a path) is masked there too.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::{Arc, RwLock};

use super::redact::Redactor;
use super::vault::is_reference;
use crate::domain::{Job, JobId, secrets};

/// Shared by the store (which sees every job read or written) and the application log.
/// Values of a job edited or deleted stay known until the process ends: an old secret in a
/// late log line is masked too.
#[derive(Clone, Default)]
pub struct KnownSecrets {
    inner: Arc<RwLock<Known>>,
}

#[derive(Default)]
struct Known {
    by_job: HashMap<JobId, Vec<String>>,
    redactor: Redactor,
}

impl std::fmt::Debug for KnownSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KnownSecrets")
    }
}

impl KnownSecrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers the secret values of a job (references are no secret).
    pub fn set_job(&self, job: &Job) {
        let values: Vec<String> = secrets::secret_values(&job.spec.kind)
            .into_iter()
            .filter(|v| !is_reference(v))
            .map(str::to_string)
            .collect();
        if values.is_empty() {
            return;
        }
        let mut known = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let entry = known.by_job.entry(job.id).or_default();
        let before = entry.len();
        for value in values {
            if !entry.contains(&value) {
                entry.push(value);
            }
        }
        if entry.len() != before {
            let all: Vec<String> = known.by_job.values().flatten().cloned().collect();
            known.redactor = Redactor::new(all);
        }
    }

    /// Masks every known secret in `text`.
    pub fn redactor(&self) -> Redactor {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .redactor
            .clone()
    }
}

/// A writer that masks every known secret in what passes through it. `tracing`'s formatter
/// writes one whole event per call, so a secret is never split between two writes.
pub struct RedactingWriter<W> {
    inner: W,
    known: KnownSecrets,
}

impl<W> RedactingWriter<W> {
    pub fn new(inner: W, known: KnownSecrets) -> Self {
        Self { inner, known }
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let redactor = self.known.redactor();
        self.inner.write_all(&redactor.redact_bytes(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
