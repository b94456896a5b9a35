import { expect, test } from '@playwright/test';
import { decryptedMessages, leave, signInAsAdmin, subscribedVisitor, visit } from './helpers';

test('a welcome made on the Automations page greets the next visitor once, and pauses', async ({ browser, page }) => {
  await signInAsAdmin(page);
  await visit(page, '/admin/automations');
  await expect(page.getByText('No automations yet.')).toBeVisible();
  const title = `Welcome aboard ${Date.now()}`;
  await page.getByLabel('Name').fill('Welcome');
  await page.getByLabel('Minutes after subscribing').fill('0');
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Body').fill('Here is what to expect from us.');
  await page.getByRole('button', { name: 'Create automation' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Automation saved' })).toBeVisible();
  const row = page.locator('li[data-automation]').filter({ hasText: 'Welcome' });
  await expect(row).toContainText('Right after someone subscribes');
  await expect(row.locator('.badge')).toHaveText('active');

  // The next visitor gets it, decrypted at the push service, once.
  const visitor = await subscribedVisitor(browser);
  const welcomes = async () => (await decryptedMessages(visitor.hash)).filter((m) => JSON.parse(m).title === title).length;
  await expect.poll(welcomes, { timeout: 15_000 }).toBe(1);
  await visit(page, '/admin/automations');
  await expect(row).toContainText('1 sent');

  // Paused, then deleted, so the tests after this one see no welcomes.
  await row.getByRole('button', { name: 'Pause Welcome' }).click();
  await expect(row.locator('.badge')).toHaveText('paused');
  await row.getByRole('button', { name: 'Delete Welcome' }).click();
  await expect(page.getByText('No automations yet.')).toBeVisible();
  expect(await welcomes()).toBe(1);
  await leave(visitor);
});
