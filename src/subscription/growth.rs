//! How the audience changed: subscribers gained and lost per day, for the dashboard.

use serde::{Deserialize, Serialize};

/// How many days the dashboard looks back.
pub const GROWTH_DAYS: usize = 30;

/// One calendar day in the admin's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowthDay {
    /// E.g. "Mon 23 Nov".
    pub label: String,
    pub joined: i64,
    pub lost: i64,
    /// Subscribers at the end of the day.
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceGrowth {
    pub total: i64,
    /// The last [`GROWTH_DAYS`] days, oldest first, today last.
    pub days: Vec<GrowthDay>,
}

impl AudienceGrowth {
    pub fn joined(&self) -> i64 {
        self.days.iter().map(|d| d.joined).sum()
    }

    pub fn lost(&self) -> i64 {
        self.days.iter().map(|d| d.lost).sum()
    }
}

#[cfg(feature = "ssr")]
pub(super) mod ssr {
    use chrono::{Days, NaiveDate};

    use super::{AudienceGrowth, GrowthDay, GROWTH_DAYS};
    use crate::campaign::AdminZone;

    /// Groups hourly (hour, joined, lost) counts into the admin's last days and works the
    /// running total back from today's.
    pub fn by_day(zone: &AdminZone, now: i64, total: i64, hours: &[(i64, i64, i64)]) -> AudienceGrowth {
        let today = zone.date(now);
        let first = today - Days::new(GROWTH_DAYS as u64 - 1);
        let dates: Vec<NaiveDate> = first.iter_days().take(GROWTH_DAYS).collect();
        let mut counts = vec![(0i64, 0i64); GROWTH_DAYS];
        for &(hour, joined, lost) in hours {
            if let Some(i) = dates.iter().position(|d| *d == zone.date(hour * 3600)) {
                counts[i].0 += joined;
                counts[i].1 += lost;
            }
        }
        let mut end_of_day = total;
        let mut days: Vec<GrowthDay> = dates
            .iter()
            .zip(&counts)
            .rev()
            .map(|(date, &(joined, lost))| {
                let day = GrowthDay { label: date.format("%a %-d %b").to_string(), joined, lost, total: end_of_day };
                end_of_day -= joined - lost;
                day
            })
            .collect();
        days.reverse();
        AudienceGrowth { total, days }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn hours_fall_into_the_admins_days_and_totals_run_back_from_today() {
            // 2026-11-23 12:00 UTC.
            let now = 1_795_435_200;
            let hour = |unix: i64| unix / 3600;
            let hours = [
                (hour(now - 86_400), 5, 1), // yesterday noon UTC
                (hour(now) - 12, 2, 0),     // 00:00 UTC today: still yesterday in New York
                (hour(now), 3, 2),          // today
            ];
            let utc = by_day(&AdminZone::UTC, now, 100, &hours);
            assert_eq!(utc.days.len(), GROWTH_DAYS);
            let today = utc.days.last().unwrap();
            assert_eq!((today.label.as_str(), today.joined, today.lost, today.total), ("Mon 23 Nov", 5, 2, 100));
            let yesterday = &utc.days[GROWTH_DAYS - 2];
            assert_eq!((yesterday.joined, yesterday.lost, yesterday.total), (5, 1, 97));
            assert_eq!(utc.days[GROWTH_DAYS - 3].total, 93);
            assert_eq!((utc.joined(), utc.lost()), (10, 3));

            let new_york = by_day(&AdminZone::named("America/New_York").unwrap(), now, 100, &hours);
            let today = new_york.days.last().unwrap();
            assert_eq!((today.joined, today.lost), (3, 2));
            assert_eq!(new_york.days[GROWTH_DAYS - 2].joined, 7);
        }
    }
}
