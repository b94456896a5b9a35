//! The compose form: write a campaign and send it to every subscriber.

use leptos::prelude::*;

use super::pages::FormError;
use crate::campaign::{
    audience_size, NotificationPayload, SendCampaign, Ttl, Urgency, MAX_BODY_CHARS, MAX_PAYLOAD_BYTES, MAX_TITLE_CHARS,
};

#[component]
pub fn Compose(send: ServerAction<SendCampaign>) -> impl IntoView {
    let audience = Resource::new(move || send.version().get(), |_| audience_size());
    let (title, body, url, icon) =
        (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    // The same function the server uses, so the counter and the limit always agree.
    let bytes = Memo::new(move |_| NotificationPayload::size_for(&title.get(), &body.get(), &url.get(), &icon.get()));
    let too_big = move || bytes.get() > MAX_PAYLOAD_BYTES;
    let queued = move || send.value().get().and_then(Result::ok);

    view! {
        <section class="card" aria-labelledby="compose-heading">
            <h2 id="compose-heading">"New campaign"</h2>
            <ActionForm action=send attr:class="form compose">
                <label for="title">"Title" <span class="required">"required"</span></label>
                <input id="title" name="title" required maxlength=MAX_TITLE_CHARS
                    placeholder="Our spring sale starts today"
                    on:input=move |ev| title.set(event_target_value(&ev))/>
                <label for="body">"Body"</label>
                <textarea id="body" name="body" rows=3 maxlength=MAX_BODY_CHARS
                    placeholder="Everything 20% off until Sunday."
                    on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                <label for="url">"Link URL"</label>
                <input id="url" name="url" inputmode="url" placeholder="https://example.org/sale — opens on click"
                    on:input=move |ev| url.set(event_target_value(&ev))/>
                <label for="icon">"Icon URL"</label>
                <input id="icon" name="icon" inputmode="url" placeholder="https://example.org/icon-192.png"
                    on:input=move |ev| icon.set(event_target_value(&ev))/>
                <div class="row">
                    <div>
                        <label for="ttl">"TTL — keep for offline devices"</label>
                        <select id="ttl" name="ttl_secs">
                            {Ttl::PRESETS.into_iter().map(|(seconds, label)| view! {
                                <option value=seconds.to_string() selected=seconds == Ttl::DEFAULT.seconds()>{label}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div>
                        <label for="urgency">"Urgency"</label>
                        <select id="urgency" name="urgency">
                            {Urgency::ALL.into_iter().map(|u| view! {
                                <option value=u.as_str() selected=u == Urgency::Normal>{u.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                </div>
                <p class="meter" class:over=too_big aria-live="polite">
                    {move || bytes.get()} " / " {MAX_PAYLOAD_BYTES} " bytes"
                    {move || too_big().then_some(" — too long for push services; shorten the text or links")}
                </p>
                <FormError result=send.value().into()/>
                {move || queued().map(|id| view! {
                    <p class="form-ok" role="status">{format!("Campaign #{id} is queued and sending — follow it below.")}</p>
                })}
                <div class="actions">
                    <button class="btn primary" type="submit" disabled=move || send.pending().get() || too_big()>
                        {move || if send.pending().get() { "Queueing…" } else { "Send now" }}
                    </button>
                    <Suspense>
                        <span class="audience">
                            {move || audience.get().map(|n| match n {
                                Ok(0) => "Nobody has subscribed yet — share your public page first.".to_string(),
                                Ok(1) => "Will reach 1 subscriber.".to_string(),
                                Ok(n) => format!("Will reach {n} subscribers."),
                                Err(error) => error.to_string(),
                            })}
                        </span>
                    </Suspense>
                </div>
            </ActionForm>
        </section>
    }
}
