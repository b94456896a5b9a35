//! The *Webhooks* page: endpoints that hear what happens (added with their events and
//! optional site, their secret shown once), each with its recent log, *resend*, and a way
//! back on after Tidings turned it off.

use leptos::prelude::*;
use leptos_meta::Title;

use super::frame::{FormError, SignedIn};
use super::sites::CopyBlock;
use crate::site::api::list_sites;
use crate::webhook::api::{list_webhooks, CreateWebhook, DeleteWebhook, EnableWebhook, ResendWebhook};
use crate::webhook::{WebhookEvent, WebhookSummary};

#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! {
        <Title text="Webhooks"/>
        <SignedIn>
            <Webhooks/>
        </SignedIn>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    delete: ServerAction<DeleteWebhook>,
    enable: ServerAction<EnableWebhook>,
    resend: ServerAction<ResendWebhook>,
}

#[component]
fn Webhooks() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let actions = Actions { delete: ServerAction::new(), enable: ServerAction::new(), resend: ServerAction::new() };
    let hooks = Resource::new(
        move || {
            (
                create.version().get(),
                actions.delete.version().get(),
                actions.enable.version().get(),
                actions.resend.version().get(),
            )
        },
        |_| list_webhooks(),
    );
    view! {
        <h1>"Webhooks"</h1>
        <p class="lead">
            "Tidings posts what happens to your own backend as signed JSON, the Standard Webhooks way: "
            <code>"webhook-id"</code>", "<code>"webhook-timestamp"</code>" and "<code>"webhook-signature"</code>
            " (HMAC-SHA256 with the endpoint's secret). Failed posts are retried with backoff for 24 hours; "
            "an endpoint that fails for five days is turned off."
        </p>
        <FormError result=actions.delete.value().into()/>
        <FormError result=actions.enable.value().into()/>
        <FormError result=actions.resend.value().into()/>
        <Transition fallback=|| view! { <p class="status">"Loading webhooks…"</p> }>
            {move || hooks.get().map(|list| match list {
                Ok(list) if list.is_empty() => view! {
                    <section class="card"><p class="empty">"No webhooks yet. Add the address of your backend below to hear about new subscribers, clicks and finished campaigns."</p></section>
                }.into_any(),
                Ok(list) => list.into_iter().map(|hook| view! { <Endpoint hook actions/> }).collect_view().into_any(),
                Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </Transition>
        <NewWebhook create/>
    }
}

#[component]
fn Endpoint(hook: WebhookSummary, actions: Actions) -> impl IntoView {
    let id = hook.id.to_string();
    let (heading, labelled_by) = (format!("webhook-{}", hook.id), format!("webhook-{}", hook.id));
    let (enable_id, delete_id) = (id.clone(), id.clone());
    view! {
        <section class="card webhook" aria-labelledby=labelled_by data-webhook=hook.id>
            <h2 id=heading><code>{hook.url.clone()}</code></h2>
            <p class="muted">
                {hook.events.join(", ")} " · " {hook.site.clone().map_or_else(|| "every site".to_string(), |s| format!("only {s}"))}
                " · added " {hook.created.clone()}
            </p>
            {hook.disabled.clone().map(|why| view! {
                <p class="status warn" role="status">"Turned off: " {why} ". Nothing is posted to it until you turn it back on."</p>
                <ActionForm action=actions.enable>
                    <input type="hidden" name="id" value=enable_id.clone()/>
                    <button class="btn" type="submit">"Turn back on"</button>
                </ActionForm>
            })}
            {hook.failing_since.clone().filter(|_| hook.disabled.is_none()).map(|since| view! {
                <p class="status warn" role="status">{format!("Every post has failed since {since}; retries go on.")}</p>
            })}
            {if hook.deliveries.is_empty() {
                view! { <p class="empty">"Nothing posted yet."</p> }.into_any()
            } else {
                view! {
                    <table class="campaigns webhook-log">
                        <thead><tr>
                            <th scope="col">"Event"</th>
                            <th scope="col">"When"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Receiver's answer"</th>
                            <th scope="col"><span class="visually-hidden">"Resend"</span></th>
                        </tr></thead>
                        <tbody>
                            {hook.deliveries.into_iter().map(|d| {
                                let answer = match (d.last_status, d.last_error.clone()) {
                                    (Some(code), _) => code.to_string(),
                                    (None, Some(error)) => error,
                                    (None, None) => "—".into(),
                                };
                                let resend_id = d.id.to_string();
                                let waiting = d.status == "pending";
                                view! {
                                    <tr data-delivery=d.id data-status=d.status.clone()>
                                        <td data-label="Event"><div>{d.event.clone()} " " <code class="muted">{d.message_id.clone()}</code></div></td>
                                        <td data-label="When"><div>{d.created.clone()}</div></td>
                                        <td data-label="Status"><div>
                                            <span class=format!("badge {}", d.status)>{d.status.clone()}</span>
                                            {format!(" · {} attempt{}", d.attempts, if d.attempts == 1 { "" } else { "s" })}
                                        </div></td>
                                        <td data-label="Answer"><div>{answer}</div></td>
                                        <td data-label="">
                                            {(!waiting).then(|| view! {
                                                <ActionForm action=actions.resend>
                                                    <input type="hidden" name="id" value=resend_id/>
                                                    <button class="btn small" type="submit">"Resend"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <ActionForm action=actions.delete>
                <input type="hidden" name="id" value=delete_id/>
                <button class="btn small danger" type="submit">"Delete this webhook"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn NewWebhook(create: ServerAction<CreateWebhook>) -> impl IntoView {
    let events = RwSignal::new(String::new());
    let sites = Resource::new(|| (), |_| list_sites());
    let on = move |event: WebhookEvent| events.with(|s| s.split(',').any(|x| x == event.as_str()));
    let toggle = move |event: WebhookEvent, checked: bool| {
        events.update(|s| {
            let mut chosen: Vec<&str> = s.split(',').filter(|x| !x.is_empty() && *x != event.as_str()).collect();
            if checked {
                chosen.push(event.as_str());
            }
            *s = chosen.join(",");
        })
    };
    view! {
        <section class="card" aria-labelledby="new-webhook-heading">
            <h2 id="new-webhook-heading">"Add a webhook"</h2>
            <ActionForm action=create attr:class="form">
                <label for="webhook-url">"Address"</label>
                <input id="webhook-url" name="url" type="url" required maxlength="2048" placeholder="https://shop.example/hooks/tidings"/>
                <input type="hidden" name="events" prop:value=move || events.get()/>
                <fieldset class="scope-choice">
                    <legend>"Events"</legend>
                    {WebhookEvent::ALL.into_iter().map(|event| view! {
                        <label class="check">
                            <input type="checkbox" value=event.as_str() prop:checked=move || on(event)
                                on:change=move |ev| toggle(event, event_target_checked(&ev))/>
                            " " <strong>{event.as_str()}</strong> <span class="muted">{format!(": {}", event.describe())}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <Suspense>
                    {move || sites.get().and_then(Result::ok).map(|list| {
                        let active: Vec<_> = list.into_iter().filter(|s| !s.archived).collect();
                        view! {
                            <label for="webhook-site">"Subscribers' events of"</label>
                            <select id="webhook-site" name="site">
                                <option value="">"Every site"</option>
                                {active.into_iter().map(|s| view! { <option value=s.id.to_string()>{s.name}</option> }).collect_view()}
                            </select>
                        }
                    })}
                </Suspense>
                <FormError result=create.value().into()/>
                <button class="btn primary" type="submit" disabled=move || create.pending().get()>"Add webhook"</button>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|made| view! {
                <p class="status warn" role="status">"The endpoint's signing secret; copy it now, it is not shown again:"</p>
                <CopyBlock id="webhook-secret" text=made.secret/>
            })}
        </section>
    }
}
