//! The scheduler lease: the desktop app and `sundialctl daemon` share one database, and only
//! one of them may fire jobs. The one that starts first takes the lease and renews it every
//! [`RENEW_EVERY`]; a second one is told who holds it and does not schedule. A holder that
//! crashes stops renewing, and its lease can be taken once it expires ([`LEASE_TTL`]) — at
//! once when the holder was on this machine and its process is gone.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::store::{LeaseRecord, Store, StoreError};

/// How long a lease lasts without renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(30);
/// How often the holder renews it (well inside the TTL).
pub const RENEW_EVERY: Duration = Duration::from_secs(5);

/// A lease we hold.
#[derive(Clone)]
pub struct Lease {
    store: Store,
    record: LeaseRecord,
    ttl: Duration,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("record", &self.record)
            .finish()
    }
}

/// Another process holds the lease.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LeaseHeld(pub LeaseRecord);

impl fmt::Display for LeaseRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the scheduler is already running: {} (pid {} on host {}) since {}; its lease expires at {} unless renewed",
            self.holder,
            self.pid,
            self.host,
            self.since.to_rfc3339_opts(SecondsFormat::Secs, true),
            self.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
    }
}

pub use crate::host::host_name;

impl Lease {
    /// Takes the lease for this process (`holder` says what it is: "daemon", "app"), or says
    /// who has it.
    pub async fn acquire(
        store: &Store,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Result<Lease, LeaseHeld>, StoreError> {
        let want = LeaseRecord {
            token: ulid::Ulid::new().to_string(),
            holder: holder.to_string(),
            pid: std::process::id(),
            host: host_name(),
            since: now,
            renewed_at: now,
            expires_at: now + ttl_of(ttl),
        };
        let mut got = store.acquire_lease(&want, now).await?;
        // A holder on this machine whose process is gone crashed: no need to wait for expiry.
        if got.token != want.token
            && got.host == want.host
            && !(crate::host::ProcessIdentity {
                pid: got.pid,
                host: got.host.clone(),
                start: None,
            })
            .is_alive()
            && store.take_over_lease(&want, &got.token).await?
        {
            tracing::warn!(
                holder = %got.holder,
                pid = got.pid,
                "took over the scheduler lease of a process that is gone"
            );
            got = want.clone();
        }
        if got.token == want.token {
            Ok(Ok(Lease {
                store: store.clone(),
                record: got,
                ttl,
            }))
        } else {
            Ok(Err(LeaseHeld(got)))
        }
    }

    pub fn record(&self) -> &LeaseRecord {
        &self.record
    }

    /// Extends the lease; false when it was lost (expired and taken over): stop scheduling.
    pub async fn renew(&mut self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let expires = now + ttl_of(self.ttl);
        let kept = self
            .store
            .renew_lease(&self.record.token, now, expires)
            .await?;
        if kept {
            self.record.renewed_at = now;
            self.record.expires_at = expires;
        }
        Ok(kept)
    }

    /// Gives the lease up so the next scheduler can start at once.
    pub async fn release(self) -> Result<(), StoreError> {
        self.store.release_lease(&self.record.token).await
    }
}

fn ttl_of(ttl: Duration) -> chrono::Duration {
    chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::seconds(30))
}

/// Who fires this database's jobs, as this process sees it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum SchedulerRole {
    /// This process holds the lease and fires the jobs.
    Active { since: DateTime<Utc> },
    /// Another process fires them (`holder`), or none does right now (None: this one takes the
    /// lease as soon as it can).
    Passive { holder: Option<SchedulerHolder> },
    /// This process never schedules (a one-shot `sundialctl` command).
    Never,
}

/// The holder of the lease, for people: "sundialctl daemon, pid 123 on this machine, since …".
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchedulerHolder {
    /// What holds it: "sundialctl daemon", "Sundial app".
    pub name: String,
    pub pid: u32,
    pub host: String,
    /// The holder runs on this machine.
    pub this_host: bool,
    pub since: DateTime<Utc>,
}

impl From<&LeaseRecord> for SchedulerHolder {
    fn from(record: &LeaseRecord) -> Self {
        Self {
            name: record.holder.clone(),
            pid: record.pid,
            this_host: record.host == host_name(),
            host: record.host.clone(),
            since: record.since,
        }
    }
}

impl std::fmt::Display for SchedulerHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = if self.this_host {
            "this machine".to_string()
        } else {
            format!("host {}", self.host)
        };
        write!(
            f,
            "{}, pid {} on {place}, since {}",
            self.name,
            self.pid,
            self.since.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }
}
