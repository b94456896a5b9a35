import { expect, test } from '@playwright/test';
import { ADMIN, leave, signInAsAdmin, submitSignIn, subscribedVisitor, visit } from './helpers';

test("an editor's campaign waits for an owner's approval, then goes out", async ({ page, browser }) => {
  await signInAsAdmin(page);
  // Someone to send to: a campaign to nobody is refused before it could wait for approval.
  const visitor = await subscribedVisitor(browser);
  const editorName = `editor${Date.now()}`;
  await visit(page, '/admin/team');
  const add = page.locator('form').filter({ has: page.getByRole('button', { name: 'Add admin' }) });
  await add.getByLabel('User name').fill(editorName);
  await add.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await add.getByLabel('Password again').fill(ADMIN.password);
  await add.getByLabel('Role').selectOption('editor');
  await add.getByRole('button', { name: 'Add admin' }).click();
  await expect(page.getByText('Admin added.')).toBeVisible();
  await expect(page.locator('.admin-list')).toContainText(`${editorName} · Editor`);

  // The owner makes Tidings' own page require approval.
  await visit(page, '/admin/sites/1');
  await page.getByRole('button', { name: "Require an owner's approval" }).click();
  await expect(page.getByText('Campaigns that editors send to this site wait until an owner approves them.')).toBeVisible();

  const editorContext = await browser.newContext();
  const editor = await editorContext.newPage();
  await submitSignIn(editor, editorName, ADMIN.password);
  await expect(editor.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  // Owner-only pages are not offered to an editor.
  await expect(editor.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
  await visit(editor, '/admin/campaigns');
  const title = `Needs approval ${Date.now()}`;
  await editor.getByLabel('Title').fill(title);
  await editor.getByRole('button', { name: 'Send now' }).click();
  await editor.getByRole('button', { name: 'Yes, send now' }).click();
  await editor.waitForURL(/\/admin\/campaigns\/\d+$/);
  await expect(editor.getByRole('heading', { name: 'Waiting for approval' })).toBeVisible();
  await expect(editor.locator('.campaign-meta .badge')).toHaveText('awaiting_approval');
  await expect(editor.getByRole('button', { name: 'Approve and send' })).toHaveCount(0);
  const campaignUrl = editor.url();

  await visit(page, campaignUrl);
  await expect(page.getByText(`${editorName} asked`)).toBeVisible();
  await page.getByRole('button', { name: 'Approve and send' }).click();
  await expect(page.locator('.campaign-meta .badge')).toHaveText(/queued|sending|sent/);
  await expect(page.locator('.campaign-meta .badge')).toHaveText('sent', { timeout: 20_000 });

  // Back as it was, for the other tests.
  await visit(page, '/admin/sites/1');
  await page.getByRole('button', { name: 'Let editors send without approval' }).click();
  await expect(page.getByText('Editors send campaigns to this site themselves.')).toBeVisible();
  await editorContext.close();
  await leave(visitor);
});
