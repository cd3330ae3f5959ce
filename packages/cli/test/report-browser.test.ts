/**
 * Opens generated reports in Debian's Chromium (playwright-core, no browser download) at the
 * width a reader uses (1,400 px) and checks what a reader would stumble on: each scenario
 * section opens with its lead figure, before any table; the page (sections folded) is at most
 * 6,000 px tall; with every section unfolded no two SVG text elements overlap and no text
 * sticks out of its SVG; CR3 and GPA axes are labelled in hex; every figure title appears
 * once (as its heading, not again in the SVG); the console stays clean and the page requests
 * nothing beyond its own file. Saves test-results/report.png (a CI artifact).
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
import { LAYOUT_PROBE, type Layout } from './report-layout-probe.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`NOTICE: ${CHROMIUM} is missing: the browser test of report.html is skipped (apt-get install chromium).`);

type Context = Awaited<ReturnType<typeof chromium.launchPersistentContext>>;

interface Opened {
  readonly layout: Layout;
  readonly consoleErrors: readonly string[];
  readonly foreignRequests: readonly string[];
}

async function openReport(ctx: Context, file: string, screenshot?: string): Promise<Opened> {
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
  if (screenshot !== undefined) await page.screenshot({ path: screenshot, fullPage: true });
  const layout = (await page.evaluate(LAYOUT_PROBE)) as Layout;
  await page.close();
  return { layout, consoleErrors, foreignRequests };
}

describe.skipIf(!haveChromium)('report.html in Chromium', () => {
  let ctx: Context;
  const dir = mkdtempSync(join(tmpdir(), 'kvmlab-browser-'));

  beforeAll(async () => {
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'kvmlab-chromium-profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
    });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
  });

  describe('the demo report (every installed scenario, via the built binary)', () => {
    let opened: Opened;
    let sectionsExpected: string[];
    beforeAll(async () => {
      const buildError = inject('cliBuildError');
      expect(buildError, buildError).toBe('');
      const demo = inject('demo'); // `kvmlab demo` run by the global setup
      expect(demo.status, demo.stderr).toBe(0);
      const doc = JSON.parse(readFileSync(join(demo.dir, 'demo.json'), 'utf8')) as { results: { scenario: string; arch: string }[] };
      sectionsExpected = [...new Set(doc.results.map((r) => `${r.scenario} (${r.arch})`))];
      mkdirSync(join(PKG_DIR, 'test-results'), { recursive: true });
      opened = await openReport(ctx, join(demo.dir, 'report.html'), join(PKG_DIR, 'test-results', 'report.png'));
    }, 90_000);

    it('every scenario section opens with its lead figure, drawn, before any table', () => {
      const { sections } = opened.layout;
      expect(sections.map((s) => s.name)).toEqual(sectionsExpected);
      for (const s of sections) {
        expect(s.firstAfterHeading, `${s.name}: the element after the heading`).toBe('lead');
        expect(s.leadBeforeTables, `${s.name}: the lead comes before the section's tables`).toBe(true);
        expect(s.tablesAfterLead, `${s.name}: its per-variant tables are still there`).toBeGreaterThan(0);
        expect(s.leadSvgs + s.leadMatrixCells, `${s.name}: the lead has content`).toBeGreaterThan(0);
      }
      const by = (n: string) => sections.find((s) => s.name === n)!;
      expect(by('nvmx-hlt-cr3 (x86_64)').leadSvgs).toBe(3); // one lane set per variant
      expect(by('vmx-dirty-log (x86_64)').leadSvgs).toBe(2);
      expect(by('nested-muen-migration (x86_64)').leadMatrixCells).toBe(6);
      expect(existsSync(join(PKG_DIR, 'test-results', 'report.png'))).toBe(true);
    });

    it('the page, sections folded, is at most 6,000 px tall at 1,400 px', () => {
      expect(opened.layout.width).toBe(1400);
      expect(opened.layout.foldedHeight).toBeLessThanOrEqual(6000);
      // unfolding shows the rest (so the folded height is not a page that lost its content)
      expect(opened.layout.unfoldedHeight).toBeGreaterThan(opened.layout.foldedHeight + 2000);
    });

    it('no two text elements of an SVG overlap and no text is clipped by its SVG (every section unfolded)', () => {
      expect(opened.layout.svgs).toBeGreaterThan(20);
      expect(opened.layout.texts).toBeGreaterThan(500);
      expect(opened.layout.overlaps).toEqual([]);
      expect(opened.layout.clipped).toEqual([]);
    });

    it('CR3 and GPA axes are labelled in hex', () => {
      const axes = opened.layout.hexAxes;
      // the nvmx lanes (×3), the dirty-log grids (×2) and the CR3-per-frame charts (×3)
      expect(axes.length).toBeGreaterThanOrEqual(8);
      for (const a of axes) {
        expect(a.hex, `${a.where}: ${a.axis}`).toBeGreaterThanOrEqual(3);
        expect(a.decimal, `${a.where}: ${a.axis} has decimal labels`).toEqual([]);
      }
    });

    it('every figure title is printed once, as its heading', () => {
      const { titles, titlesInSvg } = opened.layout;
      expect(titles.length).toBeGreaterThan(10);
      expect(new Set(titles).size).toBe(titles.length);
      expect(titlesInSvg).toEqual([]);
    });

    it('no console errors, no network', () => {
      expect(opened.consoleErrors).toEqual([]);
      expect(opened.foreignRequests).toEqual([]);
    });
  });

  it('a report with known charts (fake scenario, both variants): the key figure per variant leads, 0 labelled as 0, both variants in one legend', async () => {
    const { results, errors } = runDemo(new ScenarioCatalog([fakeScenario]), 1, SILENT_PROGRESS);
    const file = join(dir, 'fake.html');
    writeFileSync(file, renderReportHtml({ title: 'fake', kvmlabVersion: 'test', seed: 1, results, errors }));
    const { layout, consoleErrors, foreignRequests } = await openReport(ctx, file);
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    expect(layout.sections).toHaveLength(1);
    expect(layout.sections[0]!.firstAfterHeading).toBe('lead');
    expect(layout.overlaps).toEqual([]);
    expect(layout.clipped).toEqual([]);
    const [lead, series] = layout.figures;
    expect(lead!.role).toBe('lead');
    expect(lead!.title).toBe('pages lost per variant — fake-dirty (x86_64)');
    // the merged variant's bar has no height: its value label says 0
    expect(lead!.texts).toEqual(expect.arrayContaining(['pre-fix', 'merged', 'variant', '0']));
    expect(series!.role).toBe('secondary');
    expect(series!.texts).toEqual(expect.arrayContaining(['pre-fix: written', 'pre-fix: harvested', 'merged: written', 'merged: harvested', 'virtual time (s)', 'pages']));
  }, 60_000);

  it('a variant matrix (fake two-axis scenario): a 2 × 3 grid leads its section, each cell coloured by its verdict like the verdict labels', async () => {
    const catalog = new ScenarioCatalog([fakeMatrixScenario]);
    const { results, errors } = runDemo(catalog, 1, SILENT_PROGRESS);
    const file = join(dir, 'matrix.html');
    writeFileSync(file, renderReportHtml({ title: 'matrix', kvmlabVersion: 'test', seed: 1, results, errors, matrices: demoMatrices(catalog, 1, results) }));
    const { layout, consoleErrors, foreignRequests } = await openReport(ctx, file);
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
    expect(layout.sections[0]!.firstAfterHeading).toBe('lead');
    expect(layout.sections[0]!.leadMatrixCells).toBe(6);
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
