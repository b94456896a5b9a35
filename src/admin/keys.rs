//! The keys page: the VAPID key pairs, how many subscribers each signs for, bringing a key
//! from another tool, and rotating to a new one without losing anyone.

use leptos::prelude::*;
use leptos_meta::Title;

use super::frame::{FormError, SignedIn};
use crate::keys::api::{list_keys, GenerateKey, ImportKey, MakeKeyCurrent, RetireKey};
use crate::keys::{KeyState, KeySummary, MAX_KEY_LABEL_CHARS};

#[component]
pub fn KeysPage() -> impl IntoView {
    view! {
        <Title text="Keys"/>
        <SignedIn>
            <Keys/>
        </SignedIn>
    }
}

#[component]
fn Keys() -> impl IntoView {
    let import = ServerAction::<ImportKey>::new();
    let generate = ServerAction::<GenerateKey>::new();
    let current = ServerAction::<MakeKeyCurrent>::new();
    let retire = ServerAction::<RetireKey>::new();
    let keys = Resource::new(
        move || (import.version().get(), generate.version().get(), current.version().get(), retire.version().get()),
        |_| list_keys(),
    );
    view! {
        <h1>"Keys"</h1>
        <p class="lead">
            "Browsers subscribe with Tidings' public VAPID key, and every push to them must be signed with the matching private key. "
            "New subscribers get the " <strong>"current"</strong> " key; older keys keep signing for the subscribers made with them, "
            "who move to the current key by themselves the next time they open your pages."
        </p>
        <section class="card" aria-labelledby="keys-heading">
            <h2 id="keys-heading">"Key pairs"</h2>
            <FormError result=current.value().into()/>
            <FormError result=retire.value().into()/>
            <Transition fallback=|| view! { <p class="status">"Loading keys…"</p> }>
                {move || keys.get().map(|list| match list {
                    Ok(list) => {
                        let total: i64 = list.iter().map(|k| k.subscribers).sum();
                        view! {
                            <ul class="key-list">
                                {list.into_iter().map(|key| view! { <KeyRow key total current retire/> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
        <section class="card" aria-labelledby="rotate-heading">
            <h2 id="rotate-heading">"Rotate to a new key"</h2>
            <p>"Make a new key, then make it current. Nobody is lost: the old key keeps signing until its subscribers have moved over; retire it then."</p>
            <ActionForm action=generate attr:class="form inline-form">
                <label for="new-key-label">"Label"</label>
                <div class="inline-row">
                    <input id="new-key-label" name="label" required maxlength=MAX_KEY_LABEL_CHARS placeholder="2027 key"/>
                    <button class="btn primary" type="submit">"Make a new key"</button>
                </div>
                <FormError result=generate.value().into()/>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="import-key-heading">
            <h2 id="import-key-heading">"Bring a key from another tool"</h2>
            <p>"Subscriptions exported from another service were made with its key: import that key pair first, then the subscriptions. "
               "Paste the private key as PEM (" <code>"BEGIN PRIVATE KEY"</code> " or " <code>"BEGIN EC PRIVATE KEY"</code>
               ") or as the base64url text web-push libraries print. The public key is shown after import: compare it with the old tool's."</p>
            <ActionForm action=import attr:class="form">
                <label for="import-key-label">"Label"</label>
                <input id="import-key-label" name="label" required maxlength=MAX_KEY_LABEL_CHARS placeholder="From our old service"/>
                <label for="import-key">"Private key"</label>
                <textarea id="import-key" name="key" rows="5" required spellcheck="false" autocomplete="off"></textarea>
                <button class="btn primary" type="submit" disabled=move || import.pending().get()>"Import key"</button>
                <FormError result=import.value().into()/>
                {move || import.value().get().and_then(Result::ok).map(|_| view! {
                    <p class="form-ok" role="status">"Key imported. It signs for subscriptions imported with it; make it current to give it to new subscribers too."</p>
                })}
            </ActionForm>
        </section>
    }
}

#[component]
fn KeyRow(
    key: KeySummary,
    total: i64,
    current: ServerAction<MakeKeyCurrent>,
    retire: ServerAction<RetireKey>,
) -> impl IntoView {
    let share = (total > 0).then(|| key.subscribers * 100 / total);
    let subscribers = match (key.subscribers, share) {
        // Share of all subscribers: how far a rotation has got.
        (1, Some(share)) => format!("1 subscriber ({share}%)"),
        (n, Some(share)) => format!("{n} subscribers ({share}%)"),
        (n, None) => format!("{n} subscribers"),
    };
    let (current_id, retire_id) = (key.id.to_string(), key.id.to_string());
    let in_use = key.subscribers > 0;
    view! {
        <li class="key" data-key=key.id data-state=key.state.as_str()>
            <div class="key-name">
                <strong>{key.label.clone()}</strong>
                " " <span class=format!("badge key-{}", key.state.as_str())>{key.state.as_str()}</span>
                <code class="public-key" title="Public key (applicationServerKey)">{key.public_key.clone()}</code>
            </div>
            <span class="topic-count">{subscribers}</span>
            {(key.state == KeyState::Signing).then(move || view! {
                <div class="key-actions">
                    <ActionForm action=current>
                        <input type="hidden" name="id" value=current_id/>
                        <button class="btn small" type="submit">"Make current"</button>
                    </ActionForm>
                    <ActionForm action=retire attr:class="retire">
                        <input type="hidden" name="id" value=retire_id/>
                        // Subscribers still on it would be lost: only with a tick.
                        {in_use.then(|| view! {
                            <label class="check">
                                <input type="checkbox" name="anyway" value="true" required/>
                                {match key.subscribers {
                                    1 => " Lose its 1 subscriber".to_string(),
                                    n => format!(" Lose its {n} subscribers"),
                                }}
                            </label>
                        })}
                        <button class="btn small" class:danger=in_use type="submit">
                            {if in_use { "Retire anyway" } else { "Retire" }}
                        </button>
                    </ActionForm>
                </div>
            })}
        </li>
    }
}
