//! API errors as RFC 9457 problem documents (`application/problem+json`): a status, a
//! title, a human-readable detail, and for bad input the `field` it is about.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `about:blank`: the status code says what kind of problem it is (RFC 9457 §4.2.1).
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: u16,
    pub title: String,
    pub detail: String,
    /// The request field the problem is about, if it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait, with 429.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn field(status: StatusCode, field: &str, detail: impl Into<String>) -> Self {
        Self { field: Some(field.to_owned()), ..Self::new(status, detail) }
    }

    pub fn unauthorized(detail: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "There is nothing with this id (or your key may not see it).")
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match error {
            AppError::InvalidField { field, message } => Self::field(status, &field, message),
            other => Self::new(status, other.to_string()),
        }
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The problem a malformed JSON body, path or query is: the field serde names, if it names
/// one (`missing field `title``, `unknown field `colour``).
fn rejection(status: StatusCode, text: String) -> Problem {
    let field = ["missing field `", "unknown field `", "invalid type: "]
        .iter()
        .find_map(|marker| text.split_once(marker).map(|(_, rest)| rest))
        .and_then(|rest| rest.split('`').next())
        .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(str::to_owned);
    Problem { field, ..Problem::new(status, text) }
}

impl From<axum::extract::rejection::JsonRejection> for Problem {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        self::rejection(rejection.status(), rejection.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for Problem {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        self::rejection(StatusCode::UNPROCESSABLE_ENTITY, rejection.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for Problem {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        Problem::new(StatusCode::NOT_FOUND, format!("{} (ids are whole numbers)", rejection.body_text()))
    }
}

/// `axum::Json`, whose rejections are problem documents.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(Problem))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query`, whose rejections are problem documents.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path`, whose rejections are problem documents.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Problem))]
pub struct ApiPath<T>(pub T);
