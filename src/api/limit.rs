//! The per-key rate limit of the API, kept in memory on each instance.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Requests per second per key, with bursts of twice that, on each instance.
pub struct ApiLimiter(DefaultKeyedRateLimiter<i64>);

impl ApiLimiter {
    pub fn new(per_second: u32) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).expect("at least 1");
        let burst = NonZeroU32::new(per_second.max(1).saturating_mul(2)).expect("at least 2");
        Self(DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
    }

    /// Seconds to wait if `key` is over its rate.
    pub fn check(&self, key: i64) -> Result<(), u64> {
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&key).map_err(|not_until| {
            not_until.wait_time_from(DefaultClock::default().now()).as_secs_f64().ceil().max(1.0) as u64
        })
    }
}
