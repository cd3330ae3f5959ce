/**
 * The built playground in Debian's Chromium (playwright-core, no browser download): compose
 * x86 with nvmx-cr3 pre-fix, run nvmx-hlt-cr3, step to the first corruption and read Muen's
 * log line; merged shows none; arm64 without ptp-kvm-arm64 answers KVM_CAP_PTP_KVM with 0; a
 * copied URL opens the same view; the app requests nothing outside its own server.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { serveApp } from './serve.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`NOTICE: ${CHROMIUM} is missing: the playground's browser tests are skipped (apt-get install chromium).`);

const MUEN_LINE = /^ERROR CR3 of subject \d+ changed: 16#[0-9a-f]{16}# exit 16#[0-9a-f]{4}#$/;

describe.skipIf(!haveChromium)('the playground in Chromium', () => {
  let ctx: BrowserContext;
  let server: Awaited<ReturnType<typeof serveApp>>;
  const foreign: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const app = inject('app');
    expect(app.buildError, app.buildError).toBe('');
    server = await serveApp(app.dir);
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'kvmlab-pg-profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
    });
    // Every request of every page and worker, including ones the page would block.
    ctx.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
  }, 90_000);

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  async function open(search = '', wait = true): Promise<Page> {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${server.url}${search}`);
    if (wait) await settled(page);
    return page;
  }

  /** Waits until the run has its results and its figure (or composition stopped it). */
  async function settled(page: Page): Promise<void> {
    try {
      await page.waitForSelector('body[data-phase=drawn], body[data-phase=composed], body[data-phase=error]', { timeout: 20_000, state: 'attached' });
    } catch (e) {
      throw new Error(`the page did not settle (phase ${String(await page.getAttribute('body', 'data-phase'))}): ${(await page.textContent('body'))?.slice(0, 300) ?? ''}`, { cause: e });
    }
  }

  async function change(page: Page, action: () => Promise<unknown>): Promise<void> {
    await page.evaluate(() => document.body.setAttribute('data-phase', 'changing'));
    await action();
    await settled(page);
  }

  let copied = '';
  let stepText = '';

  it('x86 with nvmx-cr3 pre-fix: nvmx-hlt-cr3 runs in the worker, the scrubber jumps to the first corruption and shows Muen\'s log line', async () => {
    const page = await open();
    expect(await page.getAttribute('body', 'data-phase')).toBe('drawn');
    // The scenario ran in a Web Worker, not on the page.
    expect(page.workers().length).toBeGreaterThanOrEqual(1);
    await change(page, () => page.selectOption('[data-testid=variant-nvmx-cr3]', 'pre-fix'));
    expect(await page.textContent('[data-testid=run-variants]')).toBe('pre-fix');
    expect(await page.textContent('[data-testid=results] table.summary')).toContain('bug-reproduced');
    expect(await page.locator('[data-testid=figure] figure.lead').count()).toBe(1);
    // Step 0 is the first nested entry: no symptom yet.
    expect(await page.getAttribute('[data-testid=step]', 'data-bad')).toBe('false');
    expect(await page.locator('[data-testid=log-line]').count()).toBe(0);
    await page.click('[data-testid=first-bad]');
    expect(await page.getAttribute('[data-testid=step]', 'data-bad')).toBe('true');
    const line = (await page.textContent('[data-testid=log-line]')) ?? '';
    expect(line).toMatch(MUEN_LINE);
    // The line is the result's own first error line (what the report and `kvmlab run` print).
    expect(await page.textContent('[data-testid=results] table.summary')).toContain(line.replace(/^ERROR CR3 of subject (\d+) changed: (\S+) exit (\S+)$/, 'subject $1 got $2 (exit $3)'));
    // The entry before the check was HLT-squashed: the previous step says so.
    const stepIndex = Number(await page.inputValue('[data-testid=slider]'));
    expect(stepIndex).toBeGreaterThan(0);
    expect(new URL(page.url()).searchParams.get('step')).toBe(String(stepIndex));
    stepText = (await page.textContent('[data-testid=step]')) ?? '';
    expect(stepText).toContain('found in vmcs12.guest_cr3');
    copied = await page.inputValue('[data-testid=link]');
    expect(copied).toBe(page.url());
    await page.click('[data-testid=prev]');
    await page.click('[data-testid=prev]');
    expect(await page.textContent('[data-testid=step] h3')).toMatch(/nested VM-Enter of S\d+, HLT-squashed by L0/);

    await change(page, () => page.selectOption('[data-testid=variant-nvmx-cr3]', 'merged'));
    expect(await page.textContent('[data-testid=run-variants]')).toBe('merged');
    expect(await page.textContent('[data-testid=results] table.summary')).toContain('no CR3 corruption');
    expect(await page.isDisabled('[data-testid=first-bad]')).toBe(true);
    expect(await page.textContent('[data-testid=scrubber]')).toContain('0 steps with the symptom');
    expect(await page.locator('[data-testid=log-line]').count()).toBe(0);
    await page.close();
  });

  it('a copied URL opens the same view in a new page', async () => {
    expect(copied).not.toBe('');
    const page = await open(new URL(copied).search);
    expect(page.url()).toBe(copied);
    expect(await page.inputValue('[data-testid=variant-nvmx-cr3]')).toBe('pre-fix');
    expect(await page.textContent('[data-testid=step]')).toBe(stepText);
    expect(await page.textContent('[data-testid=log-line]')).toMatch(MUEN_LINE);
    await page.close();
  });

  it('arm64 without ptp-kvm-arm64: KVM_CAP_PTP_KVM answers 0 (1 with it)', async () => {
    const page = await open('?arch=arm64');
    const ptp = '[data-testid=caps] tr[data-cap=KVM_CAP_PTP_KVM] td';
    // With every arm64 plugin the capability is there…
    expect(await page.locator(ptp).nth(2).textContent()).toBe('1');
    expect(await page.textContent('[data-testid=discovery]')).toContain('VENDOR_HYP_KVM_FEATURES');
    await change(page, () => page.uncheck('[data-testid=plugin-ptp-kvm-arm64]'));
    expect(new URL(page.url()).searchParams.get('plugins')).toBe('psci-conduit');
    // …and without the plugin both /dev/kvm and the VM answer 0.
    expect(await page.locator(ptp).nth(2).textContent()).toBe('0');
    expect(await page.locator(ptp).nth(3).textContent()).toBe('0');
    // A kernel without ptp_kvm refuses the plugin, naming it.
    await change(page, () => page.check('[data-testid=plugin-ptp-kvm-arm64]'));
    await change(page, () => page.selectOption('[data-testid=kernel]', '5.4'));
    expect(await page.getAttribute('[data-testid=composition-error]', 'data-plugin')).toBe('ptp-kvm-arm64');
    await page.close();
  });

  it('cancel stops a long run and the page stays usable', async () => {
    const page = await open('?arch=x86_64&scenario=nvmx-hlt-cr3&o.frames=100000', false);
    // 100 000 frames take far longer than the wait below: still running, then cancelled.
    await page.waitForSelector('body[data-phase=running]', { timeout: 10_000 }).catch(() => undefined);
    expect(await page.getAttribute('body', 'data-phase')).toBe('running');
    await page.click('[data-testid=cancel]');
    expect(await page.getAttribute('body', 'data-phase')).toBe('cancelled');
    expect(await page.textContent('[data-testid=run-message]')).toContain('cancelled');
    await change(page, () => page.fill('[data-testid=opt-frames]', '40').then(() => page.press('[data-testid=opt-frames]', 'Enter')));
    expect(await page.getAttribute('body', 'data-phase')).toBe('drawn');
    expect(await page.textContent('[data-testid=results]')).toContain('40 minor frames');
    await page.close();
  });

  it('made no request outside its own server and logged no error', () => {
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
