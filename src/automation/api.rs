//! The automation endpoints: list, create, pause or resume, delete. Editors and owners
//! make and change them; every change is audited.

use leptos::prelude::*;

use super::AutomationSummary;
use crate::error::AppError;

#[server(endpoint = "admin/automations")]
pub async fn list_automations() -> Result<Vec<AutomationSummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let zone = crate::session::require_admin().await?.zone();
        let rows = state.store.automations().await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let form: crate::campaign::ComposeForm = serde_json::from_str(&row.content).unwrap_or_default();
                let repeat = row.repeat.as_deref().and_then(|r| serde_json::from_str::<super::Repeat>(r).ok());
                let trigger = match (row.kind.as_str(), repeat) {
                    ("recurring", Some(repeat)) => format!("{} ({})", repeat.describe(), row.zone),
                    _ => match row.delay_minutes.unwrap_or(0) {
                        0 => "Right after someone subscribes".to_owned(),
                        1 => "1 minute after someone subscribes".to_owned(),
                        m => format!("{m} minutes after someone subscribes"),
                    },
                };
                AutomationSummary {
                    id: row.id,
                    name: row.name,
                    kind: row.kind,
                    trigger,
                    title: form.title,
                    paused: row.paused != 0,
                    campaigns: row.campaigns,
                    latest_campaign: row.latest_campaign,
                    sent: row.sent,
                    clicked: row.clicked,
                    next_run: row.next_run_at.filter(|_| row.paused == 0).map(|at| zone.format(at)),
                }
            })
            .collect())
    })
    .await
}

/// A new automation (see [`AutomationForm`]). Returns its id.
#[server(endpoint = "admin/create_automation")]
pub async fn create_automation(#[server(flatten)] form: super::AutomationForm) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        use crate::campaign::{CampaignDraft, ComposeForm, Plan};
        use crate::store::{NewAutomation, Saved};
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let super::AutomationForm {
            name,
            kind,
            title,
            body,
            url,
            sites,
            audience,
            delay_minutes,
            every,
            weekday,
            at_time,
        } = form;
        let name = super::parse_name(&name)?;
        let form = ComposeForm {
            title,
            body,
            url,
            sites,
            audience,
            ttl_secs: crate::campaign::Ttl::DEFAULT.seconds().to_string(),
            urgency: crate::campaign::Urgency::Normal.as_str().to_owned(),
            ..ComposeForm::default()
        };
        let draft = CampaignDraft::parse(&form)?;
        let chosen = crate::campaign::api::checked_audience(&state, &form).await?;
        let author = crate::store::Author::Admin(admin.id);
        let id = match kind.trim() {
            "welcome" => {
                let delay_minutes = super::parse_delay(&delay_minutes)?;
                let Saved::Campaign(campaign) =
                    state.store.save_campaign(&draft, &chosen, Plan::Draft, author, None).await?
                else {
                    return Err(AppError::invalid("The welcome's campaign could not be made."));
                };
                let what = NewAutomation::Welcome { delay_minutes, campaign };
                state.store.create_automation(&name, &form, what, admin.id).await?
            }
            "recurring" => {
                let repeat = super::Repeat::parse(&every, &weekday, &at_time)?;
                let zone = admin.zone();
                let first_run = repeat.next_after(zone.tz(), state.config.clock.now());
                let what = NewAutomation::Recurring { repeat, zone: zone.name(), first_run };
                state.store.create_automation(&name, &form, what, admin.id).await?
            }
            _ => return Err(AppError::field("kind", "Choose a welcome or a recurring campaign.")),
        };
        state.dispatcher_wake.notify_one();
        tracing::info!(automation = id, admin = %admin.username, "automation created");
        let after = serde_json::to_value(&form).ok();
        crate::audit::ssr::by_admin(&state, &admin, "automation.create", &format!("automation {id}"), None, after)
            .await;
        Ok(id)
    })
    .await
}

/// Pauses (`paused` "true") or resumes ("false") an automation. A paused welcome skips
/// nobody: on resuming, whoever subscribed meanwhile (and is past the delay) gets it.
#[server(endpoint = "admin/pause_automation")]
pub async fn pause_automation(id: i64, paused: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let paused = match paused.trim() {
            "true" => true,
            "false" => false,
            _ => return Err(AppError::field("paused", "Say true or false.")),
        };
        if !state.store.set_automation_paused(id, paused).await? {
            return Err(AppError::NotFound);
        }
        state.dispatcher_wake.notify_one();
        let action = if paused { "automation.pause" } else { "automation.resume" };
        crate::audit::ssr::by_admin(&state, &admin, action, &format!("automation {id}"), None, None).await;
        Ok(())
    })
    .await
}

/// Deletes an automation; what it already sent stays on its campaigns' pages.
#[server(endpoint = "admin/delete_automation")]
pub async fn delete_automation(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        if !state.store.delete_automation(id).await? {
            return Err(AppError::NotFound);
        }
        crate::audit::ssr::by_admin(&state, &admin, "automation.delete", &format!("automation {id}"), None, None).await;
        Ok(())
    })
    .await
}
