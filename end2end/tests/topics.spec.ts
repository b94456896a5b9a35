import { expect, test } from '@playwright/test';
import {
  clientHash, decryptedMessages, openAsVisitor, reload, sendCampaign, seriousViolations,
  signInAsAdmin, tooWideAt360, visit,
} from './helpers';

test('visitors choose topics when subscribing and change them later; a campaign to one topic reaches only its subscribers', async ({ browser }) => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  await admin.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Topics' }).click();
  await expect(admin.getByRole('heading', { name: 'Topics', level: 1 })).toBeVisible();
  const releases = `Releases ${Date.now()}`;
  const offers = `Offers ${Date.now()}`;
  for (const name of [releases, offers]) {
    await admin.getByLabel('Name', { exact: true }).fill(name);
    await admin.getByRole('button', { name: 'Add topic' }).click();
    await expect(admin.locator('.topic-list')).toContainText(name);
  }
  expect(await seriousViolations(admin)).toEqual([]);
  expect(await tooWideAt360(admin)).toEqual([]);
  await admin.setViewportSize({ width: 1280, height: 720 });

  // Ana wants releases only; Ben first takes both (the default), then drops releases.
  const subscribe = async (untick: string[]) => {
    const context = await browser.newContext();
    const page = await openAsVisitor(context);
    await expect(page.getByRole('group', { name: 'What would you like to hear about?' })).toBeVisible();
    for (const name of untick) await page.getByLabel(name).uncheck();
    await page.getByRole('button', { name: 'Subscribe to notifications' }).click();
    await expect(page.locator('tidings-widget')).toHaveAttribute('data-state', 'subscribed');
    return { context, page, hash: await clientHash(page) };
  };
  const ana = await subscribe([offers]);
  const ben = await subscribe([]);

  await reload(ben.page);
  await expect(ben.page.locator('tidings-widget')).toHaveAttribute('data-state', 'subscribed');
  await expect(ben.page.getByLabel(releases)).toBeChecked();
  await ben.page.getByLabel(releases).uncheck();
  await ben.page.getByRole('button', { name: 'Save my topics' }).click();
  await expect(ben.page.getByRole('status').filter({ hasText: 'Your topics are saved.' })).toBeVisible();
  await reload(ben.page);
  await expect(ben.page.locator('tidings-widget')).toHaveAttribute('data-state', 'subscribed');
  await expect(ben.page.getByLabel(releases)).not.toBeChecked();
  await expect(ben.page.getByLabel(offers)).toBeChecked();
  expect(await seriousViolations(ben.page)).toEqual([]);
  expect(await tooWideAt360(ben.page)).toEqual([]);

  // A campaign to the releases topic: the live audience size, then only Ana gets it.
  await visit(admin, '/admin/campaigns');
  await admin.getByRole('checkbox', { name: `${releases} (1)` }).check();
  await expect(admin.locator('.audience')).toHaveText('Will reach 1 subscriber.');
  const title = `New release ${Date.now()}`;
  const { id } = await sendCampaign(admin, { title, body: 'Version 2 is out' });
  await expect.poll(async () => (await decryptedMessages(ana.hash)).some((m) => JSON.parse(m).campaign === id)).toBe(true);
  expect((await decryptedMessages(ben.hash)).some((m) => JSON.parse(m).campaign === id)).toBe(false);
  await visit(admin, `/admin/campaigns/${id}`);
  await expect(admin.locator('.campaign-audience')).toHaveText(`Audience: subscribers of ${releases}.`);
  await expect(admin.locator('.stat.targeted dd')).toHaveText('1');

  // The dashboard counts subscribers per topic: Ana in one, Ben in the other.
  await visit(admin, '/admin');
  await expect(admin.locator('.topic-counts li').filter({ hasText: releases }).locator('.topic-count')).toHaveText('1');
  await expect(admin.locator('.topic-counts li').filter({ hasText: offers }).locator('.topic-count')).toHaveText('1');

  for (const context of [ana.context, ben.context, adminContext]) await context.close();
});
