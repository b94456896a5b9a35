//! Local-time delivery: a campaign delivered at the same wall-clock time in each
//! subscriber's own time zone (the one their browser reported when they subscribed; for
//! those without one, their site's, else the zone of the admin who scheduled it). It starts when the first
//! zone reaches that time and ends when the last one does, about 26 hours later.

use chrono::{LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::error::AppError;

/// How far ahead of UTC the earliest zone is (Kiritimati, UTC+14) and behind it the latest
/// (UTC−12): the window in which some zone reaches a given wall-clock time.
pub const EARLIEST_AHEAD_SECS: i64 = 14 * 3600;
pub const LATEST_BEHIND_SECS: i64 = 12 * 3600;

/// The `datetime-local` value the admin entered, as a wall-clock time in no zone.
pub fn parse_input(raw: &str) -> Result<NaiveDateTime, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::field("send_at", "Choose the date and time to deliver at."));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"))
        .map_err(|_| AppError::field("send_at", "Enter the time as a date and a time, e.g. 2026-12-01 09:00."))
}

/// The Unix times at which the first and the last zone reach `at`.
pub fn window(at: NaiveDateTime) -> (i64, i64) {
    let utc = at.and_utc().timestamp();
    (utc - EARLIEST_AHEAD_SECS, utc + LATEST_BEHIND_SECS)
}

/// When it is `at` in `zone`, as a Unix time. On the day the clocks go back, the first of
/// the two; in the hour skipped when they go forward, the same wall-clock time after the
/// jump (02:30 becomes 03:30), so nobody is left out.
pub fn due_in(zone: Tz, at: NaiveDateTime) -> i64 {
    let mut wall = at;
    // A gap is at most a few hours (a zone changing its offset by a day is one, once).
    for _ in 0..48 {
        match zone.from_local_datetime(&wall) {
            LocalResult::Single(t) => return t.timestamp(),
            LocalResult::Ambiguous(first, _) => return first.timestamp(),
            LocalResult::None => wall += chrono::Duration::hours(1),
        }
    }
    at.and_utc().timestamp()
}

/// A zone as a browser named it, if it is one; else `fallback`.
pub fn zone_or(name: Option<&str>, fallback: Tz) -> Tz {
    name.and_then(|n| n.trim().parse::<Tz>().ok()).unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> NaiveDateTime {
        parse_input(raw).unwrap()
    }

    fn utc(raw: &str) -> i64 {
        at(raw).and_utc().timestamp()
    }

    #[test]
    fn nine_oclock_in_each_zone() {
        let nine = at("2027-03-28T09:00");
        // Kiritimati is first (UTC+14: the day before in UTC), Honolulu among the last.
        assert_eq!(due_in(chrono_tz::Pacific::Kiritimati, nine), utc("2027-03-27T19:00"));
        // Berlin changes to summer time that night: 09:00 is UTC+2.
        assert_eq!(due_in(chrono_tz::Europe::Berlin, nine), utc("2027-03-28T07:00"));
        assert_eq!(due_in(chrono_tz::Europe::Berlin, at("2027-03-27T09:00")), utc("2027-03-27T08:00"));
        assert_eq!(due_in(chrono_tz::Pacific::Honolulu, nine), utc("2027-03-28T19:00"));
        let (first, last) = window(nine);
        assert_eq!((first, last), (utc("2027-03-27T19:00"), utc("2027-03-28T21:00")));
    }

    #[test]
    fn skipped_and_doubled_hours_still_deliver_once() {
        let berlin = chrono_tz::Europe::Berlin;
        // 02:30 does not exist on 28 March 2027: delivered at 03:30 summer time.
        assert_eq!(due_in(berlin, at("2027-03-28T02:30")), utc("2027-03-28T01:30"));
        // 02:30 happens twice on 31 October 2027: the first, still summer time.
        assert_eq!(due_in(berlin, at("2027-10-31T02:30")), utc("2027-10-31T00:30"));
    }

    #[test]
    fn unknown_zones_fall_back() {
        let fallback = chrono_tz::Europe::Berlin;
        assert_eq!(zone_or(Some("Pacific/Honolulu"), fallback), chrono_tz::Pacific::Honolulu);
        assert_eq!(zone_or(Some("Mars/Olympus"), fallback), fallback);
        assert_eq!(zone_or(None, fallback), fallback);
        assert!(parse_input("tomorrow").is_err());
    }
}
