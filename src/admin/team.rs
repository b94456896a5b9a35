//! The admins: who can sign in, and adding another one.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::frame::{FormError, NewAdminFields, SignedIn};
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSummary {
    pub username: String,
    /// When they were added, in the reading admin's time zone.
    pub added: String,
}

#[server(endpoint = "admin/list_admins")]
pub async fn list_admins() -> Result<Vec<AdminSummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_admin().await?.zone();
        let admins = state.store.admins().await?;
        Ok(admins
            .into_iter()
            .map(|(_, username, created_at)| AdminSummary { username, added: zone.format(created_at) })
            .collect())
    })
    .await
}

/// A signed-in admin adds another admin, who then signs in with this password.
#[server(endpoint = "admin/create_admin")]
pub async fn create_admin(username: String, password: String, confirm: String) -> Result<(), AppError> {
    use crate::admin::auth::ssr;
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let by = ssr::require_admin().await?;
        let username = ssr::parse_username(&username)?;
        if password != confirm {
            return Err(AppError::invalid("The two passwords differ."));
        }
        let hash = ssr::hash_password(password).await?;
        state
            .store
            .create_admin(&username, &hash)
            .await?
            .ok_or_else(|| AppError::Conflict(format!("There is already an admin called {username}.")))?;
        tracing::info!(%username, by = %by.username, "admin added");
        crate::audit::ssr::by_admin(&state, &by, "admin.create", &format!("admin {username}"), None, None).await;
        Ok(())
    })
    .await
}

#[component]
pub fn TeamPage() -> impl IntoView {
    view! {
        <Title text="Admins"/>
        <SignedIn>
            <Team/>
        </SignedIn>
    }
}

#[component]
fn Team() -> impl IntoView {
    let create = ServerAction::<CreateAdmin>::new();
    let admins = Resource::new(move || create.version().get(), |_| list_admins());
    view! {
        <h1>"Admins"</h1>
        <section class="card">
            <h2>"Who can sign in"</h2>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || admins.get().map(|admins| match admins {
                    Ok(admins) => view! {
                        <ul class="admin-list">
                            {admins.into_iter().map(|admin| view! {
                                <li>
                                    <strong>{admin.username}</strong>
                                    <span class="muted">" · added " {admin.added.clone()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
        <section class="card">
            <h2>"Add an admin"</h2>
            <p class="lead">"They can do everything you can, including adding admins."</p>
            <ActionForm action=create attr:class="form">
                <NewAdminFields id_prefix="new-" hint=" Share it with them privately."/>
                <FormError result=create.value().into()/>
                {move || matches!(create.value().get(), Some(Ok(()))).then(|| view! {
                    <p class="form-ok" role="status">"Admin added."</p>
                })}
                <button class="btn primary" type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Adding…" } else { "Add admin" }}
                </button>
            </ActionForm>
        </section>
    }
}
