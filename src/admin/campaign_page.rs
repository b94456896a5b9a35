//! One campaign: live progress, every count, why deliveries failed, and an activity chart;
//! before it starts, its content and time, to edit, cancel or delete. Any campaign can be
//! duplicated as a new draft.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::compose::{Compose, Editing, Preview};
use super::frame::{FormError, SignedIn};
use crate::campaign::ab::{AbReport, Pick};
use crate::campaign::api::{
    get_campaign_report, CancelCampaign, DeleteDraft, DuplicateCampaign, PickWinner, ReviewCampaign, SendCampaign,
};
use crate::campaign::{ActivityBucket, Approval, CampaignReport, CampaignStatus, CampaignSummary, FailureReason};

#[component]
pub fn CampaignPage() -> impl IntoView {
    view! {
        <Title text="Campaign"/>
        <SignedIn>
            <CampaignDetail/>
        </SignedIn>
    }
}

/// The campaign id in the address; 0 (found by no one) if it is not a number.
fn campaign_id() -> impl Fn() -> i64 + Copy {
    let params = use_params_map();
    move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0)
}

#[component]
fn CampaignDetail() -> impl IntoView {
    let id = campaign_id();
    let tick = RwSignal::new(0u32);
    let actions = CampaignActions::new();
    let report = Resource::new(
        move || {
            let versions = [actions.cancel.version(), actions.review.version(), actions.pick.version()];
            (id(), tick.get(), versions.map(|v| v.get()))
        },
        |(id, ..)| get_campaign_report(id),
    );
    // Refreshes while it runs or waits for its time, as the list does.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(report)) = report.get() {
            super::frame::refresh_after(tick, report.summary.status.refresh_every());
        }
    });
    view! {
        <p class="back"><a href="/admin/campaigns">"← All campaigns"</a></p>
        <Transition fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || report.get().map(|report| match report {
                Ok(report) => view! { <Report report actions/> }.into_any(),
                Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

/// What can be done to a campaign from its page; deleting or duplicating moves on to the
/// list or the new draft.
#[derive(Clone, Copy)]
struct CampaignActions {
    cancel: ServerAction<CancelCampaign>,
    delete: ServerAction<DeleteDraft>,
    duplicate: ServerAction<DuplicateCampaign>,
    review: ServerAction<ReviewCampaign>,
    pick: ServerAction<PickWinner>,
}

impl CampaignActions {
    fn new() -> Self {
        let actions = Self {
            cancel: ServerAction::new(),
            delete: ServerAction::new(),
            duplicate: ServerAction::new(),
            review: ServerAction::new(),
            pick: ServerAction::new(),
        };
        let navigate = use_navigate();
        Effect::new(move |_| {
            if let Some(Ok(())) = actions.delete.value().get() {
                navigate("/admin/campaigns", Default::default());
            }
        });
        let navigate = use_navigate();
        Effect::new(move |_| {
            if let Some(Ok(copy)) = actions.duplicate.value().get() {
                navigate(&format!("/admin/campaigns/{copy}/edit"), Default::default());
            }
        });
        actions
    }
}

#[component]
fn Report(report: CampaignReport, actions: CampaignActions) -> impl IntoView {
    let c = report.summary.clone();
    let form = report.form.clone();
    let content = move || variant_previews(&form);
    // No site named: every site.
    let on = if report.sites.is_empty() { String::new() } else { format!(" on {}", report.sites.join(", ")) };
    let audience = if report.audience.is_empty() {
        format!("Audience: everyone subscribed{on}.")
    } else {
        format!("Audience: subscribers of {}{on}.", report.audience.join(", "))
    };
    if c.is_editable() {
        return view! {
            <ReportHeading summary=c.clone() audience/>
            {report.approval.clone().map(|approval| view! { <ApprovalCard id=c.id approval review=actions.review/> })}
            <Toolbar summary=c actions/>
            <section class="card content-card" aria-labelledby="content-heading">
                <h2 id="content-heading">"What it says"</h2>
                {content()}
                {Some(report.form.url.clone()).filter(|u| !u.is_empty()).map(|url| view! { <p class="muted">"Opens " <code>{url}</code></p> })}
            </section>
        }
        .into_any();
    }
    view! {
        <ReportHeading summary=c.clone() audience/>
        <Toolbar summary=c.clone() actions/>
        {c.error.clone().map(|error| view! { <p class="campaign-error" role="alert">{error}</p> })}
        <Counts summary=c.clone()/>
        {report.ab.clone().map(|ab| view! { <AbCard id=c.id ab pick=actions.pick/> })}
        {report.languages.clone().map(|languages| view! { <LanguagesCard languages/> })}
        {(!report.local_waves.is_empty()).then(|| view! { <LocalTimeline waves=report.local_waves.clone()/> })}
        <section class="card" aria-labelledby="activity-heading">
            <h2 id="activity-heading">"Sends and clicks over time"</h2>
            <ActivityChart activity=report.activity.clone() bucket_secs=report.bucket_secs active=c.is_active()/>
        </section>
        <section class="card" aria-labelledby="failures-heading">
            <h2 id="failures-heading">"Why deliveries did not arrive"</h2>
            <Failures failures=report.failures.clone()/>
        </section>
        <section class="card content-card" aria-labelledby="content-heading">
            <h2 id="content-heading">"What it said"</h2>
            {content()}
        </section>
    }
    .into_any()
}

/// The notification as it looks; with an A/B test each variant's, with languages each
/// language's, labelled.
fn variant_previews(form: &crate::campaign::ComposeForm) -> impl IntoView {
    let (variants, languages) = (!form.variants.is_empty(), !form.translations.is_empty());
    (0..=form.variants.len().max(form.translations.len()))
        .map(|index| {
            let payload = form.variant_payload(index);
            let label = match (variants, languages, index) {
                (true, _, _) => Some(format!("Variant {}", crate::campaign::ab::letter(index))),
                (_, true, 0) => Some("Fallback".to_owned()),
                (_, true, i) => form.translations.get(i - 1).map(|t| format!("In {}", t.language)),
                _ => None,
            };
            view! {
                <div class="variant-preview">
                    {label.map(|label| view! { <h3>{label}</h3> })}
                    <Preview payload=Signal::stored(payload)/>
                </div>
            }
        })
        .collect_view()
}

/// An A/B test's plan, its results per variant, how sure they are, and the winner (or
/// the buttons to pick one).
#[component]
fn AbCard(id: i64, ab: AbReport, pick: ServerAction<PickWinner>) -> impl IntoView {
    let test = ab.test;
    let count = ab.variants.len();
    let plan = if test.has_rest() {
        let when = match test.pick {
            Pick::Auto => format!(
                "the variant with the best click-through rate goes to the rest automatically {} after the start",
                duration(i64::from(test.wait_minutes) * 60)
            ),
            Pick::Manual => "you pick the variant that goes to the rest".into(),
        };
        format!("{} % of the audience tested first, split evenly between {count} variants; {when}.", test.test_percent)
    } else {
        format!("Everyone split evenly between {count} variants.")
    };
    let held_out = (test.holdout_percent > 0).then(|| {
        format!(
            "{} held out ({} %): they receive nothing, the baseline to compare your own conversions with.",
            ab.held_out, test.holdout_percent
        )
    });
    let state = match (ab.winner, ab.decides_at.clone()) {
        (Some(winner), _) => format!("{winner} won and went to the rest of the audience."),
        (None, Some(at)) if ab.waiting > 0 => format!("{} wait for the winner, picked automatically {at}.", ab.waiting),
        (None, _) if ab.waiting > 0 => format!("{} wait for the winner you pick.", ab.waiting),
        (None, _) => String::new(),
    };
    let winner = ab.winner;
    let rows = ab
        .variants
        .iter()
        .map(|v| {
            let ctr = v.click_through_percent().map(|p| format!("{p:.1} %")).unwrap_or_else(|| "—".into());
            let won = winner == Some(v.letter);
            view! {
                <tr class:winner=won>
                    <th scope="row" data-label="Variant">{v.letter.to_string()} {won.then(|| view! { <span class="badge sent">"winner"</span> })}</th>
                    <td data-label="Title">{crate::campaign::visible_controls(&v.title)}</td>
                    <td data-label="Sent" class="num">{v.sent}</td>
                    <td data-label="Clicked" class="num">{v.clicked}</td>
                    <td data-label="CTR" class="num">{ctr}</td>
                </tr>
            }
        })
        .collect_view();
    let letters: Vec<char> = ab.variants.iter().map(|v| v.letter).collect();
    view! {
        <section class="card ab-card" aria-labelledby="ab-heading">
            <h2 id="ab-heading">"A/B test"</h2>
            <p class="muted">{plan}</p>
            <div class="table-scroll" role="region" aria-label="Results per variant" tabindex="0">
                <table class="ab-results">
                    <thead>
                        <tr>
                            <th scope="col">"Variant"</th><th scope="col">"Title"</th><th scope="col" class="num">"Sent"</th>
                            <th scope="col" class="num">"Clicked"</th><th scope="col" class="num">"Click-through"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p class="ab-verdict">{ab.verdict.sentence()}</p>
            {held_out.map(|text| view! { <p class="muted">{text}</p> })}
            {(!state.is_empty()).then(|| view! { <p class="ab-state">{state}</p> })}
            {ab.may_pick.then(|| view! {
                <div class="toolbar">
                    {letters.into_iter().map(|letter| view! {
                        <ActionForm action=pick>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <input type="hidden" name="variant" value=letter.to_string()/>
                            <button class="btn" type="submit">{format!("Send {letter} to the rest")}</button>
                        </ActionForm>
                    }).collect_view()}
                </div>
            })}
            <FormError result=pick.value().into()/>
        </section>
    }
}

/// A local-time campaign's deliveries by the hour they come due (in the admin's time), each
/// with a bar and how many of them were sent.
#[component]
fn LocalTimeline(waves: Vec<crate::campaign::LocalWave>) -> impl IntoView {
    let most = waves.iter().map(|w| w.due).max().unwrap_or(1).max(1);
    let rows = waves
        .into_iter()
        .map(|w| {
            // An SVG bar: the page's CSP allows no inline style attributes.
            let width = format!("{:.1}", w.due as f64 * 100.0 / most as f64);
            view! {
                <li>
                    <span class="wave-hour">{w.hour}</span>
                    <svg class="wave-bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
                        <rect width="100" height="6" rx="3" class="wave-track"/>
                        <rect width=width height="6" rx="3" class="wave-due"/>
                    </svg>
                    <span class="wave-count">{format!("{} due, {} sent", w.due, w.sent)}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Due per hour"</h2>
            <p class="muted">"Each subscriber's local time, by the hour it comes in your time zone."</p>
            <ol class="timeline">{rows}</ol>
        </section>
    }
}

/// Sent, clicked and click-through per language, the fallback first.
#[component]
fn LanguagesCard(languages: Vec<crate::campaign::languages::LanguageResult>) -> impl IntoView {
    let rows = languages
        .into_iter()
        .map(|l| {
            let ctr = l.click_through_percent().map(|p| format!("{p:.1} %")).unwrap_or_else(|| "—".into());
            view! {
                <tr>
                    <th scope="row" data-label="Language">{l.language.unwrap_or_else(|| "Fallback".into())}</th>
                    <td data-label="Sent" class="num">{l.sent}</td>
                    <td data-label="Clicked" class="num">{l.clicked}</td>
                    <td data-label="CTR" class="num">{ctr}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="languages-heading">
            <h2 id="languages-heading">"Languages"</h2>
            <p class="muted">"Each subscriber got the language that best matches their browser's (or their site's); the rest the fallback."</p>
            <div class="table-scroll" role="region" aria-label="Results per language" tabindex="0">
                <table class="ab-results languages">
                    <thead>
                        <tr>
                            <th scope="col">"Language"</th><th scope="col" class="num">"Sent"</th>
                            <th scope="col" class="num">"Clicked"</th><th scope="col" class="num">"Click-through"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// The title, status, when and who.
#[component]
fn ReportHeading(summary: CampaignSummary, audience: String) -> impl IntoView {
    let c = summary;
    let when = match c.status {
        CampaignStatus::Draft => "Draft: not sent, not scheduled.".to_string(),
        CampaignStatus::AwaitingApproval => "Waiting for an owner's approval.".to_string(),
        CampaignStatus::Scheduled => format!("Scheduled for {}.", c.local.scheduled.clone().unwrap_or_default()),
        _ => format!(
            "Created {}{}{}",
            c.local.created,
            c.local.started.as_ref().map(|t| format!(" · started {t}")).unwrap_or_default(),
            c.local.finished.as_ref().map(|t| format!(" · finished {t}")).unwrap_or_default()
        ),
    };
    view! {
        <h1>{crate::campaign::visible_controls(&c.title)}</h1>
        <p class="campaign-meta"><span class=format!("badge {}", c.status)>{c.status.as_str()}</span> " " {when}</p>
        <p class="campaign-audience">{audience}</p>
        {c.local_time.as_deref().map(|at| view! {
            <p class="campaign-rate">{format!(
                "Delivered at {} in each subscriber's own time zone: from when the first zone gets there to when the last does.",
                crate::campaign::local_time_words(at)
            )}</p>
        })}
        {c.max_per_minute.map(|rate| {
            let finish = c.local.expected_finish.map(|t| format!("; expected to finish about {t}")).unwrap_or_default();
            view! { <p class="campaign-rate">{format!("Sending at most {rate} a minute{finish}.")}</p> }
        })}
    }
}

/// What can be done with it now: edit, cancel, delete a draft, duplicate.
#[component]
fn Toolbar(summary: CampaignSummary, actions: CampaignActions) -> impl IntoView {
    let c = summary;
    let (id, scheduled, draft) =
        (c.id.to_string(), c.status == CampaignStatus::Scheduled, c.status.is_editable() && !scheduled_status(&c));
    let (cancel_id, delete_id) = (id.clone(), id.clone());
    let cancel_label = if scheduled { "Cancel schedule" } else { "Cancel sending" };
    view! {
        <div class="toolbar">
            {c.is_editable().then(|| view! { <a class="btn primary" href=format!("/admin/campaigns/{}/edit", c.id)>"Edit"</a> })}
            {(scheduled || c.is_active()).then(|| view! {
                <ActionForm action=actions.cancel>
                    <input type="hidden" name="id" value=cancel_id/>
                    <button class="btn" type="submit">{cancel_label}</button>
                </ActionForm>
            })}
            {draft.then(|| view! {
                <ActionForm action=actions.delete>
                    <input type="hidden" name="id" value=delete_id/>
                    <button class="btn danger" type="submit">"Delete draft"</button>
                </ActionForm>
            })}
            <ActionForm action=actions.duplicate>
                <input type="hidden" name="id" value=id/>
                <button class="btn" type="submit">"Duplicate as new draft"</button>
            </ActionForm>
        </div>
        <FormError result=actions.cancel.value().into()/>
        <FormError result=actions.delete.value().into()/>
        <FormError result=actions.duplicate.value().into()/>
    }
}

fn scheduled_status(c: &CampaignSummary) -> bool {
    c.status == CampaignStatus::Scheduled
}

/// Who asked for approval and when; for an owner who did not ask, approve or decline;
/// after a decline, the owner's note.
#[component]
fn ApprovalCard(id: i64, approval: Approval, review: ServerAction<ReviewCampaign>) -> impl IntoView {
    let when = approval.send_at.clone().map(|at| format!("to start {at}")).unwrap_or_else(|| "to send at once".into());
    let asked = format!(
        "{} asked {} {when}.",
        approval.requested_by.clone().unwrap_or_else(|| "An admin who has left".into()),
        approval.requested.clone().map(|t| format!("on {t}")).unwrap_or_default()
    );
    let id = id.to_string();
    view! {
        <section class="card approval-card" aria-labelledby="approval-heading">
            {if approval.waiting {
                view! {
                    <h2 id="approval-heading">"Waiting for approval"</h2>
                    <p>{asked}</p>
                    {if approval.may_review {
                        view! {
                            <ActionForm action=review attr:class="form approval-form">
                                <input type="hidden" name="id" value=id.clone()/>
                                <label for="review-note">"Note for the editor (optional, shown if you decline)"</label>
                                <input id="review-note" name="note" maxlength="500"/>
                                <div class="toolbar">
                                    <button class="btn primary" type="submit" name="decision" value="approve">"Approve and send"</button>
                                    <button class="btn" type="submit" name="decision" value="decline">"Decline"</button>
                                </div>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! { <p class="muted">"An owner other than the one who asked approves or declines it. Editing it withdraws the request."</p> }.into_any()
                    }}
                }.into_any()
            } else {
                view! {
                    <h2 id="approval-heading">"Declined"</h2>
                    <p>{format!("{} declined it; edit it and send it again to ask anew.", approval.reviewed_by.clone().unwrap_or_else(|| "An owner".into()))}</p>
                    {approval.note.clone().map(|note| view! { <blockquote class="review-note">{note}</blockquote> })}
                }.into_any()
            }}
            <FormError result=review.value().into()/>
        </section>
    }
}

/// Progress and every count.
#[component]
fn Counts(summary: CampaignSummary) -> impl IntoView {
    let c = summary;
    let ctr = c.click_through_percent().map(|p| format!("{p:.1}% of sent")).unwrap_or_else(|| "—".into());
    let stat = |label: &'static str, value: i64, class: &'static str, note: Option<String>| {
        view! {
            <div class=format!("stat {class}")>
                <dt>{label}</dt>
                <dd>{value} {note.map(|n| view! { <span class="stat-note">{n}</span> })}</dd>
            </div>
        }
    };
    view! {
        <section class="card">
            <div class="progress-row">
                <progress max="100" value=c.percent_done().to_string() aria-label="Delivered so far"></progress>
                <span class="progress-text" aria-live="polite">{format!("{} of {} done", c.done(), c.targeted)}</span>
            </div>
            <dl class="stats">
                {stat("Targeted", c.targeted, "targeted", None)}
                {stat("Sent", c.sent, "sent", None)}
                {stat("Failed", c.failed, "failed", None)}
                {stat("Expired", c.expired, "expired", Some("subscriptions removed".into()))}
                {stat("Clicked", c.clicked, "clicked", Some(ctr))}
                {stat("Dismissed", c.dismissed, "dismissed", None)}
                {(c.capped > 0).then(|| stat("Capped", c.capped, "capped", Some("over the frequency cap, not sent".into())))}
            </dl>
        </section>
    }
}

#[component]
pub fn EditCampaignPage() -> impl IntoView {
    view! {
        <Title text="Edit campaign"/>
        <SignedIn>
            <EditCampaign/>
        </SignedIn>
    }
}

/// The compose form over a draft or scheduled campaign; a campaign that has started can
/// only be duplicated.
#[component]
fn EditCampaign() -> impl IntoView {
    let id = campaign_id();
    let send = ServerAction::<SendCampaign>::new();
    let report = Resource::new(id, get_campaign_report);
    view! {
        <p class="back"><a href=move || format!("/admin/campaigns/{}", id())>"← Back to the campaign"</a></p>
        <h1>"Edit campaign"</h1>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || report.get().map(|report| match report {
                Ok(report) if report.summary.is_editable() => {
                    let local = report.summary.local_time.clone();
                    let send_at = local.clone().or(report.summary.local.scheduled_input);
                    let editing = Editing { id: report.summary.id, form: report.form, send_at, local: local.is_some() };
                    view! { <Compose send editing/> }.into_any()
                }
                Ok(report) => view! {
                    <p class="status error" role="alert">
                        {format!("“{}” is {} and can no longer be changed. ", crate::campaign::visible_controls(&report.summary.title), report.summary.status)}
                        <a href=format!("/admin/campaigns/{}", report.summary.id)>"Open it"</a>
                        " to duplicate it as a new draft."
                    </p>
                }.into_any(),
                Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// A bar per time slice for sends, a line for clicks: plain SVG drawn by us, no chart
/// library in the bundle.
#[component]
fn ActivityChart(activity: Vec<ActivityBucket>, bucket_secs: i64, active: bool) -> impl IntoView {
    if activity.is_empty() {
        let message = if active {
            "Nothing sent yet. The chart fills in as the campaign goes out."
        } else {
            "No notification was delivered, so there is nothing to chart. See why below."
        };
        return view! { <p class="empty">{message}</p> }.into_any();
    }
    const W: f64 = 600.0;
    const H: f64 = 160.0;
    let max_sent = activity.iter().map(|b| b.sent).max().unwrap_or(0).max(1) as f64;
    let max_clicked = activity.iter().map(|b| b.clicked).max().unwrap_or(0).max(1) as f64;
    let slot = W / activity.len() as f64;
    let bars = activity
        .iter()
        .enumerate()
        .filter(|(_, b)| b.sent > 0)
        .map(|(i, b)| {
            let height = b.sent as f64 / max_sent * (H - 10.0);
            view! {
                <rect class="bar-sent" x=format!("{:.1}", i as f64 * slot + slot * 0.1) y=format!("{:.1}", H - height)
                    width=format!("{:.1}", slot * 0.8) height=format!("{height:.1}")>
                    <title>{format!("{} sent at +{}", b.sent, duration(b.offset_secs))}</title>
                </rect>
            }
        })
        .collect_view();
    let clicks = activity
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{:.1},{:.1}", (i as f64 + 0.5) * slot, H - b.clicked as f64 / max_clicked * (H - 10.0)))
        .collect::<Vec<_>>()
        .join(" ");
    let total_sent: i64 = activity.iter().map(|b| b.sent).sum();
    let total_clicked: i64 = activity.iter().map(|b| b.clicked).sum();
    let span = duration(activity.len() as i64 * bucket_secs);
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" preserveAspectRatio="none"
                aria-label=format!("{total_sent} sent and {total_clicked} clicks over {span}")>
                <line class="axis" x1="0" y1=H.to_string() x2=W.to_string() y2=H.to_string()/>
                {bars}
                <polyline class="line-clicked" points=clicks/>
            </svg>
            <figcaption>
                <span class="key sent">"Sent"</span> {format!(" (up to {} per {})", max_sent as i64, duration(bucket_secs))}
                <span class="key clicked">"Clicks"</span> {format!(" (up to {})", max_clicked as i64)}
                {format!(" · from the start to +{span}")}
            </figcaption>
        </figure>
    }
    .into_any()
}

fn duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

#[component]
fn Failures(failures: Vec<FailureReason>) -> impl IntoView {
    if failures.is_empty() {
        return view! { <p class="empty">"No failures: every delivery so far was accepted by its push service."</p> }
            .into_any();
    }
    view! {
        <table class="failures">
            <thead>
                <tr><th scope="col">"Outcome"</th><th scope="col">"Answer"</th><th scope="col" class="num">"Deliveries"</th><th scope="col">"Example"</th></tr>
            </thead>
            <tbody>
                {failures.into_iter().map(|f| view! {
                    <tr>
                        <td data-label="Outcome">{f.outcome.clone()}</td>
                        <td data-label="Answer">{f.status_code.map(|c| format!("HTTP {c}")).unwrap_or_else(|| "no answer".into())}</td>
                        <td data-label="Deliveries" class="num">{f.count}</td>
                        <td data-label="Example" class="example">{f.example.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
