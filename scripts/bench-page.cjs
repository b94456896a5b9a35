// What a visitor's browser downloads before the public page works, and how fast the server
// renders it: `make bench-page` runs this against a release build (scripts/bench-page.sh).
//
//   node scripts/bench-page.cjs http://127.0.0.1:3470
//
// 1. Headless Chromium loads each page until it works and adds up the bytes on the
//    wire (compressed, headers excluded) per file.
// 2. 50 clients request the public page at once, again and again: p50 and p99 latency.
// Prints each figure beside its target (issue 18). Loopback only.
'use strict';
const http = require('http');
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', 'end2end', 'node_modules', 'playwright'));

const base = process.argv[2] || 'http://127.0.0.1:3470';
const PUBLIC_PAGE_TARGET = 150 * 1024;
const CLIENTS = 50;
// Working: an admin page has hydrated; the public page (not hydrated) has its widget ready.
const READY = '[data-hydrated="true"], tidings-widget:not([data-state="checking"])';
const REQUESTS = Number(process.env.BENCH_PAGE_REQUESTS || 5000);

// `again`: the figure for a second visit in the same browser (what its cache saves).
async function weigh(browser, url, again = false) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (again) {
    await page.goto(url);
    await page.locator(READY).first().waitFor({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
  }
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: !again });
  const files = new Map();
  // encodedDataLength counts the response headers too; they are subtracted below, so the
  // figure is the page's bytes as served (compressed), whatever the protocol's overhead.
  const headerBytes = new Map();
  cdp.on('Network.responseReceived', (e) => files.set(e.requestId, {
    url: e.response.url,
    encoding: e.response.headers['content-encoding'] || '',
    cache: e.response.headers['cache-control'] || '',
    status: e.response.status,
  }));
  cdp.on('Network.responseReceivedExtraInfo', (e) => headerBytes.set(e.requestId, (e.headersText || '').length));
  cdp.on('Network.loadingFinished', (e) => {
    const file = files.get(e.requestId);
    if (file) file.bytes = e.encodedDataLength;
  });
  await page.goto(url);
  await page.locator(READY).first().waitFor({ timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  await context.close();
  const rows = [...files.entries()]
    .filter(([, f]) => f.bytes !== undefined && !f.url.startsWith('data:'))
    .map(([id, f]) => ({ ...f, bytes: Math.max(0, f.bytes - (headerBytes.get(id) || 0)) }));
  return rows;
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function get(url) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    }).on('error', reject);
  });
}

async function latency(url) {
  const times = [];
  let next = 0;
  const started = Date.now();
  const client = async () => {
    while (next < REQUESTS) {
      next += 1;
      const { status, ms } = await get(url);
      if (status !== 200) throw new Error(`${url} answered ${status}`);
      times.push(ms);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (Date.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { p50: at(0.5), p99: at(0.99), rate: times.length / seconds };
}

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  for (const [name, url] of [['public page', `${base}/`], ['admin sign-in page', `${base}/admin/login`]]) {
    const rows = await weigh(browser, url);
    const total = rows.reduce((sum, r) => sum + r.bytes, 0);
    console.log(`\n${name} (${url}): ${rows.length} files, ${kb(total)} on the wire`);
    for (const r of rows.sort((a, b) => b.bytes - a.bytes)) {
      console.log(`  ${kb(r.bytes).padStart(10)}  ${(r.encoding || 'identity').padEnd(8)} ${new URL(r.url).pathname}  [${r.cache}]`);
    }
    if (name === 'public page') {
      const verdict = total <= PUBLIC_PAGE_TARGET ? 'met' : 'NOT met';
      console.log(`  target: ≤ ${kb(PUBLIC_PAGE_TARGET)} before it is interactive — measured ${kb(total)} (${verdict})`);
      // Content-named files are kept (immutable): the second visit fetches the page and
      // revalidates only what keeps its name.
      const second = await weigh(browser, url, true);
      const fetched = second.filter((r) => r.bytes > 0);
      const secondTotal = second.reduce((sum, r) => sum + r.bytes, 0);
      console.log(`  second visit: ${kb(secondTotal)} on the wire, ${fetched.length} of ${rows.length} files fetched `
        + `(${second.filter((r) => r.status === 304).length} answered 304 Not Modified)`);
    }
  }
  await browser.close();

  await latency(`${base}/`); // warm-up: connection set-up and first renders
  const { p50, p99, rate } = await latency(`${base}/`);
  console.log(`\nSSR of the public page, ${CLIENTS} concurrent clients, ${REQUESTS} requests:`);
  console.log(`  p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, ${rate.toFixed(0)} pages/s`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
