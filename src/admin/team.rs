//! The admins: who can sign in with which role, adding another one, changing a role.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::frame::{FormError, NewAdminFields, SignedIn};
use super::role::Role;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSummary {
    pub username: String,
    pub role: Role,
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
            .map(|(_, username, created_at, role)| AdminSummary {
                username,
                role: Role::parse(&role).unwrap_or(Role::Viewer),
                added: zone.format(created_at),
            })
            .collect())
    })
    .await
}

#[cfg(feature = "ssr")]
fn parse_role(raw: &str) -> Result<Role, AppError> {
    Role::parse(raw).ok_or_else(|| AppError::field("role", "Choose owner, editor or viewer."))
}

/// An owner adds another admin with a role; they then sign in with this password.
#[server(endpoint = "admin/create_admin")]
pub async fn create_admin(
    username: String,
    password: String,
    confirm: String,
    /// "owner", "editor" or "viewer"; absent: editor.
    #[server(default)]
    role: String,
) -> Result<(), AppError> {
    use crate::admin::auth::ssr;
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let by = crate::session::require_role(Role::Owner).await?;
        let username = ssr::parse_username(&username)?;
        let role = if role.trim().is_empty() { Role::Editor } else { parse_role(&role)? };
        if password != confirm {
            return Err(AppError::invalid("The two passwords differ."));
        }
        let hash = ssr::hash_password(password).await?;
        state
            .store
            .create_admin(&username, &hash, role.as_str())
            .await?
            .ok_or_else(|| AppError::Conflict(format!("There is already an admin called {username}.")))?;
        tracing::info!(%username, role = role.as_str(), by = %by.username, "admin added");
        let after = serde_json::json!({ "role": role.as_str() });
        crate::audit::ssr::by_admin(&state, &by, "admin.create", &format!("admin {username}"), None, Some(after)).await;
        Ok(())
    })
    .await
}

/// An owner gives an admin another role. There is always at least one owner left.
#[server(endpoint = "admin/set_admin_role")]
pub async fn set_admin_role(username: String, role: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let by = crate::session::require_role(Role::Owner).await?;
        let role = parse_role(&role)?;
        let before = match state.store.set_admin_role(username.trim(), role.as_str()).await? {
            None => return Err(AppError::field("username", format!("There is no admin called {}.", username.trim()))),
            Some(Err(())) => return Err(AppError::Conflict(
                "This is the last owner: make someone else an owner first, so that someone can still manage the team."
                    .into(),
            )),
            Some(Ok(before)) => before,
        };
        tracing::info!(username = username.trim(), role = role.as_str(), by = %by.username, "admin's role changed");
        crate::audit::ssr::by_admin(
            &state,
            &by,
            "admin.role",
            &format!("admin {}", username.trim()),
            Some(serde_json::json!({ "role": before })),
            Some(serde_json::json!({ "role": role.as_str() })),
        )
        .await;
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
    let change = ServerAction::<SetAdminRole>::new();
    let admins = Resource::new(move || (create.version().get(), change.version().get()), |_| list_admins());
    let me = use_context::<super::auth::SignInState>();
    let owner = me.as_ref().and_then(|s| s.role) == Some(Role::Owner);
    let my_name = me.and_then(|s| s.username).unwrap_or_default();
    view! {
        <h1>"Admins"</h1>
        <section class="card">
            <h2>"Who can sign in"</h2>
            <ul class="role-legend">
                {Role::ALL.into_iter().map(|role| view! {
                    <li><strong>{role.label()}</strong>" — "{role.describe()}</li>
                }).collect_view()}
            </ul>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || admins.get().map(|admins| match admins {
                    Ok(admins) => view! {
                        <ul class="admin-list">
                            {admins.into_iter().map(|admin| {
                                let username = admin.username.clone();
                                let label = format!("Role of {}", admin.username);
                                let you = (admin.username == my_name).then_some(" (you)");
                                view! {
                                    <li>
                                        <span>
                                            <strong>{admin.username.clone()}</strong>{you}
                                            <span class="muted">" · " {admin.role.label()} " · added " {admin.added.clone()}</span>
                                        </span>
                                        {owner.then(|| view! {
                                            <ActionForm action=change attr:class="role-form">
                                                <input type="hidden" name="username" value=username.clone()/>
                                                <select name="role" aria-label=label.clone()>
                                                    {Role::ALL.into_iter().map(|role| view! {
                                                        <option value=role.as_str() selected=role == admin.role>{role.label()}</option>
                                                    }).collect_view()}
                                                </select>
                                                <button class="btn small" type="submit">"Change"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <FormError result=change.value().into()/>
                    }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
        {owner.then(|| view! {
            <section class="card">
                <h2>"Add an admin"</h2>
                <ActionForm action=create attr:class="form">
                    <NewAdminFields id_prefix="new-" hint=" Share it with them privately."/>
                    <label for="new-role">"Role"</label>
                    <select id="new-role" name="role">
                        {[Role::Editor, Role::Viewer, Role::Owner].into_iter().map(|role| view! {
                            <option value=role.as_str()>{format!("{} — {}", role.label(), role.describe())}</option>
                        }).collect_view()}
                    </select>
                    <FormError result=create.value().into()/>
                    {move || matches!(create.value().get(), Some(Ok(()))).then(|| view! {
                        <p class="form-ok" role="status">"Admin added."</p>
                    })}
                    <button class="btn primary" type="submit" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Adding…" } else { "Add admin" }}
                    </button>
                </ActionForm>
            </section>
        })}
    }
}
