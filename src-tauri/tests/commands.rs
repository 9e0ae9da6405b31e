//! Command-layer tests: real IPC requests through Tauri's mock runtime (no display) to a real
//! engine on a temporary database. They check input validation and the `{code, message,
//! fields}` error shape the UI branches on.

use serde_json::{Value, json};
use sundial_desktop::commands;
use sundial_desktop::settings::Settings;
use sundial_desktop::state::AppState;
use sundial_engine::AppPaths;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};

struct Harness {
    _dir: tempfile::TempDir,
    app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::new(dir.path());
        let engine = tauri::async_runtime::block_on(sundial_desktop::start_engine(&paths)).unwrap();
        let app = mock_builder()
            .invoke_handler(commands::handler())
            // The real context: its capabilities (ACL) decide what the web view may call.
            .build(tauri::generate_context!(test = true))
            .unwrap();
        app.manage(AppState::new(engine, paths, Settings::default()));
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Harness {
            _dir: dir,
            app,
            window,
        }
    }

    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.call_from("tauri://localhost", cmd, args)
    }

    fn call_from(&self, origin: &str, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: origin.parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn err(&self, cmd: &str, args: Value) -> Value {
        match self.call(cmd, args) {
            Ok(v) => panic!("{cmd} should fail, returned {v}"),
            Err(e) => e,
        }
    }

    fn engine(&self) -> sundial_engine::Engine {
        self.app.state::<AppState>().engine.clone()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        tauri::async_runtime::block_on(self.engine().shutdown(true));
    }
}

fn spec(name: &str, expr: &str) -> Value {
    json!({
        "name": name,
        "kind": {"type": "command", "program": {"mode": "exec", "program": "true"},
                 "env": [{"name": "TOKEN", "value": "s3cret", "secret": true}]},
        "trigger": {"type": "cron", "expr": expr, "timezone": "Europe/Riga"},
    })
}

fn fields(error: &Value) -> Vec<String> {
    error["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|e| e["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const UNKNOWN_ID: &str = "01HZX3K5V6Q8W2N4M7P9R0S1T2";

#[test]
fn malformed_ids_are_invalid_on_the_id_field() {
    let h = Harness::new();
    for (cmd, args) in [
        ("get_job", json!({"id": "nope"})),
        ("delete_job", json!({"id": ""})),
        ("run_job_now", json!({"id": "01HZX3K5V6Q8W2N4M7P9R0S1T2X"})),
        ("set_job_enabled", json!({"id": "x", "enabled": true})),
        ("get_run", json!({"id": "../../etc/passwd"})),
        ("cancel_run", json!({"id": "1"})),
        (
            "read_log_lines",
            json!({"runId": "zz", "start": 0, "count": 10}),
        ),
    ] {
        let e = h.err(cmd, args);
        assert_eq!(e["code"], "invalid", "{cmd}: {e}");
        assert_eq!(fields(&e), ["id"], "{cmd}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains("not valid"),
            "{cmd}: {e}"
        );
    }
}

#[test]
fn unknown_ids_are_not_found() {
    let h = Harness::new();
    for (cmd, args) in [
        ("get_job", json!({"id": UNKNOWN_ID})),
        ("delete_job", json!({"id": UNKNOWN_ID})),
        ("run_job_now", json!({"id": UNKNOWN_ID})),
        ("get_run", json!({"id": UNKNOWN_ID})),
        (
            "read_log_lines",
            json!({"runId": UNKNOWN_ID, "start": 0, "count": 10}),
        ),
    ] {
        let e = h.err(cmd, args);
        assert_eq!(e["code"], "not_found", "{cmd}: {e}");
        assert!(e.get("fields").is_none(), "{cmd}: {e}");
    }
}

#[test]
fn an_invalid_spec_reports_every_field_and_saves_nothing() {
    let h = Harness::new();
    let e = h.err("create_job", json!({"spec": spec("", "61 * * * *")}));
    assert_eq!(e["code"], "invalid");
    let f = fields(&e);
    assert!(f.iter().any(|f| f == "name"), "{e}");
    assert!(f.iter().any(|f| f.starts_with("trigger")), "{e}");
    assert_eq!(h.ok("list_jobs", json!({})), json!([]));
}

#[test]
fn a_malformed_spec_is_invalid_on_the_spec_field() {
    let h = Harness::new();
    let e = h.err("create_job", json!({"spec": {"name": "x"}}));
    assert_eq!(e["code"], "invalid");
    assert_eq!(fields(&e), ["spec"]);
    let e = h.err("create_job", json!({"spec": 42}));
    assert_eq!(fields(&e), ["spec"]);
}

#[test]
fn created_jobs_list_with_schedule_in_words_next_fire_and_masked_secrets() {
    let h = Harness::new();
    let job = h.ok(
        "create_job",
        json!({"spec": spec("Nightly export", "30 2 * * *")}),
    );
    assert_eq!(job["name"], "Nightly export");
    assert_eq!(job["kind"]["env"][0]["value"], "••••••");
    let list = h.ok("list_jobs", json!({}));
    let summary = &list[0];
    assert_eq!(summary["job"]["id"], job["id"]);
    let words = summary["schedule"].as_str().unwrap();
    assert!(words.contains("Europe/Riga"), "{words}");
    assert!(summary["next_fire"].is_string(), "{summary}");
    assert!(summary["last_run"].is_null());
    assert_eq!(summary["job"]["kind"]["env"][0]["value"], "••••••");
    let fetched = h.ok("get_job", json!({"id": job["id"]}));
    assert_eq!(fetched["kind"]["env"][0]["value"], "••••••");
}

#[test]
fn a_stale_revision_is_a_conflict() {
    let h = Harness::new();
    let job = h.ok("create_job", json!({"spec": spec("A", "0 * * * *")}));
    let id = job["id"].clone();
    let revision = job["revision"].as_i64().unwrap();
    h.ok(
        "update_job",
        json!({"id": id, "spec": spec("A", "5 * * * *"), "expectedRevision": revision}),
    );
    let e = h.err(
        "update_job",
        json!({"id": id, "spec": spec("A", "10 * * * *"), "expectedRevision": revision}),
    );
    assert_eq!(e["code"], "conflict", "{e}");
}

#[test]
fn counts_are_bounded() {
    let h = Harness::new();
    let trigger = json!({"type": "cron", "expr": "0 9 * * 1-5"});
    for count in [0, 101] {
        let e = h.err(
            "preview_trigger",
            json!({"trigger": trigger, "count": count}),
        );
        assert_eq!(fields(&e), ["count"], "{e}");
    }
    let e = h.err("list_runs", json!({"query": {"limit": 0}}));
    assert_eq!(fields(&e), ["limit"], "{e}");
    let e = h.err(
        "list_runs",
        json!({"query": {"limit": 10, "job_id": "bad"}}),
    );
    assert_eq!(fields(&e), ["id"], "{e}");
    let e = h.err("list_runs", json!({"query": {"limit": 10, "extra": 1}}));
    assert_eq!(fields(&e), ["query"], "{e}");
}

#[test]
fn preview_comes_from_the_engine_with_words() {
    let h = Harness::new();
    let p = h.ok(
        "preview_trigger",
        json!({"trigger": {"type": "cron", "expr": "0 9 * * 1-5", "timezone": "UTC"}, "count": 3}),
    );
    assert_eq!(p["fires"].as_array().unwrap().len(), 3);
    assert!(p["description"].as_str().unwrap().contains("UTC"));
    let e = h.err(
        "preview_trigger",
        json!({"trigger": {"type": "cron", "expr": "not cron"}, "count": 3}),
    );
    assert_eq!(e["code"], "invalid", "{e}");
    assert!(!fields(&e).is_empty(), "{e}");
}

#[test]
fn pause_and_resume_reach_the_engine() {
    let h = Harness::new();
    let status = h.ok("pause_all", json!({}));
    assert_eq!(status["paused"], true);
    assert!(tauri::async_runtime::block_on(h.engine().is_paused()).unwrap());
    let status = h.ok("resume_all", json!({}));
    assert_eq!(status["paused"], false);
    assert!(!tauri::async_runtime::block_on(h.engine().is_paused()).unwrap());
}

#[test]
fn settings_are_validated_before_saving() {
    let h = Harness::new();
    let mut settings = h.ok("get_settings", json!({}));
    settings["app_log_days"] = json!(0);
    let e = h.err("update_settings", json!({"settings": settings}));
    assert_eq!(fields(&e), ["app_log_days"]);
    settings["app_log_days"] = json!(30);
    settings["quit_behaviour"] = json!("cancel");
    let saved = h.ok("update_settings", json!({"settings": settings}));
    assert_eq!(saved["quit_behaviour"], "cancel");
    assert_eq!(h.ok("get_settings", json!({}))["app_log_days"], 30);
    let e = h.err(
        "update_settings",
        json!({"settings": {"quit_behaviour": "explode"}}),
    );
    assert_eq!(fields(&e), ["settings"]);
}

#[test]
fn autostart_without_its_plugin_is_an_error_not_a_panic() {
    let h = Harness::new();
    let e = h.err("get_autostart", json!({}));
    assert_eq!(e["code"], "internal");
}

#[test]
fn only_the_app_itself_may_call_commands() {
    let h = Harness::new();
    let e = h
        .call_from("https://example.com", "pause_all", json!({}))
        .unwrap_err();
    assert!(e.as_str().unwrap().contains("not allowed"), "{e}");
    assert!(!tauri::async_runtime::block_on(h.engine().is_paused()).unwrap());
    let e = h
        .call("plugin:shell|open", json!({"path": "https://example.com"}))
        .unwrap_err();
    assert!(e.as_str().unwrap().contains("not"), "{e}");
}
