//! The dashboard's *Instances and queue* card: which processes are running and what each
//! is sending, how much waits in the queue, and the latest kinds of delivery error.

use leptos::prelude::*;

use crate::operations::api::operations_overview;
use crate::operations::{InstanceStatus, OperationsStatus, QueueDepth, RecentError};

/// How often the card reads the figures again while the page is open.
const REFRESH_MS: u64 = 5_000;

#[component]
pub fn OperationsCard() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    // Only in the browser: effects do not run during server rendering.
    Effect::new(move |_| {
        let _ = set_interval_with_handle(
            move || tick.update(|n| *n = n.wrapping_add(1)),
            std::time::Duration::from_millis(REFRESH_MS),
        );
    });
    let overview = Resource::new(move || tick.get(), |_| operations_overview());
    view! {
        <section class="card operations" aria-labelledby="operations-heading">
            <h2 id="operations-heading">"Instances and queue"</h2>
            <Transition fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || overview.get().map(|result| match result {
                    Ok(status) => view! { <Overview status/> }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Overview(status: OperationsStatus) -> impl IntoView {
    view! {
        <Queue queue=status.queue/>
        <Instances list=status.instances/>
        <h3>"Latest delivery errors"</h3>
        <Errors list=status.errors/>
    }
}

#[component]
fn Queue(queue: QueueDepth) -> impl IntoView {
    view! {
        <dl class="stats queue">
            <div class="stat due"><dt>"Due now"</dt><dd>{queue.due}</dd></div>
            <div class="stat sending"><dt>"Being sent"</dt><dd>{queue.sending}</dd></div>
            <div class="stat waiting">
                <dt>"Waiting"</dt>
                <dd>{queue.waiting} <span class="stat-note">"retries and paced sends"</span></dd>
            </div>
            <div class="stat scheduled"><dt>"Scheduled campaigns"</dt><dd>{queue.scheduled_campaigns}</dd></div>
        </dl>
    }
}

#[component]
fn Instances(list: Vec<InstanceStatus>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No instance has announced itself yet: the dispatcher beats within a few seconds of start."</p> }
            .into_any();
    }
    view! {
        <table class="campaigns instances">
            <thead>
                <tr>
                    <th scope="col">"Instance"</th>
                    <th scope="col">"Host"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col" class="num">"Up"</th>
                    <th scope="col" class="num">"Heartbeat"</th>
                    <th scope="col">"Sending"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|i| view! {
                    <tr data-instance=i.id.clone()>
                        <td data-label="Instance"><div>
                            <code>{i.id.clone()}</code>
                            {i.this_one.then(|| view! { " " <span class="badge sent">"this page"</span> })}
                        </div></td>
                        <td data-label="Host"><div>{i.host}</div></td>
                        <td data-label="Version"><div>{i.version}</div></td>
                        <td data-label="Up" class="num">{duration(i.up_secs)}</td>
                        <td data-label="Heartbeat" class="num heartbeat">{format!("{:.1} s ago", i.heartbeat_age_ms as f64 / 1000.0)}</td>
                        <td data-label="Sending" class="sending"><div>{sending(i.sending, &i.campaigns)}</div></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Errors(list: Vec<RecentError>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No delivery errors in the last day."</p> }.into_any();
    }
    view! {
        <ul class="admin-list recent-errors">
            {list.into_iter().map(|e| view! {
                <li>
                    <span class="campaign-error">{e.error}</span>
                    <span class="muted">
                        {format!(" {} {}, last {} ago, ", e.count, if e.count == 1 { "delivery" } else { "deliveries" }, duration(e.ago_secs))}
                        <a href=format!("/admin/campaigns/{}", e.campaign_id)>{format!("campaign #{}", e.campaign_id)}</a>
                    </span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// "idle", or "120 of campaign #4" / "300 of campaigns #4, #5".
fn sending(count: i64, campaigns: &[i64]) -> String {
    if count == 0 {
        return "idle".into();
    }
    let names: Vec<String> = campaigns.iter().map(|c| format!("#{c}")).collect();
    let noun = if campaigns.len() == 1 { "campaign" } else { "campaigns" };
    format!("{count} of {noun} {}", names.join(", "))
}

/// "45 s", "12 min", "3 h", "2 d".
fn duration(secs: i64) -> String {
    match secs {
        ..=59 => format!("{} s", secs.max(0)),
        60..=3599 => format!("{} min", secs / 60),
        3600..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::{duration, sending};

    #[test]
    fn figures_read_as_words() {
        assert_eq!(sending(0, &[]), "idle");
        assert_eq!(sending(120, &[4]), "120 of campaign #4");
        assert_eq!(sending(300, &[4, 5]), "300 of campaigns #4, #5");
        assert_eq!(duration(5), "5 s");
        assert_eq!(duration(720), "12 min");
        assert_eq!(duration(3 * 3600), "3 h");
        assert_eq!(duration(3 * 86_400), "3 d");
    }
}
