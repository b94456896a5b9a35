//! Push endpoints: which URLs we accept as a push service's, checked when a browser
//! subscribes and again before every send.

use crate::error::AppError;

pub const MAX_ENDPOINT_LEN: usize = 2048;

/// The push services browsers use today; `TIDINGS_PUSH_HOSTS` replaces the list.
pub const DEFAULT_PUSH_HOSTS: &[&str] =
    &["fcm.googleapis.com", "*.push.services.mozilla.com", "*.push.apple.com", "*.notify.windows.com"];

/// One allowed push-service host: `name.example` exactly, or `*.example` for its subdomains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    SubdomainsOf(String),
}

impl HostPattern {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim().to_ascii_lowercase();
        let (pattern, name) = match raw.strip_prefix("*.") {
            Some(parent) => (Self::SubdomainsOf(parent.to_owned()), parent.to_owned()),
            None => (Self::Exact(raw.clone()), raw.clone()),
        };
        let valid = !name.is_empty()
            && name.contains('.')
            && name
                .split('.')
                .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if valid {
            Ok(pattern)
        } else {
            Err(format!("{raw:?} is not a host name or *.host pattern"))
        }
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(name) => host == name,
            Self::SubdomainsOf(parent) => {
                host.strip_suffix(parent.as_str()).is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
            }
        }
    }
}

/// Which endpoints we accept, checked when a visitor subscribes and again before each send.
#[derive(Debug, Clone)]
pub struct EndpointPolicy {
    pub allowed_hosts: std::sync::Arc<[HostPattern]>,
    /// Test-only: also accept `http(s)://localhost` and loopback addresses, on any port.
    pub allow_loopback: bool,
}

impl Default for EndpointPolicy {
    fn default() -> Self {
        let hosts = DEFAULT_PUSH_HOSTS.iter().map(|h| HostPattern::parse(h).expect("valid default"));
        Self { allowed_hosts: hosts.collect(), allow_loopback: false }
    }
}

/// An absolute `https` push-service URL with a path, of at most 2048 bytes as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEndpoint(url::Url);

impl PushEndpoint {
    pub fn parse(raw: &str, policy: &EndpointPolicy) -> Result<Self, AppError> {
        let bad = |why: &str| AppError::invalid(format!("The push endpoint {why}."));
        if raw.is_empty() {
            return Err(bad("is missing"));
        }
        let too_long = || bad(&format!("is longer than {MAX_ENDPOINT_LEN} bytes"));
        if raw.len() > MAX_ENDPOINT_LEN {
            return Err(too_long());
        }
        // The URL parser forgives "https:/host" (one slash); a browser never sends it.
        if !raw.split_once(':').is_some_and(|(_, rest)| rest.starts_with("//")) {
            return Err(bad("is not an absolute URL"));
        }
        let url = url::Url::parse(raw).map_err(|_| bad("is not an absolute URL"))?;
        // Parsing percent-encodes what the raw text had unencoded (é is 2 bytes, %C3%A9
        // is 6): the stored form is what must fit.
        if url.as_str().len() > MAX_ENDPOINT_LEN {
            return Err(too_long());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not contain a user name or password"));
        }
        if url.fragment().is_some() {
            return Err(bad("must not contain a #fragment"));
        }
        let host = url.host().ok_or_else(|| bad("has no host"))?;
        if policy.allow_loopback && is_loopback(&host) && matches!(url.scheme(), "http" | "https") {
            return Ok(Self(url));
        }
        // Push services identify the subscription in the path.
        if url.path() == "/" && url.query().is_none() {
            return Err(bad("has no path"));
        }
        if url.scheme() != "https" {
            return Err(bad("must be an https:// URL"));
        }
        // Push services listen on 443; another port is a sign of a probe, not a browser.
        if url.port().is_some_and(|port| port != 443) {
            return Err(bad("must use the standard HTTPS port"));
        }
        match host {
            // "*" and other odd characters are legal in a URL's host, never in a push service's.
            url::Host::Domain(name) if !is_host_name(name) => Err(bad(&format!("host {name} is not a host name"))),
            url::Host::Domain(name) if policy.allowed_hosts.iter().any(|p| p.matches(name)) => Ok(Self(url)),
            url::Host::Domain(name) => Err(bad(&format!("host {name} is not a known push service"))),
            _ => Err(bad("must name a push service, not an IP address")),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }

    /// The push service's host name, e.g. `fcm.googleapis.com`.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// `scheme://host[:port]`, the port only when not the scheme's default: the VAPID
    /// audience (RFC 8292 §2).
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

/// The push service an endpoint (or origin) belongs to, as a metrics label: its host and
/// port, never the whole endpoint, which is a capability.
pub fn service_of(endpoint: &str) -> &str {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

/// An endpoint as logs show it: the push service's host and a short hash of the whole URL.
/// The URL is a capability (whoever has it can push to that browser, given the keys), so
/// it is never logged; the hash still tells one subscription's lines from another's.
pub struct LoggedEndpoint<'a>(pub &'a str);

impl std::fmt::Display for LoggedEndpoint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.0.as_bytes());
        let short: String = digest.as_ref()[..4].iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "{}#{short}", service_of(self.0))
    }
}

/// Letters, digits and hyphens in dot-separated labels (after IDNA, which the URL parser
/// has applied).
fn is_host_name(name: &str) -> bool {
    name.split('.').all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_label_is_the_endpoint_host_only() {
        assert_eq!(service_of("https://fcm.googleapis.com/fcm/send/abc:def"), "fcm.googleapis.com");
        assert_eq!(service_of("http://127.0.0.1:8090/push/x?y"), "127.0.0.1:8090");
        assert_eq!(service_of("https://web.push.apple.com"), "web.push.apple.com");
    }

    fn strict() -> EndpointPolicy {
        EndpointPolicy::default()
    }

    fn testing() -> EndpointPolicy {
        EndpointPolicy { allow_loopback: true, ..EndpointPolicy::default() }
    }

    #[test]
    fn endpoint_origin_keeps_non_default_port() {
        let e = PushEndpoint::parse("http://127.0.0.1:8090/notify/x", &testing()).unwrap();
        assert_eq!(e.origin(), "http://127.0.0.1:8090");
        let e = PushEndpoint::parse("https://fcm.googleapis.com:443/fcm/send/abc", &strict()).unwrap();
        assert_eq!(e.origin(), "https://fcm.googleapis.com");
    }

    #[test]
    fn loopback_http_needs_the_test_setting() {
        assert!(PushEndpoint::parse("http://localhost:8090/x", &strict()).is_err());
        assert!(PushEndpoint::parse("http://localhost:8090/x", &testing()).is_ok());
        assert!(PushEndpoint::parse("http://example.com/x", &testing()).is_err());
    }

    #[test]
    fn only_known_push_services_on_port_443_are_accepted() {
        for good in [
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/abc",
            "https://web.push.apple.com/QOe",
            "https://wns2-db5p.notify.windows.com/w/?token=abc",
        ] {
            assert!(PushEndpoint::parse(good, &strict()).is_ok(), "{good}");
        }
        for bad in [
            "https://push.example.com/x",           // not a push service
            "https://push.apple.com/x",             // *.push.apple.com means subdomains only
            "https://evilpush.apple.com.example/x", // suffix trick
            "https://fcm.googleapis.com:8443/x",    // non-443 port
            "https://user@fcm.googleapis.com/x",    // userinfo
            "https://142.250.74.106/x",             // IP literal
            "https://[::1]/x",
            "https://0.0.0.0/x",
            "https://2130706433/x",
            "https://0x7f000001/x",
            "https://localhost/x",
            "https://127.0.0.1/x",
        ] {
            assert!(PushEndpoint::parse(bad, &strict()).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn malformed_endpoints_the_url_parser_would_forgive_are_refused() {
        let message = |raw: &str| PushEndpoint::parse(raw, &strict()).unwrap_err().to_string();
        assert!(message("https:/fcm.googleapis.com/fcm/send/x").contains("not an absolute URL"));
        assert!(message("https://fcm.googleapis.com").contains("no path"));
        assert!(message("https://fcm.googleapis.com/").contains("no path"));
        assert!(message("https://*.push.apple.com/x").contains("not a host name"));
        // 2,041 bytes as sent, 5,051 once percent-encoded for storage.
        let grows = format!("https://fcm.googleapis.com/fcm/send/{}", "é".repeat(1005));
        assert!(grows.len() <= MAX_ENDPOINT_LEN);
        assert!(message(&grows).contains("longer than 2048 bytes"), "{}", message(&grows));
        let fits = format!("https://fcm.googleapis.com/fcm/send/{}", "a".repeat(MAX_ENDPOINT_LEN - 36));
        assert_eq!(PushEndpoint::parse(&fits, &strict()).unwrap().as_str().len(), MAX_ENDPOINT_LEN);
    }

    #[test]
    fn host_patterns_parse_names_and_wildcards_only() {
        assert_eq!(HostPattern::parse("*.Push.Apple.com"), Ok(HostPattern::SubdomainsOf("push.apple.com".into())));
        for bad in ["", "*", "*.com", "a b.com", "https://x.com", "*.*.x.com"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
