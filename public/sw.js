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
  if (typeof payload.topic === 'string') options.tag = 'topic-' + payload.topic;
  else if (payload.campaign != null) options.tag = 'campaign-' + payload.campaign;
  return [payload.title, options];
}

self.addEventListener('push', (event) => {
  const [title, options] = notificationFor(readPayload(event));
  // userVisibleOnly: every push must show a notification, or browsers revoke permission.
  event.waitUntil(self.registration.showNotification(title, options));
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

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  const actionUrl = event.action && data.actionUrls ? data.actionUrls[Number(event.action)] : null;
  const target = new URL(actionUrl || data.url || '/', self.location.origin).href;
  event.waitUntil((async () => {
    await report(event.notification, 'click', event.action);
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of windows) {
      if (client.url === target && 'focus' in client) return client.focus();
    }
    if (self.clients.openWindow) return self.clients.openWindow(target);
  })());
});

function bytesToBase64Url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlToBytes(text) {
  const base64 = (text + '='.repeat((4 - (text.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

// The browser replaced our subscription (expiry, key rotation): subscribe again and tell
// the server old → new, so the visitor keeps receiving campaigns.
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil((async () => {
    const old = event.oldSubscription;
    let fresh = event.newSubscription;
    if (!fresh) {
      // The server's current key (it may have rotated since); the old one if it cannot answer.
      let key = old && old.options && old.options.applicationServerKey;
      try {
        const response = await fetch(TIDINGS + '/api/vapid_public_key', { method: 'POST' });
        if (response.ok) key = base64UrlToBytes(await response.json());
      } catch (_) {}
      fresh = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    }
    const json = fresh.toJSON();
    const key = fresh.options && fresh.options.applicationServerKey;
    await fetch(TIDINGS + '/api/resubscribe', {
      method: 'POST',
      body: new URLSearchParams({
        old_endpoint: old ? old.endpoint : '',
        endpoint: json.endpoint,
        p256dh: json.keys.p256dh,
        auth: json.keys.auth,
        key: key ? bytesToBase64Url(new Uint8Array(key)) : '',
      }),
    });
  })());
});
})();
