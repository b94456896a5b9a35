//! The subscriber list for admins: search by push-service host, topic and join date,
//! newest first, a page at a time; delete one subscription.

use serde::{Deserialize, Serialize};

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;

/// A search as the admin typed it, field by field; empty means no filter. `host`: a
/// push-service host; `topic`, `site`: ids; `user`: a signed user id; `joined_from`,
/// `joined_to`: dates (YYYY-MM-DD, both included) in the admin's time zone; `before`: the
/// page cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubscriberSearch {
    pub host: String,
    pub topic: String,
    pub site: String,
    pub user: String,
    pub joined_from: String,
    pub joined_to: String,
    pub before: String,
}

/// A search, parsed: only the filters given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriberQuery {
    pub host: Option<String>,
    pub topic: Option<i64>,
    pub site: Option<i64>,
    /// The site's id for the visitor (signed user ids only).
    pub user: Option<String>,
    /// Joined at or after (Unix seconds).
    pub joined_from: Option<i64>,
    /// Joined before (Unix seconds).
    pub joined_until: Option<i64>,
    /// The page after the one that ended with this id.
    pub before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberRow {
    pub id: i64,
    pub host: String,
    pub endpoint: String,
    pub topics: String,
    /// The site's name.
    pub site: String,
    /// In the admin's time zone.
    pub joined: String,
    pub last_success: Option<String>,
    pub receipt: ConsentReceipt,
}

/// What the visitor saw and where, when they subscribed (see `subscription::consent`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentReceipt {
    pub page: Option<String>,
    pub prompt: Option<String>,
    pub browser: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberPage {
    pub rows: Vec<SubscriberRow>,
    /// How many match the search in all.
    pub total: i64,
    /// Pass as `before` for the next page; none on the last.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostCount {
    pub host: String,
    pub subscribers: i64,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use chrono::{Days, NaiveDate};

    use super::{SubscriberQuery, SubscriberSearch};
    use crate::error::AppError;
    use crate::zone::AdminZone;

    pub fn parse_query(zone: &AdminZone, search: &SubscriberSearch) -> Result<SubscriberQuery, AppError> {
        let SubscriberSearch { host, topic, site, user, joined_from, joined_to, before } = search;
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let number = |field: &str, raw: &str| -> Result<Option<i64>, AppError> {
            optional(raw)
                .map(|v| v.parse::<i64>().map_err(|_| AppError::field(field, "Expected a number.")))
                .transpose()
        };
        let date = |field: &str, raw: &str| -> Result<Option<NaiveDate>, AppError> {
            optional(raw)
                .map(|v| {
                    NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                        .map_err(|_| AppError::field(field, "Enter a date like 2026-11-23."))
                })
                .transpose()
        };
        let host = optional(host);
        if host.as_ref().is_some_and(|h| h.len() > 253) {
            return Err(AppError::field("host", "That is not a host name."));
        }
        let (from, to) = (date("joined_from", joined_from)?, date("joined_to", joined_to)?);
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                return Err(AppError::field("joined_to", "The end date is before the start date."));
            }
        }
        let user = optional(user);
        if user.as_ref().is_some_and(|u| u.chars().count() > crate::subscription::consent::MAX_USER_ID_CHARS) {
            return Err(AppError::field("user", "That is longer than any user id."));
        }
        Ok(SubscriberQuery {
            host,
            topic: number("topic", topic)?,
            site: number("site", site)?,
            user,
            joined_from: from.map(|d| zone.day_start(d)),
            // Dates are inclusive: until the start of the next day.
            joined_until: to.and_then(|d| d.checked_add_days(Days::new(1))).map(|d| zone.day_start(d)),
            before: number("before", before)?,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn search(fields: [&str; 7]) -> SubscriberSearch {
            let [host, topic, site, user, joined_from, joined_to, before] = fields.map(str::to_owned);
            SubscriberSearch { host, topic, site, user, joined_from, joined_to, before }
        }

        #[test]
        fn dates_are_whole_days_in_the_admins_zone_and_empty_fields_filter_nothing() {
            assert_eq!(
                parse_query(&AdminZone::UTC, &search(["", " ", "", "", "", "", ""])).unwrap(),
                SubscriberQuery::default()
            );
            let berlin = AdminZone::named("Europe/Berlin").unwrap();
            let q = parse_query(
                &berlin,
                &search(["fcm.googleapis.com", "3", "2", "u-1", "2026-11-01", "2026-11-30", "900"]),
            )
            .unwrap();
            assert_eq!((q.site, q.user.as_deref()), (Some(2), Some("u-1")));
            assert_eq!(q.host.as_deref(), Some("fcm.googleapis.com"));
            assert_eq!((q.topic, q.before), (Some(3), Some(900)));
            // 1 Nov 00:00 CET = 31 Oct 23:00 UTC; the 30th is included, so until 1 Dec 00:00 CET.
            assert_eq!(q.joined_from, Some(1_793_487_600));
            assert_eq!(q.joined_until, Some(1_796_079_600));
        }

        #[test]
        fn bad_filters_name_their_field() {
            let bad = |r: Result<SubscriberQuery, AppError>| r.unwrap_err().field_name().map(str::to_owned);
            let parse = |fields| parse_query(&AdminZone::UTC, &search(fields));
            assert_eq!(bad(parse(["", "x", "", "", "", "", ""])).as_deref(), Some("topic"));
            assert_eq!(bad(parse(["", "", "a", "", "", "", ""])).as_deref(), Some("site"));
            assert_eq!(bad(parse(["", "", "", "", "11/23/2026", "", ""])).as_deref(), Some("joined_from"));
            assert_eq!(bad(parse(["", "", "", "", "2026-11-23", "2026-11-01", ""])).as_deref(), Some("joined_to"));
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// New subscriptions.
    pub added: usize,
    /// Endpoints already known (or repeated in the file): their keys and topics updated.
    pub merged: usize,
    pub rejected: usize,
    /// The first rejected rows and why (row 1 is the first subscription in the file).
    pub problems: Vec<ImportProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    pub row: usize,
    pub reason: String,
}
