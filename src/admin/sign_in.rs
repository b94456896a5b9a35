//! Signing in, and the first-run set-up that creates the first admin.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::auth::{admin_status, Login, SetupAdmin, SignInState};
use super::frame::{FormError, NewAdminFields};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let status = Resource::new(|| (), |_| admin_status());
    view! {
        <Title text="Sign in"/>
        <Suspense>
            {move || status.get().map(|status| match status {
                Ok(SignInState { needs_setup: true, .. }) => view! { <Redirect path="/admin/setup"/> }.into_any(),
                Ok(SignInState { username: Some(_), .. }) => view! { <Redirect path="/admin"/> }.into_any(),
                _ => ().into_any(),
            })}
        </Suspense>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <p class="lead">"Sign in to write and send campaigns."</p>
            <ActionForm action=login attr:class="form">
                <label for="username">"User name"</label>
                <input id="username" name="username" autocomplete="username" required/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <BrowserTimeZone/>
                <FormError result=login.value().into()/>
                <button class="btn primary" type="submit" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<SetupAdmin>::new();
    let status = Resource::new(|| (), |_| admin_status());
    view! {
        <Title text="Set up"/>
        <Suspense>
            {move || status.get().map(|status| match status {
                // Set-up is only open while no admin exists.
                Ok(SignInState { needs_setup: false, .. }) => view! { <Redirect path="/admin/login"/> }.into_any(),
                _ => ().into_any(),
            })}
        </Suspense>
        <section class="card narrow">
            <h1>"Welcome to Tidings"</h1>
            <p class="lead">"Create the admin account. This page closes once an admin exists."</p>
            <ActionForm action=setup attr:class="form">
                <NewAdminFields id_prefix="" hint=""/>
                <BrowserTimeZone/>
                <FormError result=setup.value().into()/>
                <button class="btn primary" type="submit" disabled=move || setup.pending().get()>"Create admin"</button>
            </ActionForm>
        </section>
    }
}

/// Sends the browser's time zone with a sign-in form, so the admin pages show and take
/// times in it. Filled in once the page runs; without script the last one stays.
#[component]
fn BrowserTimeZone() -> impl IntoView {
    let zone = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| zone.set(crate::browser::time_zone().unwrap_or_default()));
    view! { <input type="hidden" name="time_zone" prop:value=zone/> }
}
