//! Tidings: self-hosted web push campaigns.
// Leptos views are deeply nested types; release builds (without `erase_components`) of
// the admin pages need more than the default 128.
#![recursion_limit = "256"]

pub mod admin;
pub mod api;
pub mod app;
pub mod audit;
pub mod automation;
pub mod campaign;
pub mod error;
pub mod ids;
pub mod keys;
pub mod operations;
pub mod pages;
pub mod site;
pub mod subscription;
pub mod template;
pub mod topic;
pub mod tracking;
pub mod webhook;

#[cfg(feature = "hydrate")]
pub mod browser;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod delivery;
#[cfg(feature = "ssr")]
pub mod push;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod zone;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The admin pages are lazy routes (see `app.rs`): hydrating one waits for its chunk.
    leptos::mount::hydrate_lazy(app::App);
}
