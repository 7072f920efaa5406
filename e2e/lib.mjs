// Shared helpers of the end-to-end tests: start the real release binary with its own data folder
// (and its own PostgreSQL database when LAIHUA_E2E_POSTGRES_URL is set), launch Debian's headless
// Chromium, read SMS codes from the outbox, and walk the registration wizard by visible labels.

import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, openSync, closeSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(E2E_DIR, '..');
export const BINARY = path.join(REPO, 'target', 'release', 'laihua');
export const SHOTS = path.join(REPO, 'docs', 'screenshots');
export const RESULTS = path.join(E2E_DIR, 'test-results');

export const DEMO_PASSWORD = 'Demo@2026';
export const UNIT_PASSWORD = 'Unit#2026pass';

const CHROMIUM = process.env.LAIHUA_E2E_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// ---------------------------------------------------------------------------------------------
// Small utilities

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeout` ms. */
export async function until(fn, what, timeout = 10_000, every = 100) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await sleep(every);
  }
}

/** Waits until the locator is visible (the first match when several). */
export async function see(locator, timeout = 10_000) {
  await locator.first().waitFor({ state: 'visible', timeout });
  return locator.first();
}

/** Waits until the page's visible text contains `text`. */
export async function seeText(page, text, timeout = 10_000) {
  await see(page.getByText(text), timeout);
}

/** A valid unified social credit code (GB 32100-2015) built from a 9-digit serial. */
export function creditCode(serial) {
  const charset = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const first17 = `91320402${String(serial).padStart(9, '0')}`;
  const sum = [...first17].reduce((s, c, i) => s + charset.indexOf(c) * weights[i], 0);
  return first17 + charset[(31 - (sum % 31)) % 31];
}

/** The same code with a wrong check character. */
export function withWrongCheck(code) {
  const last = code.at(-1);
  return code.slice(0, 17) + (last === '0' ? '1' : '0');
}

/** A small valid PDF. */
export function pdf(label) {
  return Buffer.from(`%PDF-1.4\n% ${label}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n`, 'latin1');
}

/**
 * The TOTP code (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) of a base32 secret at the Unix
 * time `seconds`, computed as an authenticator app does.
 */
export function totp(secretBase32, seconds) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) key.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', Buffer.from(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** A unique suffix for names, mobiles and codes of one test run. */
export function uniq() {
  return randomBytes(4).readUInt32BE() % 100_000_000;
}

// ---------------------------------------------------------------------------------------------
// The server

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function psql(baseUrl, sql) {
  execFileSync('psql', [baseUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Starts `target/release/laihua --demo` on a free port with a fresh data folder (and a fresh
 * PostgreSQL database when LAIHUA_E2E_POSTGRES_URL is set). Returns { base, dataDir, lastCode, stop }.
 *
 * As shipped, administrators must have a second sign-in factor. Unless `secondFactorAsShipped`,
 * that one setting is turned off (as 系统设置 can), so that the tests of everything else sign in
 * as `demoadmin` with the password alone; tests/second-factor.test.mjs keeps it.
 */
export async function startServer(name, extraArgs = [], { secondFactorAsShipped = false } = {}) {
  assert.ok(existsSync(BINARY), `${BINARY} is missing: run cargo build --release (e2e/run.sh does)`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'laihua-e2e-'));
  // The server's clock runs ahead by the seconds in this file (tests move it with advanceClock).
  const clockFile = path.join(dataDir, 'test-clock-offset');
  writeFileSync(clockFile, '0');
  const args = ['--data-dir', dataDir, '--demo', '--test-clock-file', clockFile, ...extraArgs];
  let clockOffset = 0;
  let dbName = null;
  let databaseUrl = null;
  const pgBase = process.env.LAIHUA_E2E_POSTGRES_URL;
  if (pgBase) {
    dbName = `laihua_e2e_${randomBytes(6).toString('hex')}`;
    psql(pgBase, `CREATE DATABASE ${dbName}`);
    const url = new URL(pgBase);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
    args.push('--database-url', databaseUrl);
  }
  mkdirSync(RESULTS, { recursive: true });
  const logPath = path.join(RESULTS, `${name}-server.log`);
  const logFd = openSync(logPath, 'w');

  let child;
  let base;
  // A port found free can be taken before the server binds it: try a few times.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(BINARY, [...args, '--bind', `127.0.0.1:${port}`], {
      cwd: REPO,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
    });
    let exited = null;
    child.once('exit', (code, signal) => {
      exited = { code, signal };
    });
    try {
      await until(
        async () => {
          if (exited) throw new Error(`server exited (${JSON.stringify(exited)}), see ${logPath}`);
          const r = await fetch(`${base}/login`);
          return r.ok;
        },
        `the server at ${base} (log: ${logPath})`,
        60_000,
        200,
      );
      break;
    } catch (e) {
      child.kill('SIGKILL');
      if (attempt >= 2 || !exited) {
        closeSync(logFd);
        cleanup();
        throw e;
      }
    }
  }

  // Never leave the server behind, even when the runner stops this file early.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  function cleanup() {
    rmSync(dataDir, { recursive: true, force: true });
    if (dbName) {
      try {
        psql(pgBase, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } catch (e) {
        console.error(`could not drop database ${dbName}: ${e.message}`);
      }
    }
  }

  const server = {
    base,
    dataDir,
    dbName,
    logPath,
    /** Which database the server uses, for the test log. */
    database: dbName ? `PostgreSQL database ${dbName}` : `SQLite in ${dataDir}`,
    /**
     * Runs one SQL statement directly on the server's database, behind its back (psql or the
     * sqlite3 shell): for tests of tampering.
     */
    sql(statement) {
      if (databaseUrl) {
        psql(databaseUrl, statement);
      } else {
        // The server's background jobs write too: wait for its write lock, as it waits for ours.
        execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(dataDir, 'laihua.db'), statement], { stdio: ['ignore', 'ignore', 'pipe'] });
      }
    },
    /** Runs the binary's command line on the same database: { ok, output }. */
    cli(cliArgs) {
      const db = databaseUrl ? ['--database-url', databaseUrl] : [];
      try {
        const output = execFileSync(BINARY, ['--data-dir', dataDir, ...db, ...cliArgs], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, RUST_LOG: 'error' },
        });
        return { ok: true, output };
      } catch (e) {
        return { ok: false, output: `${e.stdout || ''}${e.stderr || ''}` };
      }
    },
    /** Moves the server's clock forward by `seconds`. */
    advanceClock(seconds) {
      clockOffset += seconds;
      writeFileSync(clockFile, String(clockOffset));
    },
    /** The server's clock, in Unix seconds. */
    now() {
      return Math.floor(Date.now() / 1000) + clockOffset;
    },
    /** Every SMS sent so far, oldest first: [{to, text, at}]. */
    sms() {
      let text = '';
      try {
        text = readFileSync(path.join(dataDir, 'sms-outbox.jsonl'), 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));
    },
    /** The 6-digit code in the newest SMS to `mobile`. */
    lastCode(mobile) {
      const all = this.sms();
      const msg = all.reverse().find((m) => m.to === mobile && /\d{6}/.test(m.text));
      assert.ok(msg, `no code sent to ${mobile}: ${JSON.stringify(all)}`);
      return msg.text.match(/\d{6}/)[0];
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await gone;
        clearTimeout(t);
      }
      process.removeListener('exit', killOnExit);
      closeSync(logFd);
      cleanup();
    },
  };
  if (!secondFactorAsShipped) {
    server.sql("UPDATE settings SET value = '' WHERE key = 'second_factor_roles'");
  }
  return server;
}

// ---------------------------------------------------------------------------------------------
// The browser

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A fresh browser context (own cookies) with a 1280×800 viewport and one page; with
 * `javaScript: false`, a browser whose scripts are off. */
export async function newPage(browser, base, { javaScript = true } = {}) {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    acceptDownloads: true,
    javaScriptEnabled: javaScript,
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  return page;
}

/** Full-page screenshot into docs/screenshots/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Screenshot of the current page into e2e/test-results (for failures). */
export async function failureShot(page, name) {
  try {
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS, `${name}-failure.png`), fullPage: true });
  } catch {
    /* the page may be gone */
  }
}

// ---------------------------------------------------------------------------------------------
// Steps a person takes

/** A field by the start of its visible label ("密码" must not match "确认密码"). */
export function field(page, label) {
  const esc = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByLabel(new RegExp(`^${esc}`));
}

export async function signIn(page, loginId, password) {
  await page.goto('/login');
  await field(page, '登录ID').fill(loginId);
  await field(page, '密码').fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await see(page.getByRole('button', { name: '注销' }));
}

export async function signOut(page) {
  await page.getByRole('button', { name: '注销' }).click();
  await see(page.getByRole('heading', { name: '用户登录' }));
}

/** The organisation of a test unit. */
export function orgFor(n) {
  return {
    name: `常州测试单位${n}有限公司`,
    englishName: `Changzhou Test ${n} Co., Ltd.`,
    creditCode: creditCode(n),
    district: '天宁区',
    address: '常州市天宁区测试路1号',
    unitType: '企业',
    legalRep: '张三',
    contact: '李四',
    landline: '0519-85680000',
    email: `unit${n}@example.com`,
    mobile: `139${String(n % 100_000_000).padStart(8, '0')}`,
    login: `unit${n}`,
  };
}

export async function fillOrg(page, org, creditCodeValue = org.creditCode) {
  await field(page, '单位全称').fill(org.name);
  await field(page, '单位英文名称').fill(org.englishName);
  await field(page, '统一社会信用代码').fill(creditCodeValue);
  await field(page, '所属县区（属地）').selectOption({ label: org.district });
  await field(page, '单位地址').fill(org.address);
  await field(page, '单位类型').selectOption({ label: org.unitType });
  await field(page, '法定代表人').fill(org.legalRep);
  await field(page, '联系人').fill(org.contact);
  await field(page, '联系电话').fill(org.landline);
  await field(page, '电子邮箱').fill(org.email);
}

/**
 * From the login page through the notice (real 10-second countdown) and the SMS check to the
 * empty organisation form. Hooks: onNotice(page) right after the notice opens.
 */
export async function wizardToOrg(page, server, org, { onNotice } = {}) {
  await page.goto('/login');
  await page.getByRole('link', { name: '【用户注册】' }).click();
  await see(page.getByRole('heading', { name: '用户注册', level: 1 }));
  const accept = page.getByRole('button', { name: '我已阅读以上须知' });
  await see(accept);
  const opened = Date.now();
  if (onNotice) await onNotice(page, accept, opened);
  await until(() => accept.isEnabled(), 'the notice button to be enabled', 20_000, 200);
  await accept.click();

  await see(page.getByRole('heading', { name: '验证手机号码' }));
  // By keyboard: Enter in the mobile field sends the code, Enter in the code field verifies it.
  await field(page, '手机号码').fill(org.mobile);
  await field(page, '手机号码').press('Enter');
  await seeText(page, '验证码已发送');
  const code = await until(() => {
    try {
      return server.lastCode(org.mobile);
    } catch {
      return null;
    }
  }, `an SMS code to ${org.mobile}`);
  await field(page, '短信验证码').fill(code);
  await field(page, '短信验证码').press('Enter');
  await see(page.getByRole('heading', { name: '补充机构信息' }));
}

/** Organisation form → account form → the attachments page of the new (draft) unit. */
export async function orgToAttachments(page, org, { onOrg } = {}) {
  await fillOrg(page, org);
  if (onOrg) await onOrg(page);
  await page.getByRole('button', { name: '[继续设置账号、密码]' }).click();
  await see(page.getByRole('heading', { name: '填写注册账号信息' }));
  await field(page, '登录ID').fill(org.login);
  await field(page, '密码').fill(UNIT_PASSWORD);
  await field(page, '确认密码').fill(UNIT_PASSWORD);
  await page.getByRole('button', { name: '继续', exact: true }).click();
  await see(page.getByRole('heading', { name: '添加附件' }));
}

/** Names of the attachment slots marked 必选 on the current page. */
export async function requiredSlots(page) {
  const rows = page
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name: '必选', exact: true }) });
  const n = await rows.count();
  const names = [];
  for (let i = 0; i < n; i++) {
    names.push((await rows.nth(i).getByRole('cell').first().innerText()).trim());
  }
  return names;
}

/** The table row of the slot named `name`. */
export function slotRow(page, name) {
  return page.getByRole('row').filter({ has: page.getByLabel(`选择${name}（PDF，不超过10MB）`) });
}

/** Waits for the upload script's answer beside the file input `input`: 已上传 or a refusal. */
export async function uploadAnswer(page, input) {
  const status = page.locator(`[id="${await input.getAttribute('aria-describedby')}"]`);
  await status.locator('.ok-text, .err').first().waitFor();
  return status;
}

/** Chooses a file for the slot; the page's script uploads it at once (no page load). */
export async function upload(page, slotName, file) {
  const input = page.getByLabel(`选择${slotName}（PDF，不超过10MB）`);
  await input.setInputFiles(file);
  await uploadAnswer(page, input);
}

/** Uploads a generated PDF into every 必选 slot; returns the slot names. */
export async function uploadRequired(page) {
  const names = await requiredSlots(page);
  assert.ok(names.length >= 1, 'at least one required attachment');
  for (const [i, name] of names.entries()) {
    const fileName = `scan-${i + 1}.pdf`;
    await upload(page, name, { name: fileName, mimeType: 'application/pdf', buffer: pdf(name) });
    await see(slotRow(page, name).getByText(`已上传：${fileName}`));
  }
  return names;
}

/** The whole wizard for `org`, required uploads and [提交注册]; ends signed in as the unit. */
export async function registerAndSubmit(page, server, org) {
  await wizardToOrg(page, server, org);
  await orgToAttachments(page, org);
  await uploadRequired(page);
  await clickConfirmed(page, '[提交注册]');
  await see(page.getByRole('heading', { name: '用户注册信息' }));
  await seeText(page, '待县区外办初审');
}

/** A unit registered and approved by its county (天宁区) and the city; ends signed out. */
export async function registerApproved(page, server, org) {
  await registerAndSubmit(page, server, org);
  await signOut(page);
  await signIn(page, 'tianning', DEMO_PASSWORD);
  await approve(page, org.name);
  await signOut(page);
  await signIn(page, 'city', DEMO_PASSWORD);
  await approve(page, org.name);
  await signOut(page);
}

/** Staff: 待办 → the row of `unitName` → 审核. */
export async function openFromQueue(page, unitName) {
  await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: /^待办/ }).click();
  await see(page.getByRole('heading', { name: /^待办/ }));
  const row = page.getByRole('row').filter({ hasText: unitName });
  await see(row);
  await row.getByRole('link', { name: '审核' }).click();
  await see(page.getByRole('heading', { name: new RegExp(unitName) }));
}

/** Staff: open the unit from the queue and click 【审核通过】. */
export async function approve(page, unitName) {
  await openFromQueue(page, unitName);
  await clickConfirmed(page, '【审核通过】');
  await seeText(page, '已审核通过。');
}

// ---------------------------------------------------------------------------------------------
// Invitation groups

export function isoDaysFromNow(days) {
  const d = new Date(Date.now() + days * 86_400_000 + 8 * 3_600_000);
  return d.toISOString().slice(0, 10);
}

export const pdfFile = (label) => ({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: pdf(label) });

export const png = () => {
  const img = new PNG({ width: 2, height: 2 });
  return { name: 'scan.png', mimeType: 'image/png', buffer: PNG.sync.write(img) };
};

export async function fillVisitor(page, n, v) {
  const box = page.getByRole('group', { name: `到访人员${n}` });
  await see(box);
  if (v.surname) await box.getByLabel(/^姓/).fill(v.surname);
  await box.getByLabel(/^名/).fill(v.given);
  await box.getByLabel(/^性别/).selectOption({ label: v.sex });
  await box.getByLabel(/^出生日期/).fill(v.birth);
  await box.getByLabel(/^国籍/).selectOption({ label: v.nationality });
  await box.getByLabel(/^护照号码/).fill(v.passport);
  await box.getByLabel(/^护照有效期至/).fill(v.expiry);
  // Exactly 工作单位 (the employer's country, city and address have labels of their own).
  await box.getByLabel(/^工作单位\s*\*?$/).fill(v.employer);
  await box.getByLabel(/^职务/).fill(v.position);
  await box.getByLabel(/^工作单位所在国家（地区）/).selectOption({ label: v.employerCountry ?? v.nationality });
  await box.getByLabel(/^工作单位所在城市/).fill(v.employerCity ?? 'New York');
  await box.getByLabel(/^工作单位地址/).fill(v.employerAddress ?? '1 Main Street');
  // 拟申请签证种类 is defaulted from 来华事由 when not chosen.
  if (v.visaType) await box.getByLabel(/^拟申请签证种类/).selectOption({ label: v.visaType });
  await box.getByLabel(/^停留期限（天）/).fill(v.stay ?? '30');
}

/** 团组人数 and the 在华日程: by default one row on day 61 (within the planned days 60..70 the tests
 * use); further rows are added with 添加日程, as a clerk would. */
export async function fillGroupExtras(page, size = '2', itinerary = [{ day: 61, city: '常州', activity: '技术交流', host: '常州某公司' }]) {
  await field(page, '团组人数').fill(String(size));
  for (const [i, row] of itinerary.entries()) {
    const n = i + 1;
    if (i > 0 && (await page.getByLabel(`日程${n} 日期`).count()) === 0) {
      await page.getByRole('button', { name: '添加日程' }).click();
    }
    await page.getByLabel(`日程${n} 日期`).fill(isoDaysFromNow(row.day));
    await page.getByLabel(`日程${n} 城市`).fill(row.city);
    await page.getByLabel(`日程${n} 活动内容`).fill(row.activity);
    await page.getByLabel(`日程${n} 接待单位`).fill(row.host);
  }
}

/** Chooses a file for the upload labelled 选择<what>; the page's script uploads it at once
 * (no page load) and says 已上传 beside it. */
export async function uploadRow(page, what, file) {
  const input = page.getByLabel(`选择${what}`);
  await input.setInputFiles(file);
  const status = await uploadAnswer(page, input);
  await see(status.getByText('已上传：'));
}

/** 【打印】: the button opens the PDF in a new tab (Chromium's viewer shows it); the same form
 * request, sent again with the page's cookies and token, gives the PDF bytes to check. */
export async function printPdf(page, work) {
  const context = page.context();
  const opened = context.waitForEvent('response', { predicate: (r) => r.url().endsWith('/print'), timeout: 20_000 });
  const button = page.getByRole('button', { name: '【打印】' }).first();
  const form = button.locator('xpath=ancestor::form');
  const action = await form.getAttribute('action');
  const csrf = await form.locator('input[name=csrf]').inputValue();
  await button.click();
  const response = await opened;
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-type'], 'application/pdf');
  for (const p of context.pages()) if (p !== page) await p.close().catch(() => {});
  const again = await page.request.post(action, { form: { csrf } });
  assert.equal(again.status(), 200);
  const file = path.join(work, `form-${Date.now()}.pdf`);
  writeFileSync(file, await again.body());
  return file;
}

/** Ticks the unit's confirmation that its visitors were told the 个人信息处理规则 (issue 18). */
export async function confirmInformed(page) {
  await page.getByRole('checkbox', { name: /告知全部来访人员/ }).check();
}

/** The group form filled for two visitors (LISA MOHAMODE and JOHN SMITH), saved; returns its
 * number. Options: `size` (团组人数), `itinerary` (rows of { day, city, activity, host }, days
 * from today), `passports` (the two visitors' passport numbers). */
export async function newGroupOfTwo(page, { size = 2, itinerary, passports = ['E12345678', 'C01X00T47'] } = {}) {
  await page.getByRole('navigation', { name: '功能菜单' }).getByRole('link', { name: '来华申报' }).click();
  await page.getByRole('link', { name: '团组申报' }).click();
  await page.getByRole('link', { name: '我已阅读，确认继续' }).click();
  await field(page, '团组名称').fill('美国客户技术交流团');
  await field(page, '来华事由').selectOption({ label: '商务洽谈' });
  await field(page, '计划入境日期').fill(isoDaysFromNow(60));
  await field(page, '计划出境日期').fill(isoDaysFromNow(70));
  await field(page, '访问地点').fill('常州、苏州');
  await field(page, '费用承担').selectOption({ label: '邀请单位承担' });
  await field(page, '签证申办国家（地区）').selectOption({ label: '美国' });
  await field(page, '签证申办使领馆').selectOption({ label: '中国驻纽约总领事馆' });
  await fillGroupExtras(page, size, itinerary);
  await fillVisitor(page, 1, { given: 'LISA MOHAMODE', sex: '女', birth: '1985-05-05', nationality: '美国（USA）', passport: passports[0], expiry: isoDaysFromNow(3000), employer: 'ACME Corp.', position: 'Engineer', employerAddress: '1585 Broadway' });
  await page.getByRole('button', { name: '添加到访人员' }).click();
  await fillVisitor(page, 2, { surname: 'SMITH', given: 'JOHN', sex: '男', birth: '1979-03-03', nationality: '德国（DEU）', passport: passports[1], expiry: isoDaysFromNow(3000), employer: 'Beispiel GmbH', position: 'Manager', employerCity: 'Berlin' });
  await confirmInformed(page);
  await page.getByRole('button', { name: '【保存】' }).click();
  await seeText(page, '已保存。');
  const heading = await page.getByRole('heading', { level: 1 }).textContent();
  return heading.match(/\d{8}/)[0];
}

/** Clicks the button of an irreversible action, then, on the page that says what will happen
 * ("请确认：…"), its 【确认…】 button (issue 17). */
export async function clickConfirmed(page, button) {
  await page.getByRole('button', { name: button }).click();
  await see(page.getByRole('heading', { name: /^请确认：/ }));
  await page.getByRole('button', { name: /^【确认/ }).click();
}

/** Staff: 团组待办 → the group → a button, confirmed; waits for the flash message. */
export async function actOnGroup(page, number, button, confirmation) {
  await page.getByRole('link', { name: /^团组待办/ }).click();
  await page.getByRole('row').filter({ hasText: number }).getByRole('link', { name: '办理' }).click();
  await clickConfirmed(page, button);
  await seeText(page, confirmation);
}

/** Uploads the passports of LISA MOHAMODE and SMITH JOHN and the clerk's ID, 【打印】s (returns
 * the PDF's path), uploads the stamped form and 【提交】s. */
export async function printUploadSubmit(page, work) {
  await uploadRow(page, 'LISA MOHAMODE的护照首页', pdfFile('passport 1'));
  await uploadRow(page, 'SMITH JOHN的护照首页', png());
  await uploadRow(page, '经办人身份证复印件（加盖单位公章）', pdfFile('clerk id'));
  const printed = await printPdf(page, work);
  await page.reload();
  await uploadRow(page, '盖章签字的申请表扫描件', pdfFile('stamped'));
  await clickConfirmed(page, '【提交】');
  await seeText(page, '团组已提交');
  return printed;
}

/** City, on an accepted group's page: 【上报外交部】 with `verification`, then 【发件】 a letter. */
export async function reportAndDispatch(page, verification) {
  await field(page, '核实单号').fill(verification);
  await clickConfirmed(page, '【上报外交部】');
  await seeText(page, '已上报外交部。');
  await field(page, '邀请函').setInputFiles(pdfFile('ministry letter'));
  await page.getByLabel(/确认发件/).check();
  await page.getByRole('button', { name: '【发件】' }).click();
  await seeText(page, '已发件');
}

// ---------------------------------------------------------------------------------------------
// The keyboard alone (issue 17): the focus moves with Tab, fields are typed into, lists are
// chosen with the arrow keys or the type-to-find field, buttons and links are pressed with
// Enter, check boxes with Space, and a file input opens the file chooser with Space.

/** The focused element: its name as assistive technology reads it (aria-label, its label, or
 * its text) and the text of the row, list item or fieldset around it. */
async function focused(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return { name: '', around: '' };
    const labelled = e.getAttribute('aria-labelledby');
    const name = (labelled
      ? labelled.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ')
      : e.getAttribute('aria-label') || (e.labels && e.labels.length ? e.labels[0].textContent : '')
        || (e.tagName === 'INPUT' ? e.value : e.textContent) || '');
    const box = e.closest('tr, li, fieldset');
    return { name: name.replace(/\s+/g, ' ').trim(), around: box ? box.textContent.replace(/\s+/g, ' ') : '' };
  });
}

const called = (name, want) => (want instanceof RegExp ? want.test(name) : name.replace(/\s*\*$/, '') === want);

/**
 * Presses Tab (Shift+Tab with `back`) until the focused element is called `want` (its whole
 * name without the required mark, or a RegExp) and, with `within`, sits in a row, list item
 * or fieldset whose text contains `within`. The focused element itself counts when it matches.
 */
export async function tabTo(page, want, { within, back = false, max = 250 } = {}) {
  const ok = (f) => called(f.name, want) && (!within || f.around.includes(within));
  if (ok(await focused(page))) return;
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (ok(await focused(page))) return;
  }
  const f = await focused(page);
  throw new Error(`Tab did not reach «${want}»${within ? ` in «${within}»` : ''} in ${max} presses (focus on «${f.name}»)`);
}

/** Tab to the field `label` and type `text` over what it holds. */
export async function typeInto(page, label, text, opts) {
  await tabTo(page, label, opts);
  const kind = await page.evaluate(() => document.activeElement.type);
  if (kind === 'date') {
    // Chromium's date field takes the digits part by part and moves on by itself when a part
    // is complete; the order of the parts is that of the browser's own language (en-US here:
    // month, day, year; the value checked below tells if another browser differs).
    const [y, m, d] = text.split('-');
    await page.keyboard.type(`${m}${d}${y}`);
  } else {
    await page.keyboard.press('Control+A');
    await page.keyboard.type(text);
  }
  const value = await page.evaluate(() => document.activeElement.value);
  assert.equal(value, text, `typed into ${label}`);
}

/** Tab to the list `label` and choose `option` with the arrow keys. */
export async function chooseByArrows(page, label, option, opts) {
  await tabTo(page, label, opts);
  const chosen = () => page.evaluate(() => {
    const s = document.activeElement;
    return s.selectedIndex >= 0 ? s.options[s.selectedIndex].textContent.trim() : '';
  });
  for (const key of ['ArrowDown', 'ArrowUp']) {
    let last = null;
    for (let i = 0; i < 400; i++) {
      const now = await chosen();
      if (now === option) return;
      if (now === last) break;
      last = now;
      await page.keyboard.press(key);
    }
  }
  throw new Error(`${label}: no option «${option}» by the arrow keys`);
}

/** Types `query` into the type-to-find field of the list `label`; the best match must be
 * `option`. */
export async function findInList(page, label, query, option, opts) {
  await tabTo(page, new RegExp(`^查找：${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), opts);
  await page.keyboard.press('Control+A');
  await page.keyboard.type(query);
  const chosen = await page.evaluate(() => {
    const s = document.getElementById(document.activeElement.getAttribute('aria-controls'));
    return s.options[s.selectedIndex].textContent.trim();
  });
  assert.equal(chosen, option, `${label}: «${query}» finds ${option}`);
}

/** Presses `key` (Enter by default) on the focused element and waits for the page it loads. */
export async function pressAndLoad(page, key = 'Enter') {
  const loaded = page.waitForEvent('load');
  await page.keyboard.press(key);
  await loaded;
}

/** Tab to the button or link `name` and press Enter; waits for the page it loads. */
export async function activate(page, name, opts) {
  await tabTo(page, name, opts);
  await pressAndLoad(page);
}

/** Tab to the file input `选择<what>…` (or called `what` when a RegExp), open the file chooser
 * with Space and choose `file`. */
export async function chooseFileByKeyboard(page, what, file) {
  await tabTo(page, what instanceof RegExp ? what : new RegExp(`^选择${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // Headless Chromium now and then does not open the chooser on the first key press (the
  // input has the focus, nothing else happens): the key is pressed again, as a person would.
  for (let attempt = 1; ; attempt++) {
    const chooser = page.waitForEvent('filechooser', { timeout: 3_000 }).catch(() => null);
    await page.keyboard.press(attempt % 2 ? 'Space' : 'Enter');
    const opened = await chooser;
    if (opened) {
      await opened.setFiles(file);
      return;
    }
    if (attempt === 6) throw new Error(`no file chooser opened on ${what}`);
    // A busy machine: give the page a moment before the next press.
    await page.waitForTimeout(500);
  }
}

/** Signs in on the login page by keyboard. */
export async function signInByKeyboard(page, loginId, password) {
  await page.goto('/login');
  await typeInto(page, '登录ID', loginId);
  await typeInto(page, '密码', password);
  await pressAndLoad(page);
  await see(page.getByRole('button', { name: '注销' }));
}

/** 注销 by keyboard. */
export async function signOutByKeyboard(page) {
  await activate(page, '注销');
  await see(page.getByRole('heading', { name: '用户登录' }));
}
