//! A campaign as the admin composed it, parsed into values that are safe to send.
//! Shared with the browser so the compose form can count payload bytes as you type.

use serde::{Deserialize, Serialize};

use super::ab::{AbTest, MAX_EXTRA_VARIANTS};
use super::content::{
    parse_actions, typed_actions, DraftAction, LinkUrl, Variant, VariantForm, MAX_BODY_CHARS, MAX_TITLE_CHARS,
};
use super::languages::{Translation, TranslationForm};
use super::payload::{checkbox, NotificationOptions, NotificationPayload, PayloadAction, MAX_PAYLOAD_BYTES};
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Urgency {
    VeryLow,
    Low,
    Normal,
    High,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [Self::VeryLow, Self::Low, Self::Normal, Self::High];

    /// The RFC 8030 §5.3 header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VeryLow => "very-low",
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::VeryLow => "Very low — may wait for Wi-Fi and power",
            Self::Low => "Low — may wait for power",
            Self::Normal => "Normal",
            Self::High => "High — wakes the device now",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == raw)
    }
}

/// How long a push service keeps an undelivered message (RFC 8030 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ttl(u32);

impl Ttl {
    /// Four weeks: the longest that push services honour.
    pub const MAX: Ttl = Ttl(28 * 24 * 3600);
    pub const DEFAULT: Ttl = Ttl(24 * 3600);
    pub const PRESETS: [(u32, &'static str); 4] =
        [(3600, "1 hour"), (24 * 3600, "1 day"), (7 * 24 * 3600, "1 week"), (28 * 24 * 3600, "4 weeks")];

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let seconds: u32 =
            raw.trim().parse().map_err(|_| AppError::field("ttl", "TTL must be a whole number of seconds."))?;
        if seconds > Self::MAX.0 {
            return Err(AppError::field("ttl", "TTL can be at most 4 weeks (2419200 seconds)."));
        }
        Ok(Self(seconds))
    }

    pub fn seconds(self) -> u32 {
        self.0
    }

    /// A stored number of seconds, kept within what push services honour.
    pub fn from_stored(seconds: i64) -> Self {
        Self(u32::try_from(seconds.clamp(0, i64::from(Self::MAX.0))).unwrap_or(Self::MAX.0))
    }
}

/// `text` with its bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and kin) written
/// out as `[U+202E]`: in the admin they would silently reorder what an admin reads, so a
/// campaign could say one thing in the list and another on screen. Subscribers' browsers
/// get the text as written (a right-to-left language needs them).
pub fn visible_controls(text: &str) -> String {
    let is_bidi =
        |c: char| matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if !text.contains(is_bidi) {
        return text.to_owned();
    }
    text.chars().map(|c| if is_bidi(c) { format!("[U+{:04X}]", c as u32) } else { c.to_string() }).collect()
}

/// The compose form as typed: raw text, field by field. The browser builds one to count
/// bytes and preview; the server parses one into a [`CampaignDraft`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)] // an empty field may be left out, as HTML forms do with unticked boxes
pub struct ComposeForm {
    pub title: String,
    pub body: String,
    pub url: String,
    pub icon: String,
    pub image: String,
    pub badge: String,
    pub action1_label: String,
    pub action1_url: String,
    pub action2_label: String,
    pub action2_url: String,
    /// A checkbox: present ("on") when ticked.
    #[serde(deserialize_with = "checkbox")]
    pub require_interaction: bool,
    #[serde(flatten)]
    pub options: NotificationOptions,
    pub topic: String,
    pub ttl_secs: String,
    pub urgency: String,
    /// Comma-separated topic ids; empty for everyone.
    pub audience: String,
    /// Comma-separated site ids; empty for every site.
    pub sites: String,
    /// Pushes per minute at most; empty for as fast as possible.
    pub max_per_minute: String,
    /// Variants B, C and D of an A/B test (the fields above are A); none: no test.
    /// Posted as one JSON field, as the compose page keeps them.
    #[serde(with = "json_list")]
    pub variants: Vec<VariantForm>,
    /// The content in other languages (the fields above are the fallback); posted as
    /// `variants` is.
    #[serde(with = "json_list")]
    pub translations: Vec<TranslationForm>,
    /// How the A/B test runs (see [`AbTest::parse`]); ignored without variants.
    pub ab_test_percent: String,
    pub ab_wait_minutes: String,
    pub ab_pick: String,
    pub ab_holdout_percent: String,
}

/// A list kept in one form field as JSON text (empty for none), read back from that or
/// from a JSON list.
mod json_list {
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(list: &[T], serializer: S) -> Result<S::Ok, S::Error> {
        if list.is_empty() {
            return serializer.serialize_str("");
        }
        serializer.serialize_str(&serde_json::to_string(list).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            Text(String),
            List(Vec<serde_json::Value>),
        }
        let list = match Given::deserialize(deserializer)? {
            Given::List(list) => list,
            Given::Text(text) if text.trim().is_empty() => return Ok(Vec::new()),
            Given::Text(text) => serde_json::from_str(&text).map_err(serde::de::Error::custom)?,
        };
        list.into_iter().map(|item| serde_json::from_value(item).map_err(serde::de::Error::custom)).collect()
    }
}

impl ComposeForm {
    /// The notification as it would be sent, best effort (fields as typed, trimmed, not
    /// checked); what the byte counter and the preview show.
    pub fn payload(&self) -> NotificationPayload {
        CampaignDraft::as_typed(self).payload(0)
    }

    /// A campaign's content back in the form (with who it is aimed at), to edit it.
    pub fn from_draft(draft: &CampaignDraft, audience: &super::Audience) -> Self {
        let link = |u: &Option<LinkUrl>| u.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default();
        let action =
            |i: usize| draft.actions.get(i).map(|a| (a.label.clone(), a.url.as_str().to_owned())).unwrap_or_default();
        let ((action1_label, action1_url), (action2_label, action2_url)) = (action(0), action(1));
        Self {
            title: draft.title.clone(),
            body: draft.body.clone(),
            url: link(&draft.url),
            icon: link(&draft.icon),
            image: link(&draft.image),
            badge: link(&draft.badge),
            action1_label,
            action1_url,
            action2_label,
            action2_url,
            require_interaction: draft.require_interaction,
            options: draft.options.clone(),
            topic: draft.topic.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default(),
            ttl_secs: draft.ttl.seconds().to_string(),
            urgency: draft.urgency.as_str().to_owned(),
            audience: crate::ids::ids_text(audience.topics.iter().map(|t| t.0)),
            sites: crate::ids::ids_text(audience.sites.iter().map(|s| s.0)),
            max_per_minute: draft.rate.map(|r| r.per_minute().to_string()).unwrap_or_default(),
            variants: draft.variants.iter().map(Variant::to_form).collect(),
            translations: draft.translations.iter().map(Translation::to_form).collect(),
            ab_test_percent: draft.ab.map(|t| t.test_percent.to_string()).unwrap_or_default(),
            ab_wait_minutes: draft.ab.map(|t| t.wait_minutes.to_string()).unwrap_or_default(),
            ab_pick: match draft.ab.map(|t| t.pick) {
                Some(super::ab::Pick::Manual) => "manual".into(),
                _ => String::new(),
            },
            ab_holdout_percent: draft.ab.map(|t| t.holdout_percent.to_string()).unwrap_or_default(),
        }
    }

    /// The notification of content `index` as typed (0: the fields of the form itself;
    /// then its variants, or else its translations), for their previews and byte counters.
    pub fn variant_payload(&self, index: usize) -> NotificationPayload {
        let draft = CampaignDraft::as_typed(self);
        let alternatives: Vec<&VariantForm> = if self.variants.is_empty() {
            self.translations.iter().map(|t| &t.content).collect()
        } else {
            self.variants.iter().collect()
        };
        match index.checked_sub(1).and_then(|i| alternatives.get(i)) {
            Some(variant) => draft.with_variant(&Variant::as_typed(variant)).payload(0),
            None => draft.payload(0),
        }
    }
}

/// An RFC 8030 §5.4 topic: up to 32 characters of the URL-safe base64 alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollapseTopic(String);

impl CollapseTopic {
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, AppError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if raw.len() > 32 || !raw.chars().all(allowed) {
            return Err(AppError::field("topic", "A collapse topic is up to 32 letters, digits, - or _."));
        }
        Ok(Some(Self(raw.to_owned())))
    }

    /// Without checking, as [`LinkUrl::trusted`].
    pub fn trusted(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A cap on how fast a campaign goes out, so that a site's servers are not flooded by
/// everyone clicking at once: at most this many pushes each minute after it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRate(u32);

impl SendRate {
    pub const MAX_PER_MINUTE: u32 = 1_000_000;

    /// `None` for an empty field: as fast as possible.
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, AppError> {
        let raw = raw.trim().replace([',', '_', ' '], "");
        if raw.is_empty() {
            return Ok(None);
        }
        match raw.parse::<u32>() {
            Ok(n) if (1..=Self::MAX_PER_MINUTE).contains(&n) => Ok(Some(Self(n))),
            _ => Err(AppError::field(
                "max_per_minute",
                "The send rate is a whole number of pushes per minute, from 1 to 1,000,000 (empty: as fast as possible).",
            )),
        }
    }

    /// Without checking, as [`LinkUrl::trusted`].
    pub fn trusted(per_minute: i64) -> Option<Self> {
        u32::try_from(per_minute).ok().filter(|n| *n > 0).map(Self)
    }

    pub fn per_minute(self) -> u32 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignDraft {
    pub title: String,
    pub body: String,
    pub url: Option<LinkUrl>,
    pub icon: Option<LinkUrl>,
    pub image: Option<LinkUrl>,
    pub badge: Option<LinkUrl>,
    /// At most two: what browsers show.
    pub actions: Vec<DraftAction>,
    pub require_interaction: bool,
    pub options: NotificationOptions,
    pub topic: Option<CollapseTopic>,
    pub ttl: Ttl,
    pub urgency: Urgency,
    /// At most this many pushes a minute; `None`: as fast as possible.
    pub rate: Option<SendRate>,
    /// Variants B, C and D of an A/B test; empty: no test.
    pub variants: Vec<Variant>,
    /// How the test runs; `Some` exactly when there are variants.
    pub ab: Option<AbTest>,
    /// The content in other languages; the fields above are the fallback. Not together
    /// with variants.
    pub translations: Vec<Translation>,
}

impl CampaignDraft {
    /// Validates every field; an error names the field it is about.
    pub fn parse(form: &ComposeForm) -> Result<Self, AppError> {
        for (field, name, text) in [("title", "Title", &form.title), ("body", "Body", &form.body)] {
            if text.contains('\0') {
                return Err(AppError::field(field, format!("{name} must not contain NUL characters.")));
            }
        }
        let title = form.title.trim();
        if title.is_empty() {
            return Err(AppError::field("title", "Title is required."));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(AppError::field("title", format!("Title can be at most {MAX_TITLE_CHARS} characters.")));
        }
        let body = form.body.trim();
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(AppError::field("body", format!("Body can be at most {MAX_BODY_CHARS} characters.")));
        }
        let actions =
            parse_actions([(&form.action1_label, &form.action1_url), (&form.action2_label, &form.action2_url)])?;
        let draft = Self {
            title: title.to_owned(),
            body: body.to_owned(),
            url: LinkUrl::parse_optional("url", "Link URL", &form.url)?,
            icon: LinkUrl::parse_optional("icon", "Icon URL", &form.icon)?,
            image: LinkUrl::parse_optional("image", "Image URL", &form.image)?,
            badge: LinkUrl::parse_optional("badge", "Badge URL", &form.badge)?,
            actions,
            require_interaction: form.require_interaction,
            options: form.options.clone(),
            topic: CollapseTopic::parse_optional(&form.topic)?,
            ttl: Ttl::parse(&form.ttl_secs)?,
            urgency: Urgency::parse(&form.urgency)
                .ok_or_else(|| AppError::field("urgency", "Urgency must be very-low, low, normal or high."))?,
            rate: SendRate::parse_optional(&form.max_per_minute)?,
            variants: Vec::new(),
            ab: None,
            translations: Vec::new(),
        };
        if form.variants.len() > MAX_EXTRA_VARIANTS {
            return Err(AppError::field("variants", "An A/B test has at most four variants (A to D)."));
        }
        let variants = form
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| Variant::parse(v, "variants", &format!("Variant {}", super::ab::letter(i + 1))))
            .collect::<Result<Vec<_>, _>>()?;
        let ab = if variants.is_empty() {
            None
        } else {
            Some(AbTest::parse(&form.ab_test_percent, &form.ab_wait_minutes, &form.ab_pick, &form.ab_holdout_percent)?)
        };
        let translations = Translation::parse_all(&form.translations)?;
        if !variants.is_empty() && !translations.is_empty() {
            return Err(AppError::field(
                "translations",
                "A campaign is either an A/B test or in several languages, not both: remove the variants or the languages.",
            ));
        }
        let draft = Self { variants, ab, translations, ..draft };
        for index in 0..=draft.alternatives().len() {
            let bytes = draft.payload_of(0, index).sent_size();
            if bytes > MAX_PAYLOAD_BYTES {
                let which = match (index, draft.variants.is_empty(), draft.translations.is_empty()) {
                    (_, false, _) => format!("Variant {}", super::ab::letter(index)),
                    (0, _, false) => "The fallback".to_owned(),
                    (i, _, false) => format!("The {} text", draft.translations[i - 1].language),
                    _ => "The notification".to_owned(),
                };
                return Err(AppError::invalid(format!(
                    "{which} is {bytes} bytes; push services accept at most {MAX_PAYLOAD_BYTES}. Shorten the text or links."
                )));
            }
        }
        Ok(draft)
    }

    /// The contents a delivery may carry besides the campaign's own (index 0): its A/B
    /// variants B to D, or else its translations. `deliveries.variant` indexes them.
    pub fn alternatives(&self) -> Vec<&Variant> {
        if self.variants.is_empty() {
            self.translations.iter().map(|t| &t.content).collect()
        } else {
            self.variants.iter().collect()
        }
    }

    /// The notification of content `index` (0: the campaign's own; then
    /// [`CampaignDraft::alternatives`]).
    pub fn payload_of(&self, campaign: i64, index: usize) -> NotificationPayload {
        match index.checked_sub(1).and_then(|i| self.alternatives().get(i).copied()) {
            Some(variant) => self.with_variant(variant).payload(campaign),
            None => self.payload(campaign),
        }
    }

    /// This campaign with a variant's content in place of its own.
    fn with_variant(&self, variant: &Variant) -> Self {
        Self {
            title: variant.title.clone(),
            body: variant.body.clone(),
            url: variant.url.clone(),
            image: variant.image.clone(),
            actions: variant.actions.clone(),
            ..self.clone()
        }
    }

    /// What the service worker receives for this campaign (before the per-recipient token).
    pub fn payload(&self, campaign: i64) -> NotificationPayload {
        let link = |u: &Option<LinkUrl>| u.as_ref().map(|u| u.as_str().to_owned());
        NotificationPayload {
            campaign,
            title: self.title.clone(),
            body: self.body.clone(),
            url: link(&self.url),
            icon: link(&self.icon),
            image: link(&self.image),
            badge: link(&self.badge),
            actions: self
                .actions
                .iter()
                .map(|a| PayloadAction { title: a.label.clone(), url: a.url.as_str().to_owned() })
                .collect(),
            require_interaction: self.require_interaction,
            options: self.options.clone(),
            topic: self.topic.as_ref().map(|t| t.as_str().to_owned()),
            track: None,
            rekey: false,
        }
    }

    /// The form's fields as they are, trimmed but not checked: only for what the compose
    /// page shows while the admin types (the preview and the byte counter), so they show
    /// what would be sent through the same [`CampaignDraft::payload`].
    fn as_typed(form: &ComposeForm) -> Self {
        let link = |raw: &str| Some(raw.trim()).filter(|r| !r.is_empty()).map(|r| LinkUrl::trusted(r.to_owned()));
        Self {
            title: form.title.trim().to_owned(),
            body: form.body.trim().to_owned(),
            url: link(&form.url),
            icon: link(&form.icon),
            image: link(&form.image),
            badge: link(&form.badge),
            actions: typed_actions([
                (&form.action1_label, &form.action1_url),
                (&form.action2_label, &form.action2_url),
            ]),
            require_interaction: form.require_interaction,
            options: form.options.clone(),
            topic: Some(form.topic.trim()).filter(|t| !t.is_empty()).map(|t| CollapseTopic::trusted(t.to_owned())),
            ttl: Ttl::DEFAULT,
            urgency: Urgency::Normal,
            rate: None,
            variants: Vec::new(),
            ab: None,
            translations: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(title: &str, body: &str, url: &str) -> ComposeForm {
        ComposeForm {
            title: title.into(),
            body: body.into(),
            url: url.into(),
            ttl_secs: "86400".into(),
            urgency: "normal".into(),
            ..ComposeForm::default()
        }
    }

    fn parse(title: &str, body: &str, url: &str) -> Result<CampaignDraft, AppError> {
        CampaignDraft::parse(&form(title, body, url))
    }

    fn field_of(error: AppError) -> String {
        match error {
            AppError::InvalidField { field, .. } => field,
            other => panic!("not about a field: {other:?}"),
        }
    }

    #[test]
    fn a_title_is_required() {
        assert_eq!(field_of(parse("  ", "body", "").unwrap_err()), "title");
        assert!(parse("Hello", "", "").is_ok());
    }

    #[test]
    fn links_must_be_web_addresses_or_site_paths() {
        assert!(parse("t", "", "https://example.org/a").is_ok());
        assert!(parse("t", "", "/news/1").is_ok());
        for bad in ["javascript:alert(1)", "//evil.example", "ftp://x.org", "example.org"] {
            assert_eq!(field_of(parse("t", "", bad).unwrap_err()), "url", "{bad}");
        }
        let image = ComposeForm { image: "data:image/png;base64,AAAA".into(), ..form("t", "", "") };
        assert_eq!(field_of(CampaignDraft::parse(&image).unwrap_err()), "image");
    }

    #[test]
    fn links_that_browsers_would_read_as_another_host_are_refused() {
        for sneaky in
            ["/\\evil.example/", "/\\/evil.example", "https://ok.example\\@evil.example/", "/\t/evil.example", "/a\nb"]
        {
            let error = parse("Hi", "", sneaky).unwrap_err();
            assert_eq!(error.field_name(), Some("url"), "{sneaky:?}");
            assert!(error.to_string().contains("backslashes or control characters"), "{sneaky:?}: {error}");
        }
    }

    #[test]
    fn bidi_controls_are_shown_as_code_points() {
        assert_eq!(visible_controls("Sale \u{202E}gnp.exe"), "Sale [U+202E]gnp.exe");
        assert_eq!(visible_controls("plain"), "plain");
    }

    #[test]
    fn nul_characters_are_refused_in_title_and_body() {
        assert_eq!(field_of(parse("Hi\0there", "", "").unwrap_err()), "title");
        assert_eq!(field_of(parse("Hi", "a\0b", "").unwrap_err()), "body");
    }

    #[test]
    fn action_buttons_need_a_label_and_a_link() {
        let both = ComposeForm {
            action1_label: "Shop now".into(),
            action1_url: "https://shop.example/".into(),
            action2_label: "Later".into(),
            action2_url: "/later".into(),
            ..form("t", "", "")
        };
        let draft = CampaignDraft::parse(&both).unwrap();
        assert_eq!(draft.actions.iter().map(|a| a.label.as_str()).collect::<Vec<_>>(), ["Shop now", "Later"]);
        let no_link = ComposeForm { action2_url: " ".into(), ..both.clone() };
        assert_eq!(field_of(CampaignDraft::parse(&no_link).unwrap_err()), "action2_url");
        let no_label = ComposeForm { action1_label: "".into(), ..both.clone() };
        assert_eq!(field_of(CampaignDraft::parse(&no_label).unwrap_err()), "action1_label");
        let bad_link = ComposeForm { action1_url: "javascript:void(0)".into(), ..both };
        assert_eq!(field_of(CampaignDraft::parse(&bad_link).unwrap_err()), "action1_url");
    }

    #[test]
    fn collapse_topics_use_the_rfc_8030_alphabet() {
        assert!(CollapseTopic::parse_optional("spring-sale_2026").unwrap().is_some());
        assert!(CollapseTopic::parse_optional("").unwrap().is_none());
        for bad in ["with space", "ümlaut", "a/b", &"x".repeat(33)] {
            assert!(CollapseTopic::parse_optional(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn send_rates_are_whole_pushes_per_minute_or_empty() {
        assert_eq!(SendRate::parse_optional(" ").unwrap(), None);
        assert_eq!(SendRate::parse_optional("1,200").unwrap().map(SendRate::per_minute), Some(1200));
        for bad in ["0", "-5", "2.5", "1000001", "fast", "99999999999999999999"] {
            assert!(SendRate::parse_optional(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn payloads_over_the_limit_are_refused_with_their_size() {
        let body = "é".repeat(MAX_BODY_CHARS); // 2 bytes each: 4000 bytes
        let error = parse("t", &body, "").unwrap_err();
        assert!(error.to_string().contains("bytes"), "{error}");
    }

    #[test]
    fn the_counted_size_matches_what_is_sent_at_the_limit_case() {
        let full = ComposeForm {
            icon: "https://e.example/i.png".into(),
            action1_label: "Go".into(),
            action1_url: "/go".into(),
            require_interaction: true,
            topic: "news".into(),
            ..form("Title", "Body", "https://e.example/")
        };
        let draft = CampaignDraft::parse(&full).unwrap();
        assert_eq!(full.payload().sent_size(), draft.payload(7).sent_size());
    }

    #[test]
    fn ttl_is_bounded_by_four_weeks() {
        assert!(Ttl::parse("2419200").is_ok());
        assert!(Ttl::parse("2419201").is_err());
        assert!(Ttl::parse("-1").is_err());
    }
}
