import { expect, test } from '@playwright/test';
import { BASE_URL } from '../playwright.config';
import {
  audienceSize, clickNotification, deliverToServiceWorker, signInAsAdmin, standInInWorker, subscribedVisitor,
} from './helpers';

test('the service worker opens the window before the click report, only web links, and alerts again for a topic', async ({ browser }) => {
  const { context: visitor, page } = await subscribedVisitor(browser);
  const worker = visitor.serviceWorkers().find((w) => w.url() === `${BASE_URL}/sw.js`)!;
  // Watch the worker's real openWindow and fetch: a click dispatched by a test carries no
  // user gesture, so Chromium would refuse the window; the report is held back 500 ms, as
  // on a slow network.
  await worker.evaluate(() => {
    const scope = self as any;
    scope.events = [];
    const clients = scope.clients;
    clients.openWindow = async (url: string) => { scope.events.push(`open ${url}`); return null; };
    // The visitor's page is open at the target: the worker focuses it instead.
    WindowClient.prototype.focus = async function () { scope.events.push(`open ${this.url}`); return this; };
    const realFetch = scope.fetch.bind(scope);
    scope.fetch = async (input: RequestInfo, init?: RequestInit) => {
      if (String(input).endsWith('/api/track')) {
        scope.events.push('report sent');
        await new Promise((resolve) => setTimeout(resolve, 500));
        const response = await realFetch(input, init);
        scope.events.push('report answered');
        return response;
      }
      return realFetch(input, init);
    };
  });

  // A payload with a script link (Tidings refuses such links; a forged push might not).
  const first = { campaign: 900001, title: 'Topic news 1', topic: 'news', url: 'javascript:alert(1)', track: '1.1.x' };
  const shown = await deliverToServiceWorker(page, JSON.stringify(first), first.title);
  expect(shown.tag).toBe('topic-news');
  expect(shown.renotify).toBe(true);
  await clickNotification(page, first.title);
  await expect.poll(() => worker.evaluate(() => (self as any).events.length)).toBe(3);
  const events: string[] = await worker.evaluate(() => (self as any).events);
  expect([...events].sort()).toEqual([`open ${BASE_URL}/`, 'report answered', 'report sent']);
  // Firefox allows a window only about a second after the click: it must not wait.
  expect(events.indexOf(`open ${BASE_URL}/`)).toBeLessThan(events.indexOf('report answered'));

  // A data: action link is not followed either; an https one is.
  await worker.evaluate(() => { (self as any).events = []; });
  const second = {
    campaign: 900002, title: 'Topic news 2', topic: 'news', url: 'https://example.org/story',
    actions: [{ title: 'Data', url: 'data:text/html,<script>alert(1)</script>' }],
  };
  await deliverToServiceWorker(page, JSON.stringify(second), second.title);
  await clickNotification(page, second.title, '0');
  expect(await worker.evaluate(() => (self as any).events)).toEqual([`open ${BASE_URL}/`]);
  await deliverToServiceWorker(page, JSON.stringify(second), second.title);
  await worker.evaluate(() => { (self as any).events = []; });
  await clickNotification(page, second.title);
  expect(await worker.evaluate(() => (self as any).events)).toEqual(['open https://example.org/story']);

  await visitor.close();
});

test('a browser that replaces the subscription without naming the old one keeps the visitor, through lost reports', async ({ browser }) => {
  const { context: visitor, page, hash } = await subscribedVisitor(browser);
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const before = await audienceSize(admin);
  const inWorker = await standInInWorker(page);
  // A push first: the worker remembers the endpoint it was sent to.
  await deliverToServiceWorker(page, JSON.stringify({ campaign: 900003, title: 'Remembered' }), 'Remembered');

  // Some browsers fire pushsubscriptionchange with neither subscription; the first two
  // reports are lost on the way (as on a flaky network) and the worker tries again.
  await inWorker.worker.evaluate(async () => {
    const scope = self as any;
    const realFetch = scope.fetch.bind(scope);
    scope.reports = 0;
    scope.fetch = async (input: RequestInfo, init?: RequestInit) => {
      if (String(input).endsWith('/api/resubscribe') && ++scope.reports <= 2) throw new TypeError('Failed to fetch');
      return realFetch(input, init);
    };
    const pending: Promise<unknown>[] = [];
    const event = new (self as any).ExtendableEvent('pushsubscriptionchange');
    event.waitUntil = (promise: Promise<unknown>) => pending.push(promise);
    self.dispatchEvent(event);
    await Promise.allSettled(pending);
  });
  const moved = await inWorker.subscription();
  expect(moved?.clientHash).toBeTruthy();
  expect(moved!.clientHash).not.toBe(hash);
  expect(await inWorker.worker.evaluate(() => (self as any).reports)).toBe(3);
  // Old → new: the same number of subscribers, not one more.
  await expect.poll(() => audienceSize(admin)).toBe(before);

  await visitor.close();
  await adminContext.close();
});
