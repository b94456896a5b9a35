//! The site endpoints: what the widget asks for on a site's page, and what admins manage.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::{
    cors::RequestSite, PromptStyle, SiteId, SiteName, SiteOrigin, WidgetSettings, WorkerPath, OWN_SITE, OWN_WORKER_PATH,
};
use super::{FrequencyCap, SiteDetail, SiteSummary, WidgetConfig, WidgetTexts};
use crate::error::AppError;

/// What the widget needs on the page it runs on: the site its `Origin` proves (an
/// unregistered origin never gets here, see `site::cors`), its words, topics and the key.
#[server(endpoint = "site_widget")]
pub async fn site_widget() -> Result<WidgetConfig, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let site = RequestSite::current().await?;
        let row = state.store.site(site.id).await?.ok_or(AppError::NotFound)?;
        Ok(WidgetConfig {
            site: row.id,
            vapid_public_key: state
                .keys
                .current(&state.store)
                .await
                .map_err(crate::error::ssr::internal)?
                .keys
                .public_key()
                .to_owned(),
            worker_path: if site.id == OWN_SITE { OWN_WORKER_PATH.into() } else { row.worker_path.clone() },
            widget: row.widget(),
            topics: state.store.offered_topics(site.id).await?,
        })
    })
    .await
}

#[server(endpoint = "admin/sites")]
pub async fn list_sites() -> Result<Vec<SiteSummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        Ok(state.store.sites().await?)
    })
    .await
}

#[server(endpoint = "admin/site")]
pub async fn get_site(id: i64) -> Result<SiteDetail, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        let row = state.store.site(SiteId(id)).await?.ok_or(AppError::NotFound)?;
        let summary = state.store.sites().await?.into_iter().find(|s| s.id == id).ok_or(AppError::NotFound)?;
        Ok(SiteDetail {
            summary,
            worker_path: row.worker_path.clone(),
            widget: row.widget(),
            has_user_secret: row.user_secret.is_some(),
            requires_approval: row.requires_approval != 0,
            cap: row.cap(),
            tidings_origin: tidings_origin(&state.config.public_url),
        })
    })
    .await
}

/// Adds a site by its name and origin. Returns its id.
#[server(endpoint = "admin/create_site")]
pub async fn create_site(name: String, origin: String) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let name = SiteName::parse(&name)?;
        let origin = not_ours(SiteOrigin::parse(&origin)?, &state.config.public_url)?;
        let id = state.store.create_site(&name, &origin).await?.ok_or_else(|| taken(&origin))?;
        tracing::info!(site = id, origin = origin.as_str(), admin = %admin.username, "site added");
        let after = serde_json::json!({ "name": name.as_str(), "origin": origin.as_str() });
        crate::audit::ssr::by_admin(&state, &admin, "site.create", &format!("site {id}"), None, Some(after)).await;
        Ok(id)
    })
    .await
}

/// Saves a site's settings: name, origin (not for the own page), worker file, the widget's
/// style, language and texts (an empty text means the default), and its time zone.
#[server(endpoint = "admin/update_site")]
pub async fn update_site(
    id: i64,
    name: String,
    #[server(default)] origin: String,
    worker_path: String,
    prompt: String,
    #[server(flatten)] locale: super::SiteLocale,
    #[server(flatten)] texts: WidgetTexts,
) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let row = state.store.site(SiteId(id)).await?.ok_or(AppError::NotFound)?;
        let name = SiteName::parse(&name)?;
        let origin = match row.origin {
            None => None,
            Some(_) => Some(not_ours(SiteOrigin::parse(&origin)?, &state.config.public_url)?),
        };
        let worker_path = WorkerPath::parse(&worker_path)?;
        let super::SiteLocale { language, time_zone } = locale;
        let time_zone = match time_zone.trim() {
            "" => String::new(),
            name => crate::zone::AdminZone::named(name)
                .ok_or_else(|| AppError::field("time_zone", "Unknown time zone: use a name such as Europe/Berlin."))?
                .name()
                .to_owned(),
        };
        let widget =
            WidgetSettings { prompt: PromptStyle::parse(&prompt)?, language, texts: texts.normalized(), time_zone };
        widget.check()?;
        match state.store.update_site(SiteId(id), &name, origin.as_ref(), &worker_path, &widget).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(AppError::NotFound),
            Err(e) => Err(crate::error::ssr::unique_or_internal(e, || {
                taken(origin.as_ref().expect("only origins are unique"))
            })),
        }
    })
    .await
}

/// Archives a site (its widget and worker are refused, campaigns no longer reach it;
/// its subscriptions are kept) or brings it back. The own page cannot be archived.
#[server(endpoint = "admin/archive_site")]
pub async fn archive_site(id: i64, archived: bool) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        if !state.store.set_site_archived(SiteId(id), archived).await? {
            return Err(AppError::NotFound);
        }
        tracing::info!(site = id, archived, admin = %admin.username, "site archive state changed");
        let action = if archived { "site.archive" } else { "site.restore" };
        crate::audit::ssr::by_admin(&state, &admin, action, &format!("site {id}"), None, None).await;
        Ok(())
    })
    .await
}

/// Whether campaigns that editors send to this site wait for an owner's approval.
#[server(endpoint = "admin/set_site_approval")]
pub async fn set_site_approval(id: i64, required: bool) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        if !state.store.set_site_requires_approval(id, required).await? {
            return Err(AppError::NotFound);
        }
        tracing::info!(site = id, required, admin = %admin.username, "site approval setting changed");
        let after = serde_json::json!({ "requires_approval": required });
        crate::audit::ssr::by_admin(&state, &admin, "site.approval", &format!("site {id}"), None, Some(after)).await;
        Ok(())
    })
    .await
}

/// The site's frequency cap: at most `per_day` / `per_week` campaign pushes per subscriber
/// (each empty for no limit).
#[server(endpoint = "admin/set_site_cap")]
pub async fn set_site_cap(id: i64, per_day: String, per_week: String) -> Result<FrequencyCap, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let cap = FrequencyCap::parse(&per_day, &per_week)?;
        let before = state.store.site(SiteId(id)).await?.ok_or(AppError::NotFound)?.cap();
        if !state.store.set_site_cap(id, cap).await? {
            return Err(AppError::NotFound);
        }
        tracing::info!(site = id, ?cap, admin = %admin.username, "site frequency cap changed");
        crate::audit::ssr::by_admin(
            &state,
            &admin,
            "site.cap",
            &format!("site {id}"),
            Some(serde_json::json!(before)),
            Some(serde_json::json!(cap)),
        )
        .await;
        Ok(cap)
    })
    .await
}

/// Makes a new secret for signing user ids (the old one stops working) and returns it:
/// it is shown this once.
#[server(endpoint = "admin/rotate_site_secret")]
pub async fn rotate_site_secret(id: i64) -> Result<String, AppError> {
    crate::error::ssr::respond(async move {
        use base64::Engine as _;
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        if !state.store.set_site_user_secret(SiteId(id), &secret).await? {
            return Err(AppError::NotFound);
        }
        tracing::info!(site = id, admin = %admin.username, "site secret for user ids replaced");
        crate::audit::ssr::by_admin(&state, &admin, "site.rotate_secret", &format!("site {id}"), None, None).await;
        Ok(secret)
    })
    .await
}

/// The origin of `public_url` (`https://push.example.org`), where the snippets point.
#[cfg(feature = "ssr")]
pub fn tidings_origin(public_url: &str) -> String {
    url::Url::parse(public_url).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| public_url.to_owned())
}

/// Tidings' own address is the first site already.
#[cfg(feature = "ssr")]
fn not_ours(origin: SiteOrigin, public_url: &str) -> Result<SiteOrigin, AppError> {
    if origin.as_str() == tidings_origin(public_url) {
        return Err(AppError::field(
            "origin",
            "That is Tidings' own address: its public page is the first site already.",
        ));
    }
    Ok(origin)
}

#[cfg(feature = "ssr")]
fn taken(origin: &SiteOrigin) -> AppError {
    AppError::Conflict(format!("{} is registered already.", origin.as_str()))
}
