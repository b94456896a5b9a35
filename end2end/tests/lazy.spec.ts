import { expect, test } from '@playwright/test';
import { visit } from './helpers';

test('the public page loads no app code, only the widget; an admin page fetches its own when opened', async ({ page }) => {
  const wasm = new Set<string>();
  const scripts: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) wasm.add(path);
    if (request.resourceType() === 'script') scripts.push(path);
  });

  await visit(page, '/');
  await page.waitForLoadState('networkidle');
  await expect(page.getByRole('button', { name: 'Subscribe to notifications' })).toBeVisible();
  expect([...wasm]).toEqual([]);
  expect(scripts).toEqual(['/embed.js']);

  wasm.clear();
  await visit(page, '/admin/login');
  // On a database without an admin yet, the sign-in page sends you on to set-up.
  const route = page.url().endsWith('/admin/setup') ? 'setup' : 'login';
  const fetched = [...wasm];
  expect(fetched.some((path) => path.startsWith(`/pkg/split___${route}_route_view`))).toBe(true);
  const others = fetched.filter((path) => path.includes('split___') && !/split___(login|setup)_route_view/.test(path));
  expect(others).toEqual([]);
});
