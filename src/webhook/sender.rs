//! Posts queued webhook events to their endpoints, signed the Standard Webhooks way
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), and
//! retries failures with backoff for a day. An endpoint that has failed for days is
//! turned off, with the reason on its page.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::WebhookEvent;
use crate::push::address::{is_public, GuardedResolver};
use crate::store::{Store, WebhookDeliveryRow};

const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed entry is held: longer than a post may take, and short enough that an
/// instance that died mid-post delays it little.
const CLAIM: Duration = Duration::from_secs(15);
/// Entries posted at once by one instance.
const BATCH: i64 = 16;
const IDLE_POLL: Duration = Duration::from_secs(1);

/// When to retry and when to give up.
#[derive(Debug, Clone, Copy)]
pub struct WebhookTiming {
    /// The wait after the first failure; each next one doubles, up to an hour.
    pub first_retry: Duration,
    /// An event not delivered this long after it happened is given up.
    pub give_up_after: Duration,
    /// An endpoint every post to which failed this long is turned off.
    pub disable_after: Duration,
}

impl Default for WebhookTiming {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(5),
            give_up_after: Duration::from_secs(24 * 3600),
            disable_after: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl WebhookTiming {
    fn backoff(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        self.first_retry.saturating_mul(2u32.saturating_pow(doublings)).min(Duration::from_secs(3600))
    }
}

/// A new endpoint's signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>()))
}

/// The `webhook-signature` value for one post: what a receiver recomputes to trust it.
pub fn signature(secret: &str, message_id: &str, timestamp: i64, body: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .unwrap_or_else(|_| secret.as_bytes().to_vec());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let tag = ring::hmac::sign(&key, format!("{message_id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(tag.as_ref()))
}

/// The body posted for `event`, and its message id (`msg_` and 16 random hex digits).
pub fn event_body(event: WebhookEvent, data: serde_json::Value) -> (String, String) {
    let id = format!("msg_{:016x}", rand::random::<u64>());
    let body = serde_json::json!({
        "type": event.as_str(),
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    });
    (id, body.to_string())
}

/// Whether Tidings may post to `url`: `https` to a public address (names are checked
/// again where they resolve, by the client's resolver). The test-only loopback setting
/// also lets `http://127.0.0.1` and `localhost` through, as for push endpoints.
pub fn check_url(url: &url::Url, allow_loopback: bool) -> Result<(), String> {
    let loopback = |host: &url::Host<&str>| match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let host = url.host().ok_or("the URL has no host")?;
    if allow_loopback && loopback(&host) {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err("the URL must start with https://".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not contain a user name or password".into());
    }
    match host {
        url::Host::Ipv4(ip) if !is_public(ip.into()) => Err(format!("{ip} is not a public address")),
        url::Host::Ipv6(ip) if !is_public(ip.into()) => Err(format!("{ip} is not a public address")),
        url::Host::Domain(name) if name.eq_ignore_ascii_case("localhost") || !name.contains('.') => {
            Err(format!("{name} is not a public host name"))
        }
        _ => Ok(()),
    }
}

/// The task that posts; one per instance, sharing the queue with the others.
pub struct WebhookSender {
    store: Store,
    client: reqwest::Client,
    timing: WebhookTiming,
    allow_loopback: bool,
    wake: Arc<Notify>,
    stop: CancellationToken,
}

impl WebhookSender {
    pub fn new(
        store: Store,
        allow_loopback: bool,
        timing: WebhookTiming,
        wake: Arc<Notify>,
        stop: CancellationToken,
    ) -> Result<Self, String> {
        // The same address guard as pushes: a webhook URL must not reach inside the network
        // Tidings runs in, also when its name resolves there later. No proxy and no
        // redirects, for the same reason.
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { allow_loopback }))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(POST_TIMEOUT)
            .user_agent(concat!("Tidings/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { store, client, timing, allow_loopback, wake, stop })
    }

    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !self.stop.is_cancelled() {
                let worked = match self.work_once().await {
                    Ok(worked) => worked,
                    Err(error) => {
                        tracing::warn!(%error, "webhooks: could not read the queue; trying again shortly");
                        false
                    }
                };
                if !worked {
                    tokio::select! {
                        _ = self.stop.cancelled() => {}
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                    }
                }
            }
        })
    }

    /// Posts one batch of due entries, side by side. Returns whether there was any.
    async fn work_once(&self) -> Result<bool, sqlx::Error> {
        let now_ms = crate::clock::now_ms();
        let until = now_ms + i64::try_from(CLAIM.as_millis()).unwrap_or(60_000);
        let batch = self.store.claim_webhook_deliveries(now_ms, until, BATCH).await?;
        if batch.is_empty() {
            return Ok(false);
        }
        futures::future::join_all(batch.iter().map(|delivery| self.post(delivery))).await;
        Ok(true)
    }

    async fn post(&self, delivery: &WebhookDeliveryRow) {
        let Ok(Some(webhook)) = self.store.webhook(delivery.webhook_id).await else { return };
        let timestamp = chrono::Utc::now().timestamp();
        let checked = url::Url::parse(&webhook.url)
            .map_err(|e| e.to_string())
            .and_then(|url| check_url(&url, self.allow_loopback).map(|()| url));
        let answer = match checked {
            Err(why) => Err(why),
            Ok(url) => self
                .client
                .post(url)
                .header("content-type", "application/json")
                .header("webhook-id", &delivery.message_id)
                .header("webhook-timestamp", timestamp.to_string())
                .header(
                    "webhook-signature",
                    signature(&webhook.secret, &delivery.message_id, timestamp, &delivery.payload),
                )
                .body(delivery.payload.clone())
                .send()
                .await
                .map(|response| response.status().as_u16())
                .map_err(|e| without_url(&e)),
        };
        let outcome = match answer {
            Ok(status) if (200..300).contains(&status) => {
                self.store.webhook_delivered(delivery, status).await.map(|()| "delivered")
            }
            failed => {
                let (status, error) = match failed {
                    Ok(status) => (Some(status), format!("the receiver answered {status}")),
                    Err(why) => (None, why),
                };
                let now = chrono::Utc::now().timestamp();
                let next = crate::clock::now_ms()
                    + i64::try_from(self.timing.backoff(delivery.attempts).as_millis()).unwrap_or(i64::MAX / 2);
                let give_up = delivery.created_at * 1000
                    + i64::try_from(self.timing.give_up_after.as_millis()).unwrap_or(i64::MAX / 2);
                let retry_at = (next <= give_up).then_some(next);
                let disable_before = now - i64::try_from(self.timing.disable_after.as_secs()).unwrap_or(i64::MAX / 2);
                match self.store.webhook_failed(delivery, status, &error, retry_at, disable_before).await {
                    Ok(disabled) => {
                        if disabled {
                            tracing::warn!(webhook = webhook.id, "webhook endpoint turned off: it kept failing");
                        }
                        Ok(if retry_at.is_some() { "retry" } else { "failed" })
                    }
                    Err(error) => Err(error),
                }
            }
        };
        match outcome {
            Ok(label) => metrics::counter!("tidings_webhooks_total", "outcome" => label).increment(1),
            Err(error) => {
                tracing::warn!(%error, "webhooks: could not record an outcome; it is retried after its claim")
            }
        }
    }
}

/// reqwest's error, without the URL it names (it may hold a token the receiver gave).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "no answer in time"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_example() {
        // From the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn only_https_to_public_addresses() {
        let check = |raw: &str| check_url(&url::Url::parse(raw).unwrap(), false);
        assert!(check("https://hooks.example.com/tidings").is_ok());
        for refused in [
            "http://hooks.example.com/",
            "https://127.0.0.1/",
            "https://10.0.0.5/",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://localhost/",
            "https://intranet/",
            "https://user:pass@hooks.example.com/",
        ] {
            assert!(check(refused).is_err(), "{refused} was accepted");
        }
        assert!(check_url(&url::Url::parse("http://127.0.0.1:9/").unwrap(), true).is_ok());
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        let timing = WebhookTiming::default();
        assert_eq!(timing.backoff(1), Duration::from_secs(5));
        assert_eq!(timing.backoff(2), Duration::from_secs(10));
        assert_eq!(timing.backoff(40), Duration::from_secs(3600));
    }
}
