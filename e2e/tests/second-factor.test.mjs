// Issue 14, item 6: the second sign-in factor in the browser, with the settings as shipped. A
// staff member (the city office) enrols a TOTP authenticator on the account page: the QR code
// (read back from the screen) and the secret are shown, a code computed here as an authenticator
// app computes it (HMAC-SHA1, node's crypto) confirms it, and ten recovery codes are shown once.
// Then the password alone no longer signs in: a computed code does, and another time a recovery
// code does, once and not twice. The administrator, who must have a second factor as shipped,
// enrols at the first sign-in before seeing any page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, field, signIn,
  signOut, totp, DEMO_PASSWORD,
} from '../lib.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer('second-factor', [], { secondFactorAsShipped: true });
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The login form: ID and password, then 登录. */
async function password(p, loginId) {
  await p.goto('/login');
  await field(p, '登录ID').fill(loginId);
  await field(p, '密码').fill(DEMO_PASSWORD);
  await p.getByRole('button', { name: '登录', exact: true }).click();
}

/** The secret shown on an enrolment page, without its spaces. */
async function shownSecret(p) {
  return (await p.locator('#totp-secret').innerText()).replace(/\s/g, '');
}

/** What the QR code on the page says, read from a screenshot of it. */
async function qrText(p) {
  const img = PNG.sync.read(await p.locator('.totp-qr svg').screenshot());
  const qr = jsQR(new Uint8ClampedArray(img.data), img.width, img.height);
  assert.ok(qr, 'a readable QR code');
  return qr.data;
}

test('second factor: enrol on the account page, sign in with a computed code and with a recovery code', { timeout: 180_000 }, async () => {
  try {
    // The city office is not required to use a second factor: the password signs in.
    await signIn(page, 'city', DEMO_PASSWORD);
    await page.goto('/account');
    await seeText(page, '未启用');
    await page.getByRole('link', { name: '两步验证设置' }).click();
    await page.getByRole('button', { name: '启用两步验证' }).click();

    // The QR code carries the otpauth URL of the secret shown as text.
    await see(page.locator('.totp-qr svg'));
    const secret = await shownSecret(page);
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const url = await qrText(page);
    assert.match(url, /^otpauth:\/\/totp\//);
    assert.ok(url.includes(`secret=${secret}`), url);
    assert.ok(url.includes('city'), url);
    await screenshot(page, 'second-factor-enrol');

    await field(page, '动态验证码').fill(totp(secret, server.now()));
    await page.getByRole('button', { name: '确认启用' }).click();
    await see(page.getByRole('heading', { name: '两步验证已启用' }));
    const codes = await page.locator('.recovery-codes code').allInnerTexts();
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
    await screenshot(page, 'second-factor-recovery-codes');
    await page.getByRole('link', { name: '我已保存恢复码，继续' }).click();
    await seeText(page, '剩余恢复码');
    await signOut(page);

    // The password alone now leads to the code; a computed code of the next step signs in (the
    // code of the enrolment's step is used up).
    server.advanceClock(30);
    await password(page, 'city');
    await see(page.getByRole('heading', { name: '两步验证' }));
    await screenshot(page, 'second-factor-sign-in');
    await page.goto('/review');
    await see(page.getByRole('heading', { name: '用户登录' }));
    await password(page, 'city');
    await field(page, '动态验证码').fill(totp(secret, server.now()));
    await page.getByRole('button', { name: '验证并登录' }).click();
    await see(page.getByRole('button', { name: '注销' }));
    await signOut(page);

    // A recovery code instead of the code: once.
    await password(page, 'city');
    await field(page, '动态验证码').fill(codes[0]);
    await page.getByRole('button', { name: '验证并登录' }).click();
    await see(page.getByRole('button', { name: '注销' }));
    await page.goto('/account/2fa');
    await seeText(page, '9个');
    await signOut(page);

    // Not twice.
    await password(page, 'city');
    await field(page, '动态验证码').fill(codes[0]);
    await page.getByRole('button', { name: '验证并登录' }).click();
    await seeText(page, '验证码不正确');
    assert.equal(await page.getByRole('button', { name: '注销' }).count(), 0);
    // Another recovery code still works.
    await field(page, '动态验证码').fill(codes[1]);
    await page.getByRole('button', { name: '验证并登录' }).click();
    await see(page.getByRole('button', { name: '注销' }));
    await signOut(page);
  } catch (e) {
    await failureShot(page, 'second-factor');
    throw e;
  }
});

test('the administrator enrols at the first sign-in before seeing any page', { timeout: 120_000 }, async () => {
  const admin = await newPage(browser, server.base);
  try {
    await password(admin, 'demoadmin');
    await see(admin.getByRole('heading', { name: '启用两步验证' }));
    await seeText(admin, '须启用两步验证后才能使用系统');
    // No page of the system opens before the enrolment.
    await admin.goto('/admin');
    await see(admin.getByRole('heading', { name: '用户登录' }));
    await password(admin, 'demoadmin');
    const secret = await shownSecret(admin);
    assert.ok((await qrText(admin)).includes(`secret=${secret}`));
    await field(admin, '动态验证码').fill(totp(secret, server.now()));
    await admin.getByRole('button', { name: '确认启用并登录' }).click();
    await see(admin.getByRole('heading', { name: '两步验证已启用' }));
    assert.equal(await admin.locator('.recovery-codes code').count(), 10);
    await admin.getByRole('link', { name: '我已保存恢复码，继续' }).click();
    await see(admin.getByRole('button', { name: '注销' }));
    await admin.goto('/admin/settings');
    await see(admin.getByLabel('系统管理员', { exact: true }));
    assert.ok(await admin.getByLabel('系统管理员', { exact: true }).isChecked());
    assert.ok(!(await admin.getByLabel('市外办', { exact: true }).isChecked()));
  } catch (e) {
    await failureShot(admin, 'second-factor-admin');
    throw e;
  } finally {
    await admin.context().close();
  }
});
