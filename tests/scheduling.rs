//! Scheduling, drafts and duplicates: a campaign can wait for its time (in the admin's time
//! zone), be edited or cancelled until then, and starts on time — after a restart too.
//! The app runs on a manual clock the tests move. Templates: content saved to start
//! campaigns from.

use crate::support;

use std::time::Duration;

use reqwest::StatusCode;
use support::{spawn_app_with, PushService, TestApp};
use tidings::campaign::{AdminZone, CampaignReport};
use tidings::clock::Clock;

const CAMPAIGN: &[(&str, &str)] = &[
    ("title", "Doors open at nine"),
    ("body", "See you there"),
    ("url", "https://shop.example/opening"),
    ("icon", ""),
    ("ttl_secs", "3600"),
    ("urgency", "normal"),
];

fn berlin() -> AdminZone {
    AdminZone::named("Europe/Berlin").unwrap()
}

/// A Tidings whose scheduling clock stands still until the test moves it, with one
/// subscriber and an admin signed in from Berlin.
async fn app_on_a_manual_clock() -> (TestApp, PushService, i64) {
    // A whole minute, as the form's inputs have.
    let start = tidings::store::now() / 60 * 60;
    let app = spawn_app_with(|config| config.clock = Clock::manual(start)).await;
    let push = PushService::start().await;
    assert_eq!(app.subscribe(&push.subscription(StatusCode::CREATED)).await.status(), StatusCode::OK);
    app.login_in_time_zone("Europe/Berlin").await;
    (app, push, start)
}

async fn save(app: &TestApp, extra: &[(&str, &str)]) -> reqwest::Response {
    let fields: Vec<_> = CAMPAIGN.iter().chain(extra).copied().collect();
    app.call("admin/send_campaign", &fields).await
}

async fn schedule(app: &TestApp, at: i64, extra: &[(&str, &str)]) -> i64 {
    let send_at = berlin().input_value(at);
    let response = save(app, &[&[("when", "later"), ("send_at", send_at.as_str())], extra].concat()).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn report(app: &TestApp, id: i64) -> CampaignReport {
    let response = app.call("admin/campaign_report", &[("id", &id.to_string())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_scheduled_campaign_waits_for_its_time_given_in_the_admins_time_zone() {
    let (app, push, start) = app_on_a_manual_clock().await;
    let at = start + 3600;
    let id = schedule(&app, at, &[]).await;

    let report = report(&app, id).await;
    assert_eq!(report.summary.status, "scheduled");
    assert_eq!(report.summary.scheduled_at, Some(at), "the Berlin wall time is stored as the same instant in UTC");
    assert_eq!(report.summary.local.scheduled.as_deref(), Some(berlin().format(at).as_str()), "shown in Berlin time");
    assert_eq!(report.summary.targeted, 0, "recipients are chosen when it starts");

    // A minute before: the dispatcher looks (it polls at least every second) and waits.
    app.state.config.clock.set(at - 60);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(self::report(&app, id).await.summary.status, "scheduled");
    assert!(push.received().is_empty(), "nothing is sent early");

    app.state.config.clock.set(at);
    app.wait_for_status(id, "sent").await;
    let sent = self::report(&app, id).await.summary;
    assert_eq!((sent.status.as_str(), sent.sent), ("sent", 1));
    assert_eq!(push.received().len(), 1);
}

#[tokio::test]
async fn a_scheduled_campaign_starts_after_a_restart_and_only_once() {
    let (app, push, start) = app_on_a_manual_clock().await;
    let at = start + 600;
    let id = schedule(&app, at, &[]).await;

    // Stopped before its time, started again after it: nothing in memory carried the schedule.
    let app = app.restart_with(|config| config.clock = Clock::manual(at + 30)).await;
    app.login().await;
    app.wait_for_status(id, "sent").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(push.received().len(), 1, "sent once");
    assert_eq!(report(&app, id).await.summary.sent, 1);
}

#[tokio::test]
async fn a_scheduled_campaign_can_be_edited_and_cancelled_until_it_starts() {
    let (app, push, start) = app_on_a_manual_clock().await;
    let id = schedule(&app, start + 3600, &[]).await;

    // Edit: new title, later time; same campaign.
    let later = start + 7200;
    let send_at = berlin().input_value(later);
    let id_text = id.to_string();
    let response = app
        .call(
            "admin/send_campaign",
            &[
                ("title", "Doors open at ten"),
                ("body", "See you there"),
                ("url", ""),
                ("icon", ""),
                ("ttl_secs", "3600"),
                ("urgency", "high"),
                ("when", "later"),
                ("send_at", &send_at),
                ("campaign_id", &id_text),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<i64>().await.unwrap(), id);
    let edited = report(&app, id).await;
    assert_eq!((edited.summary.title.as_str(), edited.summary.scheduled_at), ("Doors open at ten", Some(later)));
    assert_eq!((edited.form.urgency.as_str(), edited.form.url.as_str()), ("high", ""));
    assert_eq!(app.campaigns().await.len(), 1, "edited in place, not copied");

    assert_eq!(app.call("admin/cancel_campaign", &[("id", &id_text)]).await.status(), StatusCode::OK);
    app.state.config.clock.set(later + 60);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(report(&app, id).await.summary.status, "cancelled");
    assert!(push.received().is_empty(), "a cancelled schedule never sends");

    // Too late to edit now.
    let response = save(&app, &[("campaign_id", &id_text)]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("can no longer be changed"));
}

#[tokio::test]
async fn a_time_that_has_passed_or_never_happens_is_refused_and_nothing_is_saved() {
    let (app, _push, start) = app_on_a_manual_clock().await;
    let past = berlin().input_value(start - 60);
    for (send_at, expected) in [
        (past.as_str(), "has passed"),
        // Clocks in Berlin jump from 02:00 to 03:00 on 28 March 2027.
        ("2027-03-28T02:30", "does not exist in Europe/Berlin"),
        ("", "Choose the date and time"),
        ("tomorrow", "Enter the time as a date and a time"),
    ] {
        let response = save(&app, &[("when", "later"), ("send_at", send_at)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{send_at}");
        let error = response.text().await.unwrap();
        assert!(error.contains(expected) && error.contains("send_at"), "{send_at}: {error}");
    }
    assert!(app.campaigns().await.is_empty());
}

#[tokio::test]
async fn a_draft_is_kept_unsent_until_it_is_sent() {
    let (app, push, _start) = app_on_a_manual_clock().await;
    let response = save(&app, &[("intent", "draft"), ("when", "later"), ("send_at", "")]).await;
    assert_eq!(response.status(), StatusCode::OK, "a draft needs no time yet");
    let id: i64 = response.json().await.unwrap();
    let draft = report(&app, id).await;
    assert_eq!((draft.summary.status.as_str(), draft.summary.targeted), ("draft", 0));
    assert_eq!(draft.form.title, "Doors open at nine");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(push.received().is_empty());

    let id_text = id.to_string();
    assert_eq!(save(&app, &[("campaign_id", &id_text)]).await.json::<i64>().await.unwrap(), id);
    let sent = app.wait_until_sent(id).await;
    assert_eq!((sent.status.as_str(), sent.sent), ("sent", 1));
    assert_eq!(push.received().len(), 1);

    // Sent campaigns are history: not deletable, not editable.
    assert_eq!(app.call("admin/delete_draft", &[("id", &id_text)]).await.status(), StatusCode::CONFLICT);
    assert_eq!(save(&app, &[("intent", "draft"), ("campaign_id", &id_text)]).await.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_past_campaign_duplicates_into_a_new_draft_and_drafts_can_be_deleted() {
    let (app, _push, _start) = app_on_a_manual_clock().await;
    let rich = [("action1_label", "Map"), ("action1_url", "/map"), ("require_interaction", "on"), ("topic", "opening")];
    let response = save(&app, &rich).await;
    let original: i64 = response.json().await.unwrap();
    app.wait_until_sent(original).await;

    let response = app.call("admin/duplicate_campaign", &[("id", &original.to_string())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let copy: i64 = response.json().await.unwrap();
    assert_ne!(copy, original);
    let (original_report, copy_report) = (report(&app, original).await, report(&app, copy).await);
    assert_eq!(copy_report.summary.status, "draft");
    assert_eq!(copy_report.form, original_report.form, "the same content, buttons and options included");
    assert_eq!(copy_report.form.action1_url, "/map");

    assert_eq!(app.call("admin/delete_draft", &[("id", &copy.to_string())]).await.status(), StatusCode::OK);
    assert_eq!(app.call("admin/campaign_report", &[("id", &copy.to_string())]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.call("admin/duplicate_campaign", &[("id", "999")]).await.status(), StatusCode::NOT_FOUND);
}

/// Waits until the push service has received `n` pushes, then a little longer to see that
/// no more come.
async fn received_exactly(push: &PushService, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while push.received().len() < n {
        assert!(std::time::Instant::now() < deadline, "only {} of {n} pushes arrived", push.received().len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Longer than the dispatcher's idle poll: a rate that did not hold would show here.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(push.received().len(), n, "more pushes than the send rate allows");
}

#[tokio::test]
async fn a_send_rate_spreads_a_campaign_over_the_minutes_and_the_page_says_when_it_ends() {
    let (app, push, start) = app_on_a_manual_clock().await;
    for _ in 0..24 {
        app.subscribe(&push.subscription(StatusCode::CREATED)).await;
    }
    let refused = app.send_campaign_response(&[CAMPAIGN, &[("max_per_minute", "0")]].concat()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let id = app.send_campaign(&[CAMPAIGN, &[("max_per_minute", "10")]].concat()).await;

    // Ten in the first minute, ten more in the second, the last five in the third.
    received_exactly(&push, 10).await;
    let summary = app.campaigns().await.into_iter().find(|c| c.id == id).unwrap();
    assert_eq!((summary.status.as_str(), summary.max_per_minute), ("sending", Some(10)));
    assert_eq!(summary.expected_finish(), Some(start + 120));
    let page = app.client.get(format!("{}/admin/campaigns/{id}", app.base)).send().await.unwrap().text().await.unwrap();
    let finish = berlin().format(start + 120);
    assert!(page.contains(&format!("Sending at most 10 a minute; expected to finish about {finish}.")), "{page}");

    app.state.config.clock.set(start + 60);
    received_exactly(&push, 20).await;
    app.state.config.clock.set(start + 120);
    let done = app.wait_until_sent(id).await;
    assert_eq!(done.sent, 25);
    assert_eq!(push.received().len(), 25, "each once");
}

#[tokio::test]
async fn a_template_keeps_content_not_audience_and_is_saved_over_renamed_and_deleted() {
    let app = spawn_app_with(|_| {}).await;
    app.login().await;
    let topic = app.call("admin/create_topic", &[("name", "Deals")]).await.json::<i64>().await.unwrap().to_string();
    let save = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call("admin/save_template", &fields).await
        }
    };
    let content = |name: &str, title: &str| {
        vec![
            ("template_name", name.to_owned()),
            ("title", title.to_owned()),
            ("body", "Everything 20% off".to_owned()),
            ("url", "https://shop.example/sale".to_owned()),
            ("ttl_secs", "3600".to_owned()),
            ("urgency", "high".to_owned()),
            ("audience", topic.clone()),
        ]
    };
    let created = save(content("Weekly sale", "Sale!")).await;
    assert_eq!(created.status(), StatusCode::OK, "{}", created.text().await.unwrap());
    let id: i64 = created.json().await.unwrap();

    let listed: Vec<tidings::template::TemplateSummary> = app.call("admin/templates", &[]).await.json().await.unwrap();
    assert_eq!(
        listed.iter().map(|t| (t.id, t.name.as_str(), t.title.as_str())).collect::<Vec<_>>(),
        [(id, "Weekly sale", "Sale!")]
    );
    let opened = app.call("admin/template", &[("id", &id.to_string())]).await;
    let (name, form): (String, tidings::campaign::ComposeForm) = opened.json().await.unwrap();
    assert_eq!(
        (name.as_str(), form.body.as_str(), form.urgency.as_str(), form.ttl_secs.as_str()),
        ("Weekly sale", "Everything 20% off", "high", "3600")
    );
    assert_eq!(form.audience, "", "a template is for any audience");

    // The same name again (in other case) is taken; content that would not send is refused.
    let taken = save(content("WEEKLY SALE", "Another")).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    let mut no_title = content("No title", "");
    no_title.retain(|(k, _)| *k != "title");
    let refused = save(no_title).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.call("admin/templates", &[]).await.json::<Vec<serde_json::Value>>().await.unwrap().len(), 1);

    // Saved over: renamed, new content, still one template.
    let mut changed = content("Weekend sale", "Sale, now on weekends");
    changed.push(("template_id", id.to_string()));
    assert_eq!(save(changed).await.json::<i64>().await.unwrap(), id);
    let listed: Vec<tidings::template::TemplateSummary> = app.call("admin/templates", &[]).await.json().await.unwrap();
    assert_eq!(
        listed.iter().map(|t| (t.name.as_str(), t.title.as_str())).collect::<Vec<_>>(),
        [("Weekend sale", "Sale, now on weekends")]
    );

    assert_eq!(app.call("admin/delete_template", &[("id", &id.to_string())]).await.status(), StatusCode::OK);
    assert_eq!(app.call("admin/delete_template", &[("id", &id.to_string())]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.call("admin/template", &[("id", &id.to_string())]).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_scheduled_campaign_that_finds_nobody_when_it_starts_finishes_at_once() {
    let (app, push, start) = app_on_a_manual_clock().await;
    let topic =
        app.call("admin/create_topic", &[("name", "Nobody yet")]).await.json::<i64>().await.unwrap().to_string();
    let at = start + 600;
    let id = schedule(&app, at, &[("audience", &topic)]).await;
    app.state.config.clock.set(at);
    app.wait_for_status(id, "sent").await;
    assert_eq!(report(&app, id).await.summary.targeted, 0);
    assert!(push.received().is_empty());
}
