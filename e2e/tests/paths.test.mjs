// Issue 16: the real form and the paths a real office needs. A group with a two-day itinerary is
// withdrawn, resubmitted, passed, accepted, reported, refused by the ministry (外交部不予核实) with its
// reason, resubmitted (the 受理编号 kept), dispatched and rated 不满意; the city follows the rating up
// and the unit reads the reply. Another dispatched group is cancelled and stays out of the overdue
// lists that the first group's visitors fall into; an old group is copied by 再次邀请. The printed
// PDF, read back as text, holds the new fields.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, field, until,
  orgFor, uniq, registerApproved, signIn, signOut, DEMO_PASSWORD, UNIT_PASSWORD,
  isoDaysFromNow, newGroupOfTwo, actOnGroup, printUploadSubmit, reportAndDispatch,
  clickConfirmed, confirmInformed,
} from '../lib.mjs';

const DAY = 86_400;
let server;
let browser;
let page;
const work = mkdtempSync(path.join(tmpdir(), 'laihua-e2e-paths-'));

before(async () => {
  server = await startServer('paths');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

const menu = () => page.getByRole('navigation', { name: '功能菜单' });

async function openHistoryRow(number) {
  await menu().getByRole('link', { name: '申报历史查询' }).click();
  const row = page.getByRole('row').filter({ hasText: number });
  await see(row);
  return row;
}

test('withdrawal, the ministry\'s refusal, 好差评 and its follow-up, cancellation and 再次邀请', { timeout: 480_000 }, async () => {
  const org = orgFor(uniq());
  try {
    await registerApproved(page, server, org);

    // Group A: two visitors and a two-day itinerary (the second row added with 添加日程).
    await signIn(page, org.login, UNIT_PASSWORD);
    const itinerary = [
      { day: 61, city: '常州', activity: '参观生产线并进行技术交流', host: '常州测试单位' },
      { day: 63, city: '苏州', activity: '拜访合作伙伴洽谈合同', host: '苏州合作伙伴有限公司' },
    ];
    const a = await newGroupOfTwo(page, { itinerary, size: 3 });
    const aPath = new URL(page.url()).pathname;
    const printed = await printUploadSubmit(page, work);
    const text = execFileSync('pdftotext', ['-layout', printed, '-']).toString('utf8');
    for (const needle of ['在华日程', '参观生产线并进行技术交流', '苏州合作伙伴有限公司', '团组人数', '拟申请签证种类', '停留期限', 'Broadway', '签证申办国家（地区）']) {
      assert.ok(text.includes(needle), `${needle} in the printed PDF:\n${text}`);
    }

    // 【撤回】 before the county acts: editable again, out of the county's queue, then resubmitted.
    await page.getByRole('button', { name: '【撤回】' }).click();
    await seeText(page, '已撤回，可修改后重新提交。');
    await seeText(page, '已撤回');
    await see(page.getByRole('button', { name: '【保存】' }));
    await signOut(page);
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await page.getByRole('link', { name: /^团组待办/ }).click();
    assert.equal(await page.getByRole('row').filter({ hasText: a }).count(), 0, 'a withdrawn group is not in the county queue');
    await signOut(page);
    await signIn(page, org.login, UNIT_PASSWORD);
    await page.goto(aPath);
    assert.equal(await page.getByLabel('日程2 城市').inputValue(), '苏州');
    await clickConfirmed(page, '【提交】');
    await seeText(page, '团组已提交');
    await signOut(page);

    // Passed, accepted, reported; the ministry refuses to verify.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await actOnGroup(page, a, '【审核通过】', '已审核通过。');
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await actOnGroup(page, a, '【受理】', '已受理。');
    const acceptance = (await page.getByText(/^SL\d{9}$/).first().textContent()).trim();
    await field(page, '核实单号').fill('HW3255020200727800043');
    await clickConfirmed(page, '【上报外交部】');
    await seeText(page, '已上报外交部。');
    const refusal = '邀请单位与外宾的业务往来证明不足，请补充合同。';
    await page.getByRole('button', { name: '【外交部不予核实】' }).click();
    await see(page.locator('.field.invalid').filter({ has: field(page, '外交部不予核实原因') }));
    await field(page, '外交部不予核实原因').fill(refusal);
    await clickConfirmed(page, '【外交部不予核实】');
    await seeText(page, '已退件');
    await signOut(page);

    // The unit reads the ministry's reason, sees the 受理编号 is kept, resubmits.
    await signIn(page, org.login, UNIT_PASSWORD);
    const returned = await openHistoryRow(a);
    await see(returned.getByText('退件', { exact: true }));
    await page.goto(aPath);
    await seeText(page, `外交部不予核实：${refusal}`);
    await seeText(page, '受理编号保留');
    await screenshot(page, 'group-ministry-refused');
    await clickConfirmed(page, '【提交】');
    await seeText(page, '团组已提交');
    await signOut(page);
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await actOnGroup(page, a, '【审核通过】', '已审核通过。');
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await actOnGroup(page, a, '【受理】', '已受理。');
    assert.equal((await page.getByText(/^SL\d{9}$/).first().textContent()).trim(), acceptance, 'the 受理编号 is kept');
    await reportAndDispatch(page, 'HW3255020200727800099');
    await signOut(page);

    // 好差评: the unit rates the dispatch 不满意.
    await signIn(page, org.login, UNIT_PASSWORD);
    await page.goto(aPath);
    const rating = page.locator('form').filter({ has: page.getByRole('button', { name: '【提交评价】' }) }).last();
    await see(rating);
    await rating.getByLabel('不满意', { exact: true }).check();
    await rating.getByRole('button', { name: '【提交评价】' }).click();
    await see(page.locator('.field.invalid').filter({ has: page.getByLabel('评价内容') }).first());
    const complaint = '退件后电话无人接听，等了两周才知道原因。';
    const again = page.locator('form').filter({ has: page.getByRole('button', { name: '【提交评价】' }) }).last();
    await again.getByLabel('不满意', { exact: true }).check();
    await again.getByLabel('评价内容').fill(complaint);
    await again.getByRole('button', { name: '【提交评价】' }).click();
    await seeText(page, '感谢您的评价。');
    await signOut(page);

    // The city follows it up within 15 working days; the unit reads the reply.
    await signIn(page, 'city', DEMO_PASSWORD);
    await menu().getByRole('link', { name: /^差评整改/ }).click();
    const item = page.getByRole('row').filter({ hasText: a });
    await see(item);
    await screenshot(page, 'review-followups');
    await item.getByRole('link').first().click();
    await seeText(page, complaint);
    const reply = '已约谈经办人员，今后退件当日电话告知申请单位。';
    await field(page, '整改情况').fill(reply);
    await page.getByRole('button', { name: '【办结】' }).click();
    await seeText(page, '已办结，并已通知申请单位。');
    // 满意度统计: the 不满意 counted under 天宁区, with its chart.
    await menu().getByRole('link', { name: '统计分析' }).click();
    await page.getByRole('link', { name: '满意度统计' }).click();
    const byDistrict = page.locator('#rating_district table');
    const headers = (await byDistrict.locator('thead th').allTextContents()).map((t) => t.trim());
    const cells = (await byDistrict.getByRole('row').filter({ hasText: '天宁区' }).locator('td').allTextContents()).map((t) => t.trim());
    assert.equal(cells[headers.indexOf('不满意')], '1', `${headers} / ${cells}`);
    assert.equal(cells[headers.indexOf('评价数')], '1', `${headers} / ${cells}`);
    await see(page.locator('#rating_district svg'));
    await screenshot(page, 'stats-satisfaction');
    await signOut(page);
    await signIn(page, org.login, UNIT_PASSWORD);
    await page.goto(aPath);
    await seeText(page, '整改回复');
    await seeText(page, reply);
    await see(page.getByText('再次评价').first());
    await screenshot(page, 'group-rating-reply');

    // Group B, dispatched, then cancelled by the unit: a reason is required.
    const b = await newGroupOfTwo(page, { passports: ['E87654321', 'C02X00T48'] });
    const bPath = new URL(page.url()).pathname;
    await printUploadSubmit(page, work);
    await signOut(page);
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await actOnGroup(page, b, '【审核通过】', '已审核通过。');
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await actOnGroup(page, b, '【受理】', '已受理。');
    await reportAndDispatch(page, 'HW3255020200727800100');
    await signOut(page);
    await signIn(page, org.login, UNIT_PASSWORD);
    await page.goto(bPath);
    await page.getByRole('button', { name: '【取消邀请】' }).click();
    await see(page.locator('.field.invalid').filter({ has: field(page, '取消原因') }));
    await field(page, '取消原因').fill('外方因公司重组取消本次访问。');
    await clickConfirmed(page, '【取消邀请】');
    await seeText(page, '邀请已取消。');
    await seeText(page, '已取消');

    // 再次邀请 from group A: a new draft with its visitors and itinerary fields, no files.
    await page.goto(aPath);
    await page.getByRole('link', { name: '再次邀请' }).or(page.getByRole('button', { name: '再次邀请' })).first().click();
    await see(page.getByRole('heading', { name: /再次邀请/ }));
    const v1 = page.getByRole('group', { name: '到访人员1' });
    assert.equal(await v1.getByLabel(/^名/).inputValue(), 'LISA MOHAMODE');
    assert.equal(await v1.getByLabel(/^护照号码/).inputValue(), 'E12345678');
    await field(page, '计划入境日期').fill(isoDaysFromNow(90));
    await field(page, '计划出境日期').fill(isoDaysFromNow(95));
    await page.getByLabel('日程1 日期').fill(isoDaysFromNow(91));
    if (await page.getByLabel('日程2 日期').count()) await page.getByLabel('日程2 日期').fill(isoDaysFromNow(92));
    // The copy's visitors are told the rules anew.
    assert.equal(await page.getByRole('checkbox', { name: /告知全部来访人员/ }).isChecked(), false);
    await confirmInformed(page);
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '已保存。');
    const c = (await page.getByRole('heading', { level: 1 }).textContent()).match(/\d{8}/)[0];
    assert.notEqual(c, a);
    assert.ok(await page.getByText('未上传').count() >= 2, 'no files are copied');

    // 101 days on, group A's visitors are overdue; the cancelled group's are not.
    await signOut(page);
    server.advanceClock(101 * DAY);
    await signIn(page, org.login, UNIT_PASSWORD);
    await menu().getByRole('link', { name: '销签登记' }).click();
    for (const name of ['LISA MOHAMODE']) {
      await until(async () => (await page.locator('tr.overdue').filter({ hasText: name }).count()) >= 1, `${name} overdue`);
    }
    const cancelledRows = page.getByRole('row').filter({ hasText: b });
    await see(cancelledRows.first());
    assert.equal(await cancelledRows.filter({ hasText: '邀请已取消' }).count(), 2, 'group B\'s visitors show 邀请已取消');
    assert.equal(await page.locator('tr.overdue').filter({ hasText: b }).count(), 0, 'no overdue row of the cancelled group');
    await screenshot(page, 'visits-cancelled');
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await page.goto('/review/visits');
    const late = page.locator('table').filter({ hasText: '逾期人数' }).getByRole('row').filter({ hasText: '天宁区' });
    await see(late);
    assert.deepEqual((await late.locator('td').allTextContents()).map((t) => t.trim()), ['天宁区', '2']);
    await signOut(page);
  } catch (e) {
    await failureShot(page, 'paths');
    throw e;
  }
});
