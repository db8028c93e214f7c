// The admin page in a real browser: Debian's headless Chromium, driven by playwright-core,
// against a real `clientele serve` on a fresh SQLite file. An API client is made with
// `clientele api-client create`, customers are seeded over HTTP, and the page is used as a
// person would: sign in, search, open a customer, edit a field, see the new Message, and get
// a 409 on a stale edit without losing it. Every request the browser makes must go to the
// server under test, and the page must log no error (a CSP violation would).
//
// Needs: the clientele binary (CLIENTELE_BIN, default target/debug/clientele of this workspace)
// and /usr/bin/chromium (CHROMIUM to override). Run: npm ci && npm test (in this folder).
// SCREENSHOT_DIR=dir saves a screenshot of the customer view there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.CLIENTELE_BIN || resolve(here, '../../../../target/debug/clientele');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PROJECT = 'demo';

let dir;
let server;
let base;
let client;
let token;
let context;
let page;
const foreignRequests = [];
const pageErrors = [];

/** Runs a CLI command of the binary on the test's database; resolves to stdout. */
async function cli(args) {
  const { stdout } = await promisify(execFile)(BIN, args, {
    env: { ...process.env, RUST_LOG: 'warn' },
    timeout: 30_000,
  });
  return stdout;
}

/** Starts `clientele serve` on a free loopback port and waits for `listening on …`. */
function serve(database) {
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--database', database, '--hash-workers', '1', '--hash-queue-wait', '120'], {
    env: { ...process.env, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveBase, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not listen in 60 s:\n${out}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveBase({ child, base: m[1] });
      }
    });
  });
}

/** Waits until the list's summary line reads `text`. */
function summary(text) {
  return page.locator('#list-summary', { hasText: text }).waitFor();
}

/** A JSON API call with the test's own token (the page's back is turned). */
async function api(method, path, body) {
  const response = await fetch(`${base}/${PROJECT}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

before(async () => {
  assert.ok(existsSync(BIN), `no clientele binary at ${BIN}: build it (cargo build) or set CLIENTELE_BIN`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium`);
  dir = await mkdtemp(join(tmpdir(), 'clientele-admin-browser-'));
  const database = `sqlite://${join(dir, 'admin.db')}`;
  ({ child: server, base } = await serve(database));
  client = JSON.parse(await cli(['api-client', 'create', '--project', PROJECT, '--scope', `manage_project:${PROJECT}`, '--database', database]));

  const tokenResponse = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  token = (await tokenResponse.json()).access_token;
  assert.ok(token, 'the test gets a token');

  await api('POST', '/stores', { key: 'eu-shop', name: { en: 'EU shop' } });
  await api('POST', '/customer-groups', { groupName: 'VIP', key: 'vip' });
  await api('POST', '/types', {
    key: 'loyalty',
    name: { en: 'Loyalty' },
    resourceTypeIds: ['customer'],
    fieldDefinitions: [
      { name: 'note', label: { en: 'Note' }, required: false, inputHint: 'SingleLine', type: { name: 'String' } },
    ],
  });
  await api('POST', '/customers', {
    email: 'jane@example.com',
    password: 'secret123',
    firstName: 'Jane',
    lastName: 'Doe',
    companyName: 'Acme',
    key: 'jane',
    stores: [{ typeId: 'store', key: 'eu-shop' }],
    customerGroup: { typeId: 'customer-group', key: 'vip' },
    custom: { type: { typeId: 'type', key: 'loyalty' }, fields: { note: 'Prefers email' } },
    addresses: [
      { key: 'home', firstName: 'Jane', lastName: 'Doe', streetName: 'Main Street', streetNumber: '1', postalCode: '10115', city: 'Berlin', country: 'DE' },
      { key: 'office', company: 'Acme', streetName: 'Market Square', streetNumber: '7', postalCode: '20095', city: 'Hamburg', country: 'DE' },
    ],
    defaultShippingAddress: 0,
    defaultBillingAddress: 1,
  });
  await api('POST', '/customers', { email: 'john@example.com', authenticationMode: 'ExternalAuth', firstName: 'John', lastName: 'Smith' });
  // Markup in data must show as text, never become elements.
  await api('POST', '/customers', {
    email: 'mallory@example.com',
    authenticationMode: 'ExternalAuth',
    firstName: '<img src=x id=injected>',
    lastName: 'Mallory',
  });

  const profile = join(dir, 'profile');
  await mkdir(profile);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    timeout: 60_000,
  });
  context.setDefaultTimeout(15_000);
  context.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${base}/`) && !url.startsWith('data:')) foreignRequests.push(url);
  });
  page = context.pages()[0] || (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
});

after(async () => {
  await context?.close().catch(() => {});
  server?.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('sign in with client credentials; only the token is kept', async () => {
  await page.goto(`${base}/-/admin`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Client ID').fill(client.clientId);
  await page.getByLabel('Client secret').fill('wrong');
  await page.getByLabel('Client secret').press('Enter');
  await page.getByText('Sign-in failed: unknown client id or wrong secret.').waitFor();

  await page.getByLabel('Client secret').fill(client.clientSecret);
  await page.getByLabel('Client secret').press('Enter');
  await page.getByRole('heading', { name: 'Customers' }).waitFor();
  // The project came from the client's scope.
  assert.equal(await page.locator('#session-info strong').textContent(), PROJECT);
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
  assert.ok(!stored.includes(client.clientSecret), 'the secret is not stored');
  const session = await page.evaluate(() => JSON.parse(sessionStorage.getItem('clientele-admin-session')));
  assert.equal(session.project, PROJECT);
  assert.ok(session.token);
  assert.equal(await page.locator('tbody tr').count(), 3);
  assert.match(await page.locator('#list-summary').textContent(), /^3 customers$/);
});

test('data is shown as text', async () => {
  await page.getByRole('link', { name: 'mallory@example.com' }).waitFor();
  assert.equal(await page.locator('#injected').count(), 0);
  await page.getByRole('cell', { name: '<img src=x id=injected> Mallory' }).waitFor();
});

test('paging and sorting', async () => {
  await page.getByLabel('Per page').selectOption('10');
  await page.getByLabel('Sort').selectOption('email asc');
  await page.locator('tbody tr').first().getByRole('link', { name: 'jane@example.com' }).waitFor();
  assert.equal(await page.locator('.pager .range').textContent(), '1–3 of 3');
  assert.ok(await page.getByRole('button', { name: 'Next →' }).isDisabled());
  assert.match(page.url(), /sort=email\+asc/);
});

test('search from the keyboard by email (any case) and by name', async () => {
  await page.getByRole('heading', { name: 'Customers' }).focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
  // The focus ring is visible for keyboard users.
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'solid');
  await page.keyboard.type('JOHN@example.com');
  await page.keyboard.press('Enter');
  await summary('1 customer matching “JOHN@example.com”');
  assert.equal(await page.locator('tbody tr').count(), 1);
  await page.getByRole('link', { name: 'john@example.com' }).waitFor();

  await page.getByLabel('Find customers').fill('jane doe');
  await page.getByRole('button', { name: 'Search' }).click();
  await summary('1 customer matching “jane doe”');
  await page.getByRole('link', { name: 'jane@example.com' }).waitFor();

  await page.getByLabel('Find customers').fill('nobody');
  await page.keyboard.press('Enter');
  await page.getByText('No customer found.').waitFor();
  await page.getByLabel('Find customers').fill('Jane');
  await page.keyboard.press('Enter');
  await summary('1 customer matching “Jane”');
});

test('open a customer: facts, addresses, stores, group, custom fields, messages', async () => {
  await page.getByRole('link', { name: 'jane@example.com' }).click();
  await page.getByRole('heading', { name: 'Jane Doe', level: 1 }).waitFor();
  assert.equal(await page.locator('#customer-version').textContent(), '1');
  const addresses = page.locator('.cards .card');
  assert.equal(await addresses.count(), 2);
  assert.match(await addresses.nth(0).textContent(), /default shipping.*Main Street 1.*10115 Berlin/s);
  assert.match(await addresses.nth(1).textContent(), /default billing.*Market Square 7/s);
  await page.locator('ul.inline code', { hasText: 'eu-shop' }).waitFor();
  await page.getByText('VIP (key vip)').waitFor();
  await page.locator('.facts dd', { hasText: 'Prefers email' }).waitFor();
  await page.locator('#timeline .message[data-type="CustomerCreated"]').waitFor();
  assert.match(await page.locator('#timeline-summary').textContent(), /^1 message, oldest first\.$/);
});

test('edit a field: saved with the version, the new Message appears', async () => {
  await page.getByLabel('First name').fill('Janet');
  await page.getByLabel('First name').press('Enter');
  await page.getByText('Saved. The customer is now at version 2.').waitFor();
  await page.getByRole('heading', { name: 'Janet Doe', level: 1 }).waitFor();
  const message = page.locator('#timeline .message[data-type="CustomerFirstNameSet"]');
  await message.waitFor();
  assert.match(await message.textContent(), /#2.*version 2.*firstName: Janet/s);
  assert.equal((await api('GET', '/customers/key=jane')).firstName, 'Janet');
  if (process.env.SCREENSHOT_DIR) {
    await mkdir(process.env.SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, 'customer.png'), fullPage: true });
  }
});

test('a stale edit gets the 409 shown, keeps the edit and can be saved on the new version', async () => {
  // Someone else changes the last name behind the page's back.
  const current = await api('GET', '/customers/key=jane');
  await api('POST', `/customers/${current.id}`, {
    version: current.version,
    actions: [{ action: 'setLastName', lastName: 'Dough' }],
  });

  await page.getByLabel('Company').fill('Acme Two');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const conflict = page.locator('.conflict[role="alert"]');
  await conflict.waitFor();
  const text = await conflict.textContent();
  assert.match(text, /409 ConcurrentModification/);
  assert.match(text, /made on version 2; the customer is now at version 3/);
  assert.match(text, /Last name is now “Dough” \(was “Doe”\)/);
  assert.equal(await page.getByLabel('Company').inputValue(), 'Acme Two', 'the edit is kept');
  if (process.env.SCREENSHOT_DIR) {
    await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, 'conflict.png') });
  }
  // The other change's Message is in the timeline already.
  await page.locator('#timeline .message[data-type="CustomerLastNameSet"]').waitFor();
  assert.equal((await api('GET', '/customers/key=jane')).companyName, 'Acme', 'nothing saved');

  await page.getByRole('button', { name: 'Save my edits on version 3' }).click();
  await page.getByText('Saved. The customer is now at version 4.').waitFor();
  const saved = await api('GET', '/customers/key=jane');
  assert.equal(saved.companyName, 'Acme Two');
  assert.equal(saved.lastName, 'Dough', 'the other change is kept');
  await page.locator('#timeline .message[data-type="CustomerCompanyNameSet"]').waitFor();
  assert.equal(await page.locator('#timeline .message').count(), 4);
});

test('an edit the API refuses shows its error and keeps the edit', async () => {
  await page.getByLabel('Email').fill('john@example.com');
  await page.getByLabel('Email').press('Enter');
  const error = page.locator('#save-result .error[role="alert"]');
  await error.waitFor();
  assert.match(await error.textContent(), /^Not saved: DuplicateField: /);
  assert.equal(await page.getByLabel('Email').inputValue(), 'john@example.com');
  assert.equal(await page.locator('#customer-version').textContent(), '4');
  assert.equal((await api('GET', '/customers/key=jane')).email, 'jane@example.com');
});

test('back to the list as it was left', async () => {
  await page.getByRole('link', { name: '← Customers' }).click();
  // The same search, which now finds nobody (she is Janet now).
  await summary('0 customers matching “Jane”');
  assert.equal(await page.getByLabel('Find customers').inputValue(), 'Jane');
});

test('a refused token brings back the sign-in form', async () => {
  await page.evaluate(() => {
    const key = 'clientele-admin-session';
    const session = JSON.parse(sessionStorage.getItem(key));
    sessionStorage.setItem(key, JSON.stringify({ ...session, token: 'not-a-token' }));
  });
  await page.reload();
  await page.getByText('Your session has ended (the token was refused). Sign in again.').waitFor();
  assert.equal(await page.locator('#sign-in').count(), 1);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  // Signing in again returns to where the person was.
  await page.getByLabel('Client ID').fill(client.clientId);
  await page.getByLabel('Client secret').fill(client.clientSecret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await summary('0 customers matching “Jane”');
});

test('sign out forgets the token', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test('the browser asked no other origin and logged no error', () => {
  assert.deepEqual(foreignRequests, []);
  // Chromium logs every error answer; the expected ones are the failed sign-in's and the
  // refused token's 401, the stale edit's 409 and the duplicate email's 400.
  const unexpected = pageErrors.filter((e) => !/status of (400|401|409)/.test(e));
  assert.deepEqual(unexpected, []);
});
