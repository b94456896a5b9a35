//! The topics page: add, rename, archive and restore topics, with their subscriber counts.

use leptos::prelude::*;
use leptos_meta::Title;

use super::frame::{FormError, SignedIn};
use crate::site::api::list_sites;
use crate::site::SiteSummary;
use crate::topic::api::{admin_topics, ArchiveTopic, CreateTopic, RenameTopic};
use crate::topic::{Topic, MAX_TOPIC_NAME_CHARS};

#[component]
pub fn TopicsPage() -> impl IntoView {
    view! {
        <Title text="Topics"/>
        <SignedIn>
            <Topics/>
        </SignedIn>
    }
}

#[component]
fn Topics() -> impl IntoView {
    let create = ServerAction::<CreateTopic>::new();
    let rename = ServerAction::<RenameTopic>::new();
    let archive = ServerAction::<ArchiveTopic>::new();
    let topics = Resource::new(
        move || (create.version().get(), rename.version().get(), archive.version().get()),
        |_| admin_topics(),
    );
    let sites = Resource::new(|| (), |_| list_sites());
    // Where a topic is offered matters once there is more than one site.
    let site_choices = move || {
        sites
            .get()
            .and_then(Result::ok)
            .map(|s| s.into_iter().filter(|s| !s.archived).collect::<Vec<_>>())
            .filter(|s| s.len() > 1)
    };
    view! {
        <h1>"Topics"</h1>
        <p class="lead">
            "Visitors choose topics when they subscribe and can change them later on the public page. "
            "Aim a campaign at one or more topics when you write it; without topics, campaigns go to everyone."
        </p>
        <section class="card" aria-labelledby="new-topic-heading">
            <h2 id="new-topic-heading">"Add a topic"</h2>
            <ActionForm action=create attr:class="form inline-form">
                <label for="new-topic">"Name"</label>
                <div class="inline-row">
                    <input id="new-topic" name="name" required maxlength=MAX_TOPIC_NAME_CHARS placeholder="Releases"/>
                    <Transition>{move || site_choices().map(|sites| view! { <SiteSelect id="new-topic-site".into() sites current=None/> })}</Transition>
                    <button class="btn primary" type="submit" disabled=move || create.pending().get()>"Add topic"</button>
                </div>
                <FormError result=create.value().into()/>
                {move || matches!(create.value().get(), Some(Ok(_))).then(|| view! { <p class="form-ok" role="status">"Topic added."</p> })}
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="topics-heading">
            <h2 id="topics-heading">"All topics"</h2>
            <FormError result=rename.value().into()/>
            <FormError result=archive.value().into()/>
            <Transition fallback=|| view! { <p class="status">"Loading topics…"</p> }>
                {move || topics.get().map(|list| match list {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No topics yet. Add one, such as “Releases” or “Offers”, and visitors can choose it when they subscribe."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="topic-list">
                            {list.into_iter().map(|topic| view! { <TopicRow topic rename archive sites=site_choices().unwrap_or_default()/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TopicRow(
    topic: Topic,
    rename: ServerAction<RenameTopic>,
    archive: ServerAction<ArchiveTopic>,
    sites: Vec<SiteSummary>,
) -> impl IntoView {
    let (id, archive_id) = (topic.id.to_string(), topic.id.to_string());
    let input_id = format!("topic-{}", topic.id);
    let subscribers = match topic.subscribers {
        1 => "1 subscriber".to_string(),
        n => format!("{n} subscribers"),
    };
    view! {
        <li class="topic" class:archived=topic.archived data-topic=topic.id>
            <ActionForm action=rename attr:class="rename">
                <input type="hidden" name="id" value=id/>
                <label class="visually-hidden" for=input_id.clone()>{format!("Name of {}", topic.name)}</label>
                <input id=input_id name="name" value=topic.name.clone() required maxlength=MAX_TOPIC_NAME_CHARS/>
                {if sites.is_empty() {
                    // Kept as it is when there is nothing to choose.
                    view! { <input type="hidden" name="site" value=topic.site.map(|s| s.to_string()).unwrap_or_default()/> }.into_any()
                } else {
                    view! { <SiteSelect id=format!("topic-site-{}", topic.id) sites current=topic.site/> }.into_any()
                }}
                <button class="btn small" type="submit">"Save"</button>
            </ActionForm>
            <span class="topic-count">{subscribers}</span>
            {topic.archived.then(|| view! { <span class="badge">"archived"</span> })}
            <ActionForm action=archive attr:class="archive">
                <input type="hidden" name="id" value=archive_id/>
                <input type="hidden" name="archived" value=(!topic.archived).to_string()/>
                <button class="btn small" type="submit">
                    {if topic.archived { "Restore" } else { "Archive" }}
                </button>
            </ActionForm>
        </li>
    }
}

/// Where a topic is offered: every site, or one.
#[component]
fn SiteSelect(id: String, sites: Vec<SiteSummary>, current: Option<i64>) -> impl IntoView {
    view! {
        <label class="visually-hidden" for=id.clone()>"Offered on"</label>
        <select id=id name="site">
            <option value="" selected=current.is_none()>"Every site"</option>
            {sites.into_iter().map(|s| view! {
                <option value=s.id.to_string() selected=current == Some(s.id)>{format!("Only {}", s.name)}</option>
            }).collect_view()}
        </select>
    }
}
