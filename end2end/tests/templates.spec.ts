import { expect, test } from '@playwright/test';
import { leave, signInAsAdmin, subscribedVisitor, visit } from './helpers';

test('a campaign saved as a template starts the next one, which can update it; a template is deleted', async ({ browser, page }) => {
  const visitor = await subscribedVisitor(browser);
  await signInAsAdmin(page);
  const name = `Weekly digest ${Date.now()}`;
  await page.getByLabel('Title').fill('Five things this week');
  await page.getByLabel('Body', { exact: true }).fill('Worth reading, in five minutes');
  await page.getByText('Save as template').click();
  await page.getByLabel('Template name').fill(name);
  await page.getByRole('button', { name: 'Save as new template' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Saved as template “${name}”.` })).toBeVisible();

  // Started from the chooser above the form: the content is filled in and previewed.
  await visit(page, '/admin/campaigns');
  await page.getByLabel('Start from a template').selectOption({ label: name });
  await expect(page).toHaveURL(/\/admin\/campaigns\/from-template\/\d+$/);
  await expect(page.getByLabel('Title')).toHaveValue('Five things this week');
  await expect(page.locator('.preview')).toContainText('Worth reading, in five minutes');

  // Changed and saved back over the template.
  await page.getByLabel('Title').fill('Six things this week');
  await page.getByRole('button', { name: `Update “${name}”` }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved as template' })).toBeVisible();
  await visit(page, '/admin/templates');
  const row = page.locator('li', { hasText: name });
  await expect(row).toContainText('Six things this week');

  // Sent from it: the campaign's own page opens.
  await row.getByRole('link', { name: `Start a campaign from ${name}` }).click();
  await page.getByRole('button', { name: 'Send now' }).click();
  await page.getByRole('button', { name: 'Yes, send now' }).click();
  await expect(page).toHaveURL(/\/admin\/campaigns\/\d+$/);
  await expect(page.getByRole('heading', { name: 'Six things this week', level: 1 })).toBeVisible();

  await visit(page, '/admin/templates');
  await page.getByRole('button', { name: `Delete the template ${name}` }).click();
  await expect(page.locator('li', { hasText: name })).toHaveCount(0);
  await leave(visitor);
});
