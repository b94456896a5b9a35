//! The *Deliveries* page: "why didn't they get it?" Every delivery to one subscriber,
//! found by subscription number, endpoint or user id, with what the push service answered.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::frame::SignedIn;
use crate::subscription::api::subscriber_deliveries;
use crate::subscription::history::{DeliveryRecord, SubscriptionHistory, HISTORY_LIMIT};

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    view! {
        <Title text="Deliveries to a subscriber"/>
        <SignedIn>
            <Deliveries/>
        </SignedIn>
    }
}

#[component]
fn Deliveries() -> impl IntoView {
    // In the address (`?to=…`), so a link from the subscriber list or a support ticket
    // opens the answer directly.
    let query = use_query_map();
    let to = move || query.with(|q| q.get("to").unwrap_or_default());
    let found = Resource::new(to, |to| async move {
        if to.trim().is_empty() {
            None
        } else {
            Some(subscriber_deliveries(to).await)
        }
    });
    view! {
        <div class="page-head">
            <h1>"Deliveries to a subscriber"</h1>
        </div>
        <p class="lead">
            "Someone says they did not get a notification? Look them up: every campaign and message sent to "
            "their subscription, what the push service answered, and whether they clicked."
        </p>
        <section class="card" aria-labelledby="lookup-heading">
            <h2 id="lookup-heading" class="visually-hidden">"Look up"</h2>
            <Form method="GET" action="" attr:class="form filters lookup">
                <div class="row">
                    <div>
                        <label for="lookup-to">"Subscription number, endpoint or user id"</label>
                        <input id="lookup-to" name="to" type="search" required maxlength=2048 prop:value=to
                            placeholder="1234, https://fcm.googleapis.com/fcm/send/…, customer-42"/>
                    </div>
                    <button class="btn primary" type="submit">"Look up"</button>
                </div>
            </Form>
        </section>
        <Transition fallback=|| view! { <p class="status">"Looking…"</p> }>
            {move || found.get().flatten().map(|result| match result {
                Ok(list) if list.is_empty() => view! {
                    <section class="card">
                        <p class="empty">"No subscription matches, and nothing was ever sent to that number. "
                            "An endpoint is only known while the subscription exists: try the user id or the number from "
                            <a href="/admin/subscribers">"Subscribers"</a> "."</p>
                    </section>
                }.into_any(),
                Ok(list) => list.into_iter().map(|history| view! { <History history/> }).collect_view().into_any(),
                Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn History(history: SubscriptionHistory) -> impl IntoView {
    let heading = format!("Subscription #{}", history.id);
    let full = history.deliveries.len() as i64 == HISTORY_LIMIT;
    view! {
        <section class="card history" data-subscription=history.id>
            <h2>{heading}</h2>
            {if history.gone {
                view! {
                    <p class="status">"This subscription no longer exists: it expired at its push service or was "
                        "unsubscribed. What was sent to it before is below."</p>
                }.into_any()
            } else {
                view! {
                    <dl class="receipt history-facts">
                        <dt>"Push service"</dt><dd>{history.host}</dd>
                        <dt>"Site"</dt><dd>{history.site}</dd>
                        {history.user_id.map(|user| view! { <dt>"User id"</dt><dd class="user-id">{user}</dd> })}
                        <dt>"Joined"</dt><dd>{history.joined}</dd>
                        <dt>"Last accepted"</dt><dd>{history.last_success.unwrap_or_else(|| "never".into())}</dd>
                    </dl>
                }.into_any()
            }}
            {if history.deliveries.is_empty() {
                view! { <p class="empty">"Nothing has been sent to this subscription yet."</p> }.into_any()
            } else {
                view! { <DeliveryTable deliveries=history.deliveries/> }.into_any()
            }}
            {full.then(|| view! { <p class="hint">{format!("The latest {HISTORY_LIMIT} are shown.")}</p> })}
        </section>
    }
}

#[component]
fn DeliveryTable(deliveries: Vec<DeliveryRecord>) -> impl IntoView {
    view! {
        <div class="table-scroll" role="region" aria-label="Deliveries" tabindex="0">
        <table class="campaigns deliveries">
            <thead>
                <tr>
                    <th scope="col">"Campaign"</th>
                    <th scope="col">"Outcome"</th>
                    <th scope="col">"Times"</th>
                    <th scope="col">"Reaction"</th>
                </tr>
            </thead>
            <tbody>
                {deliveries.into_iter().map(|d| {
                    let explanation = d.explanation();
                    let reaction = match (&d.clicked, &d.dismissed) {
                        (Some(at), _) => format!("clicked {at}"),
                        (None, Some(at)) => format!("dismissed {at}"),
                        (None, None) => "—".to_owned(),
                    };
                    let attempts = match d.attempts {
                        0 => String::new(),
                        1 => "1 attempt".to_owned(),
                        n => format!("{n} attempts"),
                    };
                    view! {
                        <tr data-campaign=d.campaign_id data-status=d.status.clone()>
                            <td data-label="Campaign" class="title"><div>
                                <a href=format!("/admin/campaigns/{}", d.campaign_id)>{crate::campaign::visible_controls(&d.title)}</a>
                                {d.message.then(|| view! { <span class="muted">" (API message)"</span> })}
                                {d.variant.map(|v| view! { <span class="muted">{format!(" (variant {v})")}</span> })}
                            </div></td>
                            <td data-label="Outcome"><div>
                                <span class=format!("badge {}", d.status)>{d.status.clone()}</span>
                                <p class="explanation">{explanation}</p>
                            </div></td>
                            <td data-label="Times"><div class="times">
                                {d.started.map(|at| view! { <span>"started " {at}</span> })}
                                {d.sent.map(|at| view! { <span>"accepted " {at}</span> })}
                                {d.first_failed.map(|at| view! { <span>"first failed " {at}</span> })}
                                {d.next_attempt.map(|at| view! { <span>"next try " {at}</span> })}
                                {(!attempts.is_empty()).then(|| view! { <span class="muted">{attempts}</span> })}
                            </div></td>
                            <td data-label="Reaction"><div>{reaction}</div></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
