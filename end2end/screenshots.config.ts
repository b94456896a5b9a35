import { defineConfig } from '@playwright/test';
import tests from './playwright.config';

/** `make screenshots`: the README's pictures of the admin pages, taken from a real run. */
export default defineConfig({ ...tests, testDir: './screenshots', timeout: 120_000 });
