// Issue 19: machine entry on the group form, in a real browser. A clerk pastes a passport's
// machine-readable zone and the visitor's fields fill at once (script on) or after
// 【读取机读区】 (script off); a changed digit is named. The clerk downloads the visitors'
// spreadsheet template, fills two rows in it, and imports it into the form.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { unzipSync, zipSync, strFromU8, strToU8 } from 'fflate';
import readXlsxFile from 'read-excel-file/node';
import {
  startServer, launchBrowser, newPage, screenshot, failureShot, see, seeText, uniq, orgFor,
  registerApproved, signIn, UNIT_PASSWORD,
} from '../lib.mjs';

let server;
let browser;

before(async () => {
  server = await startServer('machine-entry');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The ICAO check digit. */
function digit(field) {
  let sum = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    let v = 0;
    if (c >= '0' && c <= '9') v = c.charCodeAt(0) - 48;
    else if (c >= 'A' && c <= 'Z') v = c.charCodeAt(0) - 55;
    sum += v * [7, 3, 1][i % 3];
  }
  return String(sum % 10);
}

/** A TD3 zone with its check digits. */
function zone(state, name, number, birth, sex, expiry) {
  const pad = (s, n) => (s + '<'.repeat(n)).slice(0, n);
  const l1 = pad(`P<${pad(state, 3)}${name}`, 44);
  const num = pad(number, 9);
  let l2 = `${num}${digit(num)}${pad(state, 3)}${birth}${digit(birth)}${sex}${expiry}${digit(expiry)}${'<'.repeat(15)}`;
  l2 += digit(l2.slice(0, 10) + l2.slice(13, 20) + l2.slice(21, 43));
  return `${l1}\n${l2}`;
}

async function openForm(page, org) {
  await signIn(page, org.login, UNIT_PASSWORD);
  await page.goto('/groups/form');
  await see(page.getByRole('button', { name: '【保存】' }));
}

test('a pasted zone fills the visitor at once, and with the button without script', { timeout: 240_000 }, async () => {
  const page = await newPage(browser, server.base);
  const org = orgFor(uniq());
  try {
    await registerApproved(page, server, org);
    await openForm(page, org);
    const box = page.getByRole('group', { name: '到访人员1' });
    const de = zone('D', 'MUELLER<<ANNA<LENA', 'C01X00T47', '850312', 'F', '340601');
    // A changed digit: named, nothing filled.
    await box.getByLabel('护照机读区').fill(de.replace('C01X00T47', 'C01X00T48'));
    await see(box.getByText('护照号码校验位不符'));
    assert.equal(await box.getByLabel(/^护照号码/).inputValue(), '');
    // The right zone: filled without leaving the page.
    const url = page.url();
    await box.getByLabel('护照机读区').fill(de);
    await page.waitForFunction(() => document.getElementById('v0_passport_no').value === 'C01X00T47');
    assert.equal(page.url(), url, 'no page load');
    assert.equal(await box.getByLabel(/^名/).inputValue(), 'ANNA LENA');
    assert.equal(await box.getByLabel(/^姓/).inputValue(), 'MUELLER');
    assert.equal(await box.getByLabel(/^国籍/).inputValue(), 'DEU');
    assert.equal(await box.getByLabel(/^性别/).inputValue(), 'F');
    assert.equal(await box.getByLabel(/^出生日期/).inputValue(), '1985-03-12');
    assert.equal(await box.getByLabel(/^护照有效期至/).inputValue(), '2034-06-01');
    assert.equal(await box.getByText('护照号码校验位不符').isVisible(), false);
    await screenshot(page, 'group-form-mrz');

    // Without script: 【读取机读区】 posts the form and it comes back filled.
    const plain = await newPage(browser, server.base, { javaScript: false });
    await openForm(plain, org);
    const pbox = plain.getByRole('group', { name: '到访人员1' });
    await pbox.getByLabel('护照机读区').fill(zone('GBD', 'O<BRIEN<<SEAN', '925076473', '790115', 'M', '300228'));
    await pbox.getByRole('button', { name: '读取机读区' }).click();
    await see(plain.getByRole('group', { name: '到访人员1' }));
    assert.equal(await plain.locator('#v0_passport_no').inputValue(), '925076473');
    assert.equal(await plain.locator('#v0_nationality').inputValue(), 'GBR');
    await plain.context().close();
  } catch (e) {
    await failureShot(page, 'machine-entry-mrz');
    throw e;
  } finally {
    await page.context().close();
  }
});

/** The template with `rows` typed into its first sheet (inline strings, as a spreadsheet
 * program would store them after editing). */
function filled(template, rows) {
  const files = unzipSync(new Uint8Array(template));
  const name = 'xl/worksheets/sheet1.xml';
  const xml = strFromU8(files[name]);
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const col = (i) => String.fromCharCode(65 + i);
  const added = rows.map((cells, r) => {
    const n = r + 2;
    const cs = cells
      .map((v, i) => (v === '' ? '' : `<c r="${col(i)}${n}" t="inlineStr"><is><t>${esc(v)}</t></is></c>`))
      .join('');
    return `<row r="${n}">${cs}</row>`;
  }).join('');
  const out = xml.includes('</sheetData>')
    ? xml.replace('</sheetData>', `${added}</sheetData>`)
    : xml.replace('<sheetData/>', `<sheetData>${added}</sheetData>`);
  files[name] = strToU8(out);
  return Buffer.from(zipSync(files));
}

test('the template is downloaded, filled and imported into the form', { timeout: 240_000 }, async () => {
  const page = await newPage(browser, server.base);
  const org = orgFor(uniq());
  try {
    await registerApproved(page, server, org);
    await openForm(page, org);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: '下载到访人员导入模板（Excel）' }).click(),
    ]);
    const template = readFileSync(await download.path());
    const sheets = await readXlsxFile(template);
    assert.equal(sheets[0].sheet, "到访人员");
    const head = sheets[0].data[0];
    assert.deepEqual(head.slice(0, 3), ['姓', '名', '性别']);
    const row = (given, passport, nationality) => [
      'SMITH', given, '男', '1980-05-05', nationality, passport, '2035-01-31', 'ACME Corp.', 'Engineer',
      '美国（USA）', 'New York', '1 Main Street', '', '30', '',
    ];
    // A wrong cell first: named by row and column, nothing filled.
    const bad = filled(template, [row('JOHN', 'E7000001', '美国（USA）'), row('JANE', 'E7000002', '火星')]);
    await page.locator('#import-file').setInputFiles({ name: '名单.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: bad });
    await page.getByRole('button', { name: '导入到访人员' }).click();
    await seeText(page, '第3行E列“国籍”：国籍必须在定义好的国籍中选择');
    assert.equal(await page.locator('#v0_passport_no').inputValue(), '');
    // Corrected: both visitors in the form, not saved yet.
    const good = filled(template, [row('JOHN', 'E7000001', '美国（USA）'), row('JANE', 'E7000002', '德国（DEU）')]);
    await page.locator('#import-file').setInputFiles({ name: '名单.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: good });
    await page.getByRole('button', { name: '导入到访人员' }).click();
    await seeText(page, '已从电子表格读入2名到访人员');
    assert.equal(await page.locator('#v1_passport_no').inputValue(), 'E7000002');
    assert.equal(await page.locator('#v1_nationality').inputValue(), 'DEU');
    assert.equal(await page.locator('#v0_birth_date').inputValue(), '1980-05-05');
    await screenshot(page, 'group-form-import');
  } catch (e) {
    await failureShot(page, 'machine-entry-import');
    throw e;
  } finally {
    await page.context().close();
  }
});
