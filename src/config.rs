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
    pub initial_admin: Option<(String, Secret)>,
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
    /// Requests per second one API key may make (bursts of twice that), per instance.
    pub api_rate_per_sec: u32,
    /// If set, `/metrics` answers only `Authorization: Bearer <this>`.
    pub metrics_token: Option<Secret>,
    /// Webhook retries and giving up (fixed in production; tests shorten them).
    pub webhooks: crate::webhook::sender::WebhookTiming,
}

/// A password or token from the environment: its `Debug` never shows it, so neither does
/// a logged or printed `Config`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
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

/// Every variable Tidings reads (and the test harness's): any other `TIDINGS_…` name, or
/// one a letter or two away from these, is most likely a typo and is warned about.
pub const KNOWN_VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "LEPTOS_SITE_ROOT",
    "RUST_LOG",
    "TIDINGS_ADMIN_PASSWORD",
    "TIDINGS_ADMIN_USERNAME",
    "TIDINGS_ALLOW_LOOPBACK_ENDPOINTS",
    "TIDINGS_API_RATE_PER_SEC",
    "TIDINGS_BODY_TIMEOUT_SECS",
    "TIDINGS_HEADER_TIMEOUT_SECS",
    "TIDINGS_LEASE_SECS",
    "TIDINGS_LISTEN",
    "TIDINGS_LOG_FORMAT",
    "TIDINGS_MAX_ATTEMPTS",
    "TIDINGS_MAX_CONNECTIONS",
    "TIDINGS_METRICS_TOKEN",
    "TIDINGS_PUBLIC_URL",
    "TIDINGS_PUSH_HOSTS",
    "TIDINGS_PUSH_TIMEOUT_SECS",
    "TIDINGS_RETRY_WINDOW_SECS",
    "TIDINGS_SEND_CONCURRENCY",
    "TIDINGS_TEST_POSTGRES",
    "TIDINGS_TEST_TRUST_CERT",
    "TIDINGS_TRUSTED_PROXIES",
    "TIDINGS_VAPID_SUBJECT",
];

/// Reads variables and collects every bad one, so a start with three mistakes reports all
/// three at once instead of one per attempt.
struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<String>,
}

impl Reader<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.get)(name).filter(|v| !v.trim().is_empty())
    }

    /// `name` parsed by `parse`, `default` when unset; a bad value is recorded and the
    /// default stands in so the other variables are still checked.
    fn parsed<T>(&mut self, name: &str, default: T, parse: impl FnOnce(&str) -> Result<T, String>) -> T {
        match self.var(name) {
            None => default,
            Some(value) => parse(value.trim()).unwrap_or_else(|why| {
                self.errors.push(format!("{name}: {why}"));
                default
            }),
        }
    }

    fn number(&mut self, name: &str, range: std::ops::RangeInclusive<u64>, default: u64) -> u64 {
        self.parsed(name, default, |v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| format!("must be a whole number from {} to {}, got {v:?}", range.start(), range.end()))
        })
    }

    fn switch(&mut self, name: &str) -> bool {
        self.parsed(name, false, |v| match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(format!("must be true or false, got {v:?}")),
        })
    }
}

impl Config {
    /// The configuration from the process environment (after loading `.env`). On error,
    /// one line per bad variable.
    pub fn from_env() -> Result<Self, Vec<String>> {
        // A missing .env is normal; only the real environment is then used.
        let _ = dotenvy::dotenv();
        Self::from_vars(&|name| std::env::var(name).ok())
    }

    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let mut r = Reader { get, errors: Vec::new() };
        let listen: SocketAddr = r.parsed("TIDINGS_LISTEN", ([127, 0, 0, 1], 3000).into(), |v| {
            v.parse().map_err(|_| format!("must be an address and port such as 127.0.0.1:3000, got {v:?}"))
        });
        let initial_admin = match (r.var("TIDINGS_ADMIN_USERNAME"), r.var("TIDINGS_ADMIN_PASSWORD")) {
            (Some(user), Some(password)) => Some((user, Secret(password))),
            (None, None) => None,
            _ => {
                r.errors.push("set both TIDINGS_ADMIN_USERNAME and TIDINGS_ADMIN_PASSWORD, or neither".into());
                None
            }
        };
        let public_url = r.parsed("TIDINGS_PUBLIC_URL", format!("http://{listen}"), |v| match url::Url::parse(v) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Ok(v.trim_end_matches('/').to_owned())
            }
            _ => Err(format!("must be an http:// or https:// address such as https://push.example.org, got {v:?}")),
        });
        let database_url = r.parsed("DATABASE_URL", "sqlite:tidings.db".to_owned(), |v| {
            if v.starts_with("sqlite:") || v.starts_with("postgres://") || v.starts_with("postgresql://") {
                Ok(v.to_owned())
            } else {
                Err(format!("must start with sqlite: or postgres://, got {:?}", v.split(':').next().unwrap_or(v)))
            }
        });
        let vapid_subject = r.parsed("TIDINGS_VAPID_SUBJECT", None, |v| {
            VapidSubject::parse(v).map(Some).map_err(|why| why.trim_start_matches("TIDINGS_VAPID_SUBJECT ").to_owned())
        });
        let allowed_hosts = r.parsed("TIDINGS_PUSH_HOSTS", EndpointPolicy::default().allowed_hosts, |list| {
            list.split(',').filter(|h| !h.trim().is_empty()).map(HostPattern::parse).collect()
        });
        let allow_loopback = r.switch("TIDINGS_ALLOW_LOOPBACK_ENDPOINTS");
        let trusted_proxies = r.parsed("TIDINGS_TRUSTED_PROXIES", Vec::new(), parse_networks);
        let metrics_token = r.parsed("TIDINGS_METRICS_TOKEN", None, |v| {
            // It goes into an Authorization header: long enough not to be guessed.
            if v.len() >= 16 && v.bytes().all(|b| b.is_ascii_graphic()) {
                Ok(Some(Secret(v.to_owned())))
            } else {
                Err("must be at least 16 printable characters without spaces".into())
            }
        });
        let config = Self {
            push_timeout: Duration::from_secs(r.number("TIDINGS_PUSH_TIMEOUT_SECS", 1..=120, 15)),
            extra_root_cert: r.var("TIDINGS_TEST_TRUST_CERT").map(PathBuf::from),
            retry: RetryPolicy {
                max_attempts: r.number("TIDINGS_MAX_ATTEMPTS", 1..=100, u64::from(RetryPolicy::default().max_attempts))
                    as u32,
                window: Duration::from_secs(r.number(
                    "TIDINGS_RETRY_WINDOW_SECS",
                    0..=86_400,
                    RetryPolicy::default().window.as_secs(),
                )),
                ..RetryPolicy::default()
            },
            listen,
            database_url,
            public_url,
            vapid_subject: vapid_subject
                .unwrap_or_else(|| VapidSubject::parse(DEFAULT_VAPID_SUBJECT).expect("the default subject is valid")),
            initial_admin,
            endpoint_policy: EndpointPolicy { allowed_hosts, allow_loopback },
            send_concurrency: r.number("TIDINGS_SEND_CONCURRENCY", 1..=10_000, 64) as usize,
            lease: Duration::from_secs(r.number("TIDINGS_LEASE_SECS", 1..=3600, 30)),
            site_root: r.var("LEPTOS_SITE_ROOT").map_or_else(default_site_root, PathBuf::from),
            clock: Clock::System,
            trusted_proxies,
            metrics_token,
            api_rate_per_sec: r.number("TIDINGS_API_RATE_PER_SEC", 1..=10_000, 20) as u32,
            webhooks: Default::default(),
            http: HttpLimits {
                header_timeout: Duration::from_secs(r.number("TIDINGS_HEADER_TIMEOUT_SECS", 1..=600, 20)),
                body_timeout: Duration::from_secs(r.number("TIDINGS_BODY_TIMEOUT_SECS", 1..=600, 30)),
                max_connections: r.number("TIDINGS_MAX_CONNECTIONS", 16..=1_000_000, 1024) as usize,
            },
        };
        if r.errors.is_empty() {
            Ok(config)
        } else {
            Err(r.errors)
        }
    }
}

impl Config {
    /// `DATABASE_URL` fit for messages and logs: a PostgreSQL password is masked.
    pub fn database_shown(&self) -> String {
        match url::Url::parse(&self.database_url) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            _ => self.database_url.clone(),
        }
    }
}

/// Where the built site is when `LEPTOS_SITE_ROOT` is unset: `site/` beside the binary (as
/// the release archive unpacks), else cargo-leptos' `target/site` (a source checkout).
fn default_site_root() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("site")))
        .filter(|beside| beside.join("pkg").is_dir())
        .unwrap_or_else(|| PathBuf::from("target/site"))
}

/// Variables in `names` that look like ours but are not (a typo keeps its default
/// silently otherwise): any other `TIDINGS_…` name, or one within two edits of a known
/// name; each with the known name it most resembles, if one is close.
pub fn unknown_variables<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<(String, Option<&'static str>)> {
    names
        .into_iter()
        .filter(|name| !KNOWN_VARIABLES.contains(name))
        .filter_map(|name| {
            let closest = KNOWN_VARIABLES
                .iter()
                .map(|known| (strsim::levenshtein(name, known), *known))
                .min()
                // Two edits: a typo. Three would take in other tools' names (RUSTFLAGS is
                // three from RUST_LOG).
                .filter(|(distance, _)| *distance <= 2)
                .map(|(_, known)| known);
            let ours = name.starts_with("TIDINGS") || name.starts_with("TIDING_") || closest.is_some();
            ours.then(|| (name.to_owned(), closest))
        })
        .collect()
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
    use super::{parse_networks, unknown_variables, Config};

    fn config(vars: &[(&str, &str)]) -> Result<Config, Vec<String>> {
        Config::from_vars(&|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn every_bad_setting_is_reported_at_once_one_line_each() {
        let errors = config(&[
            ("TIDINGS_LISTEN", "localhost"),
            ("TIDINGS_LEASE_SECS", "0"),
            ("TIDINGS_PUBLIC_URL", "push.example.org"),
            ("TIDINGS_VAPID_SUBJECT", "mailto:me@localhost"),
            ("TIDINGS_ALLOW_LOOPBACK_ENDPOINTS", "maybe"),
            ("DATABASE_URL", "mysql://db/tidings"),
            ("TIDINGS_METRICS_TOKEN", "short"),
            ("TIDINGS_ADMIN_USERNAME", "admin"),
        ])
        .unwrap_err();
        let starts: Vec<&str> = errors.iter().map(|e| e.split(':').next().unwrap()).collect();
        assert_eq!(
            starts,
            [
                "TIDINGS_LISTEN",
                "set both TIDINGS_ADMIN_USERNAME and TIDINGS_ADMIN_PASSWORD, or neither",
                "TIDINGS_PUBLIC_URL",
                "DATABASE_URL",
                "TIDINGS_VAPID_SUBJECT",
                "TIDINGS_ALLOW_LOOPBACK_ENDPOINTS",
                "TIDINGS_METRICS_TOKEN",
                "TIDINGS_LEASE_SECS",
            ],
            "{errors:#?}"
        );
        assert!(errors.iter().all(|e| !e.contains('\n')), "one line each");
        assert!(errors[0].contains("\"localhost\""), "the bad value is shown: {}", errors[0]);
    }

    #[test]
    fn no_settings_at_all_is_a_working_default() {
        let config = config(&[]).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url, "http://127.0.0.1:3000");
        assert_eq!(config.database_url, "sqlite:tidings.db");
        assert!(config.metrics_token.is_none());
    }

    #[test]
    fn a_printed_configuration_shows_no_password_or_token() {
        let config = config(&[
            ("TIDINGS_ADMIN_USERNAME", "admin"),
            ("TIDINGS_ADMIN_PASSWORD", "hunter2hunter2"),
            ("TIDINGS_METRICS_TOKEN", "metrics-token-0123456789"),
            ("DATABASE_URL", "postgres://tidings:dbsecret@db.internal/tidings"),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2hunter2") && !printed.contains("metrics-token-0123456789"), "{printed}");
        assert_eq!(config.metrics_token.as_ref().unwrap().expose(), "metrics-token-0123456789");
        assert_eq!(config.database_shown(), "postgres://tidings:***@db.internal/tidings");
    }

    #[test]
    fn settings_that_look_like_ours_but_are_not_are_named_with_the_likely_one() {
        let found = unknown_variables([
            "TIDINGS_LISTEN",
            "TIDINGS_LEASE_SEC",
            "TIDING_PUBLIC_URL",
            "TIDINGS_SOMETHING_ELSE",
            "DATABASE_UR",
            "PATH",
            "HOME",
            "RUSTFLAGS",
            "RUST_BACKTRACE",
        ]);
        assert_eq!(
            found,
            [
                ("TIDINGS_LEASE_SEC".to_owned(), Some("TIDINGS_LEASE_SECS")),
                ("TIDING_PUBLIC_URL".to_owned(), Some("TIDINGS_PUBLIC_URL")),
                ("TIDINGS_SOMETHING_ELSE".to_owned(), None),
                ("DATABASE_UR".to_owned(), Some("DATABASE_URL")),
            ]
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let networks = parse_networks(" 10.0.0.0/8, 127.0.0.1 ,::1").unwrap();
        assert_eq!(networks.len(), 3);
        assert!(networks[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_networks("10.0.0.0/33").is_err());
        assert!(parse_networks("proxy.internal").is_err());
    }
}
