import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { listOperations, loadSpec } from '../src/http/spec';
import { buildUser } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

// The docs pages as a person sees them, in Debian's chromium (`.ci/run` installs it when missing).
const ARTIFACTS = path.resolve(__dirname, '..', 'build', 'artifacts');
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

  test('when /redoc opens, then ReDoc renders the API title and the operations', async () => {
    await page.goto(`${t.url}/redoc`, { waitUntil: 'domcontentloaded' });
    const title = page.locator('.api-info h1');
    await title.waitFor({ timeout: 20_000 });
    expect(await title.textContent()).toContain(String((loadSpec().info as { title: string }).title));
    expect(await page.locator('[data-section-id^="operation/"]').count()).toBe(listOperations(loadSpec()).length);
    await page.screenshot({ path: path.join(ARTIFACTS, 'redoc.png') });
  }, 30_000);
});
