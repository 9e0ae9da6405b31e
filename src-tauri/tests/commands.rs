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
        let settings = Settings::default();
        let (engine, runner) = tauri::async_runtime::block_on(sundial_desktop::start_engine(
            &paths,
            &settings,
            sundial_engine::secrets::SecretStorage::Database,
            sundial_engine::secrets::KnownSecrets::new(),
        ))
        .unwrap();
        let app = mock_builder()
            .invoke_handler(commands::handler())
            // The real context: its capabilities (ACL) decide what the web view may call.
            .build(tauri::generate_context!(test = true))
            .unwrap();
        app.manage(AppState::new(engine, paths, settings).with_runner(runner));
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
        ("get_run_values", json!({"id": "nope"})),
        ("cancel_run", json!({"id": "1"})),
        (
            "read_log_lines",
            json!({"view": {"source": {"kind": "run", "run_id": "zz"}}, "start": 0, "count": 10}),
        ),
        (
            "log_info",
            json!({"view": {"source": {"kind": "run", "run_id": "../x"}}}),
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
            json!({"view": {"source": {"kind": "run", "run_id": UNKNOWN_ID}}, "start": 0, "count": 10}),
        ),
        (
            "log_info",
            json!({"view": {"source": {"kind": "app", "day": "2001-01-01"}}}),
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

/// Runs a job printing `script` through sh and waits for it to end; returns the run id.
fn run_script(h: &Harness, name: &str, script: &str) -> String {
    let job = h.ok(
        "create_job",
        json!({"spec": {
            "name": name,
            "kind": {"type": "command", "program": {"mode": "script", "interpreter": "sh", "body": script}},
            "trigger": {"type": "manual"},
        }}),
    );
    let run = h.ok("run_job_now", json!({"id": job["id"]}));
    let id = run["id"].as_str().unwrap().to_string();
    let mut events = h.engine().subscribe();
    tauri::async_runtime::block_on(async {
        loop {
            let run = h.ok("get_run", json!({"id": id}));
            if run["finished_at"].is_string() {
                assert_eq!(run["status"], "succeeded", "{run}");
                break;
            }
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await;
        }
    });
    id
}

#[test]
fn a_log_view_reads_ranges_filters_a_stream_and_searches() {
    let h = Harness::new();
    let run = run_script(
        &h,
        "chatty",
        "i=0; while [ $i -lt 300 ]; do echo \"out $i\"; if [ $((i % 10)) -eq 0 ]; then echo \"err $i é\" >&2; fi; i=$((i+1)); done",
    );
    let all = json!({"source": {"kind": "run", "run_id": run}});
    let stderr = json!({"source": {"kind": "run", "run_id": run}, "stream": "stderr"});
    let info = h.ok("log_info", json!({"view": all}));
    let total = info["lines"].as_u64().unwrap();
    assert!(total >= 330, "{info}"); // 300 + 30 lines, and Sundial's own start/end notes
    assert_eq!(info["live"], false);
    assert!(info["path"].as_str().unwrap().ends_with(".log"));
    assert_eq!(h.ok("log_info", json!({"view": stderr}))["lines"], 30);

    let page = h.ok(
        "read_log_lines",
        json!({"view": stderr, "start": 10, "count": 5}),
    );
    let texts: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "err 100 é",
            "err 110 é",
            "err 120 é",
            "err 130 é",
            "err 140 é"
        ]
    );

    // Jumping to a file line in the filtered view lands on the first stderr line at or
    // after it (the two pipes are read separately, so their lines need not alternate).
    let every = h.ok(
        "read_log_lines",
        json!({"view": all, "start": 0, "count": 5000}),
    );
    let every = every.as_array().unwrap();
    let out_101 = every.iter().position(|l| l["text"] == "out 101").unwrap() as u64;
    let err_100 = every.iter().position(|l| l["text"] == "err 100 é").unwrap();
    assert_eq!(
        page[0]["number"],
        json!(err_100),
        "lines keep their numbers in the file"
    );
    let expected = every
        .iter()
        .filter(|l| l["stream"] == "stderr")
        .position(|l| l["number"].as_u64().unwrap() >= out_101)
        .unwrap_or(30);
    assert_eq!(
        h.ok("locate_log_line", json!({"view": stderr, "line": out_101})),
        json!(expected)
    );
    let last_err = every.iter().rposition(|l| l["stream"] == "stderr").unwrap() as u64;
    assert_eq!(
        h.ok("locate_log_line", json!({"view": stderr, "line": last_err})),
        29
    );

    // Search: every match counted, a page returned, ranges in UTF-16 units.
    let found = h.ok(
        "search_log",
        json!({"view": stderr, "search": {"pattern": "0 é", "regex": false, "case_sensitive": true, "from": 0, "max_matches": 4}}),
    );
    assert_eq!(found["total"], 30);
    let matches = found["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 4);
    assert_eq!(matches[1]["position"], 1);
    assert_eq!(
        matches[1]["ranges"],
        json!([[5, 8]]),
        "\"err 10 é\": é is one unit"
    );
    assert_eq!(found["next"], 4);
    let rest = h.ok(
        "search_log",
        json!({"view": stderr, "search": {"pattern": "ERR \\d+5?0 ", "regex": true, "case_sensitive": false, "from": 4, "max_matches": 100}}),
    );
    assert_eq!(rest["total"], 26);
    assert_eq!(rest["next"], 30);

    let e = h.err(
        "search_log",
        json!({"view": all, "search": {"pattern": "(unclosed", "regex": true, "case_sensitive": true, "from": 0, "max_matches": 10}}),
    );
    assert_eq!(e["code"], "invalid", "{e}");
    let e = h.err(
        "search_log",
        json!({"view": all, "search": {"pattern": "x", "regex": false, "case_sensitive": true, "from": 0, "max_matches": 10001}}),
    );
    assert_eq!(fields(&e), ["search.max_matches"], "{e}");
    let e = h.err(
        "read_log_lines",
        json!({"view": all, "start": 0, "count": 5001}),
    );
    assert_eq!(fields(&e), ["count"], "{e}");
}

#[test]
fn the_application_log_is_listed_and_read_like_a_run_log() {
    let h = Harness::new();
    let dir = h.app.state::<AppState>().paths.app_logs();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("sundial.2026-11-20.log"),
        "2026-11-20T08:00:00.000000Z  INFO sundial: started\n2026-11-20T08:00:01.000000Z ERROR sundial: the disk is full\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a log").unwrap();
    let files = h.ok("list_app_logs", json!({}));
    let days: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["day"].as_str().unwrap())
        .collect();
    assert!(days.contains(&"2026-11-20"), "{files}");
    assert!(
        days.windows(2).all(|w| w[0] > w[1]),
        "newest first: {files}"
    );
    let view = json!({"source": {"kind": "app", "day": "2026-11-20"}});
    let info = h.ok("log_info", json!({"view": view}));
    assert_eq!(info["lines"], 2);
    assert_eq!(info["live"], false, "an earlier day is finished");
    // Today's file is being written: the viewer polls it.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    std::fs::write(
        dir.join(format!("sundial.{today}.log")),
        "2026-11-21T08:00:00.000000Z  INFO sundial: started\n",
    )
    .unwrap();
    let info = h.ok(
        "log_info",
        json!({"view": {"source": {"kind": "app", "day": today}}}),
    );
    assert_eq!(info["live"], true);
    let lines = h.ok(
        "read_log_lines",
        json!({"view": view, "start": 0, "count": 10}),
    );
    assert_eq!(lines[1]["stream"], "stderr", "errors stand out");
    assert_eq!(lines[1]["time"], "2026-11-20T08:00:01.000000Z");
    let errors = json!({"source": {"kind": "app", "day": "2026-11-20"}, "stream": "stderr"});
    assert_eq!(h.ok("log_info", json!({"view": errors}))["lines"], 1);
    for day in ["../../etc/passwd", "2026-13-01", ""] {
        let e = h.err(
            "log_info",
            json!({"view": {"source": {"kind": "app", "day": day}}}),
        );
        assert_eq!(fields(&e), ["source.day"], "{day}: {e}");
    }
}

#[test]
fn the_parallel_cap_and_retention_apply_when_saved() {
    let h = Harness::new();
    let mut settings = h.ok("get_settings", json!({}));
    settings["max_parallel"] = json!(5);
    settings["max_log_mib"] = json!(1);
    settings["theme"] = json!("dark");
    h.ok("update_settings", json!({"settings": settings}));
    assert_eq!(h.engine().max_parallel(), 5);
    let state = h.app.state::<AppState>();
    assert_eq!(state.runner.as_ref().unwrap().max_log_bytes(), 1024 * 1024);
    settings["max_parallel"] = json!(0);
    let e = h.err("update_settings", json!({"settings": settings}));
    assert_eq!(fields(&e), ["max_parallel"]);
    assert_eq!(
        h.engine().max_parallel(),
        5,
        "a refused change changes nothing"
    );

    let kept = h.ok(
        "set_retention",
        json!({"policy": {"keep_runs": 50, "keep_days": null}}),
    );
    assert_eq!(kept, json!({"keep_runs": 50, "keep_days": null}));
    assert_eq!(h.ok("get_retention", json!({})), kept);
    let e = h.err(
        "set_retention",
        json!({"policy": {"keep_runs": 0, "keep_days": 5}}),
    );
    assert_eq!(fields(&e), ["keep_runs"]);
    assert_eq!(h.ok("get_retention", json!({})), kept);
}

#[test]
fn history_filters_by_time() {
    let h = Harness::new();
    let run = run_script(&h, "quick", "echo hi");
    let all = h.ok(
        "list_runs",
        json!({"query": {"limit": 10, "from": "2000-01-01T00:00:00Z"}}),
    );
    assert_eq!(all[0]["id"], json!(run));
    let none = h.ok(
        "list_runs",
        json!({"query": {"limit": 10, "to": "2000-01-01T00:00:00Z"}}),
    );
    assert_eq!(none, json!([]));
    let e = h.err(
        "list_runs",
        json!({"query": {"limit": 10, "from": "yesterday"}}),
    );
    assert_eq!(fields(&e), ["from"], "{e}");
}

#[test]
fn the_pictures_read_engine_aggregates_over_bounded_windows() {
    let h = Harness::new();
    let job = h.ok("create_job", json!({"spec": spec("daily", "30 2 * * *")}));
    let id = job["id"].as_str().unwrap().to_string();
    let run = run_script(&h, "quick", "echo hi");

    let overview = h.ok("job_overview", json!({"id": id}));
    assert_eq!(overview["next_fires"].as_array().unwrap().len(), 5);
    assert_eq!(overview["recent_runs"], json!([]));
    assert_eq!(
        overview["last_7_days"],
        json!({"succeeded": 0, "failed": 0})
    );

    let strips = h.ok("run_strips", json!({"perJob": 20}));
    assert_eq!(strips[0]["id"], json!(run), "{strips}");
    assert_eq!(strips[0]["status"], json!("succeeded"));

    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::hours(24)).to_rfc3339();
    let to = (now + chrono::Duration::hours(24)).to_rfc3339();
    let timeline = h.ok("timeline", json!({"from": from, "to": to}));
    assert_eq!(timeline["runs"][0]["id"], json!(run), "{timeline}");
    let upcoming = timeline["upcoming"].as_array().unwrap();
    assert_eq!(
        upcoming.len(),
        1,
        "the daily job fires once in the next day: {timeline}"
    );
    assert_eq!(upcoming[0]["job_id"], json!(id));

    let days = h.ok("daily_outcomes", json!({"from": from, "to": to}));
    assert_eq!(days.as_array().unwrap().len(), 1, "{days}");
    assert_eq!(days[0]["runs"], json!(1));

    let backwards = h.err("timeline", json!({"from": to, "to": from}));
    assert_eq!(fields(&backwards), ["to"], "{backwards}");
    let far = (now + chrono::Duration::days(60)).to_rfc3339();
    let too_wide = h.err("timeline", json!({"from": from, "to": far}));
    assert_eq!(fields(&too_wide), ["to"], "{too_wide}");
    let e = h.err("run_strips", json!({"perJob": 0}));
    assert_eq!(fields(&e), ["per_job"], "{e}");
}

fn crontab_source(text: &str) -> Value {
    json!({"text": text, "format": "crontab", "origin": "crontab",
           "timezone": "Europe/Riga", "on_conflict": "error"})
}

#[test]
fn an_import_is_previewed_then_applied_only_as_previewed() {
    let h = Harness::new();
    let source = crontab_source("0 2 * * * echo backup\n61 * * * * echo never\n");
    let plan = h.ok("preview_import", json!({"source": source}));
    let entries = plan["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{plan}");
    assert_eq!(entries[0]["outcome"]["type"], "create");
    assert_eq!(entries[0]["outcome"]["name"], "crontab:1 echo backup");
    assert_eq!(entries[1]["outcome"]["type"], "not_a_job");
    assert_eq!(entries[1]["outcome"]["kind"], "invalid");
    assert_eq!(plan["ready"], true);
    // The preview wrote nothing.
    assert_eq!(h.ok("list_jobs", json!({})).as_array().unwrap().len(), 0);

    // Another edit takes the name: the plan is stale, a conflict, and nothing is written.
    h.ok(
        "create_job",
        json!({"spec": spec("crontab:1 echo backup", "0 * * * *")}),
    );
    let e = h.err("apply_import", json!({"source": source, "plan": plan}));
    assert_eq!(e["code"], "conflict", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("preview again"),
        "{e}"
    );
    assert_eq!(h.ok("list_jobs", json!({})).as_array().unwrap().len(), 1);

    // Previewed again with rename, it applies as shown.
    let mut source = source;
    source["on_conflict"] = json!("rename");
    let plan = h.ok("preview_import", json!({"source": source}));
    let report = h.ok("apply_import", json!({"source": source, "plan": plan}));
    assert_eq!(
        report["renamed"][0]["to"], "crontab:1 echo backup (2)",
        "{report}"
    );
    assert_eq!(h.ok("list_jobs", json!({})).as_array().unwrap().len(), 2);
}

#[test]
fn import_and_export_inputs_are_checked_on_their_fields() {
    let h = Harness::new();
    let e = h.err(
        "preview_import",
        json!({"source": {"text": "", "format": "crontab-ish"}}),
    );
    assert_eq!(fields(&e), ["source"], "{e}");
    let e = h.err("export_jobs", json!({"ids": [], "format": "toml"}));
    assert_eq!(fields(&e), ["ids"], "{e}");
    let e = h.err("export_jobs", json!({"ids": ["nope"], "format": "toml"}));
    assert_eq!(fields(&e), ["ids[0]"], "{e}");
    let job = h.ok("create_job", json!({"spec": spec("A", "0 * * * *")}));
    let e = h.err("export_jobs", json!({"ids": [job["id"]], "format": "yaml"}));
    assert_eq!(fields(&e), ["format"], "{e}");
    // Dialogs need their plugin: an error, not a panic.
    let e = h.err("choose_import_file", json!({}));
    assert_eq!(e["code"], "internal", "{e}");
}

#[test]
fn an_export_masks_secrets_and_says_what_does_not_translate() {
    let h = Harness::new();
    let a = h.ok("create_job", json!({"spec": spec("A", "*/10 * * * *")}));
    let toml = h.ok("export_jobs", json!({"ids": [a["id"]], "format": "toml"}));
    let content = toml["files"][0]["content"].as_str().unwrap();
    assert!(content.contains("name = \"A\""), "{content}");
    assert!(!content.contains("s3cret"), "{content}");
    let systemd = h.ok(
        "export_jobs",
        json!({"ids": [a["id"]], "format": "systemd"}),
    );
    let names: Vec<&str> = systemd["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sundial-a.service", "sundial-a.timer"], "{systemd}");
}

#[test]
fn no_crontab_is_a_message_not_an_error() {
    use std::os::unix::process::ExitStatusExt;
    let said = sundial_desktop::commands::transfer::crontab_text(Ok(std::process::Output {
        status: std::process::ExitStatus::from_raw(1 << 8),
        stdout: Vec::new(),
        stderr: b"no crontab for me\n".to_vec(),
    }));
    assert_eq!(said.text, "");
    assert_eq!(said.message.as_deref(), Some("you have no crontab"));
    let missing = sundial_desktop::commands::transfer::crontab_text(Err(std::io::Error::from(
        std::io::ErrorKind::NotFound,
    )));
    assert!(missing.message.unwrap().contains("no crontab program"));
}

#[test]
fn a_chosen_file_is_read_as_text_with_its_format_and_an_export_is_written_where_asked() {
    use sundial_desktop::commands::transfer::{read_import_file, write_export};
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("jobs.toml");
    std::fs::write(&toml, "version = 1\n").unwrap();
    let read = read_import_file(&toml).unwrap();
    assert_eq!(read.name, "jobs.toml");
    assert_eq!(read.text, "version = 1\n");
    assert_eq!(
        read.format,
        Some(sundial_engine::files::transfer::ImportFormat::Toml)
    );
    let crontab = dir.path().join("crontab");
    std::fs::write(&crontab, "* * * * * true\n").unwrap();
    assert_eq!(read_import_file(&crontab).unwrap().format, None);
    let binary = dir.path().join("picture.png");
    std::fs::write(&binary, [0x89, b'P', b'N', b'G', 0xff, 0xfe]).unwrap();
    let e = read_import_file(&binary).unwrap_err();
    assert_eq!(e.fields.unwrap()[0].field, "file");

    let h = Harness::new();
    let a = h.ok("create_job", json!({"spec": spec("A", "*/10 * * * *")}));
    let export: sundial_engine::files::transfer::Export = serde_json::from_value(h.ok(
        "export_jobs",
        json!({"ids": [a["id"]], "format": "systemd"}),
    ))
    .unwrap();
    let units = dir.path().join("units");
    write_export(&export, &units, true).unwrap();
    assert!(units.join("sundial-a.timer").exists());
    let file = dir.path().join("out.toml");
    let toml: sundial_engine::files::transfer::Export =
        serde_json::from_value(h.ok("export_jobs", json!({"ids": [a["id"]], "format": "toml"})))
            .unwrap();
    write_export(&toml, &file, false).unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        toml.files[0].content
    );
}
