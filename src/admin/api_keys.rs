//! The *API* page: keys for a site's own backend (made, shown once, revoked) and the API's
//! reference with `curl` commands to copy.

use leptos::prelude::*;
use leptos_meta::Title;

use super::frame::{FormError, SignedIn};
use super::sites::CopyBlock;
use crate::api::keys::{api_reference, list_api_keys, CreateApiKey, RevokeApiKey, MAX_NAME_CHARS};
use crate::api::{ApiKeySummary, ApiRoute, Scope};
use crate::ids::{parse_ids, toggle_id};
use crate::site::api::list_sites;

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    view! {
        <Title text="API"/>
        <SignedIn>
            <ApiKeys/>
        </SignedIn>
    }
}

#[component]
fn ApiKeys() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
    view! {
        <h1>"API"</h1>
        <p class="lead">
            "Your own code can send campaigns and messages, read their counts and manage subscribers through Tidings' REST API. "
            "Each key can do only what its scopes allow, on every site or only on some."
        </p>
        <section class="card" aria-labelledby="api-keys-heading">
            <h2 id="api-keys-heading">"Keys"</h2>
            <FormError result=revoke.value().into()/>
            <Transition fallback=|| view! { <p class="status">"Loading keys…"</p> }>
                {move || keys.get().map(|list| match list {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No API keys yet. Make one below for each program that calls Tidings, so each can be revoked alone."</p>
                    }.into_any(),
                    Ok(list) => view! { <KeyTable list revoke/> }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
        <NewKey create/>
        <Reference/>
    }
}

#[component]
fn KeyTable(list: Vec<ApiKeySummary>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    view! {
        <table class="campaigns api-keys">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Scopes"</th>
                    <th scope="col">"Sites"</th>
                    <th scope="col">"Made"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col"><span class="visually-hidden">"Revoke"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|key| {
                    let id = key.id.to_string();
                    let revoked = key.revoked_at.clone();
                    let is_revoked = revoked.is_some();
                    view! {
                        <tr data-api-key=key.id class:revoked=is_revoked>
                            <td data-label="Name" class="title"><div>{key.name} " " <code>{format!("{}…", key.hint)}</code></div></td>
                            <td data-label="Scopes"><div>{key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</div></td>
                            <td data-label="Sites"><div>{if key.sites.is_empty() { "all".to_string() } else { crate::ids::ids_text(key.sites) }}</div></td>
                            <td data-label="Made"><div>{key.created_at} {key.created_by.map(|by| format!(" by {by}"))}</div></td>
                            <td data-label="Last used" class="last-used"><div>
                                {match (key.last_used_at, key.last_used_from) {
                                    (Some(at), Some(from)) => format!("{at} from {from}"),
                                    (Some(at), None) => at,
                                    _ => "never".into(),
                                }}
                            </div></td>
                            <td data-label="">
                                {match revoked {
                                    Some(at) => view! { <span class="badge cancelled">{format!("revoked {at}")}</span> }.into_any(),
                                    None => view! {
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="id" value=id/>
                                            <button class="btn small danger" type="submit">"Revoke"</button>
                                        </ActionForm>
                                    }.into_any(),
                                }}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn NewKey(create: ServerAction<CreateApiKey>) -> impl IntoView {
    let scopes = RwSignal::new(String::new());
    let sites_chosen = RwSignal::new(String::new());
    let sites = Resource::new(|| (), |_| list_sites());
    let scope_on = move |scope: Scope| scopes.with(|s| s.split(',').any(|x| x == scope.as_str()));
    let toggle_scope = move |scope: Scope, on: bool| {
        scopes.update(|s| {
            let mut chosen: Vec<&str> = s.split(',').filter(|x| !x.is_empty() && *x != scope.as_str()).collect();
            if on {
                chosen.push(scope.as_str());
            }
            *s = chosen.join(",");
        })
    };
    view! {
        <section class="card" aria-labelledby="new-api-key-heading">
            <h2 id="new-api-key-heading">"Make a key"</h2>
            <ActionForm action=create attr:class="form">
                <label for="api-key-name">"Name"</label>
                <input id="api-key-name" name="name" required maxlength=MAX_NAME_CHARS placeholder="Shop backend"/>
                <input type="hidden" name="scopes" prop:value=move || scopes.get()/>
                <input type="hidden" name="sites" prop:value=move || sites_chosen.get()/>
                <fieldset class="scope-choice">
                    <legend>"Scopes"</legend>
                    {Scope::ALL.into_iter().map(|scope| view! {
                        <label class="check">
                            <input type="checkbox" value=scope.as_str() prop:checked=move || scope_on(scope)
                                on:change=move |ev| toggle_scope(scope, event_target_checked(&ev))/>
                            " " <strong>{scope.as_str()}</strong> <span class="muted">{format!(": {}", scope.describe())}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <Suspense>
                    {move || sites.get().and_then(Result::ok).map(|list| {
                        let active: Vec<_> = list.into_iter().filter(|s| !s.archived).collect();
                        (active.len() > 1).then(|| view! {
                            <fieldset class="scope-choice">
                                <legend>"Sites " <span class="muted">"(none ticked: every site)"</span></legend>
                                {active.into_iter().map(|site| {
                                    let id = site.id;
                                    view! {
                                        <label class="check">
                                            <input type="checkbox" prop:checked=move || sites_chosen.with(|s| parse_ids(s, "", "").is_ok_and(|ids| ids.contains(&id)))
                                                on:change=move |ev| sites_chosen.update(|s| *s = toggle_id(s, id, event_target_checked(&ev)))/>
                                            " " {site.name}
                                        </label>
                                    }
                                }).collect_view()}
                            </fieldset>
                        })
                    })}
                </Suspense>
                <button class="btn primary" type="submit" disabled=move || create.pending().get()>"Make key"</button>
                <FormError result=create.value().into()/>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|key| view! {
                <div class="new-token" role="status">
                    <p class="status warn">"Copy this key now: it is shown only once. Tidings keeps only a hash of it."</p>
                    <CopyBlock id="new-api-token" text=key.token/>
                </div>
            })}
        </section>
    }
}

#[component]
fn Reference() -> impl IntoView {
    let routes = Resource::new(|| (), |_| api_reference());
    view! {
        <section class="card" aria-labelledby="api-reference-heading">
            <h2 id="api-reference-heading">"Reference"</h2>
            <p>
                "JSON over HTTPS, with the key as " <code>"Authorization: Bearer …"</code>
                ". Errors are problem documents (RFC 9457) naming the field; POST requests may carry an "
                <code>"Idempotency-Key"</code> " so a retry never sends twice. The full description, for code generators: "
                <a href="/api/v1/openapi.json">"OpenAPI document"</a> "."
            </p>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || routes.get().map(|list| match list {
                    Ok(list) => view! { <Routes list/> }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Routes(list: Vec<ApiRoute>) -> impl IntoView {
    view! {
        <div class="api-routes">
            {list.into_iter().enumerate().map(|(i, route)| {
                let id = format!("api-route-{i}");
                view! {
                    <article class="api-route">
                        <h3><span class="badge method">{route.method}</span> " " <code>{format!("/api/v1{}", route.path)}</code></h3>
                        <p>{route.summary} " " <span class="muted">{route.description.replace('`', "")}</span></p>
                        <CopyBlock id text=route.curl/>
                    </article>
                }
            }).collect_view()}
        </div>
    }
}
