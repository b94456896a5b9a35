//! Who is calling the API: the key in `Authorization: Bearer …`, checked (and rate limited)
//! before a byte of the request body is read.

use std::collections::BTreeSet;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::header;

use super::problem::Problem;
use super::Scope;
use crate::state::AppState;
use crate::store::ApiKeyRow;

/// Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "tdk_";
/// Characters of the token shown in lists: the prefix and a few more.
const HINT_CHARS: usize = 10;

/// A new random token (256 bits), its hash as stored, and its hint.
pub fn new_token() -> (String, String, String) {
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let hint = token.chars().take(HINT_CHARS).collect();
    (token_hash(&token), token, hint)
}

/// SHA-256, hex. The token has 256 random bits: unlike a password, it needs no slow hash to
/// resist guessing, and a fast one lets every request find its key with one lookup.
pub fn token_hash(token: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The key a request came with, as the routes see it.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub key_id: i64,
    pub key_name: String,
    scopes: BTreeSet<Scope>,
    /// `None`: every site.
    sites: Option<Vec<i64>>,
    /// The client's address (through trusted proxies), for the audit log.
    pub address: Option<String>,
}

impl ApiCaller {
    fn from_row(row: &ApiKeyRow) -> Self {
        Self {
            key_id: row.id,
            key_name: row.name.clone(),
            scopes: row.scopes.split(',').filter_map(Scope::parse).collect(),
            sites: row.site_ids.as_deref().map(|ids| crate::ids::parse_ids(ids, "", "").unwrap_or_default()),
            address: None,
        }
    }

    /// 403 unless the key has `scope`: the first line of every route.
    pub fn require(&self, scope: Scope) -> Result<(), Problem> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!("This key does not have the `{}` scope.", scope.as_str())))
        }
    }

    /// The sites this key is limited to; `None` for every site.
    pub fn sites(&self) -> Option<&[i64]> {
        self.sites.as_deref()
    }

    pub fn may_see_site(&self, site: i64) -> bool {
        self.sites.as_ref().is_none_or(|sites| sites.contains(&site))
    }
}

/// The API's gate: a live key, within its rate, or a problem document, before the body is
/// read. Notes the key's use (time and address) for the admin page.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token.filter(|t| t.starts_with(TOKEN_PREFIX)) else {
        return Problem::unauthorized(
            "Send an API key as `Authorization: Bearer tdk_…` (make one under Admin → API keys).",
        )
        .into_response();
    };
    let key = match state.store.live_api_key(&token_hash(token)).await {
        Ok(Some(key)) => key,
        Ok(None) => return Problem::unauthorized("This API key is not valid, or it was revoked.").into_response(),
        Err(error) => return Problem::from(error).into_response(),
    };
    if let Err(wait) = state.api_limiter.check(key.id) {
        let mut problem = Problem::new(
            http::StatusCode::TOO_MANY_REQUESTS,
            format!("Too many requests with this key: wait {wait} s."),
        );
        problem.retry_after = Some(wait);
        return problem.into_response();
    }
    let mut caller = ApiCaller::from_row(&key);
    let peer = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer {
        let from = crate::session::client_address(peer, request.headers(), &state.config.trusted_proxies).to_string();
        if let Err(error) = state.store.touch_api_key(key.id, &from).await {
            tracing::warn!(%error, key = key.id, "could not note an API key's use");
        }
        caller.address = Some(from);
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}
