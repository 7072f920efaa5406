// Issue 3: the message reminder at the bottom right (manual 2.2.2) and its four buttons, with
// the server's clock moved forward to see it come back after ten minutes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, field, until,
  orgFor, uniq, registerAndSubmit, signIn, signOut, openFromQueue, DEMO_PASSWORD, UNIT_PASSWORD,
  clickConfirmed,
} from '../lib.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer('messages');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const popup = () => page.getByRole('alertdialog');
const counter = () => page.getByRole('link', { name: /^新消息\d+$/ });

async function expectCount(n) {
  await see(page.getByRole('link', { name: `新消息${n}`, exact: true }));
}

async function noPopup() {
  await page.waitForLoadState('load');
  // The buttons answer through a request; give it time to finish before deciding.
  await until(async () => (await popup().count()) === 0, 'no reminder on the page', 5_000, 100);
}

async function cityNotice(title, body) {
  await signIn(page, 'city', DEMO_PASSWORD);
  await page.getByRole('link', { name: '发送通知' }).click();
  await field(page, '发送对象').selectOption({ label: '全部单位' });
  await field(page, '标题').fill(title);
  await field(page, '消息内容').fill(body);
  await page.getByRole('button', { name: '发送', exact: true }).click();
  await seeText(page, '通知已发送。');
  await signOut(page);
}

test('a returned registration pops up; 关闭, 我知道了, 查看详细 and 删除 do what the manual says', { timeout: 180_000 }, async () => {
  const org = orgFor(uniq());
  try {
    await registerAndSubmit(page, server, org);
    await signOut(page);

    await signIn(page, 'tianning', DEMO_PASSWORD);
    await openFromQueue(page, org.name);
    await field(page, '退回原因').fill('请补充盖章的备案表。');
    await clickConfirmed(page, '【退回】');
    await seeText(page, '已退回');
    await signOut(page);

    // The unit signs in: 新消息1 and the reminder with the return.
    await signIn(page, org.login, UNIT_PASSWORD);
    await expectCount(1);
    await see(popup());
    await see(popup().getByText('注册申请被退回补充'));
    await screenshot(page, 'message-popup');

    // [关闭]: the reminder goes, the message stays unread and does not come back at once.
    await popup().getByRole('button', { name: '[关闭]' }).click();
    await noPopup();
    await expectCount(1);
    await page.reload();
    await noPopup();
    // Ten minutes later it pops up again.
    server.advanceClock(600);
    await page.reload();
    await see(popup().getByText('注册申请被退回补充'));

    // [我知道了]: read; it never comes back.
    await popup().getByRole('button', { name: '[我知道了]' }).click();
    await noPopup();
    await expectCount(0);
    server.advanceClock(600);
    await page.reload();
    await noPopup();
    await expectCount(0);
    await signOut(page);

    // [查看详细]: opens the message and marks it read.
    await cityNotice('系统维护通知', '本周六系统维护，暂停服务。');
    await signIn(page, org.login, UNIT_PASSWORD);
    await expectCount(1);
    await see(popup().getByText('系统维护通知'));
    await popup().getByRole('link', { name: '[查看详细]' }).click();
    await see(page.getByRole('heading', { name: '系统维护通知' }));
    await seeText(page, '本周六系统维护，暂停服务。');
    await expectCount(0);
    await signOut(page);

    // [删除]: gone from the list, never pops up again.
    await cityNotice('培训通知', '请参加邀请函申办培训。');
    await signIn(page, org.login, UNIT_PASSWORD);
    await see(popup().getByText('培训通知'));
    // The popup asks first (the browser's own dialog); the clerk accepts.
    page.once('dialog', (d) => d.accept());
    await popup().getByRole('button', { name: '[删除]' }).click();
    await noPopup();
    await expectCount(0);
    server.advanceClock(600);
    await page.reload();
    await noPopup();
    await counter().click();
    await see(page.getByRole('heading', { name: '站内信' }));
    await seeText(page, '系统维护通知');
    await seeText(page, '注册申请被退回补充');
    assert.equal(await page.getByText('培训通知').count(), 0);
  } catch (e) {
    await failureShot(page, 'messages');
    throw e;
  }
});
