//! The compose form: write a campaign, see it as recipients will, and send it now, at a
//! time, or keep it as a draft. The same form edits a draft or a scheduled campaign.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::auth::SignInState;
use crate::campaign::ab::{letter, VariantForm, MAX_EXTRA_VARIANTS};
use crate::campaign::api::{audience_size, SendCampaign, NOBODY_TO_REACH};
use crate::campaign::languages::{TranslationForm, MAX_TRANSLATIONS};
use crate::campaign::{
    ComposeForm, NotificationPayload, Ttl, Urgency, MAX_ACTION_LABEL_CHARS, MAX_BODY_CHARS, MAX_PAYLOAD_BYTES,
    MAX_TITLE_CHARS,
};
use crate::error::AppError;
use crate::ids::{parse_ids, toggle_id};
use crate::site::api::list_sites;
use crate::site::SiteSummary;
use crate::template::api::SaveTemplate;
use crate::template::MAX_TEMPLATE_NAME_CHARS;
use crate::topic::api::admin_topics;
use crate::topic::Topic;

/// A draft or scheduled campaign opened for editing.
#[derive(Debug, Clone)]
pub struct Editing {
    pub id: i64,
    pub form: ComposeForm,
    /// Its time as a `datetime-local` value, if it is scheduled.
    /// Delivered at that time in each subscriber's own zone (`send_at` is that wall-clock
    /// time).
    pub local: bool,
    pub send_at: Option<String>,
}

/// A template a new campaign starts from: its content fills the form, and the form can
/// save changes back to it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FromTemplate {
    pub id: i64,
    pub name: String,
    pub form: ComposeForm,
}

#[component]
pub fn Compose(
    send: ServerAction<SendCampaign>,
    #[prop(optional)] editing: Option<Editing>,
    #[prop(optional)] template: Option<FromTemplate>,
) -> impl IntoView {
    let editing_id = editing.as_ref().map(|e| e.id);
    // A campaign started from a template has a page of its own, with no list below it.
    let own_page = editing_id.is_some() || template.is_some();
    let initial =
        editing.as_ref().map(|e| e.form.clone()).or_else(|| template.as_ref().map(|t| t.form.clone())).unwrap_or_else(
            || ComposeForm {
                ttl_secs: Ttl::DEFAULT.seconds().to_string(),
                urgency: Urgency::Normal.as_str().to_owned(),
                ..ComposeForm::default()
            },
        );
    let first = initial.clone();
    // What "empty again" means after a send: the form as this page first showed it.
    let start = StoredValue::new(initial.clone());
    let initial_send_at = editing.as_ref().and_then(|e| e.send_at.clone()).unwrap_or_default();
    // Mirrors the inputs as typed; the form itself still posts its fields.
    let form = RwSignal::new(initial);
    let audience = Resource::new(
        move || (send.version().get(), form.with(|f| (f.audience.clone(), f.sites.clone()))),
        |(_, (audience, sites))| audience_size(audience, sites),
    );
    let later = RwSignal::new(!initial_send_at.is_empty());
    let local = RwSignal::new(editing.as_ref().is_some_and(|e| e.local));
    let saving_draft = RwSignal::new(false);
    let zone = use_context::<SignInState>().and_then(|s| s.time_zone).unwrap_or_else(|| "UTC".into());
    let send_at_label = format!("Send at ({zone} time)");
    // A sent campaign is followed in the list below; a draft, a schedule or an edit opens
    // the campaign's page, and so does whatever an editor sends: it may wait for approval.
    let owner = use_context::<SignInState>().and_then(|s| s.role) == Some(crate::admin::role::Role::Owner);
    let navigate = use_navigate();
    let form_element = NodeRef::<leptos::html::Form>::new();
    // "Send now" asks once more, naming how many it reaches; any change to the campaign,
    // its audience or its timing asks again.
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        form.track();
        later.track();
        confirming.set(false);
    });
    Effect::new(move |_| {
        if let Some(Ok(id)) = send.value().get() {
            if own_page || saving_draft.get_untracked() || later.get_untracked() || !owner {
                navigate(&format!("/admin/campaigns/{id}"), Default::default());
            } else {
                // Sent, and followed in the list below: an empty form, so that a second
                // click cannot send the same campaign twice.
                if let Some(element) = form_element.get_untracked() {
                    element.reset();
                }
                form.set(start.get_value());
            }
        }
    });
    let nobody = move || matches!(audience.get(), Some(Ok(0)));
    let confirm_text = move || match audience.get() {
        Some(Ok(0)) => NOBODY_TO_REACH.to_owned(),
        Some(Ok(1)) => "Send to 1 subscriber now?".to_owned(),
        Some(Ok(n)) => format!("Send to {} subscribers now?", grouped(n)),
        _ => "Send it now?".to_owned(),
    };
    let ask_first = move |ev: leptos::ev::MouseEvent| {
        // Fields the browser finds invalid are shown by the browser first.
        let valid = form_element.get_untracked().is_none_or(|element| element.check_validity());
        if !later.get_untracked() && valid {
            ev.prevent_default();
            // Counted again: the figure on the page may be minutes old.
            audience.refetch();
            confirming.set(true);
        }
    };
    let (testing, test_result) = (RwSignal::new(false), RwSignal::new(None::<Result<String, String>>));
    // The test goes to the subscription of the browser the admin is using, which only the
    // browser knows.
    let send_test_here = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            testing.set(true);
            let result = match crate::browser::current_subscription_endpoint().await {
                Ok(Some(endpoint)) => {
                    crate::campaign::api::send_test(endpoint, form.get_untracked()).await.map_err(|e| e.to_string())
                }
                Ok(None) => {
                    Err("This browser is not subscribed yet: open the public page, subscribe, then try again.".into())
                }
                Err(error) => Err(format!("Could not read this browser's subscription: {error}")),
            };
            test_result.set(Some(result));
            testing.set(false);
        });
    };
    let payload = Memo::new(move |_| form.with(ComposeForm::payload));
    // The same function the server uses, so the counter and the limit always agree.
    let bytes = Memo::new(move |_| payload.with(NotificationPayload::sent_size));
    let too_big = move || bytes.get() > MAX_PAYLOAD_BYTES;
    let queued = move || {
        send.value().get().and_then(Result::ok).filter(|_| owner && !own_page && !later.get() && !saving_draft.get())
    };
    let error: Signal<Option<AppError>> = Signal::derive(move || send.value().get().and_then(Result::err));

    view! {
        <section class="card" aria-labelledby="compose-heading">
            <h2 id="compose-heading">{if editing_id.is_some() { "Edit campaign" } else { "New campaign" }}</h2>
            <div class="compose-grid">
            <ActionForm action=send node_ref=form_element attr:class="form compose">
                <ContentFields form initial=first.clone() error/>
                <DeliveryOptions form initial=first.clone() error/>
                <AbFields form initial=first.clone() error/>
                <LanguageFields form initial=first error/>
                <AudienceFields form/>
                <WhenFields later local label=send_at_label initial=initial_send_at error/>
                {editing_id.map(|id| view! { <input type="hidden" name="campaign_id" value=id.to_string()/> })}
                <p class="meter" class:over=too_big aria-live="polite">
                    {move || bytes.get()} " / " {MAX_PAYLOAD_BYTES} " bytes"
                    {move || too_big().then_some(" — too long for push services; shorten the text or links")}
                </p>
                // Errors about one field show under it; the rest here.
                {move || error.get().filter(|e| e.field_name().is_none()).map(|e| view! {
                    <p class="form-error" role="alert">{e.to_string()}</p>
                })}
                {move || test_result.get().map(|result| match result {
                    Ok(message) => view! { <p class="form-ok test-result" role="status">{message}</p> }.into_any(),
                    Err(message) => view! { <p class="form-error test-result" role="alert">{message}</p> }.into_any(),
                })}
                {move || queued().map(|id| view! {
                    <p class="form-ok" role="status">{format!("Campaign #{id} is queued and sending — follow it below.")}</p>
                })}
                <Show when=move || confirming.get()>
                    <div class="actions confirm-send" role="group" aria-labelledby="confirm-send-question">
                        <p id="confirm-send-question" class="confirm-question" role=move || nobody().then_some("alert")>
                            {confirm_text}
                        </p>
                        <Show when=move || !nobody()>
                            <button class="btn primary" type="submit" name="intent" value="send"
                                on:click=move |_| saving_draft.set(false) disabled=move || send.pending().get()>
                                {move || if send.pending().get() { "Sending…" } else { "Yes, send now" }}
                            </button>
                        </Show>
                        <button class="btn" type="button" on:click=move |_| confirming.set(false)>
                            {move || if nobody() { "Back" } else { "Cancel" }}
                        </button>
                    </div>
                </Show>
                <div class="actions" hidden=move || confirming.get()>
                    <button class="btn primary" type="submit" name="intent" value="send"
                        on:click=move |ev| { saving_draft.set(false); ask_first(ev); }
                        disabled=move || send.pending().get() || too_big()>
                        {move || match (send.pending().get(), later.get()) {
                            (true, _) => "Saving…",
                            (false, true) => "Schedule",
                            (false, false) => "Send now",
                        }}
                    </button>
                    <button class="btn" type="submit" name="intent" value="draft" formnovalidate=true
                        on:click=move |_| saving_draft.set(true) disabled=move || send.pending().get()>
                        "Save draft"
                    </button>
                    <button class="btn" type="button" on:click=send_test_here disabled=move || testing.get() || too_big()>
                        {move || if testing.get() { "Sending test…" } else { "Send a test to this browser" }}
                    </button>
                    <Suspense>
                        <span class="audience">
                            {move || audience.get().map(|n| match n {
                                Ok(0) if form.with(|f| f.audience.is_empty() && f.sites.is_empty()) => "Nobody has subscribed yet — share your public page first.".to_string(),
                                Ok(0) => "Nobody has chosen these topics yet.".to_string(),
                                Ok(1) => "Will reach 1 subscriber.".to_string(),
                                Ok(n) => format!("Will reach {n} subscribers."),
                                Err(error) => error.to_string(),
                            })}
                        </span>
                    </Suspense>
                </div>
            </ActionForm>
            <div class="previews">
                <Show when=move || form.with(|f| !f.variants.is_empty())>
                    <p class="preview-variant">"Variant A"</p>
                </Show>
                // With languages, the preview shows the one chosen below it instead.
                <Show when=move || form.with(|f| !f.variants.is_empty() || f.translations.is_empty())>
                    <Preview payload=payload.into()/>
                </Show>
                <VariantPreviews form/>
            </div>
            </div>
            <SaveAsTemplate form template/>
        </section>
    }
}

/// "Save as template": the form's content (not its audience) under a name, as a new
/// template or, when the campaign started from one, over it.
#[component]
fn SaveAsTemplate(form: RwSignal<ComposeForm>, template: Option<FromTemplate>) -> impl IntoView {
    let save = ServerAction::<SaveTemplate>::new();
    let from = template.as_ref().map(|t| (t.id, t.name.clone()));
    let name = RwSignal::new(from.as_ref().map(|(_, name)| name.clone()).unwrap_or_default());
    let dispatch = move |id: Option<i64>| {
        save.dispatch(SaveTemplate {
            template_name: name.get_untracked(),
            form: form.get_untracked(),
            template_id: id.map(|id| id.to_string()).unwrap_or_default(),
        });
    };
    let error: Signal<Option<AppError>> = Signal::derive(move || save.value().get().and_then(Result::err));
    view! {
        <details class="template-save" open=from.is_some()>
            <summary>"Save as template"</summary>
            <div class="form">
                <Field id="template_name" label="Template name" error>
                    <input id="template_name" maxlength=MAX_TEMPLATE_NAME_CHARS placeholder="Weekly digest"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </Field>
                <div class="actions">
                    {from.clone().map(|(id, old_name)| view! {
                        <button class="btn" type="button" disabled=move || save.pending().get()
                            on:click=move |_| dispatch(Some(id))>{format!("Update “{old_name}”")}</button>
                    })}
                    <button class="btn" type="button" disabled=move || save.pending().get()
                        on:click=move |_| dispatch(None)>"Save as new template"</button>
                    <a href="/admin/templates">"All templates"</a>
                </div>
                {move || error.get().filter(|e| e.field_name().is_none_or(|f| f != "template_name")).map(|e| view! {
                    <p class="form-error" role="alert">{e.to_string()}</p>
                })}
                {move || save.value().get().and_then(Result::ok).map(|_| view! {
                    <p class="form-ok" role="status">{move || format!("Saved as template “{}”.", name.get_untracked())}</p>
                })}
            </div>
        </details>
    }
}

/// 12345 → "12,345": an audience's size as people read it.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Set by an input: what it writes into the mirrored form as the admin types.
fn on_text(form: RwSignal<ComposeForm>, set: fn(&mut ComposeForm, String)) -> impl Fn(leptos::ev::Event) {
    move |ev| {
        let value = event_target_value(&ev);
        form.update(|f| set(f, value));
    }
}

/// Title, body and link: what every campaign needs.
#[component]
fn ContentFields(form: RwSignal<ComposeForm>, initial: ComposeForm, error: Signal<Option<AppError>>) -> impl IntoView {
    let text = move |set| on_text(form, set);
    view! {
        <Field id="title" label="Title" error required=true>
            <input id="title" name="title" required maxlength=MAX_TITLE_CHARS value=initial.title
                placeholder="Our spring sale starts today" on:input=text(|f, v| f.title = v)/>
        </Field>
        <Field id="body" label="Body" error>
            <textarea id="body" name="body" rows=3 maxlength=MAX_BODY_CHARS
                placeholder="Everything 20% off until Sunday." on:input=text(|f, v| f.body = v)>{textarea_text(initial.body)}</textarea>
        </Field>
        <Field id="url" label="Link URL" error>
            <input id="url" name="url" inputmode="url" value=initial.url placeholder="https://example.org/sale — opens on click"
                on:input=text(|f, v| f.url = v)/>
        </Field>
    }
}

/// Under "Images, buttons and delivery options": everything a campaign may leave as it is.
#[component]
fn DeliveryOptions(
    form: RwSignal<ComposeForm>,
    initial: ComposeForm,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let text = move |set| on_text(form, set);
    // Each input's first value, taken apart because each view closure owns what it uses.
    let buttons = initial.clone();
    let ComposeForm {
        icon, image, badge, topic, ttl_secs: initial_ttl, urgency: initial_urgency, max_per_minute, ..
    } = initial.clone();
    view! {
        <details class="more">
            <summary>"Images, buttons and delivery options"</summary>
            <Field id="icon" label="Icon URL" error>
                <input id="icon" name="icon" inputmode="url" value=icon placeholder="https://example.org/icon-192.png"
                    on:input=text(|f, v| f.icon = v)/>
            </Field>
            <Field id="image" label="Image URL — a large picture (not shown by every browser)" error>
                <input id="image" name="image" inputmode="url" value=image placeholder="https://example.org/banner.jpg"
                    on:input=text(|f, v| f.image = v)/>
            </Field>
            <Field id="badge" label="Badge URL — small monochrome icon for Android's status bar" error>
                <input id="badge" name="badge" inputmode="url" value=badge placeholder="https://example.org/badge-72.png"
                    on:input=text(|f, v| f.badge = v)/>
            </Field>
            <fieldset class="buttons">
                <legend>"Buttons (optional, up to two)"</legend>
                <ButtonFields button=BUTTONS[0] form initial=buttons.clone() error/>
                <ButtonFields button=BUTTONS[1] form initial=buttons error/>
            </fieldset>
            <label class="check">
                <input type="checkbox" name="require_interaction" checked=initial.require_interaction
                    on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| f.require_interaction = on) }/>
                " Keep it on screen until the recipient acts (desktop browsers)"
            </label>
            <label class="check">
                <input type="checkbox" name="silent" checked=initial.options.silent
                    on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| f.options.silent = on) }/>
                " Silent: no sound or vibration"
            </label>
            <Field id="topic" label="Collapse topic — a newer campaign with the same topic replaces this one" error>
                <input id="topic" name="topic" maxlength=32 value=topic pattern="[A-Za-z0-9_-]*" placeholder="daily-deal"
                    on:input=text(|f, v| f.topic = v)/>
            </Field>
            <div class="row">
                <Field id="ttl" label="Keep for offline devices (TTL)" error>
                    <select id="ttl" name="ttl_secs" on:change=text(|f, v| f.ttl_secs = v)>
                        {Ttl::PRESETS.into_iter().map(|(seconds, label)| view! {
                            <option value=seconds.to_string() selected=seconds.to_string() == initial_ttl>{label}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <Field id="urgency" label="Urgency" error>
                    <select id="urgency" name="urgency" on:change=text(|f, v| f.urgency = v)>
                        {Urgency::ALL.into_iter().map(|u| view! {
                            <option value=u.as_str() selected=u.as_str() == initial_urgency>{u.label()}</option>
                        }).collect_view()}
                    </select>
                </Field>
            </div>
            <Field id="max_per_minute"
                label="Send rate — at most this many pushes a minute, so clicks do not all arrive at once (empty: no limit)" error>
                <input id="max_per_minute" name="max_per_minute" inputmode="numeric" value=max_per_minute placeholder="e.g. 5000"
                    on:input=text(|f, v| f.max_per_minute = v)/>
            </Field>
        </details>
    }
}

/// Under "A/B test": variants B to D of the content, and how the test runs. The variants
/// are kept in the mirrored form and posted as one JSON field.
#[component]
fn AbFields(form: RwSignal<ComposeForm>, initial: ComposeForm, error: Signal<Option<AppError>>) -> impl IntoView {
    // Only a change in the number of variants redraws their fields (not every keystroke).
    let count = Memo::new(move |_| form.with(|f| f.variants.len()));
    let add = move |_| {
        form.update(|f| {
            if f.variants.len() < MAX_EXTRA_VARIANTS {
                // A copy of A to change: most tests change one thing.
                let a = own_content(f);
                f.variants.push(a);
            }
        })
    };
    let test_percent = Some(initial.ab_test_percent.clone()).filter(|p| !p.is_empty()).unwrap_or_else(|| "100".into());
    let mut shares = vec!["100", "5", "10", "20", "30", "50"];
    if !shares.contains(&test_percent.as_str()) {
        shares.push(test_percent.as_str());
    }
    let shares: Vec<(String, String)> = shares
        .into_iter()
        .map(|p| {
            let label = if p == "100" {
                "Everyone, split evenly".to_owned()
            } else {
                format!("{p} % first, then the winner to the rest")
            };
            (p.to_owned(), label)
        })
        .collect();
    let tested_first = RwSignal::new(test_percent != "100");
    // Read by the test settings each time they are drawn.
    let (shares, test_percent) = (StoredValue::new(shares), StoredValue::new(test_percent));
    let wait = StoredValue::new(
        Some(initial.ab_wait_minutes.clone()).filter(|w| !w.is_empty()).unwrap_or_else(|| "60".into()),
    );
    let waits = [
        ("30", "30 minutes"),
        ("60", "1 hour"),
        ("120", "2 hours"),
        ("240", "4 hours"),
        ("480", "8 hours"),
        ("1440", "24 hours"),
    ];
    let manual = initial.ab_pick == "manual";
    let holdout = StoredValue::new(initial.ab_holdout_percent.clone());
    view! {
        <details class="more ab-test" open=!initial.variants.is_empty()>
            <summary>"A/B test"</summary>
            <p class="hint">
                "Try up to four versions of the title, text, link, image and buttons. Each subscriber gets one "
                "(always the same one), and the campaign's page compares their click-through rates. "
                "The fields above are variant A."
            </p>
            <input type="hidden" name="variants"
                prop:value=move || form.with(|f| if f.variants.is_empty() { String::new() } else { serde_json::to_string(&f.variants).unwrap_or_default() })/>
            {move || (1..=count.get()).map(|index| view! { <VariantFields form kind=Alternative::Variant index/> }).collect_view()}
            {move || error.get().filter(|e| e.field_name() == Some("variants")).map(|e| view! {
                <p class="field-error" role="alert">{e.to_string()}</p>
            })}
            <p class="hint" hidden=move || form.with(|f| f.translations.is_empty())>
                "A campaign is either an A/B test or in several languages: remove its languages to test variants."
            </p>
            <button class="btn" type="button" on:click=add
                hidden=move || { count.get() >= MAX_EXTRA_VARIANTS || form.with(|f| !f.translations.is_empty()) }>
                {move || format!("Add variant {}", letter(count.get() + 1))}
            </button>
            <Show when=move || { count.get() > 0 }>
                <div class="row">
                    <Field id="ab_test_percent" label="Who gets the test" error>
                        <select id="ab_test_percent" name="ab_test_percent"
                            on:change=move |ev| tested_first.set(event_target_value(&ev) != "100")>
                            {shares.get_value().into_iter().map(|(value, label)| {
                                let selected = value == test_percent.get_value();
                                view! { <option value=value selected=selected>{label}</option> }
                            }).collect_view()}
                        </select>
                    </Field>
                    <Field id="ab_holdout_percent" label="Hold-out: % who receive nothing (the baseline)" error>
                        <input id="ab_holdout_percent" name="ab_holdout_percent" type="number" min=0 max=50 step=1
                            inputmode="numeric" value=holdout.get_value() placeholder="0"/>
                    </Field>
                </div>
                <div class="row" hidden=move || !tested_first.get()>
                    <Field id="ab_wait_minutes" label="Pick the winner after" error>
                        <select id="ab_wait_minutes" name="ab_wait_minutes">
                            {waits.into_iter().map(|(value, label)| {
                                let selected = value == wait.get_value();
                                view! { <option value=value selected=selected>{label}</option> }
                            }).collect_view()}
                        </select>
                    </Field>
                    <Field id="ab_pick" label="Who picks it" error>
                        <select id="ab_pick" name="ab_pick">
                            <option value="auto" selected=!manual>"Tidings: the best click-through rate"</option>
                            <option value="manual" selected=manual>"I do, on the campaign's page"</option>
                        </select>
                    </Field>
                </div>
            </Show>
        </details>
    }
}

/// The form's own title, body, link, image and buttons: what a new variant or language
/// starts from.
fn own_content(f: &ComposeForm) -> VariantForm {
    VariantForm {
        title: f.title.clone(),
        body: f.body.clone(),
        url: f.url.clone(),
        image: f.image.clone(),
        action1_label: f.action1_label.clone(),
        action1_url: f.action1_url.clone(),
        action2_label: f.action2_label.clone(),
        action2_url: f.action2_url.clone(),
    }
}

/// Content besides the form's own: an A/B test's variants or the translations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alternative {
    Variant,
    Translation,
}

impl Alternative {
    fn content_mut(self, f: &mut ComposeForm, i: usize) -> Option<&mut VariantForm> {
        match self {
            Self::Variant => f.variants.get_mut(i),
            Self::Translation => f.translations.get_mut(i).map(|t| &mut t.content),
        }
    }

    fn remove(self, f: &mut ComposeForm, i: usize) {
        match self {
            Self::Variant if i < f.variants.len() => {
                f.variants.remove(i);
            }
            Self::Translation if i < f.translations.len() => {
                f.translations.remove(i);
            }
            _ => {}
        }
    }
}

/// The fields of a variant (`index` 1 is B) or a translation (1 is the first), with its
/// byte count and a button to remove it.
#[component]
fn VariantFields(form: RwSignal<ComposeForm>, kind: Alternative, index: usize) -> impl IntoView {
    let i = index - 1;
    let (initial, language) = form.with_untracked(|f| match kind {
        Alternative::Variant => (f.variants.get(i).cloned().unwrap_or_default(), String::new()),
        Alternative::Translation => {
            let t = f.translations.get(i).cloned().unwrap_or_default();
            (t.content, t.language)
        }
    });
    let set = move |setter: fn(&mut VariantForm, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            form.update(|f| {
                if let Some(content) = kind.content_mut(f, i) {
                    setter(content, value)
                }
            });
        }
    };
    let bytes = Memo::new(move |_| form.with(|f| f.variant_payload(index).sent_size()));
    let id = move |field: &str| match kind {
        Alternative::Variant => format!("variant{index}-{field}"),
        Alternative::Translation => format!("language{index}-{field}"),
    };
    let (legend, remove) = match kind {
        Alternative::Variant => (format!("Variant {}", letter(index)), format!("Remove variant {}", letter(index))),
        Alternative::Translation => (format!("Language {index}"), "Remove this language".to_owned()),
    };
    let set_language = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        form.update(|f| {
            if let Some(t) = f.translations.get_mut(i) {
                t.language = value;
            }
        });
    };
    let language_field = (kind == Alternative::Translation).then(|| {
        view! {
            <label for=id("language")>"Language " <span class="required">"required: a tag such as de, fr or pt-BR"</span></label>
            <input id=id("language") maxlength=35 value=language placeholder="de" on:input=set_language/>
        }
    });
    // A labelled input of the variant; the server checks lengths and links.
    let field = move |name: &str, label: &'static str, value: String, setter: fn(&mut VariantForm, String)| {
        view! {
            <div>
                <label for=id(name)>{label}</label>
                <input id=id(name) value=value on:input=set(setter)/>
            </div>
        }
    };
    view! {
        <fieldset class="variant">
            <legend>{legend}</legend>
            {language_field}
            <label for=id("title")>"Title " <span class="required">"required"</span></label>
            <input id=id("title") maxlength=MAX_TITLE_CHARS value=initial.title on:input=set(|v, x| v.title = x)/>
            <label for=id("body")>"Body"</label>
            <textarea id=id("body") rows=2 maxlength=MAX_BODY_CHARS on:input=set(|v, x| v.body = x)>{textarea_text(initial.body)}</textarea>
            <div class="row">
                {field("url", "Link URL", initial.url, |v, x| v.url = x)}
                {field("image", "Image URL", initial.image, |v, x| v.image = x)}
            </div>
            <div class="row">
                {field("action1_label", "Button 1 label", initial.action1_label, |v, x| v.action1_label = x)}
                {field("action1_url", "Button 1 link", initial.action1_url, |v, x| v.action1_url = x)}
            </div>
            <div class="row">
                {field("action2_label", "Button 2 label", initial.action2_label, |v, x| v.action2_label = x)}
                {field("action2_url", "Button 2 link", initial.action2_url, |v, x| v.action2_url = x)}
            </div>
            <p class="meter" class:over=move || { bytes.get() > MAX_PAYLOAD_BYTES }>
                {move || bytes.get()} " / " {MAX_PAYLOAD_BYTES} " bytes"
            </p>
            <button class="btn small" type="button" on:click=move |_| form.update(|f| kind.remove(f, i))>
                {remove}
            </button>
        </fieldset>
    }
}

/// Under "Languages": the content in other languages, each matched to subscribers by their
/// browser's language. Kept in the mirrored form and posted as one JSON field.
#[component]
fn LanguageFields(form: RwSignal<ComposeForm>, initial: ComposeForm, error: Signal<Option<AppError>>) -> impl IntoView {
    let count = Memo::new(move |_| form.with(|f| f.translations.len()));
    let add = move |_| {
        form.update(|f| {
            if f.translations.len() < MAX_TRANSLATIONS {
                let content = own_content(f);
                f.translations.push(TranslationForm { language: String::new(), content });
            }
        })
    };
    view! {
        <details class="more languages" open=!initial.translations.is_empty()>
            <summary>"Languages"</summary>
            <p class="hint">
                "Write it in other languages too. Each subscriber gets the language that best matches their browser's "
                "(de-AT gets de), or their site's language if the browser did not say; everyone else gets the fields "
                "above, the fallback."
            </p>
            <input type="hidden" name="translations"
                prop:value=move || form.with(|f| if f.translations.is_empty() { String::new() } else { serde_json::to_string(&f.translations).unwrap_or_default() })/>
            {move || (1..=count.get()).map(|index| view! { <VariantFields form kind=Alternative::Translation index/> }).collect_view()}
            {move || error.get().filter(|e| e.field_name() == Some("translations")).map(|e| view! {
                <p class="field-error" role="alert">{e.to_string()}</p>
            })}
            <p class="hint" hidden=move || form.with(|f| f.variants.is_empty())>
                "A campaign is either an A/B test or in several languages: remove its variants to add languages."
            </p>
            <button class="btn" type="button" on:click=add
                hidden=move || { count.get() >= MAX_TRANSLATIONS || form.with(|f| !f.variants.is_empty()) }>
                "Add a language"
            </button>
        </details>
    }
}

/// A preview per variant beside A's, labelled; or, with languages, a choice of which one
/// the preview shows.
#[component]
fn VariantPreviews(form: RwSignal<ComposeForm>) -> impl IntoView {
    let count = Memo::new(move |_| form.with(|f| f.variants.len()));
    let languages =
        Memo::new(move |_| form.with(|f| f.translations.iter().map(|t| t.language.clone()).collect::<Vec<_>>()));
    let shown = RwSignal::new(0usize);
    let variants = move || {
        (1..=count.get())
            .map(|index| {
                let payload = Signal::derive(move || form.with(|f| f.variant_payload(index)));
                view! {
                    <p class="preview-variant">{format!("Variant {}", letter(index))}</p>
                    <Preview payload/>
                }
            })
            .collect_view()
    };
    let in_language = move || {
        let languages = languages.get();
        (count.get() == 0 && !languages.is_empty()).then(|| {
            let payload = Signal::derive(move || form.with(|f| f.variant_payload(shown.get())));
            view! {
                <label class="preview-variant" for="preview-language">"Preview in"</label>
                <select id="preview-language" on:change=move |ev| shown.set(event_target_value(&ev).parse().unwrap_or(0))>
                    <option value="0" selected=move || shown.get() == 0>"Fallback"</option>
                    {languages.into_iter().enumerate().map(|(i, language)| {
                        let label = if language.trim().is_empty() { format!("Language {}", i + 1) } else { language };
                        view! { <option value=(i + 1).to_string() selected=move || shown.get() == i + 1>{label}</option> }
                    }).collect_view()}
                </select>
                <Preview payload/>
            }
        })
    };
    view! { {variants} {in_language} }
}

/// Now, at a date and time in the admin's zone (`label` names it), or at a date and time
/// in each subscriber's own zone (`local`; `later` is set for both).
#[component]
fn WhenFields(
    later: RwSignal<bool>,
    local: RwSignal<bool>,
    label: String,
    initial: String,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let (send_at_label, initial_send_at) = (label, initial);
    let choose = move |at_a_time: bool, in_own_zone: bool| {
        later.set(at_a_time);
        local.set(in_own_zone);
    };
    view! {
        <fieldset class="when">
            <legend>"When"</legend>
            <div class="choices">
                <label class="check">
                    <input type="radio" name="when" value="now" checked=!later.get_untracked()
                        on:change=move |_| choose(false, false)/>
                    " Send now"
                </label>
                <label class="check">
                    <input type="radio" name="when" value="later" checked=later.get_untracked() && !local.get_untracked()
                        on:change=move |_| choose(true, false)/>
                    " At a date and time"
                </label>
                <label class="check">
                    <input type="radio" name="when" value="local" checked=local.get_untracked()
                        on:change=move |_| choose(true, true)/>
                    " At a time in each subscriber's own time zone"
                </label>
            </div>
            {move || local.get().then(|| view! {
                <p class="hint">
                    "Each subscriber gets it when their clock shows this time (their browser's zone when they "
                    "subscribed; for those without one, their site's, else yours). It starts as the first zone gets there and ends as "
                    "the last does, about 26 hours later; a send rate still applies."
                </p>
            })}
            {move || {
                let value = initial_send_at.clone();
                let label = if local.get() { "Deliver at (each subscriber's own time)".to_owned() } else { send_at_label.clone() };
                later.get().then(move || view! {
                    <Field id="send_at" label error required=true>
                        <input id="send_at" name="send_at" type="datetime-local" step=1 required value=value/>
                    </Field>
                })
            }}
        </fieldset>
    }
}

/// Who gets it: subscribers of the ticked sites (none ticked: every site) who chose any of
/// the ticked topics (none ticked: everyone there). The ticks are kept in the form's
/// `sites` and `audience` fields (comma-separated ids), which the hidden inputs post.
#[component]
fn AudienceFields(form: RwSignal<ComposeForm>) -> impl IntoView {
    let topics = Resource::new(|| (), |_| admin_topics());
    let sites = Resource::new(|| (), |_| list_sites());
    let topic_chosen = move |id: i64| form.with(|f| parse_ids(&f.audience, "", "").is_ok_and(|ids| ids.contains(&id)));
    let toggle_topic = move |id: i64, on: bool| form.update(|f| f.audience = toggle_id(&f.audience, id, on));
    let site_chosen = move |id: i64| form.with(|f| parse_ids(&f.sites, "", "").is_ok_and(|ids| ids.contains(&id)));
    let toggle_site = move |id: i64, on: bool| form.update(|f| f.sites = toggle_id(&f.sites, id, on));
    view! {
        <fieldset class="audience-choice">
            <legend>"Audience"</legend>
            <input type="hidden" name="sites" prop:value=move || form.with(|f| f.sites.clone())/>
            <input type="hidden" name="audience" prop:value=move || form.with(|f| f.audience.clone())/>
            <Suspense>
                {move || sites.get().map(|sites| {
                    let active: Vec<SiteSummary> = sites.unwrap_or_default().into_iter().filter(|s| !s.archived).collect();
                    // One site: nothing to choose.
                    (active.len() > 1).then(|| view! {
                        <p class="hint">"Sites: tick some to send only to their subscribers; none ticked means every site."</p>
                        <div class="choices site-choices">
                            {active.into_iter().map(|s| { let id = s.id; view! {
                                <label class="check">
                                    <input type="checkbox" data-site=id.to_string() prop:checked=move || site_chosen(id)
                                        on:change=move |ev| toggle_site(id, event_target_checked(&ev))/>
                                    " " {s.name} <span class="muted">{format!(" ({})", s.subscribers)}</span>
                                </label>
                            }}).collect_view()}
                        </div>
                    })
                })}
                {move || topics.get().map(|topics| {
                    let active: Vec<Topic> = topics.unwrap_or_default().into_iter().filter(|t| !t.archived).collect();
                    if active.is_empty() {
                        return view! {
                            <p class="hint">"Everyone who subscribed. To aim at some of them, create topics on the "
                                <a href="/admin/topics">"Topics"</a> " page; visitors choose them when subscribing."</p>
                        }.into_any();
                    }
                    view! {
                        <p class="hint">"Topics: tick some to send only to their subscribers; none ticked means everyone."</p>
                        <div class="choices">
                            {active.into_iter().map(|t| { let id = t.id; view! {
                                <label class="check">
                                    <input type="checkbox" prop:checked=move || topic_chosen(id)
                                        on:change=move |ev| toggle_topic(id, event_target_checked(&ev))/>
                                    " " {t.name} <span class="muted">{format!(" ({})", t.subscribers)}</span>
                                </label>
                            }}).collect_view()}
                        </div>
                    }.into_any()
                })}
            </Suspense>
        </fieldset>
    }
}

/// One action button's two inputs: field names, labels, examples, and where they go.
#[derive(Clone, Copy)]
struct ButtonSpec {
    label_id: &'static str,
    url_id: &'static str,
    label_text: &'static str,
    url_text: &'static str,
    label_example: &'static str,
    url_example: &'static str,
    set_label: fn(&mut ComposeForm, String),
    set_url: fn(&mut ComposeForm, String),
    get_label: fn(&ComposeForm) -> String,
    get_url: fn(&ComposeForm) -> String,
}

const BUTTONS: [ButtonSpec; 2] = [
    ButtonSpec {
        label_id: "action1_label",
        url_id: "action1_url",
        label_text: "Button 1 label",
        url_text: "Button 1 link",
        label_example: "Shop now",
        url_example: "https://example.org/shop",
        set_label: |f, v| f.action1_label = v,
        set_url: |f, v| f.action1_url = v,
        get_label: |f| f.action1_label.clone(),
        get_url: |f| f.action1_url.clone(),
    },
    ButtonSpec {
        label_id: "action2_label",
        url_id: "action2_url",
        label_text: "Button 2 label",
        url_text: "Button 2 link",
        label_example: "Remind me later",
        url_example: "/later",
        set_label: |f, v| f.action2_label = v,
        set_url: |f, v| f.action2_url = v,
        get_label: |f| f.action2_label.clone(),
        get_url: |f| f.action2_url.clone(),
    },
];

#[component]
fn ButtonFields(
    button: ButtonSpec,
    form: RwSignal<ComposeForm>,
    initial: ComposeForm,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let set = move |setter| on_text(form, setter);
    let (label, url) = ((button.get_label)(&initial), (button.get_url)(&initial));
    view! {
        <div class="row">
            <Field id=button.label_id label=button.label_text error>
                <input id=button.label_id name=button.label_id maxlength=MAX_ACTION_LABEL_CHARS
                    value=label placeholder=button.label_example on:input=set(button.set_label)/>
            </Field>
            <Field id=button.url_id label=button.url_text error>
                <input id=button.url_id name=button.url_id inputmode="url" value=url placeholder=button.url_example
                    on:input=set(button.set_url)/>
            </Field>
        </div>
    }
}

/// A labelled form field, with the server's message about it (if any) right under it.
#[component]
fn Field(
    id: &'static str,
    #[prop(into)] label: String,
    error: Signal<Option<AppError>>,
    #[prop(optional)] required: bool,
    children: Children,
) -> impl IntoView {
    let message = move || error.get().filter(|e| e.field_name() == Some(id)).map(|e| e.to_string());
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id>{label} {required.then(|| view! { <span class="required">"required"</span> })}</label>
            {children()}
            {move || message().map(|m| view! { <p class="field-error" id=format!("{id}-error") role="alert">{m}</p> })}
        </div>
    }
}

/// How the notification will look: updated as you type. Browsers draw their own, so this
/// is a likeness, not a screenshot.
#[component]
pub fn Preview(payload: Signal<NotificationPayload>) -> impl IntoView {
    let get = move |f: fn(&NotificationPayload) -> Option<String>| move || payload.with(f);
    view! {
        <aside class="preview" aria-label="Preview">
            <p class="preview-caption">"Preview"</p>
            <div class="notification" data-testid="preview">
                <div class="notification-head">
                    {move || match get(|p| p.icon.clone())() {
                        Some(src) => view! { <img class="notification-icon" src=src alt=""/> }.into_any(),
                        None => view! { <span class="notification-icon placeholder" aria-hidden="true">"◉"</span> }.into_any(),
                    }}
                    <div class="notification-text">
                        <strong class="notification-title">
                            {move || Some(payload.with(|p| p.title.clone())).filter(|t| !t.is_empty()).unwrap_or_else(|| "Your title".into())}
                        </strong>
                        <p class="notification-body">{move || payload.with(|p| p.body.clone())}</p>
                    </div>
                </div>
                {move || get(|p| p.image.clone())().map(|src| view! { <img class="notification-image" src=src alt=""/> })}
                <div class="notification-actions">
                    {move || payload.with(|p| p.actions.iter().map(|a| view! { <span class="notification-action">{a.title.clone()}</span> }).collect_view())}
                </div>
                {move || payload.with(|p| p.require_interaction).then(|| view! { <p class="preview-note">"Stays until dismissed"</p> })}
                {move || payload.with(|p| p.options.silent).then(|| view! { <p class="preview-note">"Silent"</p> })}
            </div>
        </aside>
    }
}

/// Text to put inside a `<textarea>`. Leptos writes a textarea's children into server-rendered
/// HTML unescaped (as for `<script>`), so a body containing `</textarea><b>` would become
/// real elements; escaped, the browser decodes it back to the exact text. In the browser
/// the text becomes a DOM text node, which needs no escaping.
fn textarea_text(text: String) -> String {
    #[cfg(feature = "ssr")]
    {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }
    #[cfg(not(feature = "ssr"))]
    {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn counts_are_grouped_by_thousands() {
        let cases = [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1000, "1,000"),
            (12345, "12,345"),
            (1234567, "1,234,567"),
            (-4200, "-4,200"),
        ];
        for (n, text) in cases {
            assert_eq!(grouped(n), text);
        }
    }
}
