//! The wall clock. Scheduling reads a [`Clock`], which tests substitute with a manual
//! one, so "does a campaign scheduled for 09:00 start at 09:00, also after a restart" is
//! checked without waiting for 09:00.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Current time as Unix seconds, the unit of every `…_at` column but two.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Current time as Unix milliseconds: `deliveries.next_attempt_at`, where retries and
/// rate-limit pauses need finer steps than seconds, and `instances.heartbeat_at`.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// Unix seconds, moved only by whoever holds it. It governs scheduling only: retry
    /// times keep to the system clock, or no retry would ever come due in a test.
    Manual(Arc<AtomicI64>),
    /// The system clock this many milliseconds ahead (behind, if negative): a host whose
    /// clock is wrong, for tests.
    Skewed(i64),
}

impl Clock {
    pub fn manual(unix_seconds: i64) -> Self {
        Self::Manual(Arc::new(AtomicI64::new(unix_seconds)))
    }

    /// Now, as Unix seconds.
    pub fn now(&self) -> i64 {
        match self {
            Self::System => now(),
            Self::Manual(at) => at.load(Ordering::SeqCst),
            Self::Skewed(_) => self.now_ms().div_euclid(1000),
        }
    }

    /// Now, as Unix milliseconds: when retries come due.
    pub fn now_ms(&self) -> i64 {
        match self {
            Self::System | Self::Manual(_) => now_ms(),
            Self::Skewed(ahead) => now_ms().saturating_add(*ahead),
        }
    }

    /// Moves a manual clock to `unix_seconds`; the system clock cannot be set.
    pub fn set(&self, unix_seconds: i64) {
        match self {
            Self::System | Self::Skewed(_) => panic!("the system clock cannot be set"),
            Self::Manual(at) => at.store(unix_seconds, Ordering::SeqCst),
        }
    }
}
