//! End to end in the real app window: tauri-driver + WebKitWebDriver start the built
//! `sundial` binary on a temporary data folder, and the tests use the window as a person
//! would (typing, clicking, reading), with the engine, runner and SQLite file behind it.
//! Needs a display (Xvfb), tauri-driver and WebKitWebDriver, so the tests are ignored by plain
//! `cargo test`; scripts/test.sh runs them with `--ignored` under xvfb-run.
//! With SUNDIAL_E2E_SHOTS=<dir>, the tests save screenshots of the window there (taken with
//! ImageMagick's `import` from the X display; WebKitWebDriver's own can show an older frame).
#![cfg(target_os = "linux")] // tauri-driver drives WebKitGTK here

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Timelike;

use serde_json::{Value, json};
use sundial_engine::domain::{
    JobId, MissedCause, MissedGap, MissedRunMode, Run, RunId, RunReason, RunStatus,
};
use sundial_engine::logs::Stream;
use sundial_engine::store::RunFilter;
use sundial_engine::{AppPaths, Engine, LogStore};

const WAIT: Duration = Duration::from_secs(30);

struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // tauri-driver, WebKitWebDriver and the app share a process group: a test that fails
        // midway must not leave its app running, or the next launch would only focus it (the
        // app is single-instance).
        kill_group(&mut self.child);
    }
}

/// Ends `child` and every process of its group (it was started as a group's leader).
fn kill_group(child: &mut Child) {
    // `--` first: without it, kill(1) can read "-<pgid>" as an option and signal every
    // process of the user (kill -1).
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &group])
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    async fn start(data_dir: &Path) -> Driver {
        let port = free_port();
        let native_port = free_port();
        let tauri_driver = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let child = Command::new(tauri_driver)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("SUNDIAL_DATA_DIR", data_dir)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tauri-driver must be installed (cargo install tauri-driver --locked)");
        Driver::ready(child, port, "tauri-driver").await
    }

    /// The WebDriver server `child` started on `port`, once it answers.
    async fn ready(child: Child, port: u16, what: &str) -> Driver {
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + WAIT;
        while driver
            .http
            .get(format!("{}/status", driver.base))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "{what} did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_send(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    /// A WebDriver call; `Err` carries the error and its message.
    async fn try_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        match response["value"].get("error") {
            Some(error) => Err(format!("{error}: {}", response["value"]["message"])),
            None => Ok(response["value"].clone()),
        }
    }
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    async fn open<'a>(driver: &'a Driver, application: &Path) -> Session<'a> {
        let value = driver
            .send(
                reqwest::Method::POST,
                "/session",
                Some(json!({"capabilities": {"alwaysMatch": {
                    "browserName": "wry",
                    "tauri:options": {"application": application}
                }}})),
            )
            .await;
        Session {
            driver,
            id: value["sessionId"].as_str().unwrap().to_string(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.id);
        self.driver
            .send(reqwest::Method::POST, &path, Some(body))
            .await
    }

    async fn get(&self, path: &str) -> Value {
        let path = format!("/session/{}{path}", self.id);
        self.driver.send(reqwest::Method::GET, &path, None).await
    }

    /// The elements matching a CSS selector (element ids).
    async fn find_all(&self, css: &str) -> Vec<String> {
        let path = format!("/session/{}/elements", self.id);
        let body = json!({"using": "css selector", "value": css});
        let deadline = Instant::now() + WAIT;
        let found = loop {
            // WebKitWebDriver can meet a node React is replacing: look again.
            match self
                .driver
                .try_send(reqwest::Method::POST, &path, Some(body.clone()))
                .await
            {
                Ok(found) => break found,
                Err(e) if e.contains("stale element") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("WebDriver {path}: {e}"),
            }
        };
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e.as_object()
                    .unwrap()
                    .values()
                    .next()
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    /// Types `text` into an element with real key events.
    async fn type_text(&self, element: &str, text: &str) {
        self.post(&format!("/element/{element}/value"), json!({"text": text}))
            .await;
    }

    /// Replaces what an input holds with `text`, typed as a person would: Backspace over the
    /// old value, then the keys. (WebDriver's Element Clear sets the value from script, which
    /// React's controlled inputs do not see: the next render put the old value back, and
    /// the typing was appended to it.)
    async fn replace_text(&self, element: &str, text: &str) {
        let old = self
            .get(&format!("/element/{element}/property/value"))
            .await;
        let backspaces = "\u{E003}".repeat(old.as_str().unwrap_or_default().chars().count());
        self.type_text(element, &format!("{backspaces}{text}"))
            .await;
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self
                .get(&format!("/element/{element}/property/value"))
                .await;
            if now.as_str() == Some(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the input holds {now} after typing {text:?} over {old}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the first element matching `css`.
    async fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(first) = self.find_all(css).await.into_iter().next() {
                return first;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {css}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first element matching `css`, once there is one (found again if the page
    /// re-rendered it in between).
    async fn click_css(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let element = self.wait_for(css).await;
            let path = format!("/session/{}/element/{element}/click", self.id);
            match self
                .driver
                .try_send(reqwest::Method::POST, &path, Some(json!({})))
                .await
            {
                Ok(_) => return,
                Err(e) if e.contains("stale element") && Instant::now() < deadline => continue,
                Err(e) => panic!("WebDriver {path}: {e}"),
            }
        }
    }

    /// Calls a Sundial command from the page, through the same IPC the UI uses.
    async fn invoke(&self, command: &str, args: Value) -> Value {
        self.execute_async(
            "window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((v) => done({ ok: v }), (e) => done({ err: e }));",
            json!([command, args]),
        )
        .await
    }

    /// Saves a screenshot of the window as `<SUNDIAL_E2E_SHOTS>/<name>.png`, when set.
    async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("SUNDIAL_E2E_SHOTS") else {
            return;
        };
        // Let the last change paint, then crop the screen to the window.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rect = self.get("/window/rect").await;
        let geometry = format!(
            "{}x{}+{}+{}",
            rect["width"], rect["height"], rect["x"], rect["y"]
        );
        let out = PathBuf::from(dir).join(format!("{name}.png"));
        let status = Command::new("import")
            .args(["-window", "root", "-crop", &geometry, "+repage"])
            .arg(&out)
            .status()
            .expect("ImageMagick's import is needed for screenshots");
        assert!(status.success(), "import failed for {}", out.display());
    }

    /// Waits until the texts of the elements matching `css` satisfy `check`.
    async fn wait_texts(
        &self,
        css: &str,
        what: &str,
        check: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let mut texts = Vec::new();
            for element in self.find_all(css).await {
                // The page re-renders while it is read: an element gone stale is read again.
                let path = format!("/session/{}/element/{element}/text", self.id);
                match self
                    .driver
                    .try_send(reqwest::Method::GET, &path, None)
                    .await
                {
                    Ok(text) => texts.push(text.as_str().unwrap_or_default().to_string()),
                    Err(e) if e.contains("stale element") => continue,
                    Err(e) => panic!("WebDriver {path}: {e}"),
                }
            }
            if check(&texts) {
                return texts;
            }
            if Instant::now() >= deadline {
                self.screenshot("failure").await;
                let alerts = self.alerts().await;
                panic!("timed out waiting for {what}; {css} shows {texts:?}; alerts: {alerts:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What the page says in its alerts and field errors: for the message of a failed wait.
    async fn alerts(&self) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all("[role=alert], [id$=-error]").await {
            let path = format!("/session/{}/element/{element}/text", self.id);
            if let Ok(text) = self
                .driver
                .try_send(reqwest::Method::GET, &path, None)
                .await
            {
                texts.push(text.as_str().unwrap_or_default().to_string());
            }
        }
        texts
    }

    /// Runs `script` in the page; it calls `done(value)` (its last argument) with the result.
    async fn execute_async(&self, script: &str, args: Value) -> Value {
        let body = format!("const done = arguments[arguments.length - 1];\n{script}");
        self.post("/execute/async", json!({"script": body, "args": args}))
            .await
    }

    /// Waits until the `textContent`s of the elements matching `css`, one per line, satisfy
    /// `check` (for text WebKitWebDriver reads as empty, such as a line cut with an ellipsis).
    async fn wait_content(&self, css: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self
                .execute_async(
                    "done([...document.querySelectorAll(arguments[0])].map((e) => e.textContent).join('\\n'));",
                    json!([css]),
                )
                .await;
            let text = text.as_str().unwrap_or_default().to_string();
            if check(&text) {
                return text;
            }
            if Instant::now() >= deadline {
                self.screenshot("failure").await;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; {css} shows {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn close(self) {
        let path = format!("/session/{}", self.id);
        self.driver.send(reqwest::Method::DELETE, &path, None).await;
    }
}

fn app_binary() -> PathBuf {
    std::env::var_os("SUNDIAL_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sundial")))
}

async fn engine_on(paths: &AppPaths) -> Engine {
    sundial_desktop::start_engine(
        paths,
        &sundial_desktop::settings::Settings::default(),
        sundial_engine::secrets::SecretStorage::Database,
        sundial_engine::secrets::KnownSecrets::new(),
    )
    .await
    .unwrap()
    .0
}

async fn seed(paths: &AppPaths, specs: &[Value]) -> Vec<JobId> {
    let engine = engine_on(paths).await;
    let mut ids = Vec::new();
    for spec in specs {
        let job = engine
            .create_job(serde_json::from_value(spec.clone()).unwrap())
            .await
            .unwrap();
        ids.push(job.id);
    }
    engine.shutdown(false).await;
    ids
}

/// Jobs that make the list look like an analyst's.
fn everyday_jobs() -> Vec<Value> {
    vec![
        json!({
            "name": "Nightly export",
            "description": "Sales tables to the warehouse",
            "tags": ["finance"],
            "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
            "trigger": {"type": "cron", "expr": "30 2 * * *", "timezone": "Europe/Riga"},
        }),
        json!({
            "name": "Fetch FX rates",
            "tags": ["finance", "http"],
            "kind": {"type": "http", "method": "GET", "url": "http://127.0.0.1:9/rates"},
            "trigger": {"type": "interval", "every": 15, "unit": "minutes"},
        }),
        json!({
            "name": "Clean temp files",
            "enabled": false,
            "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
            "trigger": {"type": "cron", "expr": "0 18 * * 5", "timezone": "UTC"},
        }),
    ]
}

/// A run id made at `t`, as the engine makes them (ULIDs sort by creation time).
fn run_id_at(t: chrono::DateTime<chrono::Utc>) -> RunId {
    let system = std::time::UNIX_EPOCH + Duration::from_millis(t.timestamp_millis() as u64);
    ulid::Ulid::from_datetime(system)
        .to_string()
        .parse()
        .unwrap()
}

/// Jobs with weeks of history, as an analyst's machine has after a while: an hourly sync
/// (every ninth run fails, a few are slow) with two jobs chained after it, a nightly export, a
/// disabled clean-up. Each past run has a short log. Returns the jobs' ids by name.
async fn seed_history(paths: &AppPaths) -> std::collections::HashMap<String, JobId> {
    let engine = engine_on(paths).await;
    let script = |body: &str| json!({"type": "command", "program": {"mode": "script", "interpreter": "sh", "body": body}});
    let mut ids = std::collections::HashMap::new();
    let mut add = async |spec: Value| {
        let job = engine
            .create_job(serde_json::from_value(spec).unwrap())
            .await
            .unwrap();
        ids.insert(job.spec.name.clone(), job.id);
        job.id
    };
    let sync = add(json!({
        "name": "Hourly sync",
        "description": "Orders from the shop's API into the staging tables",
        "tags": ["sales"],
        "kind": script("echo 'fetching orders'; sleep 0.3; echo 'fetched 1,204 orders'; echo 'staging: 1,204 rows written'"),
        "trigger": {"type": "cron", "expr": "0 * * * *", "timezone": "Europe/Riga"},
    }))
    .await;
    let load = add(json!({
        "name": "Load warehouse",
        "tags": ["sales"],
        "kind": script("echo loading"),
        "trigger": {"type": "after_job", "job_id": sync.to_string(), "on": "success"},
    }))
    .await;
    let notify = add(json!({
        "name": "Notify team",
        "kind": script("echo sent"),
        "trigger": {"type": "after_job", "job_id": load.to_string(), "on": "any"},
    }))
    .await;
    let nightly = add(json!({
        "name": "Nightly export",
        "description": "Sales tables to the warehouse",
        "tags": ["finance"],
        "kind": script("echo export"),
        "trigger": {"type": "cron", "expr": "30 2 * * *", "timezone": "Europe/Riga"},
    }))
    .await;
    let report = add(json!({
        "name": "Weekly report",
        "tags": ["finance"],
        "kind": script("echo report"),
        "trigger": {"type": "cron", "expr": "0 8 * * 1", "timezone": "Europe/Riga"},
    }))
    .await;
    add(json!({
        "name": "Clean temp files",
        "enabled": false,
        "kind": script("rm -rf /tmp/sundial-e2e-nothing"),
        "trigger": {"type": "cron", "expr": "0 18 * * 5", "timezone": "UTC"},
    }))
    .await;

    let logs = LogStore::new(paths.run_logs());
    let now = chrono::Utc::now();
    let hour = chrono::Duration::hours(1);
    let top_of_hour = now - chrono::Duration::seconds(now.timestamp() % 3600);
    let mut runs = Vec::new();
    let mut past = |job: JobId, at: chrono::DateTime<chrono::Utc>, ms: i64, failed: bool| {
        let id = run_id_at(at);
        let finished = at + chrono::Duration::milliseconds(ms);
        let mut log = logs.create(id, 1 << 20).unwrap();
        log.write_output(Stream::Stdout, at, b"fetching orders\n");
        if failed {
            log.write_output(
                Stream::Stderr,
                finished,
                b"error: the shop's API answered 502 Bad Gateway\n",
            );
        } else {
            log.write_output(Stream::Stdout, finished, b"fetched 1,204 orders\n");
        }
        let stats = log.finish(finished).unwrap();
        runs.push(Run {
            id,
            job_id: job,
            job_revision: 1,
            reason: RunReason::Schedule,
            attempt: 1,
            parent_run_id: None,
            scheduled_for: at,
            created_at: at,
            started_at: Some(at),
            finished_at: Some(finished),
            status: if failed {
                RunStatus::Failed
            } else {
                RunStatus::Succeeded
            },
            exit_code: Some(if failed { 1 } else { 0 }),
            http_status: None,
            error: failed.then(|| "exited with code 1".to_string()),
            log_bytes: stats.bytes,
            log_lines: stats.lines,
            cpu_ms: Some(ms as u64 / 3),
            peak_memory_bytes: Some(18 << 20),
            overrides: None,
            trigger_path: None,
            wait: Default::default(),
        });
    };
    // Hourly for 40 days; a failure now and then, a bad spell (a quarter of a day's runs) the
    // day before yesterday, a slow run now and then.
    let bad_day = now.with_timezone(&chrono::Local).date_naive() - chrono::Duration::days(2);
    // The lid was closed from 13 h 20 min to 7 h 55 min ago: nothing ran, and the ledger
    // says so (one entry per hourly job).
    let slept_from = top_of_hour - chrono::Duration::minutes(13 * 60 + 20);
    let woke = top_of_hour - chrono::Duration::minutes(7 * 60 + 55);
    for h in (1..=40 * 24_i64).rev() {
        let at = top_of_hour - hour * h as i32;
        if at > slept_from && at < woke {
            continue;
        }
        let local = at.with_timezone(&chrono::Local);
        let failed =
            h % 29 == 4 || (local.date_naive() == bad_day && (9..15).contains(&local.hour()));
        let ms = if h % 17 == 5 {
            4_200 + h * 3
        } else {
            320 + (h * 37) % 260
        };
        past(sync, at, ms, failed);
        if !failed {
            past(
                load,
                at + chrono::Duration::seconds(2),
                1_500 + (h * 53) % 900,
                h % 31 == 3,
            );
            past(
                notify,
                at + chrono::Duration::seconds(5),
                120 + h % 40,
                false,
            );
        }
        if at.format("%H:%M").to_string() == "00:00" {
            let night = at + chrono::Duration::minutes(30);
            past(nightly, night, 42_000 + (h * 911) % 30_000, h % 10 == 2);
        }
        if at.format("%u %H").to_string() == "1 06" {
            past(report, at, 95_000, false);
        }
    }
    let mut gaps = Vec::new();
    for job in [sync, load, notify] {
        let gap = MissedGap {
            run_id: RunId::new(),
            job_id: job,
            gap_start: slept_from,
            noticed_at: woke,
            first_slot: top_of_hour - hour * 13,
            last_slot: top_of_hour - hour * 8,
            missed: 6,
            counted_all: true,
            cause: MissedCause::Asleep,
            policy: MissedRunMode::RunOnce,
            ran: 1,
        };
        runs.push(Run {
            id: gap.run_id,
            job_id: job,
            job_revision: 1,
            reason: RunReason::Schedule,
            attempt: 1,
            parent_run_id: None,
            scheduled_for: gap.first_slot,
            created_at: woke,
            started_at: None,
            finished_at: Some(woke),
            status: RunStatus::Skipped,
            exit_code: None,
            http_status: None,
            error: Some(gap.describe(None)),
            log_bytes: 0,
            log_lines: 0,
            cpu_ms: None,
            peak_memory_bytes: None,
            overrides: None,
            trigger_path: None,
            wait: Default::default(),
        });
        gaps.push(gap);
    }
    engine
        .store()
        .record_firings(&runs, &gaps, &[])
        .await
        .unwrap();
    engine.shutdown(false).await;
    ids
}

fn ok(result: Value) -> Value {
    assert!(result.get("err").is_none(), "the call failed: {result}");
    result["ok"].clone()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_job_made_in_the_form_runs_and_its_log_is_searchable() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    seed(&paths, &everyday_jobs()).await;
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;

    // The seeded jobs, with the engine's words for their schedules.
    let names = session
        .wait_texts("[data-testid=job-name]", "the seeded jobs", |t| {
            t.len() == 3
        })
        .await;
    assert_eq!(
        names,
        ["Clean temp files", "Fetch FX rates", "Nightly export"]
    );

    // A new job through the form. First a cron expression that cannot be: the engine's
    // error shows next to the field as it is typed, and Save saves nothing.
    session.click_css("[data-testid=new-job]").await;
    let name = session.wait_for("[data-testid=editor-name]").await;
    session.type_text(&name, "Say hello").await;
    session
        .click_css("[data-testid=editor-program-mode] [role=radio]:nth-child(2)")
        .await;
    let body = session.wait_for("[data-testid=editor-program]").await;
    session
        .type_text(
            &body,
            "for i in $(seq 1 2000); do echo \"line $i\"; done; echo 'the needle-42 is here'; echo done >&2",
        )
        .await;
    let cron = session.wait_for("[data-testid=editor-cron]").await;
    session.type_text(&cron, "61 * * * *").await;
    let error = session
        .wait_texts(
            "[data-testid='field-error-trigger.expr']",
            "the cron field's error",
            |t| t.len() == 1 && !t[0].is_empty(),
        )
        .await;
    assert!(error[0].contains("minute field has 61"), "{error:?}");
    session.click_css("[data-testid=editor-save]").await;
    session
        .wait_texts(
            "[data-testid='field-error-trigger.expr']",
            "the error to stay after Save",
            |t| t.len() == 1,
        )
        .await;
    let jobs = ok(session.invoke("list_jobs", json!({})).await);
    assert_eq!(jobs.as_array().unwrap().len(), 3, "nothing was saved");

    // Fixed: the preview shows the next fire times in words, and Save creates the job.
    session.replace_text(&cron, "0 9 * * 1-5").await;
    session
        .wait_texts("[data-testid=fire-time]", "five fire times", |t| {
            t.len() == 5
        })
        .await;
    let words = session
        .wait_texts(
            "[data-testid=schedule-description]",
            "the schedule in words",
            |t| t.len() == 1 && !t[0].is_empty(),
        )
        .await;
    assert!(words[0].contains("09:00"), "{words:?}");
    assert!(
        session
            .find_all("[data-testid^='field-error-trigger']")
            .await
            .is_empty()
    );
    session.screenshot("editor").await;
    session.click_css("[data-testid=editor-save]").await;
    session
        .wait_texts(
            "[data-testid=editor-title]",
            "the saved job's screen",
            |t| t.len() == 1 && t[0].starts_with("Say hello"),
        )
        .await;

    // Run it now; it succeeds, in the list and in its history.
    session.click_css("[data-testid=job-run-now]").await;
    session.click_css("[data-testid=nav-jobs]").await;
    session
        .wait_texts(
            "[data-testid=job-row]",
            "the run to succeed in the list",
            |rows| {
                rows.iter()
                    .any(|r| r.contains("Say hello") && r.contains("Succeeded"))
            },
        )
        .await;
    session.screenshot("jobs").await;
    session.click_css("[data-testid=nav-history]").await;
    let statuses = session
        .wait_texts("[data-testid=history-status]", "the run in history", |t| {
            t.len() == 1
        })
        .await;
    assert!(statuses[0].contains("Succeeded"), "{statuses:?}");
    session.screenshot("history").await;

    // Its log: opened from history, read by range, searched.
    session.click_css("[data-testid=history-open-log]").await;
    session
        .wait_texts("[data-testid=log-line]", "the log's first lines", |t| {
            t.iter().any(|l| l.contains("line 1"))
        })
        .await;
    let search = session.wait_for("[data-testid=log-search]").await;
    session.type_text(&search, "needle-42").await;
    session
        .wait_texts("[data-testid=log-match-count]", "one match", |t| {
            t.len() == 1 && t[0].contains("1 of 1")
        })
        .await;
    let current = session
        .wait_texts(
            "[data-testid=log-current-match]",
            "the match in view",
            |t| t == ["needle-42"],
        )
        .await;
    assert_eq!(current.len(), 1);
    let lines = session
        .wait_texts("[data-testid=log-line]", "the matching line", |t| {
            t.iter().any(|l| l.contains("the needle-42 is here"))
        })
        .await;
    assert!(lines.len() > 5, "a screenful around the match: {lines:?}");
    session.screenshot("log-viewer").await;
    session.click_css("[data-testid=nav-settings]").await;
    session
        .wait_for("[data-testid=settings-max-parallel]")
        .await;
    session.screenshot("settings").await;

    // The same IPC a live log uses: a Channel that streams batches and ends with `done`;
    // and a bad id from the page comes back as Sundial's structured error.
    let streamed = session
        .execute_async(
            r#"
            const ipc = window.__TAURI_INTERNALS__;
            const runs = await ipc.invoke("list_runs", { query: { limit: 1 } });
            const batches = [];
            const id = ipc.transformCallback((raw) => {
              if (!("message" in raw)) return;
              batches.push(raw.message);
              if (raw.message.done) done({ batches });
            });
            ipc.invoke("follow_run_log", { runId: runs[0].id, fromLine: 0, onBatch: `__CHANNEL__:${id}` })
              .catch((error) => done({ error }));
            "#,
            json!([]),
        )
        .await;
    assert!(streamed.get("error").is_none(), "{streamed}");
    let batches = streamed["batches"].as_array().unwrap();
    assert!(batches.len() > 1, "2,000 lines come in several batches");
    assert!(batches.last().unwrap()["done"].as_bool().unwrap());
    let refused = session.invoke("get_job", json!({"id": "nope"})).await;
    assert_eq!(refused["err"]["code"], "invalid", "{refused}");
    assert_eq!(refused["err"]["fields"][0]["field"], "id", "{refused}");

    session.close().await;
    drop(driver);

    // The engine, opened again on the same database, saw it all.
    let engine = engine_on(&paths).await;
    let jobs = engine.list_jobs().await.unwrap();
    let hello = jobs.iter().find(|j| j.spec.name == "Say hello").unwrap();
    let runs = engine
        .list_runs(&RunFilter {
            job_id: Some(hello.id),
            limit: 10,
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    let log = LogStore::new(paths.run_logs()).open(runs[0].id).unwrap();
    assert!(log.line_count().unwrap() > 2000);
    engine.shutdown(false).await;
    // The application log was written to the shared data folder.
    let app_logs: Vec<_> = std::fs::read_dir(paths.app_logs()).unwrap().collect();
    assert!(!app_logs.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn pause_all_holds_a_due_job_and_resume_lets_it_run() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    let ids = seed(
        &paths,
        &[json!({
            "name": "Every second",
            "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
            "trigger": {"type": "cron", "expr": "* * * * * *", "timezone": "UTC"},
        })],
    )
    .await;
    // Paused before the window opens, so no firing runs before the test looks.
    {
        let engine = engine_on(&paths).await;
        engine.pause().await.unwrap();
        engine.shutdown(false).await;
    }
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;
    session
        .wait_texts("[data-testid=paused-badge]", "the paused badge", |t| {
            t == ["Paused"]
        })
        .await;
    // Resume and pause from the window, then let the job fall due several times.
    session.click_css("[data-testid=pause-toggle]").await;
    session
        .wait_texts("[data-testid=pause-toggle]", "the pause button", |t| {
            t == ["Pause all"]
        })
        .await;
    session.click_css("[data-testid=pause-toggle]").await;
    session
        .wait_texts("[data-testid=pause-toggle]", "the resume button", |t| {
            t == ["Resume all"]
        })
        .await;
    let runs_so_far = ok(session
        .invoke("list_runs", json!({"query": {"limit": 100}}))
        .await)
    .as_array()
    .unwrap()
    .len();
    let paused_at = chrono::Utc::now();
    // The job falls due every second; wait until three such seconds have passed.
    while chrono::Utc::now() < paused_at + chrono::Duration::milliseconds(3_500) {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let runs = ok(session
        .invoke("list_runs", json!({"query": {"limit": 100}}))
        .await);
    assert_eq!(
        runs.as_array().unwrap().len(),
        runs_so_far,
        "no firing ran while paused: {runs}"
    );
    session.screenshot("paused").await;

    // Resume: the next firing runs, and the list shows it.
    let resumed_at = chrono::Utc::now();
    session.click_css("[data-testid=pause-toggle]").await;
    session
        .wait_texts("[data-testid=pause-toggle]", "the pause button", |t| {
            t == ["Pause all"]
        })
        .await;
    let deadline = Instant::now() + WAIT;
    loop {
        let runs = ok(session
            .invoke("list_runs", json!({"query": {"limit": 5}}))
            .await);
        let ran_after_resume = runs.as_array().unwrap().iter().any(|r| {
            r["status"] == "succeeded"
                && r["job_id"] == json!(ids[0].to_string())
                && chrono::DateTime::parse_from_rfc3339(r["scheduled_for"].as_str().unwrap())
                    .unwrap()
                    >= resumed_at - chrono::Duration::seconds(1)
        });
        if ran_after_resume {
            break;
        }
        assert!(Instant::now() < deadline, "no run after resume: {runs}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    session
        .wait_texts("[data-testid=last-status]", "the list to show it", |t| {
            t == ["Succeeded"]
        })
        .await;
    session.close().await;
    drop(driver);
    let engine = engine_on(&paths).await;
    assert!(!engine.is_paused().await.unwrap(), "resume was persisted");
    engine.shutdown(false).await;
}

/// `sundialctl`, built beside the app in the same target folder (`cargo test --workspace`
/// builds it; SUNDIALCTL overrides).
fn sundialctl() -> PathBuf {
    std::env::var_os("SUNDIALCTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| app_binary().with_file_name("sundialctl"))
}

fn ctl(data: &Path, args: &[&str]) -> String {
    let out = Command::new(sundialctl())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("sundialctl must be built (cargo build -p sundial-engine --bin sundialctl)");
    assert!(
        out.status.success(),
        "sundialctl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn the_open_window_shows_and_fires_what_the_cli_adds_and_runs() {
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;
    session
        .wait_content("[data-testid=status-line]", "the status line", |t| {
            t.contains("No jobs running")
        })
        .await;
    // Added from a terminal while the window is open: it appears in the list and fires on the
    // window's schedule (the app holds the scheduler lease).
    let data_dir = data.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        ctl(
            &data_dir,
            &[
                "jobs",
                "add",
                "--name",
                "From the terminal",
                "--command",
                "echo hello",
                "--cron",
                "* * * * * *",
            ],
        )
    })
    .await
    .unwrap();
    session
        .wait_texts("[data-testid=job-row]", "the CLI's job in the list", |t| {
            t.iter().any(|row| row.contains("From the terminal"))
        })
        .await;
    session
        .wait_texts("[data-testid=last-status]", "its first run", |t| {
            t == ["Succeeded"]
        })
        .await;
    // Disabled from the terminal (so the history below is not all its runs), then a run made by
    // the CLI process shows in history.
    let data_dir = data.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        ctl(&data_dir, &["jobs", "disable", "From the terminal"]);
        ctl(
            &data_dir,
            &[
                "jobs",
                "add",
                "--name",
                "Run by hand",
                "--command",
                "echo by hand",
            ],
        );
        ctl(&data_dir, &["jobs", "run", "Run by hand"])
    })
    .await
    .unwrap();
    session.click_css("[data-testid=nav-history]").await;
    session
        .wait_content(
            "[data-testid=history-job]",
            "the CLI's run in history",
            |t| t.lines().next() == Some("Run by hand"),
        )
        .await;
    session.screenshot("history-cli").await;
    // Paused from the terminal: the header says so.
    let data_dir = data.path().to_path_buf();
    tokio::task::spawn_blocking(move || ctl(&data_dir, &["pause"]))
        .await
        .unwrap();
    session
        .wait_texts("[data-testid=paused-badge]", "the paused badge", |t| {
            t == ["Paused"]
        })
        .await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn while_the_daemon_schedules_the_window_says_so_and_takes_over_when_it_stops() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    seed(&paths, &everyday_jobs()).await;
    let mut daemon = Command::new(sundialctl())
        .arg("--data-dir")
        .arg(data.path())
        .arg("daemon")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start sundialctl daemon");
    // Its first line says it holds the lease.
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(daemon.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.contains("scheduling 3 job(s)"), "{first}");
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;
    let pid = daemon.id();
    session
        .wait_texts("[data-testid=scheduler-notice]", "who schedules", |t| {
            t.len() == 1
                && t[0].contains(&format!(
                    "Scheduling is done by sundialctl daemon, pid {pid} on this machine"
                ))
        })
        .await;
    // The next runs the daemon stored are shown, not "no run scheduled".
    session
        .wait_content("[data-testid=status-line]", "the next run", |t| {
            t.contains("Next: ")
        })
        .await;
    session.screenshot("passive").await;
    // The daemon stops (and gives the lease back): the window schedules from now on.
    let stopped = Command::new("kill")
        .args(["-s", "TERM", "--", &pid.to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(daemon.wait().unwrap().success());
    session
        .wait_texts("[data-testid=scheduler-notice]", "the notice to go", |t| {
            t.is_empty()
        })
        .await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_job_opens_on_its_overview_and_a_run_in_its_strip_opens_its_log() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    seed_history(&paths).await;
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;

    // The list: each job's recent runs as a strip, from one query.
    session
        .wait_for("[data-testid=job-row] [data-testid=strip-run]")
        .await;
    session.screenshot("jobs-list").await;
    session
        .click_css("[data-testid=job-name][aria-label='Open Hourly sync']")
        .await;
    session
        .wait_content("[data-testid=job-title]", "the job's screen", |t| {
            t == "Hourly sync"
        })
        .await;
    // The overview: 50 runs in the strip, the chain, rates, next firings.
    session
        .wait_for("[data-testid=run-strip] li:nth-child(50) [data-testid=strip-run]")
        .await;
    let strip = session
        .execute_async(
            "done([...document.querySelectorAll('[data-testid=strip-run]')].map((e) => e.dataset.status));",
            json!([]),
        )
        .await;
    let statuses: Vec<&str> = strip
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 50, "{statuses:?}");
    assert!(statuses.contains(&"failed") && statuses.contains(&"succeeded"));
    session
        .wait_content("[data-testid=chain-job]", "the chain", |t| {
            t.contains("Then Load warehouse")
        })
        .await;
    session
        .wait_texts("[data-testid=fire-time]", "five next firings", |t| {
            t.len() == 5
        })
        .await;

    // Run now: the page says it is going, then that it succeeded, with its log a click away.
    session.click_css("[data-testid=job-run-now]").await;
    session
        .wait_content(
            "[data-testid=started-run-words]",
            "the outcome in words",
            |t| t.starts_with("The run you started: Succeeded after "),
        )
        .await;
    session
        .wait_content("[data-testid=log-tail]", "the new run's log tail", |t| {
            t.contains("staging: 1,204 rows written")
        })
        .await;
    session.screenshot("overview").await;
    // Its calendar: a year of days, the bad spell in red.
    session
        .wait_for("[data-testid=overview-heatmap] [data-testid=heatmap-day][data-tone=many-failed]")
        .await;
    session
        .execute_async(
            "document.querySelector('[data-testid=overview-heatmap]').scrollIntoView({block: 'center'}); done(null);",
            json!([]),
        )
        .await;
    session.screenshot("heatmap").await;

    // A failed run in the strip opens its own log.
    session
        .click_css("[data-testid=strip-run][data-status=failed]")
        .await;
    session
        .wait_texts("[data-testid=log-line]", "the failed run's log", |t| {
            t.iter().any(|l| l.contains("502 Bad Gateway"))
        })
        .await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn the_timeline_draws_every_jobs_runs_and_a_bar_opens_its_log() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    seed_history(&paths).await;
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;

    session.click_css("[data-testid=nav-timeline]").await;
    session
        .wait_for("[data-testid=timeline-bar][data-status=failed]")
        .await;
    let rows = session
        .wait_content("[data-testid=timeline-row]", "a row per job", |t| {
            t.contains("Hourly sync") && t.contains("Notify team")
        })
        .await;
    assert!(
        !rows.contains("Clean temp files"),
        "a disabled job with no runs has no row: {rows}"
    );
    session.wait_for("[data-testid=timeline-upcoming]").await;
    // Last night's sleep, shaded from the missed-run ledger with what it cost.
    session
        .wait_content("[data-testid=timeline-gap]", "the sleep shaded", |t| {
            t.contains("Asleep — 3 jobs missed 18 firings, 3 caught up")
        })
        .await;
    session
        .wait_for("[data-testid=all-jobs-heatmap] [data-testid=heatmap-day][data-tone=ok3]")
        .await;
    session.screenshot("timeline").await;

    // A week: more bars; then a failed bar opens its run's log.
    let day_bars = session.find_all("[data-testid=timeline-bar]").await.len();
    session.click_css("[data-testid=zoom-week]").await;
    let deadline = Instant::now() + WAIT;
    while session.find_all("[data-testid=timeline-bar]").await.len() <= day_bars {
        assert!(
            Instant::now() < deadline,
            "the week shows no more runs than the day"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.click_css("[data-testid=zoom-day]").await;
    session
        .click_css("[data-testid=timeline-bar][data-status=failed]")
        .await;
    session
        .wait_texts("[data-testid=log-line]", "the failed run's log", |t| {
            t.iter().any(|l| l.contains("502 Bad Gateway"))
        })
        .await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_job_run_with_a_parameter_shows_it_in_history_and_its_log() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    let ids = seed(
        &paths,
        &[json!({
            "name": "Nightly report",
            "kind": {"type": "command",
                     "program": {"mode": "script", "interpreter": "sh",
                                 "body": "echo \"level=$LEVEL region=${REGION-none} args=$*\""},
                     "env": [{"name": "LEVEL", "value": "info"},
                             {"name": "API_TOKEN", "value": "tok-3141-5926", "secret": true}]},
            "trigger": {"type": "cron", "expr": "0 2 * * *"},
        })],
    )
    .await;
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;
    session
        .click_css("[data-testid=job-name][aria-label='Open Nightly report']")
        .await;
    session.click_css("[data-testid=job-run-with]").await;
    session
        .wait_for("[data-testid=run-with-env-row][data-name=LEVEL]")
        .await;
    // The job's values are there to change; the secret is masked and kept.
    session
        .wait_for(
            "[data-testid=run-with-env-row][data-name=API_TOKEN] [data-testid=run-with-env-value]",
        )
        .await;
    let masked = session
        .execute_async(
            "const e = document.querySelector('[data-testid=run-with-env-row][data-name=API_TOKEN] [data-testid=run-with-env-value]'); done({v: e.value, d: e.disabled});",
            json!([]),
        )
        .await;
    assert_eq!(masked["v"], "••••••", "{masked}");
    assert_eq!(masked["d"], true, "{masked}");
    let level = session
        .wait_for(
            "[data-testid=run-with-env-row][data-name=LEVEL] [data-testid=run-with-env-value]",
        )
        .await;
    session.replace_text(&level, "debug").await;
    session.click_css("[data-testid=run-with-add-env]").await;
    let name = session.wait_for("[data-testid=run-with-env-name]").await;
    session.type_text(&name, "REGION").await;
    let values = session.find_all("[data-testid=run-with-env-value]").await;
    session.type_text(values.last().unwrap(), "eu-north").await;
    let args = session.wait_for("[data-testid=run-with-args]").await;
    session.type_text(&args, "--full").await;
    session
        .wait_content("[data-testid=run-with-summary]", "the summary", |t| {
            t == "2 values set, 1 argument added"
        })
        .await;
    session.screenshot("run-with-dialog").await;
    session.click_css("[data-testid=run-with-start]").await;
    session
        .wait_content(
            "[data-testid=started-run-words]",
            "the outcome in words",
            |t| t.starts_with("The run you started: Succeeded after "),
        )
        .await;
    session
        .wait_content("[data-testid=started-run-overrides]", "the note", |t| {
            t == "with LEVEL=debug, REGION=eu-north, + --full"
        })
        .await;

    // History says what the run was run with.
    session.click_css("[data-testid=tab-history]").await;
    session
        .wait_content("[data-testid=history-overrides]", "the history note", |t| {
            t == "with LEVEL=debug, REGION=eu-north, + --full"
        })
        .await;
    session.screenshot("run-with-history").await;
    // The child got them: its log shows its environment and arguments.
    session.click_css("[data-testid=history-open-log]").await;
    session
        .wait_texts("[data-testid=log-line]", "the run's output", |t| {
            t.iter()
                .any(|l| l.contains("level=debug region=eu-north args=--full"))
        })
        .await;
    session
        .wait_content(
            "[data-testid=log-run-overrides]",
            "the run page's note",
            |t| t.starts_with("with LEVEL=debug"),
        )
        .await;
    // The job itself still has its own value.
    let job = ok(session
        .invoke("get_job", json!({"id": ids[0].to_string()}))
        .await);
    assert_eq!(job["kind"]["env"][0]["value"], "info", "{job}");
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_crontab_with_a_bad_line_is_reported_and_nothing_is_imported_until_confirmed() {
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;
    // A first start: the empty list offers the import.
    session
        .click_css("[data-testid=empty-import-crontab]")
        .await;
    let text = session.wait_for("[data-testid=import-text]").await;
    // Typed as a person would, a line at a time (WebDriver's Enter key, U+E007, ends a line).
    for line in [
        "0 2 * * * echo backup",
        "61 * * * * echo never",
        "*/15 * * * * echo ping",
    ] {
        session.type_text(&text, &format!("{line}\u{E007}")).await;
    }
    session.click_css("[data-testid=import-check]").await;
    let report = session
        .wait_texts(
            "[data-testid=import-entry-outcome]",
            "the report of every line",
            |t| t.len() == 3,
        )
        .await;
    assert!(
        report[0].contains("job: crontab:1 echo backup"),
        "{report:?}"
    );
    assert!(
        report[1].contains("not imported: time fields \"61 * * * *\""),
        "{report:?}"
    );
    assert!(report[2].contains("job: crontab:3 echo ping"), "{report:?}");
    session
        .wait_content("[data-testid=import-summary]", "the summary", |t| {
            t == "2 jobs to import, 1 line not imported"
        })
        .await;
    session.screenshot("import-report").await;
    // Checked, not imported: the database has no job yet.
    let jobs = ok(session.invoke("list_jobs", json!({})).await);
    assert_eq!(jobs.as_array().unwrap().len(), 0, "{jobs}");

    session.click_css("[data-testid=import-confirm]").await;
    let names = session
        .wait_texts("[data-testid=job-name]", "the imported jobs", |t| {
            t.len() == 2
        })
        .await;
    assert_eq!(names, ["crontab:1 echo backup", "crontab:3 echo ping"]);
    session.screenshot("import-done").await;
    let jobs = ok(session.invoke("list_jobs", json!({})).await);
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0]["job"]["trigger"]["expr"], "0 2 * * *");
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn the_selected_jobs_export_with_a_preview_of_the_text() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    seed(&paths, &everyday_jobs()).await;
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;
    // Rows by name: Clean temp files, Fetch FX rates, Nightly export.
    session
        .click_css("[data-testid=job-select][aria-label='Select Nightly export']")
        .await;
    session
        .click_css("[data-testid=job-select][aria-label='Select Fetch FX rates']")
        .await;
    session
        .wait_content("[data-testid=jobs-export]", "the export button", |t| {
            t == "Export 2…"
        })
        .await;
    session.click_css("[data-testid=jobs-export]").await;
    let toml = session
        .wait_content("[data-testid=export-file]", "the TOML preview", |t| {
            t.contains("name = \"Nightly export\"")
        })
        .await;
    assert!(toml.contains("name = \"Fetch FX rates\""), "{toml}");
    assert!(!toml.contains("Clean temp files"), "{toml}");
    session.screenshot("export-preview").await;
    // systemd: the HTTP job has no unit, and the dialog says so.
    session
        .click_css("[data-testid=export-format] option[value=systemd]")
        .await;
    session
        .wait_content(
            "[data-testid=export-untranslatable]",
            "what did not translate",
            |t| t.contains("“Fetch FX rates”"),
        )
        .await;
    session
        .wait_content("[data-testid=export-file]", "the units", |t| {
            t.contains("[Timer]") && t.contains("OnCalendar=")
        })
        .await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn a_file_arrives_job_made_in_the_editor_runs_for_a_dropped_file_with_its_path() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    let inbox = data.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // A file already there when the job is saved is not run for.
    std::fs::write(inbox.join("old.csv"), "a,b\n").unwrap();
    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;
    // The job, through the form from the empty list: a shell script, the file-arrives
    // trigger, a folder and *.csv.
    session.click_css("[data-testid=empty-new-job]").await;
    let name = session.wait_for("[data-testid=editor-name]").await;
    session.type_text(&name, "Load CSVs").await;
    session
        .click_css("[data-testid=editor-program-mode] [role=radio]:nth-child(2)")
        .await;
    let body = session.wait_for("[data-testid=editor-program]").await;
    session
        .type_text(
            &body,
            "echo \"loading $SUNDIAL_TRIGGER_PATH\"; echo \"rows: $(wc -l < \"$SUNDIAL_TRIGGER_PATH\")\"",
        )
        .await;
    session
        .click_css("[data-testid=editor-trigger-type] option[value=file_arrives]")
        .await;
    let folder = session.wait_for("[data-testid=editor-watch-folder]").await;
    session.type_text(&folder, inbox.to_str().unwrap()).await;
    let glob = session.wait_for("[data-testid=editor-watch-glob]").await;
    session.replace_text(&glob, "*.csv").await;
    let settle = session.wait_for("[data-testid=editor-watch-settle]").await;
    session.replace_text(&settle, "1").await;
    let words = session
        .wait_texts(
            "[data-testid=schedule-description]",
            "the trigger in words",
            |t| t.len() == 1 && t[0].contains("*.csv"),
        )
        .await;
    assert!(words[0].contains(inbox.to_str().unwrap()), "{words:?}");
    session.click_css("[data-testid=editor-save]").await;
    session
        .wait_texts(
            "[data-testid=editor-title]",
            "the saved job's screen",
            |t| t.len() == 1 && t[0].starts_with("Load CSVs"),
        )
        .await;
    let jobs = ok(session.invoke("list_jobs", json!({})).await);
    let job_id: JobId = jobs[0]["job"]["id"].as_str().unwrap().parse().unwrap();

    // Once the scheduler has recorded the files already there (its watch has begun), a file
    // lands, written in two pieces.
    let store = sundial_engine::store::Store::open(&paths.database())
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while store.file_watch(job_id).await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "the job never started watching");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.close().await;
    let dropped = inbox.join("data.csv");
    std::fs::write(&dropped, "id,amount\n1,10\n").unwrap();
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&dropped)
            .unwrap();
        file.write_all(b"2,20\n").unwrap();
    }

    // One run, for that file, in history with its path; its log has the path and the rows.
    session.click_css("[data-testid=nav-history]").await;
    let statuses = session
        .wait_texts("[data-testid=history-status]", "the run to succeed", |t| {
            t.len() == 1 && t[0].contains("Succeeded")
        })
        .await;
    assert_eq!(statuses.len(), 1, "one run, none for old.csv");
    session
        .wait_content(
            "[data-testid=history-trigger-path]",
            "the file's path in history",
            |t| t.contains("data.csv"),
        )
        .await;
    session.click_css("[data-testid=history-open-log]").await;
    let lines = session
        .wait_texts("[data-testid=log-line]", "the run's log", |t| {
            t.iter().any(|l| l.contains("rows: 3"))
        })
        .await;
    let path = dropped.to_str().unwrap();
    assert!(
        lines.iter().any(|l| l.contains(&format!("loading {path}"))),
        "{lines:?}"
    );
    session.close().await;
    drop(driver);

    let engine = engine_on(&paths).await;
    let runs = engine
        .list_runs(&RunFilter {
            job_id: Some(job_id),
            limit: 10,
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].trigger_path.as_deref(), Some(path));
    engine.shutdown(false).await;
}

// ----- the window closed to the tray and opened again (issue 18) --------------------------

/// The app started by the test itself (not by tauri-driver), with WebKit's automation and
/// inspector server on, so that a WebDriver session can attach to whichever window it has.
struct App {
    child: Child,
    inspector: u16,
}

impl Drop for App {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

impl App {
    fn start(data_dir: &Path) -> App {
        let inspector = free_port();
        let child = Command::new(app_binary())
            .env("SUNDIAL_DATA_DIR", data_dir)
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .env("WEBKIT_INSPECTOR_SERVER", format!("127.0.0.1:{inspector}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the app starts");
        App { child, inspector }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// WebKit's processes working for the app's web view (its children, read from /proc).
    fn webkit_processes(&self) -> Vec<(u32, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // "pid (comm) state ppid …"; comm is cut to 15 bytes ("WebKitWebProces").
            let Some((comm, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
            else {
                continue;
            };
            let ppid = rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(self.pid()) && comm.starts_with("WebKit") {
                found.push((pid, comm.to_string()));
            }
        }
        found
    }

    async fn wait_webkit(&self, what: &str, check: impl Fn(&[(u32, String)]) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.webkit_processes();
            if check(&now) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Driver {
    /// WebKitWebDriver attached to the running app's inspector server.
    async fn attach(app: &App) -> Driver {
        let port = free_port();
        let child = Command::new("WebKitWebDriver")
            .arg(format!("--port={port}"))
            .arg(format!("--target=127.0.0.1:{}", app.inspector))
            // The session of a closed window may not be known to be gone yet.
            .arg("--replace-on-new-session")
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("WebKitWebDriver must be installed (webkit2gtk-driver)");
        Driver::ready(child, port, "WebKitWebDriver").await
    }
}

impl Session<'_> {
    /// A session on the app's window, as it is now (a new one after the window was closed
    /// and opened again: WebKitWebDriver ends a session whose page goes).
    async fn attach<'a>(driver: &'a Driver) -> Session<'a> {
        let deadline = Instant::now() + WAIT;
        let session = loop {
            let created = driver
                .try_send(
                    reqwest::Method::POST,
                    "/session",
                    Some(json!({"capabilities": {"alwaysMatch": {}}})),
                )
                .await;
            match created {
                Ok(value) => {
                    break Session {
                        driver,
                        id: value["sessionId"].as_str().unwrap().to_string(),
                    };
                }
                Err(e) => assert!(Instant::now() < deadline, "no session on the app: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        loop {
            let handles = session.get("/window/handles").await;
            if let Some(handle) = handles.as_array().and_then(|h| h.first()) {
                session.post("/window", json!({"handle": handle})).await;
                return session;
            }
            assert!(Instant::now() < deadline, "the session has no window");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Closes the app's window the way its close button does: the X server delivers
/// WM_DELETE_WINDOW to each of the process's mapped top-level windows (there is no window
/// manager under Xvfb to do it). Returns how many were asked. Xlib through x11-dl (already in
/// the tree for tao) is the only unsafe code in the workspace, and only in this test.
#[allow(unsafe_code)]
fn close_windows_of(pid: u32) -> usize {
    use std::os::raw::{c_int, c_long, c_uchar, c_uint, c_ulong};
    use x11_dl::xlib;
    let x = xlib::Xlib::open().expect("libX11");
    let mut asked = 0;
    // SAFETY: plain Xlib calls on a display this function opens and closes; every pointer
    // handed back by Xlib is freed with XFree.
    unsafe {
        let display = (x.XOpenDisplay)(std::ptr::null());
        assert!(!display.is_null(), "no X display");
        let atom = |name: &str| {
            let name = std::ffi::CString::new(name).unwrap();
            (x.XInternAtom)(display, name.as_ptr(), xlib::False)
        };
        let (pid_atom, protocols, delete) = (
            atom("_NET_WM_PID"),
            atom("WM_PROTOCOLS"),
            atom("WM_DELETE_WINDOW"),
        );
        let root = (x.XDefaultRootWindow)(display);
        let (mut root_back, mut parent) = (0, 0);
        let mut children: *mut c_ulong = std::ptr::null_mut();
        let mut count: c_uint = 0;
        (x.XQueryTree)(
            display,
            root,
            &mut root_back,
            &mut parent,
            &mut children,
            &mut count,
        );
        for i in 0..count as usize {
            let window = *children.add(i);
            let (mut kind, mut format, mut items, mut after) = (0, 0 as c_int, 0, 0);
            let mut data: *mut c_uchar = std::ptr::null_mut();
            let read = (x.XGetWindowProperty)(
                display,
                window,
                pid_atom,
                0,
                1,
                xlib::False,
                xlib::XA_CARDINAL,
                &mut kind,
                &mut format,
                &mut items,
                &mut after,
                &mut data,
            );
            let owner = (read == 0 && items == 1).then(|| *(data as *const c_ulong));
            if !data.is_null() {
                (x.XFree)(data.cast());
            }
            let mut attributes: xlib::XWindowAttributes = std::mem::zeroed();
            (x.XGetWindowAttributes)(display, window, &mut attributes);
            if owner != Some(c_ulong::from(pid)) || attributes.map_state != xlib::IsViewable {
                continue;
            }
            let mut event: xlib::XEvent = std::mem::zeroed();
            event.client_message.type_ = xlib::ClientMessage;
            event.client_message.send_event = xlib::True;
            event.client_message.display = display;
            event.client_message.window = window;
            event.client_message.message_type = protocols;
            event.client_message.format = 32;
            event.client_message.data.set_long(0, delete as c_long);
            event
                .client_message
                .data
                .set_long(1, xlib::CurrentTime as c_long);
            (x.XSendEvent)(display, window, xlib::False, xlib::NoEventMask, &mut event);
            asked += 1;
        }
        if !children.is_null() {
            (x.XFree)(children.cast());
        }
        (x.XFlush)(display);
        (x.XCloseDisplay)(display);
    }
    asked
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn closing_the_window_ends_the_web_view_and_the_tray_command_brings_its_screen_back() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    // A job every second: the engine must go on while the window is closed.
    seed(
        &paths,
        &[json!({
            "name": "Heartbeat",
            "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
            "trigger": {"type": "cron", "expr": "* * * * * *", "timezone": "UTC"},
        })],
    )
    .await;
    let mut app = App::start(data.path());
    app.wait_webkit("the web view's processes", |p| {
        p.iter().any(|(_, c)| c.starts_with("WebKitWebProces"))
    })
    .await;
    let driver = Driver::attach(&app).await;
    let session = Session::attach(&driver).await;
    session
        .wait_content("[data-testid=job-row]", "the job listed", |t| {
            t.contains("Heartbeat")
        })
        .await;
    session.click_css("[data-testid=nav-timeline]").await;
    session.wait_for("[data-testid=timeline-row]").await;

    assert_eq!(close_windows_of(app.pid()), 1, "one window to close");
    app.wait_webkit("WebKit's processes to exit", |p| p.is_empty())
        .await;
    assert!(app.alive(), "closing the window does not quit Sundial");
    let closed_at = chrono::Utc::now();
    let store = sundial_engine::store::Store::open(&paths.database())
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let runs = store
            .list_runs(&RunFilter {
                limit: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        if runs
            .iter()
            .any(|r| r.status == RunStatus::Succeeded && r.scheduled_for > closed_at)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing ran while closed: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.close().await;
    assert!(
        app.webkit_processes().is_empty(),
        "no web view came back by itself: {:?}",
        app.webkit_processes()
    );

    // What a click on the tray icon or a second launch runs.
    let shown = Command::new(app_binary())
        .arg("--show")
        .env("SUNDIAL_DATA_DIR", data.path())
        .status()
        .unwrap();
    assert!(shown.success(), "sundial --show: {shown}");
    app.wait_webkit("a new web view", |p| {
        p.iter().any(|(_, c)| c.starts_with("WebKitWebProces"))
    })
    .await;
    let session = Session::attach(&driver).await;
    // The same screen as when it was closed, working: the timeline with the job's runs.
    session
        .wait_content("[data-testid=timeline-row]", "the timeline again", |t| {
            t.contains("Heartbeat")
        })
        .await;
    session.wait_for("[data-testid=timeline-bar]").await;
    session.screenshot("reopened-timeline").await;
    session.click_css("[data-testid=nav-jobs]").await;
    session
        .wait_content("[data-testid=job-row]", "the jobs list", |t| {
            t.contains("Heartbeat")
        })
        .await;
    assert!(app.alive());
}
