//! The subscribers page: search and page through subscriptions, delete one, export all,
//! import a file from Tidings or another tool.

use leptos::prelude::*;
use leptos_meta::Title;

use super::frame::{FormError, SignedIn};
use crate::keys::api::list_keys;
use crate::keys::{KeyState, KeySummary};
use crate::site::api::list_sites;
use crate::subscription::api::{list_subscribers, subscriber_hosts, DeleteSubscriber};
use crate::subscription::{ConsentReceipt, ImportReport, SubscriberRow, SubscriberSearch};
use crate::topic::api::admin_topics;

#[component]
pub fn SubscribersPage() -> impl IntoView {
    view! {
        <Title text="Subscribers"/>
        <SignedIn>
            <Subscribers/>
        </SignedIn>
    }
}

/// The search as typed (applied with the Search button); its `before` stays empty, the
/// page's cursor is kept apart.
type Filters = SubscriberSearch;

#[component]
fn Subscribers() -> impl IntoView {
    let applied = RwSignal::new(Filters::default());
    // Cursors of the pages before this one, for "Newer"; the last is this page's.
    let cursors = RwSignal::new(vec![String::new()]);
    let delete = ServerAction::<DeleteSubscriber>::new();
    let imported = RwSignal::new(0u32);
    let page = Resource::new(
        move || {
            (
                applied.get(),
                cursors.with(|c| c.last().cloned().unwrap_or_default()),
                delete.version().get(),
                imported.get(),
            )
        },
        |(search, before, _, _)| list_subscribers(SubscriberSearch { before, ..search }),
    );
    let search = move |filters: Filters| {
        applied.set(filters);
        cursors.set(vec![String::new()]);
    };

    view! {
        <div class="page-head">
            <h1>"Subscribers"</h1>
            <div class="toolbar">
                <a class="btn" href="/admin/subscribers/export.json" download="subscriptions.json">"Export JSON"</a>
                <a class="btn" href="/admin/subscribers/export.csv" download="subscriptions.csv">"Export CSV"</a>
                <a class="btn" href="/admin/deliveries">"Why didn't they get it?"</a>
            </div>
        </div>
        <SearchForm imported on_search=search/>
        <section class="card" aria-labelledby="list-heading">
            <h2 id="list-heading">"Subscriptions"</h2>
            <FormError result=delete.value().into()/>
            <Transition fallback=|| view! { <p class="status">"Loading subscribers…"</p> }>
                {move || page.get().map(|page| match page {
                    Ok(page) if page.rows.is_empty() => view! {
                        <p class="empty">
                            {if applied.with(|f| *f == Filters::default()) {
                                "Nobody has subscribed yet. Share your public page, or import subscriptions below."
                            } else {
                                "No subscriber matches this search."
                            }}
                        </p>
                    }.into_any(),
                    Ok(page) => {
                        let next = page.next_before;
                        view! {
                            <p class="muted" aria-live="polite">{match page.total { 1 => "1 subscriber matches.".to_string(), n => format!("{n} subscribers match.") }}</p>
                            <SubscriberTable rows=page.rows delete/>
                            <div class="pager">
                                <button class="btn small" disabled=move || cursors.with(|c| c.len() <= 1)
                                    on:click=move |_| cursors.update(|c| { c.pop(); })>"← Newer"</button>
                                <button class="btn small" disabled=next.is_none()
                                    on:click=move |_| if let Some(next) = next { cursors.update(|c| c.push(next.to_string())) }>"Older →"</button>
                            </div>
                        }.into_any()
                    }
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
        <Import imported/>
    }
}

/// The filters: push service, topic, join dates. Applied when the form is submitted.
#[component]
fn SearchForm(imported: RwSignal<u32>, on_search: impl Fn(Filters) + 'static) -> impl IntoView {
    let typed = RwSignal::new(Filters::default());
    let hosts = Resource::new(move || imported.get(), |_| subscriber_hosts());
    let topics = Resource::new(|| (), |_| admin_topics());
    let sites = Resource::new(|| (), |_| list_sites());
    let text = move |set: fn(&mut Filters, String)| {
        move |ev: leptos::ev::Event| typed.update(|f| set(f, event_target_value(&ev)))
    };
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_search(typed.get_untracked());
    };
    view! {
        <section class="card" aria-labelledby="search-heading">
            <h2 id="search-heading">"Search"</h2>
            <form class="form filters" on:submit=search>
                <div class="filter-row">
                    <div class="field">
                        <label for="host">"Push service"</label>
                        <select id="host" on:change=text(|f, v| f.host = v)>
                            <option value="">"Any"</option>
                            <Suspense>
                                {move || hosts.get().map(|h| h.unwrap_or_default().into_iter().map(|h| view! {
                                    <option value=h.host.clone()>{format!("{} ({})", if h.host.is_empty() { "unknown" } else { &h.host }, h.subscribers)}</option>
                                }).collect_view())}
                            </Suspense>
                        </select>
                    </div>
                    <div class="field">
                        <label for="topic">"Topic"</label>
                        <select id="topic" on:change=text(|f, v| f.topic = v)>
                            <option value="">"Any"</option>
                            <Suspense>
                                {move || topics.get().map(|t| t.unwrap_or_default().into_iter().map(|t| view! {
                                    <option value=t.id.to_string()>{t.name}</option>
                                }).collect_view())}
                            </Suspense>
                        </select>
                    </div>
                    <div class="field">
                        <label for="site">"Site"</label>
                        <select id="site" on:change=text(|f, v| f.site = v)>
                            <option value="">"Any"</option>
                            <Suspense>
                                {move || sites.get().map(|s| s.unwrap_or_default().into_iter().map(|s| view! {
                                    <option value=s.id.to_string()>{format!("{} ({})", s.name, s.subscribers)}</option>
                                }).collect_view())}
                            </Suspense>
                        </select>
                    </div>
                    <div class="field">
                        <label for="user">"User id"</label>
                        <input id="user" type="search" on:change=text(|f, v| f.user = v)/>
                    </div>
                    <div class="field">
                        <label for="joined_from">"Joined from"</label>
                        <input id="joined_from" type="date" on:change=text(|f, v| f.joined_from = v)/>
                    </div>
                    <div class="field">
                        <label for="joined_to">"to"</label>
                        <input id="joined_to" type="date" on:change=text(|f, v| f.joined_to = v)/>
                    </div>
                    <button class="btn primary" type="submit">"Search"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn SubscriberTable(rows: Vec<SubscriberRow>, delete: ServerAction<DeleteSubscriber>) -> impl IntoView {
    view! {
        <div class="table-scroll" role="region" aria-label="Subscribers" tabindex="0">
        <table class="campaigns subscribers">
            <thead>
                <tr>
                    <th scope="col">"Site"</th>
                    <th scope="col">"Push service"</th>
                    <th scope="col">"Endpoint"</th>
                    <th scope="col">"Topics"</th>
                    <th scope="col">"Joined"</th>
                    <th scope="col">"Last delivered"</th>
                    <th scope="col">"Consent"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr data-subscriber=r.id>
                        <td data-label="Site">{r.site.clone()}</td>
                        <td data-label="Push service">{r.host.clone()}</td>
                        <td data-label="Endpoint" class="endpoint"><div title=r.endpoint.clone()>{short(&r.endpoint)}</div></td>
                        <td data-label="Topics">{if r.topics.is_empty() { "—".to_string() } else { r.topics.clone() }}</td>
                        <td data-label="Joined">{r.joined.clone()}</td>
                        <td data-label="Last delivered">{r.last_success.clone().unwrap_or_else(|| "never".into())}</td>
                        <td data-label="Consent"><Receipt receipt=r.receipt.clone() joined=r.joined.clone()/></td>
                        <td data-label="" class="row-actions">
                            <a class="btn small" href=format!("/admin/deliveries?to={}", r.id)
                                aria-label=format!("Deliveries to the subscription at {}", r.host)>"Deliveries"</a>
                            <ActionForm action=delete>
                                <input type="hidden" name="id" value=r.id.to_string()/>
                                <button class="btn small danger" type="submit"
                                    aria-label=format!("Delete the subscription at {}", r.host)>"Delete"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

/// The consent receipt, folded: when, where, what the visitor read, in which browser,
/// language and time zone, and the site's id for them.
#[component]
fn Receipt(receipt: ConsentReceipt, joined: String) -> impl IntoView {
    let or_unknown = |value: Option<String>| value.unwrap_or_else(|| "not recorded".into());
    view! {
        <details class="receipt">
            <summary>{receipt.browser.clone().unwrap_or_else(|| "Receipt".into())}</summary>
            <dl>
                <dt>"When"</dt><dd>{joined}</dd>
                <dt>"Page"</dt><dd class="wrap">{or_unknown(receipt.page)}</dd>
                <dt>"Shown"</dt><dd>{or_unknown(receipt.prompt)}</dd>
                <dt>"Language"</dt><dd>{or_unknown(receipt.language)}</dd>
                <dt>"Time zone"</dt><dd>{or_unknown(receipt.time_zone)}</dd>
                {receipt.user_id.map(|user| view! { <dt>"User id"</dt><dd class="user-id">{user}</dd> })}
            </dl>
        </details>
    }
}

/// The end of an endpoint, which tells subscriptions apart (the start is the service's).
fn short(endpoint: &str) -> String {
    let tail: String = endpoint.chars().rev().take(24).collect::<Vec<_>>().into_iter().rev().collect();
    if tail.len() < endpoint.len() {
        format!("…{tail}")
    } else {
        tail
    }
}

/// Upload a JSON or CSV file of subscriptions; shows what was added, merged and refused.
#[component]
fn Import(imported: RwSignal<u32>) -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    let key_input = NodeRef::<leptos::html::Select>::new();
    let keys = Resource::new(move || imported.get(), |_| list_keys());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<ImportReport, String>>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = file_input.get().and_then(|input| input.files()).and_then(|files| files.get(0)) else {
                result.set(Some(Err("Choose a file first.".into())));
                return;
            };
            busy.set(true);
            let key = key_input.get().map(|select| select.value()).unwrap_or_default();
            let url = if key.is_empty() {
                "/admin/subscribers/import".to_owned()
            } else {
                format!("/admin/subscribers/import?key={key}")
            };
            leptos::task::spawn_local(async move {
                let outcome = match crate::browser::upload(&url, file).await {
                    Ok((200, body)) => serde_json::from_str::<ImportReport>(&body).map_err(|e| e.to_string()),
                    // Refusals come as every endpoint's error: an AppError in JSON.
                    Ok((_, body)) => Err(serde_json::from_str::<crate::error::AppError>(&body)
                        .map(|e| e.to_string())
                        .unwrap_or(body)),
                    Err(error) => Err(error),
                };
                result.set(Some(outcome));
                busy.set(false);
                imported.update(|n| *n += 1);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (imported, key_input);
    };
    view! {
        <section class="card" aria-labelledby="import-heading">
            <h2 id="import-heading">"Import"</h2>
            <p class="hint">
                "Move subscribers from another tool or another Tidings: a JSON list of browser PushSubscription objects "
                "(" <code>"{\"endpoint\", \"keys\": {\"p256dh\", \"auth\"}}"</code> ", optionally with " <code>"\"topics\""</code>
                "), one such object per line, or CSV with the columns " <code>"endpoint,p256dh,auth"</code> " and optionally "
                <code>"topics"</code> " (separated by |). Known endpoints are merged; rows that are not valid subscriptions are listed."
            </p>
            <form class="form inline-form" on:submit=on_submit>
                <label for="import-key">"Made with the key"</label>
                <select id="import-key" node_ref=key_input aria-describedby="import-key-hint">
                    <Suspense>
                        {move || keys.get().map(|keys| {
                            let keys: Vec<KeySummary> = keys.unwrap_or_default().into_iter().filter(|k| k.state != KeyState::Retired).collect();
                            let chosen = default_import_key(&keys);
                            keys.into_iter().map(|k| view! {
                                <option value=k.id.to_string() selected=Some(k.id) == chosen>
                                    {format!("{} ({})", k.label, k.state.as_str())}
                                </option>
                            }).collect_view()
                        })}
                    </Suspense>
                </select>
                <p class="hint" id="import-key-hint">"Subscriptions from another tool were made with its key: import that key on the "
                    <a href="/admin/keys">"Keys"</a> " page first and choose it here."</p>
                <label for="import-file">"File"</label>
                <div class="inline-row">
                    <input id="import-file" type="file" accept=".json,.csv,.txt,application/json,text/csv" node_ref=file_input/>
                    <button class="btn primary" type="submit" disabled=move || busy.get()>
                        {move || if busy.get() { "Importing…" } else { "Import" }}
                    </button>
                </div>
            </form>
            <div aria-live="polite">
                {move || result.get().map(|result| match result {
                    Ok(report) => view! { <ImportResult report/> }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">"The import did not run: " {error}</p> }.into_any(),
                })}
            </div>
        </section>
    }
}

/// The key an import most likely needs: one just brought in (signing, nobody on it yet),
/// else the current one.
fn default_import_key(keys: &[KeySummary]) -> Option<i64> {
    keys.iter()
        .filter(|k| k.state == KeyState::Signing && k.subscribers == 0)
        .map(|k| k.id)
        .max()
        .or_else(|| keys.iter().find(|k| k.state == KeyState::Current).map(|k| k.id))
}

#[component]
fn ImportResult(report: ImportReport) -> impl IntoView {
    let more = report.rejected.saturating_sub(report.problems.len());
    view! {
        <p class="form-ok import-summary" role="status">
            {format!("{} added, {} merged with existing subscriptions, {} rejected.", report.added, report.merged, report.rejected)}
        </p>
        {(!report.problems.is_empty()).then(|| view! {
            <ul class="import-problems">
                {report.problems.into_iter().map(|p| view! { <li>{format!("Row {}: {}", p.row, p.reason)}</li> }).collect_view()}
            </ul>
            {(more > 0).then(|| view! { <p class="hint">{format!("…and {more} more.")}</p> })}
        })}
    }
}
