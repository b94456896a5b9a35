//! The HTML shell, the routes and the shared page layout.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{lazy_route, Lazy, LazyRoute, ParamSegment, StaticSegment};

use crate::admin::api_keys::ApiKeysPage;
use crate::admin::audit::AuditPage;
use crate::admin::automations::AutomationsPage;
use crate::admin::campaign_page::{CampaignPage, EditCampaignPage};
use crate::admin::campaigns::CampaignsPage;
use crate::admin::dashboard::DashboardPage;
use crate::admin::deliveries::DeliveriesPage;
use crate::admin::keys::KeysPage;
use crate::admin::sign_in::{LoginPage, SetupPage};
use crate::admin::sites::{SitePage, SitesPage};
use crate::admin::subscribers::SubscribersPage;
use crate::admin::team::TeamPage;
use crate::admin::templates::{FromTemplatePage, TemplatesPage};
use crate::admin::topics::TopicsPage;
use crate::admin::webhooks::WebhooksPage;
use crate::pages::home::HomePage;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Here rather than in <App/>: in a release build its name carries the
                // file's hash, which only the server's options know.
                <HashedStylesheet options=options.clone() id="leptos"/>
                {hydrates().then(|| view! { <HydrationScripts options/> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Whether this response's page hydrates: all but the public page (see `pages::home`).
fn hydrates() -> bool {
    #[cfg(feature = "ssr")]
    if let Some(path) = request_path() {
        return path != crate::pages::home::PATH;
    }
    true
}

/// The path of the request being rendered (none outside a request).
#[cfg(feature = "ssr")]
fn request_path() -> Option<String> {
    use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_owned())
}

/// Pages get a CSP naming this response's nonce, which Leptos puts on its inline scripts.
#[cfg(feature = "ssr")]
fn set_page_csp() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let path = request_path().unwrap_or_default();
    if let Ok(value) = http::HeaderValue::from_str(&crate::security::page_csp(&nonce.to_string(), &path)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Link rel="manifest" href="/manifest.webmanifest"/>
        <Link rel="icon" href="/icon.svg" type_="image/svg+xml"/>
        // iOS reads neither the manifest's icons nor its `display` for Add to Home Screen.
        <Link rel="apple-touch-icon" href="/apple-touch-icon.png"/>
        <Meta name="apple-mobile-web-app-capable" content="yes"/>
        <Meta name="apple-mobile-web-app-title" content="Tidings"/>
        <Meta name="theme-color" content="#0f766e"/>
        <Title formatter=|text| format!("{text} · Tidings")/>
        <Router>
            <div class="page">
                <header class="topbar">
                    <A href="/" attr:class="brand">
                        <span class="brand-mark" aria-hidden="true">"◉"</span>
                        "Tidings"
                    </A>
                </header>
                <main id="main">
                    <Routes fallback=NotFound>
                        <Route path=StaticSegment("") view=HomePage/>
                        <Route path=(StaticSegment("admin"), StaticSegment("login")) view={Lazy::<LoginRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("setup")) view={Lazy::<SetupRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("team")) view={Lazy::<TeamRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("topics")) view={Lazy::<TopicsRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("subscribers")) view={Lazy::<SubscribersRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("deliveries")) view={Lazy::<DeliveriesRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("templates")) view={Lazy::<TemplatesRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("automations")) view={Lazy::<AutomationsRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("sites")) view={Lazy::<SitesRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("keys")) view={Lazy::<KeysRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("api")) view={Lazy::<ApiKeysRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("webhooks")) view={Lazy::<WebhooksRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("audit")) view={Lazy::<AuditRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("sites"), ParamSegment("id")) view={Lazy::<SiteRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("campaigns")) view={Lazy::<CampaignsRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("campaigns"), ParamSegment("id")) view={Lazy::<CampaignRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("campaigns"), ParamSegment("id"), StaticSegment("edit")) view={Lazy::<EditCampaignRoute>::new()}/>
                        <Route path=(StaticSegment("admin"), StaticSegment("campaigns"), StaticSegment("from-template"), ParamSegment("id")) view={Lazy::<FromTemplateRoute>::new()}/>
                        <Route path=StaticSegment("admin") view={Lazy::<DashboardRoute>::new()}/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <section class="card">
            <h1>"Nothing here"</h1>
            <p>"This page does not exist. " <a href="/">"Go to the start page"</a> "."</p>
        </section>
    }
}

/// Lets tests (and curious people) see when the page became interactive: a click before
/// hydration would do nothing. Called once everything has hydrated, the lazy route too;
/// and not before the page's `load`, as a Suspense whose streamed data comes later
/// hydrates when that data arrives.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    let mark = || {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    };
    if document().ready_state() == "complete" {
        mark();
    } else {
        // Dropping the handle leaves the listener in place.
        let _listener = window_event_listener(leptos::ev::load, move |_| mark());
    }
}

/// Each admin page is a route of its own, loaded when first visited: with `cargo leptos
/// build --split` its code is a separate wasm chunk, so the public page (which a visitor
/// of a customer's site may be sent to from a phone) downloads none of the admin's code.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    LoginRoute => LoginPage,
    SetupRoute => SetupPage,
    TeamRoute => TeamPage,
    TopicsRoute => TopicsPage,
    SubscribersRoute => SubscribersPage,
    DeliveriesRoute => DeliveriesPage,
    TemplatesRoute => TemplatesPage,
    AutomationsRoute => AutomationsPage,
    FromTemplateRoute => FromTemplatePage,
    SitesRoute => SitesPage,
    KeysRoute => KeysPage,
    ApiKeysRoute => ApiKeysPage,
    WebhooksRoute => WebhooksPage,
    AuditRoute => AuditPage,
    SiteRoute => SitePage,
    CampaignsRoute => CampaignsPage,
    CampaignRoute => CampaignPage,
    EditCampaignRoute => EditCampaignPage,
    DashboardRoute => DashboardPage,
}
