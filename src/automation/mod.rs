//! Automations: notifications that send themselves. A *welcome* goes to each new subscriber
//! (of a site, of a topic) some minutes after they subscribed, once; a *recurring* campaign
//! goes out every day or every week at a time of day. Both can be paused. The types are
//! here, the endpoints in `api`, the work in the dispatcher (`store::automations`).

pub mod api;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The longest a welcome may wait: 30 days.
pub const MAX_DELAY_MINUTES: u32 = 30 * 24 * 60;
pub const MAX_NAME_CHARS: usize = 80;

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// 1 to 80 characters, trimmed, no control characters.
pub fn parse_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::field("name", format!("A name needs 1 to {MAX_NAME_CHARS} characters.")));
    }
    Ok(name.to_owned())
}

/// Minutes a welcome waits after someone subscribes.
pub fn parse_delay(raw: &str) -> Result<u32, AppError> {
    raw.trim().parse::<u32>().ok().filter(|m| *m <= MAX_DELAY_MINUTES).ok_or_else(|| {
        AppError::field("delay_minutes", "The delay is a whole number of minutes, from 0 to 43200 (30 days).")
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    Day,
    Week,
}

/// When a recurring automation runs: every day, or every week on `weekday` (0 is Monday),
/// at `hour`:`minute` in the time zone it was set up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repeat {
    pub every: Every,
    pub weekday: u8,
    pub hour: u8,
    pub minute: u8,
}

impl Repeat {
    /// The form's fields: `every` "day" or "week", `weekday` 0–6, `at` "HH:MM".
    pub fn parse(every: &str, weekday: &str, at: &str) -> Result<Self, AppError> {
        let every = match every.trim() {
            "day" => Every::Day,
            "week" => Every::Week,
            _ => return Err(AppError::field("every", "Choose every day or every week.")),
        };
        let weekday = match (every, weekday.trim()) {
            (Every::Day, _) => 0,
            (Every::Week, raw) => raw
                .parse::<u8>()
                .ok()
                .filter(|d| *d < 7)
                .ok_or_else(|| AppError::field("weekday", "Choose the day of the week."))?,
        };
        let bad = || AppError::field("at_time", "Enter the time of day as HH:MM, e.g. 09:00.");
        let (hour, minute) = at.trim().split_once(':').ok_or_else(bad)?;
        let (hour, minute) = (hour.parse::<u8>().map_err(|_| bad())?, minute.parse::<u8>().map_err(|_| bad())?);
        if hour > 23 || minute > 59 {
            return Err(bad());
        }
        Ok(Self { every, weekday, hour, minute })
    }

    pub fn at_text(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// "Every Monday at 09:00" or "Every day at 18:30".
    pub fn describe(&self) -> String {
        match self.every {
            Every::Day => format!("Every day at {}", self.at_text()),
            Every::Week => format!("Every {} at {}", WEEKDAYS[usize::from(self.weekday.min(6))], self.at_text()),
        }
    }

    /// The first run after `after` (Unix seconds) in `zone`; a time skipped by a clock change
    /// runs just after the jump.
    #[cfg(feature = "ssr")]
    pub fn next_after(&self, zone: chrono_tz::Tz, after: i64) -> i64 {
        use chrono::{Datelike, TimeZone};
        let today = zone.timestamp_opt(after, 0).single().map(|t| t.date_naive()).unwrap_or_default();
        for days in 0..=8 {
            let date = today + chrono::Duration::days(days);
            if self.every == Every::Week && date.weekday().num_days_from_monday() != u32::from(self.weekday) {
                continue;
            }
            let Some(wall) = date.and_hms_opt(u32::from(self.hour), u32::from(self.minute), 0) else { continue };
            let at = crate::campaign::local_time::due_in(zone, wall);
            if at > after {
                return at;
            }
        }
        after + 24 * 3600
    }
}

/// The new-automation form, field by field as it posts them. `kind` is "welcome" (with
/// `delay_minutes`) or "recurring" (with `every`, `weekday` and `at_time` in the admin's
/// time zone); it sends `title`, `body` and `url` to the subscribers of `sites` (site ids,
/// empty: every site) who chose any of `audience` (topic ids, empty: everyone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutomationForm {
    pub name: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub url: String,
    pub sites: String,
    pub audience: String,
    pub delay_minutes: String,
    pub every: String,
    pub weekday: String,
    pub at_time: String,
}

/// An automation as its page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationSummary {
    pub id: i64,
    pub name: String,
    /// "welcome" or "recurring".
    pub kind: String,
    /// When it sends, in words.
    pub trigger: String,
    /// The notification's title.
    pub title: String,
    pub paused: bool,
    /// Its campaigns: a recurring one's runs, or a welcome's one.
    pub campaigns: i64,
    /// The latest of them, to open.
    pub latest_campaign: Option<i64>,
    pub sent: i64,
    pub clicked: i64,
    /// A recurring one's next run, in the admin's time zone.
    pub next_run: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_is_read_from_the_form() {
        assert_eq!(Repeat::parse("day", "", "09:00").unwrap().describe(), "Every day at 09:00");
        assert_eq!(Repeat::parse("week", "0", "7:05").unwrap().describe(), "Every Monday at 07:05");
        for (every, weekday, at) in
            [("hour", "", "09:00"), ("week", "7", "09:00"), ("day", "", "24:00"), ("day", "", "9")]
        {
            assert!(Repeat::parse(every, weekday, at).is_err(), "{every} {weekday} {at}");
        }
        assert!(parse_delay("43201").is_err() && parse_delay("-1").is_err() && parse_delay("10").is_ok());
        assert!(parse_name(" ").is_err() && parse_name("Welcome").is_ok());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_next_run_follows_the_zone_and_the_weekday() {
        let utc =
            |raw: &str| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").unwrap().and_utc().timestamp();
        let berlin = chrono_tz::Europe::Berlin;
        let daily = Repeat::parse("day", "", "09:00").unwrap();
        // 09:00 in Berlin is 08:00 UTC in winter, 07:00 after the clocks go forward (28 March 2027).
        assert_eq!(daily.next_after(berlin, utc("2027-03-27T06:00")), utc("2027-03-27T08:00"));
        assert_eq!(daily.next_after(berlin, utc("2027-03-27T08:00")), utc("2027-03-28T07:00"));
        // Mondays: 29 March 2027 is one.
        let weekly = Repeat::parse("week", "0", "09:00").unwrap();
        assert_eq!(weekly.next_after(berlin, utc("2027-03-27T12:00")), utc("2027-03-29T07:00"));
        assert_eq!(weekly.next_after(berlin, utc("2027-03-29T07:00")), utc("2027-04-05T07:00"));
    }
}
