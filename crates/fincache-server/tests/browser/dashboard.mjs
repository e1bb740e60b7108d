// Drives the FinCache dashboard in Debian's chromium (headless) with playwright-core:
// the page loads, the charts update, a command typed in the console runs, the key it wrote
// appears in the key browser with its value, and a message published in the Pub/Sub monitor
// comes back over the WebSocket. Run by tests/http_dashboard.rs:
//
//   node dashboard.mjs http://127.0.0.1:PORT SCREENSHOT.png
//
// Prints one "ok: <step>" line per step; exits 1 with the reason on failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, screenshot] = process.argv.slice(2);
if (!base || !screenshot) {
  console.error('usage: node dashboard.mjs BASE_URL SCREENSHOT.png');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'fincache-chromium-'));
const ok = (step) => console.log('ok: ' + step);

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

let failed = null;
try {
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Everything the page loads must come from the server itself (it works offline).
  const foreign = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('ws://' + new URL(base).host)) {
      foreign.push(r.url());
    }
  });

  await page.goto(base + '/dashboard', { waitUntil: 'load' });
  await page.waitForFunction(() => document.getElementById('status').textContent === 'connected', null, { timeout: 15000 });
  ok('page loads and reaches the API');

  // Charts update: each canvas gains samples and the headline values fill in.
  await page.waitForFunction(
    () => ['chart-ops', 'chart-mem', 'chart-clients', 'chart-hits']
      .every((id) => Number(document.getElementById(id).dataset.points) >= 3),
    null,
    { timeout: 20000 },
  );
  const mem = await page.textContent('#val-mem');
  if (!/[0-9]/.test(mem)) throw new Error('memory value not shown: ' + mem);
  // The canvas really has pixels drawn on it.
  const drawn = await page.evaluate(() => {
    const c = document.getElementById('chart-ops');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) lit++;
    return lit;
  });
  if (drawn < 100) throw new Error('the ops chart is blank');
  ok('charts update (' + mem + ' used)');

  // A command typed in the console runs.
  await page.fill('#console-input', 'SET browser:greeting "hello from chromium"');
  await page.press('#console-input', 'Enter');
  await page.waitForFunction(() => document.getElementById('console-output').textContent.includes('"OK"'), null, { timeout: 10000 });
  await page.fill('#console-input', 'INCRBY browser:counter 41');
  await page.press('#console-input', 'Enter');
  await page.waitForFunction(() => document.getElementById('console-output').textContent.includes('41'), null, { timeout: 10000 });
  // History: arrow up brings the last command back.
  await page.press('#console-input', 'ArrowUp');
  const recalled = await page.inputValue('#console-input');
  if (recalled !== 'INCRBY browser:counter 41') throw new Error('history recalled ' + JSON.stringify(recalled));
  await page.fill('#console-input', '');
  ok('console runs commands, with history');

  // The key appears in the key browser, with its value.
  await page.fill('#kb-pattern', 'browser:*');
  await page.click('#kb-search');
  const item = page.locator('#kb-list li', { hasText: 'browser:greeting' });
  await item.waitFor({ timeout: 10000 });
  await item.click();
  await page.waitForFunction(
    () => document.getElementById('kb-detail').textContent.includes('hello from chromium'),
    null,
    { timeout: 10000 },
  );
  const detail = await page.textContent('#kb-detail');
  if (!detail.includes('string')) throw new Error('type not shown: ' + detail);
  ok('key browser finds the key and shows its value');

  // Pub/Sub monitor: subscribe, publish from the page, the message arrives over the socket.
  await page.waitForFunction(() => document.getElementById('ps-state').textContent === 'open', null, { timeout: 10000 });
  await page.fill('#ps-names', 'md.*');
  await page.click('#ps-sub-form button');
  await page.waitForFunction(() => document.getElementById('ps-subs').textContent.includes('md.*'), null, { timeout: 5000 });
  // The subscription is confirmed before publishing (no race with the PSUBSCRIBE).
  await page.waitForTimeout(300);
  await page.fill('#ps-channel', 'md.AAPL');
  await page.fill('#ps-message', '{"bid":150.25}');
  await page.click('#ps-pub-form button');
  await page.waitForFunction(() => document.getElementById('ps-log').textContent.includes('150.25'), null, { timeout: 10000 });
  ok('pub/sub monitor receives a published message');

  await page.waitForTimeout(1500);
  await page.screenshot({ path: screenshot, fullPage: true });
  ok('screenshot ' + screenshot);

  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  if (foreign.length) throw new Error('requests outside the server: ' + foreign.join(', '));
} catch (e) {
  failed = e;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failed) {
  console.error('FAILED: ' + (failed.stack || failed));
  process.exit(1);
}
console.log('dashboard browser test passed');
