//! Public pages.

pub mod home;
