//! Local-time delivery on the manual clock: a campaign for 09:00 on the day Berlin moves to
//! summer time reaches Kiritimati (UTC+14) first, Berlin at 07:00 UTC, those whose browser
//! named no zone at the admin's 09:00, and Honolulu (UTC−10) last; each not a
//! second before, and within the campaign's send rate when a wave is larger than it.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tidings::campaign::CampaignReport;
use tidings::clock::Clock;

use crate::support;
use support::{spawn_app_with, PushService, TestApp, TestSubscription};

fn utc(raw: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").unwrap().and_utc().timestamp()
}

/// How many of `people` have received something.
fn reached(push: &PushService, people: &[&TestSubscription]) -> usize {
    let received = push.received();
    people.iter().filter(|p| received.iter().any(|r| r.client == p.client)).count()
}

async fn wait_for(push: &PushService, people: &[&TestSubscription], count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while reached(push, people) < count {
        assert!(Instant::now() < deadline, "only {} of {count} reached", reached(push, people));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Moves the clock to `at` and waits long enough for the dispatcher to act on it.
async fn move_to(app: &TestApp, at: i64) {
    app.state.config.clock.set(at);
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn each_zone_gets_it_at_its_own_nine_oclock_within_the_send_rate() {
    let app = spawn_app_with(|config| config.clock = Clock::manual(utc("2027-03-27T12:00"))).await;
    let push = PushService::start().await;
    app.login_in_time_zone("UTC").await;
    let zones = ["Pacific/Kiritimati", "Europe/Berlin", "Europe/Berlin", "Europe/Berlin", "Pacific/Honolulu", "", ""];
    let mut people = Vec::new();
    for zone in zones {
        let subscriber = push.subscription(StatusCode::CREATED);
        let form = [
            ("endpoint", subscriber.endpoint.as_str()),
            ("p256dh", &subscriber.p256dh),
            ("auth", &subscriber.auth),
            ("time_zone", zone),
        ];
        assert_eq!(app.call("subscribe", &form).await.status(), StatusCode::OK);
        people.push(subscriber);
    }
    let (kiritimati, berlin, honolulu, no_zone) =
        (vec![&people[0]], vec![&people[1], &people[2], &people[3]], vec![&people[4]], vec![&people[5], &people[6]]);

    let mut fields = support::plain_campaign("Good morning").to_vec();
    fields.extend([("when", "local"), ("send_at", "2027-03-28T09:00"), ("max_per_minute", "2")]);
    let id = app.send_campaign(&fields).await;
    let summary = app.campaigns().await.into_iter().find(|c| c.id == id).unwrap();
    assert_eq!((summary.status.as_str(), summary.scheduled_at), ("scheduled", Some(utc("2027-03-27T19:00"))));

    // Kiritimati's 09:00 is 19:00 UTC the day before; nobody else's yet.
    move_to(&app, utc("2027-03-27T19:00") - 1).await;
    assert_eq!(push.received().len(), 0);
    app.state.config.clock.set(utc("2027-03-27T19:00"));
    wait_for(&push, &kiritimati, 1).await;
    move_to(&app, utc("2027-03-28T07:00") - 1).await;
    assert_eq!(push.received().len(), 1, "only Kiritimati so far");

    // Berlin moved to UTC+2 that night: 07:00 UTC. Three are due, the rate is two a minute.
    app.state.config.clock.set(utc("2027-03-28T07:00"));
    wait_for(&push, &berlin, 2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reached(&push, &berlin), 2, "the send rate holds within a wave");
    app.state.config.clock.set(utc("2027-03-28T07:01"));
    wait_for(&push, &berlin, 3).await;

    // No zone: the admin's (UTC). Honolulu (UTC−10) is last.
    move_to(&app, utc("2027-03-28T09:00") - 1).await;
    assert_eq!(reached(&push, &no_zone), 0);
    app.state.config.clock.set(utc("2027-03-28T09:00"));
    wait_for(&push, &no_zone, 2).await;
    move_to(&app, utc("2027-03-28T19:00") - 1).await;
    assert_eq!((reached(&push, &honolulu), push.received().len()), (0, 6));
    app.state.config.clock.set(utc("2027-03-28T19:00"));
    wait_for(&push, &honolulu, 1).await;
    app.wait_for_status(id, "sent").await;
    assert_eq!(push.received().len(), 7, "once each");

    let report: CampaignReport =
        app.call("admin/campaign_report", &[("id", &id.to_string())]).await.json().await.unwrap();
    let waves: Vec<(String, i64, i64)> = report.local_waves.into_iter().map(|w| (w.hour, w.due, w.sent)).collect();
    let expected =
        [("27 Mar 2027, 19:00", 1), ("28 Mar 2027, 07:00", 3), ("28 Mar 2027, 09:00", 2), ("28 Mar 2027, 19:00", 1)];
    assert_eq!(waves.len(), expected.len(), "{waves:?}");
    for ((hour, due, sent), (expected_hour, expected_due)) in waves.iter().zip(expected) {
        assert!(hour.starts_with(expected_hour), "{hour} is not {expected_hour}");
        assert_eq!((*due, *sent), (expected_due, expected_due), "{hour}");
    }
    assert_eq!(report.summary.local_time.as_deref(), Some("2027-03-28T09:00:00"));
}

#[tokio::test]
async fn a_local_time_that_has_passed_everywhere_is_refused() {
    let app = spawn_app_with(|config| config.clock = Clock::manual(utc("2027-03-29T12:00"))).await;
    app.login_in_time_zone("UTC").await;
    for (send_at, says) in [("2027-03-28T09:00", "passed in every time zone"), ("soon", "date and a time")] {
        let mut fields = support::plain_campaign("Late").to_vec();
        fields.extend([("when", "local"), ("send_at", send_at)]);
        let response = app.send_campaign_response(&fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = response.text().await.unwrap();
        assert!(text.contains(says), "{text}");
    }
    assert!(app.campaigns().await.is_empty());
}

#[tokio::test]
async fn subscribers_without_a_zone_take_their_sites_before_the_admins() {
    let app = spawn_app_with(|config| config.clock = Clock::manual(utc("2027-03-27T12:00"))).await;
    let push = PushService::start().await;
    app.login_in_time_zone("UTC").await;
    let site: tidings::site::SiteDetail = app.call("admin/site", &[("id", "1")]).await.json().await.unwrap();
    let mut fields = vec![
        ("id", "1"),
        ("name", site.summary.name.as_str()),
        ("worker_path", site.worker_path.as_str()),
        ("prompt", "button"),
        ("language", "en"),
        ("time_zone", "Mars/Olympus"),
    ];
    assert_eq!(app.call("admin/update_site", &fields).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    fields.pop();
    fields.push(("time_zone", "Asia/Tokyo"));
    assert_eq!(app.call("admin/update_site", &fields).await.status(), StatusCode::OK);
    let subscriber = push.subscription(StatusCode::CREATED);
    assert_eq!(app.subscribe(&subscriber).await.status(), StatusCode::OK);

    let mut fields = support::plain_campaign("Ohayō").to_vec();
    fields.extend([("when", "local"), ("send_at", "2027-03-28T09:00")]);
    app.send_campaign(&fields).await;
    // 09:00 in Tokyo (UTC+9) is midnight UTC; the admin's zone (UTC) would be 09:00.
    move_to(&app, utc("2027-03-28T00:00") - 1).await;
    assert_eq!(push.received().len(), 0);
    app.state.config.clock.set(utc("2027-03-28T00:00"));
    wait_for(&push, &[&subscriber], 1).await;
}
