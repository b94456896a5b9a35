//! Clicks and dismissals: the service worker reports what a recipient did with a
//! notification, identified by the delivery token that came inside the push message.

pub mod api;
#[cfg(feature = "ssr")]
pub mod token;

use crate::error::AppError;

/// What a recipient did with a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackedEvent {
    Click,
    /// Dismissed without clicking.
    Close,
}

impl TrackedEvent {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw {
            "click" => Ok(Self::Click),
            "close" => Ok(Self::Close),
            _ => Err(AppError::invalid("The event must be \"click\" or \"close\".")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Click => "click",
            Self::Close => "close",
        }
    }
}
