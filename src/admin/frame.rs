//! What every admin page shares: the frame (sign-in check and navigation) and the small
//! form widgets used on several pages.

use leptos::prelude::*;
use leptos_router::components::{Redirect, A};

use super::auth::{admin_status, Logout, SignInState, MIN_PASSWORD_CHARS};
use super::role::Role;
use crate::error::AppError;

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
                    // Pages for owners only are not offered to others (they would be refused).
                    let owner = signed_in.role == Some(Role::Owner);
                    // The admin's name and time zone, for the pages inside.
                    provide_context(signed_in);
                    view! {
                    <nav class="admin-bar" aria-label="Admin">
                        // `A` marks the current page with aria-current.
                        <A href="/admin" exact=true>"Dashboard"</A>
                        <A href="/admin/campaigns">"Campaigns"</A>
                        <A href="/admin/templates">"Templates"</A>
                        <A href="/admin/automations">"Automations"</A>
                        <A href="/admin/subscribers">"Subscribers"</A>
                        <A href="/admin/topics">"Topics"</A>
                        <A href="/admin/sites">"Sites"</A>
                        {owner.then(|| view! { <A href="/admin/keys">"Keys"</A> })}
                        {owner.then(|| view! { <A href="/admin/api">"API"</A> })}
                        {owner.then(|| view! { <A href="/admin/webhooks">"Webhooks"</A> })}
                        <A href="/admin/team">"Admins"</A>
                        {owner.then(|| view! { <A href="/admin/audit">"Audit log"</A> })}
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

/// Asks for a refresh of whatever reads `tick` after `every`, if anything: pages showing a
/// running campaign call it from an effect each time their data arrives, so they follow it
/// until it is over and then stop.
#[cfg(feature = "hydrate")]
pub fn refresh_after(tick: RwSignal<u32>, every: Option<std::time::Duration>) {
    if let Some(every) = every {
        set_timeout(move || tick.update(|t| *t += 1), every);
    }
}
