// Issue 4: an approved unit creates a group of two visitors, saves, prints (the PDF shows the
// Chinese text and a QR code that decodes to the group number), uploads, submits; the county
// approves; the city returns it; the unit edits, reprints, re-uploads and resubmits; county and
// city accept, report and dispatch; the unit sees 受理编号, 核实单号 and the letter in its history.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, field,
  orgFor, uniq, registerApproved, signIn, signOut, pdf, DEMO_PASSWORD, UNIT_PASSWORD,
  isoDaysFromNow, pdfFile, png, fillVisitor, fillGroupExtras, uploadRow, printPdf,
  clickConfirmed, confirmInformed,
} from '../lib.mjs';

let server;
let browser;
let page;
const work = mkdtempSync(path.join(tmpdir(), 'laihua-e2e-pdf-'));

before(async () => {
  server = await startServer('groups');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

function checkPdf(file, number, unitName) {
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString('utf8');
  assert.match(text, /邀请外国人来华申请表/);
  assert.ok(text.includes(unitName), 'unit name in the PDF text');
  assert.ok(text.includes('E12345678'), `visitor's passport in the PDF text:\n${text}`);
  assert.ok(text.includes(number), 'group number in the PDF text');
  const prefix = path.join(work, `page-${Date.now()}`);
  execFileSync('pdftoppm', ['-r', '150', '-png', '-singlefile', file, prefix]);
  const img = PNG.sync.read(readFileSync(`${prefix}.png`));
  const qr = jsQR(new Uint8ClampedArray(img.data), img.width, img.height);
  assert.ok(qr, 'a QR code on the page');
  assert.match(qr.data, new RegExp(`^LAIHUA\\|${number}\\|[0-9a-f]{16}$`));
  return qr.data;
}

test('a group of two visitors from application through a return to dispatch', { timeout: 300_000 }, async () => {
  const org = orgFor(uniq());
  try {
    // An approved unit.
    await registerApproved(page, server, org);

    // 来华申报 → 团组申报 → the notice → the form.
    await signIn(page, org.login, UNIT_PASSWORD);
    await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '来华申报' }).click();
    await page.getByRole('link', { name: '团组申报' }).click();
    await seeText(page, '邀请外国人来华须知');
    await page.getByRole('link', { name: '我已阅读，确认继续' }).click();
    await see(page.getByRole('button', { name: '【保存】' }));
    assert.equal(await page.getByRole('button', { name: '【提交】' }).count(), 0, '【提交】 only after 【保存】');

    await field(page, '团组名称').fill('美国客户技术交流团');
    await field(page, '来华事由').selectOption({ label: '商务洽谈' });
    await field(page, '计划入境日期').fill(isoDaysFromNow(60));
    await field(page, '计划出境日期').fill(isoDaysFromNow(70));
    await field(page, '访问地点').fill('常州、苏州');
    await field(page, '费用承担').selectOption({ label: '邀请单位承担' });
    await field(page, '签证申办国家（地区）').selectOption({ label: '美国' });
    await field(page, '签证申办使领馆').selectOption({ label: '中国驻纽约总领事馆' });
    await fillGroupExtras(page);
    await fillVisitor(page, 1, { given: 'LISA MOHAMODE', sex: '女', birth: '1985-05-05', nationality: '美国（USA）', passport: 'E12345678', expiry: isoDaysFromNow(3000), employer: 'ACME Corp.', position: 'Engineer' });
    await page.getByRole('button', { name: '添加到访人员' }).click();
    await fillVisitor(page, 2, { surname: 'SMITH', given: 'JOHN', sex: '男', birth: '1979-03-03', nationality: '德国（DEU）', passport: 'C01X00T47', expiry: isoDaysFromNow(3000), employer: 'Beispiel GmbH', position: 'Manager' });
    // What was typed in block 1 survived adding block 2.
    await see(page.getByRole('group', { name: '到访人员1' }).getByLabel(/^名/));
    assert.equal(await page.getByRole('group', { name: '到访人员1' }).getByLabel(/^名/).inputValue(), 'LISA MOHAMODE');
    // Not saved until the unit confirms it told its visitors the rules on personal information
    // (个人信息处理规则); what was typed is kept.
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '请确认已将《个人信息处理规则》告知全部来访人员并取得其同意');
    assert.equal(await page.getByRole('group', { name: '到访人员2' }).getByLabel(/^护照号码/).inputValue(), 'C01X00T47');
    await confirmInformed(page);
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '已保存。');
    const heading = await page.getByRole('heading', { level: 1 }).textContent();
    const number = heading.match(/\d{8}/)[0];
    await see(page.getByRole('button', { name: '【提交】' }));

    // Scans, 【打印】, the stamped form, 【提交】.
    await uploadRow(page, 'LISA MOHAMODE的护照首页', pdfFile('passport 1'));
    await uploadRow(page, 'SMITH JOHN的护照首页', png());
    await uploadRow(page, '经办人身份证复印件（加盖单位公章）', pdfFile('clerk id'));
    const first = checkPdf(await printPdf(page, work), number, org.name);
    await page.reload();
    await seeText(page, '已打印当前版本');
    await uploadRow(page, '盖章签字的申请表扫描件', pdfFile('stamped v1'));
    await seeText(page, '已上传当前版本的盖章扫描件');
    await screenshot(page, 'group-form');
    await clickConfirmed(page, '【提交】');
    await seeText(page, '团组已提交');
    assert.equal(await page.getByRole('button', { name: '【保存】' }).count(), 0, 'read-only after 【提交】');
    await signOut(page);

    // County approves; city returns.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await page.getByRole('link', { name: /^团组待办/ }).click();
    await page.getByRole('row').filter({ hasText: number }).getByRole('link', { name: '办理' }).click();
    await seeText(page, 'LISA MOHAMODE');
    await clickConfirmed(page, '【审核通过】');
    await seeText(page, '已审核通过。');
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await page.getByRole('link', { name: /^团组待办/ }).click();
    await page.getByRole('row').filter({ hasText: number }).getByRole('link', { name: '办理' }).click();
    await screenshot(page, 'review-group');
    await field(page, '退件原因').fill('访问地点请写明具体单位和地址。');
    await clickConfirmed(page, '【退件】');
    await seeText(page, '已退件，并已通知申请单位。');
    await signOut(page);

    // The unit sees 退件 and the reason, edits, reprints, re-uploads, resubmits.
    await signIn(page, org.login, UNIT_PASSWORD);
    await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '申报历史查询' }).click();
    const row = page.getByRole('row').filter({ hasText: number });
    await see(row.getByText('退件', { exact: true }));
    await see(row.getByText('访问地点请写明具体单位和地址。'));
    await row.getByRole('link', { name: '修改' }).click();
    await field(page, '访问地点').fill('常州市天宁区某路1号（ACME常州工厂）');
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '原打印件已作废');
    await page.getByRole('button', { name: '【提交】' }).click();
    await seeText(page, '提交前请补齐');
    const second = checkPdf(await printPdf(page, work), number, org.name);
    assert.notEqual(second, first, 'the QR code carries the new version');
    await page.reload();
    await uploadRow(page, '盖章签字的申请表扫描件', pdfFile('stamped v2'));
    await clickConfirmed(page, '【提交】');
    await seeText(page, '团组已提交');
    await signOut(page);

    // County approves again; city accepts, reports and dispatches.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await page.getByRole('link', { name: /^团组待办/ }).click();
    await page.getByRole('row').filter({ hasText: number }).getByRole('link', { name: '办理' }).click();
    await clickConfirmed(page, '【审核通过】');
    await seeText(page, '已审核通过。');
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await page.getByRole('link', { name: /^团组待办/ }).click();
    await page.getByRole('row').filter({ hasText: number }).getByRole('link', { name: '办理' }).click();
    await clickConfirmed(page, '【受理】');
    await seeText(page, '已受理。');
    const acceptance = (await page.getByText(/^SL\d{9}$/).first().textContent()).trim();
    await field(page, '核实单号').fill('HW 3255');
    await clickConfirmed(page, '【上报外交部】');
    await seeText(page, '只能由字母和数字组成');
    await field(page, '核实单号').fill('HW3255020200727800043');
    await clickConfirmed(page, '【上报外交部】');
    await seeText(page, '已上报外交部。');
    const letter = path.join(work, 'letter.pdf');
    writeFileSync(letter, pdf('ministry letter'));
    await field(page, '邀请函').setInputFiles(letter);
    await page.getByLabel(/确认发件/).check();
    await page.getByRole('button', { name: '【发件】' }).click();
    await seeText(page, '已发件');
    // The city's statistics count the group and its two visitors under 天宁区.
    await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '统计分析' }).click();
    const district = page.locator('#by_district').getByRole('row').filter({ hasText: '天宁区' });
    await see(district);
    assert.deepEqual((await district.locator('td').allTextContents()).map((t) => t.trim()), ['天宁区', '1', '2']);
    await see(page.locator('#by_district svg[role="img"]'));
    await screenshot(page, 'stats');
    await signOut(page);

    // The unit's history: 受理编号, 核实单号, the letter, 销签登记.
    await signIn(page, org.login, UNIT_PASSWORD);
    await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '申报历史查询' }).click();
    const done = page.getByRole('row').filter({ hasText: number });
    await see(done.getByText(acceptance));
    await see(done.getByText('HW3255020200727800043'));
    await see(done.getByText('已发件'));
    await see(done.getByRole('link', { name: '销签登记' }));
    await screenshot(page, 'group-history');
    const [dl] = await Promise.all([page.waitForEvent('download').catch(() => null), done.getByRole('link', { name: '下载邀请函' }).click()]);
    if (dl) {
      const bytes = readFileSync(await dl.path());
      assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    }
    assert.ok(server.sms().some((m) => m.to === org.mobile && m.text.includes('已发件')), 'SMS on dispatch');
  } catch (e) {
    await failureShot(page, 'groups');
    throw e;
  }
});
