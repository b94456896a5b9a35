import { expect, test } from '@playwright/test';
import { seriousViolations, signInAsAdmin, subscribedVisitor } from './helpers';

test('admins search subscribers, export them, and import a file with a report of bad rows', async ({ browser, page }) => {
  const visitor = await subscribedVisitor(browser);
  await signInAsAdmin(page);
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Subscribers' }).click();
  await expect(page.getByRole('heading', { name: 'Subscribers', level: 1 })).toBeVisible();
  await expect(page.getByText(/^\d+ subscribers? match/)).toBeVisible();
  const total = Number((await page.getByText(/^\d+ subscribers? match/).textContent())!.match(/^(\d+)/)![1]);
  expect(total).toBeGreaterThan(0);

  // A search with no match says so.
  await page.getByLabel('Joined from').fill('2099-01-01');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText('No subscriber matches this search.')).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);

  // Export (the same file the buttons download), then import it back with one bad row added.
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export JSON' }).click();
  const exported = JSON.parse(await (await (await download).createReadStream()).toArray().then((c) => Buffer.concat(c).toString()));
  expect(exported.length).toBe(total);
  exported.push({ endpoint: 'https://intranet.example/push/1', keys: { p256dh: 'x', auth: 'y' } });
  await page.getByLabel('File').setInputFiles({ name: 'subscriptions.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(exported)) });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.locator('.import-summary')).toHaveText(`0 added, ${total} merged with existing subscriptions, 1 rejected.`);
  await expect(page.locator('.import-problems')).toContainText(`Row ${total + 1}:`);
  await expect(page.locator('.import-problems')).toContainText('not a known push service');
  await visitor.context.close();
});
