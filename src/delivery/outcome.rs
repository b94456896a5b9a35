//! From what a push service said to what happens to the delivery (RFC 8030 §5–§8, and
//! DESIGN.md's table): sent, expired, failed, or tried again later.

use std::time::{Duration, Instant};

use crate::push::client::PushResult;
use crate::store::{DeliveryOutcome, OutcomeKind};

/// How persistently transient failures (5xx, timeouts, lost connections) are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles each time, with jitter.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 5, first_backoff: Duration::from_secs(5), max_backoff: Duration::from_secs(15 * 60) }
    }
}

impl RetryPolicy {
    /// Exponential backoff with "full jitter" between half and all of the step, so that
    /// many failed deliveries do not all come back in the same instant.
    pub fn backoff(&self, failed_attempts: u32, jitter: f64) -> Duration {
        let step = self.first_backoff.saturating_mul(1 << failed_attempts.saturating_sub(1).min(20));
        step.min(self.max_backoff).mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// A delivery that goes back to pending as it was: no request was made for it.
pub fn untouched(subscription_id: i64) -> DeliveryOutcome {
    DeliveryOutcome {
        subscription_id,
        kind: OutcomeKind::Retry { at_ms: 0 },
        attempted: false,
        status_code: None,
        error: None,
    }
}

/// Decides a delivery's fate. `attempts` counts earlier attempts, not this one;
/// `now_ms` is Unix milliseconds.
pub fn decide(
    subscription_id: i64,
    result: PushResult,
    attempts: u32,
    policy: &RetryPolicy,
    now_ms: i64,
    jitter: f64,
) -> DeliveryOutcome {
    let outcome =
        |kind, attempted, status_code, error| DeliveryOutcome { subscription_id, kind, attempted, status_code, error };
    let this_attempt = attempts + 1;
    let retry_or_fail = |status_code: Option<u16>, error: String| {
        if this_attempt >= policy.max_attempts {
            outcome(OutcomeKind::Failed, true, status_code, Some(format!("{error} (after {this_attempt} attempts)")))
        } else {
            let at = now_ms + policy.backoff(this_attempt, jitter).as_millis() as i64;
            outcome(OutcomeKind::Retry { at_ms: at }, true, status_code, Some(error))
        }
    };
    match result {
        PushResult::Answered { status, retry_after, body } => {
            let error = || format!("HTTP {status}: {body}");
            match status {
                200..=299 => outcome(OutcomeKind::Sent, true, Some(status), None),
                // The browser unsubscribed or the subscription expired: never send again.
                404 | 410 => outcome(OutcomeKind::Expired, true, Some(status), Some(error())),
                // Too many requests: the client paused this origin; come back when it asked.
                429 => {
                    if this_attempt >= policy.max_attempts {
                        return retry_or_fail(Some(status), error());
                    }
                    let wait = retry_after.unwrap_or(policy.first_backoff);
                    outcome(
                        OutcomeKind::Retry { at_ms: now_ms + wait.as_millis() as i64 },
                        true,
                        Some(status),
                        Some(error()),
                    )
                }
                // The push service's trouble, not the message's: try again later.
                500..=599 => retry_or_fail(Some(status), error()),
                // 400 malformed, 401/403 VAPID rejected, 413 payload too large, …: sending
                // the same request again cannot help. The subscription is kept.
                _ => outcome(OutcomeKind::Failed, true, Some(status), Some(error())),
            }
        }
        PushResult::NoAnswer(error) => retry_or_fail(None, error),
        PushResult::NotSent(error) => outcome(OutcomeKind::Failed, false, None, Some(error)),
        PushResult::OriginPaused(until) => {
            let wait = until.saturating_duration_since(Instant::now());
            outcome(OutcomeKind::Retry { at_ms: now_ms + wait.as_millis() as i64 }, false, None, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy =
        RetryPolicy { max_attempts: 3, first_backoff: Duration::from_secs(10), max_backoff: Duration::from_secs(60) };

    fn answered(status: u16) -> PushResult {
        PushResult::Answered { status, retry_after: None, body: String::new() }
    }

    fn kind(result: PushResult, attempts: u32) -> OutcomeKind {
        decide(1, result, attempts, &POLICY, 1_000_000, 1.0).kind
    }

    #[test]
    fn success_and_gone_are_final() {
        assert_eq!(kind(answered(201), 0), OutcomeKind::Sent);
        assert_eq!(kind(answered(202), 0), OutcomeKind::Sent);
        assert_eq!(kind(answered(410), 0), OutcomeKind::Expired);
        assert_eq!(kind(answered(404), 0), OutcomeKind::Expired);
    }

    #[test]
    fn client_errors_fail_at_once() {
        for status in [400, 401, 403, 413] {
            assert_eq!(kind(answered(status), 0), OutcomeKind::Failed, "{status}");
        }
    }

    #[test]
    fn server_errors_and_silence_are_retried_with_growing_waits_then_fail() {
        assert_eq!(kind(answered(503), 0), OutcomeKind::Retry { at_ms: 1_010_000 });
        assert_eq!(kind(PushResult::NoAnswer("timed out".into()), 1), OutcomeKind::Retry { at_ms: 1_020_000 });
        assert_eq!(kind(answered(500), 2), OutcomeKind::Failed, "the third attempt was the last");
    }

    #[test]
    fn rate_limits_come_back_when_the_service_asked() {
        let result =
            PushResult::Answered { status: 429, retry_after: Some(Duration::from_secs(7)), body: String::new() };
        assert_eq!(kind(result, 0), OutcomeKind::Retry { at_ms: 1_007_000 });
    }

    #[test]
    fn a_paused_origin_is_not_an_attempt() {
        let outcome = decide(1, PushResult::OriginPaused(Instant::now()), 0, &POLICY, 0, 0.5);
        assert!(!outcome.attempted);
        assert!(matches!(outcome.kind, OutcomeKind::Retry { .. }));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_keeps_at_least_half() {
        assert_eq!(POLICY.backoff(1, 1.0), Duration::from_secs(10));
        assert_eq!(POLICY.backoff(2, 1.0), Duration::from_secs(20));
        assert_eq!(POLICY.backoff(9, 1.0), Duration::from_secs(60));
        assert_eq!(POLICY.backoff(2, 0.0), Duration::from_secs(10));
    }
}
