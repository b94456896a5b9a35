//! The public page: a visitor subscribes to (or leaves) this site's notifications.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::subscription::api::vapid_public_key;
use crate::topic::api::list_topics;
use crate::topic::TopicChoice;

/// Every state the subscribe widget can be in; each shows an honest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushState {
    Checking,
    Unsupported,
    /// iPhone or iPad in a browser tab: push works only once the site is on the Home Screen.
    NeedsHomeScreen,
    NotAsked,
    Denied,
    Subscribed,
    Working(&'static str),
    Failed(String),
}

const HEADING: &str = "Hear from us first";
const LEAD: &str =
    "Get our news as a notification on this device — no e-mail address, no account. You can turn it off at any time.";
const SUBSCRIBE: &str = "Subscribe to notifications";

#[component]
pub fn HomePage() -> impl IntoView {
    let state = RwSignal::new(PushState::Checking);
    let key = OnceResource::new(vapid_public_key());
    let topics = OnceResource::new(list_topics());
    // The topics ticked: all of them until a subscribed browser's own choice is loaded.
    let chosen = RwSignal::new(None::<Vec<i64>>);

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| leptos::task::spawn_local(client::detect(state, chosen)));

    view! {
        <Title text="Notifications"/>
        <section class="card hero">
            <p class="eyebrow">"Notifications"</p>
            <h1>{HEADING}</h1>
            <p class="lead">{LEAD}</p>
            <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || key.get().zip(topics.get()).map(|(key, topics)| match key {
                    Ok(key) => view! { <SubscribeWidget state key topics=topics.unwrap_or_default() chosen/> }.into_any(),
                    Err(error) => view! {
                        <p class="status error" role="alert">"This server is not ready to send notifications: " {error.to_string()}</p>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SubscribeWidget(
    state: RwSignal<PushState>,
    key: String,
    topics: Vec<TopicChoice>,
    chosen: RwSignal<Option<Vec<i64>>>,
) -> impl IntoView {
    let key = StoredValue::new(key);
    let all: Vec<i64> = topics.iter().map(|t| t.id).collect();
    let ticked = Memo::new(move |_| chosen.get().unwrap_or_else(|| all.clone()));
    let topics = StoredValue::new(topics);
    let saved = RwSignal::new(None::<Result<(), String>>);
    let on_subscribe = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(client::subscribe(state, key.get_value(), ticked.get_untracked()));
        #[cfg(not(feature = "hydrate"))]
        let _ = key;
    };
    let on_save_topics = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(client::save_topics(ticked.get_untracked(), saved));
    };
    let has_topics = !topics.get_value().is_empty();
    let choices = move || view! { <TopicChoices topics=topics.get_value() ticked chosen saved/> };
    let on_unsubscribe = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(client::unsubscribe(state));
    };

    view! {
        <div class="subscribe" aria-live="polite" data-state=move || state_name(&state.get())>
            {move || match state.get() {
                PushState::Checking => view! {
                    <p class="status">"Checking what this browser supports…"</p>
                }.into_any(),
                PushState::Unsupported => view! { <Unsupported/> }.into_any(),
                PushState::NeedsHomeScreen => view! { <HomeScreenSteps/> }.into_any(),
                PushState::NotAsked => view! {
                    {choices()}
                    <button class="btn primary" on:click=on_subscribe>{SUBSCRIBE}</button>
                    <p class="hint">"Your browser will ask whether this site may show notifications."</p>
                }.into_any(),
                PushState::Denied => view! { <Blocked/> }.into_any(),
                PushState::Subscribed => view! {
                    <p class="status ok">"You are subscribed. Notifications arrive even when this page is closed."</p>
                    {has_topics.then(|| view! {
                        {choices()}
                        <button class="btn primary save-topics" on:click=on_save_topics>"Save my topics"</button>
                        {move || saved.get().map(|result| match result {
                            Ok(()) => view! { <p class="status ok topics-saved" role="status">"Your topics are saved."</p> }.into_any(),
                            Err(error) => view! { <p class="status error" role="alert">"Could not save your topics: " {error}</p> }.into_any(),
                        })}
                    })}
                    <button class="btn" on:click=on_unsubscribe>"Unsubscribe"</button>
                }.into_any(),
                PushState::Working(what) => view! {
                    <p class="status"><span class="spinner" aria-hidden="true"></span>{what}</p>
                    <button class="btn primary" disabled>"Please wait…"</button>
                }.into_any(),
                PushState::Failed(error) => view! {
                    <p class="status error" role="alert">"That did not work: " {error}</p>
                    <button class="btn primary" on:click=on_subscribe>"Try again"</button>
                }.into_any(),
            }}
        </div>
    }
}

/// The topic checkboxes, before subscribing and (to change them) after. Unticking or
/// ticking one starts a new, unsaved choice.
#[component]
fn TopicChoices(
    topics: Vec<TopicChoice>,
    ticked: Memo<Vec<i64>>,
    chosen: RwSignal<Option<Vec<i64>>>,
    saved: RwSignal<Option<Result<(), String>>>,
) -> impl IntoView {
    let toggle = move |id: i64, on: bool| {
        let mut ids: Vec<i64> = ticked.get_untracked().into_iter().filter(|t| *t != id).collect();
        if on {
            ids.push(id);
        }
        chosen.set(Some(ids));
        saved.set(None);
    };
    (!topics.is_empty()).then(|| view! {
        <fieldset class="topic-choices">
            <legend>"What would you like to hear about?"</legend>
            <div class="choices">
                {topics.into_iter().map(|t| { let id = t.id; view! {
                    <label class="check">
                        <input type="checkbox" name="topic" value=id.to_string() prop:checked=move || ticked.get().contains(&id)
                            on:change=move |ev| toggle(id, event_target_checked(&ev))/>
                        " " {t.name}
                    </label>
                }}).collect_view()}
            </div>
        </fieldset>
    })
}

#[component]
fn Unsupported() -> impl IntoView {
    view! {
        <p class="status warn">
            "This browser cannot receive web notifications. Try a current Chrome, Edge, Firefox or Safari "
            "(on iPhone and iPad: iOS 16.4 or later)."
        </p>
    }
}

/// iOS offers push only to web apps on the Home Screen: how to get there.
#[component]
fn HomeScreenSteps() -> impl IntoView {
    view! {
        <div class="status warn home-screen">
            <p><strong>"On iPhone and iPad, notifications need this site on your Home Screen."</strong></p>
            <ol>
                <li>"Tap " <strong>"Share"</strong> " (the square with an arrow) in Safari."</li>
                <li>"Choose " <strong>"Add to Home Screen"</strong> "."</li>
                <li>"Open Tidings from your Home Screen and tap " <strong>"Subscribe"</strong> " there."</li>
            </ol>
            <p class="hint">"This needs iOS or iPadOS 16.4 or later."</p>
        </div>
    }
}

/// The visitor said no once; only they can undo it, in the browser's settings.
#[component]
fn Blocked() -> impl IntoView {
    view! {
        <p class="status warn">
            <strong>"Notifications are blocked for this site. "</strong>
            "To allow them, open the site settings (the icon left of the address bar), set Notifications to Allow, then reload this page."
        </p>
    }
}

/// A stable name per state, for styling and for tests.
fn state_name(state: &PushState) -> &'static str {
    match state {
        PushState::Checking => "checking",
        PushState::Unsupported => "unsupported",
        PushState::NeedsHomeScreen => "add-to-home-screen",
        PushState::NotAsked => "not-asked",
        PushState::Denied => "denied",
        PushState::Subscribed => "subscribed",
        PushState::Working(_) => "working",
        PushState::Failed(_) => "error",
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;

    use super::PushState;
    use crate::browser::{self, BrowserError, Permission};
    use crate::ids::ids_text;
    use crate::subscription::api::{
        resubscribe, subscribe as save_subscription, unsubscribe as forget_subscription, vapid_public_key,
    };
    use crate::topic::api::{choose_topics, my_topics};

    /// Works out the true state on load. A browser that is subscribed re-sends its
    /// subscription, so the server heals if it lost the row (the call is idempotent).
    pub async fn detect(state: RwSignal<PushState>, chosen: RwSignal<Option<Vec<i64>>>) {
        // iOS offers push only to installed web apps: in a tab, a button could not work.
        if browser::is_ios() && !browser::is_installed_app() {
            return state.set(PushState::NeedsHomeScreen);
        }
        if !browser::push_supported() {
            return state.set(PushState::Unsupported);
        }
        let next = match browser::permission() {
            Permission::Denied => PushState::Denied,
            Permission::NotAsked => PushState::NotAsked,
            Permission::Granted => match browser::current_subscription().await {
                Ok(Some(sub)) => match keep_current(sub).await {
                    Ok(endpoint) => {
                        if let Ok(topics) = my_topics(endpoint).await {
                            chosen.set(Some(topics));
                        }
                        PushState::Subscribed
                    }
                    Err(error) => PushState::Failed(error),
                },
                Ok(None) => PushState::NotAsked,
                Err(error) => PushState::Failed(error),
            },
        };
        state.set(next);
    }

    /// Re-sends a subscription this browser has (no topics: the choice stays as it is on
    /// the server). If it was made with a key the server has rotated away from, moves it
    /// to the current key first, silently (topics and site are kept). Returns the endpoint.
    async fn keep_current(sub: browser::BrowserSubscription) -> Result<String, String> {
        let current = vapid_public_key().await.map_err(|e| e.to_string())?;
        let Some(old_key) = sub.server_key.clone().filter(|key| *key != current) else {
            let key = sub.server_key.unwrap_or_default();
            save_subscription(sub.endpoint.clone(), sub.keys.p256dh, sub.keys.auth, None, key, Default::default())
                .await
                .map_err(|e| e.to_string())?;
            return Ok(sub.endpoint);
        };
        leptos::logging::log!("Tidings: moving this subscription from key {old_key} to {current}");
        browser::unsubscribe().await?;
        let fresh = browser::subscribe(&current).await.map_err(|e| e.to_string())?;
        let endpoint = fresh.endpoint.clone();
        resubscribe(sub.endpoint, fresh.endpoint, fresh.keys.p256dh, fresh.keys.auth, current)
            .await
            .map_err(|e| e.to_string())?;
        Ok(endpoint)
    }

    pub async fn subscribe(state: RwSignal<PushState>, key: String, topics: Vec<i64>) {
        state.set(PushState::Working("Waiting for your permission…"));
        let result = async {
            let sub = browser::subscribe(&key).await?;
            state.set(PushState::Working("Saving your subscription…"));
            // What the visitor read next to the button, for the consent receipt.
            let consent = browser::consent(&format!("{} {} [{}]", super::HEADING, super::LEAD, super::SUBSCRIBE));
            save_subscription(sub.endpoint, sub.keys.p256dh, sub.keys.auth, Some(ids_text(topics)), key, consent)
                .await
                .map_err(|e| BrowserError::Failed(e.to_string()))
        }
        .await;
        state.set(match result {
            Ok(()) => PushState::Subscribed,
            Err(BrowserError::PermissionRefused) => match browser::permission() {
                Permission::Denied => PushState::Denied,
                // The prompt was dismissed without an answer: offer the button again.
                _ => PushState::NotAsked,
            },
            Err(error) => PushState::Failed(error.to_string()),
        });
    }

    /// Saves the ticked topics for this browser's subscription.
    pub async fn save_topics(topics: Vec<i64>, saved: RwSignal<Option<Result<(), String>>>) {
        let result = match browser::current_subscription().await {
            Ok(Some(sub)) => choose_topics(sub.endpoint, ids_text(topics)).await.map_err(|e| e.to_string()),
            Ok(None) => Err("this browser is no longer subscribed; reload the page.".into()),
            Err(error) => Err(error),
        };
        saved.set(Some(result));
    }

    pub async fn unsubscribe(state: RwSignal<PushState>) {
        state.set(PushState::Working("Unsubscribing…"));
        let result = async {
            if let Some(endpoint) = browser::unsubscribe().await? {
                forget_subscription(endpoint).await.map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        }
        .await;
        state.set(match result {
            Ok(()) => PushState::NotAsked,
            Err(error) => PushState::Failed(error),
        });
    }
}
