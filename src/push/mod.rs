//! Talking to push services: which endpoints we accept, VAPID keys and signatures,
//! encryption, the HTTP client.

pub mod address;
pub mod client;
pub mod encrypt;
pub mod endpoint;
pub mod services;
pub mod vapid;
