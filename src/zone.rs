//! An admin's time zone: every time an admin enters or reads is in it, stored as UTC.
//! The server owns the time zone database; the browser only sees formatted times.

use chrono::{LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::error::AppError;

/// An admin's IANA time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminZone(Tz);

impl AdminZone {
    pub const UTC: AdminZone = AdminZone(Tz::UTC);

    /// A zone name as a browser reports it (`Intl…timeZone`), if it is one we know.
    pub fn named(name: &str) -> Option<Self> {
        name.trim().parse::<Tz>().ok().map(Self)
    }

    /// The stored zone; UTC if it has become unknown (tz database changes).
    pub fn stored(name: &str) -> Self {
        Self::named(name).unwrap_or(Self::UTC)
    }

    pub fn tz(&self) -> Tz {
        self.0
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// For reading, e.g. "24 Nov 2026, 09:00 CET".
    pub fn format(&self, unix: i64) -> String {
        self.0.timestamp_opt(unix, 0).single().map(|t| t.format("%-d %b %Y, %H:%M %Z").to_string()).unwrap_or_default()
    }

    /// For a `datetime-local` input, e.g. "2026-11-24T09:00".
    pub fn input_value(&self, unix: i64) -> String {
        self.0.timestamp_opt(unix, 0).single().map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
    }

    /// When `date` begins here (its first moment, if midnight is skipped or repeated).
    pub fn day_start(&self, date: chrono::NaiveDate) -> i64 {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        match self.0.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp(),
            // Midnight skipped by a clock change: the day starts an hour later.
            LocalResult::None => self.0.from_utc_datetime(&midnight).timestamp(),
        }
    }

    /// The calendar day `unix` falls on here.
    pub fn date(&self, unix: i64) -> chrono::NaiveDate {
        self.0.timestamp_opt(unix, 0).single().map(|t| t.date_naive()).unwrap_or_default()
    }

    /// A `datetime-local` value (with or without seconds) read as a time in this zone.
    pub fn parse_input(&self, raw: &str) -> Result<i64, AppError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(AppError::field("send_at", "Choose the date and time to send at."));
        }
        let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"))
            .map_err(|_| AppError::field("send_at", "Enter the time as a date and a time, e.g. 2026-12-01 09:00."))?;
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.timestamp()),
            // The hour the clocks go back happens twice; the first is the one people mean.
            LocalResult::Ambiguous(first, _) => Ok(first.timestamp()),
            LocalResult::None => Err(AppError::field(
                "send_at",
                format!(
                    "{} does not exist in {}: the clocks go forward then. Choose another time.",
                    raw.replace('T', " "),
                    self.name()
                ),
            )),
        }
    }
}
