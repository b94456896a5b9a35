//! Browser push subscriptions: parsing them, the admin's list and figures, export and import.
//! The endpoints are in `api`.

pub mod api;
pub mod consent;
mod growth;
pub mod history;
mod list;
#[cfg(feature = "ssr")]
pub mod parse;
#[cfg(feature = "ssr")]
pub mod transfer;

pub use growth::{AudienceGrowth, GrowthDay, GROWTH_DAYS};
pub use list::{
    ConsentReceipt, HostCount, ImportProblem, ImportReport, SubscriberPage, SubscriberQuery, SubscriberRow,
    SubscriberSearch, PAGE_SIZE,
};
