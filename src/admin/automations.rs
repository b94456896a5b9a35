//! The *Automations* page: welcome notifications and recurring campaigns, with what each
//! has sent, to pause, resume or delete; and the form for a new one.

use leptos::prelude::*;
use leptos_meta::Title;

use super::frame::{FormError, SignedIn};
use crate::automation::api::{list_automations, CreateAutomation, DeleteAutomation, PauseAutomation};
use crate::automation::{AutomationSummary, MAX_NAME_CHARS};
use crate::campaign::{MAX_BODY_CHARS, MAX_TITLE_CHARS};

#[component]
pub fn AutomationsPage() -> impl IntoView {
    view! {
        <Title text="Automations"/>
        <SignedIn>
            <Automations/>
        </SignedIn>
    }
}

#[component]
fn Automations() -> impl IntoView {
    let create = ServerAction::<CreateAutomation>::new();
    let pause = ServerAction::<PauseAutomation>::new();
    let delete = ServerAction::<DeleteAutomation>::new();
    let list = Resource::new(
        move || (create.version().get(), pause.version().get(), delete.version().get()),
        |_| list_automations(),
    );
    view! {
        <div class="page-head">
            <h1>"Automations"</h1>
        </div>
        <p class="lead">
            "Notifications that send themselves: a welcome a few minutes after someone subscribes, "
            "or a campaign every day or week at the same time. Pause one at any time."
        </p>
        <section class="card" aria-labelledby="automations-heading">
            <h2 id="automations-heading">"Your automations"</h2>
            <Transition fallback=|| view! { <p class="status">"Loading automations…"</p> }>
                {move || list.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No automations yet. Start with a welcome below: new subscribers hear from "
                            "you while they still remember why they subscribed."</p>
                    }.into_any(),
                    Ok(list) => view! { <AutomationList list pause delete/> }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <FormError result=pause.value().into()/>
            <FormError result=delete.value().into()/>
        </section>
        <NewAutomation create/>
    }
}

#[component]
fn AutomationList(
    list: Vec<AutomationSummary>,
    pause: ServerAction<PauseAutomation>,
    delete: ServerAction<DeleteAutomation>,
) -> impl IntoView {
    view! {
        <ul class="admin-list automations">
            {list.into_iter().map(|a| {
                let (kind, state) = (if a.kind == "welcome" { "Welcome" } else { "Recurring" }, if a.paused { "paused" } else { "active" });
                let counts = format!(
                    "{} sent, {} clicked{}",
                    a.sent,
                    a.clicked,
                    if a.kind == "recurring" { format!(", {} runs", a.campaigns) } else { String::new() }
                );
                let toggle = format!("{} {}", if a.paused { "Resume" } else { "Pause" }, a.name);
                let remove = format!("Delete {}", a.name);
                view! {
                    <li data-automation=a.id>
                        <div class="automation-text">
                            <strong>{a.name.clone()}</strong>
                            " " <span class=format!("badge {state}")>{state}</span>
                            <p class="muted">{format!("{kind}: {}", a.trigger)}
                                {a.next_run.clone().map(|at| format!(" · next {at}"))}</p>
                            <p class="template-content">{crate::campaign::visible_controls(&a.title)} " · " {counts}</p>
                        </div>
                        <div class="row-actions">
                            {a.latest_campaign.map(|id| view! {
                                <a class="btn small" href=format!("/admin/campaigns/{id}")>
                                    {if a.kind == "welcome" { "Its campaign" } else { "Latest run" }}
                                </a>
                            })}
                            <ActionForm action=pause>
                                <input type="hidden" name="id" value=a.id.to_string()/>
                                <input type="hidden" name="paused" value=(!a.paused).to_string()/>
                                <button class="btn small" type="submit" aria-label=toggle>
                                    {if a.paused { "Resume" } else { "Pause" }}
                                </button>
                            </ActionForm>
                            <ActionForm action=delete>
                                <input type="hidden" name="id" value=a.id.to_string()/>
                                <button class="btn small danger" type="submit" aria-label=remove>"Delete"</button>
                            </ActionForm>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
fn NewAutomation(create: ServerAction<CreateAutomation>) -> impl IntoView {
    let sites = Resource::new(|| (), |_| crate::site::api::list_sites());
    let topics = Resource::new(|| (), |_| crate::topic::api::admin_topics());
    let recurring = RwSignal::new(false);
    let weekly = RwSignal::new(false);
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let field_error = move |field: &'static str| {
        move || {
            error
                .get()
                .filter(|e| e.field_name() == Some(field))
                .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
        }
    };
    view! {
        <section class="card" aria-labelledby="new-automation-heading">
            <h2 id="new-automation-heading">"New automation"</h2>
            <ActionForm action=create attr:class="form">
                <label for="automation-name">"Name"</label>
                <input id="automation-name" name="name" required maxlength=MAX_NAME_CHARS placeholder="Welcome"/>
                {field_error("name")}
                <fieldset class="buttons">
                    <legend>"Sends"</legend>
                    <label class="check">
                        <input type="radio" name="kind" value="welcome" checked=true on:change=move |_| recurring.set(false)/>
                        " A welcome, after someone subscribes"
                    </label>
                    <label class="check">
                        <input type="radio" name="kind" value="recurring" on:change=move |_| recurring.set(true)/>
                        " A campaign every day or week"
                    </label>
                </fieldset>
                <div hidden=move || recurring.get()>
                    <label for="delay_minutes">"Minutes after subscribing"</label>
                    <input id="delay_minutes" name="delay_minutes" type="number" min=0 max=43200 value="10" inputmode="numeric"/>
                    {field_error("delay_minutes")}
                </div>
                <div class="row" hidden=move || !recurring.get()>
                    <div>
                        <label for="every">"Every"</label>
                        <select id="every" name="every" on:change=move |ev| weekly.set(event_target_value(&ev) == "week")>
                            <option value="day">"day"</option>
                            <option value="week">"week"</option>
                        </select>
                    </div>
                    <div hidden=move || !weekly.get()>
                        <label for="weekday">"On"</label>
                        <select id="weekday" name="weekday">
                            {["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"].into_iter().enumerate().map(|(i, day)| view! {
                                <option value=i.to_string()>{day}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div>
                        <label for="at_time">"At (your time)"</label>
                        <input id="at_time" name="at_time" type="time" value="09:00"/>
                    </div>
                </div>
                {field_error("every")}
                {field_error("at_time")}
                <label for="automation-title">"Title " <span class="required">"required"</span></label>
                <input id="automation-title" name="title" required maxlength=MAX_TITLE_CHARS placeholder="Thanks for subscribing!"/>
                {field_error("title")}
                <label for="automation-body">"Body"</label>
                <textarea id="automation-body" name="body" rows=2 maxlength=MAX_BODY_CHARS
                    placeholder="Here is what to expect from us."></textarea>
                <label for="automation-url">"Link URL"</label>
                <input id="automation-url" name="url" inputmode="url" placeholder="https://example.org/welcome"/>
                {field_error("url")}
                <div class="row">
                    <div>
                        <label for="automation-site">"Site"</label>
                        <select id="automation-site" name="sites">
                            <option value="">"Every site"</option>
                            <Suspense>
                                {move || sites.get().map(|sites| sites.unwrap_or_default().into_iter().filter(|s| !s.archived).map(|s| view! {
                                    <option value=s.id.to_string()>{s.name}</option>
                                }).collect_view())}
                            </Suspense>
                        </select>
                    </div>
                    <div>
                        <label for="automation-topic">"Topic"</label>
                        <select id="automation-topic" name="audience">
                            <option value="">"Everyone"</option>
                            <Suspense>
                                {move || topics.get().map(|topics| topics.unwrap_or_default().into_iter().filter(|t| !t.archived).map(|t| view! {
                                    <option value=t.id.to_string()>{t.name}</option>
                                }).collect_view())}
                            </Suspense>
                        </select>
                    </div>
                </div>
                {field_error("sites")}
                {field_error("audience")}
                {move || error.get().filter(|e| e.field_name().is_none()).map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                {move || create.value().get().and_then(Result::ok).map(|_| view! { <p class="form-ok" role="status">"Automation saved: it is active now."</p> })}
                <button class="btn primary" type="submit" disabled=move || create.pending().get()>"Create automation"</button>
            </ActionForm>
        </section>
    }
}
