//! A campaign in several languages: each subscriber decrypts the content that best matches
//! the browser language recorded when they subscribed (`de-AT` gets `de`), or their
//! site's language when none was recorded; the rest get the fallback.

use reqwest::StatusCode;
use tidings::campaign::CampaignReport;
use tidings::site::SiteDetail;

use crate::support;
use support::{spawn_app, PushService};

const TRANSLATIONS: &str = r#"[
    {"language": "de", "content": {"title": "Hallo", "body": "Auf Deutsch"}},
    {"language": "FR", "content": {"title": "Bonjour"}},
    {"language": "pt-BR", "content": {"title": "Olá", "url": "/pt"}}
]"#;

#[tokio::test]
async fn each_subscriber_gets_the_best_match_of_their_language_or_their_sites() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    // Tidings' own page speaks German: its subscribers without a language get German.
    let site: SiteDetail = app.call("admin/site", &[("id", "1")]).await.json().await.unwrap();
    let fields = [
        ("id", "1"),
        ("name", site.summary.name.as_str()),
        ("worker_path", site.worker_path.as_str()),
        ("prompt", "button"),
        ("language", "de"),
    ];
    let saved = app.call("admin/update_site", &fields).await;
    assert_eq!(saved.status(), StatusCode::OK, "{}", saved.text().await.unwrap());

    let cases = [("de-AT", "Hallo"), ("fr-CA", "Bonjour"), ("es", "Hello"), ("", "Hallo"), ("pt-PT", "Olá")];
    let mut people = Vec::new();
    for (language, _) in cases {
        let subscriber = push.subscription(StatusCode::CREATED);
        let form = [
            ("endpoint", subscriber.endpoint.as_str()),
            ("p256dh", &subscriber.p256dh),
            ("auth", &subscriber.auth),
            ("language", language),
        ];
        assert_eq!(app.call("subscribe", &form).await.status(), StatusCode::OK);
        people.push(subscriber);
    }
    let mut fields = support::plain_campaign("Hello").to_vec();
    fields.push(("translations", TRANSLATIONS));
    let id = app.send_campaign(&fields).await;
    app.wait_until_sent(id).await;

    let received = push.received();
    for ((language, title), subscriber) in cases.iter().zip(&people) {
        let got: Vec<_> = received.iter().filter(|r| r.client == subscriber.client).map(|r| r.json()).collect();
        assert_eq!(got.len(), 1, "{language:?}");
        assert_eq!(got[0]["title"], *title, "{language:?}");
    }
    let german = received.iter().map(|r| r.json()).find(|j| j["title"] == "Hallo").unwrap();
    assert_eq!(german["body"], "Auf Deutsch");

    let report: CampaignReport =
        app.call("admin/campaign_report", &[("id", &id.to_string())]).await.json().await.unwrap();
    let counts: Vec<(Option<String>, i64)> =
        report.languages.unwrap().into_iter().map(|l| (l.language, l.sent)).collect();
    let expected = [(None, 1), (Some("de".into()), 2), (Some("fr".into()), 1), (Some("pt-br".into()), 1)];
    assert_eq!(counts, expected);
    assert_eq!(report.form.translations.len(), 3, "the page can show every language");
}

#[tokio::test]
async fn languages_are_checked_and_a_bad_one_saves_nothing() {
    let app = spawn_app().await;
    let push = PushService::start().await;
    app.login().await;
    app.subscribe(&push.subscription(StatusCode::CREATED)).await;
    let cases = [
        (
            r#"[{"language": "de", "content": {"title": "A"}}, {"language": "DE", "content": {"title": "B"}}]"#,
            "",
            "twice",
        ),
        (r#"[{"language": "deutsch!", "content": {"title": "A"}}]"#, "", "a tag such as"),
        (r#"[{"language": "de", "content": {"title": " "}}]"#, "", "de: a title is required"),
        (r#"[{"language": "de", "content": {"title": "A"}}]"#, r#"[{"title": "B"}]"#, "either an A/B test"),
    ];
    for (translations, variants, says) in cases {
        let mut fields = support::plain_campaign("Hello").to_vec();
        fields.push(("translations", translations));
        if !variants.is_empty() {
            fields.push(("variants", variants));
        }
        let response = app.send_campaign_response(&fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{translations}");
        let text = response.text().await.unwrap();
        assert!(text.contains(says) && text.contains("translations"), "{translations}: {text}");
    }
    assert!(app.campaigns().await.is_empty());
    assert!(push.received().is_empty());
}
