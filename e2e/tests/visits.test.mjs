// Issue 5: 销签登记. A dispatched group of two visitors; the overdue job (with the server's clock
// moved) reminds the unit once and then weekly; one visitor is registered as travelled with
// scans, one as cancelled with a statement; the county and city complete one and return the
// other; the unit fixes and resubmits it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, field, until, sleep,
  orgFor, uniq, registerApproved, signIn, signOut, DEMO_PASSWORD, UNIT_PASSWORD,
  isoDaysFromNow, pdfFile, png, uploadRow, printPdf, newGroupOfTwo, actOnGroup,
  clickConfirmed,
} from '../lib.mjs';

let server;
let browser;
let page;
const work = mkdtempSync(path.join(tmpdir(), 'laihua-e2e-visits-'));
const DAY = 86_400;

before(async () => {
  server = await startServer('visits', ['--overdue-job-seconds', '1']);
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

const overdueTexts = (mobile) => server.sms().filter((m) => m.to === mobile && m.text.includes('逾期'));

async function openVisitor(name) {
  await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '销签登记' }).click();
  await page.getByRole('row').filter({ hasText: name }).getByRole('link').first().click();
  await see(page.getByRole('heading', { name: new RegExp(`销签登记：${name}`) }));
}

test('post-visit registration, its review and the overdue reminders', { timeout: 300_000 }, async () => {
  const org = orgFor(uniq());
  try {
    await registerApproved(page, server, org);

    // A group of two, through to dispatch.
    await signIn(page, org.login, UNIT_PASSWORD);
    const number = await newGroupOfTwo(page);
    await uploadRow(page, 'LISA MOHAMODE的护照首页', pdfFile('p1'));
    await uploadRow(page, 'SMITH JOHN的护照首页', png());
    await uploadRow(page, '经办人身份证复印件（加盖单位公章）', pdfFile('id'));
    await printPdf(page, work);
    await page.reload();
    await uploadRow(page, '盖章签字的申请表扫描件', pdfFile('stamped'));
    await clickConfirmed(page, '【提交】');
    await seeText(page, '团组已提交');
    await signOut(page);
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await actOnGroup(page, number, '【审核通过】', '已审核通过。');
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await actOnGroup(page, number, '【受理】', '已受理。');
    await field(page, '核实单号').fill('HW3255020200727800043');
    await clickConfirmed(page, '【上报外交部】');
    await seeText(page, '已上报外交部。');
    await field(page, '邀请函').setInputFiles(pdfFile('letter'));
    await page.getByLabel(/确认发件/).check();
    await page.getByRole('button', { name: '【发件】' }).click();
    await seeText(page, '已发件');
    await signOut(page);

    // Planned departure is 70 days from now: 101 days on, both visitors are overdue.
    assert.equal(overdueTexts(org.mobile).length, 0);
    server.advanceClock(101 * DAY);
    await until(() => overdueTexts(org.mobile).length === 1, 'the first overdue SMS', 20_000, 200);
    await sleep(3_000);
    assert.equal(overdueTexts(org.mobile).length, 1, 'sent once, not at every run');
    await signIn(page, org.login, UNIT_PASSWORD);
    await see(page.getByRole('alertdialog').getByText('销签登记逾期提醒'));
    await page.getByRole('alertdialog').getByRole('button', { name: '[我知道了]' }).click();
    await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '销签登记' }).click();
    await see(page.locator('tr.overdue').filter({ hasText: 'LISA MOHAMODE' }));
    await screenshot(page, 'visits-overdue');
    // A week later: the weekly reminder, once.
    server.advanceClock(7 * DAY);
    await until(() => overdueTexts(org.mobile).length === 2, 'the weekly overdue SMS', 20_000, 200);
    await sleep(3_000);
    assert.equal(overdueTexts(org.mobile).length, 2);

    // Visitor 1 travelled: entry and exit, three scans, [提交].
    await signIn(page, org.login, UNIT_PASSWORD);
    await openVisitor('LISA MOHAMODE');
    await page.getByLabel('实际成行').check();
    await field(page, '实际入境日期').fill(isoDaysFromNow(60));
    await field(page, '入境口岸').selectOption({ label: '上海浦东国际机场（上海市）' });
    await field(page, '实际出境日期').fill(isoDaysFromNow(50));
    await field(page, '出境口岸').selectOption({ label: '南京禄口国际机场（江苏省）' });
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '实际出境日期不能早于实际入境日期');
    await field(page, '实际出境日期').fill(isoDaysFromNow(70));
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '已保存。');
    await uploadRow(page, '入境章扫描件', pdfFile('entry'));
    await uploadRow(page, '出境章扫描件', png());
    await uploadRow(page, '签证页扫描件', pdfFile('visa'));
    await screenshot(page, 'visit-form');
    await clickConfirmed(page, '[提交]');
    await seeText(page, '销签登记已提交');

    // Visitor 2 cancelled: the reason and a PDF statement.
    await openVisitor('SMITH JOHN');
    await page.getByLabel('取消行程').check();
    await field(page, '取消原因').fill('签证未获批准，行程取消。');
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '已保存。');
    await page.getByRole('button', { name: '[提交]' }).click();
    await seeText(page, '提交前请补齐');
    await uploadRow(page, '情况说明（PDF）', pdfFile('statement'));
    await clickConfirmed(page, '[提交]');
    await seeText(page, '销签登记已提交');
    await signOut(page);

    // County passes the first, returns the second; city completes the first.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await page.getByRole('link', { name: /^销签待办/ }).click();
    await page.getByRole('row').filter({ hasText: 'LISA MOHAMODE' }).getByRole('link', { name: '审核' }).click();
    await seeText(page, '上海浦东国际机场');
    await clickConfirmed(page, '【审核通过】');
    await seeText(page, '已审核通过。');
    await page.getByRole('row').filter({ hasText: 'SMITH JOHN' }).getByRole('link', { name: '审核' }).click();
    await field(page, '退回原因').fill('情况说明须加盖单位公章。');
    await clickConfirmed(page, '【退回】');
    await seeText(page, '已退回');
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await page.getByRole('link', { name: /^销签待办/ }).click();
    await page.getByRole('row').filter({ hasText: 'LISA MOHAMODE' }).getByRole('link', { name: '审核' }).click();
    await clickConfirmed(page, '【审核通过】');
    await seeText(page, '已审核通过。');
    await signOut(page);

    // The unit: one 已销签, one 退回; it fixes and resubmits the returned one.
    await signIn(page, org.login, UNIT_PASSWORD);
    await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '销签登记' }).click();
    await see(page.getByRole('row').filter({ hasText: 'LISA MOHAMODE' }).getByText('已销签'));
    await openVisitor('SMITH JOHN');
    await seeText(page, '情况说明须加盖单位公章。');
    await uploadRow(page, '情况说明（PDF）', pdfFile('stamped statement'));
    await clickConfirmed(page, '[提交]');
    await seeText(page, '销签登记已提交');
    await see(page.getByRole('row').filter({ hasText: 'SMITH JOHN' }).getByText('待县区外办审核'));
  } catch (e) {
    await failureShot(page, 'visits');
    throw e;
  }
});
