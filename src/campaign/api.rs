//! The campaign endpoints: compose, send, schedule, test, cancel, copy, list, report.
//! Each is an admin-only server function: authorize, parse into the types beside this
//! file, call the store.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::{ActivityBucket, Audience, CampaignDraft, Plan};
use super::{CampaignReport, CampaignSummary, ComposeForm};
use crate::error::AppError;

/// How many subscribers a campaign sent now would reach.
/// `audience`: comma-separated topic ids, empty for everyone; `sites`: site ids, empty for
/// every site.
#[server(endpoint = "admin/audience_size")]
pub async fn audience_size(
    #[server(default)] audience: String,
    #[server(default)] sites: String,
) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        crate::session::require_admin().await?;
        let audience = Audience::parse(&audience, &sites)?;
        Ok(state.store.audience_size(&audience).await?)
    })
    .await
}

/// Why a campaign to nobody is not sent: a "sent" campaign with no deliveries would look
/// like a delivery failure.
pub const NOBODY_TO_REACH: &str =
    "Nobody would receive this: no subscriber matches the chosen sites and topics, so nothing was sent.";

/// The audience the compose form names, each topic and site checked to be active.
#[cfg(feature = "ssr")]
pub(crate) async fn checked_audience(state: &crate::state::AppState, form: &ComposeForm) -> Result<Audience, AppError> {
    let audience = Audience::parse(&form.audience, &form.sites)?;
    crate::topic::api::active_topics(state, &form.audience, "audience").await?;
    if !state.store.inactive_sites(&audience.sites).await?.is_empty() {
        return Err(AppError::field(
            "sites",
            "One of the chosen sites was archived; reload the page and choose again.",
        ));
    }
    Ok(audience)
}

/// Saves what the admin composed: sends it now (queued for the dispatcher, which sends it
/// in the background), schedules it, or keeps it as a draft; as a new campaign, or over the
/// draft or scheduled campaign `campaign_id`. Returns the campaign's id.
/// The form's fields arrive one by one (a plain HTML form posts them so) and are read
/// into one [`ComposeForm`]; any of them may be missing (an empty field).
#[server(endpoint = "admin/send_campaign")]
pub async fn send_campaign(
    #[server(flatten)] form: ComposeForm,
    /// The pressed button: "send" (the default) or "draft".
    #[server(default)]
    intent: String,
    /// "now" (the default) or "later", at `send_at` (a `datetime-local` value in the
    /// admin's time zone).
    #[server(default)]
    when: String,
    #[server(default)] send_at: String,
    /// The draft or scheduled campaign being edited; empty for a new one.
    #[server(default)]
    campaign_id: String,
) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        use crate::store::Saved;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let existing = match campaign_id.trim() {
            "" => None,
            id => Some(id.parse::<i64>().map_err(|_| AppError::invalid("campaign_id must be a campaign number."))?),
        };
        let draft = CampaignDraft::parse(&form)?;
        let audience = checked_audience(&state, &form).await?;
        let plan = Plan::parse(intent.trim(), when.trim(), &send_at, &admin.zone(), state.config.clock.now())?;
        let before = match existing {
            Some(id) => match state.store.campaign_row(id).await? {
                Some(row) => Some(ComposeForm::from_draft(&row.draft, &state.store.campaign_audience(id).await?)),
                None => None,
            },
            None => None,
        };
        // An editor's campaign to a site that requires approval is kept as a draft that
        // waits for an owner; owners send their own.
        let needs_approval = admin.role < crate::admin::role::Role::Owner
            && plan != Plan::Draft
            && state.store.needs_approval(&audience).await?;
        if needs_approval && matches!(plan, Plan::Local { .. }) {
            // An approval carries one start time; a local-time delivery has one per zone.
            return Err(AppError::field(
                "when",
                "A campaign that needs an owner's approval cannot be delivered by local time yet: \
                 choose a time, or ask an owner to schedule it.",
            ));
        }
        let saved_plan = if needs_approval { Plan::Draft } else { plan };
        // Asking an owner to send to nobody would only be refused when they approve it.
        if needs_approval && plan == Plan::Now && state.store.audience_size(&audience).await? == 0 {
            return Err(AppError::invalid(NOBODY_TO_REACH));
        }
        let id = match state
            .store
            .save_campaign(&draft, &audience, saved_plan, crate::store::Author::Admin(admin.id), existing)
            .await?
        {
            Saved::Campaign(id) => id,
            Saved::NotEditable => {
                return Err(AppError::Conflict(
                    "This campaign has already started (or was deleted), so it can no longer be changed.".into(),
                ))
            }
            Saved::NobodyToReach => return Err(AppError::invalid(NOBODY_TO_REACH)),
        };
        if needs_approval {
            let send_at = match plan {
                Plan::At(at) => Some(at),
                _ => None,
            };
            state.store.request_approval(id, admin.id, send_at).await?;
            tracing::info!(campaign = id, admin = %admin.username, "approval requested");
            crate::audit::ssr::by_admin(
                &state,
                &admin,
                "campaign.request_approval",
                &format!("campaign {id}"),
                None,
                serde_json::to_value(&form).ok(),
            )
            .await;
            return Ok(id);
        }
        match plan {
            Plan::Now => {
                state.dispatcher_wake.notify_one();
                tracing::info!(campaign = id, admin = %admin.username, "campaign queued");
            }
            Plan::At(at) | Plan::Local { starts: at, .. } => {
                // The dispatcher may be asleep until an earlier time; let it look again.
                state.dispatcher_wake.notify_one();
                tracing::info!(campaign = id, admin = %admin.username, at, "campaign scheduled");
            }
            Plan::Draft => tracing::info!(campaign = id, admin = %admin.username, "draft saved"),
        }
        let action = match (plan, existing) {
            (Plan::Now, _) => "campaign.send",
            (Plan::At(_) | Plan::Local { .. }, _) => "campaign.schedule",
            (Plan::Draft, None) => "campaign.create",
            (Plan::Draft, Some(_)) => "campaign.edit",
        };
        let json = |form: &ComposeForm| serde_json::to_value(form).ok();
        crate::audit::ssr::by_admin(
            &state,
            &admin,
            action,
            &format!("campaign {id}"),
            before.as_ref().and_then(json),
            json(&form),
        )
        .await;
        Ok(id)
    })
    .await
}

/// Copies a campaign's content into a new draft, to send it again or build on it.
/// Returns the draft's id.
#[server(endpoint = "admin/duplicate_campaign")]
pub async fn duplicate_campaign(id: i64) -> Result<i64, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let copy = state
            .store
            .duplicate_campaign(id, crate::store::Author::Admin(admin.id))
            .await?
            .ok_or(AppError::NotFound)?;
        tracing::info!(campaign = id, draft = copy, admin = %admin.username, "campaign duplicated");
        crate::audit::ssr::by_admin(
            &state,
            &admin,
            "campaign.duplicate",
            &format!("campaign {id}"),
            None,
            Some(serde_json::json!({ "draft": copy })),
        )
        .await;
        Ok(copy)
    })
    .await
}

/// Deletes a draft. Campaigns that were scheduled or sent are cancelled, not deleted, so
/// their history stays.
#[server(endpoint = "admin/delete_draft")]
pub async fn delete_draft(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        if !state.store.delete_draft(id).await? {
            return Err(AppError::Conflict("Only a draft can be deleted.".into()));
        }
        tracing::info!(campaign = id, admin = %admin.username, "draft deleted");
        crate::audit::ssr::by_admin(&state, &admin, "campaign.delete_draft", &format!("campaign {id}"), None, None)
            .await;
        Ok(())
    })
    .await
}

/// Sends the composed notification to one subscription only — the admin's own browser —
/// right away, and says what its push service answered. Nothing is stored or counted.
#[server(endpoint = "admin/send_test")]
pub async fn send_test(endpoint: String, form: ComposeForm) -> Result<String, AppError> {
    crate::error::ssr::respond(async move {
        use crate::push::client::{PushMessage, PushResult};
        let state = crate::state::AppState::get()?;
        crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let draft = CampaignDraft::parse(&form)?;
        // Only a subscription we already have: this is not a way to push anywhere else.
        let to = state.store.subscription_by_endpoint(endpoint.trim()).await?.ok_or_else(|| {
            AppError::invalid("This browser's subscription is not on the server. Subscribe on the public page first.")
        })?;
        let message =
            PushMessage { ttl_secs: draft.ttl.seconds(), urgency: draft.urgency.as_str(), topic: "test".into() };
        let vapid = state.keys.key(&state.store, to.key_id).await.map_err(crate::error::ssr::internal)?;
        match state.push.send(&vapid, &to, &message, &draft.payload(0).to_bytes()).await {
            PushResult::Answered { status, .. } if (200..300).contains(&status) => {
                Ok(format!("Sent to this browser (the push service answered {status})."))
            }
            PushResult::Answered { status, body, .. } => {
                Err(AppError::invalid(format!("The push service refused the test ({status}): {body}")))
            }
            PushResult::NoAnswer(why) | PushResult::NotSent(why) => {
                Err(AppError::invalid(format!("The test could not be sent: {why}")))
            }
            PushResult::OriginPaused(_) => {
                Err(AppError::invalid("This browser's push service asked us to slow down; try again in a minute."))
            }
            PushResult::ServiceDown(_) => Err(AppError::invalid(
                "This browser's push service keeps failing (timeouts or 5xx); sending to it is paused. Try again in a minute.",
            )),
        }
    })
    .await
}

/// Stops a scheduled, queued or sending campaign: no new push starts after this returns
/// (requests already in flight finish). Deliveries not yet sent stay unsent.
#[server(endpoint = "admin/cancel_campaign")]
pub async fn cancel_campaign(id: i64) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        if !state.store.cancel_campaign(id).await? {
            return Err(AppError::Conflict("Only a scheduled, queued or sending campaign can be cancelled.".into()));
        }
        tracing::info!(campaign = id, admin = %admin.username, "campaign cancelled");
        crate::audit::ssr::by_admin(&state, &admin, "campaign.cancel", &format!("campaign {id}"), None, None).await;
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/list_campaigns")]
pub async fn list_campaigns() -> Result<Vec<CampaignSummary>, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_admin().await?;
        Ok(admin.zone().localize(state.store.campaign_summaries(50).await?))
    })
    .await
}

/// How many slices the activity chart has at most.
#[cfg(feature = "ssr")]
pub const ACTIVITY_BUCKETS: i64 = 48;

#[server(endpoint = "admin/campaign_report")]
pub async fn get_campaign_report(id: i64) -> Result<CampaignReport, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_admin().await?;
        let mut summary = state.store.campaign_summary(id).await?.ok_or(AppError::NotFound)?;
        summary.local = admin.zone().times(&summary);
        let chosen = state.store.campaign_audience(id).await?;
        let form = state
            .store
            .campaign_row(id)
            .await?
            .map(|row| ComposeForm::from_draft(&row.draft, &chosen))
            .unwrap_or_default();
        let names = state.store.topics().await?;
        let audience =
            chosen.topics.iter().filter_map(|t| names.iter().find(|n| n.id == t.0).map(|n| n.name.clone())).collect();
        let site_names = state.store.sites().await?;
        let sites = chosen
            .sites
            .iter()
            .filter_map(|s| site_names.iter().find(|n| n.id == s.0).map(|n| n.name.clone()))
            .collect();
        let failures = state.store.failure_reasons(id).await?;
        let start = summary.started_at.unwrap_or(summary.created_at);
        // Slices sized so the campaign so far (and its clicks) fit the chart, at least 1 s.
        let end = state.store.last_activity_at(id).await?.unwrap_or(start).max(start);
        let bucket_secs = ((end - start) / ACTIVITY_BUCKETS + 1).max(1);
        let counted = state.store.activity(id, start, bucket_secs).await?;
        let last = counted.last().map(|(bucket, _, _)| *bucket).unwrap_or(-1);
        let activity = (0..=last)
            .map(|bucket| {
                let (sent, clicked) = counted
                    .iter()
                    .find(|(b, _, _)| *b == bucket)
                    .map(|(_, sent, clicked)| (*sent, *clicked))
                    .unwrap_or((0, 0));
                ActivityBucket { offset_secs: bucket * bucket_secs, sent, clicked }
            })
            .collect();
        let zone = admin.zone();
        let approval = state
            .store
            .approval(id)
            .await?
            .filter(|a| {
                // Declined: back to a draft, with the owner's name (approved ones have moved on).
                a.waiting == 1 || (a.reviewed_by.is_some() && summary.status == crate::campaign::CampaignStatus::Draft)
            })
            .map(|a| super::Approval {
                waiting: a.waiting == 1,
                may_review: a.waiting == 1
                    && admin.role == crate::admin::role::Role::Owner
                    && a.requested_by.as_deref() != Some(admin.username.as_str()),
                requested_by: a.requested_by,
                requested: a.requested_at.map(|at| zone.format(at)),
                send_at: a.send_at.map(|at| zone.format(at)),
                reviewed_by: a.reviewed_by,
                note: a.review_note,
            });
        let ab = match state.store.ab_state(id).await? {
            Some(test) => {
                let variants = state.store.variant_results(id, &test.titles).await?;
                Some(super::ab::AbReport {
                    test: test.test,
                    verdict: super::ab::Verdict::of(&variants),
                    variants,
                    held_out: test.held_out,
                    waiting: test.waiting,
                    winner: test.winner.map(|w| super::ab::letter(usize::from(w))),
                    decides_at: test.decides_at().map(|at| zone.format(at)),
                    may_pick: test.running && test.winner.is_none() && test.test.has_rest(),
                })
            }
            None => None,
        };
        let languages = state.store.language_results(id).await?;
        // Waves by the hour of the reading admin's clock they open in.
        let mut local_waves: Vec<(i64, super::LocalWave)> = Vec::new();
        for (due_at, due, sent) in state.store.local_timeline(id).await? {
            let hour = due_at - due_at.rem_euclid(3600);
            match local_waves.last_mut() {
                Some((last, wave)) if *last == hour => {
                    wave.due += due;
                    wave.sent += sent;
                }
                _ => local_waves.push((hour, super::LocalWave { hour: zone.format(hour), due, sent })),
            }
        }
        let local_waves = local_waves.into_iter().map(|(_, wave)| wave).collect();
        Ok(CampaignReport {
            summary,
            form,
            audience,
            sites,
            failures,
            activity,
            bucket_secs,
            approval,
            ab,
            languages,
            local_waves,
        })
    })
    .await
}

/// Picks the winner of a campaign's A/B test by hand (`variant`: its letter, "A" to "D"):
/// the rest of the audience gets it now. Only while the campaign runs and before any
/// winner was picked (by hand or automatically).
#[server(endpoint = "admin/pick_winner")]
pub async fn pick_winner(id: i64, variant: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Editor).await?;
        let test = state.store.ab_state(id).await?.ok_or(AppError::NotFound)?;
        let index = match variant.trim().as_bytes() {
            [letter @ b'A'..=b'D'] => usize::from(letter - b'A'),
            _ => return Err(AppError::field("variant", "Name the variant by its letter, A to D.")),
        };
        if index >= test.titles.len() {
            return Err(AppError::field("variant", "This campaign has no such variant."));
        }
        if !test.test.has_rest() || !state.store.release_winner(id, index as u8, state.config.clock.now()).await? {
            return Err(AppError::Conflict(
                "A winner can only be picked once, while the campaign runs and part of its audience waits for it."
                    .into(),
            ));
        }
        state.dispatcher_wake.notify_one();
        let letter = super::ab::letter(index);
        tracing::info!(campaign = id, admin = %admin.username, winner = %letter, "A/B winner picked");
        let after = Some(serde_json::json!({ "winner": letter.to_string() }));
        crate::audit::ssr::by_admin(&state, &admin, "campaign.pick_winner", &format!("campaign {id}"), None, after)
            .await;
        Ok(())
    })
    .await
}

/// An owner approves (`decision` "approve": it is queued, or scheduled for the time asked)
/// or declines ("decline", with an optional `note` for the editor: it stays a draft) a
/// campaign waiting for approval. Nobody approves their own request.
#[server(endpoint = "admin/review_campaign")]
pub async fn review_campaign(id: i64, decision: String, #[server(default)] note: String) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        use crate::store::Review;
        let state = crate::state::AppState::get()?;
        let admin = crate::session::require_role(crate::admin::role::Role::Owner).await?;
        let approve = match decision.trim() {
            "approve" => true,
            "decline" => false,
            _ => return Err(AppError::field("decision", "Say approve or decline.")),
        };
        let note = note.trim();
        if note.chars().count() > 500 {
            return Err(AppError::field("note", "Keep the note under 500 characters."));
        }
        let note = (!note.is_empty()).then_some(note);
        let action = match state.store.review_campaign(id, admin.id, approve, note).await? {
            Review::NotWaiting => {
                return Err(AppError::Conflict("This campaign is not waiting for approval (any more).".into()))
            }
            Review::OwnRequest => {
                return Err(AppError::Forbidden(
                    "You asked for this approval yourself: another owner has to approve it.".into(),
                ))
            }
            Review::NobodyToReach => return Err(AppError::invalid(NOBODY_TO_REACH)),
            Review::Approved { .. } => {
                state.dispatcher_wake.notify_one();
                "campaign.approve"
            }
            Review::Declined => "campaign.decline",
        };
        tracing::info!(campaign = id, admin = %admin.username, action, "campaign reviewed");
        let after = note.map(|note| serde_json::json!({ "note": note }));
        crate::audit::ssr::by_admin(&state, &admin, action, &format!("campaign {id}"), None, after).await;
        Ok(())
    })
    .await
}
