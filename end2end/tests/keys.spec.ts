import { expect, test } from '@playwright/test';
import {
  clientHash, decryptedMessages, deliverToServiceWorker, hydrated, reload, sendCampaign,
  signInAsAdmin, standInInWorker, subscribedVisitor, visit,
} from './helpers';

/** Makes a new key and makes it current on the Keys page; returns its public key. */
async function rotate(admin: import('@playwright/test').Page) {
  await visit(admin, '/admin/keys');
  const label = `Rotated ${Date.now()}`;
  await admin.getByLabel('Label').first().fill(label);
  await admin.getByRole('button', { name: 'Make a new key' }).click();
  const fresh = admin.locator('li.key', { hasText: label });
  await fresh.getByRole('button', { name: 'Make current' }).click();
  await expect(fresh).toHaveAttribute('data-state', 'current');
  return (await fresh.locator('.public-key').textContent())!.trim();
}

/** The key the page's subscription was made with, as the browser reports it. */
const subscriptionKey = (page: import('@playwright/test').Page) =>
  page.evaluate(() => JSON.parse(localStorage.getItem('__standInPushSubscription')!).serverKey as string);

test('after a key rotation, a returning visitor moves to the new key and campaigns reach them signed with it', async ({ browser }) => {
  const { context: visitor, page } = await subscribedVisitor(browser);
  const oldHash = await clientHash(page);
  const oldKey = await subscriptionKey(page);

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  await visit(admin, '/admin/keys');
  const oldRow = admin.locator('li.key', { hasText: oldKey });
  await expect(oldRow).toHaveAttribute('data-state', 'current');
  const before = Number((await oldRow.locator('.topic-count').textContent())!.match(/^(\d+)/)![1]);
  const label = `Rotated ${Date.now()}`;
  await admin.getByLabel('Label').first().fill(label);
  await admin.getByRole('button', { name: 'Make a new key' }).click();
  const fresh = admin.locator('li.key', { hasText: label });
  await expect(fresh).toHaveAttribute('data-state', 'signing');
  await fresh.getByRole('button', { name: 'Make current' }).click();
  await expect(fresh).toHaveAttribute('data-state', 'current');
  const newKey = (await fresh.locator('.public-key').textContent())!.trim();
  expect(newKey).not.toBe(oldKey);

  // The next visit moves the subscription over, silently.
  await reload(page);
  await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'subscribed');
  await expect.poll(() => subscriptionKey(page)).toBe(newKey);
  const newHash = await clientHash(page);
  expect(newHash).not.toBe(oldHash);
  await reload(admin);
  await expect(admin.locator('li.key', { hasText: oldKey }).locator('.topic-count')).toHaveText(new RegExp(`^${before - 1} subscriber`));
  await expect(admin.locator('li.key', { hasText: newKey }).locator('.topic-count')).toHaveText(/^1 subscriber/);

  // web-push-testing checks the VAPID signature against the key of the subscription.
  await visit(admin, '/admin/campaigns');
  const title = `After the rotation ${Date.now()}`;
  const { id } = await sendCampaign(admin, { title, body: 'Signed with the new key' });
  const messages = (await decryptedMessages(newHash)).map((m) => JSON.parse(m));
  expect(messages.find((m) => m.campaign === id)?.title).toBe(title);

  await visitor.close();
  await adminContext.close();
});

test('a visitor who never comes back moves to the new key when the next campaign reaches their worker', async ({ browser }) => {
  const { context: visitor, page, hash: oldHash } = await subscribedVisitor(browser);
  const oldKey = await subscriptionKey(page);
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const newKey = await rotate(admin);
  expect(newKey).not.toBe(oldKey);

  // Still signed with the old key (the subscription's), and marked for the move.
  await visit(admin, '/admin/campaigns');
  const title = `Before the move ${Date.now()}`;
  const { id } = await sendCampaign(admin, { title, body: 'Signed with the old key' });
  const raw = (await decryptedMessages(oldHash)).find((m) => JSON.parse(m).campaign === id)!;
  expect(JSON.parse(raw).rekey).toBe(true);

  // The worker shows it, then moves the subscription by itself: no page is reloaded.
  const inWorker = await standInInWorker(page);
  await deliverToServiceWorker(page, raw, title);
  await expect.poll(async () => (await inWorker.subscription())?.serverKey, { timeout: 10_000 }).toBe(newKey);
  const newHash = (await inWorker.subscription())!.clientHash;
  expect(newHash).not.toBe(oldHash);

  // The server moved the row (old → new): the next campaign reaches the new subscription,
  // signed with the new key and no longer marked.
  const next = `After the move ${Date.now()}`;
  const sent = await sendCampaign(admin, { title: next, body: 'Signed with the new key' });
  const message = (await decryptedMessages(newHash)).map((m) => JSON.parse(m)).find((m) => m.campaign === sent.id);
  expect(message?.title).toBe(next);
  expect(message?.rekey).toBeUndefined();
  expect((await decryptedMessages(oldHash)).some((m) => JSON.parse(m).campaign === sent.id)).toBe(false);

  await visitor.close();
  await adminContext.close();
});
