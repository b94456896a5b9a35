//! `Idempotency-Key` on POST requests: a client that is not sure its request arrived (a
//! timeout, a dropped connection) sends it again with the same key and gets the first
//! answer instead of a second campaign. Answers are kept 24 hours, per API key.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method, StatusCode};

use super::auth::ApiCaller;
use super::problem::Problem;
use crate::state::AppState;
use crate::store::Remembered;

pub const HEADER: &str = "idempotency-key";
/// Set on an answer given again.
const REPLAYED: &str = "idempotent-replayed";

pub async fn idempotent(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(key) = request.headers().get(HEADER).cloned() else {
        return next.run(request).await;
    };
    // An import is not held in memory to be hashed: it merges by endpoint, so sending it
    // again is harmless anyway.
    // (Nested under /api/v1, the router sees the path without it.)
    let import = crate::security::API_IMPORT_PATH.strip_prefix("/api/v1") == Some(request.uri().path());
    if request.method() != Method::POST || import {
        return next.run(request).await;
    }
    let key = match key.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => key.to_owned(),
        _ => {
            return Problem::field(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key",
                "An Idempotency-Key is 1 to 255 printable characters without spaces (a UUID, say).",
            )
            .into_response()
        }
    };
    let Some(caller) = request.extensions().get::<ApiCaller>().cloned() else {
        return Problem::unauthorized("Send an API key.").into_response();
    };
    let (parts, body) = request.into_parts();
    // The body limit layer has already bounded it.
    let body = match to_bytes(body, crate::security::MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return Problem::new(StatusCode::BAD_REQUEST, "The request body could not be read.").into_response(),
    };
    let mut hashed = ring::digest::Context::new(&ring::digest::SHA256);
    hashed.update(parts.uri.path().as_bytes());
    hashed.update(b"\n");
    hashed.update(&body);
    let hash: String = hashed.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
    match state.store.claim_idempotency_key(caller.key_id, &key, &hash).await {
        Err(error) => Problem::from(error).into_response(),
        Ok(Remembered::Answer { status, body }) => replay(status, body),
        Ok(Remembered::OtherBody) => Problem::field(
            StatusCode::CONFLICT,
            "Idempotency-Key",
            "This Idempotency-Key came with a different request in the last 24 hours: use a new key for a new request.",
        )
        .into_response(),
        Ok(Remembered::InProgress) => {
            let mut problem = Problem::field(
                StatusCode::CONFLICT,
                "Idempotency-Key",
                "The first request with this Idempotency-Key is still being answered: ask again in a moment.",
            );
            problem.retry_after = Some(1);
            problem.into_response()
        }
        Ok(Remembered::New) => {
            // Answered on a task of its own: if the client hangs up (the very case a retry
            // with the same key is for), the request still finishes and its answer is kept.
            // Dropped half-way instead, the claim would stay "in progress" for a day and
            // every retry would get 409.
            let answered = tokio::spawn(async move {
                let response = next.run(Request::from_parts(parts, Body::from(body))).await;
                let (parts, body) = response.into_parts();
                let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
                // A server error is not an answer to keep: the same key may try again.
                let keep = (!parts.status.is_server_error())
                    .then(|| std::str::from_utf8(&body).ok().map(|text| (parts.status.as_u16(), text)))
                    .flatten();
                if let Err(error) = state.store.remember_answer(caller.key_id, &key, keep).await {
                    tracing::warn!(%error, "could not keep an idempotent answer");
                }
                Response::from_parts(parts, Body::from(body))
            });
            answered.await.unwrap_or_else(|error| {
                tracing::error!(%error, "an idempotent request failed");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "The request failed; it may be sent again.")
                    .into_response()
            })
        }
    }
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
