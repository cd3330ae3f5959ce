/**
 * Opens generated reports in Debian's Chromium (playwright-core, no browser download): every
 * chart must have rendered as a non-empty SVG, the console must stay free of errors, and the
 * page must make no request beyond its own file. Saves test-results/report.png (a CI artifact).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runDemo } from '../src/runner.js';
import { ScenarioCatalog } from '../src/catalog.js';
import { SILENT_PROGRESS } from '../src/progress.js';
import { renderReportHtml } from '../src/report/html.js';
import { demoMatrices } from '../src/matrix.js';
import { fakeMatrixScenario, fakeScenario } from './fake-scenario.js';
import { PKG_DIR } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`NOTICE: ${CHROMIUM} is missing: the browser test of report.html is skipped (apt-get install chromium).`);

type Context = Awaited<ReturnType<typeof chromium.launchPersistentContext>>;

interface PageCheck {
  readonly charts: number;
  readonly rendered: readonly { id: string; elements: number; width: number; height: number; titled: boolean; texts: number }[];
  readonly consoleErrors: readonly string[];
  readonly foreignRequests: readonly string[];
}

async function openReport(ctx: Context, file: string, screenshot?: string): Promise<PageCheck> {
  const page = await ctx.newPage();
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) foreignRequests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const rendered = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      const texts = [...(svg?.querySelectorAll('text') ?? [])].map((t) => t.textContent ?? '');
      const title = f.querySelector('h3')?.textContent ?? '';
      return { id: f.id, elements: svg?.querySelectorAll('path, text, rect').length ?? 0, width: box?.width ?? 0, height: box?.height ?? 0, titled: texts.includes(title), texts: texts.length };
    }),
  );
  if (screenshot !== undefined) await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  return { charts: rendered.length, rendered, consoleErrors, foreignRequests };
}

describe.skipIf(!haveChromium)('report.html in Chromium', () => {
  let ctx: Context;
  const dir = mkdtempSync(join(tmpdir(), 'kvmlab-browser-'));

  beforeAll(async () => {
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'kvmlab-chromium-profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1100, height: 900 },
    });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
  });

  it('the demo report (every installed scenario, via the built binary): every chart rendered, no console errors, no network', async () => {
    const buildError = inject('cliBuildError');
    expect(buildError, buildError).toBe('');
    const demo = inject('demo'); // `kvmlab demo --json` run by the global setup
    expect(demo.status, demo.stderr).toBe(0);
    const html = readFileSync(join(demo.dir, 'report.html'), 'utf8');
    const expected = (html.match(/<figure class="chart"/g) ?? []).length;
    mkdirSync(join(PKG_DIR, 'test-results'), { recursive: true });
    const check = await openReport(ctx, join(demo.dir, 'report.html'), join(PKG_DIR, 'test-results', 'report.png'));
    expect(check.charts).toBe(expected);
    for (const c of check.rendered) {
      expect(c.elements, c.id).toBeGreaterThan(10);
      expect(c.width, c.id).toBeGreaterThan(100);
      expect(c.height, c.id).toBeGreaterThan(100);
      expect(c.titled, `${c.id}: the SVG carries the chart title`).toBe(true);
      expect(c.texts, `${c.id}: title, legend, axis names and tick labels`).toBeGreaterThan(6);
    }
    expect(check.consoleErrors).toEqual([]);
    expect(check.foreignRequests).toEqual([]);
    expect(existsSync(join(PKG_DIR, 'test-results', 'report.png'))).toBe(true);
  }, 60_000);

  it('a report with known charts (fake scenario, both variants): key figure per variant, and both variants in one legend', async () => {
    const { results, errors } = runDemo(new ScenarioCatalog([fakeScenario]), 1, SILENT_PROGRESS);
    const file = join(dir, 'fake.html');
    writeFileSync(file, renderReportHtml({ title: 'fake', kvmlabVersion: 'test', seed: 1, results, errors }));
    const check = await openReport(ctx, file);
    expect(check.charts).toBe(2);
    for (const c of check.rendered) expect(c.elements, c.id).toBeGreaterThan(10);
    expect(check.consoleErrors).toEqual([]);
    expect(check.foreignRequests).toEqual([]);
    const page = await ctx.newPage();
    await page.goto(pathToFileURL(file).href);
    const legend = await page.$$eval('figure.chart svg text', (ts) => ts.map((t) => t.textContent ?? ''));
    await page.close();
    expect(legend).toEqual(expect.arrayContaining(['pre-fix: written', 'pre-fix: harvested', 'merged: written', 'merged: harvested', 'virtual time (s)', 'pages', 'variant', 'pre-fix', 'merged']));
  }, 60_000);
  it('a variant matrix (fake two-axis scenario): a 2 × 3 grid, each cell coloured by its verdict like the verdict labels', async () => {
    const catalog = new ScenarioCatalog([fakeMatrixScenario]);
    const { results, errors } = runDemo(catalog, 1, SILENT_PROGRESS);
    const file = join(dir, 'matrix.html');
    writeFileSync(file, renderReportHtml({ title: 'matrix', kvmlabVersion: 'test', seed: 1, results, errors, matrices: demoMatrices(catalog, 1, results) }));
    const check = await openReport(ctx, file);
    expect(check.consoleErrors).toEqual([]);
    expect(check.foreignRequests).toEqual([]);
    const page = await ctx.newPage();
    await page.goto(pathToFileURL(file).href);
    // Runs in the page: the spec project has no DOM lib, so the browser global is typed here.
    type Styled = { getComputedStyle(e: unknown): { backgroundColor: string } };
    const grid = await page.$$eval('table.matrix tr', (trs) =>
      trs.slice(1).map((tr) => [...tr.querySelectorAll('td.mcell')].map((td) => ({ text: td.querySelector('strong')?.textContent ?? '', bg: (globalThis as unknown as Styled).getComputedStyle(td).backgroundColor, width: td.getBoundingClientRect().width }))),
    );
    const label = await page.$$eval('span.verdict.v-ok, span.verdict.v-bug-reproduced', (ss) => Object.fromEntries(ss.map((x) => [x.textContent ?? '', (globalThis as unknown as Styled).getComputedStyle(x).backgroundColor])));
    await page.close();
    expect(grid.map((row) => row.map((c) => c.text))).toEqual([
      ['bug-reproduced', 'bug-reproduced', 'bug-reproduced'],
      ['bug-reproduced', 'bug-reproduced', 'ok'],
    ]);
    for (const c of grid.flat()) {
      expect(c.width).toBeGreaterThan(50);
      expect(c.bg).toBe(label[c.text]);
    }
    expect(label.ok).not.toBe(label['bug-reproduced']);
  }, 60_000);
});
