import { expect, test } from '@playwright/test';
import { ADMIN, signInAsAdmin, submitSignIn, visit } from './helpers';

test('the audit log lists who did what from where, and filters by action and actor', async ({ browser, page }) => {
  await signInAsAdmin(page);
  // A failed and a successful sign-in of its own, so the filter below has rows whatever ran
  // before (on a fresh database the first admin is made by set-up, not signed in).
  const other = await browser.newContext();
  const login = await other.newPage();
  await submitSignIn(login, ADMIN.username, 'not the password');
  await expect(login.getByRole('alert')).toBeVisible();
  await signInAsAdmin(login);
  await other.close();
  const name = `Audited ${Date.now()}`;
  const made = await page.request.post('/api/admin/create_topic', { form: { name } });
  expect(made.status()).toBe(200);

  await visit(page, '/admin/audit');
  const rows = page.locator('table.audit tbody tr');
  await expect(rows.first()).toHaveAttribute('data-action', 'topic.create');
  await expect(rows.first()).toContainText(name);
  await expect(rows.first()).toContainText('admin admin from 127.0.0.1');

  await page.getByLabel('What').selectOption({ label: 'Sign-ins (and failures)' });
  await expect(rows.first()).toHaveAttribute('data-action', /^sign_in/);
  for (const action of await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action')))) {
    expect(action).toMatch(/^sign_in/);
  }
  await page.getByLabel('Who').fill('nobody by this name');
  await expect(page.getByText('Nothing recorded matches.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Export CSV' })).toHaveAttribute('href', /actor=nobody\+by\+this\+name&action=sign_in/);
});
