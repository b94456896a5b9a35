//! Sites: the web sites whose visitors subscribe. Tidings' own public page is the first;
//! others embed the widget (`public/embed.js`) on their own origin and serve Tidings'
//! service worker from it. The types are here; the endpoints in `api`, the cross-origin
//! rules in `cors`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod cors;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::topic::TopicChoice;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SiteId(pub i64);

/// Tidings' own public page: the site every subscription belonged to before there were sites.
pub const OWN_SITE: SiteId = SiteId(1);
pub const MAX_SITE_NAME_CHARS: usize = 60;
/// Where the worker file goes unless the site says otherwise.
pub const DEFAULT_WORKER_PATH: &str = "/tidings-sw.js";
/// The own public page's worker: Tidings serves it itself (`public/sw.js`).
pub const OWN_WORKER_PATH: &str = "/sw.js";

/// A site as the admin's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSummary {
    pub id: i64,
    pub name: String,
    /// `None` for Tidings' own public page.
    pub origin: Option<String>,
    pub archived: bool,
    pub subscribers: i64,
}

/// One site with everything its admin page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteDetail {
    pub summary: SiteSummary,
    pub worker_path: String,
    pub widget: WidgetSettings,
    /// Whether the site has a secret for signing user ids (it is shown only when made).
    pub has_user_secret: bool,
    /// Editors' campaigns to this site wait for an owner's approval.
    #[serde(default)]
    pub requires_approval: bool,
    #[serde(default)]
    pub cap: FrequencyCap,
    /// Where this Tidings is served (`https://push.example.org`), for the snippets.
    pub tidings_origin: String,
}

/// What the widget needs on a site's page: asked for by the widget, answered for the site
/// its `Origin` proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetConfig {
    pub site: i64,
    pub vapid_public_key: String,
    pub worker_path: String,
    pub widget: WidgetSettings,
    pub topics: Vec<TopicChoice>,
}

/// How the widget asks: a button where the site put the placeholder, or a soft prompt card
/// (opened by a bell in the corner; it opens by itself once for a visitor not yet asked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptStyle {
    #[default]
    Button,
    Card,
}

impl PromptStyle {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw {
            "button" => Ok(Self::Button),
            "card" => Ok(Self::Card),
            _ => Err(AppError::field("prompt", "Choose a button or a card.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Button => "button",
            Self::Card => "card",
        }
    }
}

/// A site's language and time zone as its settings form posts them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteLocale {
    /// A BCP 47 tag, e.g. `de`.
    pub language: String,
    /// An IANA zone name, or empty for the scheduling admin's.
    pub time_zone: String,
}

/// The widget's style and words, per site, so a site in German can say it in German.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WidgetSettings {
    pub prompt: PromptStyle,
    /// The texts' language (BCP 47, e.g. `de`), for screen readers; also the language of
    /// the site's subscribers whose browser named none.
    pub language: String,
    pub texts: WidgetTexts,
    /// The site's time zone (IANA, e.g. `Europe/Berlin`): local-time delivery uses it for
    /// subscribers whose browser named none. Empty: the scheduling admin's.
    pub time_zone: String,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            prompt: PromptStyle::Button,
            language: "en".into(),
            texts: WidgetTexts::default(),
            time_zone: String::new(),
        }
    }
}

macro_rules! widget_texts {
    ($( $field:ident, $label:literal, $default:literal; )*) => {
        /// Every sentence the widget can show a visitor.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct WidgetTexts {
            $( pub $field: String, )*
        }

        impl Default for WidgetTexts {
            fn default() -> Self {
                Self { $( $field: $default.into(), )* }
            }
        }

        impl WidgetTexts {
            /// (field name, label for the admin, the text, the English default), in order.
            pub fn fields(&self) -> Vec<(&'static str, &'static str, String, &'static str)> {
                vec![ $( (stringify!($field), $label, self.$field.clone(), $default), )* ]
            }

            /// Every empty text replaced by its default, the others trimmed.
            pub fn normalized(mut self) -> Self {
                for (field, _, text, _) in self.fields() {
                    self.set(field, &text);
                }
                self
            }

            /// Sets one text by field name; an empty text means the default.
            pub fn set(&mut self, field: &str, text: &str) -> bool {
                match field {
                    $( stringify!($field) => {
                        self.$field = if text.trim().is_empty() { $default.into() } else { text.trim().into() };
                        true
                    } )*
                    _ => false,
                }
            }
        }
    };
}

widget_texts! {
    heading, "Heading", "Hear from us first";
    message, "Message", "Get our news as a notification on this device — no e-mail address, no account. You can turn it off at any time.";
    subscribe, "Subscribe button", "Subscribe to notifications";
    not_now, "Not now (card)", "Not now";
    bell, "Bell label (card)", "Notifications";
    topics, "Topic question", "What would you like to hear about?";
    subscribed, "Subscribed", "You are subscribed. Notifications arrive even when this page is closed.";
    save_topics, "Save topics button", "Save my topics";
    topics_saved, "Topics saved", "Your topics are saved.";
    unsubscribe, "Unsubscribe button", "Unsubscribe";
    unsubscribed, "Unsubscribed", "You will get no more notifications from us.";
    working, "Working", "One moment…";
    unsupported, "Browser cannot", "This browser cannot receive web notifications. Try a current Chrome, Edge, Firefox or Safari (on iPhone and iPad: iOS 16.4 or later).";
    home_screen, "iPhone and iPad", "On iPhone and iPad, notifications need this site on your Home Screen: tap Share (the square with an arrow) in Safari, choose Add to Home Screen, then open the site from your Home Screen and subscribe there (iOS 16.4 or later).";
    denied, "Blocked", "Notifications are blocked for this site. To allow them, open the site settings (the icon left of the address bar), set Notifications to Allow, then reload this page.";
    failed, "Error", "That did not work. Please try again.";
}

/// The longest text the widget shows in one place.
pub const MAX_WIDGET_TEXT_CHARS: usize = 400;

impl WidgetSettings {
    /// Checks every text: visible characters, at most [`MAX_WIDGET_TEXT_CHARS`].
    pub fn check(&self) -> Result<(), AppError> {
        for (field, label, text, _) in self.texts.fields() {
            if text.chars().count() > MAX_WIDGET_TEXT_CHARS || text.chars().any(char::is_control) {
                return Err(AppError::field(
                    field,
                    format!("“{label}” needs at most {MAX_WIDGET_TEXT_CHARS} characters on one line."),
                ));
            }
        }
        Language::parse(&self.language, "language")?;
        Ok(())
    }
}

/// A site's name: 1 to 60 visible characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteName(String);

/// A site's frequency cap: at most this many campaign pushes per subscriber in any 24 hours
/// and in any 7 days (`None`: no limit). Over it, a campaign skips the subscriber and counts
/// them as *capped*. Transactional API messages neither count nor are capped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrequencyCap {
    pub per_day: Option<u16>,
    pub per_week: Option<u16>,
}

impl FrequencyCap {
    pub const MAX_PER_DAY: u16 = 100;
    pub const MAX_PER_WEEK: u16 = 500;

    /// Reads the site page's two fields; an empty field is no limit.
    pub fn parse(per_day: &str, per_week: &str) -> Result<Self, AppError> {
        let read = |raw: &str, field: &str, max: u16, period: &str| -> Result<Option<u16>, AppError> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(None);
            }
            match raw.parse::<u16>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(AppError::field(
                    field,
                    format!("Pushes per {period}: a whole number from 1 to {max}, or empty for no limit."),
                )),
            }
        };
        let cap = Self {
            per_day: read(per_day, "per_day", Self::MAX_PER_DAY, "day")?,
            per_week: read(per_week, "per_week", Self::MAX_PER_WEEK, "week")?,
        };
        if let (Some(day), Some(week)) = (cap.per_day, cap.per_week) {
            if week < day {
                return Err(AppError::field(
                    "per_week",
                    format!("Pushes per week: at least the day's limit ({day}), or empty for no limit."),
                ));
            }
        }
        Ok(cap)
    }

    /// The cap in words, for the site page.
    pub fn describe(&self) -> String {
        match (self.per_day, self.per_week) {
            (None, None) => "No cap: every campaign goes to everyone in its audience.".to_owned(),
            (Some(d), None) => format!("At most {d} campaign {} per subscriber in any 24 hours.", pushes(d)),
            (None, Some(w)) => format!("At most {w} campaign {} per subscriber in any 7 days.", pushes(w)),
            (Some(d), Some(w)) => {
                format!("At most {d} campaign {} per subscriber in any 24 hours, and {w} in any 7 days.", pushes(d))
            }
        }
    }
}

fn pushes(n: u16) -> &'static str {
    if n == 1 {
        "push"
    } else {
        "pushes"
    }
}

impl SiteName {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > MAX_SITE_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(AppError::field("name", format!("A site's name needs 1 to {MAX_SITE_NAME_CHARS} characters.")));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A web origin as browsers send it in `Origin`: `https://www.example.org` or
/// `https://shop.example.org:8443` — scheme, host and port, nothing else. `http` only for
/// this machine (`localhost`, `127.0.0.1`, `[::1]`): elsewhere browsers allow push only on
/// HTTPS.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteOrigin(String);

impl SiteOrigin {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let bad = |why: &str| AppError::field("origin", why.to_owned());
        let raw = raw.trim().trim_end_matches('/');
        let url = url::Url::parse(raw)
            .map_err(|_| bad("Enter the site's address as scheme and host, e.g. https://www.example.org."))?;
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(bad("Browsers allow notifications only on https:// sites (http:// only on this machine)."))
            }
            _ => return Err(bad("The address must start with https://.")),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("The address needs a host name, e.g. https://www.example.org."));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("The address cannot contain a user name or password."));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("Only the origin: scheme, host and port, without a path (e.g. https://www.example.org)."));
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The path of a site's service worker file: `/tidings-sw.js`, or `/sw.js` for a site that
/// adds Tidings to the worker it already has. A path on the site's own origin, under its
/// root (a worker's scope cannot be above its folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerPath(String);

impl WorkerPath {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let path = raw.trim();
        let ok = path.starts_with('/')
            && !path.starts_with("//")
            && path.len() <= 200
            && path[1..].split('/').count() == 1
            && path.len() > 1
            && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
            && !path.contains("..");
        if !ok {
            return Err(AppError::field(
                "worker_path",
                "The worker file must be at the site's root, e.g. /tidings-sw.js (letters, digits, - _ .).",
            ));
        }
        Ok(Self(path.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BCP 47 language tag as browsers report it (`de`, `de-AT`, `zh-Hant-TW`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let tag = raw.trim();
        let ok = !tag.is_empty()
            && tag.len() <= 35
            && tag
                .split('-')
                .all(|part| (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric()))
            && tag.split('-').next().is_some_and(|primary| primary.bytes().all(|b| b.is_ascii_alphabetic()));
        if !ok {
            return Err(AppError::field(field, "A language is a tag such as en, de or pt-BR."));
        }
        Ok(Self(tag.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frequency_cap_is_read_from_the_two_fields() {
        assert_eq!(FrequencyCap::parse("", " ").unwrap(), FrequencyCap::default());
        assert_eq!(FrequencyCap::parse(" 2 ", "").unwrap(), FrequencyCap { per_day: Some(2), per_week: None });
        assert_eq!(FrequencyCap::parse("3", "10").unwrap(), FrequencyCap { per_day: Some(3), per_week: Some(10) });
        assert_eq!(FrequencyCap::parse("100", "500").unwrap().per_week, Some(500));
        for (day, week, field) in [
            ("0", "", "per_day"),
            ("101", "", "per_day"),
            ("-1", "", "per_day"),
            ("two", "", "per_day"),
            ("1.5", "", "per_day"),
            ("", "501", "per_week"),
            ("", "0", "per_week"),
            ("5", "4", "per_week"),
        ] {
            let error = FrequencyCap::parse(day, week).unwrap_err();
            assert_eq!(error.field_name(), Some(field), "{day:?} {week:?}");
        }
        assert!(FrequencyCap::parse("1", "").unwrap().describe().contains("At most 1 campaign push per"));
    }

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        for (raw, origin) in [
            ("https://www.example.org", "https://www.example.org"),
            ("https://WWW.Example.org/", "https://www.example.org"),
            ("https://shop.example.org:8443", "https://shop.example.org:8443"),
            ("https://example.org:443", "https://example.org"),
            ("http://127.0.0.1:3101", "http://127.0.0.1:3101"),
            ("http://localhost:8080", "http://localhost:8080"),
        ] {
            assert_eq!(SiteOrigin::parse(raw).unwrap().as_str(), origin, "{raw}");
        }
        for bad in [
            "www.example.org",
            "http://www.example.org",
            "https://www.example.org/blog",
            "https://www.example.org/?a=1",
            "https://www.example.org/#top",
            "https://user:pw@www.example.org",
            "ftp://example.org",
            "javascript:alert(1)",
            "null",
            "",
        ] {
            assert!(SiteOrigin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn worker_files_live_at_the_sites_root() {
        for ok in ["/tidings-sw.js", "/sw.js", "/service_worker.js"] {
            assert!(WorkerPath::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["tidings-sw.js", "//evil.example/sw.js", "/js/sw.js", "/", "/sw.js?x=1", "/../sw.js", "/a b.js"] {
            assert!(WorkerPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn languages_are_tags() {
        for ok in ["en", "de-AT", "zh-Hant-TW", "pt-BR"] {
            assert!(Language::parse(ok, "l").is_ok(), "{ok}");
        }
        for bad in ["", "english language", "de_AT", "x".repeat(40).as_str(), "1de", "<b>"] {
            assert!(Language::parse(bad, "l").is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_widget_text_means_the_default_and_unknown_ones_are_refused() {
        let mut texts = WidgetTexts::default();
        assert!(texts.set("heading", "Bleiben Sie informiert"));
        assert_eq!(texts.heading, "Bleiben Sie informiert");
        assert!(texts.set("heading", "  "));
        assert_eq!(texts.heading, WidgetTexts::default().heading);
        assert!(!texts.set("script", "x"));
        let mut settings = WidgetSettings::default();
        settings.texts.denied = "line\nbreak".into();
        assert!(settings.check().is_err());
    }
}
