// Issue 17: how many pages a clerk waits for from 来华申报 to a submitted group of two visitors,
// with JavaScript and without it. The figures are printed (and written to
// test-results/page-loads.txt); the test fails when a change adds a page load to either path.
// 【打印】 opens the PDF in a tab of its own, counted apart.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  RESULTS, startServer, launchBrowser, newPage, failureShot, see, seeText, orgFor, uniq,
  registerApproved, signIn, UNIT_PASSWORD, newGroupOfTwo, uploadRow, pdfFile, png, clickConfirmed,
} from '../lib.mjs';

// The most page loads each path may take (the measured figures of issue 17).
const MOST = { withScript: 7, withoutScript: 9 };

let server;
let browser;
const figures = {};

before(async () => {
  server = await startServer('page-loads');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Counts the documents loaded in `page` and the tabs opened beside it while `run` runs. */
async function counting(page, run) {
  let loads = 0;
  let tabs = 0;
  const onLoad = () => { loads += 1; };
  const onTab = () => { tabs += 1; };
  page.on('load', onLoad);
  page.context().on('page', onTab);
  try {
    await run();
  } finally {
    page.off('load', onLoad);
    page.context().off('page', onTab);
  }
  return { loads, tabs };
}

/** 【打印】: the PDF opens in a new tab, which the clerk closes. */
async function print(page) {
  const [tab] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('button', { name: '【打印】' }).click(),
  ]);
  await tab.waitForLoadState().catch(() => {});
  await tab.close();
}

async function submitted(page) {
  await clickConfirmed(page, '【提交】');
  await seeText(page, '团组已提交');
}

test('page loads from 来华申报 to 【提交】 for a group of two, with and without JavaScript', { timeout: 300_000 }, async () => {
  let page = await newPage(browser, server.base);
  const org = orgFor(uniq());
  try {
    await registerApproved(page, server, org);
    await signIn(page, org.login, UNIT_PASSWORD);

    figures.withScript = await counting(page, async () => {
      await newGroupOfTwo(page);
      // Each chosen file is uploaded at once by the page's script.
      await uploadRow(page, 'LISA MOHAMODE的护照首页', pdfFile('passport 1'));
      await uploadRow(page, 'SMITH JOHN的护照首页', png());
      await uploadRow(page, '经办人身份证复印件（加盖单位公章）', pdfFile('clerk id'));
      await print(page);
      await uploadRow(page, '盖章签字的申请表扫描件', pdfFile('stamped'));
      await submitted(page);
    });
    await page.context().close();

    page = await newPage(browser, server.base, { javaScript: false });
    await signIn(page, org.login, UNIT_PASSWORD);
    figures.withoutScript = await counting(page, async () => {
      await newGroupOfTwo(page, { passports: ['E12345679', 'C01X00T50'] });
      // The three files chosen beside their materials, sent with one 【上传所选文件】.
      await page.getByLabel(/^选择LISA MOHAMODE的护照首页/).setInputFiles(pdfFile('passport 1'));
      await page.getByLabel(/^选择SMITH JOHN的护照首页/).setInputFiles(png());
      await page.getByLabel(/^选择经办人身份证复印件/).setInputFiles(pdfFile('clerk id'));
      await page.getByRole('button', { name: '【上传所选文件】' }).click();
      await see(page.getByRole('row').filter({ hasText: 'SMITH JOHN的护照首页' }).getByRole('link', { name: 'scan.png' }));
      await print(page);
      await page.getByLabel(/^选择盖章签字的申请表扫描件/).setInputFiles(pdfFile('stamped'));
      await page.getByRole('button', { name: '上传', exact: true }).click();
      await seeText(page, '已上传当前版本的盖章扫描件。');
      await submitted(page);
    });
  } catch (e) {
    await failureShot(page, 'page-loads');
    throw e;
  }
  const line = (k, what) => `${what}: ${figures[k].loads} page loads, and ${figures[k].tabs} tab for the printed PDF`;
  const report = [line('withScript', 'with JavaScript'), line('withoutScript', 'without JavaScript')].join('\n');
  console.log(report);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, 'page-loads.txt'), `${report}\n`);
  assert.ok(figures.withScript.loads <= MOST.withScript, report);
  assert.ok(figures.withoutScript.loads <= MOST.withoutScript, report);
});
