//! `/api/v1`: JSON over plain axum routes, each documented where it is defined (utoipa)
//! so the OpenAPI document at `/api/v1/openapi.json` is generated from the code. Every
//! route runs behind [`super::auth::authenticate`] (a live key, within its rate, before the
//! body is read) and names the scope it needs in its first line.

use axum::extract::State;
use axum::routing::get;
use axum::{middleware, Extension, Json};
use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiCaller;
use super::problem::{ApiJson, ApiPath, ApiQuery, Problem};
use super::Scope;
use crate::campaign::{CampaignDraft, CampaignStatus, CampaignSummary, ComposeForm, Plan};
use crate::state::AppState;
use crate::store::{ApiSubscriberRow, Author, Saved};

type ApiResult<T> = Result<T, Problem>;

/// Subscriptions one message may reach (a user with many devices and sites).
const MAX_MESSAGE_RECIPIENTS: usize = 100;
const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tidings API",
        description = "Send web push campaigns and messages from your own code. Authenticate with \
                       `Authorization: Bearer <key>` (Admin → API keys). Errors are RFC 9457 problem \
                       documents. POST requests may carry an `Idempotency-Key`."
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("tdk_…").build()),
        );
    }
}

/// The API's routes and their OpenAPI document, from one list.
pub fn api(state: AppState) -> (axum::Router, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(create_campaign, list_campaigns))
        .routes(routes!(get_campaign))
        .routes(routes!(cancel_campaign))
        .routes(routes!(duplicate_campaign))
        .routes(routes!(send_message))
        .routes(routes!(get_message))
        .routes(routes!(list_topics, create_topic))
        .routes(routes!(get_subscriber, delete_subscriber))
        .routes(routes!(delete_subscribers))
        .routes(routes!(import_subscribers))
        .layer(middleware::from_fn_with_state(state.clone(), super::idempotency::idempotent))
        .layer(middleware::from_fn_with_state(state.clone(), super::auth::authenticate))
        .with_state(state)
        .split_for_parts();
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    let served = doc.clone();
    // The document itself needs no key: it describes, it does not reveal.
    let router = router.route("/openapi.json", get(move || async move { Json(served) }));
    (router, doc)
}

// ---- Campaigns ----

/// A campaign's content and audience, as the compose page takes it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    /// Up to 80 characters.
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Opened on a click (`https://`).
    pub url: Option<String>,
    pub icon: Option<String>,
    pub image: Option<String>,
    pub badge: Option<String>,
    /// Up to two buttons.
    #[serde(default)]
    pub actions: Vec<ActionRequest>,
    #[serde(default)]
    pub require_interaction: bool,
    /// A later message with the same topic replaces this one on the device if undelivered.
    pub topic: Option<String>,
    /// How long the push service keeps it for an offline device (seconds; a day by default).
    pub ttl_secs: Option<u32>,
    /// very-low, low, normal (default) or high.
    pub urgency: Option<String>,
    /// Topic ids; empty: everyone.
    #[serde(default)]
    pub topics: Vec<i64>,
    /// Site ids; empty: every site (a key limited to sites: its sites).
    #[serde(default)]
    pub sites: Vec<i64>,
    /// `now` (default), `draft`, or an RFC 3339 time to send at.
    pub send: Option<String>,
    /// Pushes per minute at most.
    pub max_per_minute: Option<u32>,
    /// Variants B, C and D of an A/B test (the fields above are variant A); none: no test.
    #[serde(default)]
    pub variants: Vec<VariantRequest>,
    /// How the A/B test runs (only with `variants`); even split, no hold-out by default.
    pub ab_test: Option<AbTestRequest>,
    /// The content in other languages (the fields above are the fallback); each subscriber
    /// gets the best match of their browser's language. Not together with `variants`.
    #[serde(default)]
    pub translations: Vec<TranslationRequest>,
}

/// The content in one language.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslationRequest {
    /// A BCP 47 tag: `de`, `pt-BR`.
    pub language: String,
    pub content: VariantRequest,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub label: String,
    pub url: String,
}

/// One A/B test variant or translation: what differs from the campaign's own content.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantRequest {
    pub title: String,
    #[serde(default)]
    pub body: String,
    pub url: Option<String>,
    pub image: Option<String>,
    /// Up to two buttons.
    #[serde(default)]
    pub actions: Vec<ActionRequest>,
}

/// How an A/B test runs.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbTestRequest {
    /// Percent of the audience tested first, split evenly (1–100; 100, the default: everyone
    /// at once). The rest gets the winner.
    pub test_percent: Option<u8>,
    /// Minutes from the start until the winner is picked (1–10080; 60 by default).
    pub wait_minutes: Option<u32>,
    /// `auto` (default: the best click-through rate) or `manual` (an admin picks).
    pub pick: Option<String>,
    /// Percent of the audience that receives nothing, the baseline (0–50; 0 by default).
    pub holdout_percent: Option<u8>,
}

/// A campaign (or message) with every count.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignResponse {
    pub id: i64,
    pub title: String,
    /// draft, scheduled, queued, sending, sent, cancelled or failed.
    pub status: String,
    /// A problem an admin must act on (a rejected key, say).
    pub error: Option<String>,
    pub created_at: String,
    pub scheduled_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Subscriptions it was sent to (known once it starts).
    pub targeted: i64,
    pub sent: i64,
    pub failed: i64,
    /// Subscriptions found gone (and removed) when sending.
    pub expired: i64,
    pub clicked: i64,
    pub dismissed: i64,
    /// Subscriptions in the audience not sent to: over their site's frequency cap.
    pub capped: i64,
}

fn rfc3339(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0).unwrap_or_default().to_rfc3339()
}

impl From<CampaignSummary> for CampaignResponse {
    fn from(c: CampaignSummary) -> Self {
        Self {
            id: c.id,
            title: c.title,
            status: c.status.as_str().to_owned(),
            error: c.error,
            created_at: rfc3339(c.created_at),
            scheduled_at: c.scheduled_at.map(rfc3339),
            started_at: c.started_at.map(rfc3339),
            finished_at: c.finished_at.map(rfc3339),
            targeted: c.targeted,
            sent: c.sent,
            failed: c.failed,
            expired: c.expired,
            clicked: c.clicked,
            dismissed: c.dismissed,
            capped: c.capped,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignPage {
    pub campaigns: Vec<CampaignResponse>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Only campaigns older than this id (the previous page's `next`).
    pub before: Option<i64>,
    /// 1 to 200; 50 by default.
    pub limit: Option<i64>,
    /// Only campaigns in this status.
    pub status: Option<String>,
}

/// The request as the compose form would carry it, so both are checked by one parser and
/// its errors name the same fields (mapped back to this API's names).
fn compose_form(request: &CampaignRequest) -> ApiResult<ComposeForm> {
    if request.actions.len() > 2 {
        return Err(Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "actions", "At most two actions."));
    }
    let action = |i: usize| request.actions.get(i).cloned().unwrap_or_default();
    let (first, second) = (action(0), action(1));
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let variants = request
        .variants
        .iter()
        .enumerate()
        .map(|(i, variant)| content_form(&format!("variants[{i}]"), variant))
        .collect::<ApiResult<Vec<_>>>()?;
    let translations = request
        .translations
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let content = content_form(&format!("translations[{i}].content"), &t.content)?;
            Ok(crate::campaign::languages::TranslationForm { language: t.language.clone(), content })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let test = request.ab_test.clone().unwrap_or_default();
    let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    Ok(ComposeForm {
        variants,
        translations,
        ab_test_percent: number(test.test_percent.map(u32::from)),
        ab_wait_minutes: number(test.wait_minutes),
        ab_pick: test.pick.unwrap_or_default(),
        ab_holdout_percent: number(test.holdout_percent.map(u32::from)),
        title: request.title.clone(),
        body: request.body.clone(),
        url: text(&request.url),
        icon: text(&request.icon),
        image: text(&request.image),
        badge: text(&request.badge),
        action1_label: first.label,
        action1_url: first.url,
        action2_label: second.label,
        action2_url: second.url,
        require_interaction: request.require_interaction,
        topic: text(&request.topic),
        ttl_secs: request.ttl_secs.unwrap_or(crate::campaign::Ttl::DEFAULT.seconds()).to_string(),
        urgency: request.urgency.clone().unwrap_or_else(|| crate::campaign::Urgency::Normal.as_str().to_owned()),
        audience: crate::ids::ids_text(request.topics.iter().copied()),
        sites: crate::ids::ids_text(request.sites.iter().copied()),
        max_per_minute: request.max_per_minute.map(|n| n.to_string()).unwrap_or_default(),
        ..ComposeForm::default()
    })
}

/// A variant's or translation's content as the compose form carries it; `field` names it
/// in errors.
fn content_form(field: &str, content: &VariantRequest) -> ApiResult<crate::campaign::ab::VariantForm> {
    let actions = &content.actions;
    if actions.len() > 2 {
        return Err(Problem::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{field}.actions"),
            "At most two actions.",
        ));
    }
    let action = |n: usize| actions.get(n).cloned().unwrap_or_default();
    let (first, second) = (action(0), action(1));
    Ok(crate::campaign::ab::VariantForm {
        title: content.title.clone(),
        body: content.body.clone(),
        url: content.url.clone().unwrap_or_default(),
        image: content.image.clone().unwrap_or_default(),
        action1_label: first.label,
        action1_url: first.url,
        action2_label: second.label,
        action2_url: second.url,
    })
}

/// A parse error with the form's field name put in this API's terms.
fn api_problem(error: crate::error::AppError) -> Problem {
    let mut problem = Problem::from(error);
    problem.field = problem.field.map(|field| {
        match field.as_str() {
            "action1_label" => "actions[0].label",
            "action1_url" => "actions[0].url",
            "action2_label" => "actions[1].label",
            "action2_url" => "actions[1].url",
            "audience" => "topics",
            "ab_test_percent" => "ab_test.test_percent",
            "ab_wait_minutes" => "ab_test.wait_minutes",
            "ab_pick" => "ab_test.pick",
            "ab_holdout_percent" => "ab_test.holdout_percent",
            "ttl" => "ttl_secs",
            _ => return field,
        }
        .to_owned()
    });
    problem
}

fn plan(send: Option<&str>, now: i64) -> ApiResult<Plan> {
    match send.map(str::trim) {
        None | Some("now") => Ok(Plan::Now),
        Some("draft") => Ok(Plan::Draft),
        Some(at) => {
            let bad = || {
                Problem::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "send",
                    "send is `now`, `draft`, or a future time such as 2026-12-24T09:00:00+01:00.",
                )
            };
            let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.timestamp();
            if at <= now {
                return Err(bad());
            }
            Ok(Plan::At(at))
        }
    }
}

/// Whether `caller` may see campaign `id`: made by a key limited to sites, or asked for
/// by one, the campaign must be aimed at those sites only.
async fn visible_campaign(state: &AppState, caller: &ApiCaller, id: i64, kind: &str) -> ApiResult<CampaignSummary> {
    let Some((_, stored_kind)) = state.store.campaign_origin(id).await? else {
        return Err(Problem::not_found());
    };
    if stored_kind != kind {
        return Err(Problem::not_found());
    }
    if let Some(sites) = caller.sites() {
        let audience = state.store.campaign_audience(id).await?;
        let aimed: Vec<i64> = audience.sites.iter().map(|s| s.0).collect();
        if kind == "campaign" && (aimed.is_empty() || aimed.iter().any(|s| !sites.contains(s))) {
            return Err(Problem::not_found());
        }
    }
    state.store.campaign_summary(id).await?.ok_or_else(Problem::not_found)
}

/// Create a campaign: sent now, scheduled, or kept as a draft.
///
/// Needs the `send` scope.
#[utoipa::path(post, path = "/campaigns", tag = "campaigns", request_body = CampaignRequest,
    responses((status = 201, body = CampaignResponse), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn create_campaign(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiJson(request): ApiJson<CampaignRequest>,
) -> ApiResult<(StatusCode, Json<CampaignResponse>)> {
    caller.require(Scope::Send)?;
    let mut request = request;
    if let Some(allowed) = caller.sites() {
        if request.sites.is_empty() {
            request.sites = allowed.to_vec();
        } else if let Some(other) = request.sites.iter().find(|s| !allowed.contains(s)) {
            return Err(Problem::field(
                StatusCode::FORBIDDEN,
                "sites",
                format!("This key may not send to site {other}."),
            ));
        }
    }
    let form = compose_form(&request)?;
    let draft = CampaignDraft::parse(&form).map_err(api_problem)?;
    let audience = crate::campaign::api::checked_audience(&state, &form).await.map_err(api_problem)?;
    let plan = plan(request.send.as_deref(), state.config.clock.now())?;
    let id = match state.store.save_campaign(&draft, &audience, plan, Author::ApiKey(caller.key_id), None).await? {
        Saved::Campaign(id) => id,
        Saved::NobodyToReach => {
            return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, crate::campaign::api::NOBODY_TO_REACH))
        }
        Saved::NotEditable => {
            return Err(Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "The campaign could not be saved."))
        }
    };
    if plan != Plan::Draft {
        state.dispatcher_wake.notify_one();
    }
    tracing::info!(campaign = id, api_key = caller.key_id, "campaign made through the API");
    let action = match plan {
        Plan::Now => "campaign.send",
        Plan::At(_) | Plan::Local { .. } => "campaign.schedule",
        Plan::Draft => "campaign.create",
    };
    crate::audit::ssr::by_key(
        &state,
        &caller,
        action,
        &format!("campaign {id}"),
        None,
        serde_json::to_value(&request).ok(),
    )
    .await;
    let summary = state.store.campaign_summary(id).await?.ok_or_else(Problem::not_found)?;
    Ok((StatusCode::CREATED, Json(summary.into())))
}

/// List campaigns, newest first, a page at a time.
///
/// Needs the `read` scope.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns", params(PageQuery),
    responses((status = 200, body = CampaignPage), (status = 422, body = Problem)))]
async fn list_campaigns(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<CampaignPage>> {
    caller.require(Scope::Read)?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "limit", format!("limit is 1 to {MAX_PAGE}.")));
    }
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(CampaignStatus::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "status", format!("{raw:?} is not a campaign status."))
        })?),
    };
    let mut campaigns = Vec::new();
    let mut before = query.before;
    // A key limited to sites skips what it may not see, and reads on to fill its page.
    loop {
        let page = state.store.campaign_page("campaign", before, status, limit).await?;
        let last = page.len() < limit as usize;
        for campaign in page {
            before = Some(campaign.id);
            // Only a key limited to sites needs the per-campaign check (its audience).
            let visible =
                caller.sites().is_none() || visible_campaign(&state, &caller, campaign.id, "campaign").await.is_ok();
            if campaigns.len() < limit as usize && visible {
                campaigns.push(CampaignResponse::from(campaign));
            }
        }
        if last || campaigns.len() >= limit as usize {
            let next = (!last).then_some(before).flatten();
            return Ok(Json(CampaignPage { next: next.filter(|_| campaigns.len() == limit as usize), campaigns }));
        }
    }
}

/// A campaign's status and every count.
///
/// Needs the `read` scope.
#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path)),
    responses((status = 200, body = CampaignResponse), (status = 404, body = Problem)))]
async fn get_campaign(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CampaignResponse>> {
    caller.require(Scope::Read)?;
    Ok(Json(visible_campaign(&state, &caller, id, "campaign").await?.into()))
}

/// Cancel a scheduled or running campaign: nothing more is sent.
///
/// Needs the `send` scope.
#[utoipa::path(post, path = "/campaigns/{id}/cancel", tag = "campaigns", params(("id" = i64, Path)),
    responses((status = 200, body = CampaignResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel_campaign(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CampaignResponse>> {
    caller.require(Scope::Send)?;
    visible_campaign(&state, &caller, id, "campaign").await?;
    if !state.store.cancel_campaign(id).await? {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "Only a scheduled, queued or sending campaign can be cancelled.",
        ));
    }
    tracing::info!(campaign = id, api_key = caller.key_id, "campaign cancelled through the API");
    crate::audit::ssr::by_key(&state, &caller, "campaign.cancel", &format!("campaign {id}"), None, None).await;
    Ok(Json(state.store.campaign_summary(id).await?.ok_or_else(Problem::not_found)?.into()))
}

/// Copy a campaign into a new draft.
///
/// Needs the `send` scope.
#[utoipa::path(post, path = "/campaigns/{id}/duplicate", tag = "campaigns", params(("id" = i64, Path)),
    responses((status = 201, body = CampaignResponse), (status = 404, body = Problem)))]
async fn duplicate_campaign(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<CampaignResponse>)> {
    caller.require(Scope::Send)?;
    visible_campaign(&state, &caller, id, "campaign").await?;
    let copy =
        state.store.duplicate_campaign(id, Author::ApiKey(caller.key_id)).await?.ok_or_else(Problem::not_found)?;
    crate::audit::ssr::by_key(
        &state,
        &caller,
        "campaign.duplicate",
        &format!("campaign {id}"),
        None,
        Some(serde_json::json!({ "draft": copy })),
    )
    .await;
    Ok((StatusCode::CREATED, Json(state.store.campaign_summary(copy).await?.ok_or_else(Problem::not_found)?.into())))
}

// ---- Transactional messages ----

/// One notification now, to one subscription or to every subscription of a user.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// Exactly one of `subscription_id` and `user_id`.
    pub subscription_id: Option<i64>,
    /// The signed user id your site gave the widget: all that user's devices, on every site.
    pub user_id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub body: String,
    pub url: Option<String>,
    pub icon: Option<String>,
    pub image: Option<String>,
    #[serde(default)]
    pub actions: Vec<ActionRequest>,
    pub topic: Option<String>,
    pub ttl_secs: Option<u32>,
    pub urgency: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageResponse {
    /// The message's id: follow it at `/messages/{id}`.
    pub id: i64,
    /// Subscriptions it is being sent to.
    pub recipients: i64,
}

/// Send a transactional message: counted and tracked like a campaign of one.
///
/// Needs the `send` scope.
#[utoipa::path(post, path = "/messages", tag = "messages", request_body = MessageRequest,
    responses((status = 202, body = MessageResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn send_message(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiJson(request): ApiJson<MessageRequest>,
) -> ApiResult<(StatusCode, Json<MessageResponse>)> {
    caller.require(Scope::Send)?;
    let recipients: Vec<ApiSubscriberRow> = match (&request.subscription_id, request.user_id.as_deref().map(str::trim))
    {
        (Some(id), None) => state.store.api_subscriber(*id).await?.into_iter().collect(),
        (None, Some(user)) if !user.is_empty() => state.store.api_subscribers_of_user(user).await?,
        _ => {
            return Err(Problem::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "subscription_id",
                "Name exactly one recipient: subscription_id or user_id.",
            ))
        }
    };
    let recipients: Vec<i64> =
        recipients.into_iter().filter(|s| caller.may_see_site(s.site_id)).map(|s| s.id).collect();
    if recipients.is_empty() {
        return Err(Problem::new(StatusCode::NOT_FOUND, "No subscription matches this recipient."));
    }
    if recipients.len() > MAX_MESSAGE_RECIPIENTS {
        return Err(Problem::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "user_id",
            format!("This user has more than {MAX_MESSAGE_RECIPIENTS} subscriptions: send a campaign instead."),
        ));
    }
    let campaign = CampaignRequest {
        title: request.title,
        body: request.body,
        url: request.url,
        icon: request.icon,
        image: request.image,
        actions: request.actions,
        topic: request.topic,
        ttl_secs: request.ttl_secs,
        urgency: request.urgency,
        ..CampaignRequest::default()
    };
    let draft = CampaignDraft::parse(&compose_form(&campaign)?).map_err(api_problem)?;
    let id = state.store.create_message(&draft, &recipients, caller.key_id).await?;
    state.dispatcher_wake.notify_one();
    tracing::info!(campaign = id, api_key = caller.key_id, recipients = recipients.len(), "message queued");
    let after = serde_json::json!({ "recipients": recipients.len(), "title": draft.title });
    crate::audit::ssr::by_key(&state, &caller, "message.send", &format!("message {id}"), None, Some(after)).await;
    Ok((StatusCode::ACCEPTED, Json(MessageResponse { id, recipients: recipients.len() as i64 })))
}

/// A message's status and counts.
///
/// Needs the `read` scope.
#[utoipa::path(get, path = "/messages/{id}", tag = "messages", params(("id" = i64, Path)),
    responses((status = 200, body = CampaignResponse), (status = 404, body = Problem)))]
async fn get_message(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CampaignResponse>> {
    caller.require(Scope::Read)?;
    Ok(Json(visible_campaign(&state, &caller, id, "message").await?.into()))
}

// ---- Topics ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopicResponse {
    pub id: i64,
    pub name: String,
    pub archived: bool,
    pub subscribers: i64,
    /// The one site it is offered on; absent: every site.
    pub site: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicRequest {
    pub name: String,
    /// Offer it on this site only.
    pub site: Option<i64>,
}

/// Every topic with its subscriber count.
///
/// Needs the `read` scope.
#[utoipa::path(get, path = "/topics", tag = "topics", responses((status = 200, body = Vec<TopicResponse>)))]
async fn list_topics(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
) -> ApiResult<Json<Vec<TopicResponse>>> {
    caller.require(Scope::Read)?;
    let topics = state.store.topics().await?;
    Ok(Json(
        topics
            .into_iter()
            .filter(|t| t.site.is_none_or(|site| caller.may_see_site(site)))
            .map(|t| TopicResponse {
                id: t.id,
                name: t.name,
                archived: t.archived,
                subscribers: t.subscribers,
                site: t.site,
            })
            .collect(),
    ))
}

/// Create a topic visitors can choose.
///
/// Needs the `manage` scope.
#[utoipa::path(post, path = "/topics", tag = "topics", request_body = TopicRequest,
    responses((status = 201, body = TopicResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_topic(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiJson(request): ApiJson<TopicRequest>,
) -> ApiResult<(StatusCode, Json<TopicResponse>)> {
    caller.require(Scope::Manage)?;
    let name = crate::topic::TopicName::parse(&request.name).map_err(api_problem)?;
    if let Some(site) = request.site {
        if !caller.may_see_site(site) || !state.store.sites().await?.iter().any(|s| s.id == site) {
            return Err(Problem::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "site",
                format!("There is no site {site} for this key."),
            ));
        }
    } else if caller.sites().is_some() {
        return Err(Problem::field(StatusCode::FORBIDDEN, "site", "A key limited to sites must name one."));
    }
    let id = state
        .store
        .create_topic(&name, request.site.map(crate::site::SiteId))
        .await?
        .ok_or_else(|| Problem::field(StatusCode::CONFLICT, "name", "A topic with this name exists."))?;
    crate::audit::ssr::by_key(
        &state,
        &caller,
        "topic.create",
        &format!("topic {id}"),
        None,
        Some(serde_json::json!({ "name": name.as_str() })),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(TopicResponse { id, name: name.as_str().to_owned(), archived: false, subscribers: 0, site: request.site }),
    ))
}

// ---- Subscribers ----

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriberResponse {
    pub id: i64,
    pub site: i64,
    /// The push service's host (the endpoint itself is the browser's secret).
    pub push_service: String,
    pub created_at: String,
    pub user_id: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub last_success_at: Option<String>,
}

impl From<ApiSubscriberRow> for SubscriberResponse {
    fn from(row: ApiSubscriberRow) -> Self {
        Self {
            id: row.id,
            site: row.site_id,
            push_service: row.host,
            created_at: rfc3339(row.created_at),
            user_id: row.user_id,
            language: row.language,
            time_zone: row.time_zone,
            last_success_at: row.last_success_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The VAPID key (its number on the Keys page) the subscriptions were made with;
    /// absent: the current key.
    pub key: Option<i64>,
}

/// Import subscriptions made elsewhere: the admin's import formats (a JSON array of
/// `PushSubscription`s as browsers give them, or CSV as Tidings exports), streamed, up to
/// 2 GiB. Known endpoints are merged, so sending a file again is harmless. They join
/// Tidings' own site (site 1).
///
/// Needs the `subscribers` scope, on every site or on site 1.
#[utoipa::path(post, path = "/subscribers/import", tag = "subscribers", params(ImportQuery),
    request_body(content = String, description = "The file", content_type = "application/json"),
    responses((status = 200, body = crate::subscription::ImportReport), (status = 422, body = Problem)))]
async fn import_subscribers(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: axum::body::Body,
) -> ApiResult<Json<crate::subscription::ImportReport>> {
    use futures::StreamExt;
    caller.require(Scope::Subscribers)?;
    if !caller.may_see_site(1) {
        return Err(Problem::new(StatusCode::FORBIDDEN, "Imports join site 1, which this key may not touch."));
    }
    let key = crate::subscription::transfer::import_key(&state, query.key).await?;
    let stream = body.into_data_stream().map(|chunk| chunk.map_err(std::io::Error::other));
    let file = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
    let report = crate::subscription::transfer::import_file(&state.store, &state.endpoint_policy(), key, file).await?;
    tracing::info!(added = report.added, merged = report.merged, api_key = caller.key_id, "subscriptions imported");
    let after = serde_json::json!({
        "key": key, "added": report.added, "merged": report.merged, "rejected": report.rejected,
    });
    crate::audit::ssr::by_key(&state, &caller, "subscriber.import", "subscriptions", None, Some(after)).await;
    Ok(Json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriberQuery {
    /// Every subscription of this user (the signed user id your site gave the widget).
    pub user_id: Option<String>,
    /// The subscription with this push endpoint.
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deleted {
    pub deleted: i64,
}

async fn visible_subscriber(state: &AppState, caller: &ApiCaller, id: i64) -> ApiResult<ApiSubscriberRow> {
    state.store.api_subscriber(id).await?.filter(|s| caller.may_see_site(s.site_id)).ok_or_else(Problem::not_found)
}

/// A subscription.
///
/// Needs the `subscribers` scope.
#[utoipa::path(get, path = "/subscribers/{id}", tag = "subscribers", params(("id" = i64, Path)),
    responses((status = 200, body = SubscriberResponse), (status = 404, body = Problem)))]
async fn get_subscriber(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SubscriberResponse>> {
    caller.require(Scope::Subscribers)?;
    Ok(Json(visible_subscriber(&state, &caller, id).await?.into()))
}

/// Delete a subscription and what waits to be sent to it.
///
/// Needs the `subscribers` scope.
#[utoipa::path(delete, path = "/subscribers/{id}", tag = "subscribers", params(("id" = i64, Path)),
    responses((status = 200, body = Deleted), (status = 404, body = Problem)))]
async fn delete_subscriber(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Deleted>> {
    caller.require(Scope::Subscribers)?;
    visible_subscriber(&state, &caller, id).await?;
    let deleted = state.store.delete_subscription(id).await?;
    tracing::info!(subscription = id, api_key = caller.key_id, "subscription deleted through the API");
    crate::audit::ssr::by_key(&state, &caller, "subscriber.delete", &format!("subscription {id}"), None, None).await;
    Ok(Json(Deleted { deleted: i64::from(deleted) }))
}

/// Delete by user id (every device: the way to honour an erasure request) or by endpoint.
///
/// Needs the `subscribers` scope.
#[utoipa::path(delete, path = "/subscribers", tag = "subscribers", params(SubscriberQuery),
    responses((status = 200, body = Deleted), (status = 422, body = Problem)))]
async fn delete_subscribers(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    ApiQuery(query): ApiQuery<SubscriberQuery>,
) -> ApiResult<Json<Deleted>> {
    caller.require(Scope::Subscribers)?;
    let rows = match (query.user_id.as_deref().map(str::trim), query.endpoint.as_deref().map(str::trim)) {
        (Some(user), None) if !user.is_empty() => state.store.api_subscribers_of_user(user).await?,
        (None, Some(endpoint)) if !endpoint.is_empty() => {
            state.store.api_subscriber_by_endpoint(endpoint).await?.into_iter().collect()
        }
        _ => {
            return Err(Problem::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "user_id",
                "Name exactly one of user_id and endpoint.",
            ))
        }
    };
    let mut deleted = 0;
    for row in rows.into_iter().filter(|s| caller.may_see_site(s.site_id)) {
        deleted += i64::from(state.store.delete_subscription(row.id).await?);
    }
    tracing::info!(deleted, api_key = caller.key_id, "subscriptions deleted through the API");
    let target = match (&query.user_id, &query.endpoint) {
        (Some(user), _) => format!("user {user}"),
        // Never the endpoint itself: it is the browser's capability.
        (None, Some(endpoint)) => format!("endpoint {}", crate::push::endpoint::LoggedEndpoint(endpoint)),
        (None, None) => String::new(),
    };
    crate::audit::ssr::by_key(
        &state,
        &caller,
        "subscriber.delete",
        &target,
        None,
        Some(serde_json::json!({ "deleted": deleted })),
    )
    .await;
    Ok(Json(Deleted { deleted }))
}

/// An example request body for the routes that take one: what the admin's reference and
/// the README show as `curl -d`.
pub fn example_body(method: &str, path: &str) -> Option<serde_json::Value> {
    use serde_json::json;
    match (method, path) {
        ("POST", "/campaigns") => Some(json!({
            "title": "A new article is out",
            "body": "Ten things we learned running push at scale",
            "url": "https://example.org/articles/ten-things",
            "topics": [],
            "send": "now"
        })),
        ("POST", "/messages") => Some(json!({
            "user_id": "customer-42",
            "title": "Your order shipped",
            "url": "https://shop.example.org/orders/1001",
            "urgency": "high",
            "ttl_secs": 3600
        })),
        ("POST", "/topics") => Some(json!({ "name": "Offers" })),
        _ => None,
    }
}

/// One route as the admin's reference lists it, with a `curl` command to copy.
pub fn reference(doc: &utoipa::openapi::OpenApi, base: &str) -> Vec<super::ApiRoute> {
    let mut routes = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, operation) in [("GET", &item.get), ("POST", &item.post), ("DELETE", &item.delete)] {
            let Some(operation) = operation else { continue };
            let example_path = path.replace("{id}", "1");
            let example_path = if method == "DELETE" && path == "/subscribers" {
                "/subscribers?user_id=customer-42".to_owned()
            } else {
                example_path
            };
            let mut curl = format!(
                "curl -sS -X {method} '{base}/api/v1{example_path}' \\\n  -H \"Authorization: Bearer $TIDINGS_KEY\""
            );
            if let Some(body) = example_body(method, path) {
                curl.push_str(&format!(
                    " \\\n  -H 'Content-Type: application/json' \\\n  -d '{}'",
                    serde_json::to_string(&body).unwrap_or_default()
                ));
            }
            routes.push(super::ApiRoute {
                method: method.to_owned(),
                path: path.clone(),
                summary: operation.summary.clone().unwrap_or_default(),
                description: operation.description.clone().unwrap_or_default(),
                curl,
            });
        }
    }
    routes
}
