import { expect, test } from '@playwright/test';
import { hydrated, reload, signInAsAdmin, visit } from './helpers';

test('an API key is shown once, works with its scopes, and stops working when revoked', async ({ page, request }) => {
  await signInAsAdmin(page);
  await visit(page, '/admin/api');
  const name = `Backend ${Date.now()}`;
  await page.getByLabel('Name').fill(name);
  await page.getByRole('checkbox', { name: /^read/ }).check();
  await page.getByRole('button', { name: 'Make key' }).click();
  const shown = page.locator('#new-api-token');
  await expect(shown).toHaveText(/^tdk_[A-Za-z0-9_-]{43}$/);
  const token = (await shown.textContent())!.trim();
  await expect(page.getByText('it is shown only once')).toBeVisible();

  const auth = { Authorization: `Bearer ${token}` };
  const listed = await request.get('/api/v1/campaigns', { headers: auth });
  expect(listed.status()).toBe(200);
  expect(await listed.json()).toHaveProperty('campaigns');
  // Only `read`: sending is refused, with a problem document that says why.
  const send = await request.post('/api/v1/messages', { headers: auth, data: { user_id: 'x', title: 'Hi' } });
  expect(send.status()).toBe(403);
  expect(send.headers()['content-type']).toBe('application/problem+json');
  expect((await send.json()).detail).toContain('send');

  // Never shown again: not after a reload, only its first characters.
  await reload(page);
  await expect(page.locator('body')).not.toContainText(token);
  const row = page.locator('tr', { hasText: name });
  await expect(row.locator('code')).toHaveText(`${token.slice(0, 10)}…`);
  await expect(row.locator('.last-used')).toContainText('from 127.0.0.1');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(row.locator('.badge')).toContainText('revoked');
  expect((await request.get('/api/v1/campaigns', { headers: auth })).status()).toBe(401);

  // The reference lists every route with a command to copy.
  const reference = page.getByRole('region', { name: 'Reference' });
  await expect(reference.locator('article', { hasText: '/api/v1/messages' }).first()).toContainText('curl -sS -X POST');
});
