// Issue 6: the city office's administration, as its judging lists it. The administrator creates a
// county account, which then sees only its district; the dishonesty list stops and restores a
// unit's sign-in; a unit that lost its phone is rebound and gets its next code on the new number;
// an exported .xlsx holds the rows on screen; `laihua audit verify` passes and then fails after a
// row is altered in the database.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import readExcelFile from 'read-excel-file/node';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, field, until,
  orgFor, uniq, registerAndSubmit, signIn, signOut, approve, DEMO_PASSWORD, UNIT_PASSWORD,
  clickConfirmed,
} from '../lib.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer('admin');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const menu = () => page.getByRole('navigation', { name: '功能菜单' });

async function adminPage(button) {
  await menu().getByRole('link', { name: '系统管理' }).click();
  await page.getByRole('link', { name: button }).click();
}

/** Admin: 邀请单位管理 → the unit's page. */
async function openUnit(org) {
  await adminPage('邀请单位管理');
  await field(page, '单位名称、统一社会信用代码或登录ID').fill(org.creditCode);
  await page.getByRole('button', { name: '查询' }).click();
  const row = page.getByRole('row').filter({ hasText: org.name });
  await see(row);
  await row.getByRole('link', { name: '查看' }).click();
  await see(page.getByRole('heading', { name: new RegExp(org.name) }));
}

/** The unit's group form (来华申报 → 团组申报 → the notice). */
async function openGroupForm() {
  await menu().getByRole('link', { name: '来华申报' }).click();
  await page.getByRole('link', { name: '团组申报' }).click();
  await page.getByRole('link', { name: '我已阅读，确认继续' }).click();
  await see(field(page, '来华事由'));
}

async function purposeOptions() {
  return field(page, '来华事由').locator('option').allTextContents();
}

/** Clicks an 导出Excel link and opens the file: [{ sheet, data }]. */
async function exportXlsx(link) {
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = await download.path();
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  return readExcelFile(file);
}

test('administration: county account, dishonesty list, lost phone, export, audit verify', { timeout: 300_000 }, async () => {
  const tianning = orgFor(uniq());
  const wujin = { ...orgFor(uniq()), district: '武进区', address: '常州市武进区测试路2号' };
  try {
    await registerAndSubmit(page, server, tianning);
    await signOut(page);
    await registerAndSubmit(page, server, wujin);
    await signOut(page);

    // The administrator creates a county account for 武进区; its password is shown once.
    await signIn(page, 'demoadmin', DEMO_PASSWORD);
    await adminPage('工作人员帐号');
    await field(page, '登录ID').fill('wjclerk');
    await field(page, '姓名').fill('武进区经办人');
    await field(page, '角色').selectOption({ label: '县区外办' });
    await field(page, '所属县区').selectOption({ label: '武进区' });
    await page.getByRole('button', { name: '创建帐号' }).click();
    await seeText(page, '已创建帐号');
    const oneTime = (await page.locator('.secret').textContent()).trim();
    assert.ok(oneTime.length >= 8, oneTime);
    await screenshot(page, 'admin-staff');
    await signOut(page);

    // The new account must change its password, then sees 武进区 and nothing of 天宁区.
    await signIn(page, 'wjclerk', oneTime);
    await see(page.getByRole('heading', { name: '修改密码' }));
    await field(page, '原密码').fill(oneTime);
    await field(page, '新密码').fill('Wujin#2026clerk');
    await field(page, '确认新密码').fill('Wujin#2026clerk');
    await page.getByRole('button', { name: '[提交]' }).click();
    await see(page.getByRole('heading', { name: /^待办/ }));
    await menu().getByRole('link', { name: /^待办/ }).click();
    await see(page.getByRole('row').filter({ hasText: wujin.name }));
    assert.equal(await page.getByRole('row').filter({ hasText: tianning.name }).count(), 0);
    await menu().getByRole('link', { name: '综合查询' }).click();
    await field(page, '查询内容').fill(tianning.creditCode);
    await page.getByRole('button', { name: '查询' }).click();
    await seeText(page, '没有符合条件的单位');
    await field(page, '查询内容').fill(wujin.creditCode);
    await page.getByRole('button', { name: '查询' }).click();
    await see(page.getByRole('row').filter({ hasText: wujin.name }));
    await screenshot(page, 'search');
    // The county's export of its queue holds its own row only.
    await menu().getByRole('link', { name: /^待办/ }).click();
    const queue = await exportXlsx(page.getByRole('link', { name: '导出Excel' }));
    const names = queue[0].data.slice(1).map((r) => r[1]);
    assert.deepEqual(names, [wujin.name]);
    await signOut(page);

    // The dishonesty list: sign-in refused with 帐号状态异常, restored on removal.
    await signIn(page, 'demoadmin', DEMO_PASSWORD);
    await openUnit(tianning);
    await field(page, '列入原因（必填）').fill('提供虚假材料');
    await clickConfirmed(page, '列入失信企业名单');
    await seeText(page, '已列入失信企业名单，该单位无法登录。');
    await signOut(page);
    await page.goto('/login');
    await field(page, '登录ID').fill(tianning.login);
    await field(page, '密码').fill(UNIT_PASSWORD);
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await seeText(page, '帐号状态异常');
    assert.equal(await page.getByRole('button', { name: '注销' }).count(), 0);

    await signIn(page, 'demoadmin', DEMO_PASSWORD);
    await openUnit(tianning);
    await page.getByRole('button', { name: '移出失信企业名单' }).click();
    await seeText(page, '已移出失信企业名单，该单位可以正常登录。');

    // The unit lost its phone: staff bind a new number; the next code goes there.
    const newMobile = '13700001234';
    await field(page, '新手机号码').fill(newMobile);
    await clickConfirmed(page, '更换');
    await seeText(page, '手机号码已绑定。');
    await signOut(page);
    await signIn(page, tianning.login, UNIT_PASSWORD);
    await signOut(page);

    const toOld = server.sms().filter((m) => m.to === tianning.mobile).length;
    await page.goto('/login');
    await page.getByRole('link', { name: /忘记密码/ }).click();
    await field(page, '统一社会信用代码').fill(tianning.creditCode);
    await field(page, '单位全称').fill(tianning.name);
    await page.getByRole('button', { name: '下一步' }).click();
    await seeText(page, '137****1234');
    await page.getByRole('button', { name: '[获取验证码]' }).click();
    const code = await until(() => {
      try {
        return server.lastCode(newMobile);
      } catch {
        return null;
      }
    }, `a code to ${newMobile}`);
    assert.equal(server.sms().filter((m) => m.to === tianning.mobile).length, toOld, 'nothing more to the lost phone');
    await field(page, '短信验证码').fill(code);
    await page.getByRole('button', { name: '校验短信验证码' }).click();
    await see(page.getByRole('heading', { name: '重置密码' }));
    await field(page, '新密码').fill('Reset#2026unit');
    await field(page, '确认新密码').fill('Reset#2026unit');
    await page.getByRole('button', { name: '[提交]' }).click();
    await signIn(page, tianning.login, 'Reset#2026unit');
    await signOut(page);

    // Reference data: a purpose the administrator adds is offered in the unit's group form;
    // renamed, the form shows the new name; retired, it is no longer offered.
    await signIn(page, 'tianning', DEMO_PASSWORD);
    await approve(page, tianning.name);
    await signOut(page);
    await signIn(page, 'city', DEMO_PASSWORD);
    await approve(page, tianning.name);
    await signOut(page);
    await signIn(page, 'demoadmin', DEMO_PASSWORD);
    await adminPage('基础数据管理');
    await page.getByRole('link', { name: '来华事由' }).click();
    await field(page, '代码').fill('Research!');
    await field(page, '名称').fill('科研合作');
    await page.getByRole('button', { name: '新增' }).click();
    await seeText(page, '小写英文字母、数字或下划线');
    assert.equal(await field(page, '名称').inputValue(), '科研合作', 'what was typed is kept');
    await field(page, '代码').fill('research');
    await page.getByRole('button', { name: '新增' }).click();
    await seeText(page, '已新增。');
    await page.getByRole('link', { name: '来华事由' }).click();
    await see(page.getByRole('row').filter({ hasText: '科研合作' }));
    await screenshot(page, 'admin-refdata');
    await signOut(page);
    await signIn(page, tianning.login, 'Reset#2026unit');
    await openGroupForm();
    assert.ok((await purposeOptions()).includes('科研合作'), 'offered in the form');
    await signOut(page);
    await signIn(page, 'demoadmin', DEMO_PASSWORD);
    await page.goto('/admin/refdata/purposes');
    await page.getByRole('row').filter({ hasText: '科研合作' }).getByRole('link', { name: '修改' }).click();
    await field(page, '名称').fill('科研合作交流');
    await page.getByRole('button', { name: /保存/ }).click();
    await see(page.getByRole('button', { name: /停用/ }));
    await signOut(page);
    await signIn(page, tianning.login, 'Reset#2026unit');
    await openGroupForm();
    const renamed = await purposeOptions();
    assert.ok(renamed.includes('科研合作交流') && !renamed.includes('科研合作'), renamed.join());
    await signOut(page);
    await signIn(page, 'demoadmin', DEMO_PASSWORD);
    await page.goto('/admin/refdata/purposes/research');
    await page.getByRole('button', { name: /停用/ }).click();
    await see(page.getByRole('button', { name: /恢复/ }));
    await signOut(page);
    await signIn(page, tianning.login, 'Reset#2026unit');
    await openGroupForm();
    assert.ok(!(await purposeOptions()).includes('科研合作交流'), 'retired: no longer offered');
    await signOut(page);

    // Statistics for the city office, as tables with charts.
    await signIn(page, 'city', DEMO_PASSWORD);
    await menu().getByRole('link', { name: '统计分析' }).click();
    await see(page.getByRole('heading', { name: '统计分析' }));
    await see(page.locator('svg[role="img"]').first());
    await signOut(page);

    // The audit log of the unit: the exported file holds the rows on screen.
    await signIn(page, 'demoadmin', DEMO_PASSWORD);
    await adminPage('审计日志');
    await field(page, '对象类型').selectOption('unit');
    await page.getByRole('button', { name: '查询' }).click();
    await see(page.getByRole('row').filter({ hasText: '列入失信企业名单' }).first());
    const onScreen = await page.locator('table.list tbody tr').evaluateAll((rows) =>
      rows.map((r) => r.querySelector('td').textContent.trim()));
    const audit = await exportXlsx(page.getByRole('link', { name: '导出Excel' }));
    const ids = audit[0].data.slice(1).map((r) => String(r[0]));
    assert.deepEqual(ids, onScreen);
    assert.ok(audit[0].data.some((r) => r[5] === 'unit.blacklist'));
    // The export itself is in the log.
    await field(page, '对象类型').selectOption('export');
    await page.getByRole('button', { name: '查询' }).click();
    await see(page.getByRole('row').filter({ hasText: '导出Excel' }).first());
    await screenshot(page, 'admin-audit');

    // 短信发送记录: a notification the provider refused (the outbox never fails, so the refusal
    // is written behind the server's back) is on the home page and the list with its reason,
    // and 【重新发送】 sends it.
    const smsBefore = server.sms().length;
    server.sql("UPDATE sms_queue SET state = 'failed', attempts = 1, sent_at = NULL, reference = '', last_error = '阿里云短信：账户余额不足（isv.AMOUNT_NOT_ENOUGH：余额不足）' WHERE id = (SELECT MAX(id) FROM sms_queue WHERE kind <> 'verify_code')");
    await menu().getByRole('link', { name: '系统管理' }).click();
    await seeText(page, '有1条短信发送失败或结果不明');
    await page.getByRole('link', { name: '查看原因' }).click();
    const failed = page.getByRole('row').filter({ hasText: '账户余额不足' });
    await see(failed);
    await seeText(page, '发送失败');
    await screenshot(page, 'admin-sms');
    await failed.getByRole('button', { name: '重新发送' }).click();
    await seeText(page, '已重新放入发送队列并尝试发送');
    await until(() => server.sms().length === smsBefore + 1 || null, 'the notification sent again');
    await page.goto('/admin');
    assert.equal(await page.getByText('短信发送失败或结果不明').count(), 0);

    // The hash chain: intact, then broken by an UPDATE behind the server's back.
    const intact = server.cli(['audit', 'verify']);
    assert.ok(intact.ok, intact.output);
    assert.match(intact.output, /audit log intact/);
    server.sql("UPDATE audit_log SET detail = detail || '（改）' WHERE action = 'unit.blacklist'");
    const broken = server.cli(['audit', 'verify']);
    assert.equal(broken.ok, false, broken.output);
    assert.match(broken.output, /audit log tampered/);
  } catch (e) {
    await failureShot(page, 'admin');
    throw e;
  }
});
