import { expect, test } from '@playwright/test';
import { BASE_URL } from '../playwright.config';
import {
  clickNotification, clientHash, decryptedMessages, deliverToServiceWorker, hydrated,
  openAsVisitor, openCampaigns, reload, sendCampaign, signInAsAdmin, subscribedVisitor, visit,
} from './helpers';

test('a rich campaign: preview as you type, field errors in place, buttons on the real notification', async ({ browser }) => {
  const { context: visitor, page, hash } = await subscribedVisitor(browser);

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const preview = admin.getByTestId('preview');
  await expect(preview).toContainText('Your title');

  const title = `Flash sale ${Date.now()}`;
  await admin.getByLabel('Title').fill(title);
  await admin.getByLabel('Body').fill('Two hours only');
  await admin.getByLabel('Link URL').fill(`${BASE_URL}/?from=flash`);
  await admin.getByText('Images, buttons and delivery options').click();
  await admin.getByLabel('Button 1 label').fill('Shop now');
  await admin.getByLabel('Button 1 link').fill(`${BASE_URL}/?from=button`);
  await admin.getByLabel('Button 2 label').fill('Not today');
  await admin.getByLabel('Keep it on screen').check();
  await admin.getByLabel(/^Collapse topic/).fill('flash-sale');

  // The preview follows the form as it is typed.
  await expect(preview).toContainText(title);
  await expect(preview).toContainText('Two hours only');
  await expect(preview.locator('.notification-action')).toHaveText(['Shop now', 'Not today']);
  await expect(preview).toContainText('Stays until dismissed');

  // Button 2 has no link: the server's message appears under that field; nothing is sent.
  const campaignCount = async () => (await (await admin.request.post('/api/admin/list_campaigns')).json()).length;
  const campaignsBefore = await campaignCount();
  await admin.getByRole('button', { name: 'Send now' }).click();
  await admin.getByRole('button', { name: 'Yes, send now' }).click();
  await expect(admin.locator('#action2_url-error')).toHaveText('Button 2 needs a link.');
  expect(await campaignCount()).toBe(campaignsBefore);

  await admin.getByLabel('Button 2 link').fill('/');
  const { id, row } = await sendCampaign(admin, { title, body: 'Two hours only', url: `${BASE_URL}/?from=flash` });
  await expect(admin.locator('#action2_url-error')).toHaveCount(0);

  const raw = (await decryptedMessages(hash)).find((m) => JSON.parse(m).campaign === id)!;
  expect(JSON.parse(raw)).toMatchObject({
    actions: [{ title: 'Shop now', url: `${BASE_URL}/?from=button` }, { title: 'Not today', url: '/' }],
    require_interaction: true,
    topic: 'flash-sale',
  });
  const shown = await deliverToServiceWorker(page, raw, title);
  expect(shown).toMatchObject({
    tag: 'topic-flash-sale',
    requireInteraction: true,
    actions: [{ action: '0', title: 'Shop now' }, { action: '1', title: 'Not today' }],
  });

  // Pressing the first button counts as a click on the campaign.
  await clickNotification(page, title, '0');
  await reload(admin);
  await expect(row.locator('td.clicked')).toHaveText(/^1 \(\d+\.\d%\)$/);

  // The campaign's own page: every count, the activity chart, no failures.
  await row.getByRole('link', { name: title }).click();
  await expect(admin.getByRole('heading', { name: title, level: 1 })).toBeVisible();
  await expect(admin.locator('.stat.sent dd')).toHaveText('1');
  await expect(admin.locator('.stat.clicked dd')).toHaveText(/^1\s*100\.0% of sent$/);
  await expect(admin.locator('figure.chart svg rect.bar-sent')).not.toHaveCount(0);
  await expect(admin.getByRole('img', { name: /^1 sent and 1 clicks over/ })).toBeVisible();
  await expect(admin.getByText('No failures')).toBeVisible();

  await visitor.close();
  await adminContext.close();
});

test('a silent campaign reaches the real notification without sound or vibration', async ({ browser }) => {
  const { context: visitor, page, hash } = await subscribedVisitor(browser);
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const title = `Quiet news ${Date.now()}`;
  await admin.getByLabel('Title').fill(title);
  await admin.getByText('Images, buttons and delivery options').click();
  await admin.getByLabel('Silent').check();
  await expect(admin.getByTestId('preview')).toContainText('Silent');
  const { id } = await sendCampaign(admin, { title, body: '', url: '' });

  const raw = (await decryptedMessages(hash)).find((m) => JSON.parse(m).campaign === id)!;
  expect(JSON.parse(raw)).toMatchObject({ silent: true });
  const shown = await deliverToServiceWorker(page, raw, title);
  expect(shown).toMatchObject({ silent: true });

  await visitor.close();
  await adminContext.close();
});

test('an admin sends a test to their own browser first, and it is not a campaign', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await openAsVisitor(context);
  await signInAsAdmin(page);
  const title = `Test to myself ${Date.now()}`;
  await page.getByLabel('Title').fill(title);
  await page.getByRole('button', { name: 'Send a test to this browser' }).click();
  await expect(page.locator('.test-result')).toContainText('This browser is not subscribed yet');

  await visit(page, '/');
  await page.getByRole('button', { name: 'Subscribe to notifications' }).click();
  await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'subscribed');
  const hash = await clientHash(page);

  await openCampaigns(page);
  await hydrated(page);
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Body').fill('Only I should see this');
  await page.getByRole('button', { name: 'Send a test to this browser' }).click();
  await expect(page.locator('.test-result')).toContainText('Sent to this browser');
  const message = (await decryptedMessages(hash)).map((m) => JSON.parse(m)).find((m) => m.title === title);
  expect(message).toEqual({ campaign: 0, title, body: 'Only I should see this' });
  // A test is not a campaign: the list does not show it.
  await expect(page.locator('tr[data-campaign]').filter({ hasText: title })).toHaveCount(0);
  await context.close();
});
