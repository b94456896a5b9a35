import { expect, test } from '@playwright/test';
import { decryptedMessages, leave, signInAsAdmin, subscribedVisitor, visit } from './helpers';

test('an A/B campaign with two variants: both previews while composing, then results per variant', async ({ browser, page }) => {
  const visitor = await subscribedVisitor(browser);
  await signInAsAdmin(page);
  const stamp = Date.now();
  const [titleA, titleB] = [`Spring sale ${stamp}`, `Last days of the sale ${stamp}`];

  await page.getByLabel('Title').fill(titleA);
  await page.getByLabel('Body', { exact: true }).fill('Everything 20% off');
  await page.getByText('A/B test', { exact: true }).click();
  await page.getByRole('button', { name: 'Add variant B' }).click();
  const b = page.getByRole('group', { name: 'Variant B' });
  // A new variant starts as a copy of A.
  await expect(b.getByLabel('Title')).toHaveValue(titleA);
  await b.getByLabel('Title').fill(titleB);
  await b.getByLabel('Body').fill('Only until Sunday');

  // Both previews, each labelled, each as typed.
  const previews = page.locator('.previews [data-testid="preview"]');
  await expect(previews).toHaveCount(2);
  await expect(page.locator('.previews .preview-variant')).toHaveText(['Variant A', 'Variant B']);
  await expect(previews.nth(0)).toContainText(titleA);
  await expect(previews.nth(0)).toContainText('Everything 20% off');
  await expect(previews.nth(1)).toContainText(titleB);
  await expect(previews.nth(1)).toContainText('Only until Sunday');
  await expect(page.getByLabel('Who gets the test')).toHaveValue('100');

  await page.getByRole('button', { name: 'Send now' }).click();
  await page.getByRole('button', { name: 'Yes, send now' }).click();
  const queued = page.getByRole('status').filter({ hasText: 'is queued' });
  await expect(queued).toBeVisible();
  const id = Number((await queued.textContent())!.match(/#(\d+)/)![1]);
  await expect(page.locator(`tr[data-campaign="${id}"]`)).toHaveAttribute('data-status', 'sent', { timeout: 20_000 });

  // The visitor got one of the two, decrypted at the push service.
  await expect.poll(async () => (await decryptedMessages(visitor.hash)).length).toBeGreaterThan(0);
  const got = (await decryptedMessages(visitor.hash)).map((m) => JSON.parse(m).title).filter((t) => t.includes(`${stamp}`));
  expect(got).toHaveLength(1);
  expect([titleA, titleB]).toContain(got[0]);

  // The campaign's page: sent, clicked and click-through per variant, and the note on confidence.
  await visit(page, `/admin/campaigns/${id}`);
  const card = page.locator('.ab-card');
  await expect(card.getByRole('heading', { name: 'A/B test' })).toBeVisible();
  const rows = card.locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText(titleA);
  await expect(rows.nth(1)).toContainText(titleB);
  const sent = async () =>
    (await rows.locator('td[data-label="Sent"]').allTextContents()).reduce((sum, n) => sum + Number(n), 0);
  const total = Number(await page.locator('.stat.sent dd').first().textContent().then((t) => t!.match(/\d+/)![0]));
  expect(await sent()).toBe(total);
  await expect(card.locator('.ab-verdict')).toContainText('two-proportion z-test');
  await expect(card).toContainText('Everyone split evenly between 2 variants.');
  // Both previews again, labelled.
  await expect(page.locator('.variant-preview h3')).toHaveText(['Variant A', 'Variant B']);
  await leave(visitor);
});
