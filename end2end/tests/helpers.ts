import AxeBuilder from '@axe-core/playwright';
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { BASE_URL, PUSH_SERVICE_URL } from '../playwright.config';

export const ADMIN = { username: 'admin', password: 'e2e password 1234' };

export type ShownNotification = {
  title: string; body: string; tag: string; data: any;
  actions: { action: string; title: string }[]; requireInteraction: boolean; silent: boolean; image: string; badge: string;
  renotify: boolean;
};

/** Waits until the page works: an admin page has hydrated (a click before that would do
 * nothing); the public page, which is not hydrated, has its widget showing what this
 * browser can do. */
export async function hydrated(page: Page) {
  await page.locator('[data-hydrated="true"], tidings-widget:not([data-state="checking"])').first().waitFor();
}

/** Opens one of Tidings' own pages and waits until it works (see `hydrated`). A lazily
 * loaded admin page hydrates only after its code arrives; a click before that is lost. */
export async function visit(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

/** Reloads one of Tidings' own pages and waits for it to hydrate again, as `visit` does. */
export async function reload(page: Page) {
  await page.reload();
  await hydrated(page);
}

/**
 * Browsers here cannot reach a real push service, so `pushManager.subscribe` (and
 * `getSubscription`) are replaced — and only they — by versions that ask web-push-testing
 * for a subscription. Everything else (permission, service worker, our Rust glue, the
 * server) is real. The subscription is kept in localStorage so a reload still sees it.
 */
export async function usePushServiceStandIn(context: BrowserContext) {
  await context.exposeBinding('__pushServiceSubscribe', async (_source, applicationServerKey: string) => {
    const response = await fetch(`${PUSH_SERVICE_URL}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // web-push-testing wants userVisibleOnly as the string "true".
      body: JSON.stringify({ userVisibleOnly: 'true', applicationServerKey }),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(json.error?.message ?? `push service answered ${response.status}`);
    return json.data;
  });
  await context.addInitScript(() => {
    const KEY = '__standInPushSubscription';
    const toBase64Url = (bytes: Uint8Array) =>
      btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const fromBase64Url = (text: string) =>
      Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    // Like a browser, it remembers the key it was made with (options.applicationServerKey).
    const asSubscription = (data: any) => ({
      endpoint: data.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: data.serverKey ? fromBase64Url(data.serverKey).buffer : null },
      getKey: (name: 'p256dh' | 'auth') => fromBase64Url(data.keys[name]).buffer,
      toJSON: () => ({ endpoint: data.endpoint, expirationTime: null, keys: data.keys }),
      unsubscribe: async () => { localStorage.removeItem(KEY); return true; },
    });
    PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
      const key = options?.applicationServerKey;
      if (!options?.userVisibleOnly || !key) throw new DOMException('userVisibleOnly and a key are required', 'NotAllowedError');
      const bytes = typeof key === 'string' ? fromBase64Url(key) : new Uint8Array(key instanceof ArrayBuffer ? key : (key as ArrayBufferView).buffer);
      const data = { ...await (window as any).__pushServiceSubscribe(toBase64Url(bytes)), serverKey: toBase64Url(bytes) };
      localStorage.setItem(KEY, JSON.stringify(data));
      return asSubscription(data) as unknown as PushSubscription;
    };
    PushManager.prototype.getSubscription = async function () {
      const saved = localStorage.getItem(KEY);
      return (saved ? asSubscription(JSON.parse(saved)) : null) as unknown as PushSubscription;
    };
    // The worker's stand-in (standInInWorker) asks through the page: our CSP keeps the
    // worker itself from fetching anything but Tidings.
    navigator.serviceWorker?.addEventListener('message', async (event: MessageEvent) => {
      const key = event.data?.__standInSubscribe;
      if (typeof key !== 'string') return;
      try {
        event.ports[0].postMessage(await (window as any).__pushServiceSubscribe(key));
      } catch (error) {
        event.ports[0].postMessage({ error: String(error) });
      }
    });
  });
}

/**
 * The same stand-in inside the page's service worker, which calls `pushManager` itself
 * (moving to a new key): it starts with the page's subscription and asks web-push-testing
 * through the open page. Returns a reader for the worker's subscription as it holds it.
 */
export async function standInInWorker(page: Page, workerUrl = `${BASE_URL}/sw.js`) {
  const worker = page.context().serviceWorkers().find((w) => w.url() === workerUrl);
  if (!worker) throw new Error('no service worker');
  const saved = await page.evaluate(() => localStorage.getItem('__standInPushSubscription'));
  await worker.evaluate((saved) => {
    const scope = self as any;
    scope.__standIn = saved ? JSON.parse(saved) : null;
    const toBase64Url = (bytes: Uint8Array) =>
      btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const fromBase64Url = (text: string) =>
      Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const asSubscription = (data: any) => ({
      endpoint: data.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: fromBase64Url(data.serverKey).buffer },
      getKey: (name: 'p256dh' | 'auth') => fromBase64Url(data.keys[name]).buffer,
      toJSON: () => ({ endpoint: data.endpoint, expirationTime: null, keys: data.keys }),
      unsubscribe: async () => { scope.__standIn = null; return true; },
    });
    PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
      const key = toBase64Url(new Uint8Array(options!.applicationServerKey as ArrayBuffer));
      const [page] = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const data: any = await new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = (event) => resolve(event.data);
        page.postMessage({ __standInSubscribe: key }, [channel.port2]);
      });
      if (data.error) throw new DOMException(data.error, 'AbortError');
      scope.__standIn = { ...data, serverKey: key };
      return asSubscription(scope.__standIn);
    };
    PushManager.prototype.getSubscription = async function () {
      return scope.__standIn ? asSubscription(scope.__standIn) : null;
    };
  }, saved);
  return {
    worker,
    subscription: () => worker.evaluate(() => (self as any).__standIn as { clientHash: string; serverKey: string } | null),
  };
}

/** The web-push-testing client id of this page's subscription. */
export async function clientHash(page: Page): Promise<string> {
  return page.evaluate(() => JSON.parse(localStorage.getItem('__standInPushSubscription')!).clientHash);
}

/** Messages web-push-testing received for a subscription, already VAPID-checked and decrypted. */
export async function decryptedMessages(hash: string): Promise<string[]> {
  const response = await fetch(`${PUSH_SERVICE_URL}/get-notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientHash: hash }),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(json.error?.message ?? `get-notifications answered ${response.status}`);
  return json.data.messages;
}

export async function expireAtPushService(hash: string) {
  const response = await fetch(`${PUSH_SERVICE_URL}/expire-subscription/${hash}`, { method: 'POST' });
  expect(response.ok).toBeTruthy();
}

export async function shownNotifications(page: Page): Promise<ShownNotification[]> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const list = await registration.getNotifications();
    return list.map((n: any) => ({
      title: n.title, body: n.body, tag: n.tag, data: n.data,
      actions: (n.actions ?? []).map((a: any) => ({ action: a.action, title: a.title })),
      requireInteraction: n.requireInteraction, silent: n.silent, image: n.image, badge: n.badge, renotify: n.renotify,
    }));
  });
}

/**
 * Hands a push message to the page's real service worker through the DevTools protocol
 * and waits until it shows a notification titled `title`. A first delivery is sometimes
 * lost by Chromium, so it is repeated after 3 s without a notification.
 */
export async function deliverToServiceWorker(page: Page, data: string, title: string, origin = BASE_URL): Promise<ShownNotification> {
  const cdp = await page.context().newCDPSession(page);
  let registrationId: string | undefined;
  let activated = false;
  cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => {
    for (const r of event.registrations) {
      if (!r.isDeleted && r.scopeURL === `${origin}/`) registrationId = r.registrationId;
    }
  });
  cdp.on('ServiceWorker.workerVersionUpdated', (event) => {
    if (event.versions.some((v) => v.status === 'activated')) activated = true;
  });
  const workerErrors: string[] = [];
  cdp.on('ServiceWorker.workerErrorReported', (event) => workerErrors.push(event.errorMessage.errorMessage));
  await cdp.send('ServiceWorker.enable');
  await expect.poll(() => Boolean(registrationId && activated), { message: 'service worker activated' }).toBe(true);

  for (let attempt = 1; ; attempt++) {
    await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: registrationId!, data });
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const shown = (await shownNotifications(page)).find((n) => n.title === title);
      if (shown) {
        await cdp.detach();
        return shown;
      }
      await page.waitForTimeout(100);
    }
    if (attempt === 3) throw new Error(`no notification after 3 deliveries; worker errors: ${workerErrors.join('; ')}`);
  }
}

/**
 * Clicks a shown notification the way the browser would: a `notificationclick` event with
 * that very notification, dispatched in the real service worker (no test code in the
 * product). Resolves once the worker's handlers have finished.
 */
export async function clickNotification(page: Page, title: string, action = '', workerUrl = `${BASE_URL}/sw.js`) {
  const worker = page.context().serviceWorkers().find((w) => w.url() === workerUrl);
  if (!worker) throw new Error('no service worker');
  await worker.evaluate(async ([wanted, action]) => {
    const notification = (await (self as any).registration.getNotifications()).find((n: Notification) => n.title === wanted);
    if (!notification) throw new Error(`no notification titled ${wanted}`);
    const pending: Promise<unknown>[] = [];
    const event = new (self as any).NotificationEvent('notificationclick', { notification, action });
    event.waitUntil = (promise: Promise<unknown>) => pending.push(promise);
    self.dispatchEvent(event);
    await Promise.allSettled(pending);
  }, [title, action]);
}

/** Fills in and sends the sign-in form as `username`; what follows is the caller's to check. */
export async function submitSignIn(page: Page, username: string, password: string) {
  await visit(page, '/admin/login');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in at /admin, creating the first admin through the set-up page if none exists yet,
 * and opens the campaigns page (compose and the list). */
export async function signInAsAdmin(page: Page) {
  await visit(page, '/admin');
  await page.waitForURL(/\/admin\/(setup|login)$/);
  await page.getByLabel('User name').fill(ADMIN.username);
  if (page.url().endsWith('/admin/setup')) {
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Password again').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create admin' }).click();
  } else {
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  await openCampaigns(page);
}

export async function openCampaigns(page: Page) {
  await visit(page, '/admin/campaigns');
  await expect(page.getByRole('heading', { name: 'Campaigns', level: 1 })).toBeVisible();
}

/** Composes and sends a campaign through the real form; waits until it has been sent. */
export async function sendCampaign(page: Page, campaign: { title: string; body: string; url?: string }) {
  await page.getByLabel('Title').fill(campaign.title);
  await page.getByLabel('Body').fill(campaign.body);
  await page.getByLabel('Link URL').fill(campaign.url ?? '');
  await page.getByRole('button', { name: 'Send now' }).click();
  await page.getByRole('button', { name: 'Yes, send now' }).click();
  const queued = page.getByRole('status').filter({ hasText: 'is queued' });
  await expect(queued).toBeVisible();
  const id = Number((await queued.textContent())!.match(/#(\d+)/)![1]);
  const row = page.locator(`tr[data-campaign="${id}"]`);
  await expect(row).toHaveAttribute('data-status', 'sent', { timeout: 20_000 });
  return { id, row };
}

/** How many subscribers the server has, as the admin sees it. */
export async function audienceSize(adminPage: Page): Promise<number> {
  const response = await adminPage.request.post('/api/admin/audience_size');
  expect(response.ok()).toBeTruthy();
  return response.json();
}

/** Opens the public page as a visitor whose browser has granted notifications. */
export async function openAsVisitor(context: BrowserContext): Promise<Page> {
  await context.grantPermissions(['notifications'], { origin: BASE_URL });
  await usePushServiceStandIn(context);
  const page = await context.newPage();
  await visit(page, '/');
  return page;
}

/** A visitor who has opened the public page and subscribed; `hash` names them at the push service. */
export async function subscribedVisitor(browser: Browser) {
  const context = await browser.newContext();
  const page = await openAsVisitor(context);
  await page.getByRole('button', { name: 'Subscribe to notifications' }).click();
  await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'subscribed');
  return { context, page, hash: await clientHash(page) };
}

/** A visitor from `subscribedVisitor` unsubscribes and closes their browser: the audience
 * is as it was for the tests that follow (they count it). */
export async function leave(visitor: { context: BrowserContext; page: Page }) {
  await visitor.page.getByRole('button', { name: 'Unsubscribe' }).click();
  await expect(visitor.page.locator('tidings-widget')).toHaveAttribute('data-state', 'ask');
  await visitor.context.close();
}

/** axe-core's serious and critical findings on the page as it is now (none is the goal). */
export async function seriousViolations(page: Page): Promise<string[]> {
  await hydrated(page);
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Elements that stick out of a 360 px wide screen (none is the goal). Leaves the page at 360 px. */
export async function tooWideAt360(page: Page): Promise<string[]> {
  await page.setViewportSize({ width: 360, height: 780 });
  return page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > 361)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className} “${(e.textContent || '').trim().slice(0, 30)}”`)
    .slice(0, 5));
}
