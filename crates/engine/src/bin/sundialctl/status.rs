//! `sundialctl status`, `pause` and `resume`: who schedules this database, and the shared pause
//! state, which the scheduler (the app or the daemon) applies at once through the change feed.

use chrono::SecondsFormat;
use serde::Serialize;
use sundial_engine::lease::SchedulerHolder;
use sundial_engine::secrets::SecretStoreStatus;

use crate::cli::Failure;
use crate::context::{Context, engine_failure, failed};

#[derive(Debug, Serialize)]
struct Status {
    paused: bool,
    running: u32,
    /// Who holds the scheduler lease (None: no scheduler is running).
    scheduler: Option<SchedulerHolder>,
    /// Where this process keeps secret values (the OS keychain, or the database).
    secrets: SecretStoreStatus,
}

pub async fn status(ctx: &Context) -> Result<String, Failure> {
    let engine = ctx.engine().await?;
    let result = async {
        let paused = engine.is_paused().await.map_err(engine_failure)?;
        let running = engine.running_count().await.map_err(engine_failure)?;
        let now = engine.now();
        let scheduler = engine
            .store()
            .current_lease()
            .await
            .map_err(|e| failed(e.to_string()))?
            .filter(|lease| lease.expires_at > now)
            .map(|lease| SchedulerHolder::from(&lease));
        Ok(Status {
            paused,
            running,
            scheduler,
            secrets: engine.secret_store_status(),
        })
    }
    .await;
    engine.shutdown(false).await;
    let status = result?;
    Ok(ctx.output(&status, || {
        let who = match &status.scheduler {
            Some(holder) => format!("scheduling: {holder}"),
            None => "scheduling: no scheduler is running (start the app or `sundialctl daemon`)"
                .to_string(),
        };
        format!(
            "{who}\n{}\nrunning: {}\nsecrets: {}\n",
            if status.paused {
                "paused: yes (no scheduled firings until `sundialctl resume`)"
            } else {
                "paused: no"
            },
            status.running,
            status.secrets.message
        )
    }))
}

/// Pauses or resumes every schedule, whoever schedules.
pub async fn set_paused(ctx: &Context, paused: bool) -> Result<String, Failure> {
    let engine = ctx.engine().await?;
    let result = if paused {
        engine.pause().await
    } else {
        engine.resume().await
    };
    let at = engine.now().to_rfc3339_opts(SecondsFormat::Secs, true);
    engine.shutdown(false).await;
    result.map_err(engine_failure)?;
    Ok(ctx.output(&serde_json::json!({ "paused": paused }), || {
        if paused {
            format!("paused at {at}: no scheduled firings until `sundialctl resume`\n")
        } else {
            format!("resumed at {at}: schedules go on from now\n")
        }
    }))
}
