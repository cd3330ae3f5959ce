#!/usr/bin/env node
// docs/playground/playground.png: the playground with nvmx-cr3 pre-fix, nvmx-hlt-cr3 run and
// the scrubber at the first corruption (Muen's log line on screen). Builds the app into a
// temporary folder, serves it on 127.0.0.1 and drives Debian's Chromium (playwright-core).
// Usage: npm run screenshot -w @kvmlab/playground [-- <output.png>]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import sirv from 'sirv';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(pkg, '..', '..');
const out = resolve(process.argv[2] ?? join(root, 'docs', 'playground', 'playground.png'));
if (!out.endsWith('.png')) {
  console.error(`screenshot: the output must be a .png file (got ${out})`);
  process.exit(2);
}
const app = join(mkdtempSync(join(tmpdir(), 'kvmlab-pg-shot-')), 'app');
const b = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: pkg, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production', KVMLAB_PLAYGROUND_OUT: app } });
if (b.status !== 0) process.exit(1);
const handler = sirv(app, { etag: true });
const server = createServer((req, res) => handler(req, res, () => ((res.statusCode = 404), res.end())));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/?arch=x86_64&plugins=ptp-kvm-x86,kvm-mmu-pml,nvmx-cr3:pre-fix&scenario=nvmx-hlt-cr3&seed=0`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1050 } });
  await page.goto(url);
  await page.waitForSelector('body[data-phase=drawn]', { timeout: 30_000, state: 'attached' });
  await page.click('[data-testid=first-bad]');
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  server.close();
}
