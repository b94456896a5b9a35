//! Admin accounts and sessions. Every admin server function calls
//! [`crate::session::require_admin`] first: they are public HTTP endpoints like any other.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInState {
    /// The signed-in admin's name.
    pub username: Option<String>,
    /// No admin exists yet: the set-up page is open.
    pub needs_setup: bool,
    /// The signed-in admin's time zone (IANA name), in which every time is shown.
    pub time_zone: Option<String>,
    /// What the signed-in admin may do: pages offer only that.
    pub role: Option<crate::admin::role::Role>,
}

#[server(endpoint = "admin/status")]
pub async fn admin_status() -> Result<SignInState, AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let admin = ssr::current_admin().await?;
        let needs_setup = admin.is_none() && !state.store.admin_exists().await?;
        let time_zone = admin.as_ref().map(|a| a.zone().name().to_owned());
        let role = admin.as_ref().map(|a| a.role);
        Ok(SignInState { username: admin.map(|a| a.username), needs_setup, time_zone, role })
    })
    .await
}

/// Creates the first admin and signs them in. Refused once any admin exists.
#[server(endpoint = "admin/setup")]
pub async fn setup_admin(
    username: String,
    password: String,
    confirm: String,
    /// The browser's time zone, filled in by the page once it runs (absent without script).
    #[server(default)]
    time_zone: String,
) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let username = ssr::parse_username(&username)?;
        if password != confirm {
            return Err(AppError::invalid("The two passwords differ."));
        }
        let hash = ssr::hash_password(password).await?;
        let id = state
            .store
            .create_first_admin(&username, &hash)
            .await?
            .ok_or_else(|| AppError::Conflict("An admin already exists; please sign in.".into()))?;
        ssr::remember_time_zone(id, &time_zone).await?;
        ssr::start_session(id).await?;
        let target = format!("admin {username}");
        crate::audit::ssr::by_visitor(&state, &target, "admin.setup", &target).await;
        leptos_axum::redirect("/admin");
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/login")]
pub async fn login(
    username: String,
    password: String,
    /// The browser's time zone, filled in by the page once it runs (absent without script).
    #[server(default)]
    time_zone: String,
) -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let state = crate::state::AppState::get()?;
        let username = username.trim();
        // Failures count per user name and per address, so neither guessing one account's
        // password nor trying one password on many accounts gets far.
        let user_key = format!("user:{}", username.to_lowercase());
        let address_key = ssr::peer_address().await.map(|address| format!("ip:{address}"));
        let now = crate::clock::now_ms();
        crate::admin::throttle::reserve(&state.store, &user_key, address_key.as_deref(), now).await?;
        let admin = state.store.admin_by_username(username).await?;
        // A wrong password needs nothing more: the attempt was counted as failed above.
        let target = format!("admin {username}");
        let id = match ssr::verify_login(admin, password).await {
            Ok(id) => id,
            Err(error) => {
                crate::audit::ssr::by_visitor(&state, "someone", "sign_in.failed", &target).await;
                return Err(error);
            }
        };
        crate::admin::throttle::succeeded(&state.store, &user_key, address_key.as_deref()).await?;
        crate::audit::ssr::by_visitor(&state, &target, "sign_in", &target).await;
        ssr::remember_time_zone(id, &time_zone).await?;
        ssr::start_session(id).await?;
        leptos_axum::redirect("/admin");
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::error::ssr::respond(async move {
        let session: tower_sessions::Session = leptos_axum::extract().await.map_err(crate::error::ssr::internal)?;
        session.flush().await.map_err(crate::error::ssr::internal)?;
        leptos_axum::redirect("/admin/login");
        Ok(())
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::Argon2;
    use tower_sessions::Session;

    use super::MIN_PASSWORD_CHARS;
    use crate::error::ssr::internal;
    use crate::error::AppError;
    pub use crate::session::{admin_of, current_admin, peer_address, require_admin, SignedInAdmin, SESSION_KEY};
    use crate::state::AppState;
    use crate::store::AdminRow;
    use crate::zone::AdminZone;

    /// Remembers the time zone the admin's browser reported at sign-in, if it is a real one
    /// (an unknown or missing one keeps the last).
    pub async fn remember_time_zone(admin_id: i64, reported: &str) -> Result<(), AppError> {
        if let Some(zone) = AdminZone::named(reported) {
            AppState::get()?.store.set_admin_time_zone(admin_id, zone.name()).await?;
        }
        Ok(())
    }

    pub async fn start_session(admin_id: i64) -> Result<(), AppError> {
        let session: Session = leptos_axum::extract().await.map_err(internal)?;
        // A fresh id on sign-in defeats session fixation.
        session.cycle_id().await.map_err(internal)?;
        session.insert(SESSION_KEY, admin_id).await.map_err(internal)
    }

    pub fn parse_username(raw: &str) -> Result<String, AppError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_whitespace) {
            return Err(AppError::invalid("The user name needs 1 to 64 characters and no spaces."));
        }
        Ok(name.to_owned())
    }

    pub fn check_password_strength(password: &str) -> Result<(), AppError> {
        let chars = password.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(AppError::invalid(format!("The password needs at least {MIN_PASSWORD_CHARS} characters.")));
        }
        if chars > 1024 {
            return Err(AppError::invalid("The password can be at most 1024 characters."));
        }
        Ok(())
    }

    /// argon2id with the crate's defaults (OWASP's recommended minimum), off the async
    /// threads: one hash takes tens of milliseconds of CPU.
    pub async fn hash_password(password: String) -> Result<String, AppError> {
        check_password_strength(&password)?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await
        .map_err(internal)?
        .map_err(internal)
    }

    /// Checks a login. An unknown user costs the same time as a wrong password, so the
    /// answer does not reveal which user names exist.
    pub async fn verify_login(admin: Option<AdminRow>, password: String) -> Result<i64, AppError> {
        let wrong = || AppError::invalid("Wrong user name or password.");
        if password.len() > 4096 {
            return Err(wrong());
        }
        let (id, hash) = match admin {
            Some(admin) => (Some(admin.id), admin.password_hash),
            None => (None, dummy_hash().to_owned()),
        };
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .map_err(internal)?;
        match (id, matches) {
            (Some(id), true) => Ok(id),
            _ => Err(wrong()),
        }
    }

    fn dummy_hash() -> &'static str {
        static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        HASH.get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default().hash_password(b"not a real password", &salt).expect("argon2 hashes").to_string()
        })
    }

    /// Creates the first admin from the environment on first start (if none exists yet).
    pub async fn ensure_initial_admin(state: &AppState) -> Result<(), String> {
        let Some((username, password)) = state.config.initial_admin.clone() else {
            return Ok(());
        };
        if state.store.admin_exists().await.map_err(|e| e.to_string())? {
            return Ok(());
        }
        let username = parse_username(&username).map_err(|e| format!("TIDINGS_ADMIN_USERNAME: {e}"))?;
        let hash =
            hash_password(password.expose().to_owned()).await.map_err(|e| format!("TIDINGS_ADMIN_PASSWORD: {e}"))?;
        state.store.create_first_admin(&username, &hash).await.map_err(|e| e.to_string())?;
        tracing::info!(%username, "created the first admin from the environment");
        Ok(())
    }
}
