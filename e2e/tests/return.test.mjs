// Journey 2: the county returns a registration; the unit reads the reason, edits and resubmits.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, field,
  orgFor, uniq, registerAndSubmit, signIn, signOut, openFromQueue, DEMO_PASSWORD, UNIT_PASSWORD,
  clickConfirmed,
} from '../lib.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer('return');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the county returns a registration, the unit edits and resubmits it', { timeout: 180_000 }, async () => {
  const org = orgFor(uniq());
  const reason = '营业执照副本不清晰，请重新扫描上传；单位地址请填写到门牌号。';
  const newAddress = '常州市天宁区测试路88号';
  try {
    await registerAndSubmit(page, server, org);
    await signOut(page);

    // 【退回】 without a reason: the message stands beside the reason field.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await openFromQueue(page, org.name);
    await page.getByRole('button', { name: '【退回】' }).click();
    const reasonField = field(page, '退回原因');
    await see(reasonField);
    const fieldBox = page.locator('.field').filter({ has: reasonField });
    await see(fieldBox.getByText('请填写退回原因'));
    assert.match(await fieldBox.getAttribute('class'), /\binvalid\b/);
    await see(page.getByText('待县区外办初审'));

    // With a reason it is returned and leaves the queue.
    await reasonField.fill(reason);
    await clickConfirmed(page, '【退回】');
    await seeText(page, '已退回，并已通知申请单位。');
    assert.equal(await page.getByRole('row').filter({ hasText: org.name }).count(), 0);
    await signOut(page);

    // The unit sees 退回补充 and the reason.
    await signIn(page, org.login, UNIT_PASSWORD);
    await seeText(page, '退回补充');
    await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '用户注册信息' }).click();
    await see(page.getByRole('heading', { name: '用户注册信息' }));
    await seeText(page, '退回补充');
    await seeText(page, reason);
    await screenshot(page, 'registration-returned');

    // 修改注册信息 → 【保存】 → [提交注册].
    await page.getByRole('link', { name: '修改注册信息' }).click();
    await see(page.getByRole('heading', { name: '修改注册信息' }));
    assert.equal(await field(page, '单位全称').inputValue(), org.name);
    await field(page, '单位地址').fill(newAddress);
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '已保存。');
    await see(page.getByRole('heading', { name: '添加附件' }));
    await clickConfirmed(page, '[提交注册]');
    await see(page.getByRole('heading', { name: '用户注册信息' }));
    await seeText(page, '待县区外办初审');
    await seeText(page, newAddress);
    await signOut(page);

    // Back in the county's queue, with the new address.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await openFromQueue(page, org.name);
    await see(page.getByRole('cell', { name: newAddress }));
  } catch (e) {
    await failureShot(page, 'return');
    throw e;
  }
});
