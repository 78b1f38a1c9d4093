// Drives Debian's Chromium through Swagger UI and RapiDoc as a person would.
//
//   node e2e/browser.mjs BASE_URL TOKEN SCREENSHOT_DIR
//
// Swagger UI: every tag of the spec is shown; Authorize with a real token;
// GET /v1/me -> Try it out -> Execute answers 200. RapiDoc: every operation
// of the spec renders. Requests to anything but 127.0.0.1 are blocked and
// reported. Prints one summary line; exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, token, shots] = process.argv.slice(2);
if (!shots) throw new Error('usage: node e2e/browser.mjs BASE_URL TOKEN SCREENSHOT_DIR');
mkdirSync(shots, { recursive: true });

const spec = await (await fetch(`${base}/openapi.json`)).json();
const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((m) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(m))
    .map((method) => ({ path, method, ...item[method] })));
const tags = [...new Set([...(spec.tags ?? []).map((t) => t.name), ...operations.flatMap((o) => o.tags ?? [])])];

const profile = mkdtempSync(join(tmpdir(), 'tally-e2e-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
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

try {
  const page = context.pages()[0] ?? (await context.newPage());
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

  const notes = [];
  if (blocked.size) notes.push(`blocked off-host requests (${[...blocked].join(', ')})`);
  if (pageErrors.length) notes.push(`page errors (${[...new Set(pageErrors)].join(', ')})`);
  console.log(`browser: swagger-ui ${tags.length}/${tags.length} tags, ${shownOps} operations, ` +
    `Authorize + GET /v1/me -> 200; rapidoc ${operations.length}/${operations.length} operations` +
    (notes.length ? `; note: ${notes.join('; ')}` : ''));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
