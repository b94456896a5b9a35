import { gzipSync } from 'node:zlib';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { BASE_URL, CUSTOMER_URL, STRANGER_URL } from '../playwright.config';
import {
  clickNotification, clientHash, decryptedMessages, deliverToServiceWorker, leave, reload,
  seriousViolations, signInAsAdmin, subscribedVisitor, tooWideAt360, usePushServiceStandIn, visit,
} from './helpers';

/** The widget's host element on a customer page; its content is in an open shadow root. */
const widget = (page: Page) => page.locator('tidings-widget');

/** An admin, signed in, in a browser context of their own. */
async function signedInAdmin(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAsAdmin(page);
  return { adminContext: context, admin: page };
}

/** A visitor whose browser allows notifications, on the customer's page, not subscribed yet. */
async function customerVisitor(browser: Browser, site: number) {
  const visitor = await browser.newContext();
  await visitor.grantPermissions(['notifications'], { origin: CUSTOMER_URL });
  await usePushServiceStandIn(visitor);
  const page = await visitor.newPage();
  await page.goto(`${CUSTOMER_URL}/?site=${site}`);
  await expect(widget(page)).toHaveAttribute('data-state', 'ask');
  return { visitor, page };
}

/** Registers the customer site through the Sites page (once per run) and returns its id. */
async function customerSite(admin: Page): Promise<number> {
  await visit(admin, '/admin/sites');
  const existing = admin.locator('li.site', { hasText: CUSTOMER_URL });
  if (await existing.count() === 0) {
    await admin.getByLabel('Name').fill('Example Bakery');
    await admin.getByLabel('Address (origin)').fill(CUSTOMER_URL);
    await admin.getByRole('button', { name: 'Add site' }).click();
    await expect(admin.getByRole('status').filter({ hasText: 'Site added' })).toBeVisible();
    await reload(admin);
  }
  return Number(await admin.locator('li.site', { hasText: CUSTOMER_URL }).getAttribute('data-site'));
}

/** Campaign `title` sent through the API the compose form posts to, aimed at `sites`. */
async function sendTo(admin: Page, title: string, sites: string, url = ''): Promise<number> {
  const response = await admin.request.post('/api/admin/send_campaign', {
    form: { title, body: 'Still warm', url, ttl_secs: '60', urgency: 'normal', sites },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
  const id: number = await response.json();
  await expect.poll(async () => {
    const list = await (await admin.request.post('/api/admin/list_campaigns')).json();
    return list.find((c: any) => c.id === id)?.status;
  }, { timeout: 20_000 }).toBe('sent');
  return id;
}

test('a customer site offers Tidings through the widget, and its campaigns reach its own worker', async ({ browser }) => {
  const { adminContext, admin } = await signedInAdmin(browser);
  const site = await customerSite(admin);

  // The site's page in the admin (reached from the list): both snippets, and the worker
  // file checked by this browser.
  await visit(admin, '/admin/sites');
  await admin.locator(`li.site[data-site="${site}"] a`).click();
  await expect(admin).toHaveURL(`${BASE_URL}/admin/sites/${site}`);
  await expect(admin.locator('#snippet-script')).toContainText(`<script src="${BASE_URL}/embed.js" data-site="${site}" async></script>`);
  await expect(admin.locator('#snippet-worker')).toHaveText(`importScripts("${BASE_URL}/embed/sw.js");`);
  await admin.getByRole('button', { name: 'Check the worker file' }).click();
  await expect(admin.locator('[data-worker-ok]')).toHaveAttribute('data-worker-ok', 'true');
  expect(await seriousViolations(admin)).toEqual([]);
  expect(await tooWideAt360(admin)).toEqual([]);
  await admin.setViewportSize({ width: 1280, height: 720 });

  // A visitor on the customer's own origin, whose CSS hides every button and blows up fonts.
  const { visitor, page } = await customerVisitor(browser, site);
  const subscribe = page.getByRole('button', { name: 'Subscribe to notifications' });
  await expect(subscribe).toBeVisible();
  expect(await subscribe.evaluate((b) => getComputedStyle(b).fontSize)).toBe('16px');
  expect(await page.locator('p').first().evaluate((p) => getComputedStyle(p).fontSize)).toBe('18px');
  await subscribe.click();
  await expect(widget(page)).toHaveAttribute('data-state', 'subscribed');
  await expect(page.getByText('You are subscribed')).toBeVisible();
  const hash = await clientHash(page);

  // Stored with the customer's site, with its consent receipt.
  const list = await (await admin.request.post('/api/admin/subscribers', { form: { site: String(site) } })).json();
  expect(list.total).toBe(1);
  expect(list.rows[0].site).toBe('Example Bakery');
  expect(list.rows[0].receipt).toMatchObject({
    page: `${CUSTOMER_URL}/?site=${site}`, browser: 'Chrome', language: expect.stringMatching(/^en/),
    time_zone: expect.any(String), prompt: expect.stringContaining('Hear from us first'),
  });

  // A campaign to this site reaches the worker on the site's origin; the click opens the
  // site's link and is counted.
  const title = `Sourdough ${Date.now()}`;
  const id = await sendTo(admin, title, String(site), `${CUSTOMER_URL}/fresh-bread`);
  const raw = (await decryptedMessages(hash)).find((m) => JSON.parse(m).campaign === id)!;
  expect(raw).toBeTruthy();
  const shown = await deliverToServiceWorker(page, raw, title, CUSTOMER_URL);
  expect(shown.data.url).toBe(`${CUSTOMER_URL}/fresh-bread`);
  // The worker's real openWindow, watched: a click dispatched by a test carries no user
  // gesture, so Chromium refuses to open the window itself.
  const worker = visitor.serviceWorkers().find((w) => w.url() === `${CUSTOMER_URL}/tidings-sw.js`)!;
  await worker.evaluate(() => {
    const clients = (self as any).clients;
    const open = clients.openWindow.bind(clients);
    (self as any).opened = [];
    clients.openWindow = (url: string) => { (self as any).opened.push(url); return open(url); };
  });
  await clickNotification(page, title, '', `${CUSTOMER_URL}/tidings-sw.js`);
  expect(await worker.evaluate(() => (self as any).opened)).toEqual([`${CUSTOMER_URL}/fresh-bread`]);
  await expect.poll(async () => {
    const list = await (await admin.request.post('/api/admin/list_campaigns')).json();
    return list.find((c: any) => c.id === id)?.clicked;
  }).toBe(1);

  // A campaign to the other site (Tidings' own page, with a subscriber of its own so the
  // campaign is sent even when this spec runs alone) does not reach it.
  const ownPageVisitor = await subscribedVisitor(browser);
  const before = (await decryptedMessages(hash)).length;
  const other = await sendTo(admin, `Own page only ${Date.now()}`, '1');
  expect((await decryptedMessages(hash)).filter((m) => JSON.parse(m).campaign === other)).toHaveLength(0);
  expect((await decryptedMessages(hash)).length).toBe(before);
  await leave(ownPageVisitor);

  // The widget keeps its state on the next visit, and unsubscribes.
  await page.reload();
  await expect(widget(page)).toHaveAttribute('data-state', 'subscribed');
  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await expect(widget(page)).toHaveAttribute('data-state', 'ask');
  const after = await (await admin.request.post('/api/admin/subscribers', { form: { site: String(site) } })).json();
  expect(after.total).toBe(0);

  await visitor.close();
  await adminContext.close();
});

test('the same snippet on an unregistered origin is refused and stores nothing', async ({ browser }) => {
  const { adminContext, admin } = await signedInAdmin(browser);
  const before = await (await admin.request.post('/api/admin/audience_size')).json();

  const stranger = await browser.newContext();
  await stranger.grantPermissions(['notifications'], { origin: STRANGER_URL });
  await usePushServiceStandIn(stranger);
  const page = await stranger.newPage();
  const warned = page.waitForEvent('console', (m) => m.text().includes('Tidings: this page cannot use the widget'));
  await page.goto(`${STRANGER_URL}/`);
  await warned;
  await expect(widget(page)).toHaveCount(0);
  // What the browser was told (and the page may not read): 403, no CORS permission.
  const answer = await page.request.post(`${BASE_URL}/api/site_widget`, { headers: { origin: STRANGER_URL } });
  expect(answer.status()).toBe(403);
  expect(answer.headers()['access-control-allow-origin']).toBeUndefined();
  // Even a hand-made request from that page is refused (and unreadable to it).
  const status = await page.evaluate(async (base) => {
    try {
      const r = await fetch(`${base}/api/subscribe`, {
        method: 'POST', body: new URLSearchParams({ endpoint: 'http://127.0.0.1:8090/x', p256dh: 'x', auth: 'y' }),
      });
      return r.status;
    } catch (_) {
      return 'blocked';
    }
  }, BASE_URL);
  expect(status).toBe('blocked');
  expect(await (await admin.request.post('/api/admin/audience_size')).json()).toBe(before);
  await stranger.close();
  await adminContext.close();
});

test('on an iPhone outside a Home-Screen app the widget explains how to add the site', async ({ browser }) => {
  const { adminContext, admin } = await signedInAdmin(browser);
  const site = await customerSite(admin);
  await adminContext.close();

  const iphone = await browser.newContext({
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    viewport: { width: 390, height: 844 },
  });
  const page = await iphone.newPage();
  await page.goto(`${CUSTOMER_URL}/?site=${site}`);
  await expect(widget(page)).toHaveAttribute('data-state', 'home-screen');
  await expect(page.getByText('Add to Home Screen')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Subscribe to notifications' })).toHaveCount(0);
  await iphone.close();
});

test('the widget is small, accessible on the demo site, and a card when the site asks for one', async ({ browser, request }) => {
  const script = await request.get(`${BASE_URL}/embed.js`);
  expect(script.ok()).toBeTruthy();
  const gzipped = gzipSync(await script.body(), { level: 9 }).length;
  console.log(`embed.js: ${(await script.body()).length} bytes, ${gzipped} bytes gzipped`);
  expect(gzipped).toBeLessThanOrEqual(8 * 1024);

  const { adminContext, admin } = await signedInAdmin(browser);
  const site = await customerSite(admin);

  const { visitor, page } = await customerVisitor(browser, site);
  const AxeBuilder = (await import('@axe-core/playwright')).default;
  // The demo site's own hostile CSS is not ours to judge: the widget is.
  const results = await new AxeBuilder({ page }).include('tidings-widget').analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  // Keyboard: the button is reachable with Tab (once the widget has drawn it), right after
  // the topic boxes, which come first (topics made by earlier tests are offered here too).
  const subscribeButton = page.getByRole('button', { name: 'Subscribe to notifications' });
  await expect(subscribeButton).toBeVisible();
  const boxes = widget(page).getByRole('checkbox');
  for (let i = 0; i < await boxes.count(); i++) {
    await page.keyboard.press('Tab');
    await expect(boxes.nth(i)).toBeFocused();
  }
  await page.keyboard.press('Tab');
  await expect(subscribeButton).toBeFocused();

  // The card style, in German: a bell opens a dialog with the site's words.
  await visit(admin, `/admin/sites/${site}`);
  await admin.getByLabel('How the widget asks').selectOption('card');
  await admin.getByLabel('Language of the texts').fill('de');
  await admin.getByLabel('Heading').fill('Nichts verpassen');
  await admin.getByLabel('Subscribe button', { exact: true }).fill('Benachrichtigungen erlauben');
  await admin.getByLabel('Not now (card)').fill('Später');
  await admin.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();

  await page.reload();
  const dialog = page.getByRole('dialog', { name: 'Nichts verpassen' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAttribute('lang', 'de');
  await dialog.getByRole('button', { name: 'Später' }).click();
  await expect(dialog).toBeHidden();
  const bell = page.getByRole('button', { name: 'Notifications' });
  await bell.click();
  await expect(dialog.getByRole('button', { name: 'Benachrichtigungen erlauben' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(bell).toBeFocused();

  // Back to the button for the other tests.
  await admin.getByLabel('How the widget asks').selectOption('button');
  await admin.getByLabel('Language of the texts').fill('en');
  for (const label of ['Heading', 'Not now (card)']) await admin.getByLabel(label).fill('');
  await admin.getByLabel('Subscribe button', { exact: true }).fill('');
  await admin.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await visitor.close();
  await adminContext.close();
});

test('Tidings\u2019 own public page is the same widget, in place, with the words set for the own site', async ({ browser }) => {
  const { adminContext, admin } = await signedInAdmin(browser);
  await visit(admin, '/admin/sites/1');
  await admin.getByLabel('Language of the texts').fill('de');
  await admin.getByLabel('Heading').fill('Nichts verpassen');
  // The form offers no style for the own page; saved as the card anyway, the page must
  // still show the widget in place.
  const prompt = admin.locator('input[name="prompt"]');
  await prompt.evaluate((input: HTMLInputElement) => { input.value = 'card'; });
  await admin.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();

  const visitor = await browser.newContext();
  const page = await visitor.newPage();
  await visit(page, '/');
  const region = page.getByRole('region', { name: 'Nichts verpassen' });
  await expect(region).toBeVisible();
  await expect(region).toHaveAttribute('lang', 'de');
  // In the page's slot, not a card in the corner.
  await expect(page.locator('.widget-slot tidings-widget')).toHaveAttribute('data-state', 'ask');
  await expect(page.locator('tidings-widget')).not.toHaveAttribute('data-card', '');

  await admin.getByLabel('Language of the texts').fill('en');
  await admin.getByLabel('Heading').fill('');
  await prompt.evaluate((input: HTMLInputElement) => { input.value = 'button'; });
  await admin.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await visitor.close();
  await adminContext.close();
});
