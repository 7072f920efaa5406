// Journey 1: a unit registers through the wizard, and the county then the city approve it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, until, sleep,
  orgFor, uniq, wizardToOrg, orgToAttachments, uploadRequired, signIn, signOut, openFromQueue,
  approve, DEMO_PASSWORD, UNIT_PASSWORD,
  clickConfirmed,
} from '../lib.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer('registration');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a unit registers, the county and then the city approve it', { timeout: 180_000 }, async (t) => {
  const org = orgFor(uniq());
  t.diagnostic(`server ${server.base} on ${server.database}`);
  try {
    // The login page.
    await page.goto('/login');
    await see(page.getByRole('heading', { name: '用户登录' }));
    await screenshot(page, 'login');

    // 【用户注册】 → the notice, its button locked for a visible 10-second countdown.
    await wizardToOrg(page, server, org, {
      async onNotice(p, accept, opened) {
        assert.equal(await accept.isDisabled(), true, 'the notice button starts disabled');
        const countdown = p.getByText(/秒后可继续/);
        await see(countdown);
        const first = Number((await countdown.innerText()).match(/(\d+)秒/)[1]);
        assert.ok(first >= 8 && first <= 10, `countdown starts near 10 s, shows ${first}`);
        await screenshot(p, 'register-notice');
        await sleep(3_000);
        assert.equal(await accept.isDisabled(), true, 'still disabled after 3 s');
        const later = Number((await countdown.innerText()).match(/(\d+)秒/)[1]);
        assert.ok(later < first, `the countdown goes down (${first} → ${later})`);
        await until(() => accept.isEnabled(), 'the notice button to be enabled', 20_000, 100);
        const waited = Date.now() - opened;
        assert.ok(waited >= 9_000, `enabled only after the countdown (${waited} ms)`);
        await see(p.getByText('请点击“我已阅读以上须知”继续'));
      },
    });

    // Organisation form, then the account.
    await orgToAttachments(page, org, {
      onOrg: (p) => screenshot(p, 'register-org'),
    });

    // Every 【样式模板】 link downloads its template.
    const templates = page.getByRole('link', { name: '【样式模板】' });
    const nTemplates = await templates.count();
    assert.ok(nTemplates >= 1, 'template links are shown');
    for (let i = 0; i < nTemplates; i++) {
      const [download] = await Promise.all([page.waitForEvent('download'), templates.nth(i).click()]);
      const name = download.suggestedFilename();
      assert.match(name, /\.(rtf|pdf|docx?)$/, `template file name ${name}`);
      const bytes = readFileSync(await download.path());
      assert.ok(bytes.length > 0, `template ${name} is not empty`);
      assert.equal(await download.failure(), null);
    }

    // Upload a PDF into each required slot, then [提交注册].
    const required = await uploadRequired(page);
    t.diagnostic(`required attachments: ${required.join(', ')}`);
    await screenshot(page, 'register-attachments');
    await clickConfirmed(page, '[提交注册]');
    await see(page.getByRole('heading', { name: '用户注册信息' }));
    await seeText(page, '待县区外办初审');
    await seeText(page, '提交成功');
    await signOut(page);

    // The county of 天宁区 approves.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: /^待办/ }).click();
    await see(page.getByRole('row').filter({ hasText: org.name }));
    await screenshot(page, 'review-queue');
    await openFromQueue(page, org.name);
    await see(page.getByRole('cell', { name: org.creditCode }));
    await see(page.getByRole('button', { name: '【退回】' }));
    await screenshot(page, 'review-detail');
    await clickConfirmed(page, '【审核通过】');
    await seeText(page, '已审核通过。');
    assert.equal(await page.getByRole('row').filter({ hasText: org.name }).count(), 0,
      'the unit leaves the county queue');
    await signOut(page);

    // The city approves.
    await signIn(page, 'city', DEMO_PASSWORD);
    await approve(page, org.name);
    await signOut(page);

    // The unit signs in to an approved home with a new message.
    await signIn(page, org.login, UNIT_PASSWORD);
    await seeText(page, '您的单位已审核通过');
    const counter = await see(page.getByRole('link', { name: /^新消息\d+$/ }));
    const unread = Number((await counter.innerText()).match(/\d+/)[0]);
    assert.ok(unread >= 1, `新消息${unread}`);
    await see(page.getByRole('link', { name: /审核通过/ }));
    await screenshot(page, 'unit-home');
  } catch (e) {
    await failureShot(page, 'registration');
    throw e;
  }
});
