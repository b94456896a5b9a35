import { expect, test } from '@playwright/test';
import { clientHash, decryptedMessages, hydrated, sendCampaign, signInAsAdmin, subscribedVisitor } from './helpers';

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
  await admin.goto('/admin/keys');
  await hydrated(admin);
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
  await page.reload();
  await hydrated(page);
  await expect(page.locator('.subscribe')).toHaveAttribute('data-state', 'subscribed');
  await expect.poll(() => subscriptionKey(page)).toBe(newKey);
  const newHash = await clientHash(page);
  expect(newHash).not.toBe(oldHash);
  await admin.reload();
  await expect(admin.locator('li.key', { hasText: oldKey }).locator('.topic-count')).toHaveText(new RegExp(`^${before - 1} subscriber`));
  await expect(admin.locator('li.key', { hasText: newKey }).locator('.topic-count')).toHaveText(/^1 subscriber/);

  // web-push-testing checks the VAPID signature against the key of the subscription.
  await admin.goto('/admin/campaigns');
  await hydrated(admin);
  const title = `After the rotation ${Date.now()}`;
  const { id } = await sendCampaign(admin, { title, body: 'Signed with the new key' });
  const messages = (await decryptedMessages(newHash)).map((m) => JSON.parse(m));
  expect(messages.find((m) => m.campaign === id)?.title).toBe(title);

  await visitor.close();
  await adminContext.close();
});
