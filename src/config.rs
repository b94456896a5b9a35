//! Typed configuration, read once at start from the environment (and `.env`).
//! Every variable and its default is documented in README.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::clock::Clock;
use crate::delivery::RetryPolicy;
use crate::push::endpoint::{EndpointPolicy, HostPattern};
pub use crate::push::vapid::VapidSubject;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    /// Where visitors reach us; printed at start, and `https` turns on Secure cookies.
    pub public_url: String,
    /// The VAPID `sub` claim: a contact for push services (RFC 8292 §2.1).
    pub vapid_subject: VapidSubject,
    pub initial_admin: Option<(String, String)>,
    /// Which push endpoints are accepted: known push-service hosts, and (test-only)
    /// loopback addresses.
    pub endpoint_policy: EndpointPolicy,
    /// How many push requests may be in flight at once.
    pub send_concurrency: usize,
    /// How long an instance may stay silent before the others take over the deliveries it
    /// claimed (it beats five times per lease).
    pub lease: Duration,
    /// How long one push request may take, connecting included.
    pub push_timeout: Duration,
    /// Test-only: a PEM certificate to trust besides the system's roots, so a benchmark can
    /// run a loopback HTTPS push service.
    pub extra_root_cert: Option<PathBuf>,
    pub retry: RetryPolicy,
    /// The folder cargo-leptos built the site into (wasm, JS, CSS, public assets).
    pub site_root: PathBuf,
    /// What scheduling takes as "now": the system clock, or a manual one in tests.
    pub clock: Clock,
    /// How long clients may take, and how many may be connected at once.
    pub http: HttpLimits,
    /// Reverse proxies in front of us: only from these is `X-Forwarded-For` / `Forwarded`
    /// believed, for the per-address limits. Empty: every client is its TCP peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Bounds on what one HTTP client may hold: without them, idle or slow connections
/// (sent half a header, or half a body) stay open forever and use up the process's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// From connecting (or the end of the previous request) to the last header line: an
    /// idle keep-alive connection is closed after this too.
    pub header_timeout: Duration,
    /// The longest pause between two pieces of a request body.
    pub body_timeout: Duration,
    /// Connections kept open at once; a new one beyond this closes the oldest (after its
    /// current answer, if it is in the middle of one).
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { header_timeout: Duration::from_secs(20), body_timeout: Duration::from_secs(30), max_connections: 1024 }
    }
}

pub const DEFAULT_VAPID_SUBJECT: &str = "mailto:admin@example.com";

impl Config {
    pub fn from_env() -> Result<Self, String> {
        // A missing .env is normal; only the real environment is then used.
        let _ = dotenvy::dotenv();
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());

        let listen: SocketAddr = var("TIDINGS_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|e| format!("TIDINGS_LISTEN: {e}"))?;
        let initial_admin = match (var("TIDINGS_ADMIN_USERNAME"), var("TIDINGS_ADMIN_PASSWORD")) {
            (Some(user), Some(password)) => Some((user, password)),
            (None, None) => None,
            _ => return Err("set both TIDINGS_ADMIN_USERNAME and TIDINGS_ADMIN_PASSWORD, or neither".into()),
        };
        let number = |name: &str, range: std::ops::RangeInclusive<u64>, default: u64| match var(name) {
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| format!("{name} must be a whole number from {} to {}", range.start(), range.end())),
            None => Ok(default),
        };
        Ok(Self {
            push_timeout: Duration::from_secs(number("TIDINGS_PUSH_TIMEOUT_SECS", 1..=120, 15)?),
            extra_root_cert: var("TIDINGS_TEST_TRUST_CERT").map(PathBuf::from),
            retry: RetryPolicy {
                max_attempts: number("TIDINGS_MAX_ATTEMPTS", 1..=100, u64::from(RetryPolicy::default().max_attempts))?
                    as u32,
                window: Duration::from_secs(number(
                    "TIDINGS_RETRY_WINDOW_SECS",
                    0..=86_400,
                    RetryPolicy::default().window.as_secs(),
                )?),
                ..RetryPolicy::default()
            },
            listen,
            database_url: var("DATABASE_URL").unwrap_or_else(|| "sqlite:tidings.db".into()),
            public_url: var("TIDINGS_PUBLIC_URL").unwrap_or_else(|| format!("http://{listen}")),
            vapid_subject: VapidSubject::parse(
                &var("TIDINGS_VAPID_SUBJECT").unwrap_or_else(|| DEFAULT_VAPID_SUBJECT.into()),
            )?,
            initial_admin,
            endpoint_policy: EndpointPolicy {
                allowed_hosts: match var("TIDINGS_PUSH_HOSTS") {
                    Some(list) => list
                        .split(',')
                        .filter(|h| !h.trim().is_empty())
                        .map(HostPattern::parse)
                        .collect::<Result<_, _>>()
                        .map_err(|e| format!("TIDINGS_PUSH_HOSTS: {e}"))?,
                    None => EndpointPolicy::default().allowed_hosts,
                },
                allow_loopback: matches!(
                    var("TIDINGS_ALLOW_LOOPBACK_ENDPOINTS").as_deref(),
                    Some("1" | "true" | "yes")
                ),
            },
            send_concurrency: number("TIDINGS_SEND_CONCURRENCY", 1..=10_000, 64)? as usize,
            lease: Duration::from_secs(number("TIDINGS_LEASE_SECS", 1..=3600, 30)?),
            site_root: var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()).into(),
            clock: Clock::System,
            trusted_proxies: match var("TIDINGS_TRUSTED_PROXIES") {
                Some(list) => parse_networks(&list).map_err(|e| format!("TIDINGS_TRUSTED_PROXIES: {e}"))?,
                None => Vec::new(),
            },
            http: HttpLimits {
                header_timeout: Duration::from_secs(number("TIDINGS_HEADER_TIMEOUT_SECS", 1..=600, 20)?),
                body_timeout: Duration::from_secs(number("TIDINGS_BODY_TIMEOUT_SECS", 1..=600, 30)?),
                max_connections: number("TIDINGS_MAX_CONNECTIONS", 16..=1_000_000, 1024)? as usize,
            },
        })
    }
}

/// Comma-separated CIDR ranges; a bare address is a range of one.
pub fn parse_networks(list: &str) -> Result<Vec<ipnet::IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.parse::<ipnet::IpNet>()
                .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("{n:?} is not an address or a CIDR range such as 10.0.0.0/8"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_networks;

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let networks = parse_networks(" 10.0.0.0/8, 127.0.0.1 ,::1").unwrap();
        assert_eq!(networks.len(), 3);
        assert!(networks[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_networks("10.0.0.0/33").is_err());
        assert!(parse_networks("proxy.internal").is_err());
    }
}
