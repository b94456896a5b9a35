//! A local push service (RFC 8030) for tests: it checks each request's VAPID JWT
//! (RFC 8292) and decrypts its body (RFC 8291, via `ece`) with the subscription's private
//! key, so encryption and signing are verified, not assumed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};

/// What a browser would hand our server after `pushManager.subscribe`.
#[derive(Debug, Clone)]
pub struct TestSubscription {
    pub client: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// How the stand-in answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    /// Waits this long before answering (beyond the sender's timeout = a timeout).
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: StatusCode) -> Self {
        Self { status, retry_after: None, delay: Duration::ZERO }
    }

    pub fn slow(status: StatusCode, delay: Duration) -> Self {
        Self { delay, ..Self::status(status) }
    }

    pub fn too_many_requests(retry_after: &str) -> Self {
        Self { retry_after: Some(retry_after.into()), ..Self::status(StatusCode::TOO_MANY_REQUESTS) }
    }
}

/// A message that passed VAPID verification and decryption.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub client: String,
    pub plaintext: Vec<u8>,
    pub ttl: Option<String>,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    pub claims: serde_json::Value,
    /// The `k` parameter: the sender's VAPID public key.
    pub vapid_key: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.plaintext).expect("the payload is JSON")
    }
}

struct Client {
    keys: ece::EcKeyComponents,
    auth: [u8; 16],
    /// Replies for the next requests, in order; then `then` for every later one.
    script: VecDeque<Reply>,
    then: Reply,
}

#[derive(Default)]
struct Inner {
    clients: HashMap<String, Client>,
    /// Replies for the next requests to this service, whichever subscription they are for.
    service_script: VecDeque<Reply>,
    /// When each 429 was answered.
    rate_limited_at: Vec<Instant>,
    received: Vec<Received>,
    /// Requests that failed verification or decryption: a correct sender makes none.
    rejected: Vec<String>,
    /// Requests that followed one of our redirects (a push sender must never follow them).
    redirects_followed: usize,
    /// `t.k` of VAPID tokens whose signature verified. A sender reuses one token per origin
    /// for hours, so each is checked once: ECDSA in a debug build would otherwise bound a
    /// 20,000-push test at about 100 pushes a second. Claims are still checked every time.
    verified_signatures: std::collections::HashSet<String>,
    /// Until then, requests are accepted and never answered (an outage that times out).
    black_hole_until: Option<Instant>,
}

#[derive(Clone)]
pub struct PushService {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl PushService {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/push/{client}", post(receive))
            .route("/elsewhere", any(follow_redirect))
            .with_state((inner.clone(), base.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, inner }
    }

    /// A new browser subscription whose push requests this service answers with `status`.
    pub fn subscription(&self, respond_with: StatusCode) -> TestSubscription {
        self.scripted_subscription(Vec::new(), Reply::status(respond_with))
    }

    /// A subscription answered with `script`, one reply per request, then always `then`.
    pub fn scripted_subscription(&self, script: Vec<Reply>, then: Reply) -> TestSubscription {
        let (keypair, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        let client = format!("c{}", rand_id());
        let subscription = TestSubscription {
            endpoint: format!("{}/push/{client}", self.base),
            p256dh: URL_SAFE_NO_PAD.encode(keypair.pub_as_raw().unwrap()),
            auth: URL_SAFE_NO_PAD.encode(auth),
            client: client.clone(),
        };
        let keys = keypair.raw_components().unwrap();
        self.inner.lock().unwrap().clients.insert(client, Client { keys, auth, script: script.into(), then });
        subscription
    }

    /// The next requests to this service, for any subscription, get these replies first.
    pub fn script_service(&self, replies: Vec<Reply>) {
        self.inner.lock().unwrap().service_script.extend(replies);
    }

    /// For `duration` from now, requests are taken in and never answered, as a push
    /// service in an outage does; they are not counted as received.
    pub fn black_hole_for(&self, duration: Duration) {
        self.inner.lock().unwrap().black_hole_until = Some(Instant::now() + duration);
    }

    pub fn rate_limited_at(&self) -> Vec<Instant> {
        self.inner.lock().unwrap().rate_limited_at.clone()
    }

    /// How many valid requests arrived for one subscription.
    pub fn requests_for(&self, client: &str) -> usize {
        self.inner.lock().unwrap().received.iter().filter(|r| r.client == client).count()
    }

    /// An endpoint on another port whose connections are reset as soon as they open.
    pub async fn resetting_endpoint() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}/push/reset", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Linger 0 makes close() send RST instead of FIN: a reset, not an answer.
                let _ = stream.set_zero_linger();
                drop(stream);
            }
        });
        endpoint
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    pub fn rejected(&self) -> Vec<String> {
        self.inner.lock().unwrap().rejected.clone()
    }

    pub fn redirects_followed(&self) -> usize {
        self.inner.lock().unwrap().redirects_followed
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

type Shared = (Arc<Mutex<Inner>>, String);

async fn receive(
    State((inner, base)): State<Shared>,
    Path(client): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let black_hole = inner.lock().unwrap().black_hole_until.filter(|until| *until > Instant::now());
    if black_hole.is_some() {
        tokio::time::sleep(Duration::from_secs(60)).await;
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let reply = {
        let mut inner = inner.lock().unwrap();
        match verify_and_decrypt(&mut inner, &base, &client, &headers, &body) {
            Ok(received) => {
                inner.received.push(received);
                let reply = match inner.service_script.pop_front() {
                    Some(reply) => reply,
                    None => {
                        let subscriber = inner.clients.get_mut(&client).expect("verified above");
                        subscriber.script.pop_front().unwrap_or_else(|| subscriber.then.clone())
                    }
                };
                if reply.status == StatusCode::TOO_MANY_REQUESTS {
                    inner.rate_limited_at.push(Instant::now() + reply.delay);
                }
                reply
            }
            Err((status, why)) => {
                inner.rejected.push(format!("{client}: {why}"));
                return status.into_response();
            }
        }
    };
    tokio::time::sleep(reply.delay).await;
    let mut response = reply.status.into_response();
    if reply.status.is_redirection() {
        response.headers_mut().insert(header::LOCATION, format!("{base}/elsewhere").parse().unwrap());
    }
    if let Some(retry_after) = reply.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, retry_after.parse().unwrap());
    }
    response
}

async fn follow_redirect(State((inner, _)): State<Shared>) -> StatusCode {
    inner.lock().unwrap().redirects_followed += 1;
    StatusCode::CREATED
}

fn verify_and_decrypt(
    inner: &mut Inner,
    base: &str,
    client: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received, (StatusCode, String)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let Some(subscriber) = inner.clients.get(client) else {
        return Err((StatusCode::NOT_FOUND, "unknown subscription".into()));
    };
    if header("content-encoding").as_deref() != Some("aes128gcm") {
        return Err((StatusCode::BAD_REQUEST, "Content-Encoding is not aes128gcm".into()));
    }
    if header("ttl").and_then(|t| t.parse::<u32>().ok()).is_none() {
        return Err((StatusCode::BAD_REQUEST, "missing TTL header".into()));
    }
    let authorization = header("authorization").ok_or((StatusCode::UNAUTHORIZED, "no Authorization".into()))?;
    let (claims, vapid_key) = verify_vapid(&authorization, base, &mut inner.verified_signatures)
        .map_err(|why| (StatusCode::UNAUTHORIZED, why))?;
    let plaintext = ece::decrypt(&subscriber.keys, &subscriber.auth, body)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("decryption failed: {e}")))?;
    Ok(Received {
        at: Instant::now(),
        client: client.to_owned(),
        plaintext,
        ttl: header("ttl"),
        urgency: header("urgency"),
        topic: header("topic"),
        claims,
        vapid_key,
    })
}

/// Checks `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292 §3): an ES256 signature by
/// `k`, `aud` = this service's origin (with its port), `exp` within 24 h, a usable `sub`.
fn verify_vapid(
    authorization: &str,
    origin: &str,
    verified: &mut std::collections::HashSet<String>,
) -> Result<(serde_json::Value, String), String> {
    let params = authorization.strip_prefix("vapid ").ok_or("not a vapid Authorization")?;
    let mut token = None;
    let mut key = None;
    for part in params.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => token = Some(v.to_owned()),
            Some(("k", v)) => key = Some(v.to_owned()),
            _ => {}
        }
    }
    let (token, key) = (token.ok_or("no t=")?, key.ok_or("no k=")?);
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts[..] else { return Err("JWT is not three parts".into()) };
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|e| format!("bad base64url: {e}"));
    let header: serde_json::Value = serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" {
        return Err(format!("alg is {}", header["alg"]));
    }
    let signed_by = format!("{token}.{key}");
    if !verified.contains(&signed_by) {
        let verifying_key = VerifyingKey::from_sec1_bytes(&decode(&key)?).map_err(|e| format!("bad k: {e}"))?;
        let signature = Signature::from_slice(&decode(signature)?).map_err(|e| format!("bad signature: {e}"))?;
        let signed = format!("{}.{}", parts[0], parts[1]);
        verifying_key.verify(signed.as_bytes(), &signature).map_err(|_| "signature does not verify")?;
        verified.insert(signed_by);
    }

    let claims: serde_json::Value = serde_json::from_slice(&decode(claims)?).map_err(|e| e.to_string())?;
    if claims["aud"] != origin {
        return Err(format!("aud is {}, expected {origin}", claims["aud"]));
    }
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    if exp <= now || exp > now + 24 * 3600 {
        return Err(format!("exp {exp} is not within 24 h of now {now}"));
    }
    let sub = claims["sub"].as_str().ok_or("no sub")?;
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err(format!("sub {sub} is neither mailto: nor https:"));
    }
    // `iat`/`nbf` would make a push service whose clock lags ours refuse the token.
    let extra: Vec<&String> = claims
        .as_object()
        .ok_or("claims are not an object")?
        .keys()
        .filter(|k| !["aud", "exp", "sub"].contains(&k.as_str()))
        .collect();
    if !extra.is_empty() {
        return Err(format!("claims beyond aud, exp and sub: {extra:?}"));
    }
    Ok((claims, key))
}
