//! Who is asking: the signed-in admin behind a request (from its session cookie) and the
//! client's address. Every admin endpoint starts here; signing in and out is `admin::auth`.

use tower_sessions::Session;

use crate::admin::role::Role;
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
    pub role: Role,
}

impl SignedInAdmin {
    /// Refuses (403) what needs a higher role than this admin's.
    pub fn may(&self, needed: Role) -> Result<(), AppError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "This needs {}; you are {}.",
                needed.with_article(),
                self.role.with_article()
            )))
        }
    }

    /// The time zone this admin reads and enters times in.
    pub fn zone(&self) -> AdminZone {
        AdminZone::stored(&self.time_zone)
    }
}

/// The signed-in admin of any role (what viewers may see), or `Unauthorized` (401).
pub async fn require_admin() -> Result<SignedInAdmin, AppError> {
    current_admin().await?.ok_or(AppError::Unauthorized)
}

/// The signed-in admin if their role is at least `needed`: 401 without a session, 403
/// below it. The same rule as `security::required_role`, which applies it before the
/// body is read; this one also holds when a page calls the function while rendering.
pub async fn require_role(needed: Role) -> Result<SignedInAdmin, AppError> {
    let admin = require_admin().await?;
    admin.may(needed)?;
    Ok(admin)
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
    // An unknown role (a hand-edited row) reads nothing but what a viewer may.
    Ok(admin.map(|a| SignedInAdmin {
        id: a.id,
        role: Role::parse(&a.role).unwrap_or(Role::Viewer),
        username: a.username,
        time_zone: a.time_zone,
    }))
}

/// The client's IP address: the TCP peer, or, when the peer is one of our trusted
/// reverse proxies (`TIDINGS_TRUSTED_PROXIES`), the address it forwarded.
pub async fn peer_address() -> Option<std::net::IpAddr> {
    let axum::extract::ConnectInfo(peer) =
        leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>().await.ok()?;
    let trusted = &AppState::get().ok()?.config.trusted_proxies;
    if !trusted.iter().any(|net| net.contains(&peer.ip())) {
        return Some(peer.ip());
    }
    let headers: http::HeaderMap = leptos_axum::extract().await.ok()?;
    Some(client_address(peer.ip(), &headers, trusted))
}

/// The address our nearest trusted proxy says it was asked by: walking the forwarded chain
/// from the right (the hop nearest to us), the first address that is not one of our
/// proxies. Entries further left were written by the client and prove nothing. RFC 7239
/// `Forwarded` is read if present, else `X-Forwarded-For`; with neither, the peer itself.
pub fn client_address(peer: std::net::IpAddr, headers: &http::HeaderMap, trusted: &[ipnet::IpNet]) -> std::net::IpAddr {
    let joined = |name: &str| {
        let values: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    let chain: Vec<String> = match (joined("forwarded"), joined("x-forwarded-for")) {
        (Some(forwarded), _) => forwarded
            .split(',')
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"').to_owned())
                })
            })
            .collect(),
        (None, Some(forwarded_for)) => forwarded_for.split(',').map(|a| a.trim().to_owned()).collect(),
        (None, None) => return peer,
    };
    for hop in chain.iter().rev() {
        // "[2001:db8::1]:443", "192.0.2.1:8080", or a bare address.
        let bare = hop.strip_prefix('[').and_then(|h| h.split_once(']')).map(|(ip, _)| ip).unwrap_or(hop);
        let parsed =
            bare.parse::<std::net::IpAddr>().ok().or_else(|| bare.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()));
        match parsed {
            Some(ip) if trusted.iter().any(|net| net.contains(&ip)) => continue,
            Some(ip) => return ip,
            // "unknown" or an obfuscated identifier: nothing further left can be believed.
            None => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), http::HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted = crate::config::parse_networks("10.0.0.0/8").unwrap();
        let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // A client's own X-Forwarded-For entry (left) is ignored; the proxy appended the real one.
        assert_eq!(
            client_address(proxy, &headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")]), &trusted),
            ip("198.51.100.7")
        );
        // Two proxies of ours in a row.
        assert_eq!(
            client_address(proxy, &headers(&[("x-forwarded-for", "198.51.100.7, 10.0.0.9")]), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(
                proxy,
                &headers(&[("forwarded", "for=6.6.6.6, for=\"[2001:db8::7]:443\";proto=https")]),
                &trusted
            ),
            ip("2001:db8::7")
        );
        assert_eq!(client_address(proxy, &headers(&[("x-forwarded-for", "unknown")]), &trusted), proxy);
        assert_eq!(client_address(proxy, &headers(&[]), &trusted), proxy);
    }
}
