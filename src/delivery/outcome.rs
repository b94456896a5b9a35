//! From what a push service said to what happens to the delivery (RFC 8030 §5–§8, and
//! DESIGN.md's table): sent, expired, failed, or tried again later.

use std::time::{Duration, Instant};

use crate::push::client::{clamp_server_wait, PushResult};
use crate::store::{DeliveryOutcome, OutcomeKind};

/// How persistently transient failures (5xx, timeouts, lost connections) are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included: a bound on requests per delivery.
    pub max_attempts: u32,
    /// How long after its first failure a delivery is still retried (never beyond the
    /// message's TTL): long enough that a push service outage of minutes loses nothing.
    pub window: Duration,
    /// The wait after the first failure; it doubles each time, with jitter.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // 5 s doubling to 5 min: 40 attempts outlast the hour even with the shortest jitter.
        Self {
            max_attempts: 40,
            window: Duration::from_secs(3600),
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(5 * 60),
        }
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

/// A claimed delivery as far as deciding its fate goes.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub subscription_id: i64,
    /// Earlier attempts, not this one.
    pub attempts: u32,
    /// When it first failed transiently (Unix ms), if it has.
    pub first_failed_at: Option<i64>,
    /// The message's TTL: after it, a retry would deliver a message the sender gave up on.
    pub ttl: Duration,
    /// The lease term it was claimed in, which its outcome answers to.
    pub term: i64,
}

/// A delivery that goes back to pending as it was: no request was made for it.
pub fn untouched(subscription_id: i64, term: i64) -> DeliveryOutcome {
    DeliveryOutcome {
        subscription_id,
        kind: OutcomeKind::Retry { at_ms: 0 },
        attempted: false,
        status_code: None,
        error: None,
        term,
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Decides a delivery's fate; `now_ms` is Unix milliseconds.
pub fn decide(attempt: Attempt, result: PushResult, policy: &RetryPolicy, now_ms: i64, jitter: f64) -> DeliveryOutcome {
    let (subscription_id, term) = (attempt.subscription_id, attempt.term);
    let outcome = |kind, attempted, status_code, error| DeliveryOutcome {
        subscription_id,
        kind,
        attempted,
        status_code,
        error,
        term,
    };
    let this_attempt = attempt.attempts.saturating_add(1);
    // Retried until the window after the first failure closes, or the TTL does.
    let deadline = attempt.first_failed_at.unwrap_or(now_ms).saturating_add(millis(policy.window.min(attempt.ttl)));
    // `asked`: the push service's Retry-After, which replaces our own backoff.
    let retry_or_fail = |status_code: Option<u16>, error: String, asked: Option<Duration>| {
        let wait = asked.map(clamp_server_wait).unwrap_or_else(|| policy.backoff(this_attempt, jitter));
        let at = now_ms.saturating_add(millis(wait));
        if this_attempt >= policy.max_attempts {
            outcome(OutcomeKind::Failed, true, status_code, Some(format!("{error} (after {this_attempt} attempts)")))
        } else if at > deadline {
            let minutes = (now_ms - attempt.first_failed_at.unwrap_or(now_ms)) / 60_000;
            outcome(
                OutcomeKind::Failed,
                true,
                status_code,
                Some(format!("{error} (still failing after {this_attempt} attempts in {minutes} min)")),
            )
        } else {
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
                429 => retry_or_fail(Some(status), error(), Some(retry_after.unwrap_or(policy.first_backoff))),
                // The push service's trouble, not the message's: try again later (when it
                // says, if it does: a 503's Retry-After).
                500..=599 => retry_or_fail(Some(status), error(), retry_after),
                // 400 malformed, 401/403 VAPID rejected, 413 payload too large, …: sending
                // the same request again cannot help. The subscription is kept.
                _ => outcome(OutcomeKind::Failed, true, Some(status), Some(error())),
            }
        }
        PushResult::NoAnswer(error) => retry_or_fail(None, error, None),
        PushResult::NotSent(error) => outcome(OutcomeKind::Failed, false, None, Some(error)),
        PushResult::OriginPaused(until) => {
            let wait = until.saturating_duration_since(Instant::now());
            outcome(OutcomeKind::Retry { at_ms: now_ms.saturating_add(millis(wait)) }, false, None, None)
        }
        // Not an attempt, but a failure: the retry window runs, so a service that never
        // comes back fails its deliveries when the window closes, not never.
        PushResult::ServiceDown(until) => {
            let at = now_ms.saturating_add(millis(until.saturating_duration_since(Instant::now())));
            let error = "the push service keeps failing (timeouts or 5xx): sending to it is paused".to_owned();
            if at > deadline {
                let minutes = (now_ms - attempt.first_failed_at.unwrap_or(now_ms)) / 60_000;
                outcome(OutcomeKind::Failed, false, None, Some(format!("{error} (for {minutes} min)")))
            } else {
                outcome(OutcomeKind::Retry { at_ms: at }, false, None, Some(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        window: Duration::from_secs(3600),
        first_backoff: Duration::from_secs(10),
        max_backoff: Duration::from_secs(60),
    };
    const DAY: Duration = Duration::from_secs(86_400);

    fn answered(status: u16) -> PushResult {
        PushResult::Answered { status, retry_after: None, body: String::new() }
    }

    fn first(attempts: u32) -> Attempt {
        Attempt { subscription_id: 1, attempts, first_failed_at: None, ttl: DAY, term: 0 }
    }

    fn kind(result: PushResult, attempts: u32) -> OutcomeKind {
        decide(first(attempts), result, &POLICY, 1_000_000, 1.0).kind
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

    /// Runs a delivery that always fails with `result` through the default policy, as
    /// the dispatcher would, with the shortest waits jitter allows; returns how long after
    /// the first failure it was given up, and after how many attempts.
    fn outage(result: PushResult, ttl: Duration) -> (Duration, u32) {
        let policy = RetryPolicy::default();
        let start = 1_000_000_000;
        let (mut now, mut attempts, mut first_failed_at) = (start, 0, None);
        loop {
            let attempt = Attempt { subscription_id: 1, attempts, first_failed_at, ttl, term: 0 };
            match decide(attempt, result.clone(), &policy, now, 0.0).kind {
                OutcomeKind::Retry { at_ms } => {
                    first_failed_at.get_or_insert(now);
                    attempts += 1;
                    now = at_ms;
                }
                OutcomeKind::Failed => return (Duration::from_millis((now - start) as u64), attempts + 1),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_outage_is_waited_out_for_an_hour_but_never_beyond_the_ttl() {
        let (lasted, attempts) = outage(answered(503), DAY);
        assert!(lasted >= Duration::from_secs(55 * 60) && lasted <= Duration::from_secs(3600), "{lasted:?}");
        assert!(attempts <= RetryPolicy::default().max_attempts, "{attempts}");
        let (lasted, _) = outage(PushResult::NoAnswer("timed out".into()), Duration::from_secs(600));
        assert!(lasted >= Duration::from_secs(5 * 60) && lasted <= Duration::from_secs(600), "{lasted:?}");
    }

    #[test]
    fn a_503_comes_back_when_the_service_asked_and_every_wait_asked_is_clamped() {
        let asked = |retry_after: Duration| {
            let result = PushResult::Answered { status: 503, retry_after: Some(retry_after), body: String::new() };
            match decide(first(0), result, &RetryPolicy::default(), 1_000_000, 1.0).kind {
                OutcomeKind::Retry { at_ms } => at_ms - 1_000_000,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(asked(Duration::from_secs(7)), 7_000);
        assert_eq!(asked(Duration::ZERO), 1_000, "a past date waits a second, not nothing");
        assert_eq!(asked(Duration::from_secs(86_400 * 365)), 3_600_000, "a year is an hour");
        assert_eq!(asked(Duration::MAX), 3_600_000, "no overflow");
    }

    #[test]
    fn rate_limits_come_back_when_the_service_asked() {
        let result =
            PushResult::Answered { status: 429, retry_after: Some(Duration::from_secs(7)), body: String::new() };
        assert_eq!(kind(result, 0), OutcomeKind::Retry { at_ms: 1_007_000 });
    }

    #[test]
    fn a_service_that_stays_down_fails_its_deliveries_when_the_window_closes() {
        let until = |secs| PushResult::ServiceDown(Instant::now() + Duration::from_secs(secs));
        let waiting = decide(first(0), until(5), &POLICY, 1_000_000, 0.5);
        assert!(!waiting.attempted && matches!(waiting.kind, OutcomeKind::Retry { .. }), "{waiting:?}");
        assert!(waiting.error.is_some(), "a failure, so the window starts");
        let late = Attempt { first_failed_at: Some(1_000_000 - 3_590_000), ..first(4) };
        assert_eq!(decide(late, until(60), &POLICY, 1_000_000, 0.5).kind, OutcomeKind::Failed);
    }

    #[test]
    fn a_paused_origin_is_not_an_attempt() {
        let outcome = decide(first(0), PushResult::OriginPaused(Instant::now()), &POLICY, 0, 0.5);
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
