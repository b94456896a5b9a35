import { expect, test } from '@playwright/test';
import { audienceSize, leave, reload, signInAsAdmin, subscribedVisitor } from './helpers';

test('sending asks first with the count, refuses an audience of nobody, and clears the form once sent', async ({ browser, page }) => {
  const visitor = await subscribedVisitor(browser);
  await signInAsAdmin(page);
  const campaigns = async () => (await (await page.request.post('/api/admin/list_campaigns')).json()).length;
  const before = await campaigns();

  // A topic nobody has chosen: no question, the server's answer, nothing sent.
  const nobody = `Empty topic ${Date.now()}`;
  const created = await page.request.post('/api/admin/create_topic', { form: { name: nobody } });
  expect(created.ok(), await created.text()).toBeTruthy();
  const topic: number = await created.json();
  await reload(page);
  await page.getByRole('checkbox', { name: `${nobody} (0)` }).check();
  await expect(page.locator('.audience')).toHaveText('Nobody has chosen these topics yet.');
  await page.getByLabel('Title').fill('To nobody');
  await page.getByLabel('Body', { exact: true }).fill('Should not go out');
  await page.getByRole('button', { name: 'Send now' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Nobody would receive this' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Yes, send now' })).toHaveCount(0);
  expect(await campaigns()).toBe(before);
  await page.getByRole('checkbox', { name: `${nobody} (0)` }).uncheck();

  // Everyone: the question names how many, and Cancel sends nothing.
  const everyone = await audienceSize(page);
  expect(everyone).toBeGreaterThan(0);
  const noun = everyone === 1 ? 'subscriber' : 'subscribers';
  await page.getByLabel('Title').fill('Guard rails');
  await page.getByLabel('Body', { exact: true }).fill('Asked once, sent once');
  await page.getByRole('button', { name: 'Send now' }).click();
  const question = page.getByRole('group', { name: `Send to ${everyone.toLocaleString('en-US')} ${noun} now?` });
  await expect(question).toBeVisible();
  await question.getByRole('button', { name: 'Cancel' }).click();
  await expect(question).toHaveCount(0);
  expect(await campaigns()).toBe(before);

  // Changing the campaign after the question withdraws it: the next click asks again.
  await page.getByRole('button', { name: 'Send now' }).click();
  await expect(question).toBeVisible();
  await page.getByLabel('Body', { exact: true }).fill('Asked again, sent once');
  await expect(question).toHaveCount(0);
  await page.getByRole('button', { name: 'Send now' }).click();
  await question.getByRole('button', { name: 'Yes, send now' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'is queued' })).toBeVisible();
  expect(await campaigns()).toBe(before + 1);

  // Sent: the form is empty again, so a second click cannot send it twice.
  await expect(page.getByLabel('Title')).toHaveValue('');
  await expect(page.getByLabel('Body', { exact: true })).toHaveValue('');
  await expect(page.locator('.preview')).not.toContainText('Asked again');
  await page.getByRole('button', { name: 'Send now' }).click();
  await expect(page.getByRole('button', { name: 'Yes, send now' })).toHaveCount(0);
  expect(await campaigns()).toBe(before + 1);

  // At 1100 px the campaign table stays inside its card (it scrolls there if it must).
  await page.setViewportSize({ width: 1100, height: 800 });
  const outside = await page.evaluate(() => {
    const card = document.querySelector('.table-scroll')!.closest('.card')!.getBoundingClientRect();
    const scroller = document.querySelector('.table-scroll')!.getBoundingClientRect();
    return {
      scrollerOutOfCard: scroller.right > card.right + 0.5,
      pageScrollsSideways: document.documentElement.scrollWidth > window.innerWidth,
    };
  });
  expect(outside).toEqual({ scrollerOutOfCard: false, pageScrollsSideways: false });

  // The topic goes again, so the other tests see the topics they made.
  expect((await page.request.post('/api/admin/archive_topic', { form: { id: String(topic), archived: 'true' } })).ok()).toBeTruthy();
  await leave(visitor);
});
