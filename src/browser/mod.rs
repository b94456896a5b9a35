//! What the admin pages ask of the browser, through web-sys: this browser's own push
//! subscription (for a test send), its time zone, uploads, the clipboard. Visitors
//! subscribe with the widget (`public/embed.js`), on our public page as on a site's own.
//!
//! A subscription is read as a plain object rather than `dyn_into::<PushSubscription>`:
//! the latter checks `instanceof` and rejects polyfills and the test harness's stand-in.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::ServiceWorkerRegistration;

/// The endpoint of the subscription this browser already has with us, if any.
pub async fn current_subscription_endpoint() -> Result<Option<String>, String> {
    let Some(subscription) = current_subscription_object().await? else { return Ok(None) };
    let endpoint = Reflect::get(&subscription, &"endpoint".into()).map_err(describe)?;
    endpoint.as_string().map(Some).ok_or_else(|| "the browser returned a subscription without an endpoint".into())
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
