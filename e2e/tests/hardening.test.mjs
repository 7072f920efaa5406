// Issue 14, hole 7, in Chromium: a sign-in from a browser that still holds an expired or unknown
// session cookie lands signed in (the answer used to set the new session cookie and then clear
// it), and what the framework refuses by itself (a wrong method, a path it cannot read) is the
// site's Chinese error page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, launchBrowser, newPage, failureShot, see, seeText, field, DEMO_PASSWORD } from '../lib.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer('hardening');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a sign-in with a stale session cookie lands signed in', { timeout: 60_000 }, async () => {
  try {
    await page.goto('/login');
    // The session of yesterday, gone from the server, still in the browser.
    const stale = randomBytes(32).toString('hex');
    await page.context().addCookies([{ name: 'lh_session', value: stale, url: server.base }]);
    await field(page, '登录ID').fill('city');
    await field(page, '密码').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await see(page.getByRole('button', { name: '注销' }));
    assert.match(new URL(page.url()).pathname, /^\/review/);
    const session = (await page.context().cookies()).find((c) => c.name === 'lh_session');
    assert.ok(session && session.value && session.value !== stale, JSON.stringify(session));
    // Still signed in on the next page.
    await page.goto('/home');
    await see(page.getByRole('button', { name: '注销' }));
  } catch (e) {
    await failureShot(page, 'hardening-stale-cookie');
    throw e;
  }
});

test('framework refusals are the Chinese error page', { timeout: 60_000 }, async () => {
  try {
    for (const [path, status, text] of [
      ['/logout', 405, '不支持该访问方式'],
      ['/templates/abc', 400, '请求的网址或参数有误'],
      [`/login?next=${'a'.repeat(5000)}`, 414, '网址过长'],
    ]) {
      const resp = await page.goto(path);
      assert.equal(resp.status(), status, path);
      await see(page.getByRole('heading', { name: '提示' }));
      await seeText(page, text);
      const body = await page.locator('body').innerText();
      assert.doesNotMatch(body, /Failed|deserialize|Invalid|Method Not Allowed/, body);
    }
  } catch (e) {
    await failureShot(page, 'hardening-refusals');
    throw e;
  }
});
