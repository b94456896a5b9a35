//! Slows down password guessing: after too many failed sign-ins for one user name, or
//! from one address, further attempts are refused for a while.
//!
//! Hand-written rather than a rate-limit crate: those count every attempt, and we must
//! count only failures (an admin signing in all day is never limited).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

/// Failed sign-ins allowed per key within [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Beyond this many keys, expired ones are dropped (bounds memory under a spray).
const PRUNE_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// Refuses (429) if any key has used up its failures.
    pub fn check(&self, keys: &[String], now: Instant) -> Result<(), AppError> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let wait = keys
            .iter()
            .filter_map(|key| failures.get(key))
            .filter(|(count, started)| *count >= MAX_FAILURES && now < *started + WINDOW)
            .map(|(_, started)| *started + WINDOW - now)
            .max();
        match wait {
            Some(wait) => Err(AppError::TooManyRequests(format!(
                "Too many failed sign-ins. Try again in {} minutes.",
                wait.as_secs().div_ceil(60).max(1)
            ))),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, (_, started)| now < *started + WINDOW);
        }
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert((0, now));
            if now >= entry.1 + WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// A successful sign-in clears the user name's count (not the address's).
    pub fn record_success(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let throttle = LoginThrottle::default();
        let keys = vec!["user:ada".to_owned(), "ip:192.0.2.1".to_owned()];
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            throttle.check(&keys, start).unwrap();
            throttle.record_failure(&keys, start);
        }
        let refused = throttle.check(&keys, start + Duration::from_secs(60)).unwrap_err();
        assert_eq!(refused.status_code(), 429);
        assert!(refused.to_string().contains("14 minutes"), "{refused}");
        // Another user name from the same address is refused too; another address is not.
        assert!(throttle.check(&["user:bob".to_owned(), "ip:192.0.2.1".to_owned()], start).is_err());
        assert!(throttle.check(&["user:bob".to_owned(), "ip:192.0.2.9".to_owned()], start).is_ok());
        assert!(throttle.check(&keys, start + WINDOW).is_ok());
    }

    #[test]
    fn success_clears_the_user_name() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        let keys = vec!["user:ada".to_owned()];
        for _ in 0..MAX_FAILURES {
            throttle.record_failure(&keys, now);
        }
        throttle.record_success("user:ada");
        assert!(throttle.check(&keys, now).is_ok());
    }
}
