//! HTTP runs: one request, checked against the expected status range and body text; the
//! exchange goes into the run log with secret header values masked.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use tokio_util::sync::CancellationToken;

use super::process::{failed_before_start, finish_log};
use super::{Inner, seconds, trust};
use crate::domain::{HttpSpec, RunStatus, SECRET_MASK};
use crate::executor::{RunOutcome, RunRequest};
use crate::logs::{LogWriter, Stream};

pub(super) async fn run_http(
    inner: &Inner,
    request: &RunRequest,
    spec: &HttpSpec,
    mut log: LogWriter,
    cancel: CancellationToken,
) -> RunOutcome {
    let built = match inner
        .http_client(spec)
        .and_then(|client| build_request(&client, spec).map(|r| (client, r)))
    {
        Ok(r) => r,
        Err(message) => return failed_before_start(inner, log, message),
    };
    let (client, built) = built;
    let now = inner.clock.now();
    let shown_url = shown_url(built.url());
    log.note(now, &format!("> {} {shown_url}", built.method()));
    for header in &spec.headers {
        log.note(now, &format!("> {}: {}", header.name, header.shown_value()));
    }
    if let Some(body) = &spec.body {
        log.note(now, &format!("> [request body: {} bytes]", body.len()));
    }
    log.flush();

    let limit = request
        .job
        .spec
        .policies
        .timeout_secs
        .map_or(inner.config.http_default_timeout, Duration::from_secs);
    let url = built.url().clone();
    let method_and_url = format!("{} {shown_url}", built.method());
    let exchange = exchange(inner, &client, spec, built, &mut log);
    let result = tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(RunOutcome::with_status(
            RunStatus::Cancelled,
            Some("cancelled; the HTTP request was abandoned".into()),
        )),
        _ = tokio::time::sleep(limit) => Err(RunOutcome::with_status(
            RunStatus::TimedOut,
            Some(format!("timed out after {} waiting for {method_and_url}", seconds(limit))),
        )),
        result = exchange => result.map_err(|e| RunOutcome::failed(trust::request_error(&e, &url, &inner.proxies))),
    };
    let mut outcome = result.unwrap_or_else(|outcome| outcome);
    let note = match &outcome.error {
        Some(error) => error.clone(),
        None => format!(
            "succeeded with HTTP status {}",
            outcome.http_status.unwrap_or(0)
        ),
    };
    log.end_partial_lines();
    finish_log(inner, Some(log), &[note], &mut outcome);
    outcome
}

/// Sends the request, logs the response, and judges it.
async fn exchange(
    inner: &Inner,
    client: &reqwest::Client,
    spec: &HttpSpec,
    request: reqwest::Request,
    log: &mut LogWriter,
) -> Result<RunOutcome, reqwest::Error> {
    let mut response = client.execute(request).await?;
    let status = response.status();
    let now = inner.clock.now();
    let status_line = format!(
        "< {:?} {} {}",
        response.version(),
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    log.note(now, status_line.trim_end());
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes());
        let value = if name == reqwest::header::SET_COOKIE {
            masked_cookie(&value)
        } else {
            value.into_owned()
        };
        log.note(now, &format!("< {name}: {value}"));
    }
    log.flush();

    let log_limit = u64::from(spec.log_body_kib) * 1024;
    let mut body_search = spec
        .body_contains
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(|n| BodySearch::new(n.as_bytes()));
    let mut body_len: u64 = 0;
    while let Some(chunk) = response.chunk().await? {
        if body_len < log_limit {
            let keep = (log_limit - body_len).min(chunk.len() as u64) as usize;
            log.write_output(Stream::Stdout, inner.clock.now(), &chunk[..keep]);
            log.flush();
        }
        body_len += chunk.len() as u64;
        if let Some(search) = body_search.as_mut() {
            search.feed(&chunk);
        }
    }
    log.end_partial_lines();
    if body_len > log_limit {
        log.note(
            inner.clock.now(),
            &format!(
                "< [response body: {body_len} bytes; the first {} KiB are logged]",
                spec.log_body_kib
            ),
        );
    }

    let code = status.as_u16();
    let mut outcome = RunOutcome::succeeded();
    outcome.exit_code = None;
    outcome.http_status = Some(code);
    let range = spec.expect_status;
    if !range.contains(code) {
        let reason = status
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        let expected = if range.min == range.max {
            format!("the expected {}", range.min)
        } else {
            format!("the expected range {}–{}", range.min, range.max)
        };
        outcome.status = RunStatus::Failed;
        outcome.error = Some(format!("HTTP status {code}{reason} is outside {expected}"));
    } else if let Some(search) = body_search
        && !search.found
    {
        outcome.status = RunStatus::Failed;
        outcome.error = Some(format!(
            "the response body ({body_len} bytes) does not contain {:?}",
            spec.body_contains.as_deref().unwrap_or("")
        ));
    }
    Ok(outcome)
}

fn build_request(client: &reqwest::Client, spec: &HttpSpec) -> Result<reqwest::Request, String> {
    let method = Method::from_bytes(spec.method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("{:?} is not a valid HTTP method", spec.method))?;
    let url = Url::parse(spec.url.trim())
        .map_err(|e| format!("the URL {:?} is not valid: {e}", spec.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the URL {:?} is not http or https", spec.url));
    }
    let mut headers = HeaderMap::new();
    for header in &spec.headers {
        let name = HeaderName::from_bytes(header.name.trim().as_bytes())
            .map_err(|_| format!("{:?} is not a valid HTTP header name", header.name))?;
        let value = HeaderValue::from_str(&header.value)
            .map_err(|_| format!("the value of the HTTP header {} is not valid", header.name))?;
        headers.append(name, value);
    }
    let mut builder = client.request(method, url).headers(headers);
    if let Some(body) = &spec.body {
        builder = builder.body(body.clone());
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP request: {e}"))
}

/// Query parameters whose values are credentials by their name: shown masked in the log and
/// in errors (the value is sent as it is). Values that are a job's secrets are masked anyway.
const CREDENTIAL_PARAMS: &[&str] = &[
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "pwd",
    "auth",
    "signature",
    "sig",
    "credential",
    "session",
    "code",
];

/// The URL as logged: the value of a query parameter named like a credential (`api_key`,
/// `access_token`, `X-Amz-Signature`, …) replaced by the mask.
pub(super) fn shown_url(url: &Url) -> String {
    let Some(query) = url.query() else {
        return url.to_string();
    };
    let credential = |name: &str| {
        let name = name.to_ascii_lowercase();
        CREDENTIAL_PARAMS.iter().any(|c| name.contains(c))
    };
    if !url.query_pairs().any(|(name, _)| credential(&name)) {
        return url.to_string();
    }
    let shown: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _))
                if credential(
                    &url::form_urlencoded::parse(name.as_bytes())
                        .map(|(n, _)| n.into_owned())
                        .next()
                        .unwrap_or_default(),
                ) =>
            {
                format!("{name}={SECRET_MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    let mut shown_url = url.clone();
    shown_url.set_query(None);
    let mut text = shown_url.to_string();
    let fragment = url.fragment().map(|f| format!("#{f}"));
    if let Some(f) = &fragment {
        text.truncate(text.len() - f.len());
    }
    format!("{text}?{}{}", shown.join("&"), fragment.unwrap_or_default())
}

/// A `Set-Cookie` value with the cookie's value masked (its name and attributes shown): a
/// session cookie is a credential.
fn masked_cookie(value: &str) -> String {
    let (pair, attributes) = match value.split_once(';') {
        Some((pair, rest)) => (pair, Some(rest)),
        None => (value, None),
    };
    let pair = match pair.split_once('=') {
        Some((name, v)) if !v.trim().is_empty() => format!("{name}={SECRET_MASK}"),
        _ => pair.to_string(),
    };
    match attributes {
        Some(rest) => format!("{pair};{rest}"),
        None => pair,
    }
}

/// Looks for a needle across body chunks keeping only `needle.len() - 1` bytes between them.
struct BodySearch {
    needle: Vec<u8>,
    carry: Vec<u8>,
    found: bool,
}

impl BodySearch {
    fn new(needle: &[u8]) -> Self {
        Self {
            needle: needle.to_vec(),
            carry: Vec::new(),
            found: false,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.found {
            return;
        }
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        if memchr::memmem::find(&window, &self.needle).is_some() {
            self.found = true;
            return;
        }
        let keep = (self.needle.len() - 1).min(window.len());
        self.carry = window[window.len() - keep..].to_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::{BodySearch, masked_cookie, shown_url};
    use crate::domain::SECRET_MASK;

    #[test]
    fn credential_query_values_and_cookies_are_masked() {
        let url =
            reqwest::Url::parse("https://h/p?api_key=abc123&page=2&access_token=x#top").unwrap();
        assert_eq!(
            shown_url(&url),
            format!("https://h/p?api_key={SECRET_MASK}&page=2&access_token={SECRET_MASK}#top")
        );
        let plain = reqwest::Url::parse("https://h/p?page=2").unwrap();
        assert_eq!(shown_url(&plain), "https://h/p?page=2");
        assert_eq!(
            masked_cookie("sid=abcdef; Path=/; HttpOnly"),
            format!("sid={SECRET_MASK}; Path=/; HttpOnly")
        );
    }

    #[test]
    fn finds_a_needle_split_across_chunks() {
        let mut search = BodySearch::new(b"needle");
        for chunk in [&b"hay ne"[..], b"e", b"dle hay"] {
            search.feed(chunk);
        }
        assert!(search.found);
        let mut missing = BodySearch::new(b"needle");
        missing.feed(b"need");
        missing.feed(b"ful needl");
        assert!(!missing.found);
    }
}
