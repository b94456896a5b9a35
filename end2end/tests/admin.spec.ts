import { expect, test, type Page } from '@playwright/test';
import { hydrated, signInAsAdmin, submitSignIn, visit } from './helpers';

/** Collects what the browser refused under our Content-Security-Policy. */
function cspViolations(page: Page): string[] {
  const refused: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  return refused;
}

test('an admin adds another admin, who signs in; no page trips the CSP', async ({ page, browser }) => {
  const refused = cspViolations(page);
  await visit(page, '/');
  await signInAsAdmin(page);

  await page.getByRole('link', { name: 'Admins' }).click();
  await expect(page.getByRole('heading', { name: 'Admins', level: 1 })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('User name').fill('grace');
  await page.getByLabel('Password', { exact: true }).fill('grace e2e password');
  await page.getByLabel('Password again').fill('grace e2e password');
  await page.getByRole('button', { name: 'Add admin' }).click();
  await expect(page.getByRole('status')).toHaveText('Admin added.');
  await expect(page.locator('.admin-list')).toContainText('grace');

  // The same name twice is refused with a message next to the form.
  await page.getByRole('button', { name: 'Add admin' }).click();
  await expect(page.getByRole('alert')).toContainText('already an admin called grace');

  const other = await browser.newContext();
  const gracePage = await other.newPage();
  const graceRefused = cspViolations(gracePage);
  await submitSignIn(gracePage, 'grace', 'grace e2e password');
  await expect(gracePage.getByText('Signed in as grace')).toBeVisible();
  await other.close();

  expect(refused).toEqual([]);
  expect(graceRefused).toEqual([]);
});
