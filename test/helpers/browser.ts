/**
 * Browser harness for the web UI's end-to-end tests: Debian's Chromium
 * driven by playwright-core (no downloaded browser), one browser per test
 * file, and pages that record every console error, uncaught page error and
 * failed request to the master, so a test can assert the UI ran cleanly.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { ROOT } from './farm.js';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Where `screenshot()` writes (git-ignored). */
export const SCREENSHOTS = join(ROOT, 'test', 'screenshots');

/** A laptop screen and a phone, the two sizes the UI must work at. */
export const LAPTOP = { width: 1366, height: 768 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Launches headless Chromium; throws a message saying how to install it when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the web UI tests drive Debian's Chromium. ` +
        'Install it with `apt-get install -y --no-install-recommends chromium` (as root; .ci/run does this).',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
}

/**
 * One browser for the whole test file, launched in beforeAll and closed in
 * afterAll. Read `.browser` inside tests. When Chromium cannot start, every
 * test that reads it fails with the reason: a failing beforeAll would only
 * mark the tests skipped, and a missing browser must not pass quietly.
 */
export function useBrowser(): { readonly browser: Browser } {
  let browser: Browser | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      browser = await launchBrowser();
    } catch (error) {
      failure = error;
    }
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get browser(): Browser {
      if (failure) throw failure;
      if (!browser) throw new Error('the browser is not launched yet (use it inside a test or hook)');
      return browser;
    },
  };
}

/** A status a test expects from the master (a refused token's 401), so it is not reported as a problem. */
export interface ExpectedFailure {
  status: number;
  /** Matched against the request's URL path (e.g. /\/force$/). */
  path: RegExp;
}

/** A page in its own browser context, with what went wrong while it ran. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and failed requests to the master, in order, as readable lines. */
  problems: string[];
  /** Declares a failing response the test provokes on purpose. */
  expectFailure(failure: ExpectedFailure): void;
  /** Closes the context (and its page). */
  close(): Promise<void>;
}

/**
 * Opens a page on `base` (the master's URL) in a fresh context (no stored
 * token) at the given viewport, recording problems as they happen.
 */
export async function openPage(
  browser: Browser,
  base: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? LAPTOP, baseURL: base });
  const page = await context.newPage();
  const problems: string[] = [];
  const expected: ExpectedFailure[] = [];
  const origin = new URL(base).origin;
  const isExpected = (url: string, status: number | undefined): boolean => {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      return false;
    }
    return expected.some((e) => (status === undefined || e.status === status) && e.path.test(path));
  };

  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium also logs every 4xx/5xx as "Failed to load resource"; an expected one is no problem.
    const at = message.location().url;
    if (/^Failed to load resource/.test(message.text()) && at && isExpected(at, undefined)) return;
    problems.push(`console error: ${message.text()}${at ? ` (at ${at})` : ''}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error.message}`));
  page.on('response', (response) => {
    const url = response.url();
    if (!url.startsWith(origin) || response.status() < 400) return;
    if (isExpected(url, response.status())) return;
    problems.push(`HTTP ${response.status()} from ${response.request().method()} ${url}`);
  });
  page.on('requestfailed', (request) => {
    const url = request.url();
    const reason = request.failure()?.errorText ?? 'failed';
    // Navigating or closing the page aborts what is in flight (the event stream): not a failure.
    if (!url.startsWith(origin) || reason === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${request.method()} ${url}: ${reason}`);
  });

  return {
    page,
    context,
    problems,
    expectFailure: (failure) => void expected.push(failure),
    close: () => context.close(),
  };
}

/** Saves a full-page screenshot to test/screenshots/NAME.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Whether the document scrolls sideways (something wider than the viewport
 * outside a scrolling container): the UI must not, on a phone or a laptop.
 */
export function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
    return doc.documentElement.scrollWidth > doc.documentElement.clientWidth + 1;
  });
}

/** How long a test waits for something to show on a page. */
export const SHOWN_MS = 10_000;

/** Waits until the locator's first match is visible; the error names what was expected and shows the page's main text. */
export async function visible(page: Page, what: string, locator: ReturnType<Page['locator']>, timeout = SHOWN_MS): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (error) {
    const text = (await page.locator('main').innerText().catch(() => '')).slice(0, 2000);
    throw new Error(`${page.url()}: ${what} not shown within ${timeout} ms. The page's main text:\n${text}`, { cause: error });
  }
}

/** Asserts the page logged no console or page errors and no request to the master failed. */
export function expectClean(watched: WatchedPage, where: string): void {
  expect(watched.problems, `problems on ${where}`).toEqual([]);
}
