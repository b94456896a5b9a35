//! The public page: a visitor subscribes to (or leaves) this site's notifications.
//!
//! It is rendered on the server and never hydrated: its one interactive part is the
//! subscribe widget, `public/embed.js` (about 4 KB compressed), the same one registered
//! sites put on their own pages. Hydrating it would make every visitor download the
//! app's framework (about 230 KB compressed) before the button works — the wrong trade on
//! a phone, for one button. The shell leaves the hydration scripts out for this path
//! ([`PATH`]); the widget takes its words, topics and key from the own site's settings.

use leptos::prelude::*;
use leptos_meta::Title;

/// The public page's path: the one page the shell does not hydrate.
pub const PATH: &str = "/";

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Notifications"/>
        <section class="hero">
            <h1 class="eyebrow">"Notifications"</h1>
            // `inline`: here on the page, whichever prompt style the own site has.
            <div class="widget-slot" data-tidings="inline">
                <p class="status">"Loading…"</p>
            </div>
            <noscript>
                <p class="status warn">"Subscribing needs JavaScript: please turn it on for this site and reload."</p>
            </noscript>
            <script src="/embed.js" defer></script>
        </section>
    }
}
