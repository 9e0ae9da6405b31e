//! What HTTP runs trust and go through, like the rest of the system: the OS trust store (with
//! reqwest's rustls, `rustls-native-certs`: /etc/ssl/certs, `SSL_CERT_FILE`, `SSL_CERT_DIR`;
//! the system keychain on macOS and Windows), plus an extra CA bundle from Settings and one per
//! job; `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` from the environment Sundial
//! started in. A failure says which of them failed.

use std::collections::HashMap;
use std::error::Error as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use reqwest::Url;

/// The proxies of the environment, read once when the runner is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// (variable, URL) for http:// requests.
    pub http: Option<(String, String)>,
    /// (variable, URL) for https:// requests.
    pub https: Option<(String, String)>,
    /// `NO_PROXY`: host names (a leading dot or `*.` for subdomains), IP addresses, `*`.
    pub no_proxy: Vec<String>,
}

impl ProxyEnv {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Upper case first, then lower case, as curl does (`http_proxy` only in lower case is
    /// common and honoured too).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let find = |names: &[&str]| {
            names.iter().find_map(|name| {
                lookup(name)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .map(|v| (name.to_string(), v))
            })
        };
        let all = find(&["ALL_PROXY", "all_proxy"]);
        let http = find(&["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone());
        let https = find(&["HTTPS_PROXY", "https_proxy"]).or(all);
        let no_proxy = find(&["NO_PROXY", "no_proxy"])
            .map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            http,
            https,
            no_proxy,
        }
    }

    /// The proxy a request to `url` goes through, with the variable that named it.
    pub fn for_url(&self, url: &Url) -> Option<&(String, String)> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let host = host.to_ascii_lowercase();
        let bypass = self.no_proxy.iter().any(|entry| {
            let entry = entry.split(':').next().unwrap_or(entry);
            entry == "*"
                || host == entry.trim_start_matches("*.").trim_start_matches('.')
                || host.ends_with(&format!(
                    ".{}",
                    entry.trim_start_matches("*.").trim_start_matches('.')
                ))
        });
        (!bypass).then_some(proxy)
    }
}

/// HTTP clients by the CA bundles they trust beyond the system's: building one reads the
/// system store and the bundles, so it is done once per set of files (and again when one
/// changes).
#[derive(Default)]
pub(super) struct Clients {
    built: Mutex<HashMap<BundleSet, reqwest::Client>>,
}

/// CA bundle files with the time each was last changed.
type BundleSet = Vec<(PathBuf, Option<SystemTime>)>;

impl Clients {
    /// The client trusting the system store and these bundles. An error names the bundle and
    /// what is wrong with it.
    pub fn get(
        &self,
        bundles: &[(&str, &Path)],
        proxies: &ProxyEnv,
    ) -> Result<reqwest::Client, String> {
        let key: BundleSet = bundles
            .iter()
            .map(|(_, p)| {
                (
                    p.to_path_buf(),
                    std::fs::metadata(p).and_then(|m| m.modified()).ok(),
                )
            })
            .collect();
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = built.get(&key) {
            return Ok(client.clone());
        }
        let mut certificates = Vec::new();
        for (what, path) in bundles {
            certificates.extend(read_bundle(what, path)?);
        }
        let client = build_client(certificates, proxies)?;
        if built.len() > 32 {
            built.clear();
        }
        built.insert(key, client.clone());
        Ok(client)
    }
}

fn read_bundle(what: &str, path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "the CA bundle {} ({what}) cannot be read: {}",
            path.display(),
            crate::logs::io_reason(&e)
        )
    })?;
    let certificates = reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| {
        format!(
            "the CA bundle {} ({what}) is not a PEM file of certificates: {e}",
            path.display()
        )
    })?;
    if certificates.is_empty() {
        return Err(format!(
            "the CA bundle {} ({what}) holds no certificate: it should hold one or more \"-----BEGIN CERTIFICATE-----\" blocks",
            path.display()
        ));
    }
    Ok(certificates)
}

/// A client trusting the system's roots and `extra`, through the environment's proxies.
pub(super) fn build_client(
    extra: Vec<reqwest::Certificate>,
    proxies: &ProxyEnv,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("Sundial/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    for certificate in extra {
        builder = builder.add_root_certificate(certificate);
    }
    if proxies.http.is_some() || proxies.https.is_some() {
        let proxies = proxies.clone();
        builder = builder.proxy(reqwest::Proxy::custom(move |url| {
            proxies.for_url(url).map(|(_, proxy)| proxy.clone())
        }));
    }
    builder
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {}", innermost(&e)))
}

/// A sentence for a request that got no response: which part failed (the proxy, the
/// server's certificate, the connection), and what to do about a certificate.
pub(super) fn request_error(e: &reqwest::Error, url: &Url, proxies: &ProxyEnv) -> String {
    let target = describe_target(url);
    if let Some(tls) = find_source::<rustls::Error>(e) {
        return certificate_error(tls, url);
    }
    let io_kind = {
        let mut source = e.source();
        let mut kind = None;
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                kind = Some(io.kind());
            }
            source = s.source();
        }
        kind
    };
    let detail = innermost(e);
    if e.is_connect()
        && let Some((variable, proxy)) = proxies.for_url(url)
    {
        return format!(
            "the proxy {proxy} (from {variable}) is unreachable for {target}: {}",
            if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
                "connection refused".to_string()
            } else {
                detail
            }
        );
    }
    if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        return format!("connection refused by {target}: nothing is listening there");
    }
    if e.is_connect() {
        format!("cannot connect to {target}: {detail}")
    } else if e.is_timeout() {
        format!("the HTTP request to {target} timed out")
    } else if e.is_body() || e.is_decode() {
        format!("the response from {target} broke off: {detail}")
    } else {
        format!("the HTTP request to {target} failed: {detail}")
    }
}

const TRUST_HINT: &str = "add the CA's certificate to the system's trust store, or name a CA bundle (PEM) in the job's \"Extra CA bundle\" field or in Settings";

fn certificate_error(e: &rustls::Error, url: &Url) -> String {
    use rustls::CertificateError as C;
    let host = url.host_str().unwrap_or("the server");
    let target = describe_target(url);
    let rustls::Error::InvalidCertificate(certificate) = e else {
        return format!("the TLS handshake with {target} failed: {e}");
    };
    match certificate {
        C::UnknownIssuer => format!(
            "the certificate of {target} is not trusted (unknown issuer): it was issued by a certificate authority this system does not trust; {TRUST_HINT}"
        ),
        C::Expired | C::ExpiredContext { .. } => {
            let when = match certificate {
                C::ExpiredContext { not_after, .. } => {
                    chrono::DateTime::<chrono::Utc>::from_timestamp(not_after.as_secs() as i64, 0)
                        .map(|t| format!(" on {}", t.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default()
                }
                _ => String::new(),
            };
            format!(
                "the certificate of {target} has expired{when} (certificate expired): the server must renew it"
            )
        }
        C::NotValidYet | C::NotValidYetContext { .. } => format!(
            "the certificate of {target} is not valid yet: check this computer's clock, or the server's certificate"
        ),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            let presented = match certificate {
                C::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                    format!(" (it names {})", presented.join(", "))
                }
                _ => String::new(),
            };
            format!(
                "the certificate of {target} is not valid for the name {host} (name mismatch){presented}: use the name the certificate is for in the URL"
            )
        }
        C::Revoked => format!("the certificate of {target} has been revoked"),
        C::BadSignature => format!("the certificate of {target} has a bad signature"),
        other => format!("the certificate of {target} was refused: {other:?}"),
    }
}

pub(super) fn describe_target(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => url.to_string(),
    }
}

fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        // rustls errors travel inside io::Errors (nested, from tokio-rustls and hyper-util),
        // and an io::Error's `source` skips the error it wraps: step into it instead.
        current = match err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

pub(super) fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    crate::logs::without_os_error(&current.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_come_from_the_environment_and_no_proxy_bypasses_them() {
        let vars: HashMap<&str, &str> = [
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("http_proxy", "http://plain:8080"),
            ("NO_PROXY", "localhost, .corp.example,10.0.0.1"),
        ]
        .into();
        let env = ProxyEnv::from_lookup(|n| vars.get(n).map(|v| v.to_string()));
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            env.for_url(&url("https://api.example.com/x")),
            Some(&("HTTPS_PROXY".to_string(), "http://proxy:3128".to_string()))
        );
        assert_eq!(
            env.for_url(&url("http://api.example.com/x"))
                .map(|p| p.0.as_str()),
            Some("http_proxy")
        );
        for bypassed in [
            "https://localhost:8443/",
            "https://intranet.corp.example/",
            "https://corp.example/",
            "http://10.0.0.1/",
        ] {
            assert_eq!(env.for_url(&url(bypassed)), None, "{bypassed}");
        }
    }
}
