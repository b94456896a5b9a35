//! The campaigns page: compose, and the list below, refreshing every second while a
//! campaign is sending.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::compose::Compose;
use super::frame::{FormError, SignedIn};
use crate::campaign::api::{list_campaigns, CancelCampaign, SendCampaign};
use crate::campaign::{CampaignStatus, CampaignSummary};
use crate::template::api::list_templates;

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let send = ServerAction::<SendCampaign>::new();
    view! {
        <Title text="Campaigns"/>
        <SignedIn>
            <div class="page-head">
                <h1>"Campaigns"</h1>
                <TemplateChooser/>
            </div>
            <Compose send/>
            <CampaignList send/>
        </SignedIn>
    }
}

/// "Start from a template": shown once there are templates.
#[component]
fn TemplateChooser() -> impl IntoView {
    let templates = Resource::new(|| (), |_| list_templates());
    let navigate = use_navigate();
    view! {
        <Suspense>
            {move || templates.get().and_then(Result::ok).filter(|list| !list.is_empty()).map(|list| {
                let navigate = navigate.clone();
                view! {
                    <div class="toolbar template-chooser">
                        <label for="start-from">"Start from a template"</label>
                        <select id="start-from" on:change=move |ev| {
                            let id = event_target_value(&ev);
                            if !id.is_empty() {
                                navigate(&format!("/admin/campaigns/from-template/{id}"), Default::default());
                            }
                        }>
                            <option value="">"Choose…"</option>
                            {list.into_iter().map(|t| view! { <option value=t.id.to_string()>{t.name}</option> }).collect_view()}
                        </select>
                        <a href="/admin/templates">"Manage"</a>
                    </div>
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn CampaignList(send: ServerAction<SendCampaign>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let cancel = ServerAction::<CancelCampaign>::new();
    let campaigns =
        Resource::new(move || (send.version().get(), cancel.version().get(), tick.get()), |_| list_campaigns());

    // Poll only while something is running or waiting for its time; an idle list costs nothing.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(list)) = campaigns.get() {
            super::frame::refresh_after(tick, list.iter().filter_map(|c| c.status.refresh_every()).min());
        }
    });

    view! {
        <section class="card" aria-labelledby="campaigns-heading">
            <h2 id="campaigns-heading">"All campaigns"</h2>
            <Transition fallback=|| view! { <p class="status">"Loading campaigns…"</p> }>
                {move || campaigns.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No campaigns yet. Write one above: send it now, schedule it, or save it as a draft. It shows here with its progress."</p>
                    }.into_any(),
                    Ok(list) => view! { <CampaignTable list cancel/> }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <FormError result=cancel.value().into()/>
        </section>
    }
}

#[component]
fn CampaignTable(list: Vec<CampaignSummary>, cancel: ServerAction<CancelCampaign>) -> impl IntoView {
    // Eight columns do not fit every card: the table scrolls inside it rather than out of it.
    view! {
        <div class="table-scroll" role="region" aria-label="Campaigns" tabindex="0">
        <table class="campaigns">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Title"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col" class="num">"Sent"</th>
                    <th scope="col" class="num">"Failed"</th>
                    <th scope="col" class="num">"Expired"</th>
                    <th scope="col" class="num">"Clicked"</th>
                    <th scope="col" class="num">"Dismissed"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|c| { let ctr = c.click_through_percent(); view! {
                    <tr data-campaign=c.id data-status=c.status.as_str()>
                        <td data-label="When">{c.local.scheduled.clone().filter(|_| c.status == CampaignStatus::Scheduled).unwrap_or_else(|| c.local.created.clone())}</td>
                        <td data-label="Title" class="title">
                            <div>
                                <a href=format!("/admin/campaigns/{}", c.id)>{crate::campaign::visible_controls(&c.title)}</a>
                                {c.error.clone().map(|error| view! { <p class="campaign-error" role="alert">{error}</p> })}
                            </div>
                        </td>
                        <td data-label="Status">
                            <div>
                                <StatusBadge campaign=c.clone()/>
                                {c.is_active().then(|| view! {
                                    <ActionForm action=cancel attr:class="cancel">
                                        <input type="hidden" name="id" value=c.id.to_string()/>
                                        <button class="btn small" type="submit"
                                            aria-label=format!("Cancel campaign {}", c.title)>"Cancel"</button>
                                    </ActionForm>
                                })}
                            </div>
                        </td>
                        <td data-label="Sent" class="num sent">{c.sent}</td>
                        <td data-label="Failed" class="num failed">{c.failed}</td>
                        <td data-label="Expired" class="num expired">{c.expired}</td>
                        <td data-label="Clicked" class="num clicked">
                            {c.clicked}
                            {ctr.map(|ctr| view! { <span class="ctr">{format!(" ({ctr:.1}%)")}</span> })}
                        </td>
                        <td data-label="Dismissed" class="num dismissed">{c.dismissed}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

#[component]
pub fn StatusBadge(campaign: CampaignSummary) -> impl IntoView {
    let progress = campaign.is_active().then(|| {
        let percent = campaign.percent_done();
        view! {
            <progress max="100" value=percent.to_string() aria-label="Progress"></progress>
            <span class="progress-text">{format!("{} / {}", campaign.done(), campaign.targeted)}</span>
        }
    });
    view! {
        <span class=format!("badge {}", campaign.status)>{campaign.status.as_str()}</span>
        {progress}
    }
}
