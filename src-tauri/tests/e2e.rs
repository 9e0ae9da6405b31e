//! End-to-end smoke test of the real app window: tauri-driver + WebKitWebDriver start the
//! built `sundial` binary on a temporary data folder, and calls go from the page through IPC
//! to the engine and back. Needs a display (Xvfb), tauri-driver and WebKitWebDriver, so it is
//! ignored by plain `cargo test`; scripts/test.sh runs it with `--ignored` under xvfb-run.
//! Set SUNDIAL_E2E_HOLD_SECS=n to keep the window open at the end (for a screenshot with
//! `import -window root`; WebKitWebDriver's own screenshots can show an older frame).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sundial_engine::domain::{JobId, RunStatus};
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tauri-driver must be installed (cargo install tauri-driver --locked)");
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
            assert!(Instant::now() < deadline, "tauri-driver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        if let Some(error) = response["value"].get("error") {
            panic!(
                "WebDriver {path}: {error}: {}",
                response["value"]["message"]
            );
        }
        response["value"].clone()
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
        self.post("/elements", json!({"using": "css selector", "value": css}))
            .await
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

    async fn text(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text"))
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn click(&self, element: &str) {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
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
                texts.push(self.text(&element).await);
            }
            if check(&texts) {
                return texts;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; {css} shows {texts:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs `script` in the page; it calls `done(value)` (its last argument) with the result.
    async fn execute_async(&self, script: &str, args: Value) -> Value {
        let body = format!("const done = arguments[arguments.length - 1];\n{script}");
        self.post("/execute/async", json!({"script": body, "args": args}))
            .await
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
    sundial_desktop::start_engine(paths, &sundial_desktop::settings::Settings::default())
        .await
        .unwrap()
        .0
}

async fn seed(paths: &AppPaths) -> (JobId, JobId) {
    let engine = engine_on(paths).await;
    let hello = engine
        .create_job(
            serde_json::from_value(json!({
                "name": "Say hello",
                "description": "Prints a greeting",
                "kind": {"type": "command", "program": {"mode": "script", "interpreter": "sh",
                         "body": "echo hello from sundial"}},
                "trigger": {"type": "manual"},
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let nightly = engine
        .create_job(
            serde_json::from_value(json!({
                "name": "Nightly export",
                "kind": {"type": "command", "program": {"mode": "exec", "program": "true"}},
                "trigger": {"type": "cron", "expr": "30 2 * * *", "timezone": "Europe/Riga"},
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    engine.shutdown(false).await;
    (hello.id, nightly.id)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run by scripts/test.sh"]
async fn the_window_talks_to_the_engine_through_ipc() {
    let data = tempfile::tempdir().unwrap();
    let paths = AppPaths::new(data.path());
    let (hello, _nightly) = seed(&paths).await;

    let driver = Driver::start(data.path()).await;
    let session = Session::open(&driver, &app_binary()).await;

    // Engine → IPC → page: the seeded jobs, with the engine's words for their schedules.
    let names = session
        .wait_texts("[data-testid=job-name]", "the seeded jobs", |t| {
            t.len() == 2
        })
        .await;
    assert_eq!(names, ["Nightly export", "Say hello"]);
    let schedules = session
        .wait_texts("[data-testid=job-schedule]", "schedules", |t| t.len() == 2)
        .await;
    assert!(schedules[0].contains("Europe/Riga"), "{schedules:?}");
    assert_eq!(schedules[1], "Only when run by hand");

    // Page → IPC → engine → runner, and the run's outcome back through engine events.
    let run_buttons = session.find_all("[data-testid=run-now]").await;
    session.click(&run_buttons[1]).await;
    session
        .wait_texts("[data-testid=last-status]", "the run to succeed", |t| {
            t == ["Succeeded"]
        })
        .await;

    // A finished run's log streams through a Channel in batches, and ends with `done`; the
    // same IPC the log viewer uses (the page's Channel helper is re-created with Tauri's
    // internals here, since the test cannot import the UI's modules).
    let streamed = session
        .execute_async(
            r#"
            const ipc = window.__TAURI_INTERNALS__;
            const runs = await ipc.invoke("list_runs", { query: { limit: 1 } });
            const batches = [];
            const id = ipc.transformCallback((raw) => {
              if (!("message" in raw)) return;
              batches.push(raw.message);
              if (raw.message.done) done({ runId: runs[0].id, batches });
            });
            ipc.invoke("follow_run_log", { runId: runs[0].id, fromLine: 0, onBatch: `__CHANNEL__:${id}` })
              .catch((error) => done({ error }));
            "#,
            json!([]),
        )
        .await;
    assert!(streamed.get("error").is_none(), "{streamed}");
    let batches = streamed["batches"].as_array().unwrap();
    assert!(batches.last().unwrap()["done"].as_bool().unwrap());
    let texts: Vec<&str> = batches
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap())
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"hello from sundial"), "{texts:?}");
    // And a bad id from the page comes back as Sundial's structured error.
    let refused = session
        .execute_async(
            r#"window.__TAURI_INTERNALS__.invoke("get_job", { id: "nope" })
                 .then(() => done(null), (error) => done(error));"#,
            json!([]),
        )
        .await;
    assert_eq!(refused["code"], "invalid", "{refused}");
    assert_eq!(refused["fields"][0]["field"], "id", "{refused}");

    // Pause all from the page.
    let toggle = session.find_all("[data-testid=pause-toggle]").await;
    assert_eq!(session.text(&toggle[0]).await, "Pause all");
    session.click(&toggle[0]).await;
    session
        .wait_texts("[data-testid=pause-toggle]", "the resume button", |t| {
            t == ["Resume all"]
        })
        .await;
    session
        .wait_texts("[data-testid=paused-badge]", "the paused badge", |t| {
            t == ["Paused"]
        })
        .await;

    if let Some(secs) = std::env::var("SUNDIAL_E2E_HOLD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        tokio::time::sleep(Duration::from_secs(secs)).await; // time to look at the window
    }
    session.close().await;
    drop(driver);

    // The engine, opened again on the same database, saw it all.
    let engine = engine_on(&paths).await;
    assert!(engine.is_paused().await.unwrap(), "pause was not persisted");
    let runs = engine
        .list_runs(&RunFilter {
            job_id: Some(hello),
            limit: 10,
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    let log = LogStore::new(paths.run_logs()).open(runs[0].id).unwrap();
    let lines = log.read_lines(0, 100).unwrap();
    assert!(
        lines.iter().any(|l| l.text == "hello from sundial"),
        "{lines:?}"
    );
    engine.shutdown(false).await;
    // The application log was written to the shared data folder.
    let app_logs: Vec<_> = std::fs::read_dir(paths.app_logs()).unwrap().collect();
    assert!(!app_logs.is_empty());
}
