//! The one error type every server function returns.
//!
//! It crosses the wire, so it only ever carries text that is safe to show a visitor: internal
//! causes are logged on the server and replaced by [`AppError::Internal`].

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request was understood but its content is not acceptable; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// Like `Invalid`, about one form field (its `name`), so the page can show it there.
    #[error("{message}")]
    InvalidField { field: String, message: String },
    #[error("Please sign in first.")]
    Unauthorized,
    /// Refused whoever asks, e.g. a cross-site request.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Conflict(String),
    /// A request body over the limit for its route.
    #[error("{0}")]
    TooLarge(String),
    #[error("Not found.")]
    NotFound,
    #[error("Something went wrong on our side; it has been logged.")]
    Internal,
    /// Transport-level failures (network, encoding) raised by the server-function machinery.
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidField { field: field.to_owned(), message: message.into() }
    }

    /// The form field this error is about, if it is about one.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            Self::InvalidField { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn status_code(&self) -> u16 {
        match self {
            Self::Invalid(_) | Self::InvalidField { .. } => 422,
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 403,
            Self::TooManyRequests(_) => 429,
            Self::Conflict(_) => 409,
            Self::TooLarge(_) => 413,
            Self::NotFound => 404,
            Self::Internal => 500,
            Self::Transport(_) => 400,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            // Malformed or missing arguments are the caller's fault: a clear 4xx.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                Self::Invalid(format!("Malformed request: {message}"))
            }
            other => Self::Transport(other.to_string()),
        };
        // Arguments are decoded before the function body runs, so `respond` never sees
        // these; set the status here too.
        #[cfg(feature = "ssr")]
        ssr::set_response_status(&error);
        error
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::AppError;
    use std::future::Future;

    /// Runs a server function's body and gives its error the right HTTP status.
    ///
    /// Server functions answer 500 for every error unless told otherwise, which would make
    /// a bad subscription look like our outage; this is the one place that maps them.
    pub async fn respond<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
        let result = body.await;
        if let Err(error) = &result {
            set_response_status(error);
        }
        result
    }

    /// Gives the current server-function response the error's status code.
    pub fn set_response_status(error: &AppError) {
        if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            let status =
                http::StatusCode::from_u16(error.status_code()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            options.set_status(status);
        }
    }

    /// The error as a plain axum route answers it: the status and JSON body a server
    /// function would give, so every endpoint fails the same way.
    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            let status =
                http::StatusCode::from_u16(self.status_code()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::to_string(&self).unwrap_or_default();
            (status, [(http::header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }

    /// Logs an internal cause and returns the opaque error the browser may see.
    pub fn internal(cause: impl std::fmt::Display) -> AppError {
        tracing::error!(%cause, "internal error");
        AppError::Internal
    }

    /// A database error where a unique rule may be broken: that one is the caller's
    /// conflict (`conflict` says which value is taken, naming its field); any other is ours.
    pub fn unique_or_internal(error: sqlx::Error, conflict: impl FnOnce() -> AppError) -> AppError {
        match &error {
            sqlx::Error::Database(e) if e.is_unique_violation() => conflict(),
            _ => internal(error),
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            internal(error)
        }
    }
}
