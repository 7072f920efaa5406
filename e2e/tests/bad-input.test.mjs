// Journey 3: bad input in the browser — a wrong credit-code check character, a fake PDF.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, newPage, failureShot, see, seeText, field, fillOrg,
  orgFor, uniq, withWrongCheck, wizardToOrg, orgToAttachments, requiredSlots, slotRow, upload,
} from '../lib.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer('bad-input');
  browser = await launchBrowser();
  page = await newPage(browser, server.base);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a wrong check character and a fake PDF are refused with messages', { timeout: 180_000 }, async () => {
  const org = orgFor(uniq());
  try {
    await wizardToOrg(page, server, org);

    // A wrong check character: the message beside the field, everything typed kept.
    const wrong = withWrongCheck(org.creditCode);
    await fillOrg(page, org, wrong);
    await page.getByRole('button', { name: '[继续设置账号、密码]' }).click();
    await see(page.getByRole('alert').filter({ hasText: '请按提示修改标红的项目' }));
    const codeField = field(page, '统一社会信用代码');
    const codeBox = page.locator('.field').filter({ has: codeField });
    await see(codeBox.getByText('统一社会信用代码校验位错误'));
    assert.match(await codeBox.getAttribute('class'), /\binvalid\b/);
    assert.equal(await codeField.inputValue(), wrong);
    assert.equal(await field(page, '单位全称').inputValue(), org.name);
    assert.equal(await field(page, '单位英文名称').inputValue(), org.englishName);
    assert.equal(await field(page, '单位地址').inputValue(), org.address);
    assert.equal(await field(page, '法定代表人').inputValue(), org.legalRep);
    assert.equal(await field(page, '联系人').inputValue(), org.contact);
    assert.equal(await field(page, '联系电话').inputValue(), org.landline);
    assert.equal(await field(page, '电子邮箱').inputValue(), org.email);
    const selected = (label) => field(page, label).evaluate((s) => s.options[s.selectedIndex].text);
    assert.equal(await selected('所属县区（属地）'), org.district);
    assert.equal(await selected('单位类型'), org.unitType);
    // No other field is marked.
    assert.equal(await page.locator('.field.invalid').count(), 1);

    // Correcting only the code lets the wizard go on.
    await codeField.fill(org.creditCode);
    await orgToAttachments(page, org);

    // A text file named .pdf is refused in its own slot, and nothing is stored.
    const [slot] = await requiredSlots(page);
    await upload(page, slot, {
      name: 'not-really.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('This is a plain text file, not a PDF.\n', 'utf8'),
    });
    const row = slotRow(page, slot);
    await see(row.getByRole('alert').filter({ hasText: '文件内容不是有效的PDF' }));
    await see(row.getByText('未上传'));
    assert.equal(await page.getByRole('link', { name: 'not-really.pdf' }).count(), 0);

    // [提交注册] without the required attachments is refused at once (no confirmation first).
    await page.getByRole('button', { name: '[提交注册]' }).click();
    await see(page.getByRole('heading', { name: '添加附件' }));
    await see(page.getByRole('alert').filter({ hasText: `请上传必选附件：${slot}` }));
  } catch (e) {
    await failureShot(page, 'bad-input');
    throw e;
  }
});
