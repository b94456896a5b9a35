//! Who is asking: the signed-in admin behind a request (from its session cookie) and the
//! client's address. Every admin endpoint starts here; signing in and out is `admin::auth`.

use tower_sessions::Session;

use crate::error::ssr::internal;
use crate::error::AppError;
use crate::state::AppState;
use crate::zone::AdminZone;

/// The session entry holding the signed-in admin's id.
pub const SESSION_KEY: &str = "admin_id";

pub struct SignedInAdmin {
    pub id: i64,
    pub username: String,
    pub time_zone: String,
}

impl SignedInAdmin {
    /// The time zone this admin reads and enters times in.
    pub fn zone(&self) -> AdminZone {
        AdminZone::stored(&self.time_zone)
    }
}

/// The signed-in admin, or `Unauthorized` (401).
pub async fn require_admin() -> Result<SignedInAdmin, AppError> {
    current_admin().await?.ok_or(AppError::Unauthorized)
}

pub async fn current_admin() -> Result<Option<SignedInAdmin>, AppError> {
    let session: Session = leptos_axum::extract().await.map_err(internal)?;
    admin_of(&AppState::get()?.store, &session).await
}

/// The admin signed in with `session`, if any: the one check behind server functions
/// ([`current_admin`]) and plain routes (the subscriber export and import).
pub async fn admin_of(store: &crate::store::Store, session: &Session) -> Result<Option<SignedInAdmin>, AppError> {
    let Some(id) = session.get::<i64>(SESSION_KEY).await.map_err(internal)? else {
        return Ok(None);
    };
    // Looked up every time so a deleted admin loses access at once.
    let admin = store.admin_by_id(id).await?;
    Ok(admin.map(|a| SignedInAdmin { id: a.id, username: a.username, time_zone: a.time_zone }))
}

/// The client's IP address (the TCP peer; behind a reverse proxy, the proxy's).
pub async fn peer_address() -> Option<std::net::IpAddr> {
    let axum::extract::ConnectInfo(peer) =
        leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>().await.ok()?;
    Some(peer.ip())
}
