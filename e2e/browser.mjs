// Drives Debian's Chromium through Swagger UI and RapiDoc as a person would,
// and calls the API from a web app on other origins, as a browser does.
//
//   node e2e/browser.mjs BASE_URL TOKEN SCREENSHOT_DIR LISTED_ORIGIN UNLISTED_ORIGIN
//
// Swagger UI: every tag of the spec is shown; Authorize with a real token;
// GET /v1/me -> Try it out -> Execute answers 200. RapiDoc: every operation
// of the spec renders. Requests to anything but 127.0.0.1 are blocked and
// reported.
//
// CORS: e2e/cors-page.html is served on LISTED_ORIGIN (in Tally's
// TALLY_CORS_ORIGINS) and on UNLISTED_ORIGIN (not in it), both
// http://127.0.0.1:<port>. From the listed origin, the page's own fetch calls
// (preflighted: Authorization, JSON, Idempotency-Key, If-Match, PATCH)
// succeed and its script reads Location, X-Request-Id, ETag, Link and
// Idempotent-Replayed; from the unlisted origin the same calls fail with a
// TypeError and Chromium reports a CORS refusal, and nothing is created.
// That page runs in a context of its own without request interception:
// Playwright answers CORS preflights itself while a route is set, which
// would hide Tally's. Prints one summary line; exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [base, token, shots, listedOrigin, unlistedOrigin] = process.argv.slice(2);
if (!unlistedOrigin) {
  throw new Error('usage: node e2e/browser.mjs BASE_URL TOKEN SCREENSHOT_DIR LISTED_ORIGIN UNLISTED_ORIGIN');
}
mkdirSync(shots, { recursive: true });

const spec = await (await fetch(`${base}/openapi.json`)).json();
const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((m) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(m))
    .map((method) => ({ path, method, ...item[method] })));
const tags = [...new Set([...(spec.tags ?? []).map((t) => t.name), ...operations.flatMap((o) => o.tags ?? [])])];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
context.setDefaultTimeout(20_000);

// Loopback only: anything else is aborted and reported.
let current = 'start';
const blocked = new Set();
await context.route('**/*', (route) => {
  const url = new URL(route.request().url());
  if (url.hostname === '127.0.0.1') return route.continue();
  blocked.add(`${current}: ${url.protocol}//${url.host}`);
  return route.abort();
});
const pageErrors = [];

async function step(name, fn) {
  try {
    return await fn();
  } catch (error) {
    throw new Error(`${name}: ${error.message.split('\n')[0]}`);
  }
}

// Swagger UI and RapiDoc, then CORS: each part runs even when the other fails.
const passed = [];
const failed = [];
try {
  for (const check of [docsCheck, corsCheck]) {
    try {
      passed.push(await check());
    } catch (error) {
      console.error(error);
      failed.push(error.message.split('\n')[0]);
    }
  }
} finally {
  await browser.close();
}
const notes = [];
if (blocked.size) notes.push(`blocked off-host requests (${[...blocked].join(', ')})`);
if (pageErrors.length) notes.push(`page errors (${[...new Set(pageErrors)].join(', ')})`);
console.log(`browser: ${[...failed, ...passed].join('; ')}` + (notes.length ? `; note: ${notes.join('; ')}` : ''));
if (failed.length) process.exitCode = 1;

// --- Swagger UI and RapiDoc, as a person uses them ---------------------------
async function docsCheck() {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${current}: ${e.message}`));

  // --- Swagger UI ---
  current = 'swagger-ui';
  await step('swagger-ui loads', () => page.goto(`${base}/swagger-ui/`));
  await step('swagger-ui renders the spec', () => page.locator('.opblock-tag').first().waitFor());
  const shownTags = await page.locator('.opblock-tag').evaluateAll((els) => els.map((e) => e.dataset.tag));
  const missingTags = tags.filter((t) => !shownTags.includes(t));
  if (missingTags.length) throw new Error(`swagger-ui: tags not shown: ${missingTags.join(', ')}`);
  const shownOps = await page.locator('.opblock').count();
  if (shownOps !== operations.length) {
    throw new Error(`swagger-ui: ${shownOps} operations shown, spec has ${operations.length}`);
  }
  await page.screenshot({ path: join(shots, 'swagger-1-overview.png'), fullPage: true });

  await step('Authorize', async () => {
    await page.locator('.auth-wrapper button.authorize').click();
    const modal = page.locator('.modal-ux');
    await modal.locator('input').first().fill(token);
    await modal.locator('button.authorize').click();
    await modal.locator('h6', { hasText: 'Authorized' }).waitFor();
    await page.screenshot({ path: join(shots, 'swagger-2-authorized.png') });
    await modal.locator('button.btn-done').click();
  });

  const meOp = operations.find((o) => o.method === 'get' && o.path === '/v1/me');
  if (!meOp) throw new Error('the spec has no GET /v1/me');
  const me = page.locator(`[id="operations-${meOp.tags[0]}-${meOp.operationId}"]`);
  const answer = await step('GET /v1/me: Try it out, Execute', async () => {
    await me.locator('.opblock-summary').click();
    await me.locator('.try-out__btn').click();
    const response = page.waitForResponse((r) => r.request().method() === 'GET' && r.url() === `${base}/v1/me`);
    await me.locator('button.execute').click();
    return response;
  });
  const sent = await answer.request().allHeaders();
  if (sent.authorization !== `Bearer ${token}`) throw new Error('swagger-ui: Execute sent no bearer token');
  const status = me.locator('.live-responses-table tbody .response-col_status').first();
  await step('GET /v1/me shows its response', () => status.waitFor());
  const shownStatus = (await status.innerText()).trim();
  await me.screenshot({ path: join(shots, 'swagger-3-me-200.png') });
  if (answer.status() !== 200 || shownStatus !== '200') {
    throw new Error(`swagger-ui: GET /v1/me answered ${answer.status()}, shown as ${shownStatus}`);
  }
  const body = JSON.parse(await me.locator('.live-responses-table tbody .response-col_description pre').first().innerText());
  if (typeof body.email !== 'string' || !Array.isArray(body.accounts)) {
    throw new Error(`swagger-ui: GET /v1/me body is not a Me: ${JSON.stringify(body)}`);
  }

  // --- RapiDoc (shadow DOM: Playwright's CSS locators pierce open shadow roots) ---
  current = 'rapidoc';
  await step('rapidoc loads', () => page.goto(`${base}/rapidoc/`));
  const idOf = (o) => `${o.method}-${o.path.replace(/[\s#:?&={}]/g, '-')}`;
  await step('rapidoc renders the spec', () => page.locator(`rapi-doc [id="${idOf(operations[0])}"]`).waitFor());
  const missingOps = [];
  for (const o of operations) {
    if ((await page.locator(`rapi-doc [id="${idOf(o)}"]`).count()) !== 1) missingOps.push(`${o.method.toUpperCase()} ${o.path}`);
  }
  await page.screenshot({ path: join(shots, 'rapidoc.png') });
  if (missingOps.length) throw new Error(`rapidoc: operations not rendered: ${missingOps.join(', ')}`);

  await page.close();
  return `swagger-ui ${tags.length}/${tags.length} tags, ${shownOps} operations, ` +
    `Authorize + GET /v1/me -> 200; rapidoc ${operations.length}/${operations.length} operations`;
}

// --- CORS: a web app on another origin --------------------------------------
async function corsCheck() {
  const html = readFileSync(new URL('./cors-page.html', import.meta.url));
  const servers = [];
  for (const origin of [listedOrigin, unlistedOrigin]) {
    const { hostname, port } = new URL(origin);
    const server = createServer((req, res) => {
      if (req.url !== '/') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    });
    await new Promise((resolve, reject) => server.once('error', reject).listen(Number(port), hostname, resolve));
    servers.push(server);
  }
  const web = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  web.setDefaultTimeout(20_000);
  const offHost = new Set();
  web.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1') offHost.add(`${url.protocol}//${url.host}`);
  });
  try {
    const listed = await corsListed(web);
    const unlisted = await corsUnlisted(web);
    if (offHost.size) throw new Error(`cors: the page reached off-host: ${[...offHost].join(', ')}`);
    return `cors from pages on other origins: ${listed}; ${unlisted}`;
  } finally {
    await web.close();
    for (const server of servers) server.close();
  }
}

function fail(what, result) {
  throw new Error(`cors: ${what}: ${JSON.stringify(result).slice(0, 400)}`);
}

// Preflights Tally answered (the OPTIONS route's 204s, from /metrics).
async function preflights() {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n')
    .filter((l) => l.startsWith('tally_http_requests_total{') && l.includes('method="OPTIONS"') && l.includes('status="204"'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

async function accounts() {
  const response = await fetch(`${base}/v1/accounts?limit=200`, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`cors: GET /v1/accounts from node answered ${response.status}`);
  return (await response.json()).items;
}

async function corsListed(web) {
  const page = await web.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Chromium logs every 4xx a fetch gets; the statuses are checked below.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/the server responded with a status of 4\d\d/.test(m.text())) errors.push(m.text());
  });
  await step('cors: the listed page loads', () => page.goto(`${listedOrigin}/`));
  const before = await preflights();
  const r = await step('cors: the listed page runs', () => page.evaluate(([b, t]) => window.listed(b, t), [base, token]));
  const answered = (await preflights()) - before;
  await page.screenshot({ path: join(shots, 'cors-1-listed-origin.png'), fullPage: true });

  const id = r.create.body?.id;
  if (r.create.status !== 201 || !id) fail('POST /v1/accounts from the listed origin', r.create);
  if (!r.create.headers.Location?.endsWith(`/v1/accounts/${id}`)) fail('Location not readable', r.create);
  if (!r.create.headers['X-Request-Id']) fail('X-Request-Id not readable', r.create);
  if (!r.create.headers.ETag) fail('ETag not readable after POST', r.create);
  if (r.second.status !== 201) fail('the second POST /v1/accounts', r.second);
  if (r.view.status !== 200 || r.view.body?.id !== id || !r.view.headers.ETag) fail('GET at the Location', r.view);
  if (r.movement.status !== 201 || r.movement.headers['Idempotent-Replayed'] === 'true') fail('POST movements with Idempotency-Key', r.movement);
  if (r.replay.status !== 201 || r.replay.headers['Idempotent-Replayed'] !== 'true' || r.replay.body?.id !== r.movement.body?.id) {
    fail('the replay: Idempotent-Replayed not readable', r.replay);
  }
  if (r.invalid.status !== 422 || r.invalid.body?.errors?.length !== 2 || !r.invalid.headers['X-Request-Id']) {
    fail('a 422 problem is not readable', r.invalid);
  }
  if (r.page.status !== 200 || !/rel="next"/.test(r.page.headers.Link ?? '')) fail('GET /v1/accounts?limit=1: Link not readable', r.page);
  if (r.next.status !== 200 || r.next.body?.items?.length !== 1 || r.next.body.items[0].id === r.page.body.items[0].id) {
    fail('following the Link', r.next);
  }
  if (r.rename.status !== 200 || r.rename.body?.name !== 'Renamed from the web app' || r.rename.headers.ETag === r.view.headers.ETag) {
    fail('PATCH with If-Match', r.rename);
  }
  if (errors.length) fail('errors on the listed page', errors);
  // The browser must have asked: POST with JSON and Authorization, PATCH and
  // If-Match are not simple requests. Each distinct URL is one preflight.
  if (answered < 4) fail(`${answered} preflights reached Tally, expected at least 4`, r);
  const n = Object.keys(r).length;
  return `listed origin: ${n}/${n} fetch calls answered as expected (a 422 problem too) after ${answered} preflights, ` +
    'Location, X-Request-Id, ETag, Link, Idempotent-Replayed readable';
}

async function corsUnlisted(web) {
  const page = await web.newPage();
  const refusals = [];
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (m.text().includes('blocked by CORS policy')) refusals.push(m.text());
    else if (!/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  const owned = (await accounts()).length;
  await step('cors: the unlisted page loads', () => page.goto(`${unlistedOrigin}/`));
  const r = await step('cors: the unlisted page runs', () => page.evaluate(([b, t]) => window.unlisted(b, t), [base, token]));
  const reported = (what) => refusals.some((m) => m.includes(`${base}${what}`));
  for (let i = 0; i < 20 && !['/v1/accounts', '/v1/me', '/health'].every(reported); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100)); // console messages trail the fetch
  }
  await page.screenshot({ path: join(shots, 'cors-2-unlisted-origin.png'), fullPage: true });

  for (const [name, result] of Object.entries(r)) {
    if (result.error !== 'TypeError') fail(`${name} from the unlisted origin was not refused`, result);
  }
  // Chromium says why, once per refused request.
  for (const what of ['/v1/accounts', '/v1/me', '/health']) {
    if (!reported(what)) fail(`no CORS refusal reported for ${what}`, refusals);
  }
  if (errors.length) fail('other errors on the unlisted page', errors);
  console.error(`cors: Chromium on the unlisted origin: ${refusals[0]}`);
  if ((await accounts()).length !== owned) fail('the refused POST created an account', r);
  const n = Object.keys(r).length;
  return `unlisted origin: ${n}/${n} fetch calls refused by Chromium (TypeError, CORS), nothing created`;
}
