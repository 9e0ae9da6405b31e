//! HTTP runs trust what the system trusts plus the CA bundles they are given, go through the
//! environment's proxies, and say which of these failed: a local HTTPS server with
//! certificates from a test CA made by rcgen.

mod cli_support;
mod helpers;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use helpers::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use sundial_engine::RunnerConfig;
use sundial_engine::domain::{JobKind, RunStatus};
use sundial_engine::runner::ProxyEnv;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
    pem_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCa {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Sundial Test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pem_path = dir.path().join("test-ca.pem");
        std::fs::write(&pem_path, cert.pem()).unwrap();
        Self {
            cert,
            key,
            pem_path,
            _dir: dir,
        }
    }

    /// A server certificate for these names, valid now unless `expired`.
    fn leaf(&self, names: &[SanType], expired: bool) -> (rcgen::Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = names.to_vec();
        params
            .distinguished_name
            .push(DnType::CommonName, "sundial test server");
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert, key)
    }
}

fn localhost_ip() -> SanType {
    SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// An HTTPS server on 127.0.0.1 answering every request with 200 "secure hello".
async fn https_server(cert: rcgen::Certificate, key: KeyPair) -> SocketAddr {
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let body = "secure hello\n";
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

fn https_job(addr: SocketAddr, ca_bundle: Option<&Path>) -> JobKind {
    let mut spec = http(&format!("https://{addr}/hello"));
    spec.ca_bundle = ca_bundle.map(|p| p.display().to_string());
    spec.body_contains = Some("secure hello".into());
    JobKind::Http(spec)
}

#[tokio::test]
async fn an_unknown_issuer_fails_clearly_and_the_ca_makes_it_trusted() {
    let ca = TestCa::new();
    let (cert, key) = ca.leaf(&[localhost_ip()], false);
    let addr = https_server(cert, key).await;

    // Without the CA: the system does not trust it.
    let harness = Harness::new();
    let (outcome, lines) = harness.run_job(https_job(addr, None), Some(10)).await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert_eq!(
        error,
        format!(
            "the certificate of {addr} is not trusted (unknown issuer): it was issued by a certificate authority this system does not trust; add the CA's certificate to the system's trust store, or name a CA bundle (PEM) in the job's \"Extra CA bundle\" field or in Settings"
        )
    );
    assert!(
        text_lines(&lines)
            .iter()
            .any(|t| t.contains("unknown issuer"))
    );

    // The job's own CA bundle.
    let (outcome, _) = harness
        .run_job(https_job(addr, Some(&ca.pem_path)), Some(10))
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    assert_eq!(outcome.http_status, Some(200));

    // The global setting (the runner's extra bundle), given at start or changed later.
    let global = Harness::with_config(RunnerConfig {
        extra_ca_bundle: Some(ca.pem_path.clone()),
        ..test_config()
    });
    let (outcome, _) = global.run_job(https_job(addr, None), Some(10)).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
    global.runner.set_extra_ca_bundle(None);
    let (outcome, _) = global.run_job(https_job(addr, None), Some(10)).await;
    assert!(outcome.error.unwrap().contains("(unknown issuer)"));
    harness
        .runner
        .set_extra_ca_bundle(Some(ca.pem_path.clone()));
    let (outcome, _) = harness.run_job(https_job(addr, None), Some(10)).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:?}");
}

#[tokio::test]
async fn a_name_mismatch_and_an_expired_certificate_say_so() {
    let ca = TestCa::new();
    let harness = Harness::new();

    let (cert, key) = ca.leaf(
        &[SanType::DnsName("other.example".try_into().unwrap())],
        false,
    );
    let addr = https_server(cert, key).await;
    let (outcome, _) = harness
        .run_job(https_job(addr, Some(&ca.pem_path)), Some(10))
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with(&format!(
            "the certificate of {addr} is not valid for the name 127.0.0.1 (name mismatch) (it names "
        )),
        "{error}"
    );
    assert!(error.contains("other.example"), "{error}");
    assert!(
        error.ends_with(": use the name the certificate is for in the URL"),
        "{error}"
    );

    let (cert, key) = ca.leaf(&[localhost_ip()], true);
    let addr = https_server(cert, key).await;
    let (outcome, _) = harness
        .run_job(https_job(addr, Some(&ca.pem_path)), Some(10))
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(
        outcome.error.unwrap(),
        format!(
            "the certificate of {addr} has expired on 2021-01-01 00:00 UTC (certificate expired): the server must renew it"
        )
    );
}

#[tokio::test]
async fn a_bad_ca_bundle_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("notes.txt");
    std::fs::write(&not_pem, "just words\n").unwrap();
    let harness = Harness::new();
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let (outcome, _) = harness
        .run_job(https_job(addr, Some(&not_pem)), Some(10))
        .await;
    assert_eq!(
        outcome.error.unwrap(),
        format!(
            "the CA bundle {} (the job's CA bundle) holds no certificate: it should hold one or more \"-----BEGIN CERTIFICATE-----\" blocks",
            not_pem.display()
        )
    );
    let missing = dir.path().join("missing.pem");
    let (outcome, _) = harness
        .run_job(https_job(addr, Some(&missing)), Some(10))
        .await;
    assert_eq!(
        outcome.error.unwrap(),
        format!(
            "the CA bundle {} (the job's CA bundle) cannot be read: No such file or directory",
            missing.display()
        )
    );
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_unreachable_proxy_is_named_in_the_error() {
    let ca = TestCa::new();
    let (cert, key) = ca.leaf(&[localhost_ip()], false);
    let addr = https_server(cert, key).await;
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let lookup = {
        let proxy = proxy.clone();
        move |name: &str| (name == "HTTPS_PROXY").then(|| proxy.clone())
    };
    let harness = Harness::with_config(RunnerConfig {
        proxies: Some(ProxyEnv::from_lookup(lookup)),
        ..test_config()
    });
    let (outcome, _) = harness
        .run_job(https_job(addr, Some(&ca.pem_path)), Some(10))
        .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(
        outcome.error.unwrap(),
        format!(
            "the proxy {proxy} (from HTTPS_PROXY) is unreachable for {addr}: connection refused"
        )
    );
}

/// `sundialctl` honours HTTPS_PROXY, NO_PROXY and SUNDIAL_CA_BUNDLE from its environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_takes_proxies_and_the_extra_bundle_from_its_environment() {
    let ca = TestCa::new();
    let (cert, key) = ca.leaf(&[localhost_ip()], false);
    let addr = https_server(cert, key).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("job.toml");
    std::fs::write(
        &file,
        format!(
            "version = 1\n[[jobs]]\nname = \"tls\"\n[jobs.kind]\ntype = \"http\"\nurl = \"https://{addr}/hello\"\n[jobs.trigger]\ntype = \"manual\"\n"
        ),
    )
    .unwrap();
    cli_support::ok(&data, &["jobs", "add", "--file", file.to_str().unwrap()]);
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let run = |envs: &[(&str, &str)]| {
        let data = data.clone();
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let ca = ca.pem_path.clone();
        std::thread::spawn(move || {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_sundialctl"))
                .env("SUNDIAL_SECRETS", "database")
                .env("SUNDIAL_CA_BUNDLE", ca)
                .env_remove("HTTP_PROXY")
                .env_remove("http_proxy")
                .env_remove("ALL_PROXY")
                .env_remove("all_proxy")
                .env_remove("NO_PROXY")
                .env_remove("no_proxy")
                .envs(envs)
                .arg("--data-dir")
                .arg(&data)
                .args(["--json", "jobs", "run", "tls"])
                .output()
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
        })
        .join()
        .unwrap()
    };
    let through_proxy = run(&[("HTTPS_PROXY", &proxy)]);
    assert_eq!(through_proxy["status"], "failed");
    assert_eq!(
        through_proxy["error"],
        format!(
            "the proxy {proxy} (from HTTPS_PROXY) is unreachable for {addr}: connection refused"
        )
    );
    let bypassed = run(&[("HTTPS_PROXY", &proxy), ("NO_PROXY", "localhost,127.0.0.1")]);
    assert_eq!(bypassed["status"], "succeeded", "{bypassed}");
    assert_eq!(bypassed["http_status"], 200);
}
