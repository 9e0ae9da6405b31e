//! Secrets never reach what Sundial writes or shows: run log files (both streams, a secret
//! printed a byte at a time with flushes by a real process included), what the log viewer
//! reads and searches, `sundialctl logs show`, run errors, the application log, and exports
//! without `--include-secrets`; the files that may hold them are the user's alone (0600/0700).

mod cli_support;
mod helpers;

use std::path::Path;

use helpers::*;
use sundial_engine::domain::{EnvVar, Interpreter, JobKind, RunStatus, SECRET_MASK};
use sundial_engine::logs::{SearchOptions, SearchQuery, StreamIndex};
use sundial_engine::secrets::{KnownSecrets, RedactingWriter};

const SECRET: &str = "tok-9f8e7d6c5b";

/// Prints the secret one byte at a time (a flush and a pause between bytes) on stdout, then
/// an Authorization line on stderr the same way, then the secret whole on both.
const DRIP: &str = r#"
drip() {
  s=$1
  while [ -n "$s" ]; do
    rest=${s#?}
    printf '%s' "${s%"$rest"}"
    s=$rest
    sleep 0.01
  done
}
printf 'token='; drip "$API_TOKEN"; printf ' end\n'
{ printf 'Authorization: Bearer '; drip "$API_TOKEN"; printf '\n'; } >&2
echo "whole $API_TOKEN and $API_TOKEN"
echo "whole on stderr $API_TOKEN" >&2
echo "not a secret: tok-9f8e"
"#;

fn dripping_job() -> JobKind {
    with_env(
        script(Interpreter::Sh, DRIP),
        vec![
            EnvVar::secret("API_TOKEN", SECRET),
            EnvVar::new("PLAIN", "x"),
        ],
    )
}

#[tokio::test]
async fn a_secret_printed_a_byte_at_a_time_never_reaches_the_log_or_the_viewer() {
    let harness = Harness::new();
    let request = request(job(dripping_job(), Some(60)));
    let id = request.run.id;
    let outcome = harness.run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");

    let file = std::fs::read_to_string(harness.logs().log_path(id)).unwrap();
    assert!(
        !file.contains("9f8e7d6c5b"),
        "the secret is in the log file:\n{file}"
    );
    assert!(
        file.contains(&format!("O token={SECRET_MASK} end\n")),
        "{file}"
    );
    assert!(
        file.contains(&format!("E Authorization: Bearer {SECRET_MASK}\n")),
        "{file}"
    );
    assert!(file.contains(&format!("O whole {SECRET_MASK} and {SECRET_MASK}\n")));
    assert!(file.contains(&format!("E whole on stderr {SECRET_MASK}\n")));
    assert!(
        file.contains("O not a secret: tok-9f8e\n"),
        "a prefix alone stays: {file}"
    );

    // What the viewer reads: lines by number, per stream, and searches.
    let log = harness.logs().open(id).unwrap();
    let count = log.line_count().unwrap();
    assert_eq!(
        count, outcome.log_lines,
        "the index counts the masked lines"
    );
    assert_eq!(
        std::fs::metadata(harness.logs().log_path(id))
            .unwrap()
            .len(),
        outcome.log_bytes,
        "offsets describe the masked text"
    );
    let lines = log.read_lines(0, count as usize).unwrap();
    assert!(lines.iter().all(|l| !l.text.contains("9f8e7d6c5b")));
    for stream in [
        sundial_engine::logs::Stream::Stdout,
        sundial_engine::logs::Stream::Stderr,
    ] {
        let mut index = StreamIndex::new(stream);
        index.update(&log).unwrap();
        let shown = index.read(&log, 0, index.len() as usize).unwrap();
        assert!(!shown.is_empty());
        assert!(shown.iter().all(|l| !l.text.contains("9f8e7d6c5b")));
    }
    for query in [SECRET, "9f8e7d6c5b", "tok-9f8e7"] {
        let found = log
            .search(&SearchQuery::literal(query), SearchOptions::default())
            .unwrap();
        assert!(found.matches.is_empty(), "{query:?} found: {found:?}");
    }
    let masks = log
        .search(&SearchQuery::literal(SECRET_MASK), SearchOptions::default())
        .unwrap();
    assert_eq!(masks.matches.len(), 4, "{masks:?}");
}

#[tokio::test]
async fn a_secret_in_an_error_text_is_masked_in_the_run_error_and_the_log() {
    let harness = Harness::new();
    let program = format!("/nonexistent/{SECRET}/tool");
    let kind = with_env(
        exec(&program, &[]),
        vec![EnvVar::secret("API_TOKEN", SECRET)],
    );
    let request = request(job(kind, Some(10)));
    let id = request.run.id;
    let outcome = harness.run(request).await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert_eq!(
        error,
        format!("cannot start /nonexistent/{SECRET_MASK}/tool: program not found")
    );
    let file = std::fs::read_to_string(harness.logs().log_path(id)).unwrap();
    assert!(!file.contains(SECRET), "{file}");
}

#[tokio::test]
async fn http_logging_masks_secret_headers_query_credentials_and_cookies() {
    let server = TestServer::start().await;
    let harness = Harness::new();
    let mut spec = http(&format!(
        "{}?api_key=plain-query-key&page=2&t={SECRET}",
        server.url("/ok")
    ));
    spec.headers = vec![EnvVar::secret("X-Api-Token", SECRET)];
    // The test server answers 404 to a path with a query; the exchange is what matters.
    spec.expect_status.max = 404;
    let request = request(job(JobKind::Http(spec), Some(10)));
    let id = request.run.id;
    let outcome = harness.run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let heads = server.heads.lock().unwrap().clone();
    assert!(
        heads[0].contains(&format!("x-api-token: {SECRET}")),
        "sent as it is"
    );
    assert!(heads[0].contains("api_key=plain-query-key"));
    let file = std::fs::read_to_string(harness.logs().log_path(id)).unwrap();
    assert!(!file.contains(SECRET), "{file}");
    assert!(!file.contains("plain-query-key"), "{file}");
    assert!(
        file.contains(&format!("?api_key={SECRET_MASK}&page=2&t={SECRET_MASK}")),
        "{file}"
    );
}

#[tokio::test]
async fn the_application_log_writer_masks_every_secret_the_engine_has_seen() {
    // The engine tells the log's writer every secret it reads or writes.
    let known = KnownSecrets::new();
    let dir = tempfile::tempdir().unwrap();
    let engine = sundial_engine::Engine::start(
        sundial_engine::EngineConfig {
            known_secrets: known.clone(),
            ..sundial_engine::EngineConfig::new(dir.path().join("sundial.db"))
        },
        std::sync::Arc::new(sundial_engine::SystemClock),
        std::sync::Arc::new(Harness::new().runner),
    )
    .await
    .unwrap();
    let mut spec = spec_of(with_env(
        exec("true", &[]),
        vec![EnvVar::secret("K", SECRET)],
    ));
    spec.name = "logged".into();
    engine.create_job(spec).await.unwrap();
    engine.shutdown(false).await;
    let buffer = SharedBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer({
            let buffer = buffer.clone();
            let known = known.clone();
            move || RedactingWriter::new(buffer.clone(), known.clone())
        })
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!(url = %format!("https://h/?t={SECRET}"), "could not reach {SECRET}");
    });
    let text = buffer.text();
    assert!(text.contains("could not reach"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert_eq!(text.matches(SECRET_MASK).count(), 2, "{text}");
}

#[derive(Clone, Default)]
struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Over the CLI, as a user meets it: the run's log, `logs show`, exports, and the modes of
/// the files that may hold secrets.
#[cfg(unix)]
#[test]
fn the_cli_never_shows_a_secret_and_keeps_its_files_private() {
    use cli_support::{json, ok};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("job.toml");
    std::fs::write(
        &file,
        format!(
            "version = 1\n[[jobs]]\nname = \"drip\"\n[jobs.kind]\ntype = \"command\"\nenv = [{{ name = \"API_TOKEN\", value = \"{SECRET}\", secret = true }}]\n[jobs.kind.program]\nmode = \"script\"\ninterpreter = \"sh\"\nbody = '''{DRIP}'''\n[jobs.trigger]\ntype = \"manual\"\n"
        ),
    )
    .unwrap();
    ok(&data, &["jobs", "add", "--file", file.to_str().unwrap()]);
    let run = json(&data, &["jobs", "run", "drip"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    let run_id = run["id"].as_str().unwrap().to_string();

    let shown = ok(&data, &["logs", "show", &run_id]);
    assert!(
        shown.contains(&format!("token={SECRET_MASK} end")),
        "{shown}"
    );
    assert!(!shown.contains("9f8e7d6c5b"), "{shown}");
    let jobs_show = ok(&data, &["jobs", "show", "drip"]);
    assert!(!jobs_show.contains(SECRET), "{jobs_show}");

    let masked = dir.path().join("masked.toml");
    ok(&data, &["export", "--out", masked.to_str().unwrap()]);
    let text = std::fs::read_to_string(&masked).unwrap();
    assert!(
        !text.contains(SECRET) && text.contains(SECRET_MASK),
        "{text}"
    );
    let stdout_export = ok(&data, &["export", "--format", "json"]);
    assert!(!stdout_export.contains(SECRET), "{stdout_export}");

    let full = dir.path().join("full.toml");
    ok(
        &data,
        &[
            "export",
            "--include-secrets",
            "--out",
            full.to_str().unwrap(),
        ],
    );
    assert!(std::fs::read_to_string(&full).unwrap().contains(SECRET));
    assert_eq!(
        mode(&full),
        0o600,
        "an export with secrets is the user's alone"
    );

    assert_eq!(mode(&data), 0o700, "the data folder");
    assert_eq!(mode(&data.join("sundial.db")), 0o600, "the database");
    let wal = data.join("sundial.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "the database's WAL");
    }
    let logs = sundial_engine::logs::LogStore::new(data.join("runs"));
    let run_id: sundial_engine::domain::RunId = run_id.parse().unwrap();
    let log_path = logs.log_path(run_id);
    assert_eq!(mode(&log_path), 0o600, "a run log");
    assert_eq!(
        mode(log_path.parent().unwrap()),
        0o700,
        "a run log's day folder"
    );
    let on_disk = std::fs::read_to_string(&log_path).unwrap();
    assert!(!on_disk.contains("9f8e7d6c5b"), "{on_disk}");
}

#[tokio::test]
async fn a_secret_shorter_than_four_characters_is_refused_with_a_field_error() {
    let harness = engine_with_runner().await;
    let mut spec = spec_of(with_env(
        exec("true", &[]),
        vec![EnvVar::secret("PIN", "123")],
    ));
    spec.name = "short secret".into();
    let err = harness.create_job(spec).await.unwrap_err();
    let sundial_engine::EngineError::Invalid(errors) = err else {
        panic!("{err:?}");
    };
    assert_eq!(errors.fields(), ["kind.env[0].value"]);
    assert_eq!(
        errors.0[0].message,
        "is 3 characters long: a secret variable needs at least 4 characters (shorter values would be masked all over the logs); unmark it as secret if it is not one"
    );
    harness.shutdown(false).await;
}

fn spec_of(kind: JobKind) -> sundial_engine::domain::JobSpec {
    job(kind, None).spec
}

async fn engine_with_runner() -> sundial_engine::Engine {
    let dir = tempfile::tempdir().unwrap().keep();
    let logs = sundial_engine::LogStore::new(dir.join("runs"));
    let runner = sundial_engine::Runner::new(test_config(), logs.clone()).unwrap();
    let config = sundial_engine::EngineConfig {
        logs: Some(logs),
        ..sundial_engine::EngineConfig::new(dir.join("sundial.db"))
    };
    sundial_engine::Engine::start(
        config,
        std::sync::Arc::new(sundial_engine::SystemClock),
        std::sync::Arc::new(runner),
    )
    .await
    .unwrap()
}
