//! Conditions (issue 17, decisions/0019): a firing waits for AC power or the network, up to
//! its job's maximum wait, then runs or is skipped (the ledger says which); a random delay is
//! drawn once per firing and kept across a restart. The scheduler on a fake wall clock
//! (tokio's clock paused), a real SQLite file, a scripted executor and a fake power and network
//! source. Then the Linux source against fake sysfs folders.

mod engine_support;

use std::path::Path;

use chrono::Duration as ChronoDuration;
use engine_support::*;
use serde_json::json;
use sundial_engine::conditions::{
    LinuxConditions, network_from_nm_state, network_from_sysfs, power_from_sysfs,
};
use sundial_engine::domain::{Job, MissedCause, Run, RunStatus, WaitingFor};
use sundial_engine::{ConditionSource, NetworkState, PowerState};

const START: &str = "2024-03-01T00:59:00Z";
const DUE: &str = "2024-03-01T01:00:00Z";

/// A job due once at 01:00 with these conditions.
async fn job_with(h: &Harness, name: &str, conditions: serde_json::Value) -> Job {
    h.engine
        .create_job(spec(
            name,
            json!({"type": "once", "at": DUE}),
            json!({ "conditions": conditions }),
        ))
        .await
        .unwrap()
}

async fn only_run(h: &Harness, job: &Job) -> Run {
    let runs = h.runs_of(job).await;
    assert_eq!(runs.len(), 1, "one firing, one run row: {runs:#?}");
    runs.into_iter().next().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_firing_on_battery_waits_and_starts_when_ac_power_returns() {
    let h = Harness::start(START).await;
    let job = job_with(&h, "backup", json!({"ac_power": true})).await;
    h.conditions.set_power(PowerState::OnBattery);
    h.advance_secs(65).await; // 01:00:05
    let run = only_run(&h, &job).await;
    assert_eq!(run.status, RunStatus::Queued);
    assert_eq!(run.wait.waiting_for, Some(WaitingFor::AcPower));
    let until = run.wait.wait_until.expect("a deadline");
    assert!(
        (until - at("2024-03-01T02:00:00Z")).num_seconds().abs() <= 5,
        "waits the default hour from when it fell due: {until}"
    );
    h.advance_secs(600).await; // 01:10:05
    assert!(h.executor.executions().is_empty(), "nothing ran on battery");
    assert_eq!(only_run(&h, &job).await.status, RunStatus::Queued);

    h.conditions.set_power(PowerState::OnAc);
    let plugged_in = h.clock_now();
    h.advance_secs(10).await;
    let runs = h.executor.executions_of("backup");
    assert_eq!(runs.len(), 1, "it ran once AC power came back");
    assert!(
        runs[0].started_at - plugged_in <= ChronoDuration::seconds(5),
        "within one look (5 s) of AC power returning: {}",
        runs[0].started_at
    );
    let run = only_run(&h, &job).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(
        run.wait.waiting_for,
        Some(WaitingFor::AcPower),
        "its row keeps what it waited for"
    );
    assert!(h.gaps_of(&job).await.is_empty(), "nothing was missed");
}

#[tokio::test(start_paused = true)]
async fn a_firing_still_on_battery_at_its_maximum_wait_is_skipped_and_the_ledger_says_so() {
    let h = Harness::start(START).await;
    let job = job_with(&h, "sync", json!({"ac_power": true, "max_wait_secs": 600})).await;
    h.conditions.set_power(PowerState::OnBattery);
    h.advance_secs(60 + 600 + 10).await;
    assert!(h.executor.executions().is_empty(), "it never ran");
    let run = only_run(&h, &job).await;
    assert_eq!(run.status, RunStatus::Skipped);
    let why = run.error.clone().unwrap_or_default();
    assert!(
        why.starts_with(
            "Waited 10 min for AC power (due 2024-03-01 01:00:00 UTC) while on battery; skipped"
        ),
        "{why}"
    );
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0].cause, MissedCause::OnBattery);
    assert_eq!(
        gaps[0].run_id, run.id,
        "the skipped row stands for the entry"
    );
    assert_eq!((gaps[0].missed, gaps[0].ran), (1, 0));
    assert_eq!(gaps[0].first_slot, at(DUE));
    // Coming back on AC power later starts nothing: the firing is over.
    h.conditions.set_power(PowerState::OnAc);
    h.advance_secs(30).await;
    assert!(h.executor.executions().is_empty());
}

#[tokio::test(start_paused = true)]
async fn offline_past_the_maximum_wait_with_on_timeout_run_runs_anyway() {
    let h = Harness::start(START).await;
    let job = job_with(
        &h,
        "upload",
        json!({"network": true, "max_wait_secs": 120, "on_timeout": "run"}),
    )
    .await;
    h.conditions.set_network(NetworkState::Down);
    h.advance_secs(90).await; // 01:00:30
    let run = only_run(&h, &job).await;
    assert_eq!(run.wait.waiting_for, Some(WaitingFor::Network));
    assert!(h.executor.executions().is_empty());
    h.advance_secs(100).await; // 01:02:10
    let runs = h.executor.executions_of("upload");
    assert_eq!(runs.len(), 1, "it ran at its maximum wait, offline");
    let waited = runs[0].started_at - at(DUE);
    assert!(
        waited >= ChronoDuration::seconds(120) && waited <= ChronoDuration::seconds(126),
        "at the end of the 2 min wait: {waited}"
    );
    let run = only_run(&h, &job).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    let gaps = h.gaps_of(&job).await;
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].cause, MissedCause::Offline);
    assert_eq!(
        gaps[0].run_id, run.id,
        "the entry points at the run that went ahead"
    );
    assert_eq!(gaps[0].ran, 1);
    assert!(
        gaps[0]
            .describe(None)
            .ends_with("while offline; ran anyway, as the job's conditions say"),
        "{}",
        gaps[0].describe(None)
    );
}

#[tokio::test(start_paused = true)]
async fn a_firing_waits_for_the_network_and_starts_when_it_is_up() {
    let h = Harness::start(START).await;
    let job = job_with(&h, "fetch", json!({"network": true, "ac_power": true})).await;
    h.conditions.set_network(NetworkState::Down);
    h.advance_secs(70).await;
    let run = only_run(&h, &job).await;
    assert_eq!(
        (run.status, run.wait.waiting_for),
        (RunStatus::Queued, Some(WaitingFor::Network))
    );
    // Unplugged meanwhile: it now waits for AC power, with the same deadline.
    h.conditions.set_power(PowerState::OnBattery);
    h.advance_secs(10).await;
    let now_waiting = only_run(&h, &job).await;
    assert_eq!(now_waiting.wait.waiting_for, Some(WaitingFor::AcPower));
    assert_eq!(now_waiting.wait.wait_until, run.wait.wait_until);
    h.conditions.set_power(PowerState::OnAc);
    h.advance_secs(10).await;
    assert!(h.executor.executions().is_empty(), "still offline");
    h.conditions.set_network(NetworkState::Up);
    h.advance_secs(10).await;
    assert_eq!(h.executor.executions_of("fetch").len(), 1);
    assert_eq!(only_run(&h, &job).await.status, RunStatus::Succeeded);
}

#[tokio::test(start_paused = true)]
async fn a_state_the_system_cannot_tell_counts_as_met() {
    let h = Harness::start(START).await;
    let job = job_with(&h, "desktop", json!({"ac_power": true, "network": true})).await;
    h.conditions.set_power(PowerState::Unknown);
    h.conditions.set_network(NetworkState::Unknown);
    h.advance_secs(65).await;
    let runs = h.executor.executions_of("desktop");
    assert_eq!(runs.len(), 1, "ran on time");
    assert!(runs[0].started_at - at(DUE) < ChronoDuration::seconds(2));
    assert_eq!(only_run(&h, &job).await.wait.waiting_for, None);
}

#[tokio::test(start_paused = true)]
async fn run_now_ignores_the_conditions() {
    let h = Harness::start(START).await;
    let job = job_with(
        &h,
        "by hand",
        json!({"ac_power": true, "random_delay_secs": 3600}),
    )
    .await;
    h.conditions.set_power(PowerState::OnBattery);
    let run = h.engine.run_now(job.id).await.unwrap();
    assert_eq!(
        run.wait.start_after, None,
        "no random delay for a run asked for by hand"
    );
    h.advance_secs(2).await;
    assert_eq!(h.executor.executions_of("by hand").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_random_delay_is_drawn_once_within_its_bound_and_kept_with_the_run() {
    let h = Harness::start(START).await;
    let job = job_with(&h, "spread", json!({"random_delay_secs": 600})).await;
    h.advance_secs(61).await; // 01:00:01
    let run = only_run(&h, &job).await;
    let after = run.wait.start_after.expect("a delay was drawn");
    assert!(
        after >= at(DUE) && after <= at(DUE) + ChronoDuration::seconds(601),
        "from 0 to 10 min after the firing: {after}"
    );
    if after > h.clock_now() + ChronoDuration::seconds(1) {
        assert!(h.executor.executions().is_empty(), "not before its delay");
    }
    h.advance_secs(610).await;
    let runs = h.executor.executions_of("spread");
    assert_eq!(runs.len(), 1);
    assert!(
        runs[0].started_at >= after && runs[0].started_at - after <= ChronoDuration::seconds(5),
        "started at its delay ({after}), not later than one look: {}",
        runs[0].started_at
    );
}

#[tokio::test(start_paused = true)]
async fn random_delays_spread_firings_over_the_whole_bound() {
    let h = Harness::start(START).await;
    let mut delays = Vec::new();
    for i in 0..40 {
        let job = job_with(&h, &format!("job-{i}"), json!({"random_delay_secs": 3600})).await;
        delays.push(job);
    }
    h.advance_secs(61).await;
    let mut drawn = Vec::new();
    for job in &delays {
        let run = only_run(&h, job).await;
        let d = run.wait.start_after.unwrap() - at(DUE);
        assert!(
            d >= ChronoDuration::zero() && d <= ChronoDuration::seconds(3601),
            "{d}"
        );
        drawn.push(d.num_seconds());
    }
    drawn.sort();
    drawn.dedup();
    assert!(drawn.len() > 30, "40 draws mostly differ: {drawn:?}");
    assert!(
        drawn.iter().any(|d| *d < 1800) && drawn.iter().any(|d| *d >= 1800),
        "both halves of the hour: {drawn:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_restart_in_the_middle_of_a_wait_keeps_its_deadline() {
    let mut h = Harness::start(START).await;
    let job = job_with(&h, "kept", json!({"ac_power": true, "max_wait_secs": 1800})).await;
    h.conditions.set_power(PowerState::OnBattery);
    h.advance_secs(60 + 600).await; // 01:10
    let before = only_run(&h, &job).await;
    let until = before.wait.wait_until.unwrap();
    h.restart().await;
    h.advance_secs(30).await;
    let adopted = only_run(&h, &job).await;
    assert_eq!(adopted.id, before.id, "the new scheduler took the same row");
    assert_eq!(adopted.status, RunStatus::Queued);
    assert_eq!(
        adopted.wait.wait_until,
        Some(until),
        "the deadline did not move"
    );
    // Still on battery at the original deadline (01:30), not 30 min after the restart.
    h.advance(std::time::Duration::from_secs(
        u64::try_from((until - h.clock_now()).num_seconds()).unwrap() + 6,
    ))
    .await;
    let run = only_run(&h, &job).await;
    assert_eq!(run.status, RunStatus::Skipped, "{run:#?}");
    let finished = run.finished_at.unwrap();
    assert!(
        finished - until <= ChronoDuration::seconds(6),
        "skipped at {finished}, due to end at {until}"
    );
    assert_eq!(h.gaps_of(&job).await.len(), 1);
    assert!(h.executor.executions().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_restart_in_the_middle_of_a_wait_runs_it_once_when_the_condition_is_met() {
    let mut h = Harness::start(START).await;
    let job = job_with(&h, "once", json!({"network": true})).await;
    h.conditions.set_network(NetworkState::Down);
    h.advance_secs(60 + 300).await;
    h.restart().await;
    h.advance_secs(20).await;
    h.conditions.set_network(NetworkState::Up);
    h.advance_secs(10).await;
    assert_eq!(
        h.executor.executions_of("once").len(),
        1,
        "one run, no duplicate"
    );
    let run = only_run(&h, &job).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    // And nothing more comes of it after another restart.
    h.restart().await;
    h.advance_secs(30).await;
    assert_eq!(h.executor.executions_of("once").len(), 1);
    assert_eq!(h.runs_of(&job).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_restart_during_a_random_delay_does_not_draw_again() {
    let mut h = Harness::start(START).await;
    let job = job_with(&h, "delayed", json!({"random_delay_secs": 86_400})).await;
    h.advance_secs(61).await;
    let drawn = only_run(&h, &job).await.wait.start_after.unwrap();
    h.restart().await;
    h.advance_secs(5).await;
    assert_eq!(only_run(&h, &job).await.wait.start_after, Some(drawn));
    let left = u64::try_from((drawn - h.clock_now()).num_seconds().max(0)).unwrap();
    h.advance_secs(left + 6).await;
    let runs = h.executor.executions_of("delayed");
    assert_eq!(
        runs.len(),
        1,
        "ran once, at the delay drawn before the restart"
    );
    assert!(
        runs[0].started_at >= drawn && runs[0].started_at - drawn <= ChronoDuration::seconds(6)
    );
}

#[tokio::test(start_paused = true)]
async fn an_edit_that_drops_the_condition_lets_a_waiting_run_start_at_once() {
    let h = Harness::start(START).await;
    let job = job_with(&h, "edited", json!({"ac_power": true})).await;
    h.conditions.set_power(PowerState::OnBattery);
    h.advance_secs(120).await;
    assert!(h.executor.executions().is_empty());
    let mut spec = job.spec.clone();
    spec.policies.conditions.ac_power = false;
    h.engine
        .update_job(job.id, spec, job.revision)
        .await
        .unwrap();
    h.advance_secs(1).await;
    assert_eq!(
        h.executor.executions_of("edited").len(),
        1,
        "the edit reached the waiting run"
    );
}

#[tokio::test(start_paused = true)]
async fn a_waiting_run_can_be_cancelled_and_says_what_it_waited_for() {
    let h = Harness::start(START).await;
    let job = job_with(&h, "cancelled", json!({"ac_power": true})).await;
    h.conditions.set_power(PowerState::OnBattery);
    h.advance_secs(70).await;
    let run = only_run(&h, &job).await;
    h.engine.cancel_run(run.id).await.unwrap();
    h.advance_secs(1).await;
    let run = only_run(&h, &job).await;
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(
        run.error.as_deref(),
        Some("cancelled while waiting for AC power")
    );
    h.conditions.set_power(PowerState::OnAc);
    h.advance_secs(10).await;
    assert!(h.executor.executions().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_waiting_run_holds_its_job_for_the_overlap_policy_but_no_slot() {
    // One slot: a job waiting for AC power must not keep another job from running.
    let h = Harness::start_with(START, 1).await;
    let waiting = h
        .engine
        .create_job(spec(
            "waits",
            every_secs(60),
            json!({"overlap": "skip", "conditions": {"ac_power": true}}),
        ))
        .await
        .unwrap();
    h.engine
        .create_job(spec("free", every_secs(60), serde_json::Value::Null))
        .await
        .unwrap();
    h.conditions.set_power(PowerState::OnBattery);
    h.advance_secs(60 * 3 + 5).await;
    assert!(h.executor.executions_of("waits").is_empty());
    assert!(
        h.executor.executions_of("free").len() >= 3,
        "the other job had the slot"
    );
    let runs = h.runs_of(&waiting).await;
    let queued = runs
        .iter()
        .filter(|r| r.status == RunStatus::Queued)
        .count();
    let skipped = runs
        .iter()
        .filter(|r| r.status == RunStatus::Skipped)
        .count();
    assert_eq!(queued, 1, "one firing waits: {runs:#?}");
    assert!(
        skipped >= 2,
        "later firings skipped by the overlap policy: {runs:#?}"
    );
}

// ----- the Linux source against fake sysfs folders -----------------------------------------

fn supply(root: &Path, name: &str, files: &[(&str, &str)]) {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, content) in files {
        std::fs::write(dir.join(file), format!("{content}\n")).unwrap();
    }
}

#[test]
fn mains_online_is_ac_power() {
    let dir = tempfile::tempdir().unwrap();
    supply(dir.path(), "AC", &[("type", "Mains"), ("online", "1")]);
    supply(
        dir.path(),
        "BAT0",
        &[("type", "Battery"), ("status", "Charging")],
    );
    assert_eq!(power_from_sysfs(dir.path()), PowerState::OnAc);
}

#[test]
fn a_discharging_battery_with_mains_offline_is_battery() {
    let dir = tempfile::tempdir().unwrap();
    supply(dir.path(), "AC", &[("type", "Mains"), ("online", "0")]);
    supply(
        dir.path(),
        "BAT0",
        &[("type", "Battery"), ("status", "Discharging")],
    );
    assert_eq!(power_from_sysfs(dir.path()), PowerState::OnBattery);
    // A full battery while unplugged is still on battery.
    supply(
        dir.path(),
        "BAT0",
        &[("type", "Battery"), ("status", "Not charging")],
    );
    assert_eq!(power_from_sysfs(dir.path()), PowerState::OnBattery);
}

#[test]
fn a_usb_c_charger_online_is_ac_power() {
    let dir = tempfile::tempdir().unwrap();
    supply(
        dir.path(),
        "ucsi-source-psy-USBC000:001",
        &[("type", "USB"), ("online", "1")],
    );
    supply(
        dir.path(),
        "BAT1",
        &[("type", "Battery"), ("status", "Discharging")],
    );
    assert_eq!(power_from_sysfs(dir.path()), PowerState::OnAc);
}

#[test]
fn a_mouse_battery_does_not_make_a_desktop_battery_powered() {
    let dir = tempfile::tempdir().unwrap();
    supply(
        dir.path(),
        "hidpp_battery_0",
        &[
            ("type", "Battery"),
            ("scope", "Device"),
            ("status", "Discharging"),
        ],
    );
    assert_eq!(power_from_sysfs(dir.path()), PowerState::OnAc);
}

#[test]
fn no_power_supply_information_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        power_from_sysfs(dir.path()),
        PowerState::Unknown,
        "an empty class"
    );
    assert_eq!(
        power_from_sysfs(&dir.path().join("missing")),
        PowerState::Unknown,
        "no class folder"
    );
}

fn link(root: &Path, name: &str, operstate: &str, physical: bool) {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("operstate"), format!("{operstate}\n")).unwrap();
    if physical {
        std::fs::create_dir_all(dir.join("device")).unwrap();
    }
}

#[test]
fn a_physical_link_up_is_network_up_and_loopback_does_not_count() {
    let dir = tempfile::tempdir().unwrap();
    link(dir.path(), "lo", "unknown", false);
    link(dir.path(), "wlp2s0", "down", true);
    assert_eq!(network_from_sysfs(dir.path()), NetworkState::Down);
    link(dir.path(), "enp0s31f6", "up", true);
    assert_eq!(network_from_sysfs(dir.path()), NetworkState::Up);
}

#[test]
fn a_bridge_up_does_not_make_an_unplugged_laptop_online() {
    let dir = tempfile::tempdir().unwrap();
    link(dir.path(), "wlp2s0", "down", true);
    link(dir.path(), "docker0", "up", false);
    assert_eq!(network_from_sysfs(dir.path()), NetworkState::Down);
}

#[test]
fn without_physical_links_a_virtual_one_counts() {
    // A container: only a veth.
    let dir = tempfile::tempdir().unwrap();
    link(dir.path(), "lo", "unknown", false);
    link(dir.path(), "eth0", "up", false);
    assert_eq!(network_from_sysfs(dir.path()), NetworkState::Up);
    // A tunnel reports "unknown" with a carrier.
    let dir = tempfile::tempdir().unwrap();
    link(dir.path(), "tun0", "unknown", false);
    std::fs::write(dir.path().join("tun0/carrier"), "1\n").unwrap();
    assert_eq!(network_from_sysfs(dir.path()), NetworkState::Up);
}

#[test]
fn no_interface_but_loopback_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    link(dir.path(), "lo", "unknown", false);
    assert_eq!(network_from_sysfs(dir.path()), NetworkState::Unknown);
    assert_eq!(
        network_from_sysfs(&dir.path().join("missing")),
        NetworkState::Unknown
    );
}

#[test]
fn network_manager_states_map_to_up_down_and_unknown() {
    assert_eq!(
        network_from_nm_state(70),
        NetworkState::Up,
        "connected globally"
    );
    assert_eq!(
        network_from_nm_state(60),
        NetworkState::Up,
        "connected to a site"
    );
    assert_eq!(
        network_from_nm_state(50),
        NetworkState::Down,
        "link-local only"
    );
    assert_eq!(
        network_from_nm_state(20),
        NetworkState::Down,
        "disconnected"
    );
    assert_eq!(network_from_nm_state(10), NetworkState::Down, "asleep");
    assert_eq!(network_from_nm_state(0), NetworkState::Unknown);
}

#[test]
fn the_linux_source_reads_the_folders_it_is_given() {
    let power = tempfile::tempdir().unwrap();
    let net = tempfile::tempdir().unwrap();
    supply(power.path(), "AC", &[("type", "Mains"), ("online", "0")]);
    supply(
        power.path(),
        "BAT0",
        &[("type", "Battery"), ("status", "Discharging")],
    );
    link(net.path(), "wlan0", "up", true);
    let source = LinuxConditions::with_roots(power.path(), net.path());
    assert_eq!(source.power(), PowerState::OnBattery);
    assert_eq!(source.network(), NetworkState::Up);
    // Plugged in and the Wi-Fi gone: read afresh at each question.
    supply(power.path(), "AC", &[("type", "Mains"), ("online", "1")]);
    link(net.path(), "wlan0", "down", true);
    assert_eq!(source.power(), PowerState::OnAc);
    assert_eq!(source.network(), NetworkState::Down);
}
