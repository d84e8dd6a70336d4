import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REDOC_LOGO_ORIGIN } from '../src/http/middleware/hardening';
import { listOperations, loadSpec } from '../src/http/binding/spec';
import { buildProduct, buildUser } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

// The docs pages as a person sees them, in Debian's chromium (`.ci/run` installs it when missing).
const ARTIFACTS = path.resolve(__dirname, '..', 'build', 'artifacts');
const LOGO_STAND_IN =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16"/></svg>';
type Img = { complete: boolean; naturalWidth: number };
type LoadingImg = Img & { src: string; onload: () => void; onerror: () => void };
let t: TestApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  t = await startTestApp();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('the docs pages in a browser', () => {
  test('when /docs opens, then Swagger UI lists every operation of the spec', async () => {
    await page.goto(`${t.url}/docs/`, { waitUntil: 'domcontentloaded' });
    await page.locator('.opblock').first().waitFor();
    const listed = await page.locator('.opblock .opblock-summary-operation-id').allTextContents();
    const expected = listOperations(loadSpec()).map((op) => op.operationId);
    expect([...new Set(listed.map((id) => id.trim()))].sort()).toEqual([...expected].sort());
    await page.screenshot({ path: path.join(ARTIFACTS, 'docs.png'), fullPage: false });
  }, 30_000);

  test('when the Servers dropdown is read, then its options are plain text without Markdown backticks', async () => {
    const options = await page.locator('.servers select option').allTextContents();
    expect(options.length).toBeGreaterThan(0);
    for (const option of options) expect(option).not.toContain('`');
  }, 30_000);

  test('when the Authorize dialog opens, then it asks for a username and a password and no client credentials', async () => {
    await page.locator('.auth-wrapper .authorize').first().click();
    const oauth = page.locator('.auth-container', { hasText: 'OAuth2PasswordBearer' });
    await oauth.locator('#oauth_username').waitFor();
    expect(await oauth.locator('#oauth_username').isVisible()).toBe(true);
    expect(await oauth.locator('#oauth_password').isVisible()).toBe(true);
    // Present in the page (Swagger UI always renders them) but not shown.
    for (const field of ['client_id', 'client_secret']) {
      expect(await oauth.locator(`label[for^="${field}_"]`).count()).toBe(1);
      expect(await oauth.locator(`label[for^="${field}_"]`).isVisible()).toBe(false);
      expect(await oauth.locator(`#${field}_password`).isVisible()).toBe(false);
    }
    expect(await oauth.locator('#password_type').isVisible()).toBe(false);
    await page.screenshot({ path: path.join(ARTIFACTS, 'docs-authorize.png') });
    await page.locator('.modal-ux .close-modal').click();
    await page.locator('.modal-ux').waitFor({ state: 'detached' });
  }, 30_000);

  test('when a real user logs in through the Authorize dialog, then Swagger UI holds the token', async () => {
    const user = await buildUser(t);
    await page.locator('.auth-wrapper .authorize').first().click();
    const oauth = page.locator('.auth-container', { hasText: 'OAuth2PasswordBearer' });
    await oauth.locator('#oauth_username').fill(user.username);
    await oauth.locator('#oauth_password').fill(user.password);
    await oauth.getByRole('button', { name: 'Apply given OAuth2 credentials' }).click();
    await oauth.getByRole('button', { name: 'Remove authorization' }).waitFor();
    expect(await oauth.locator('h6').textContent()).toBe('Authorized');
    await page.screenshot({ path: path.join(ARTIFACTS, 'docs-authorized.png') });
    await page.locator('.modal-ux .close-modal').click();
  }, 30_000);

  test('when "Try it out" runs getCurrentUser, then the response shown is a 200', async () => {
    const operation = page.locator('#operations-users-getCurrentUser');
    await operation.locator('.opblock-summary').click();
    await operation.locator('.try-out__btn').click();
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status');
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('200');
    await operation.screenshot({ path: path.join(ARTIFACTS, 'docs-try-it-out.png') });
  }, 30_000);

  test('when the Link of a deprecated operation is opened, then Swagger UI shows it deprecated with its sunset date', async () => {
    const admin = await buildUser(t, { isSuperuser: true });
    const product = await buildProduct(t);
    const put = await t.request.put(`/api/v1/products/${product.id}`).set(admin.auth).send({
      name: 'Pan',
      description: null,
      price_cents: 1,
      currency: 'EUR',
      stock: 1,
      category_id: null,
      is_active: true,
    });
    expect(put.status).toBe(200);
    const link = /<([^>]+)>/.exec(String(put.headers.link))?.[1] ?? '';
    expect(link).toBe('/docs#/products/replaceProduct');
    await page.goto(`${t.url}${link}`, { waitUntil: 'domcontentloaded' });
    const operation = page.locator('#operations-products-replaceProduct');
    const description = operation.locator('.opblock-description-wrapper').first();
    await description.waitFor();
    expect(await operation.getAttribute('class')).toContain('opblock-deprecated');
    expect(await description.textContent()).toContain(
      'Deprecated since 2026-12-07. Sunset: 2027-06-30; from that date it may answer 410 GONE.',
    );
    await operation.screenshot({ path: path.join(ARTIFACTS, 'docs-deprecated.png') });
  }, 30_000);

  test('when /redoc opens, then ReDoc renders the API title and the operations', async () => {
    await page.goto(`${t.url}/redoc`, { waitUntil: 'domcontentloaded' });
    const title = page.locator('.api-info h1');
    await title.waitFor({ timeout: 20_000 });
    expect(await title.textContent()).toContain(String((loadSpec().info as { title: string }).title));
    expect(await page.locator('[data-section-id^="operation/"]').count()).toBe(listOperations(loadSpec()).length);
    await page.screenshot({ path: path.join(ARTIFACTS, 'redoc.png') });
  }, 30_000);

  test('when /redoc opens, then its own CSP blocks nothing and the logo shows', async () => {
    const fresh = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const violations: string[] = [];
      fresh.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
          violations.push(message.text());
      });
      // This machine has no way out: the CDN the ReDoc bundle loads its logo from is answered here. A request the
      // page's CSP blocks never gets this far.
      await fresh.route(`${REDOC_LOGO_ORIGIN}/**`, (route) =>
        route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_STAND_IN }),
      );
      await fresh.goto(`${t.url}/redoc`, { waitUntil: 'domcontentloaded' });
      await fresh.locator('.api-info h1').waitFor({ timeout: 20_000 });
      const logo = fresh.locator('img[alt="redocly logo"]');
      await logo.waitFor({ timeout: 10_000 });
      // ReDoc takes the image out when it fails to load, so this waits for a loaded one or times out.
      await fresh.waitForFunction(
        (img: Img) => img.complete && img.naturalWidth > 0,
        await logo.elementHandle({ timeout: 10_000 }),
        { timeout: 10_000 },
      );
      expect(await logo.evaluate((img: Img) => img.naturalWidth)).toBeGreaterThan(0);
      expect(violations).toEqual([]);
    } finally {
      await fresh.close();
    }
  }, 40_000);

  test('when the browser asks for /favicon.ico, then this server answers with an image it can draw', async () => {
    const favicon = await page.request.get(`${t.url}/favicon.ico`);
    expect(favicon.status()).toBe(200);
    expect(favicon.headers()['content-type']).toMatch(/^image\//);
    // Drawn on the ReDoc page, under its CSP.
    const faviconWidth = await page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const img = new (globalThis as unknown as { Image: new () => LoadingImg }).Image();
          img.onload = () => resolve(img.naturalWidth);
          img.onerror = () => reject(new Error('/favicon.ico did not load as an image'));
          img.src = '/favicon.ico';
        }),
    );
    expect(faviconWidth).toBeGreaterThan(0);
  }, 30_000);
});
