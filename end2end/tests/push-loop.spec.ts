import { expect, test } from '@playwright/test';
import { BASE_URL } from '../playwright.config';
import {
  audienceSize, clickNotification, clientHash, decryptedMessages, deliverToServiceWorker,
  expireAtPushService, hydrated, openAsVisitor, reload, sendCampaign, signInAsAdmin,
  subscribedVisitor, visit,
} from './helpers';

test('the set-up page creates the first admin and then closes', async ({ page, browser }) => {
  await signInAsAdmin(page);

  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  await visit(strangerPage, '/admin/setup');
  await expect(strangerPage).toHaveURL(/\/admin\/login$/);
  await stranger.close();
});

test('a visitor subscribes, an admin sends, and the service worker shows exactly that notification', async ({ browser }) => {
  const visitor = await browser.newContext();
  const page = await openAsVisitor(visitor);
  const widget = page.locator('tidings-widget');
  await expect(widget).toHaveAttribute('data-state', 'ask');

  await page.getByRole('button', { name: 'Subscribe to notifications' }).click();
  await expect(widget).toHaveAttribute('data-state', 'subscribed');
  await expect(page.getByText('You are subscribed')).toBeVisible();
  const hash = await clientHash(page);

  // A reload shows the true state.
  await reload(page);
  await expect(widget).toHaveAttribute('data-state', 'subscribed');

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const title = `Spring sale ${Date.now()}`;
  const body = 'Everything 20% off — until Sunday';
  const { id, row } = await sendCampaign(admin, { title, body, url: `${BASE_URL}/?from=push` });
  await expect(row.locator('td.sent')).not.toHaveText('0');

  // web-push-testing checked our VAPID signature and decrypted exactly what was composed.
  const messages = await decryptedMessages(hash);
  const message = messages.map((m) => JSON.parse(m)).find((m) => m.campaign === id);
  // Plus this delivery's token, signed by the server, for click tracking.
  expect(message).toEqual({
    campaign: id, title, body, url: `${BASE_URL}/?from=push`,
    track: expect.stringMatching(new RegExp(`^${id}\\.\\d+\\.[A-Za-z0-9_-]{22}$`)),
  });

  // That very message, handed to the real service worker, becomes the notification.
  const raw = messages.find((m) => JSON.parse(m).campaign === id)!;
  const shown = await deliverToServiceWorker(page, raw, title);
  expect(shown).toMatchObject({ title, body, tag: `campaign-${id}`, data: { url: `${BASE_URL}/?from=push`, campaign: id } });

  // A click on it is reported by the service worker and counted on the campaign.
  await clickNotification(page, title);
  await reload(admin);
  await expect(row.locator('td.clicked')).toHaveText(/^1 \(\d+\.\d%\)$/);

  await visitor.close();
  await adminContext.close();
});

test('a malformed push still shows a generic notification instead of failing', async ({ browser }) => {
  const { context: visitor, page } = await subscribedVisitor(browser);

  const shown = await deliverToServiceWorker(page, 'this is not JSON', 'New notification');
  expect(shown.body).toContain('Open the site');
  await visitor.close();
});

test('unsubscribing removes the subscription in the browser and on the server', async ({ browser }) => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const before = await audienceSize(admin);

  const visitor = await browser.newContext();
  const page = await openAsVisitor(visitor);
  await page.getByRole('button', { name: 'Subscribe to notifications' }).click();
  await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'subscribed');
  expect(await audienceSize(admin)).toBe(before + 1);

  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'ask');
  expect(await audienceSize(admin)).toBe(before);
  expect(await page.evaluate(async () => (await navigator.serviceWorker.ready).pushManager.getSubscription())).toBeNull();

  await reload(page);
  await expect(page.getByRole('button', { name: 'Subscribe to notifications' })).toBeVisible();
  await visitor.close();
  await adminContext.close();
});

test('a visitor who blocked notifications is told how to allow them again', async ({ browser }) => {
  const visitor = await browser.newContext();
  const page = await visitor.newPage();
  const cdp = await visitor.newCDPSession(page);
  // Browser-level commands need the Playwright context's id, or they change another profile.
  const { targetInfo } = await cdp.send('Target.getTargetInfo');
  await cdp.send('Browser.setPermission', {
    permission: { name: 'notifications' }, setting: 'denied', origin: BASE_URL, browserContextId: targetInfo.browserContextId,
  });
  await visit(page, '/');

  await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'denied');
  await expect(page.getByText('Notifications are blocked for this site')).toBeVisible();
  await expect(page.getByText('set Notifications to Allow')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Subscribe to notifications' })).toHaveCount(0);
  await visitor.close();
});

test('a browser without web push is told so instead of offering a button that cannot work', async ({ browser }) => {
  const visitor = await browser.newContext();
  await visitor.addInitScript(() => { delete (window as any).PushManager; });
  const page = await visitor.newPage();
  await visit(page, '/');
  await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'unsupported');
  await expect(page.getByText('cannot receive web notifications')).toBeVisible();
  await visitor.close();
});

test('a subscription expired at the push service is gone after the next campaign', async ({ browser }) => {
  const { context: visitor, hash } = await subscribedVisitor(browser);
  await expireAtPushService(hash);

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const before = await audienceSize(admin);
  const { row } = await sendCampaign(admin, { title: `After expiry ${Date.now()}`, body: 'Who is still there?' });

  await expect(row.locator('td.expired')).toHaveText('1');
  expect(await audienceSize(admin)).toBe(before - 1);
  await visitor.close();
  await adminContext.close();
});

test('the compose form counts payload bytes as you type and refuses a notification over the limit', async ({ page }) => {
  await signInAsAdmin(page);
  const meter = page.locator('.meter');
  const send = page.getByRole('button', { name: 'Send now' });
  const bytes = async () => Number((await meter.textContent())!.match(/^(\d+)/)![1]);

  await page.getByLabel('Title').fill('Hi');
  const short = await bytes();
  await page.getByLabel('Body').fill('é'.repeat(10));
  expect(await bytes()).toBe(short + ',"body":""'.length + 20); // é is 2 bytes in UTF-8
  await expect(send).toBeEnabled();

  await page.getByLabel('Body').fill('é'.repeat(1600)); // 3200 bytes: over the 2969 every push route takes
  await expect(meter).toHaveClass(/over/);
  await expect(meter).toContainText('too long');
  await expect(send).toBeDisabled();

  await page.getByLabel('Body').fill('Short again');
  await expect(meter).not.toHaveClass(/over/);
  await expect(send).toBeEnabled();
});
