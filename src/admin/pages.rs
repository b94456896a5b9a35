//! Sign-in, first-run set-up, the campaigns page (compose and the list) and the frame
//! every admin page shares.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

use super::auth::{admin_status, Login, Logout, SetupAdmin, SignInState, MIN_PASSWORD_CHARS};
use super::campaigns::CampaignList;
use super::compose::Compose;
use crate::campaign::api::SendCampaign;
use crate::error::AppError;

/// Shows the error of the last submission of a form, if it failed.
#[component]
pub fn FormError<T: Clone + Send + Sync + 'static>(result: Signal<Option<Result<T, AppError>>>) -> impl IntoView {
    move || {
        result
            .get()
            .and_then(Result::err)
            .map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })
    }
}

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

/// User name, password and confirmation for a new admin (set-up and the admins page).
/// `id_prefix` keeps ids unique on a page; `hint` follows the length rule.
#[component]
pub fn NewAdminFields(id_prefix: &'static str, hint: &'static str) -> impl IntoView {
    let id = move |name: &str| format!("{id_prefix}{name}");
    view! {
        <label for=id("username")>"User name"</label>
        <input id=id("username") name="username" autocomplete=if id_prefix.is_empty() { "username" } else { "off" } required/>
        <label for=id("password")>"Password"</label>
        <input id=id("password") name="password" type="password" autocomplete="new-password"
            minlength=MIN_PASSWORD_CHARS required aria-describedby=id("password-hint")/>
        <p class="hint" id=id("password-hint")>{format!("At least {MIN_PASSWORD_CHARS} characters.{hint}")}</p>
        <label for=id("confirm")>"Password again"</label>
        <input id=id("confirm") name="confirm" type="password" autocomplete="new-password" required/>
    }
}

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let send = ServerAction::<SendCampaign>::new();
    view! {
        <Title text="Campaigns"/>
        <SignedIn>
            <h1>"Campaigns"</h1>
            <Compose send/>
            <CampaignList send/>
        </SignedIn>
    }
}

/// The frame of every admin page: shows `children` to a signed-in admin, with the admin
/// navigation; sends everyone else to sign in (or to set-up on a fresh install).
#[component]
pub fn SignedIn(children: ChildrenFn) -> impl IntoView {
    let status = Resource::new(|| (), |_| admin_status());
    let logout = ServerAction::<Logout>::new();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || status.get().map(|status| match status {
                Ok(signed_in @ SignInState { username: Some(_), .. }) => {
                    let username = signed_in.username.clone();
                    // The admin's name and time zone, for the pages inside.
                    provide_context(signed_in);
                    view! {
                    <nav class="admin-bar" aria-label="Admin">
                        // `A` marks the current page with aria-current.
                        <A href="/admin" exact=true>"Dashboard"</A>
                        <A href="/admin/campaigns">"Campaigns"</A>
                        <A href="/admin/subscribers">"Subscribers"</A>
                        <A href="/admin/topics">"Topics"</A>
                        <A href="/admin/team">"Admins"</A>
                        <ActionForm action=logout attr:class="signout">
                            <span class="who">"Signed in as " <strong>{username}</strong></span>
                            <button class="btn small" type="submit">"Sign out"</button>
                        </ActionForm>
                    </nav>
                    {children.read_value()()}
                }.into_any()
                }
                Ok(SignInState { needs_setup: true, .. }) => view! { <Redirect path="/admin/setup"/> }.into_any(),
                Ok(_) => view! { <Redirect path="/admin/login"/> }.into_any(),
                Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}
