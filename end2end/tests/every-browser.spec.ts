import { devices, expect, test } from '@playwright/test';
import { visit } from './helpers';

test('on an iPhone in Safari, the page explains Add to Home Screen instead of offering a button that cannot work', async ({ browser }) => {
  const { defaultBrowserType: _, ...iPhone } = devices['iPhone 13'];
  const context = await browser.newContext(iPhone);
  const page = await context.newPage();
  await visit(page, '/');
  await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'home-screen');
  await expect(page.getByText('On iPhone and iPad, notifications need this site on your Home Screen')).toBeVisible();
  await expect(page.locator('tidings-widget')).toContainText('choose Add to Home Screen, then open the site from your Home Screen');
  await expect(page.getByRole('button', { name: 'Subscribe to notifications' })).toHaveCount(0);
  // Fits the phone's screen: nothing wider than the viewport.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(iPhone.viewport.width);
  await context.close();
});

test('an iPad (which calls itself a Mac) gets the same advice; a Mac does not', async ({ browser }) => {
  const mac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
  const iPad = await browser.newContext({ userAgent: mac, hasTouch: true, isMobile: true, viewport: { width: 820, height: 1180 } });
  // Chromium's touch emulation reports one touch point; an iPad reports five.
  await iPad.addInitScript(() => Object.defineProperty(Navigator.prototype, 'maxTouchPoints', { get: () => 5 }));
  const iPadPage = await iPad.newPage();
  await visit(iPadPage, '/');
  await expect(iPadPage.locator('tidings-widget')).toHaveAttribute('data-state', 'home-screen');
  await iPad.close();

  const desktop = await browser.newContext({ userAgent: mac });
  const desktopPage = await desktop.newPage();
  await visit(desktopPage, '/');
  await expect(desktopPage.locator('tidings-widget')).toHaveAttribute('data-state', 'ask');
  await desktop.close();
});

test('the web app manifest makes the site installable, with PNG icons of the sizes it names', async ({ page, request }) => {
  await visit(page, '/');
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  const manifest = await (await request.get(href!)).json();
  expect(manifest).toMatchObject({ display: 'standalone', start_url: '/', theme_color: '#0f766e' });
  const pngs = manifest.icons.filter((icon: { type: string }) => icon.type === 'image/png');
  expect(pngs.map((icon: { sizes: string }) => icon.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
  expect(pngs.some((icon: { purpose: string }) => icon.purpose === 'maskable')).toBe(true);
  const appleIcon = await page.locator('link[rel="apple-touch-icon"]').getAttribute('href');
  for (const src of [...pngs.map((icon: { src: string }) => icon.src), appleIcon]) {
    const response = await request.get(src);
    expect(response.headers()['content-type'], src).toBe('image/png');
    // The real pixel size, from the PNG header.
    const body = await response.body();
    const size = `${body.readUInt32BE(16)}x${body.readUInt32BE(20)}`;
    const declared = pngs.find((icon: { src: string }) => icon.src === src)?.sizes ?? '180x180';
    expect(size, src).toBe(declared);
  }
});
