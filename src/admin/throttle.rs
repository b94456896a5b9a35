//! Slows down password guessing: after too many failed sign-ins from one address, or for
//! one user name from an address that has failed too, further attempts are refused for
//! a while. An attempt counts as failed before its password is checked ([`reserve`]) and
//! is taken back if it succeeds, so concurrent guesses cannot slip past the limit.
//!
//! Hand-written rather than a rate-limit crate: those count every attempt, and we must
//! count only failures (an admin signing in all day is never limited). The counts are in
//! the database, so the limit holds across every instance sharing it.

use std::time::Duration;

use crate::error::AppError;
use crate::store::Store;

/// Failed sign-ins allowed per key within [`WINDOW`].
pub const MAX_FAILURES: i64 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

fn window_ms() -> i64 {
    WINDOW.as_millis() as i64
}

/// Counts this attempt against the address and the user name before the password is
/// checked, or refuses it (429). The user name's lock applies only to addresses that
/// have failed before: anyone can fail ten times for "admin", and must not thereby
/// lock the real admin out.
pub async fn reserve(store: &Store, user_key: &str, address_key: Option<&str>, now_ms: i64) -> Result<(), AppError> {
    match store.reserve_sign_in(user_key, address_key, MAX_FAILURES, now_ms, window_ms()).await? {
        Some(started) => Err(AppError::TooManyRequests(format!(
            "Too many failed sign-ins. Try again in {} minutes.",
            minutes_left(started, now_ms)
        ))),
        None => Ok(()),
    }
}

/// The reserved attempt succeeded: the user name starts afresh, and the address gets
/// its attempt back (an admin signing in all day is never limited).
pub async fn succeeded(store: &Store, user_key: &str, address_key: Option<&str>) -> Result<(), AppError> {
    store.clear_sign_in_failures(user_key).await?;
    if let Some(address) = address_key {
        store.release_sign_in(address).await?;
    }
    Ok(())
}

/// Whole minutes until a window begun at `started_ms` ends, at least one.
fn minutes_left(started_ms: i64, now_ms: i64) -> i64 {
    let left_ms = (started_ms + window_ms() - now_ms).max(0);
    ((left_ms + 59_999) / 60_000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_rounded_up_to_whole_minutes() {
        assert_eq!(minutes_left(0, 60_000), 14);
        assert_eq!(minutes_left(0, 60_001), 14);
        assert_eq!(minutes_left(0, window_ms() - 1), 1);
        assert_eq!(minutes_left(0, window_ms() + 5), 1);
    }
}
