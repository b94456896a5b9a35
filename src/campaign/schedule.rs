//! When a campaign goes out: now, at a time the admin picked, or not yet (a draft).
//! Times are entered and shown in the admin's own time zone and stored as UTC seconds.
//! All of it runs on the server, which owns the time zone database; the browser only ever
//! sees times already formatted for its admin.

use serde::{Deserialize, Serialize};

/// A campaign's times as its admin reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTimes {
    pub created: String,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub scheduled: Option<String>,
    /// When a campaign with a send rate should be done, while it is running.
    pub expected_finish: Option<String>,
    /// The scheduled time as a `datetime-local` input's value, for editing it.
    pub scheduled_input: Option<String>,
}

/// The furthest ahead a campaign can be scheduled.
pub const MAX_SCHEDULE_AHEAD_SECS: i64 = 366 * 24 * 3600;

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{LocalTimes, MAX_SCHEDULE_AHEAD_SECS};
    use crate::campaign::CampaignSummary;
    use crate::error::AppError;
    pub use crate::zone::AdminZone;

    /// What to do with a composed campaign.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Plan {
        /// Keep it to finish later.
        Draft,
        Now,
        /// Start at this Unix time.
        At(i64),
        /// Deliver at wall-clock time `at` in each subscriber's own zone (`fallback` for
        /// those without one): the audience is taken at `starts`, when the first zone
        /// reaches it (or now, if that has passed).
        Local {
            starts: i64,
            at: chrono::NaiveDateTime,
            fallback: &'static str,
        },
    }

    impl Plan {
        /// The compose form's choice: its pressed button (`intent`: "draft" or "send") and,
        /// for "send", whether now or later (`when`) and the time entered (`send_at`).
        pub fn parse(intent: &str, when: &str, send_at: &str, zone: &AdminZone, now: i64) -> Result<Self, AppError> {
            match (intent, when) {
                ("draft", _) => Ok(Self::Draft),
                ("" | "send", "" | "now") => Ok(Self::Now),
                ("" | "send", "later") => {
                    let at = zone.parse_input(send_at)?;
                    if at <= now {
                        return Err(AppError::field("send_at", "That time has passed; choose one in the future."));
                    }
                    if at - now > MAX_SCHEDULE_AHEAD_SECS {
                        return Err(AppError::field("send_at", "A campaign can be scheduled at most a year ahead."));
                    }
                    Ok(Self::At(at))
                }
                ("" | "send", "local") => {
                    let at = crate::campaign::local_time::parse_input(send_at)?;
                    let (first, last) = crate::campaign::local_time::window(at);
                    if last <= now {
                        return Err(AppError::field(
                            "send_at",
                            "That time has passed in every time zone; choose one in the future.",
                        ));
                    }
                    if first - now > MAX_SCHEDULE_AHEAD_SECS {
                        return Err(AppError::field("send_at", "A campaign can be scheduled at most a year ahead."));
                    }
                    Ok(Self::Local { starts: first.max(now), at, fallback: zone.name() })
                }
                _ => Err(AppError::invalid("Unknown choice: send now, schedule, or save a draft.")),
            }
        }
    }

    /// A campaign's times in an admin's zone (the zone itself is `crate::zone`).
    impl AdminZone {
        pub fn times(&self, c: &CampaignSummary) -> LocalTimes {
            LocalTimes {
                created: self.format(c.created_at),
                started: c.started_at.map(|t| self.format(t)),
                finished: c.finished_at.map(|t| self.format(t)),
                scheduled: c.scheduled_at.map(|t| self.format(t)),
                expected_finish: c.expected_finish().filter(|_| c.is_active()).map(|t| self.format(t)),
                scheduled_input: c.scheduled_at.map(|t| self.input_value(t)),
            }
        }

        /// Fills in each summary's times for this admin.
        pub fn localize(&self, mut list: Vec<CampaignSummary>) -> Vec<CampaignSummary> {
            for c in &mut list {
                c.local = self.times(c);
            }
            list
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const NOW: i64 = 1_795_000_000; // 2026-11-18
        fn berlin() -> AdminZone {
            AdminZone::named("Europe/Berlin").unwrap()
        }

        #[test]
        fn a_local_time_is_stored_as_utc() {
            // 09:00 in Berlin in winter is 08:00 UTC.
            let at = berlin().parse_input("2026-12-01T09:00").unwrap();
            assert_eq!(chrono::DateTime::from_timestamp(at, 0).unwrap().to_rfc3339(), "2026-12-01T08:00:00+00:00");
            assert_eq!(berlin().input_value(at), "2026-12-01T09:00");
            assert_eq!(berlin().format(at), "1 Dec 2026, 09:00 CET");
            assert_eq!(AdminZone::named("America/New_York").unwrap().format(at), "1 Dec 2026, 03:00 EST");
        }

        #[test]
        fn seconds_are_accepted() {
            assert_eq!(
                berlin().parse_input("2026-12-01T09:00:30").unwrap(),
                berlin().parse_input("2026-12-01T09:00").unwrap() + 30
            );
        }

        #[test]
        fn a_time_skipped_by_daylight_saving_is_refused_and_a_repeated_one_means_the_first() {
            // 2027-03-28 02:30 does not exist in Berlin; 2026-10-25 02:30 happens twice.
            let error = berlin().parse_input("2027-03-28T02:30").unwrap_err();
            assert_eq!(error.field_name(), Some("send_at"));
            assert!(error.to_string().contains("clocks go forward"), "{error}");
            let repeated = berlin().parse_input("2026-10-25T02:30").unwrap();
            assert_eq!(berlin().format(repeated), "25 Oct 2026, 02:30 CEST");
        }

        #[test]
        fn unknown_zones_are_not_taken() {
            assert!(AdminZone::named("Mars/Olympus_Mons").is_none());
            assert!(AdminZone::named("").is_none());
            assert_eq!(AdminZone::stored("nonsense"), AdminZone::UTC);
        }

        #[test]
        fn the_plan_follows_the_pressed_button() {
            let zone = AdminZone::UTC;
            assert_eq!(Plan::parse("draft", "later", "", &zone, NOW).unwrap(), Plan::Draft);
            assert_eq!(Plan::parse("", "", "", &zone, NOW).unwrap(), Plan::Now);
            assert_eq!(Plan::parse("send", "now", "2020-01-01T00:00", &zone, NOW).unwrap(), Plan::Now);
            let in_an_hour = NOW + 3600 - NOW % 60; // inputs have whole minutes
            assert_eq!(
                Plan::parse("send", "later", &zone.input_value(in_an_hour), &zone, NOW).unwrap(),
                Plan::At(in_an_hour)
            );
        }

        #[test]
        fn a_schedule_must_be_in_the_future_and_within_a_year() {
            let zone = AdminZone::UTC;
            let past = Plan::parse("send", "later", &zone.input_value(NOW - 60), &zone, NOW).unwrap_err();
            assert_eq!(past.field_name(), Some("send_at"));
            let far = Plan::parse("send", "later", &zone.input_value(NOW + MAX_SCHEDULE_AHEAD_SECS + 3600), &zone, NOW)
                .unwrap_err();
            assert!(far.to_string().contains("a year ahead"));
            let missing = Plan::parse("send", "later", " ", &zone, NOW).unwrap_err();
            assert_eq!(missing.field_name(), Some("send_at"));
            assert!(Plan::parse("publish", "", "", &zone, NOW).is_err());
        }
    }
}
