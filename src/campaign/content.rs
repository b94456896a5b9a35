//! What a notification says and where it leads, as one campaign content: the checked
//! pieces (links, buttons, lengths) and the content an A/B variant or a translation
//! replaces. Shared by the compose form, A/B tests (`ab`) and languages (`languages`).

use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 2000;
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_ACTION_LABEL_CHARS: usize = 40;

/// A link or image address: absolute http(s) or a path on this site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkUrl(String);

impl LinkUrl {
    /// `None` for an empty field; an error is about form field `field`, called `name`.
    pub fn parse_optional(field: &str, name: &str, raw: &str) -> Result<Option<Self>, AppError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let bad = || AppError::field(field, format!("{name} must be an http(s):// address or a path starting with /."));
        if raw.len() > MAX_URL_CHARS {
            return Err(AppError::field(field, format!("{name} is longer than {MAX_URL_CHARS} characters.")));
        }
        // Browsers read a backslash as "/" and drop tabs and newlines, so "/\evil.example"
        // or "/<tab>/evil.example" would open another site; a real link never has either.
        if raw.contains('\\') || raw.chars().any(char::is_control) {
            return Err(AppError::field(field, format!("{name} must not contain backslashes or control characters.")));
        }
        if raw.starts_with('/') && !raw.starts_with("//") {
            return Ok(Some(Self(raw.to_owned())));
        }
        let url = url::Url::parse(raw).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad());
        }
        Ok(Some(Self(raw.to_owned())))
    }

    /// Without checking: for a value this type accepted before (read back from the
    /// database), or one that is only shown (the compose preview).
    pub fn trusted(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A button under the notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftAction {
    pub label: String,
    pub url: LinkUrl,
}

/// An A/B variant's or a translation's content as typed in the compose form (raw text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VariantForm {
    pub title: String,
    pub body: String,
    pub url: String,
    pub image: String,
    pub action1_label: String,
    pub action1_url: String,
    pub action2_label: String,
    pub action2_url: String,
}

/// A variant's or translation's content, checked: what it replaces of the campaign's own.
/// Icon, badge, TTL, urgency and the rest are the campaign's, shared by all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub title: String,
    pub body: String,
    pub url: Option<LinkUrl>,
    pub image: Option<LinkUrl>,
    pub actions: Vec<DraftAction>,
}

impl Variant {
    /// Checks the fields; errors are about form field `field` and start with `name`
    /// ("Variant B: …", "de: …").
    pub fn parse(form: &VariantForm, field: &str, name: &str) -> Result<Self, AppError> {
        let named = |e: AppError| AppError::field(field, format!("{name}: {e}"));
        let title = form.title.trim();
        if title.is_empty() {
            return Err(named(AppError::invalid("a title is required.")));
        }
        if title.chars().count() > MAX_TITLE_CHARS || form.body.trim().chars().count() > MAX_BODY_CHARS {
            return Err(named(AppError::invalid(format!(
                "the title can be at most {MAX_TITLE_CHARS} characters and the body {MAX_BODY_CHARS}."
            ))));
        }
        if form.title.contains('\0') || form.body.contains('\0') {
            return Err(named(AppError::invalid("the text must not contain NUL characters.")));
        }
        let buttons = [(&form.action1_label, &form.action1_url), (&form.action2_label, &form.action2_url)];
        Ok(Self {
            title: title.to_owned(),
            body: form.body.trim().to_owned(),
            url: LinkUrl::parse_optional(field, "The link", &form.url).map_err(named)?,
            image: LinkUrl::parse_optional(field, "The image", &form.image).map_err(named)?,
            actions: parse_actions(buttons).map_err(named)?,
        })
    }

    /// The typed content as it is, unchecked: for the preview while the admin types.
    pub fn as_typed(form: &VariantForm) -> Self {
        let link = |raw: &str| Some(raw.trim()).filter(|r| !r.is_empty()).map(|r| LinkUrl::trusted(r.to_owned()));
        Self {
            title: form.title.trim().to_owned(),
            body: form.body.trim().to_owned(),
            url: link(&form.url),
            image: link(&form.image),
            actions: typed_actions([
                (&form.action1_label, &form.action1_url),
                (&form.action2_label, &form.action2_url),
            ]),
        }
    }

    /// Back in the form's terms, to edit it.
    pub fn to_form(&self) -> VariantForm {
        let link = |u: &Option<LinkUrl>| u.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default();
        let action = |i: usize| self.actions.get(i).map(|a| (a.label.clone(), a.url.as_str().to_owned()));
        let ((action1_label, action1_url), (action2_label, action2_url)) =
            (action(0).unwrap_or_default(), action(1).unwrap_or_default());
        VariantForm {
            title: self.title.clone(),
            body: self.body.clone(),
            url: link(&self.url),
            image: link(&self.image),
            action1_label,
            action1_url,
            action2_label,
            action2_url,
        }
    }
}

/// The buttons as typed, unchecked (those with a label), as [`CampaignDraft::as_typed`].
pub(super) fn typed_actions(buttons: [(&String, &String); 2]) -> Vec<DraftAction> {
    buttons
        .into_iter()
        .filter(|(label, _)| !label.trim().is_empty())
        .map(|(label, url)| DraftAction {
            label: label.trim().to_owned(),
            url: LinkUrl::trusted(url.trim().to_owned()),
        })
        .collect()
}

/// Up to two buttons, each with a label and a link or neither.
pub(super) fn parse_actions(buttons: [(&String, &String); 2]) -> Result<Vec<DraftAction>, AppError> {
    let mut actions = Vec::new();
    for (n, (label, url)) in (1..).zip(buttons) {
        let (label, url) = (label.trim(), url.trim());
        let field = format!("action{n}_label");
        match (label.is_empty(), url.is_empty()) {
            (true, true) => continue,
            (true, false) => return Err(AppError::field(&field, format!("Button {n} needs a label."))),
            (false, true) => {
                return Err(AppError::field(&format!("action{n}_url"), format!("Button {n} needs a link.")))
            }
            _ => {}
        }
        if label.chars().count() > MAX_ACTION_LABEL_CHARS {
            return Err(AppError::field(
                &field,
                format!("Button labels can be at most {MAX_ACTION_LABEL_CHARS} characters."),
            ));
        }
        let url = LinkUrl::parse_optional(&format!("action{n}_url"), &format!("Button {n} link"), url)?
            .expect("checked non-empty above");
        actions.push(DraftAction { label: label.to_owned(), url });
    }
    Ok(actions)
}
