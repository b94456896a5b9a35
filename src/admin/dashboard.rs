//! The admin's home: how many subscribers there are and how that changed, and how the
//! latest campaigns did.

use leptos::prelude::*;
use leptos_meta::Title;

use super::campaigns::StatusBadge;
use super::frame::SignedIn;
use super::operations::OperationsCard;
use crate::campaign::api::list_campaigns;
use crate::campaign::CampaignSummary;
use crate::keys::api::backup_status;
use crate::site::api::list_sites;
use crate::site::SiteSummary;
use crate::subscription::api::subscriber_growth;
use crate::subscription::{AudienceGrowth, GrowthDay, GROWTH_DAYS};
use crate::topic::api::admin_topics;
use crate::topic::Topic;

/// How many campaigns the dashboard lists.
const RECENT_CAMPAIGNS: usize = 5;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard"/>
        <SignedIn>
            <Dashboard/>
        </SignedIn>
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    let growth = Resource::new(|| (), |_| subscriber_growth());
    let campaigns = Resource::new(|| (), |_| list_campaigns());
    let topics = Resource::new(|| (), |_| admin_topics());
    let sites = Resource::new(|| (), |_| list_sites());
    let backup = Resource::new(|| (), |_| backup_status());
    view! {
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <a class="btn primary" href="/admin/campaigns">"New campaign"</a>
        </div>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || growth.get().map(|growth| match growth {
                Ok(growth) => view! { <Audience growth/> }.into_any(),
                Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
        </Suspense>
        <Suspense>
            {move || backup.get().and_then(Result::ok).flatten().filter(|b| b.stale).map(|b| view! { <BackupWarning last=b.last_backup/> })}
        </Suspense>
        <Suspense>
            {move || sites.get().and_then(Result::ok).map(|list| view! { <SiteCounts list/> })}
        </Suspense>
        <section class="card" aria-labelledby="topics-heading">
            <h2 id="topics-heading">"Subscribers by topic"</h2>
            <Suspense fallback=|| view! { <p class="status">"Loading topics…"</p> }>
                {move || topics.get().map(|list| match list {
                    Ok(list) => view! { <TopicCounts list/> }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="recent-heading">
            <h2 id="recent-heading">"Recent campaigns"</h2>
            <Suspense fallback=|| view! { <p class="status">"Loading campaigns…"</p> }>
                {move || campaigns.get().map(|list| match list {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No campaigns yet. " <a href="/admin/campaigns">"Write the first one"</a>
                        ": send it now, schedule it, or keep it as a draft."</p>
                    }.into_any(),
                    Ok(list) => view! { <RecentCampaigns list/> }.into_any(),
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
        <OperationsCard/>
    }
}

#[component]
fn Audience(growth: AudienceGrowth) -> impl IntoView {
    let (joined, lost) = (growth.joined(), growth.lost());
    view! {
        <dl class="stats dashboard-stats">
            <div class="stat subscribers"><dt>"Subscribers"</dt><dd>{growth.total}</dd></div>
            <div class="stat joined" class:none=joined == 0><dt>{format!("Joined, last {GROWTH_DAYS} days")}</dt><dd>{signed('+', joined)}</dd></div>
            <div class="stat lost" class:none=lost == 0>
                <dt>{format!("Lost, last {GROWTH_DAYS} days")}</dt>
                <dd>{signed('−', lost)} <span class="stat-note">"unsubscribed or expired"</span></dd>
            </div>
        </dl>
        <section class="card" aria-labelledby="growth-heading">
            <h2 id="growth-heading">"Subscribers over time"</h2>
            {if growth.total == 0 && joined == 0 && lost == 0 {
                view! {
                    <p class="empty">
                        "Nobody has subscribed yet. Share your " <a href="/">"public page"</a>
                        ": visitors subscribe there with one click, and each day's joins and losses show here."
                    </p>
                }.into_any()
            } else {
                view! { <GrowthChart days=growth.days/> }.into_any()
            }}
        </section>
    }
}

/// "+3" or "−2"; a plain "0" when nothing changed.
fn signed(sign: char, n: i64) -> String {
    if n == 0 {
        "0".into()
    } else {
        format!("{sign}{n}")
    }
}

/// Joins as bars above the line, losses below it, and the total as a line: plain SVG drawn
/// on the server, no chart library in the bundle.
#[component]
fn GrowthChart(days: Vec<GrowthDay>) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 180.0;
    // The zero line for joins and losses; the total uses the whole height.
    const ZERO: f64 = 130.0;
    let biggest = days.iter().map(|d| d.joined.max(d.lost)).max().unwrap_or(0).max(1) as f64;
    let scale = (ZERO - 10.0) / biggest;
    let (low, high) = days.iter().fold((i64::MAX, i64::MIN), |(lo, hi), d| (lo.min(d.total), hi.max(d.total)));
    let range = (high - low).max(1) as f64;
    let slot = W / days.len() as f64;
    let x = |i: usize| i as f64 * slot + slot * 0.15;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let up = d.joined as f64 * scale;
            // Losses share the joins' scale but must fit under the line.
            let down = (d.lost as f64 * scale).min(H - ZERO - 2.0);
            view! {
                <g>
                    <title>{format!("{}: +{} joined, −{} lost, {} in all", d.label, d.joined, d.lost, d.total)}</title>
                    {(d.joined > 0).then(|| view! {
                        <rect class="bar-joined" x=format!("{:.1}", x(i)) y=format!("{:.1}", ZERO - up)
                            width=format!("{:.1}", slot * 0.7) height=format!("{up:.1}")/>
                    })}
                    {(d.lost > 0).then(|| view! {
                        <rect class="bar-lost" x=format!("{:.1}", x(i)) y=ZERO.to_string()
                            width=format!("{:.1}", slot * 0.7) height=format!("{down:.1}")/>
                    })}
                </g>
            }
        })
        .collect_view();
    let totals = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!("{:.1},{:.1}", (i as f64 + 0.5) * slot, H - 6.0 - (d.total - low) as f64 / range * (H - 16.0))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let (first, last) = (days.first().map(|d| d.label.clone()), days.last().map(|d| d.label.clone()));
    let (joined, lost): (i64, i64) = (days.iter().map(|d| d.joined).sum(), days.iter().map(|d| d.lost).sum());
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" preserveAspectRatio="none"
                aria-label=format!("{joined} joined and {lost} lost from {} to {}", first.clone().unwrap_or_default(), last.clone().unwrap_or_default())>
                <line class="axis" x1="0" y1=ZERO.to_string() x2=W.to_string() y2=ZERO.to_string()/>
                {bars}
                <polyline class="line-total" points=totals/>
            </svg>
            <figcaption>
                <span class="key joined">"Joined"</span> " "
                <span class="key lost">"Lost"</span> " "
                <span class="key total">{format!("Subscribers ({low}–{high})")}</span>
                <span class="chart-range">{format!(" · {} – {} (today)", first.unwrap_or_default(), last.unwrap_or_default())}</span>
            </figcaption>
        </figure>
    }
}

/// Each active topic with how many subscribers chose it, as a bar against the largest.
#[component]
fn TopicCounts(list: Vec<Topic>) -> impl IntoView {
    let active: Vec<Topic> = list.into_iter().filter(|t| !t.archived).collect();
    if active.is_empty() {
        return view! {
            <p class="empty">"No topics yet: every campaign goes to everyone. " <a href="/admin/topics">"Add topics"</a>
            " to let visitors choose what they hear about."</p>
        }
        .into_any();
    }
    view! { <CountBars rows=active.into_iter().map(|t| (t.id, t.name, t.subscribers)).collect() kind="topic"/> }
        .into_any()
}

/// Every subscription is bound to a key in the database: without a copy, losing the file
/// loses everyone.
#[component]
fn BackupWarning(last: Option<String>) -> impl IntoView {
    view! {
        <section class="card backup-warning" aria-labelledby="backup-heading">
            <h2 id="backup-heading">"Back up your database"</h2>
            <p class="status warn">
                {match last {
                    None => "This database has never been backed up with tidings backup. ".to_string(),
                    Some(at) => format!("The last backup was taken on {at}. "),
                }}
                "Every subscriber is bound to the VAPID key stored in it: if the file is lost, so is every subscriber."
            </p>
            <p>"Copy it while Tidings runs (daily, from cron or a systemd timer), and keep the copy on another machine:"</p>
            <pre class="example"><code>"tidings backup /var/backups/tidings.db"</code></pre>
        </section>
    }
}

/// Subscribers per active site, once there is more than the own page.
#[component]
fn SiteCounts(list: Vec<SiteSummary>) -> impl IntoView {
    let active: Vec<SiteSummary> = list.into_iter().filter(|s| !s.archived).collect();
    (active.len() > 1).then(|| {
        view! {
            <section class="card" aria-labelledby="sites-heading">
                <h2 id="sites-heading">"Subscribers by site"</h2>
                <CountBars rows=active.into_iter().map(|s| (s.id, s.name, s.subscribers)).collect() kind="site"/>
            </section>
        }
    })
}

/// (id, name, subscribers) as bars scaled to the largest; `kind` names the data attribute.
#[component]
fn CountBars(rows: Vec<(i64, String, i64)>, kind: &'static str) -> impl IntoView {
    let most = rows.iter().map(|(_, _, n)| *n).max().unwrap_or(0).max(1);
    view! {
        <ul class="topic-counts">
            {rows.into_iter().map(|(id, name, subscribers)| view! {
                <li attr:data-topic=(kind == "topic").then(|| id.to_string()) attr:data-site=(kind == "site").then(|| id.to_string())>
                    <span class="topic-name">{name}</span>
                    // SVG, not a style attribute: the page's CSP allows no inline styles.
                    <svg class="topic-bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
                        <rect class="topic-bar-track" width="100" height="6" rx="3"/>
                        <rect class="topic-bar-fill" width=(subscribers * 100 / most).to_string() height="6" rx="3"/>
                    </svg>
                    <span class="topic-count">{subscribers}</span>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn RecentCampaigns(list: Vec<CampaignSummary>) -> impl IntoView {
    view! {
        <table class="campaigns recent">
            <thead>
                <tr>
                    <th scope="col">"Title"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col" class="num">"Sent"</th>
                    <th scope="col" class="num">"Click-through"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().take(RECENT_CAMPAIGNS).map(|c| view! {
                    <tr data-campaign=c.id>
                        <td data-label="Title" class="title"><div><a href=format!("/admin/campaigns/{}", c.id)>{crate::campaign::visible_controls(&c.title)}</a></div></td>
                        <td data-label="Status"><div><StatusBadge campaign=c.clone()/></div></td>
                        <td data-label="Sent" class="num sent">{c.sent}</td>
                        <td data-label="Click-through" class="num ctr">
                            {c.click_through_percent().map(|p| format!("{p:.1}% ({})", c.clicked)).unwrap_or_else(|| "—".into())}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <p class="more-link"><a href="/admin/campaigns">"All campaigns →"</a></p>
    }
}
