/**
 * The browser playground (issue 19): from page load to the first nvmx-hlt-cr3 result on the
 * page in headless Chromium (the default view runs it as soon as the page opens), and the
 * built app's size gzipped. Targets: < 1 s and < 1 MB. Skipped with a notice when Debian's
 * Chromium is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import sirv from 'sirv';
import type { Figure, Suite } from '../harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const LOADS = 7;

function buildApp(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'kvmlab-bench-pg-')), 'app');
  const b = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: join(ROOT, 'packages', 'playground'), encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production', KVMLAB_PLAYGROUND_OUT: dir },
  });
  if (b.status !== 0) throw new Error(`vite build of the playground failed:\n${b.stdout}${b.stderr}`);
  return dir;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function loadTimes(dir: string): Promise<{ firstResult: number[]; loaded: number[] }> {
  const handler = sirv(dir, { etag: true });
  const server = createServer((req, res) => handler(req, res, () => {
    res.statusCode = 404;
    res.end();
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const firstResult: number[] = [];
  const loaded: number[] = [];
  try {
    for (let i = 0; i < LOADS; i++) {
      // A fresh context each time: nothing cached, as a first visit.
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await ctx.newPage();
      await page.goto(url);
      await page.waitForFunction(() => performance.getEntriesByName('kvmlab:first-result').length > 0, undefined, { timeout: 30_000 });
      const t = await page.evaluate(() => ({
        first: performance.getEntriesByName('kvmlab:first-result')[0]!.startTime,
        // The navigation entry's load event (the page's own clock, like the mark above).
        load: (performance.getEntries().find((e) => String(e.entryType) === 'navigation') as unknown as { loadEventEnd: number }).loadEventEnd,
      }));
      firstResult.push(t.first);
      loaded.push(t.load);
      await ctx.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return { firstResult, loaded };
}

export const playgroundSuite: Suite = {
  name: 'playground',
  async run(): Promise<Figure[]> {
    const dir = buildApp();
    const all = files(dir);
    const raw = all.reduce((a, f) => a + statSync(f).size, 0);
    const gz = all.reduce((a, f) => a + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    const size: Figure = {
      suite: 'playground', id: 'playground-bundle-gzip', description: `the built playground (${all.length} files), gzipped`, value: gz / 2 ** 20, unit: 'MiB',
      baseline: { description: 'the same files uncompressed', value: raw / 2 ** 20, unit: 'MiB' }, ratio: gz / raw, target: '< 1 MB gzipped', met: gz < 1_000_000,
    };
    if (!existsSync(CHROMIUM)) {
      console.log(`NOTICE: ${CHROMIUM} is missing: the playground's load time is not measured (apt-get install chromium).`);
      return [size];
    }
    const t = await loadTimes(dir);
    const first = median(t.firstResult);
    const load = median(t.loaded);
    return [
      {
        suite: 'playground', id: 'playground-first-result', description: `page load → first nvmx-hlt-cr3 result on the page, headless Chromium (median of ${LOADS} cold loads)`,
        value: first, unit: 'ms', baseline: { description: 'the page\'s own load event (HTML + scripts)', value: load, unit: 'ms' }, ratio: first / load,
        spread: { min: Math.min(...t.firstResult) / load, max: Math.max(...t.firstResult) / load, reps: LOADS },
        target: '< 1 s', met: first < 1000,
      },
      size,
    ];
  },
};
