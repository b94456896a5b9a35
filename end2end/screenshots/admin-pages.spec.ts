import { expect, test, type Page } from '@playwright/test';
import { BASE_URL, CUSTOMER_URL } from '../playwright.config';
import {
  clickNotification, decryptedMessages, deliverToServiceWorker, sendCampaign, signInAsAdmin, subscribedVisitor,
  usePushServiceStandIn, visit,
} from '../tests/helpers';

const OUT = '../docs/screenshots';

async function shoot(page: Page, name: string) {
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
  await page.setViewportSize({ width: 360, height: 780 });
  await page.screenshot({ path: `${OUT}/${name}-360.png`, fullPage: true });
  await page.setViewportSize({ width: 1100, height: 900 });
}

test('screenshots of the admin pages', async ({ browser }) => {
  const adminContext = await browser.newContext({ timezoneId: 'Europe/Berlin' });
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  await visit(admin, '/admin/topics');
  for (const name of ['Releases', 'Offers', 'Events']) {
    await admin.getByLabel('Name', { exact: true }).fill(name);
    await admin.getByRole('button', { name: 'Add topic' }).click();
    await expect(admin.locator('.topic-list')).toContainText(name);
  }
  await visit(admin, '/admin/campaigns');

  // A few subscribers (choosing every topic), one of whom clicks.
  const visitors = [];
  for (let i = 0; i < 3; i++) visitors.push(await subscribedVisitor(browser));
  await visitors[1].page.getByLabel('Offers').uncheck();
  await visitors[1].page.getByRole('button', { name: 'Save my topics' }).click();
  await expect(visitors[1].page.getByText('Your topics are saved.')).toBeVisible();
  await shoot(visitors[1].page, 'public');

  const title = 'Spring sale: 20% off everything';
  const { id } = await sendCampaign(admin, { title, body: 'Until Sunday, in every store and online.', url: `${BASE_URL}/?from=sale` });
  const raw = (await decryptedMessages(visitors[0].hash)).find((m) => JSON.parse(m).campaign === id)!;
  await deliverToServiceWorker(visitors[0].page, raw, title);
  await clickNotification(visitors[0].page, title);

  // A scheduled campaign and a draft, so the list shows every kind.
  await admin.getByLabel('Title').fill('Doors open at nine');
  await admin.getByLabel('Body').fill('The new store opens tomorrow morning.');
  await admin.getByLabel('At a date and time').check();
  await admin.getByLabel(/^Send at/).fill('2027-05-04T09:00');
  await admin.getByRole('button', { name: 'Schedule' }).click();
  await expect(admin.locator('.campaign-meta')).toContainText('Scheduled for');
  await shoot(admin, 'campaign-scheduled');
  await visit(admin, '/admin/campaigns');
  await admin.getByLabel('Title').fill('Summer newsletter');
  await admin.getByRole('button', { name: 'Save draft' }).click();
  await expect(admin.locator('.campaign-meta')).toContainText('Draft');

  await visit(admin, '/admin');
  await expect(admin.locator('svg rect.bar-joined')).not.toHaveCount(0);
  await shoot(admin, 'dashboard');

  await visit(admin, '/admin/campaigns');
  await admin.getByLabel('Title').fill('Flash sale: two hours only');
  await admin.getByLabel('Body').fill('Everything in the outlet at half price until 8 pm.');
  await admin.getByLabel('Link URL').fill('https://shop.example/outlet');
  await admin.getByText('Images, buttons and delivery options').click();
  await admin.getByLabel('Button 1 label').fill('Shop now');
  await admin.getByLabel('Button 1 link').fill('https://shop.example/outlet');
  await admin.getByLabel('Button 2 label').fill('Not today');
  await admin.getByLabel('Button 2 link').fill('/');
  await shoot(admin, 'compose');

  await visit(admin, '/admin/topics');
  await shoot(admin, 'topics');
  await visit(admin, '/admin/subscribers');
  await expect(admin.getByText(/subscribers match/)).toBeVisible();
  await shoot(admin, 'subscribers');

  await visit(admin, `/admin/campaigns/${id}`);
  await expect(admin.locator('.stat.clicked dd')).toContainText('1');
  await shoot(admin, 'campaign');

  // An A/B test: two variants while composing, then the results per variant (one clicks).
  await visit(admin, '/admin/campaigns');
  await admin.getByLabel('Title').fill('Fresh bread at 7');
  await admin.getByLabel('Body', { exact: true }).fill('Sourdough, rye and baguettes, warm from the oven.');
  await admin.getByText('A/B test', { exact: true }).click();
  await admin.getByRole('button', { name: 'Add variant B' }).click();
  const variantB = admin.getByRole('group', { name: 'Variant B' });
  await variantB.getByLabel('Title').fill('Your bread is waiting');
  await variantB.getByLabel('Body').fill('Warm sourdough from 7 am. Come early!');
  await shoot(admin, 'ab-compose');
  await admin.getByRole('button', { name: 'Send now' }).click();
  await admin.getByRole('button', { name: 'Yes, send now' }).click();
  const queued = admin.getByRole('status').filter({ hasText: 'is queued' });
  await expect(queued).toBeVisible();
  const test = Number((await queued.textContent())!.match(/#(\d+)/)![1]);
  await expect(admin.locator(`tr[data-campaign="${test}"]`)).toHaveAttribute('data-status', 'sent', { timeout: 20_000 });
  const abRaw = (await decryptedMessages(visitors[2].hash)).find((m) => JSON.parse(m).campaign === test)!;
  const abTitle = JSON.parse(abRaw).title;
  await deliverToServiceWorker(visitors[2].page, abRaw, abTitle);
  await clickNotification(visitors[2].page, abTitle);
  await visit(admin, `/admin/campaigns/${test}`);
  await expect(admin.locator('.ab-card td[data-label="Clicked"]').filter({ hasText: '1' })).toHaveCount(1);
  await shoot(admin, 'ab-campaign');

  // A campaign in two languages: the preview switches to German; the page counts each.
  await visit(admin, '/admin/campaigns');
  await admin.getByLabel('Title').fill('Market day on Saturday');
  await admin.getByLabel('Body', { exact: true }).fill('Fresh bread, cheese and flowers from 8 am.');
  await admin.getByText('Languages', { exact: true }).click();
  await admin.getByRole('button', { name: 'Add a language' }).click();
  const german = admin.getByRole('group', { name: 'Language 1' });
  await german.getByLabel(/^Language/).fill('de');
  await german.getByLabel('Title').fill('Markttag am Samstag');
  await german.getByLabel('Body').fill('Frisches Brot, Käse und Blumen ab 8 Uhr.');
  await admin.getByLabel('Preview in').selectOption({ label: 'de' });
  await expect(admin.locator('.previews [data-testid="preview"]')).toContainText('Markttag');
  await shoot(admin, 'languages-compose');
  await admin.getByRole('button', { name: 'Send now' }).click();
  await admin.getByRole('button', { name: 'Yes, send now' }).click();
  const inLanguages = admin.getByRole('status').filter({ hasText: 'is queued' });
  await expect(inLanguages).toBeVisible();
  const market = Number((await inLanguages.textContent())!.match(/#(\d+)/)![1]);
  await expect(admin.locator(`tr[data-campaign="${market}"]`)).toHaveAttribute('data-status', 'sent', { timeout: 20_000 });
  await visit(admin, `/admin/campaigns/${market}`);
  await expect(admin.getByRole('heading', { name: 'Languages' })).toBeVisible();
  await shoot(admin, 'languages-campaign');

  // Local-time delivery: ten hours from now on the clocks of the visitors' zone (UTC), so
  // the first zones have reached it and the page shows who is due when.
  await visit(admin, '/admin/campaigns');
  await admin.getByLabel('Title').fill('Good morning from the bakery');
  await admin.getByLabel('At a time in each subscriber\'s own time zone').check();
  const wallClock = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 10 * 3_600_000).toISOString().slice(0, 16);
  await admin.getByLabel(/^Deliver at/).fill(wallClock);
  await admin.getByRole('button', { name: 'Schedule' }).click();
  await expect(admin.getByRole('heading', { name: 'Due per hour' })).toBeVisible({ timeout: 20_000 });
  await shoot(admin, 'local-time');

  // Automations: a welcome and a weekly digest.
  await visit(admin, '/admin/automations');
  await admin.getByLabel('Name').fill('Welcome');
  await admin.getByLabel('Title').fill('Thanks for subscribing!');
  await admin.getByLabel('Body').fill('Fresh bread news, at most twice a week.');
  await admin.getByRole('button', { name: 'Create automation' }).click();
  await expect(admin.locator('li[data-automation]')).toHaveCount(1);
  await admin.getByLabel('Name').fill('Weekend specials');
  await admin.getByLabel('A campaign every day or week').check();
  await admin.getByLabel('Every', { exact: true }).selectOption('week');
  await admin.getByLabel('On', { exact: true }).selectOption({ label: 'Friday' });
  await admin.getByLabel('At (your time)').fill('16:00');
  await admin.getByLabel('Title').fill('This weekend at the bakery');
  await admin.getByRole('button', { name: 'Create automation' }).click();
  await expect(admin.locator('li[data-automation]')).toHaveCount(2);
  await shoot(admin, 'automations');

  // "Why didn't they get it?" for the subscriber who clicked, and a template.
  await visit(admin, '/admin/deliveries');
  const endpoint = await visitors[0].page.evaluate(
    async () => (await (await navigator.serviceWorker.ready).pushManager.getSubscription())!.endpoint);
  await admin.getByLabel('Subscription number, endpoint or user id').fill(endpoint);
  await admin.getByRole('button', { name: 'Look up' }).click();
  await expect(admin.getByRole('region', { name: 'Deliveries' }).locator('tbody tr').first()).toBeVisible();
  await shoot(admin, 'deliveries');
  await visit(admin, '/admin/campaigns');
  await admin.getByLabel('Title').fill('This week at the bakery');
  await admin.getByLabel('Body', { exact: true }).fill('New bread every morning, and Saturday\'s market stall.');
  await admin.getByText('Save as template').click();
  await admin.getByLabel('Template name').fill('Weekly sale');
  await admin.getByRole('button', { name: 'Save as new template' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Saved as template' })).toBeVisible();
  await visit(admin, '/admin/templates');
  await shoot(admin, 'templates');

  // A customer's own site with the widget (its CSS hides buttons and sets 40 px fonts).
  await visit(admin, '/admin/sites');
  await admin.getByLabel('Name').fill('Example Bakery');
  await admin.getByLabel('Address (origin)').fill(CUSTOMER_URL);
  await admin.getByRole('button', { name: 'Add site' }).click();
  await admin.getByRole('link', { name: 'Get its snippets' }).click();
  await expect(admin.locator('#snippet-worker')).toBeVisible();
  await admin.getByRole('button', { name: 'Check the worker file' }).click();
  await expect(admin.locator('[data-worker-ok="true"]')).toBeVisible();
  const site = admin.url().split('/').pop();
  await shoot(admin, 'site');
  const customer = await browser.newContext();
  await customer.grantPermissions(['notifications'], { origin: CUSTOMER_URL });
  await usePushServiceStandIn(customer);
  const shop = await customer.newPage();
  await shop.goto(`${CUSTOMER_URL}/?site=${site}`);
  await expect(shop.locator('tidings-widget')).toHaveAttribute('data-state', 'ask');
  await shoot(shop, 'embed');
  await visit(admin, '/admin/sites');
  await shoot(admin, 'sites');

  // The API page right after making a key: the token shown once, then the reference.
  await visit(admin, '/admin/api');
  await admin.getByLabel('Name').fill('Shop backend');
  await admin.getByRole('checkbox', { name: /^send/ }).check();
  await admin.getByRole('checkbox', { name: /^read/ }).check();
  await admin.getByRole('button', { name: 'Make key' }).click();
  await expect(admin.locator('#new-api-token')).toHaveText(/^tdk_/);
  await shoot(admin, 'api');
  await visit(admin, '/admin/audit');
  await expect(admin.locator('table.audit tbody tr').first()).toBeVisible();
  await shoot(admin, 'audit');

  await customer.close();
  for (const visitor of visitors) await visitor.context.close();
  await adminContext.close();
});
