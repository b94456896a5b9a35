import { defineConfig } from '@playwright/test';

export const TIDINGS_PORT = 3100;
export const PUSH_SERVICE_PORT = 8090;
export const BASE_URL = `http://127.0.0.1:${TIDINGS_PORT}`;
export const PUSH_SERVICE_URL = `http://127.0.0.1:${PUSH_SERVICE_PORT}`;
/** A customer's own site, registered in Tidings by the embedding tests, and one that is not. */
export const CUSTOMER_URL = 'http://127.0.0.1:3200';
export const STRANGER_URL = 'http://127.0.0.1:3300';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // One server and one database are shared: tests run one after another.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download cannot work on this network.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command: 'node customer-site.cjs',
      url: `${CUSTOMER_URL}/healthz`,
      env: { TIDINGS_URL: BASE_URL, CUSTOMER_PORTS: '3200,3300' },
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: 'node push-service.cjs',
      url: `${PUSH_SERVICE_URL}/healthz`,
      env: { PUSH_SERVICE_PORT: String(PUSH_SERVICE_PORT) },
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      // A fresh database every run; the first admin is created through the set-up page.
      command: 'rm -rf .tmp && mkdir -p .tmp && exec ../target/debug/tidings',
      url: `${BASE_URL}/`,
      env: {
        TIDINGS_LISTEN: `127.0.0.1:${TIDINGS_PORT}`,
        DATABASE_URL: 'sqlite:.tmp/e2e.db',
        LEPTOS_SITE_ROOT: '../target/site',
        TIDINGS_VAPID_SUBJECT: 'mailto:e2e@tidings.example',
        TIDINGS_ALLOW_LOOPBACK_ENDPOINTS: '1',
        RUST_LOG: 'info',
      },
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
    },
  ],
});
