// Issue 17: the whole journey by keyboard alone, at 390×844 (a phone) — registration with its
// SMS code and attachments, the county's and the city's approval, a group of two visitors with
// its files, 【打印】 and 【提交】, the county's 【审核通过】, the city's 【受理】, 【上报外交部】 and
// 【发件】, and the unit's 销签登记 of a cancelled visit. Nothing is clicked or filled: the focus
// moves with Tab, text is typed, lists are chosen by arrow keys or by typing into their
// type-to-find field, and Enter / Space press buttons, links, check boxes and file inputs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startServer, launchBrowser, newPage, failureShot, see, seeText, until, orgFor, uniq,
  DEMO_PASSWORD, UNIT_PASSWORD, isoDaysFromNow, pdfFile, png,
  tabTo, typeInto, chooseByArrows, findInList, pressAndLoad, activate, chooseFileByKeyboard,
  signInByKeyboard, signOutByKeyboard, uploadAnswer,
} from '../lib.mjs';

let server;
let browser;
let page;
const work = mkdtempSync(path.join(tmpdir(), 'laihua-e2e-keyboard-'));

before(async () => {
  server = await startServer('keyboard');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
  await page.setViewportSize({ width: 390, height: 844 });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A file chosen by keyboard for `what`; the page's script uploads it and says 已上传. */
async function uploadByKeyboard(what, file) {
  await chooseFileByKeyboard(page, what, file);
  const input = page.locator('input[type=file]:focus');
  const status = await uploadAnswer(page, input);
  await see(status.getByText('已上传'));
}

/** On the phone the menu is behind 菜单: Tab to it, Enter, then Tab to the entry and Enter. */
async function menu(name) {
  await tabTo(page, '菜单');
  await page.keyboard.press('Enter');
  await activate(page, name);
}

/** An irreversible action: its button, then 【确认…】 on the page that says what will happen
 * (the button has the focus there). */
async function confirmed(button, opts) {
  await activate(page, button, opts);
  await see(page.getByRole('heading', { name: /^请确认：/ }));
  assert.match(await page.evaluate(() => document.activeElement.textContent), /^【确认/);
  await pressAndLoad(page);
}

/** Staff: sign in, open the unit's registration from 待办 and approve it. */
async function approveUnit(login, unitName) {
  await signInByKeyboard(page, login, DEMO_PASSWORD);
  await menu(/^待办/);
  await activate(page, '审核', { within: unitName });
  await confirmed('【审核通过】');
  await seeText(page, '已审核通过。');
  await signOutByKeyboard(page);
}

/** Staff: sign in, open the group from 团组待办. */
async function openGroup(login, number) {
  await signInByKeyboard(page, login, DEMO_PASSWORD);
  await menu(/^团组待办/);
  await activate(page, '办理', { within: number });
}

async function fillVisitor(n, v) {
  const within = `到访人员${n}`;
  if (v.surname) await typeInto(page, '姓', v.surname, { within });
  await typeInto(page, '名', v.given, { within });
  await chooseByArrows(page, '性别', v.sex, { within });
  await typeInto(page, '出生日期', v.birth, { within });
  await findInList(page, '国籍', v.find, v.nationality, { within });
  await typeInto(page, '护照号码', v.passport, { within });
  await typeInto(page, '护照有效期至', isoDaysFromNow(3000), { within });
  await typeInto(page, '工作单位', v.employer, { within });
  await typeInto(page, '职务', v.position, { within });
  await findInList(page, '工作单位所在国家（地区）', v.find, v.nationality, { within });
  await typeInto(page, '工作单位所在城市', v.city, { within });
  await typeInto(page, '工作单位地址', v.address, { within });
  await typeInto(page, '停留期限（天）', '30', { within });
}

test('the journey by keyboard alone on a phone', { timeout: 600_000 }, async () => {
  const org = orgFor(uniq());
  try {
    // Registration: the notice, the SMS code, the unit, the account, the attachments.
    await page.goto('/login');
    await activate(page, '【用户注册】');
    const accept = page.getByRole('button', { name: '我已阅读以上须知' });
    await until(() => accept.isEnabled(), 'the notice button to be enabled', 20_000, 200);
    await activate(page, '我已阅读以上须知');
    await typeInto(page, '手机号码', org.mobile);
    await pressAndLoad(page);
    await seeText(page, '验证码已发送');
    const code = await until(() => { try { return server.lastCode(org.mobile); } catch { return null; } }, 'the SMS code');
    await typeInto(page, '短信验证码', code);
    await pressAndLoad(page);
    await see(page.getByRole('heading', { name: '补充机构信息' }));
    await typeInto(page, '单位全称', org.name);
    await typeInto(page, '单位英文名称', org.englishName);
    await typeInto(page, '统一社会信用代码', org.creditCode);
    await chooseByArrows(page, '所属县区（属地）', org.district);
    await typeInto(page, '单位地址', org.address);
    await chooseByArrows(page, '单位类型', org.unitType);
    await typeInto(page, '法定代表人', org.legalRep);
    await typeInto(page, '联系人', org.contact);
    await typeInto(page, '联系电话', org.landline);
    await typeInto(page, '电子邮箱', org.email);
    await activate(page, '[继续设置账号、密码]');
    await see(page.getByRole('heading', { name: '填写注册账号信息' }));
    await typeInto(page, '登录ID', org.login);
    await typeInto(page, '密码', UNIT_PASSWORD);
    await typeInto(page, '确认密码', UNIT_PASSWORD);
    await pressAndLoad(page);
    await see(page.getByRole('heading', { name: '添加附件' }));
    // The materials marked 必选 (read from the page's cells: on the phone each cell also shows
    // its column's name).
    const required = await page.evaluate(() => [...document.querySelectorAll('tbody tr')]
      .filter((r) => [...r.cells].some((c) => c.textContent.trim() === '必选'))
      .map((r) => r.cells[0].textContent.trim()));
    assert.ok(required.length >= 1, 'required attachments');
    for (const name of required) await uploadByKeyboard(name, pdfFile(name));
    await confirmed('[提交注册]');
    await seeText(page, '待县区外办初审');
    await signOutByKeyboard(page);
    await approveUnit('tianning', org.name);
    await approveUnit('city', org.name);

    // A group of two: the form, Enter in its last field saves it.
    await signInByKeyboard(page, org.login, UNIT_PASSWORD);
    await menu('来华申报');
    await activate(page, '团组申报');
    await activate(page, '我已阅读，确认继续');
    await typeInto(page, '团组名称', '德国客户技术交流团');
    await chooseByArrows(page, '来华事由', '商务洽谈');
    await typeInto(page, '计划入境日期', isoDaysFromNow(60));
    await typeInto(page, '计划出境日期', isoDaysFromNow(70));
    await typeInto(page, '访问地点', '常州');
    await chooseByArrows(page, '费用承担', '邀请单位承担');
    await findInList(page, '签证申办国家（地区）', 'deguo', '德国');
    // Only Germany's missions are in the list (taken out, not hidden: iOS Safari shows hidden
    // options), and typing narrows them further.
    const missions = () => page.locator('#mission option:not([value=""])').allTextContents();
    const german = await missions();
    assert.ok(german.length >= 2 && german.includes('中国驻慕尼黑总领事馆') && !german.some((m) => m.includes('纽约')), german.join('、'));
    await findInList(page, '签证申办使领馆', '慕尼黑', '中国驻慕尼黑总领事馆');
    assert.deepEqual(await missions(), ['中国驻慕尼黑总领事馆']);
    await typeInto(page, '团组人数', '2');
    await typeInto(page, '日程1 日期', isoDaysFromNow(61));
    await typeInto(page, '日程1 城市', '常州');
    await typeInto(page, '日程1 活动内容', '技术交流');
    await typeInto(page, '日程1 接待单位', '常州某公司');
    await fillVisitor(1, { surname: 'MUELLER', given: 'ANNA', sex: '女', birth: '1986-06-06', find: 'deguo', nationality: '德国（DEU）', passport: 'C01X00T48', employer: 'Beispiel GmbH', position: 'Engineer', city: 'Munich', address: '1 Hauptstrasse' });
    await activate(page, '添加到访人员');
    await fillVisitor(2, { surname: 'SCHMIDT', given: 'KARL', sex: '男', birth: '1975-07-07', find: 'DEU', nationality: '德国（DEU）', passport: 'C01X00T49', employer: 'Beispiel GmbH', position: 'Manager', city: 'Munich', address: '1 Hauptstrasse' });
    // The visitors were told the rules on personal information: Space ticks the box.
    await tabTo(page, /告知全部来访人员/);
    await page.keyboard.press('Space');
    assert.equal(await page.evaluate(() => document.activeElement.checked), true);
    await activate(page, '【保存】');
    await seeText(page, '已保存。');
    const number = (await page.getByRole('heading', { level: 1 }).textContent()).match(/\d{8}/)[0];

    // Its files, 【打印】 (a new tab), the stamped scan, 【提交】.
    await uploadByKeyboard('MUELLER ANNA的护照首页', pdfFile('passport 1'));
    await uploadByKeyboard('SCHMIDT KARL的护照首页', png());
    await uploadByKeyboard('经办人身份证复印件（加盖单位公章）', pdfFile('clerk id'));
    await tabTo(page, '【打印】');
    const [tab] = await Promise.all([page.context().waitForEvent('page'), page.keyboard.press('Enter')]);
    await tab.waitForLoadState();
    await tab.close();
    await uploadByKeyboard('盖章签字的申请表扫描件', pdfFile('stamped'));
    await confirmed('【提交】');
    await seeText(page, '团组已提交');
    await signOutByKeyboard(page);

    // The county approves; the city accepts, reports and dispatches.
    await openGroup('tianning', number);
    await confirmed('【审核通过】');
    await seeText(page, '已审核通过。');
    await signOutByKeyboard(page);
    await openGroup('city', number);
    await confirmed('【受理】');
    await seeText(page, '已受理。');
    await typeInto(page, /^核实单号/, 'HW3255020200727800044');
    await confirmed('【上报外交部】');
    await seeText(page, '已上报外交部。');
    await chooseFileByKeyboard(page, /^邀请函/, pdfFile('letter'));
    await tabTo(page, /确认发件/);
    await page.keyboard.press('Space');
    await activate(page, '【发件】');
    await seeText(page, '已发件');
    await signOutByKeyboard(page);

    // The unit: 销签登记 of a visitor whose visit was cancelled, with its statement.
    await signInByKeyboard(page, org.login, UNIT_PASSWORD);
    await menu('销签登记');
    await activate(page, /登记/, { within: 'SCHMIDT KARL' });
    await see(page.getByRole('heading', { name: /销签登记：SCHMIDT KARL/ }));
    await tabTo(page, '实际成行');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.value), 'cancelled');
    await typeInto(page, '取消原因', '签证未获批准，行程取消。');
    await chooseFileByKeyboard(page, /^情况说明/, pdfFile('statement'));
    await activate(page, '【保存】');
    await seeText(page, '已保存。');
    await confirmed('[提交]');
    await seeText(page, '销签登记已提交');
  } catch (e) {
    await failureShot(page, 'keyboard');
    throw e;
  }
});
