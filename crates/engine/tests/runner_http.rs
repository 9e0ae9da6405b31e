//! HTTP runs against a real server on 127.0.0.1: success, each kind of failure, and what
//! the run log shows.

mod helpers;

use helpers::*;
use sundial_engine::domain::{EnvVar, JobKind, RunStatus, SECRET_MASK};
use sundial_engine::logs::Stream;

#[tokio::test]
async fn a_matching_response_succeeds_and_the_exchange_is_logged() {
    let server = TestServer::start().await;
    let harness = Harness::new();
    let mut spec = http(&server.url("/ok"));
    spec.body_contains = Some("sundial".to_string());
    let (outcome, lines) = harness.run_job(JobKind::Http(spec), Some(10)).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.http_status, Some(200));
    assert_eq!(outcome.exit_code, None);
    let notes: Vec<&str> = lines
        .iter()
        .filter(|l| l.stream == Stream::Sundial)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(notes[0], format!("> GET {}", server.url("/ok")));
    assert!(notes.contains(&"< HTTP/1.1 200 OK"), "{notes:?}");
    assert!(notes.contains(&"< content-type: text/plain"), "{notes:?}");
    let body: Vec<&str> = lines
        .iter()
        .filter(|l| l.stream == Stream::Stdout)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(body, ["hello sundial", "second line"]);
    assert_eq!(outcome.log_lines, lines.len() as u64);
}

#[tokio::test]
async fn a_status_outside_the_expected_range_fails() {
    let server = TestServer::start().await;
    let harness = Harness::new();
    let (outcome, _) = harness
        .run_job(JobKind::Http(http(&server.url("/status/500"))), Some(10))
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(outcome.http_status, Some(500));
    assert_eq!(
        outcome.error.as_deref(),
        Some("HTTP status 500 Internal Server Error is outside the expected range 200–299")
    );
}

#[tokio::test]
async fn a_body_without_the_expected_text_fails() {
    let server = TestServer::start().await;
    let harness = Harness::new();
    let mut spec = http(&server.url("/ok"));
    spec.body_contains = Some("goodbye".to_string());
    let (outcome, _) = harness.run_job(JobKind::Http(spec), Some(10)).await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(outcome.http_status, Some(200));
    assert_eq!(
        outcome.error.as_deref(),
        Some("the response body (26 bytes) does not contain \"goodbye\"")
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = TestServer::start().await;
    let harness = Harness::new();
    let url = server.url("/hang");
    let (outcome, _) = harness.run_job(JobKind::Http(http(&url)), Some(1)).await;
    assert_eq!(outcome.status, RunStatus::TimedOut);
    assert_eq!(
        outcome.error.as_deref(),
        Some(format!("timed out after 1 s waiting for GET {url}").as_str())
    );
}

#[tokio::test]
async fn a_refused_connection_says_so() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let harness = Harness::new();
    let (outcome, lines) = harness
        .run_job(JobKind::Http(http(&format!("http://{addr}/x"))), Some(10))
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(outcome.http_status, None);
    let error = outcome.error.unwrap();
    assert_eq!(
        error,
        format!("connection refused by {addr}: nothing is listening there")
    );
    assert!(text_lines(&lines).iter().any(|t| t.contains(&error)));
}

#[tokio::test]
async fn secret_header_values_are_sent_but_never_logged() {
    let server = TestServer::start().await;
    let harness = Harness::new();
    let mut spec = http(&server.url("/ok"));
    spec.method = "post".to_string();
    spec.body = Some("{\"a\":1}".to_string());
    spec.headers = vec![
        EnvVar::secret("Authorization", "Bearer s3cr3t-t0ken"),
        EnvVar::new("X-Trace", "visible-value"),
    ];
    let request = request(job(JobKind::Http(spec), Some(10)));
    let id = request.run.id;
    let outcome = harness.run(request).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");

    let heads = server.heads.lock().unwrap().clone();
    assert!(heads[0].starts_with("POST /ok HTTP/1.1"));
    assert!(heads[0].contains("authorization: Bearer s3cr3t-t0ken"));

    let file = std::fs::read_to_string(harness.logs().log_path(id)).unwrap();
    assert!(
        !file.contains("s3cr3t"),
        "the secret is in the log:\n{file}"
    );
    assert!(file.contains(&format!("S > Authorization: {SECRET_MASK}\n")));
    assert!(file.contains("S > X-Trace: visible-value\n"));
    assert!(file.contains("S > [request body: 7 bytes]\n"));
}

#[tokio::test]
async fn only_the_first_kib_of_a_large_body_are_logged() {
    let server = TestServer::start().await;
    let harness = Harness::new();
    let mut spec = http(&server.url("/big"));
    spec.log_body_kib = 1;
    let (outcome, lines) = harness.run_job(JobKind::Http(spec), Some(10)).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    let body_bytes: usize = lines
        .iter()
        .filter(|l| l.stream == Stream::Stdout)
        .map(|l| l.text.len() + 1)
        .sum();
    // 1024 bytes of 17-byte lines: 60 whole lines and a 4-byte piece.
    assert_eq!(body_bytes, 1024 + 1);
    assert!(
        text_lines(&lines)
            .contains(&"< [response body: 1114112 bytes; the first 1 KiB are logged]")
    );
}

#[tokio::test]
async fn an_invalid_url_is_a_failed_run() {
    let harness = Harness::new();
    let (outcome, _) = harness
        .run_job(JobKind::Http(http("not a url")), Some(10))
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert!(
        outcome
            .error
            .unwrap()
            .starts_with("the URL \"not a url\" is not valid")
    );
}

#[tokio::test]
async fn cancel_abandons_a_request_in_flight() {
    let server = TestServer::start().await;
    let harness = Harness::new();
    let request = request(job(JobKind::Http(http(&server.url("/hang"))), Some(600)));
    let cancel = tokio_util::sync::CancellationToken::new();
    let runner = harness.runner.clone();
    let token = cancel.clone();
    let run = tokio::spawn(async move { runner.run(request, token).await });
    let heads = std::sync::Arc::clone(&server.heads);
    wait_until(
        "the request to reach the server",
        std::time::Duration::from_secs(10),
        || !heads.lock().unwrap().is_empty(),
    )
    .await;
    cancel.cancel();
    let outcome = run.await.unwrap();
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(
        outcome.error.as_deref(),
        Some("cancelled; the HTTP request was abandoned")
    );
}
