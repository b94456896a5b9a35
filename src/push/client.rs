//! The one outbound HTTP client, and how one push request is built and sent (RFC 8030 §5).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};

use super::address::GuardedResolver;
use super::encrypt::encrypt;
use super::endpoint::{service_of, EndpointPolicy, PushEndpoint};
use super::services::{Answer, Refusal, Services, Ticket};
use super::vapid::VapidKeys;

// RFC 8030 §5.2–5.4.
const TTL: HeaderName = HeaderName::from_static("ttl");
const URGENCY: HeaderName = HeaderName::from_static("urgency");
const TOPIC: HeaderName = HeaderName::from_static("topic");

/// The request headers every recipient of one campaign gets; the payload is per recipient.
pub struct PushMessage {
    pub ttl_secs: u32,
    /// The RFC 8030 §5.3 `Urgency` value: very-low, low, normal or high.
    pub urgency: &'static str,
    /// Lets the push service replace an undelivered copy of the same campaign (RFC 8030 §5.4).
    pub topic: String,
}

/// One browser to push to: its subscription as stored (the store reads it into this).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// The VAPID key the browser subscribed with, which must sign every push to it.
    pub key_id: i64,
}

/// What happened to one push request. Whether to retry is the dispatcher's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushResult {
    /// The push service answered.
    Answered { status: u16, retry_after: Option<Duration>, body: String },
    /// No answer: connection refused or reset, timeout, protocol error. Usually transient.
    NoAnswer(String),
    /// We did not send: the endpoint is not allowed, or the message could not be built.
    NotSent(String),
    /// The push service asked us (429 + Retry-After) to wait until then, or has its share of
    /// the requests in flight already; nothing was sent.
    OriginPaused(Instant),
    /// The push service kept failing and is paused until then (the circuit breaker);
    /// nothing was sent.
    ServiceDown(Instant),
}

/// Whether a request to an endpoint may go now.
pub enum Admission {
    /// It may: send it with [`PushClient::send_admitted`].
    Go(Admitted),
    /// Its push service has its share of the requests in flight: ask again once one of
    /// them is done, or leave it alone until then.
    Wait(Instant),
    /// Not now (the service is paused or down) or never (the endpoint is refused): nothing
    /// is sent, and this is what became of it.
    Not(PushResult),
}

/// Leave to send one request: its place among the requests in flight to its service.
pub struct Admitted {
    endpoint: PushEndpoint,
    origin: String,
    ticket: Ticket,
}

#[derive(Clone)]
pub struct PushClient {
    http: reqwest::Client,
    policy: EndpointPolicy,
    /// Push-service origins that answered 429, and until when we leave them alone.
    paused: Arc<Mutex<HashMap<String, Instant>>>,
    /// Requests in flight and failures per push service (the circuit breaker).
    services: Services,
}

/// How long to pause an origin that says 429 without a usable Retry-After.
const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(30);

/// What a push service may ask us to wait (`Retry-After`) is taken within these bounds: an
/// absurd value must not park a delivery for a day, nor a past date burn its attempts in
/// a millisecond.
pub const MIN_SERVER_WAIT: Duration = Duration::from_secs(1);
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(3600);

pub fn clamp_server_wait(wait: Duration) -> Duration {
    wait.clamp(MIN_SERVER_WAIT, MAX_SERVER_WAIT)
}

impl PushClient {
    /// For up to `concurrency` requests in flight, of which one push service may hold
    /// three quarters while others have work. `extra_root` (PEM) is trusted besides the
    /// system's roots: test-only, for benchmarks.
    pub fn new(
        policy: EndpointPolicy,
        timeout: Duration,
        concurrency: usize,
        extra_root: Option<&[u8]>,
    ) -> Result<Self, reqwest::Error> {
        let http = Self::http_client(&policy, timeout, extra_root)?;
        let services = Services::new(concurrency);
        Ok(Self { http, policy, paused: Arc::default(), services })
    }

    fn http_client(
        policy: &EndpointPolicy,
        timeout: Duration,
        extra_root: Option<&[u8]>,
    ) -> Result<reqwest::Client, reqwest::Error> {
        let resolver = GuardedResolver { allow_loopback: policy.allow_loopback };
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = extra_root {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem)?);
        }
        builder
            // HTTPS_PROXY and friends would send pushes through a proxy, which connects to
            // whatever the endpoint names: the address guard below would never see it.
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            // A push service never redirects; following one would let an endpoint point us
            // at an internal address.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            // A connection that died silently (a NAT forgot it, the peer vanished) would
            // swallow every request sent on it until each timed out: pings (every two push
            // timeouts, answered within one; 30 s and 15 s by default) find it out and the
            // pool replaces it.
            .http2_keep_alive_interval(timeout * 2)
            .http2_keep_alive_timeout(timeout)
            .http2_keep_alive_while_idle(true)
            .tcp_keepalive(Duration::from_secs(60))
            .user_agent(concat!("Tidings/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// Encrypts `payload` for `to`, signs and POSTs it, if its push service takes a request
    /// now.
    pub async fn send(
        &self,
        vapid: &VapidKeys,
        to: &SubscriptionRow,
        message: &PushMessage,
        payload: &[u8],
    ) -> PushResult {
        match self.admit(&to.endpoint) {
            Admission::Go(admitted) => self.send_admitted(admitted, vapid, to, message, payload).await,
            Admission::Wait(until) => PushResult::OriginPaused(until),
            Admission::Not(result) => result,
        }
    }

    /// Whether a request to `endpoint` may go now.
    pub fn admit(&self, endpoint: &str) -> Admission {
        // Checked again at send time: the policy may have changed since the visitor subscribed.
        let endpoint = match PushEndpoint::parse(endpoint, &self.policy) {
            Ok(endpoint) => endpoint,
            Err(error) => return Admission::Not(PushResult::NotSent(error.to_string())),
        };
        let origin = endpoint.origin();
        if let Some(until) = self.paused_until(&origin) {
            return Admission::Not(PushResult::OriginPaused(until));
        }
        match self.services.admit(&origin, Instant::now()) {
            Ok(ticket) => Admission::Go(Admitted { endpoint, origin, ticket }),
            Err(Refusal::Down(until)) => Admission::Not(PushResult::ServiceDown(until)),
            Err(Refusal::Busy(until)) => Admission::Wait(until),
        }
    }

    /// Whether the push service of `endpoint` is stuck: failing, or silent for a while.
    pub fn is_stuck(&self, endpoint: &str) -> bool {
        PushEndpoint::parse(endpoint, &self.policy)
            .is_ok_and(|endpoint| self.services.stuck(&endpoint.origin(), Instant::now()))
    }

    /// Encrypts `payload` for `to`, signs and POSTs it to the endpoint it was admitted for.
    pub async fn send_admitted(
        &self,
        admitted: Admitted,
        vapid: &VapidKeys,
        to: &SubscriptionRow,
        message: &PushMessage,
        payload: &[u8],
    ) -> PushResult {
        let Admitted { endpoint, origin, ticket } = admitted;
        let result = match self.send_once(vapid, &endpoint, &origin, to, message, payload).await {
            // The token may be what is refused (signed before a clock jump, or cached too
            // long): once, with a fresh one, before the delivery counts as failed.
            PushResult::Answered { status: 401 | 403, .. } => {
                vapid.forget(&origin);
                self.send_once(vapid, &endpoint, &origin, to, message, payload).await
            }
            other => other,
        };
        let answer = match &result {
            PushResult::Answered { status, .. } if (500..600).contains(status) => Answer::ServerError,
            PushResult::Answered { .. } => Answer::Up,
            PushResult::NoAnswer(_) => Answer::Failed,
            PushResult::NotSent(_) | PushResult::OriginPaused(_) | PushResult::ServiceDown(_) => Answer::NotSent,
        };
        self.services.settle(ticket, answer, Instant::now());
        result
    }

    async fn send_once(
        &self,
        vapid: &VapidKeys,
        endpoint: &PushEndpoint,
        origin: &str,
        to: &SubscriptionRow,
        message: &PushMessage,
        payload: &[u8],
    ) -> PushResult {
        let request = match self.build_request(vapid, endpoint, origin, to, message, payload) {
            Ok(request) => request,
            Err(error) => return PushResult::NotSent(format!("could not build the push request: {error}")),
        };
        let started = Instant::now();
        let sent = request.send().await;
        metrics::histogram!("tidings_push_request_duration_seconds", "service" => service_of(origin).to_owned())
            .record(started.elapsed().as_secs_f64());
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()))
                    .map(clamp_server_wait);
                // RFC 9110 §15.6.4: a 503's Retry-After means the same as a 429's.
                match (status, retry_after) {
                    (429, wait) => self.pause(origin, wait.unwrap_or(DEFAULT_RATE_LIMIT_PAUSE)),
                    (503, Some(wait)) => self.pause(origin, wait),
                    _ => {}
                }
                let body = if (200..300).contains(&status) {
                    String::new()
                } else {
                    response.text().await.unwrap_or_default().chars().take(200).collect()
                };
                PushResult::Answered { status, retry_after, body }
            }
            Err(error) if error.is_timeout() => PushResult::NoAnswer("timed out".into()),
            // Without the URL: an endpoint is a capability, and this text is stored and shown.
            Err(error) => PushResult::NoAnswer(format!("connection failed: {}", with_causes(&error.without_url()))),
        }
    }

    /// The RFC 8030 §5 request: encrypted body, TTL, Urgency, Topic and the cached VAPID
    /// `Authorization`.
    fn build_request(
        &self,
        vapid: &VapidKeys,
        endpoint: &PushEndpoint,
        origin: &str,
        to: &SubscriptionRow,
        message: &PushMessage,
        payload: &[u8],
    ) -> Result<reqwest::RequestBuilder, String> {
        // Stored keys were validated at subscribe time; decoding cannot fail for them.
        let ua_public = URL_SAFE_NO_PAD.decode(&to.p256dh).map_err(|_| "the p256dh key is not base64url")?;
        let auth = URL_SAFE_NO_PAD.decode(&to.auth).map_err(|_| "the auth secret is not base64url")?;
        let body = encrypt(&ua_public, &auth, payload).map_err(|e| e.to_string())?;
        // Static names and values, the parsed URL and the cached token: nothing of these
        // is copied or parsed again per push.
        Ok(self
            .http
            .post(endpoint.url().clone())
            .header(TTL, message.ttl_secs)
            .header(URGENCY, HeaderValue::from_static(message.urgency))
            .header(TOPIC, &message.topic)
            .header(CONTENT_ENCODING, HeaderValue::from_static("aes128gcm"))
            .header(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"))
            .header(AUTHORIZATION, vapid.authorization_for(origin)?)
            .body(body))
    }

    fn paused_until(&self, origin: &str) -> Option<Instant> {
        let paused = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        paused.get(origin).copied().filter(|until| *until > Instant::now())
    }

    /// RFC 8030 §8.4 / RFC 6585 §4: all sends to this origin wait; other origins go on.
    fn pause(&self, origin: &str, wait: Duration) {
        let until = Instant::now() + clamp_server_wait(wait);
        let mut paused = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        let entry = paused.entry(origin.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
        metrics::counter!("tidings_push_pauses_total", "service" => service_of(origin).to_owned()).increment(1);
        tracing::warn!(origin, wait_secs = wait.as_secs_f32(), "push service asked us to wait (429/503)");
    }

    /// Tests: settles an admitted request as failed without sending it, as a refused
    /// connection would.
    #[cfg(test)]
    pub(crate) fn fail_admitted(&self, admitted: Admitted) {
        self.services.settle(admitted.ticket, Answer::Failed, Instant::now());
    }

    /// How many push services this client has paused for failing (open circuit breakers).
    pub fn open_breakers(&self) -> usize {
        self.services.open_count(Instant::now())
    }
}

/// `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // Digits too many for a u64 are still a (very long) delay.
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::MAX);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An error and its causes on one line: reqwest's own message hides why it failed.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(90)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
