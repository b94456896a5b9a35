// Tidings service worker: shows pushed campaigns and opens their link when clicked.
// Plain JavaScript on purpose: it must run in every browser's worker without a bundler.
// On another site it is imported from Tidings (`/embed/sw.js`, which sets TIDINGS_ORIGIN
// first), possibly into the site's own worker: hence one function scope, no globals.
(() => {
'use strict';

// Where Tidings answers: this origin on Tidings' own page, else the importing site's Tidings.
const TIDINGS = self.TIDINGS_ORIGIN || self.location.origin;

const GENERIC = { title: 'New notification', body: 'Open the site to see what is new.' };

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// The campaign payload (src/campaign/payload.rs), or null if missing or malformed.
function readPayload(event) {
  if (!event.data) return null;
  try {
    const payload = event.data.json();
    return payload && typeof payload.title === 'string' && payload.title !== '' ? payload : null;
  } catch (_) {
    return null;
  }
}

function notificationFor(payload) {
  if (!payload) return [GENERIC.title, { body: GENERIC.body, data: { url: '/' } }];
  const actions = Array.isArray(payload.actions)
    ? payload.actions.filter((a) => a && typeof a.title === 'string' && typeof a.url === 'string').slice(0, 2)
    : [];
  const options = {
    body: typeof payload.body === 'string' ? payload.body : '',
    data: {
      url: typeof payload.url === 'string' ? payload.url : '/',
      campaign: payload.campaign,
      track: typeof payload.track === 'string' ? payload.track : null,
      actionUrls: actions.map((a) => a.url),
    },
    requireInteraction: payload.require_interaction === true,
    silent: payload.silent === true,
  };
  for (const field of ['icon', 'image', 'badge']) {
    if (typeof payload[field] === 'string') options[field] = payload[field];
  }
  // Browsers without action buttons (Safari, Firefox on some systems) ignore the field;
  // a click on the notification itself still opens the main link.
  if (actions.length > 0) options.actions = actions.map((a, i) => ({ action: String(i), title: a.title }));
  // One tag per campaign (or per collapse topic): a second copy — a resend after a crash,
  // or a newer campaign on the same topic — replaces the first instead of stacking.
  // A newer campaign on the same topic alerts again (renotify); a resend of the same one does not.
  if (typeof payload.topic === 'string') {
    options.tag = 'topic-' + payload.topic;
    options.renotify = true;
  } else if (payload.campaign != null) options.tag = 'campaign-' + payload.campaign;
  return [payload.title, options];
}

self.addEventListener('push', (event) => {
  const payload = readPayload(event);
  const [title, options] = notificationFor(payload);
  // userVisibleOnly: every push must show a notification, or browsers revoke permission.
  const work = [self.registration.showNotification(title, options), rememberEndpoint()];
  // Signed with a key that is no longer current: move to the current one now, so a visitor
  // who never comes back to the site is not lost when the old key is retired.
  if (payload && payload.rekey === true) work.push(moveToCurrentKey().catch(() => {}));
  event.waitUntil(Promise.all(work));
});

// Tells the server what the recipient did (src/tracking/): counted once per delivery.
// Best effort: a failed report must never stop the notification from working.
async function report(notification, event, action) {
  const token = notification.data && notification.data.track;
  if (!token) return;
  try {
    await fetch(TIDINGS + '/api/track', { method: 'POST', body: new URLSearchParams({ token, event, action: action || '' }) });
  } catch (_) {}
}

self.addEventListener('notificationclose', (event) => {
  event.waitUntil(report(event.notification, 'close'));
});

// Only web links open: a `javascript:` or `data:` URL in a payload is never followed.
function safeTarget(raw) {
  try {
    const url = new URL(raw || '/', self.location.origin);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.href;
  } catch (_) {}
  return new URL('/', self.location.origin).href;
}

async function openOrFocus(target) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of windows) {
    if (client.url === target && 'focus' in client) return client.focus();
  }
  if (self.clients.openWindow) return self.clients.openWindow(target);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  const actionUrl = event.action && data.actionUrls ? data.actionUrls[Number(event.action)] : null;
  // The window first and the report beside it: Firefox lets a worker open a window only
  // for about a second after the click, too short to wait for the report.
  // allSettled: a refused focus must not cut the report short.
  event.waitUntil(Promise.allSettled([openOrFocus(safeTarget(actionUrl || data.url)), report(event.notification, 'click', event.action)]));
});

function bytesToBase64Url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlToBytes(text) {
  const base64 = (text + '='.repeat((4 - (text.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function sameKey(a, b) {
  if (!a || !b) return false;
  const x = new Uint8Array(a), y = new Uint8Array(b);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

// The key new subscriptions use (it may have rotated since this one was made), or null.
async function currentKey() {
  try {
    const response = await fetch(TIDINGS + '/api/vapid_public_key', { method: 'POST' });
    if (response.ok) return base64UrlToBytes(await response.json());
  } catch (_) {}
  return null;
}

// The endpoint this worker last saw, so a replacement can name the subscription it
// replaces (and keep its topics) even when the browser no longer tells.
const MEMORY = 'tidings-worker';
const LAST_ENDPOINT = TIDINGS + '/__tidings/last-endpoint';

async function rememberEndpoint() {
  try {
    const subscription = await self.registration.pushManager.getSubscription();
    if (subscription) await (await caches.open(MEMORY)).put(LAST_ENDPOINT, new Response(subscription.endpoint));
  } catch (_) {}
}

async function lastEndpoint() {
  try {
    const saved = await (await caches.open(MEMORY)).match(LAST_ENDPOINT);
    return saved ? await saved.text() : '';
  } catch (_) {
    return '';
  }
}

// Tells the server old → new, so topics, site and consent move with the visitor. Retried:
// the browser will not ask again, and a lost report loses the subscriber.
async function reportMove(oldEndpoint, fresh) {
  const json = fresh.toJSON();
  const key = fresh.options && fresh.options.applicationServerKey;
  const body = new URLSearchParams({
    old_endpoint: oldEndpoint || '',
    endpoint: json.endpoint,
    p256dh: json.keys.p256dh,
    auth: json.keys.auth,
    key: key ? bytesToBase64Url(new Uint8Array(key)) : '',
  });
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** attempt));
    try {
      const response = await fetch(TIDINGS + '/api/resubscribe', { method: 'POST', body });
      // A 4xx will not change on a retry.
      if (response.ok || (response.status >= 400 && response.status < 500)) break;
    } catch (_) {}
  }
  try {
    await (await caches.open(MEMORY)).put(LAST_ENDPOINT, new Response(json.endpoint));
  } catch (_) {}
}

async function moveToCurrentKey() {
  const old = await self.registration.pushManager.getSubscription();
  if (!old) return;
  const key = await currentKey();
  if (!key || sameKey(old.options && old.options.applicationServerKey, key)) return;
  // Browsers refuse a second subscription with another key while the first exists.
  await old.unsubscribe();
  const fresh = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await reportMove(old.endpoint, fresh);
}

// The browser replaced our subscription (expiry, key rotation): subscribe again and tell
// the server old → new, so the visitor keeps receiving campaigns.
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil((async () => {
    const old = event.oldSubscription;
    let fresh = event.newSubscription;
    if (!fresh) {
      const key = (await currentKey()) || (old && old.options && old.options.applicationServerKey);
      fresh = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    }
    await reportMove(old ? old.endpoint : await lastEndpoint(), fresh);
  })());
});
})();
