//! The *Templates* page: saved campaign content, to start a campaign from or delete.
//! Templates are made and changed from the compose form ("Save as template").

use leptos::prelude::*;
use leptos_meta::Title;

use leptos_router::hooks::use_params_map;

use super::compose::{Compose, FromTemplate};
use super::frame::{FormError, SignedIn};
use crate::campaign::api::SendCampaign;
use crate::template::api::{list_templates, open_template, DeleteTemplate};
use crate::template::TemplateSummary;

#[component]
pub fn TemplatesPage() -> impl IntoView {
    view! {
        <Title text="Templates"/>
        <SignedIn>
            <Templates/>
        </SignedIn>
    }
}

#[component]
fn Templates() -> impl IntoView {
    let delete = ServerAction::<DeleteTemplate>::new();
    let templates = Resource::new(move || delete.version().get(), |_| list_templates());
    view! {
        <div class="page-head">
            <h1>"Templates"</h1>
            <a class="btn primary" href="/admin/campaigns">"New campaign"</a>
        </div>
        <p class="lead">
            "Content you send again and again — a weekly digest, a sale, a welcome — saved under a name. "
            "Start a campaign from one, change what you like, and send it to any audience."
        </p>
        <section class="card" aria-labelledby="templates-heading">
            <h2 id="templates-heading" class="visually-hidden">"Saved templates"</h2>
            <Transition fallback=|| view! { <p class="status">"Loading templates…"</p> }>
                {move || templates.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No templates yet. Write a campaign on the "
                            <a href="/admin/campaigns">"Campaigns"</a>
                            " page and choose “Save as template” under the form."</p>
                    }.into_any(),
                    Ok(list) => view! { <TemplateList list delete/> }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <FormError result=delete.value().into()/>
        </section>
    }
}

/// A new campaign that starts from a template (`/admin/campaigns/from-template/<id>`). Its
/// own page, like editing a draft: once sent, it opens the campaign's page.
#[component]
pub fn FromTemplatePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or_default());
    let template =
        Resource::new(
            id,
            |id| async move { open_template(id).await.map(|(name, form)| FromTemplate { id, name, form }) },
        );
    let send = ServerAction::<SendCampaign>::new();
    view! {
        <Title text="New campaign from a template"/>
        <SignedIn>
            <p class="back"><a href="/admin/templates">"← Templates"</a></p>
            <h1>"New campaign from a template"</h1>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || template.get().map(|opened| match opened {
                    Ok(template) => view! { <Compose send template/> }.into_any(),
                    Err(error) => view! {
                        <p class="status error" role="alert">"Could not open that template: " {error.to_string()}
                            " " <a href="/admin/templates">"See the templates"</a> "."</p>
                    }.into_any(),
                })}
            </Suspense>
        </SignedIn>
    }
}

#[component]
fn TemplateList(list: Vec<TemplateSummary>, delete: ServerAction<DeleteTemplate>) -> impl IntoView {
    view! {
        <ul class="admin-list templates">
            {list.into_iter().map(|t| view! {
                <li data-template=t.id>
                    <div class="template-text">
                        <strong>{t.name.clone()}</strong>
                        <span class="muted">{format!(" · changed {}", t.updated)}</span>
                        <p class="template-content">
                            {crate::campaign::visible_controls(&t.title)}
                            {(!t.body.is_empty()).then(|| format!(" — {}", t.body))}
                        </p>
                    </div>
                    <div class="row-actions">
                        <a class="btn small primary" href=format!("/admin/campaigns/from-template/{}", t.id)
                            aria-label=format!("Start a campaign from {}", t.name)>"Use"</a>
                        <ActionForm action=delete>
                            <input type="hidden" name="id" value=t.id.to_string()/>
                            <button class="btn small danger" type="submit"
                                aria-label=format!("Delete the template {}", t.name)>"Delete"</button>
                        </ActionForm>
                    </div>
                </li>
            }).collect_view()}
        </ul>
    }
}
