//! A campaign in several languages: its own content is the fallback, and each translation
//! replaces the title, body, link, image and buttons for subscribers whose browser language
//! (recorded when they subscribed; else their site's language) it matches best.

use serde::{Deserialize, Serialize};

use super::content::{Variant, VariantForm};
use crate::error::AppError;

/// Translations besides the fallback, at most.
pub const MAX_TRANSLATIONS: usize = 12;

/// A translation as typed in the compose form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TranslationForm {
    /// A BCP 47 tag: `de`, `pt-BR`.
    pub language: String,
    pub content: VariantForm,
}

/// A translation, checked. The language is kept in lower case (tags are case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    pub language: String,
    pub content: Variant,
}

impl Translation {
    /// Checks every translation: tags well formed and each named once, contents as a
    /// variant's. Errors name the language ("German (de): …").
    pub fn parse_all(forms: &[TranslationForm]) -> Result<Vec<Self>, AppError> {
        if forms.len() > MAX_TRANSLATIONS {
            return Err(AppError::field("translations", format!("At most {MAX_TRANSLATIONS} languages.")));
        }
        let mut parsed: Vec<Self> = Vec::with_capacity(forms.len());
        for form in forms {
            let language = crate::site::Language::parse(&form.language, "translations")?.as_str().to_ascii_lowercase();
            if parsed.iter().any(|t| t.language == language) {
                return Err(AppError::field("translations", format!("{language} is named twice.")));
            }
            let content = Variant::parse(&form.content, "translations", &language)?;
            parsed.push(Self { language, content });
        }
        Ok(parsed)
    }

    pub fn to_form(&self) -> TranslationForm {
        TranslationForm { language: self.language.clone(), content: self.content.to_form() }
    }
}

/// Which of `offered` (lower-case tags) suits a subscriber whose browser says `language`,
/// best first: the same tag (`de-at` for `de-AT`); else the tag of its language alone (`de`
/// for `de-AT`); else another region of its language (`pt-br` for `pt-PT`). `None`: none
/// suits, the fallback is sent.
pub fn best_match(language: &str, offered: &[String]) -> Option<usize> {
    let language = language.trim().to_ascii_lowercase();
    let primary = |tag: &str| tag.split('-').next().unwrap_or_default().to_owned();
    let wanted = primary(&language);
    if wanted.is_empty() {
        return None;
    }
    offered
        .iter()
        .position(|t| *t == language)
        .or_else(|| offered.iter().position(|t| *t == wanted))
        .or_else(|| offered.iter().position(|t| primary(t) == wanted))
}

/// The content index a subscriber gets: 0 for the fallback, `i + 1` for translation `i`.
/// Their own browser language decides; without one (or none recorded), their site's.
pub fn content_for(language: Option<&str>, site_language: Option<&str>, offered: &[String]) -> usize {
    let own = language.filter(|l| !l.trim().is_empty());
    own.or(site_language).and_then(|l| best_match(l, offered)).map_or(0, |i| i + 1)
}

/// One language's results on the campaign page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageResult {
    /// `None`: the fallback.
    pub language: Option<String>,
    pub sent: i64,
    pub clicked: i64,
}

impl LanguageResult {
    /// Clicks per delivered notification, in percent; none before anything was sent.
    pub fn click_through_percent(&self) -> Option<f64> {
        (self.sent > 0).then(|| self.clicked as f64 * 100.0 / self.sent as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_match_of_a_browser_language() {
        let offered: Vec<String> = ["de", "fr", "pt-br", "zh-hant"].map(String::from).to_vec();
        let table = [
            ("de", Some(0)),
            ("de-AT", Some(0)),
            ("DE-ch", Some(0)),
            ("fr-CA", Some(1)),
            ("pt-BR", Some(2)),
            ("pt-PT", Some(2)),
            ("pt", Some(2)),
            ("zh-Hant-TW", Some(3)),
            ("en-US", None),
            ("", None),
        ];
        for (language, expected) in table {
            assert_eq!(best_match(language, &offered), expected, "{language}");
        }
        // An exact tag wins over the language alone.
        let both: Vec<String> = ["pt", "pt-br"].map(String::from).to_vec();
        assert_eq!(best_match("pt-BR", &both), Some(1));
        assert_eq!(best_match("pt-AO", &both), Some(0));
    }

    #[test]
    fn without_a_browser_language_the_site_decides() {
        let offered: Vec<String> = vec!["de".into()];
        assert_eq!(content_for(Some("de-AT"), Some("en"), &offered), 1);
        assert_eq!(content_for(None, Some("de"), &offered), 1);
        assert_eq!(content_for(Some(" "), Some("de"), &offered), 1);
        assert_eq!(content_for(Some("en"), Some("de"), &offered), 0, "their own language wins");
        assert_eq!(content_for(None, None, &offered), 0);
    }

    #[test]
    fn translations_are_checked_and_named_once() {
        let form = |language: &str, title: &str| TranslationForm {
            language: language.into(),
            content: VariantForm { title: title.into(), ..Default::default() },
        };
        let parsed = Translation::parse_all(&[form("DE", "Hallo"), form("fr", "Salut")]).unwrap();
        assert_eq!(parsed[0].language, "de");
        for bad in
            [vec![form("de", "Hallo"), form("de", "Servus")], vec![form("deutsch!", "Hallo")], vec![form("de", " ")]]
        {
            let error = Translation::parse_all(&bad).unwrap_err();
            assert_eq!(error.field_name(), Some("translations"), "{error}");
        }
        let error = Translation::parse_all(&[form("de", " ")]).unwrap_err();
        assert_eq!(error.to_string(), "de: a title is required.");
    }
}
