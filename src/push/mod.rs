//! Talking to push services: VAPID keys and signatures, encryption, the HTTP client.

pub mod address;
pub mod client;
pub mod encrypt;
pub mod vapid;
