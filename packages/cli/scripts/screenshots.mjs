#!/usr/bin/env node
/**
 * Regenerates docs/report/*.png from a fresh `kvmlab demo` (seed 0, the built binary): the
 * whole report as a reader first sees it (report.png, 1,400 px wide, sections folded), and each
 * scenario's lead figure on its own (lead-<scenario>-<arch>.png). Uses playwright-core with
 * Debian's /usr/bin/chromium (no browser download). Build first: `npx tsc -b` at the root.
 *
 *   npm run screenshots -w @kvmlab/cli   [-- --out <dir>]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(pkg, '..', '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1] ?? '') : join(root, 'docs', 'report');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.error(`screenshots: ${CHROMIUM} is missing (apt-get install chromium, or set CHROMIUM)`);
  process.exit(1);
}

const demoDir = mkdtempSync(join(tmpdir(), 'kvmlab-screenshots-'));
const demo = spawnSync(process.execPath, [join(pkg, 'bin', 'kvmlab.js'), 'demo', '--seed', '0', '--out', demoDir], { encoding: 'utf8' });
if (demo.status !== 0) {
  console.error(`screenshots: kvmlab demo failed (status ${demo.status}); build first with npx tsc -b\n${demo.stderr}`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f.endsWith('.png')) rmSync(join(out, f));

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(pathToFileURL(join(demoDir, 'report.html')).href, { waitUntil: 'load' });
  await page.screenshot({ path: join(out, 'report.png'), fullPage: true });
  const written = ['report.png'];
  for (const fig of await page.$$('section > figure[data-role="lead"], section > figure.lead')) {
    const section = await fig.evaluate((f) => `${f.closest('section')?.dataset.scenario ?? 'x'}-${f.closest('section')?.dataset.arch ?? 'x'}`);
    const name = `lead-${section}.png`;
    await fig.screenshot({ path: join(out, name) });
    written.push(name);
  }
  console.log(`wrote ${written.map((f) => join(out, f)).join('\n      ')}`);
} finally {
  await browser.close();
  rmSync(demoDir, { recursive: true, force: true });
}
