// Issue 17: the main pages of a unit, a county and the city office at 390×844 (a phone) and
// 1280×800: no page scrolls sideways and axe-core reports no violation of any impact. On the
// phone the menu is collapsed behind its 菜单 button, which opens it by keyboard; the skip link
// is the first stop of the Tab key and takes the focus to the page's content.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  E2E_DIR, RESULTS, startServer, launchBrowser, newPage, failureShot, see, seeText, orgFor, uniq,
  registerAndSubmit, signIn, signOut, approve, DEMO_PASSWORD, UNIT_PASSWORD, newGroupOfTwo,
  printUploadSubmit, actOnGroup, reportAndDispatch, field, pdfFile, clickConfirmed,
} from '../lib.mjs';

// Evaluated through the DevTools protocol: the site's CSP forbids an injected <script>.
const AXE = readFileSync(path.join(E2E_DIR, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };
// LAIHUA_E2E_NARROW_SHOTS=1: a full-page screenshot of each page on the phone in test-results/narrow/.
const SHOTS = process.env.LAIHUA_E2E_NARROW_SHOTS ? path.join(RESULTS, 'narrow') : null;
const DESK = { width: 1280, height: 800 };

let server;
let browser;
let page;
const work = mkdtempSync(path.join(tmpdir(), 'laihua-e2e-narrow-'));
// Every problem found, reported together at the end so one run shows them all.
const problems = [];
let checked = 0;

before(async () => {
  server = await startServer('narrow');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The current page at both sizes: sideways scrolling and axe-core's violations. */
async function check(label) {
  for (const size of [PHONE, DESK]) {
    await page.setViewportSize(size);
    const wide = await page.evaluate(() => {
      const root = document.documentElement;
      if (root.scrollWidth <= root.clientWidth) return null;
      // The deepest elements that reach past the right edge or whose content overflows them.
      const over = (e) => e.getBoundingClientRect().right > root.clientWidth + 1 || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1);
      const out = [...document.body.querySelectorAll('*')]
        .filter(over)
        .filter((e) => ![...e.children].some(over))
        .slice(0, 3)
        .map((e) => `${e.tagName.toLowerCase()}${e.className ? `.${String(e.className).split(' ').join('.')}` : ''} «${(e.textContent || '').trim().slice(0, 20)}»`);
      return `${root.scrollWidth} > ${root.clientWidth}: ${out.join('; ')}`;
    });
    if (wide) problems.push(`${label} @${size.width}: scrolls sideways (${wide})`);
    if (SHOTS && size === PHONE) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `${String(checked / 2 + 1).padStart(2, '0')} ${label}.png`), fullPage: true });
    }
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    });
    for (const v of violations) problems.push(`${label} @${size.width}: axe ${v}`);
    checked += 1;
  }
  await page.setViewportSize(DESK);
}

/** Opens `url` and checks it. */
async function visit(url, label = url) {
  await page.goto(url);
  await check(label);
}

/** Opens a menu entry on the phone by keyboard: Tab to 菜单, Enter, then the link. */
async function menuByKeyboard(name) {
  await page.setViewportSize(PHONE);
  const nav = page.getByRole('navigation', { name: '功能菜单' });
  assert.equal(await nav.getByRole('link', { name }).isVisible(), false, `${name} hidden while the menu is closed`);
  await nav.getByText('菜单').focus();
  await page.keyboard.press('Enter');
  await see(nav.getByRole('link', { name }));
  await nav.getByRole('link', { name }).focus();
  await page.keyboard.press('Enter');
  await page.waitForLoadState('load');
  await page.setViewportSize(DESK);
}

test('the journey readable on a phone and on a desk, with no axe-core violation', { timeout: 600_000 }, async () => {
  const org = orgFor(uniq());
  try {
    // Before signing in.
    await visit('/login', '登录');
    await visit('/register', '注册须知');
    await visit('/forgot', '忘记密码');

    // The skip link is the first Tab stop and moves the focus to the content.
    await page.goto('/login');
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: '跳到主要内容' });
    assert.ok(await skip.evaluate((e) => e === document.activeElement), 'the skip link takes the first Tab');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');

    // A unit registers; the county and the city approve it.
    await registerAndSubmit(page, server, org);
    await check('注册附件（已提交）');
    await visit('/registration', '用户注册信息（待审核）');
    await signOut(page);
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await visit('/review', '县区 待办');
    await page.getByRole('row').filter({ hasText: org.name }).getByRole('link').first().click();
    await check('县区 单位审核');
    await approve(page, org.name);
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await approve(page, org.name);
    await signOut(page);

    // The unit: its pages, a group of two, submitted.
    await signIn(page, org.login, UNIT_PASSWORD);
    await check('单位首页');
    await menuByKeyboard('来华申报');
    await check('来华申报');
    await visit('/groups/new', '团组申报须知');
    await visit('/groups/form', '团组表单（新）');
    const number = await newGroupOfTwo(page);
    const groupUrl = new URL(page.url()).pathname;
    await check('团组表单（已保存）');
    await printUploadSubmit(page, work);
    await check('团组（已提交）');
    for (const [url, label] of [['/home', '首页'], ['/history', '申报历史查询'], ['/visits', '销签登记'],
      ['/templates', '模板下载'], ['/help', '系统帮助'], ['/registration', '用户注册信息'],
      ['/messages', '消息'], ['/account', '用户信息'], ['/account/password', '修改密码'],
      ['/account/mobile', '更换手机号'], [groupUrl, '团组记录']]) {
      await visit(url, `单位 ${label}`);
    }
    await signOut(page);

    // The county approves; its lists.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await visit('/review/groups', '县区 团组待办');
    await page.getByRole('row').filter({ hasText: number }).getByRole('link', { name: '办理' }).click();
    await check('县区 团组审核');
    // The confirmation step of an irreversible action is a page of the journey too.
    await page.getByRole('button', { name: '【审核通过】' }).click();
    await see(page.getByRole('heading', { name: /^请确认：/ }));
    await check('县区 请确认：审核通过');
    await page.getByRole('button', { name: /^【确认/ }).click();
    await seeText(page, '已审核通过。');
    for (const [url, label] of [['/review', '待办'], ['/review/visits', '销签待办'], [`/search?q=${number}`, '综合查询'],
      ['/stats', '统计分析'], ['/templates', '模板下载'], ['/help', '系统帮助']]) {
      await visit(url, `县区 ${label}`);
    }
    await signOut(page);

    // The city accepts, reports and dispatches; its lists.
    await signIn(page, 'city', DEMO_PASSWORD);
    await menuByKeyboard('团组待办');
    await check('市外办 团组待办');
    await actOnGroup(page, number, '【受理】', '已受理。');
    await check('市外办 团组（已受理）');
    await reportAndDispatch(page, 'HW3255020200727800043');
    await check('市外办 团组（已发件）');
    for (const [url, label] of [['/review', '待办'], ['/review/visits', '销签待办'], ['/review/followups', '差评整改'],
      ['/notices/new', '发送通知'], [`/search?q=${number}`, '综合查询'], ['/stats', '统计分析']]) {
      await visit(url, `市外办 ${label}`);
    }
    await signOut(page);

    // The unit again: the history with the dispatched group, 销签登记 of a visitor.
    await signIn(page, org.login, UNIT_PASSWORD);
    await visit('/history', '单位 申报历史查询（已发件）');
    await visit('/visits', '单位 销签登记（已发件）');
    await page.getByRole('row').filter({ hasText: 'SMITH' }).getByRole('link').first().click();
    await seeText(page, '销签登记');
    await check('单位 销签登记表');
    // SMITH JOHN did not come: the reason and the statement, 【保存】 and [提交].
    await page.getByLabel('取消行程').check();
    await field(page, '取消原因').fill('签证未获批准，行程取消。');
    await page.getByLabel(/^情况说明/).setInputFiles(pdfFile('statement'));
    await page.getByRole('button', { name: '【保存】' }).click();
    await seeText(page, '已保存。');
    await check('单位 销签登记（已保存）');
    await clickConfirmed(page, '[提交]');
    await seeText(page, '销签登记已提交');
    await page.goto('/messages');
    await page.locator('table.list tbody a[href^="/messages/"]').first().click();
    await page.waitForLoadState('load');
    await check('单位 消息详情');
    await signOut(page);

    // The county reviews it.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await page.goto('/review/visits');
    await page.getByRole('row').filter({ hasText: 'SMITH JOHN' }).getByRole('link', { name: '审核' }).click();
    await seeText(page, '签证未获批准');
    await check('县区 销签审核');
    await signOut(page);

    // The administrator's main pages.
    await signIn(page, 'demoadmin', DEMO_PASSWORD);
    for (const [url, label] of [['/admin', '系统管理'], ['/admin/units', '单位管理'], ['/admin/staff', '用户管理'],
      ['/admin/audit', '操作日志'], ['/admin/settings', '系统设置'], ['/admin/refdata', '基础数据']]) {
      await visit(url, `管理员 ${label}`);
    }
    // Its edit pages: a staff account, a unit, an entry of the reference data, a content page.
    for (const [list, label] of [['/admin/staff', '用户编辑'], [`/admin/units?q=${encodeURIComponent(org.name)}`, '单位详情'],
      ['/admin/refdata/countries', '基础数据修改']]) {
      await page.goto(list);
      await page.locator('table.list tbody a').first().click();
      await page.waitForLoadState('load');
      await check(`管理员 ${label}`);
    }
    await visit('/admin/content/help', '管理员 内容编辑');
    await visit('/admin/templates', '管理员 模板管理');
  } catch (e) {
    await failureShot(page, 'narrow');
    throw e;
  }
  assert.deepEqual(problems, [], `${problems.length} problems on ${checked} page views:\n${problems.join('\n')}`);
});
