//! The sites pages: the sites whose visitors subscribe (Tidings' own public page first),
//! and each site's settings, the two snippets to install, a check of its worker file and
//! the secret for signed user ids.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::frame::{FormError, SignedIn};
use crate::site::api::{
    get_site, list_sites, ArchiveSite, CreateSite, RotateSiteSecret, SetSiteApproval, SetSiteCap, UpdateSite,
};
use crate::site::{FrequencyCap, PromptStyle, SiteDetail, SiteSummary, MAX_SITE_NAME_CHARS, MAX_WIDGET_TEXT_CHARS};

#[component]
pub fn SitesPage() -> impl IntoView {
    view! {
        <Title text="Sites"/>
        <SignedIn>
            <Sites/>
        </SignedIn>
    }
}

#[component]
fn Sites() -> impl IntoView {
    let create = ServerAction::<CreateSite>::new();
    let archive = ServerAction::<ArchiveSite>::new();
    let sites = Resource::new(move || (create.version().get(), archive.version().get()), |_| list_sites());
    view! {
        <h1>"Sites"</h1>
        <p class="lead">
            "Offer notifications on the sites you already have: add a site by its address, put the two "
            "snippets from its page on it, and its visitors subscribe there. Tidings' own public page is the first site."
        </p>
        <section class="card" aria-labelledby="new-site-heading">
            <h2 id="new-site-heading">"Add a site"</h2>
            <ActionForm action=create attr:class="form">
                <div class="row">
                    <div>
                        <label for="site-name">"Name"</label>
                        <input id="site-name" name="name" required maxlength=MAX_SITE_NAME_CHARS placeholder="Example blog"/>
                    </div>
                    <div>
                        <label for="site-origin">"Address (origin)"</label>
                        <input id="site-origin" name="origin" required inputmode="url" placeholder="https://www.example.org"
                            aria-describedby="site-origin-hint"/>
                    </div>
                </div>
                <p class="hint" id="site-origin-hint">
                    "Scheme and host (and a port if it has one), without a path: only pages on exactly this origin may use the widget."
                </p>
                <button class="btn primary" type="submit" disabled=move || create.pending().get()>"Add site"</button>
                <FormError result=create.value().into()/>
                {move || create.value().get().and_then(Result::ok).map(|id| view! {
                    <p class="form-ok" role="status">"Site added. " <a href=format!("/admin/sites/{id}") rel="external">"Get its snippets"</a> "."</p>
                })}
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="sites-heading">
            <h2 id="sites-heading">"All sites"</h2>
            <FormError result=archive.value().into()/>
            <Transition fallback=|| view! { <p class="status">"Loading sites…"</p> }>
                {move || sites.get().map(|list| match list {
                    Ok(list) => view! {
                        <ul class="site-list">
                            {list.into_iter().map(|site| view! { <SiteRow site archive/> }).collect_view()}
                        </ul>
                        <p class="hint">"Archived sites' widgets and workers are refused and campaigns skip their subscribers; the subscribers are kept."</p>
                    }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SiteRow(site: SiteSummary, archive: ServerAction<ArchiveSite>) -> impl IntoView {
    let subscribers = match site.subscribers {
        1 => "1 subscriber".to_string(),
        n => format!("{n} subscribers"),
    };
    let own = site.origin.is_none();
    view! {
        <li class="site" class:archived=site.archived data-site=site.id>
            <div class="site-name">
                // A full page load: only a site's page may fetch from other origins (its
                // worker check), and a page keeps the CSP it was loaded with.
                <a href=format!("/admin/sites/{}", site.id) rel="external"><strong>{site.name.clone()}</strong></a>
                <span class="muted">{site.origin.clone().unwrap_or_else(|| "Tidings' own public page".into())}</span>
            </div>
            <span class="topic-count">{subscribers}</span>
            {site.archived.then(|| view! { <span class="badge">"archived"</span> })}
            {(!own).then(|| view! {
                <ActionForm action=archive attr:class="archive">
                    <input type="hidden" name="id" value=site.id.to_string()/>
                    <input type="hidden" name="archived" value=(!site.archived).to_string()/>
                    <button class="btn small" type="submit">{if site.archived { "Restore" } else { "Archive" }}</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
pub fn SitePage() -> impl IntoView {
    view! {
        <Title text="Site"/>
        <SignedIn>
            <Site/>
        </SignedIn>
    }
}

#[component]
fn Site() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let update = ServerAction::<UpdateSite>::new();
    let site = Resource::new(move || (id(), update.version().get()), |(id, _)| get_site(id));
    view! {
        <p><a href="/admin/sites">"← All sites"</a></p>
        <Transition fallback=|| view! { <p class="status">"Loading the site…"</p> }>
            {move || site.get().map(|site| match site {
                Ok(site) => view! { <SiteSettings site update/> }.into_any(),
                Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn SiteSettings(site: SiteDetail, update: ServerAction<UpdateSite>) -> impl IntoView {
    let summary = site.summary.clone();
    let (snippets, users, widget_site) = (site.clone(), site.clone(), site.clone());
    let own = summary.origin.is_none();
    let (approval_id, approval_required, cap) = (summary.id, site.requires_approval, site.cap);
    view! {
        <h1>{summary.name.clone()}</h1>
        <p class="lead">
            {match &summary.origin {
                Some(origin) => format!("{origin} · {} subscribers", summary.subscribers),
                None => format!("Tidings' own public page, {}/ · {} subscribers", site.tidings_origin, summary.subscribers),
            }}
            {summary.archived.then(|| view! { " " <span class="badge">"archived"</span> })}
        </p>
        {(!own).then(|| view! { <Snippets site=snippets/> })}
        <section class="card" aria-labelledby="settings-heading">
            <h2 id="settings-heading">"Settings and the widget's words"</h2>
            <ActionForm action=update attr:class="form site-settings">
                <input type="hidden" name="id" value=summary.id.to_string()/>
                <div class="row">
                    <div>
                        <label for="name">"Name"</label>
                        <input id="name" name="name" required maxlength=MAX_SITE_NAME_CHARS value=summary.name.clone()/>
                    </div>
                    {(!own).then(|| view! {
                        <div>
                            <label for="origin">"Address (origin)"</label>
                            <input id="origin" name="origin" required value=summary.origin.clone().unwrap_or_default()/>
                        </div>
                    })}
                </div>
                <label for="time_zone">"Time zone"</label>
                <input id="time_zone" name="time_zone" value=site.widget.time_zone.clone() placeholder="Europe/Berlin"
                    aria-describedby="time-zone-hint"/>
                <p class="hint" id="time-zone-hint">
                    "For local-time delivery to subscribers whose browser named no time zone. Empty: the zone of whoever schedules the campaign."
                </p>
                <WidgetFields site=widget_site own/>
                <button class="btn primary" type="submit" disabled=move || update.pending().get()>"Save"</button>
                <FormError result=update.value().into()/>
                {move || matches!(update.value().get(), Some(Ok(()))).then(|| view! { <p class="form-ok" role="status">"Saved."</p> })}
            </ActionForm>
        </section>
        <ApprovalSetting id=approval_id required=approval_required/>
        <CapSetting id=approval_id cap/>
        {(!own).then(|| view! { <UserIds site=users/> })}
    }
}

/// Whether editors' campaigns to this site wait for an owner's approval.
#[component]
fn ApprovalSetting(id: i64, required: bool) -> impl IntoView {
    let set = ServerAction::<SetSiteApproval>::new();
    // What the page shows follows what was last saved.
    let (required, asked) = (RwSignal::new(required), RwSignal::new(!required));
    Effect::new(move |_| {
        if let Some(Ok(())) = set.value().get() {
            required.set(asked.get_untracked());
        }
    });
    view! {
        <section class="card" aria-labelledby="approval-heading">
            <h2 id="approval-heading">"Approval"</h2>
            <p>{move || if required.get() {
                "Campaigns that editors send to this site wait until an owner approves them."
            } else {
                "Editors send campaigns to this site themselves."
            }}</p>
            <ActionForm action=set>
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="required" value=move || (!required.get()).to_string()/>
                <button class="btn" type="submit" on:click=move |_| asked.set(!required.get_untracked())>{move || if required.get() {
                    "Let editors send without approval"
                } else {
                    "Require an owner's approval"
                }}</button>
            </ActionForm>
            <FormError result=set.value().into()/>
        </section>
    }
}

/// At most so many campaign pushes per subscriber in a day and in a week.
#[component]
fn CapSetting(id: i64, cap: FrequencyCap) -> impl IntoView {
    let set = ServerAction::<SetSiteCap>::new();
    // The sentence above the form follows what was last saved.
    let saved = RwSignal::new(cap);
    Effect::new(move |_| {
        if let Some(Ok(cap)) = set.value().get() {
            saved.set(cap);
        }
    });
    let number = |n: Option<u16>| n.map(|n| n.to_string()).unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="cap-heading">
            <h2 id="cap-heading">"Frequency cap"</h2>
            <p class="cap-now">{move || saved.get().describe()}</p>
            <ActionForm action=set attr:class="form cap-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <div class="row">
                    <div>
                        <label for="per_day">"Campaign pushes per day"</label>
                        <input id="per_day" name="per_day" type="number" min="1" max=FrequencyCap::MAX_PER_DAY
                            inputmode="numeric" placeholder="No limit" value=number(cap.per_day)/>
                    </div>
                    <div>
                        <label for="per_week">"Campaign pushes per week"</label>
                        <input id="per_week" name="per_week" type="number" min="1" max=FrequencyCap::MAX_PER_WEEK
                            inputmode="numeric" placeholder="No limit" value=number(cap.per_week)/>
                    </div>
                </div>
                <p class="hint">
                    "Per subscriber, counted across every campaign by when it went out (any 24 hours, any 7 days). "
                    "Someone over the cap is skipped and shows as "<em>"capped"</em>" on the campaign's page. "
                    "Messages sent through the API neither count nor are capped. Leave a field empty for no limit."
                </p>
                <button class="btn" type="submit" disabled=move || set.pending().get()>"Save the cap"</button>
                <FormError result=set.value().into()/>
                {move || matches!(set.value().get(), Some(Ok(_))).then(|| view! { <p class="form-ok" role="status">"Cap saved."</p> })}
            </ActionForm>
        </section>
    }
}

/// The worker file, the widget's style and language, and every text it shows. Tidings' own
/// page (`own`) serves its worker itself and shows the widget in place: only its words.
#[component]
fn WidgetFields(site: SiteDetail, own: bool) -> impl IntoView {
    let place = if own {
        view! {
            <input type="hidden" name="worker_path" value=site.worker_path.clone()/>
            <input type="hidden" name="prompt" value=site.widget.prompt.as_str()/>
            <label for="language">"Language of the texts"</label>
            <input id="language" name="language" required value=site.widget.language.clone() placeholder="en"/>
        }
        .into_any()
    } else {
        view! { <WorkerAndPrompt site=site.clone()/> }.into_any()
    };
    view! {
        {place}
        <p class="hint">"Empty a text to get the English default back."</p>
        {site.widget.texts.fields().into_iter().map(|(field, label, text, default)| {
            let long = default.len() > 60;
            let rows = (default.len() / 70 + 1).min(4).to_string();
            view! {
                <label for=field>{label}</label>
                {if long {
                    view! { <textarea id=field name=field rows=rows maxlength=MAX_WIDGET_TEXT_CHARS>{text}</textarea> }.into_any()
                } else {
                    view! { <input id=field name=field maxlength=MAX_WIDGET_TEXT_CHARS value=text/> }.into_any()
                }}
            }
        }).collect_view()}
    }
}

/// Where a registered site serves the worker, and how the widget asks there.
#[component]
fn WorkerAndPrompt(site: SiteDetail) -> impl IntoView {
    view! {
        <div class="row">
            <div>
                <label for="worker_path">"Worker file on the site"</label>
                <input id="worker_path" name="worker_path" required value=site.worker_path.clone()
                    aria-describedby="worker-hint"/>
                <p class="hint" id="worker-hint">"At the site's root. A site with a worker of its own names that file."</p>
            </div>
            <div>
                <label for="prompt">"How the widget asks"</label>
                <select id="prompt" name="prompt">
                    <option value="button" selected=site.widget.prompt == PromptStyle::Button>"A button where the placeholder is"</option>
                    <option value="card" selected=site.widget.prompt == PromptStyle::Card>"A card with a bell in the corner"</option>
                </select>
                <label for="language">"Language of the texts"</label>
                <input id="language" name="language" required value=site.widget.language.clone() placeholder="en"/>
            </div>
        </div>
    }
}

/// The two snippets, ready to copy, and a check of the worker file from this browser.
#[component]
fn Snippets(site: SiteDetail) -> impl IntoView {
    let tidings = site.tidings_origin.clone();
    let origin = site.summary.origin.clone().unwrap_or_default();
    let script = format!(
        "<script src=\"{tidings}/embed.js\" data-site=\"{}\" async></script>\n<div data-tidings></div>",
        site.summary.id
    );
    let worker = format!("importScripts(\"{tidings}/embed/sw.js\");");
    let worker_url = format!("{origin}{}", site.worker_path);
    let file_name = site.worker_path.trim_start_matches('/').to_owned();
    view! {
        <section class="card" aria-labelledby="install-heading">
            <h2 id="install-heading">"Put it on your site"</h2>
            <h3>"1. Where the widget goes"</h3>
            <p>"Paste this into the pages that should offer notifications, where the widget should appear. "
               "It loads without holding up the page. With the card style the placeholder may be left out."</p>
            <CopyBlock id="snippet-script" text=script/>
            <h3>"2. The worker file"</h3>
            <p>"Browsers deliver notifications to a service worker on the site's own address. Save this one line as "
               <code>{worker_url.clone()}</code> ":"</p>
            <CopyBlock id="snippet-worker" text=worker/>
            <p class="hint">
                "Or " <a href="/embed/sw.js" download=file_name>"download the whole worker"</a>
                " and serve it as that file (it still reports clicks to Tidings). "
                "Your site has a service worker already? Add the line at the top of it, and enter its path below "
                "(a site has one worker per scope)."
            </p>
            <WorkerCheck url=worker_url/>
        </section>
    }
}

/// A snippet with a Copy button.
#[component]
pub(super) fn CopyBlock(#[prop(into)] id: String, text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy_text = text.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = copy_text.clone();
            leptos::task::spawn_local(async move {
                copied.set(crate::browser::copy_text(&text).await.is_ok());
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &copy_text;
    };
    let described_by = id.clone();
    view! {
        <div class="snippet">
            <pre id=id><code>{text}</code></pre>
            <button class="btn small" type="button" on:click=copy aria-describedby=described_by>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

/// Fetches the site's worker file from the admin's own browser (the server never fetches
/// a site's address) and says whether it is Tidings' worker.
#[component]
fn WorkerCheck(url: String) -> impl IntoView {
    let result = RwSignal::new(None::<(bool, String)>);
    let checking = RwSignal::new(false);
    let target = url.clone();
    let check = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let url = target.clone();
            checking.set(true);
            leptos::task::spawn_local(async move {
                result.set(Some(crate::browser::check_worker_file(&url).await));
                checking.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&target, checking);
    };
    view! {
        <div class="worker-check">
            <button class="btn" type="button" on:click=check disabled=move || checking.get()>
                {move || if checking.get() { "Checking…" } else { "Check the worker file" }}
            </button>
            <span class="hint">" Fetched by this browser from " <a href=url.clone() target="_blank" rel="noopener">{url.clone()}</a></span>
            {move || result.get().map(|(ok, message)| view! {
                <p class="status" class:ok=ok class:warn=!ok role="status" data-worker-ok=ok.to_string()>{message}</p>
            })}
        </div>
    }
}

/// The secret with which the site's backend signs user ids, made (again) on request and
/// shown once.
#[component]
fn UserIds(site: SiteDetail) -> impl IntoView {
    let rotate = ServerAction::<RotateSiteSecret>::new();
    let id = site.summary.id;
    view! {
        <section class="card" aria-labelledby="users-heading">
            <h2 id="users-heading">"Your users on all their devices (optional)"</h2>
            <p>"If visitors sign in on your site, tell the widget who they are, so you can reach one person on every device. "
               "Your backend signs the id with this site's secret; Tidings stores the id only if the signature checks."</p>
            <pre class="example"><code>{"<script src=\"…/embed.js\" data-site=\"…\" data-user=\"USER_ID\"\n        data-user-signature=\"HMAC_SHA256_HEX(secret, USER_ID)\" async></script>"}</code></pre>
            <p class="hint">"Node: " <code>"crypto.createHmac('sha256', secret).update(userId).digest('hex')"</code>
                " · PHP: " <code>"hash_hmac('sha256', $userId, $secret)"</code>
                " · Python: " <code>"hmac.new(secret.encode(), user_id.encode(), 'sha256').hexdigest()"</code></p>
            <p>{if site.has_user_secret { "This site has a secret. Making a new one stops the old one at once." } else { "This site has no secret yet." }}</p>
            <ActionForm action=rotate>
                <input type="hidden" name="id" value=id.to_string()/>
                <button class="btn" type="submit">{if site.has_user_secret { "Make a new secret" } else { "Make a secret" }}</button>
            </ActionForm>
            <FormError result=rotate.value().into()/>
            {move || rotate.value().get().and_then(Result::ok).map(|secret| view! {
                <p class="status warn" role="status">"Copy it now; it is not shown again:"</p>
                <CopyBlock id="site-secret" text=secret/>
            })}
        </section>
    }
}
