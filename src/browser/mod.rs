//! Web Push in the browser, through web-sys: feature detection, permission, service
//! worker registration and the PushManager.
//!
//! Subscriptions are read with `JSON.stringify` rather than `dyn_into::<PushSubscription>`:
//! the latter checks `instanceof` and rejects polyfills and the test harness's stand-in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Notification, NotificationPermission, PushSubscriptionOptionsInit, ServiceWorkerRegistration};

pub const SERVICE_WORKER_URL: &str = "/sw.js";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    NotAsked,
    Granted,
    Denied,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BrowserSubscription {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
    /// The `applicationServerKey` it was made with (base64url), where the browser says.
    #[serde(skip)]
    pub server_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

/// Whether this browser can receive web push at all.
pub fn push_supported() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let has = |target: &JsValue, name: &str| Reflect::has(target, &JsValue::from_str(name)).unwrap_or(false);
    has(&window.navigator(), "serviceWorker") && has(&window, "PushManager") && has(&window, "Notification")
}

/// An iPhone or iPad (iPadOS reports itself as a Mac, but with a touch screen).
pub fn is_ios() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let navigator = window.navigator();
    let agent = navigator.user_agent().unwrap_or_default();
    let touch_points = Reflect::get(&navigator, &JsValue::from_str("maxTouchPoints")).ok().and_then(|v| v.as_f64());
    ["iPhone", "iPad", "iPod"].iter().any(|d| agent.contains(d))
        || (agent.contains("Macintosh") && touch_points.is_some_and(|n| n > 1.0))
}

/// Running as an installed web app (from the Home Screen), not in a browser tab. iOS
/// offers web push only there (Safari 16.4+).
pub fn is_installed_app() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let ios_standalone =
        Reflect::get(&window.navigator(), &JsValue::from_str("standalone")).ok().and_then(|v| v.as_bool());
    let display_standalone =
        window.match_media("(display-mode: standalone)").ok().flatten().is_some_and(|query| query.matches());
    ios_standalone == Some(true) || display_standalone
}

pub fn permission() -> Permission {
    match Notification::permission() {
        NotificationPermission::Granted => Permission::Granted,
        NotificationPermission::Denied => Permission::Denied,
        _ => Permission::NotAsked,
    }
}

/// The subscription this browser already has with us, if any.
pub async fn current_subscription() -> Result<Option<BrowserSubscription>, String> {
    match current_subscription_object().await? {
        Some(subscription) => Ok(Some(read_subscription(&subscription)?)),
        None => Ok(None),
    }
}

/// What went wrong in the browser's push machinery, by kind: the page answers a refused
/// permission differently from a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserError {
    /// The visitor did not allow notifications (or closed the prompt).
    PermissionRefused,
    /// Anything else, in the browser's words.
    Failed(String),
}

impl std::fmt::Display for BrowserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PermissionRefused => f.write_str("notifications are not allowed"),
            Self::Failed(message) => f.write_str(message),
        }
    }
}

impl From<String> for BrowserError {
    fn from(message: String) -> Self {
        Self::Failed(message)
    }
}

impl From<&str> for BrowserError {
    fn from(message: &str) -> Self {
        Self::Failed(message.to_owned())
    }
}

/// Asks permission, registers the service worker and subscribes. Must be called from a
/// click handler: Safari only shows the permission prompt for a user gesture, so the
/// prompt comes first, before anything else is awaited.
pub async fn subscribe(vapid_public_key: &str) -> Result<BrowserSubscription, BrowserError> {
    let answer = JsFuture::from(Notification::request_permission().map_err(describe)?).await.map_err(describe)?;
    if answer.as_string().as_deref() != Some("granted") {
        return Err(BrowserError::PermissionRefused);
    }
    let container = web_sys::window().ok_or("no window")?.navigator().service_worker();
    JsFuture::from(container.register(SERVICE_WORKER_URL)).await.map_err(describe)?;
    let registration: ServiceWorkerRegistration =
        JsFuture::from(container.ready().map_err(describe)?).await.map_err(describe)?.unchecked_into();

    let key = URL_SAFE_NO_PAD.decode(vapid_public_key).map_err(|_| "the server's key is malformed")?;
    let options = PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    options.set_application_server_key(&Uint8Array::from(key.as_slice()));
    let push_manager = registration.push_manager().map_err(describe)?;
    let subscription =
        JsFuture::from(push_manager.subscribe_with_options(&options).map_err(describe)?).await.map_err(describe)?;
    Ok(read_subscription(&subscription)?)
}

/// Cancels this browser's subscription and returns the endpoint it had.
pub async fn unsubscribe() -> Result<Option<String>, String> {
    let Some(subscription) = current_subscription_object().await? else { return Ok(None) };
    let endpoint = read_subscription(&subscription)?.endpoint;
    let unsubscribe: Function = Reflect::get(&subscription, &"unsubscribe".into()).map_err(describe)?.unchecked_into();
    let promise: Promise = unsubscribe.call0(&subscription).map_err(describe)?.unchecked_into();
    JsFuture::from(promise).await.map_err(describe)?;
    Ok(Some(endpoint))
}

async fn current_subscription_object() -> Result<Option<JsValue>, String> {
    let container = web_sys::window().ok_or("no window")?.navigator().service_worker();
    let registration = JsFuture::from(container.get_registration()).await.map_err(describe)?;
    if registration.is_undefined() || registration.is_null() {
        return Ok(None);
    }
    let registration: ServiceWorkerRegistration = registration.unchecked_into();
    let push_manager = registration.push_manager().map_err(describe)?;
    let subscription = JsFuture::from(push_manager.get_subscription().map_err(describe)?).await.map_err(describe)?;
    Ok((!subscription.is_null() && !subscription.is_undefined()).then_some(subscription))
}

fn read_subscription(subscription: &JsValue) -> Result<BrowserSubscription, String> {
    let json = js_sys::JSON::stringify(subscription).map_err(describe)?;
    let mut read: BrowserSubscription = serde_json::from_str(&String::from(json))
        .map_err(|e| format!("the browser returned an odd subscription: {e}"))?;
    // `options.applicationServerKey` is an ArrayBuffer (null in some browsers).
    read.server_key = Reflect::get(subscription, &"options".into())
        .and_then(|options| Reflect::get(&options, &"applicationServerKey".into()))
        .ok()
        .filter(|key| key.is_instance_of::<js_sys::ArrayBuffer>())
        .map(|key| URL_SAFE_NO_PAD.encode(Uint8Array::new(&key).to_vec()));
    Ok(read)
}

/// A readable message from whatever a browser API threw.
fn describe(error: JsValue) -> String {
    Reflect::get(&error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the browser reported an unknown error".into())
}

/// The browser's IANA time zone (e.g. "Europe/Berlin"), which the admin pages use for times.
pub fn time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    Reflect::get(&format.resolved_options(), &JsValue::from_str("timeZone")).ok()?.as_string()
}

/// The consent receipt of a subscription made on this page after reading `prompt`.
pub fn consent(prompt: &str) -> crate::subscription::consent::ConsentForm {
    let window = web_sys::window();
    crate::subscription::consent::ConsentForm {
        page: window.as_ref().and_then(|w| w.location().href().ok()).unwrap_or_default(),
        prompt: prompt.to_owned(),
        language: window.as_ref().and_then(|w| w.navigator().language()).unwrap_or_default(),
        time_zone: time_zone().unwrap_or_default(),
        ..Default::default()
    }
}

/// POSTs a file the admin picked as the request body (same origin, with the session
/// cookie). Returns the status code and the response text.
pub async fn upload(url: &str, file: web_sys::File) -> Result<(u16, String), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&file);
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(describe)?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "not a response".to_owned())?;
    let text = JsFuture::from(response.text().map_err(describe)?).await.map_err(describe)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

/// Puts `text` on the clipboard.
pub async fn copy_text(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    JsFuture::from(window.navigator().clipboard().write_text(text)).await.map(|_| ()).map_err(describe)
}

/// Fetches a site's worker file from this browser and says whether it is Tidings' worker:
/// (looks right, what was found). Sites seldom let other origins read their files (CORS);
/// then only whether it answers can be told.
pub async fn check_worker_file(url: &str) -> (bool, String) {
    let Some(window) = web_sys::window() else { return (false, "No window to fetch from.".into()) };
    let fetch = |mode: web_sys::RequestMode| {
        let init = web_sys::RequestInit::new();
        init.set_mode(mode);
        init.set_cache(web_sys::RequestCache::NoStore);
        JsFuture::from(window.fetch_with_str_and_init(url, &init))
    };
    match fetch(web_sys::RequestMode::Cors).await {
        Ok(response) => {
            let Ok(response) = response.dyn_into::<web_sys::Response>() else {
                return (false, "The browser gave no response.".into());
            };
            if !response.ok() {
                return (false, format!("The file answers with HTTP {}: it is not there yet.", response.status()));
            }
            let text = match response.text() {
                Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains("/embed/sw.js") || text.contains("TIDINGS_ORIGIN") {
                (true, "The worker file answers and loads Tidings' worker.".into())
            } else {
                (false, "The file answers, but does not load Tidings' worker: add the line above to it.".into())
            }
        }
        Err(_) => match fetch(web_sys::RequestMode::NoCors).await {
            Ok(_) => (
                false,
                "The file answers, but your site does not let other sites read it (no CORS header), so its content \
                 cannot be checked from here: open it to compare with the line above."
                    .into(),
            ),
            Err(error) => (false, format!("This browser could not reach the file: {}", describe(error))),
        },
    }
}
