//! Engine events become Tauri events ("this changed": the UI refetches), a failed run becomes
//! a desktop notification (per the job's notify policy), and the tray is refreshed.

use std::time::Duration;

use std::sync::Arc;
use sundial_engine::EngineEvent;
use sundial_engine::domain::{Job, NotifyPolicy, Run, RunStatus};
use sundial_engine::secrets::Redactor;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::{Notify, broadcast};

use crate::state::AppState;

/// Every engine event, as is.
pub const ENGINE_EVENT: &str = "engine-event";
/// Events were missed (the UI fell behind): refetch everything.
pub const ENGINE_RESYNC: &str = "engine-resync";
/// The tray is refreshed at most this often, however many events arrive.
const TRAY_REFRESH: Duration = Duration::from_millis(250);

/// Whether a finished run deserves a notification under the job's policy.
pub fn should_notify(policy: NotifyPolicy, status: RunStatus) -> bool {
    match policy {
        NotifyPolicy::Never => false,
        NotifyPolicy::OnFailure => status.is_failure(),
        NotifyPolicy::Always => status.is_terminal() && status != RunStatus::Skipped,
    }
}

/// The notification's title and body, the job's secrets masked (the run's error may quote
/// what the job printed or was given).
pub fn notification_text(job: &Job, run: &Run) -> (String, String) {
    let redactor = Redactor::for_job(job);
    let (title, body) = notification_words(&job.spec.name, run);
    (
        redactor.redact(&title).into_owned(),
        redactor.redact(&body).into_owned(),
    )
}

fn notification_words(job_name: &str, run: &Run) -> (String, String) {
    let title = match run.status {
        RunStatus::Succeeded => format!("“{job_name}” succeeded"),
        RunStatus::TimedOut => format!("“{job_name}” timed out"),
        RunStatus::Interrupted => format!("“{job_name}” was interrupted"),
        RunStatus::Cancelled => format!("“{job_name}” was cancelled"),
        _ => format!("“{job_name}” failed"),
    };
    let body = match (&run.error, run.exit_code, run.http_status) {
        (Some(error), _, _) => error.clone(),
        (None, Some(code), _) => format!("Exit code {code}"),
        (None, None, Some(status)) => format!("HTTP status {status}"),
        _ => format!("Run {} ({})", run.id, run.status),
    };
    (title, body)
}

/// Starts forwarding; runs until the engine's event channel closes.
pub fn spawn_forwarder<R: Runtime>(app: AppHandle<R>) {
    let state = app.state::<AppState>();
    let mut events = state.engine.subscribe();
    let refresh = Arc::new(Notify::new());
    tauri::async_runtime::spawn(tray_refresher(app.clone(), refresh.clone()));
    refresh.notify_one();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    let _ = app.emit(ENGINE_EVENT, &event);
                    if let EngineEvent::RunChanged { run_id, status, .. } = &event
                        && status.is_terminal()
                    {
                        notify_finished(&app, *run_id).await;
                    }
                    refresh.notify_one();
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the UI fell behind engine events; resyncing");
                    let _ = app.emit(ENGINE_RESYNC, ());
                    refresh.notify_one();
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

async fn tray_refresher<R: Runtime>(app: AppHandle<R>, refresh: Arc<Notify>) {
    loop {
        refresh.notified().await;
        crate::tray::refresh(&app).await;
        tokio::time::sleep(TRAY_REFRESH).await;
    }
}

async fn notify_finished<R: Runtime>(app: &AppHandle<R>, run_id: sundial_engine::domain::RunId) {
    let state = app.state::<AppState>();
    if !state.settings().notifications {
        return;
    }
    let Ok(run) = state.engine.get_run(run_id).await else {
        return;
    };
    let Ok(job) = state.engine.get_job(run.job_id).await else {
        return;
    };
    if !should_notify(job.spec.policies.notify, run.status) {
        return;
    }
    let (title, body) = notification_text(&job, &run);
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "could not show a notification");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_never_shows_a_secret() {
        use sundial_engine::domain::*;
        let now = chrono::Utc::now();
        let job = Job {
            id: JobId::new(),
            revision: 1,
            created_at: now,
            updated_at: now,
            spec: JobSpec {
                name: "deploy".into(),
                description: String::new(),
                tags: vec![],
                enabled: true,
                kind: JobKind::Command(CommandSpec {
                    program: Program::Exec {
                        program: "true".into(),
                        args: vec![],
                    },
                    working_dir: None,
                    env: vec![EnvVar::secret("TOKEN", "hunter2-secret")],
                }),
                trigger: Trigger::Manual,
                policies: Policies::default(),
            },
        };
        let run = Run {
            id: RunId::new(),
            job_id: job.id,
            job_revision: 1,
            reason: RunReason::Manual,
            attempt: 1,
            parent_run_id: None,
            scheduled_for: now,
            created_at: now,
            started_at: Some(now),
            finished_at: Some(now),
            status: RunStatus::Failed,
            exit_code: None,
            http_status: None,
            error: Some("cannot reach https://h/?t=hunter2-secret".into()),
            log_bytes: 0,
            log_lines: 0,
            cpu_ms: None,
            peak_memory_bytes: None,
            overrides: None,
            trigger_path: None,
            wait: Default::default(),
        };
        let (title, body) = notification_text(&job, &run);
        assert_eq!(title, "“deploy” failed");
        assert_eq!(body, format!("cannot reach https://h/?t={SECRET_MASK}"));
    }

    #[test]
    fn notify_policy_decides_which_runs_notify() {
        use NotifyPolicy::*;
        use RunStatus::*;
        for status in RunStatus::ALL.iter().copied() {
            assert!(!should_notify(Never, status));
        }
        for status in [Failed, TimedOut, Interrupted] {
            assert!(should_notify(OnFailure, status), "{status}");
            assert!(should_notify(Always, status), "{status}");
        }
        for status in [Succeeded, Cancelled, Skipped, Queued, Running] {
            assert!(!should_notify(OnFailure, status), "{status}");
        }
        assert!(should_notify(Always, Succeeded));
        assert!(should_notify(Always, Cancelled));
        assert!(!should_notify(Always, Skipped));
        assert!(!should_notify(Always, Running));
        assert!(!should_notify(Always, Queued));
    }
}
