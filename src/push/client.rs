//! The one outbound HTTP client, and how one push request is built and sent (RFC 8030 §5).

use std::time::Duration;

use web_push::{ContentEncoding, SubscriptionInfo, WebPushMessageBuilder};

use super::address::GuardedResolver;
use super::vapid::VapidKeys;
use crate::campaign::Urgency;
use crate::store::{DeliveryOutcome, OutcomeKind, SubscriptionRow};
use crate::subscription::parse::{EndpointPolicy, PushEndpoint};

/// What every recipient of one campaign receives; encrypted separately for each.
pub struct PushMessage {
    pub payload: Vec<u8>,
    pub ttl_secs: u32,
    pub urgency: Urgency,
    /// Lets the push service replace an undelivered copy of the same campaign (RFC 8030 §5.4).
    pub topic: String,
}

#[derive(Clone)]
pub struct PushClient {
    http: reqwest::Client,
    policy: EndpointPolicy,
}

impl PushClient {
    pub fn new(policy: EndpointPolicy) -> Result<Self, reqwest::Error> {
        let resolver = GuardedResolver { allow_loopback: policy.allow_loopback };
        let http = reqwest::Client::builder()
            .dns_resolver(std::sync::Arc::new(resolver))
            // A push service never redirects; following one would let an endpoint point us
            // at an internal address.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("Tidings/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, policy })
    }

    /// Encrypts, signs and POSTs one message; never fails, every problem is an outcome.
    pub async fn send(&self, vapid: &VapidKeys, to: &SubscriptionRow, message: &PushMessage) -> DeliveryOutcome {
        let failed = |error: String| DeliveryOutcome {
            subscription_id: to.id,
            kind: OutcomeKind::Failed,
            status_code: None,
            error: Some(error),
        };
        // Checked again at send time: the policy may have changed since the visitor subscribed.
        let endpoint = match PushEndpoint::parse(&to.endpoint, &self.policy) {
            Ok(endpoint) => endpoint,
            Err(error) => return failed(error.to_string()),
        };
        let request = match build_request(vapid, &endpoint, to, message) {
            Ok(request) => request,
            Err(error) => return failed(format!("could not build the push request: {error}")),
        };
        let mut outgoing = self.http.post(endpoint.as_str());
        for (name, value) in request.headers() {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
        match outgoing.body(request.into_body()).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let kind = outcome_for_status(status);
                let error = if kind == OutcomeKind::Sent {
                    None
                } else {
                    let body = response.text().await.unwrap_or_default();
                    Some(format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()))
                };
                DeliveryOutcome { subscription_id: to.id, kind, status_code: Some(status), error }
            }
            Err(error) if error.is_timeout() => failed("timed out".into()),
            Err(error) => failed(format!("connection failed: {}", with_causes(&error))),
        }
    }
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

fn build_request(
    vapid: &VapidKeys,
    endpoint: &PushEndpoint,
    to: &SubscriptionRow,
    message: &PushMessage,
) -> Result<http_02::Request<Vec<u8>>, web_push::WebPushError> {
    let info = SubscriptionInfo::new(to.endpoint.as_str(), to.p256dh.as_str(), to.auth.as_str());
    let mut builder = WebPushMessageBuilder::new(&info);
    // RFC 8291 aes128gcm only; the older aesgcm draft is not offered.
    builder.set_payload(ContentEncoding::Aes128Gcm, &message.payload);
    builder.set_ttl(message.ttl_secs);
    builder.set_urgency(message.urgency.into());
    builder.set_topic(message.topic.clone());
    builder.set_vapid_signature(vapid.signature_for(&endpoint.origin())?);
    Ok(web_push::request_builder::build_request(builder.build()?))
}

/// RFC 8030 §5 / §7.3 status codes, as DESIGN.md lays them out.
pub fn outcome_for_status(status: u16) -> OutcomeKind {
    match status {
        200..=299 => OutcomeKind::Sent,
        404 | 410 => OutcomeKind::Expired,
        _ => OutcomeKind::Failed,
    }
}

impl From<Urgency> for web_push::Urgency {
    fn from(urgency: Urgency) -> Self {
        match urgency {
            Urgency::VeryLow => Self::VeryLow,
            Urgency::Low => Self::Low,
            Urgency::Normal => Self::Normal,
            Urgency::High => Self::High,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gone_subscriptions_expire_and_other_errors_fail() {
        assert_eq!(outcome_for_status(201), OutcomeKind::Sent);
        assert_eq!(outcome_for_status(410), OutcomeKind::Expired);
        assert_eq!(outcome_for_status(404), OutcomeKind::Expired);
        for status in [400, 401, 403, 413, 429, 500, 503] {
            assert_eq!(outcome_for_status(status), OutcomeKind::Failed, "{status}");
        }
    }
}
