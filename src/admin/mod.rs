//! The admin side: accounts and sessions, and the pages to compose and follow campaigns.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod automations;
pub mod campaign_page;
pub mod campaigns;
mod compose;
pub mod dashboard;
pub mod deliveries;
pub mod frame;
pub mod keys;
mod operations;
pub mod role;
pub mod sign_in;
pub mod sites;
pub mod subscribers;
pub mod team;
pub mod templates;
#[cfg(feature = "ssr")]
pub mod throttle;
pub mod topics;
pub mod webhooks;
