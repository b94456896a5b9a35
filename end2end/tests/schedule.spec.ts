import { expect, test } from '@playwright/test';
import { BASE_URL } from '../playwright.config';
import {
  clickNotification, decryptedMessages, deliverToServiceWorker, reload, sendCampaign,
  signInAsAdmin, subscribedVisitor, visit,
} from './helpers';

const ZONE = 'America/New_York';

/** `datetime-local` value for `ms` in the admin's time zone, to the second. */
function localInput(ms: number): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}`;
}

test('a draft is saved, edited into a schedule in the admin’s time zone, sent on time, clicked, and duplicated', async ({ browser }) => {
  const { context: visitor, page, hash } = await subscribedVisitor(browser);

  // The admin's browser is in New York; the page takes its time zone from there.
  const adminContext = await browser.newContext({ timezoneId: ZONE });
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);

  // A draft: saved, not sent, and it opens on its own page.
  const title = `Doors open ${Date.now()}`;
  await admin.getByLabel('Title').fill(title);
  await admin.getByLabel('Body').fill('First come, first served');
  await admin.getByLabel('Link URL').fill(`${BASE_URL}/?from=scheduled`);
  await admin.getByRole('button', { name: 'Save draft' }).click();
  await expect(admin).toHaveURL(/\/admin\/campaigns\/\d+$/);
  const id = Number(admin.url().match(/(\d+)$/)![1]);
  await expect(admin.getByRole('heading', { name: title, level: 1 })).toBeVisible();
  await expect(admin.locator('.campaign-meta')).toContainText('Draft: not sent');
  await expect(admin.getByTestId('preview')).toContainText('First come, first served');

  // Edit it into a campaign a few seconds ahead, entered in New York time.
  await admin.getByRole('link', { name: 'Edit' }).click();
  await expect(admin.getByRole('heading', { name: 'Edit campaign', level: 1 })).toBeVisible();
  await expect(admin.getByLabel('Title')).toHaveValue(title);
  await admin.getByLabel('At a date and time').check();
  await expect(admin.getByText(`Send at (${ZONE} time)`)).toBeVisible();
  const sendAt = Math.ceil((Date.now() + 8_000) / 1000) * 1000;
  await admin.getByLabel(/^Send at/).fill(localInput(sendAt));
  await admin.getByRole('button', { name: 'Schedule' }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin/campaigns/${id}$`));
  const [, hhmm] = localInput(sendAt).match(/T(\d\d:\d\d)/)!;
  await expect(admin.locator('.campaign-meta')).toContainText(`Scheduled for`);
  await expect(admin.locator('.campaign-meta')).toContainText(new RegExp(`${hhmm} E[SD]T`));
  expect(await decryptedMessages(hash)).toEqual([]);

  // It goes out on time: not before, and within a few seconds after.
  await expect.poll(async () => (await decryptedMessages(hash)).length, { timeout: 30_000 }).toBe(1);
  const report = await (await admin.request.post('/api/admin/campaign_report', { form: { id: String(id) } })).json();
  expect(report.summary.scheduled_at).toBe(sendAt / 1000);
  expect(report.summary.started_at).toBeGreaterThanOrEqual(sendAt / 1000);
  expect(report.summary.started_at - sendAt / 1000).toBeLessThanOrEqual(3);

  // The recipient clicks it; the campaign page counts the click.
  const [raw] = await decryptedMessages(hash);
  expect(JSON.parse(raw)).toMatchObject({ campaign: id, title, body: 'First come, first served' });
  await deliverToServiceWorker(page, raw, title);
  await clickNotification(page, title);
  await reload(admin);
  // (Earlier tests' visitors are subscribed too, so it went to more than this one.)
  await expect(admin.locator('.stat.sent dd')).toHaveText(String(report.summary.targeted));
  await expect(admin.locator('.stat.clicked dd')).toHaveText(/^1\s*\d+\.\d% of sent$/);

  // Sent campaigns can be duplicated into a new draft with the same content.
  await admin.getByRole('button', { name: 'Duplicate as new draft' }).click();
  await expect(admin).toHaveURL(/\/admin\/campaigns\/\d+\/edit$/);
  expect(Number(admin.url().match(/campaigns\/(\d+)/)![1])).not.toBe(id);
  await expect(admin.getByLabel('Title')).toHaveValue(title);
  await expect(admin.getByLabel('Link URL')).toHaveValue(`${BASE_URL}/?from=scheduled`);

  await visitor.close();
  await adminContext.close();
});

test('the dashboard shows subscribers, their daily changes and recent campaigns', async ({ browser, page }) => {
  const { context: visitor } = await subscribedVisitor(browser);
  await signInAsAdmin(page);
  const { id } = await sendCampaign(page, { title: `Dashboard check ${Date.now()}`, body: 'Hello' });
  await visit(page, '/admin');
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  const subscribers = Number(await page.locator('.stat.subscribers dd').textContent());
  expect(subscribers).toBeGreaterThan(0);
  await expect(page.getByRole('img', { name: /joined and \d+ lost from/ })).toBeVisible();
  await expect(page.locator('svg rect.bar-joined')).not.toHaveCount(0);
  const recent = page.locator(`table.recent tr[data-campaign="${id}"]`);
  await expect(recent.locator('td.sent')).not.toHaveText('0');
  await expect(recent.locator('td.ctr')).toHaveText(/^0\.0% \(0\)$/);
  // The instance serving this page, beating, with the queue beside it.
  const operations = page.getByRole('region', { name: 'Instances and queue' });
  const me = operations.locator('tr', { hasText: 'this page' });
  await expect(me).toHaveCount(1);
  await expect(me.locator('td.heartbeat')).toHaveText(/^\d+\.\d s ago$/);
  await expect(operations.locator('.stat.due dd')).toHaveText(/^\d+$/);
  await visitor.close();
});
