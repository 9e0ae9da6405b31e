//! The tray: pause/resume all (the icon shows which), running count and next run, open window,
//! quit. Its text comes from [`tray_text`], a pure function of the app status.

use chrono::Local;
use sundial_engine::lease::SchedulerRole;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

use crate::state::AppState;
use crate::status::{AppStatus, app_status};

const ICON: &[u8] = include_bytes!("../../icons/tray.png");
const ICON_PAUSED: &[u8] = include_bytes!("../../icons/tray-paused.png");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayText {
    pub tooltip: String,
    pub running: String,
    pub next: String,
    pub toggle: String,
}

pub fn tray_text(status: &AppStatus, now_local: chrono::DateTime<Local>) -> TrayText {
    let running = match status.running {
        0 => "No jobs running".to_string(),
        1 => "1 job running".to_string(),
        n => format!("{n} jobs running"),
    };
    let next = match (&status.next_run, status.paused) {
        (_, true) => "Paused: no job will start".to_string(),
        (None, false) => "No run scheduled".to_string(),
        (Some(next), false) => {
            let at = next.at.with_timezone(&Local);
            let when = if at.date_naive() == now_local.date_naive() {
                at.format("%H:%M").to_string()
            } else {
                at.format("%a %d %b %H:%M").to_string()
            };
            format!("Next: {} at {when}", next.job_name)
        }
    };
    let state = if status.paused {
        "Sundial (paused)"
    } else {
        "Sundial"
    };
    let mut tooltip = format!("{state}\n{running}\n{next}");
    if let SchedulerRole::Passive { holder } = &status.scheduler {
        tooltip.push('\n');
        tooltip.push_str(&match holder {
            Some(holder) => format!("Scheduled by {} (pid {})", holder.name, holder.pid),
            None => "No scheduler is running; taking over".to_string(),
        });
    }
    if let Some(problem) = &status.storage_problem {
        tooltip.push('\n');
        tooltip.push_str(problem);
    }
    TrayText {
        tooltip,
        running,
        next,
        toggle: if status.paused {
            "Resume all"
        } else {
            "Pause all"
        }
        .to_string(),
    }
}

/// The tray and the menu items whose text changes.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    running: MenuItem<R>,
    next: MenuItem<R>,
    toggle: MenuItem<R>,
}

pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let running = MenuItem::with_id(app, "running", "No jobs running", false, None::<&str>)?;
    let next = MenuItem::with_id(app, "next", "No run scheduled", false, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle_pause", "Pause all", true, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Sundial", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Sundial", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &running,
            &next,
            &PredefinedMenuItem::separator(app)?,
            &toggle,
            &open,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let icon = TrayIconBuilder::with_id("sundial")
        .icon(Image::from_bytes(ICON)?)
        .tooltip("Sundial")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "toggle_pause" => toggle_pause(app.clone()),
            "open" => crate::window::open_main_window(app),
            "quit" => crate::quit(app.clone()),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::window::open_main_window(tray.app_handle());
            }
        })
        .build(app)?;
    app.manage(Tray {
        icon,
        running,
        next,
        toggle,
    });
    Ok(())
}

fn toggle_pause<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let engine = &app.state::<AppState>().engine;
        let result = match engine.is_paused().await {
            Ok(true) => engine.resume().await,
            Ok(false) => engine.pause().await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "could not change the pause state from the tray");
        }
    });
}

/// Brings the tray up to date with the engine.
pub async fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.try_state::<Tray<R>>() else {
        return;
    };
    let status = match app_status(&app.state::<AppState>().engine).await {
        Ok(status) => status,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the status for the tray");
            return;
        }
    };
    show(&tray, &status, None);
}

/// Shows `status`; `note` replaces the running line (e.g. while quitting).
pub fn show<R: Runtime>(tray: &Tray<R>, status: &AppStatus, note: Option<&str>) {
    let text = tray_text(status, Local::now());
    let icon = if status.paused { ICON_PAUSED } else { ICON };
    let tooltip = match note {
        Some(note) => format!("{}\n{note}", text.tooltip),
        None => text.tooltip,
    };
    let results = [
        Image::from_bytes(icon).and_then(|i| tray.icon.set_icon(Some(i))),
        tray.icon.set_tooltip(Some(tooltip)),
        tray.running.set_text(note.unwrap_or(&text.running)),
        tray.next.set_text(text.next),
        tray.toggle.set_text(text.toggle),
    ];
    for result in results {
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not update the tray");
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use sundial_engine::domain::JobId;

    use super::*;
    use crate::status::NextRun;

    fn status(paused: bool, running: u32, next_in_hours: Option<i64>) -> AppStatus {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        AppStatus {
            paused,
            running,
            next_run: next_in_hours.map(|h| NextRun {
                job_id: JobId::new(),
                job_name: "Backup".into(),
                at: now + chrono::Duration::hours(h),
            }),
            scheduler: SchedulerRole::Active { since: now },
            storage_problem: None,
            secrets: sundial_engine::secrets::SecretStoreStatus {
                location: sundial_engine::secrets::SecretLocation::Keychain,
                message: String::new(),
                unreadable: 0,
            },
        }
    }

    fn now() -> chrono::DateTime<Local> {
        Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0)
            .unwrap()
            .with_timezone(&Local)
    }

    #[test]
    fn running_state_shows_count_next_run_and_pause_action() {
        let text = tray_text(&status(false, 2, Some(48)), now());
        assert_eq!(text.running, "2 jobs running");
        assert!(text.next.starts_with("Next: Backup at "), "{}", text.next);
        assert_eq!(text.toggle, "Pause all");
        assert!(
            text.tooltip
                .starts_with("Sundial\n2 jobs running\nNext: Backup")
        );
    }

    #[test]
    fn paused_state_says_so_and_offers_resume() {
        let text = tray_text(&status(true, 1, Some(1)), now());
        assert_eq!(text.running, "1 job running");
        assert_eq!(text.next, "Paused: no job will start");
        assert_eq!(text.toggle, "Resume all");
        assert!(text.tooltip.starts_with("Sundial (paused)\n"));
    }

    #[test]
    fn a_passive_app_names_who_schedules_and_a_full_disk_is_said() {
        let mut passive = status(false, 1, Some(1));
        passive.scheduler = SchedulerRole::Passive {
            holder: Some(sundial_engine::lease::SchedulerHolder {
                name: "sundialctl daemon".into(),
                pid: 4242,
                host: "here".into(),
                this_host: true,
                since: Utc::now(),
            }),
        };
        passive.storage_problem = Some("The disk is full".into());
        let text = tray_text(&passive, now());
        assert!(
            text.tooltip
                .ends_with("\nScheduled by sundialctl daemon (pid 4242)\nThe disk is full"),
            "{}",
            text.tooltip
        );
    }

    #[test]
    fn idle_state_without_schedule() {
        let text = tray_text(&status(false, 0, None), now());
        assert_eq!(text.running, "No jobs running");
        assert_eq!(text.next, "No run scheduled");
    }
}
