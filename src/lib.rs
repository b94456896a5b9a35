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
    // What `hydrate_lazy` does, plus a mark once it is done: the admin pages are lazy
    // routes (see `app.rs`), and hydrating one waits for its chunk, so an effect in `App`
    // could run (and say "ready") before the page's own buttons work.
    // wasm-bindgen's own spawner: Leptos' executor is set up by the call inside.
    wasm_bindgen_futures::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::prelude::document().body().expect("a body"), app::App).await.forget();
        app::mark_hydrated();
    });
}
