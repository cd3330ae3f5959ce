/**
 * `run --variant` over variant axes, with a fake two-axis scenario whose figures differ in every
 * cell (pages lost only in kvm-mmu-pml=pre-fix; stale CR3 = harvests / 2, / 5 or 0 by nvmx-cr3),
 * so each test would see it if the wrong cell ran or a cell landed in the wrong grid position.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { variantCellNames } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { cliOutputJson, listOutputJson, matrixOutputJson, runOutputJson, type ResultJson } from '../src/json-output.js';
import { cellForKernel, parseKernelVersion } from '../src/kernel-table.js';
import { UsageError } from '../src/errors.js';
import { fakeMatrixScenario, fakeScenario, FAKE_AXES, STALE_EVERY } from './fake-scenario.js';
import { cli, expectUsageError } from './helpers.js';

/** Three axes of two: the matrix falls back to one row per variant. */
const CUBE_AXES = { a: ['x', 'y'], b: ['p', 'q'], c: ['u', 'v'] } as const;
const fakeCube: ScenarioDef = {
  name: 'fake-cube',
  description: 'test scenario with three variant axes',
  arches: ['x86_64'],
  variantAxes: CUBE_AXES,
  variants: variantCellNames(CUBE_AXES),
  defaultVariant: 'a=y,b=q,c=v',
  package: '@kvmlab/cli-test',
  options: {},
  run: (input) => ({
    scenario: 'fake-cube',
    variant: input.variant,
    arch: input.arch,
    seed: input.seed,
    verdict: input.variants?.a === 'x' ? 'bug-reproduced' : 'ok',
    summary: input.variant,
    headline: { label: 'code', value: input.variant.replace(/[^xypquv]/g, '') },
    figures: [],
    series: [],
    details: {},
  }),
};

const defs = [fakeScenario, fakeMatrixScenario, fakeCube];

/** What the fake must report for a cell (20 harvests at the default 2 s). */
function expectCellFigures(r: Pick<ResultJson, 'headline' | 'figures'>, pml: string, cr3: string): void {
  const lost = Number(r.headline.value);
  if (pml === 'pre-fix') expect(lost, `${pml}/${cr3}: pages lost`).toBeGreaterThan(0);
  else expect(lost, `${pml}/${cr3}: pages lost`).toBe(0);
  const every = STALE_EVERY[cr3]!;
  expect(r.figures.find((f) => f.label === 'stale CR3')?.value, `${pml}/${cr3}: stale CR3`).toBe(every === 0 ? 0 : Math.floor(20 / every));
}

async function runJson(variant: string, ...more: string[]): Promise<ResultJson> {
  const r = await cli(['run', 'fake-matrix', '--variant', variant, '--json', ...more], defs);
  expect(r.status, r.stderr).toBe(0);
  return runOutputJson.parse(JSON.parse(r.stdout)).result;
}

describe('run --variant over two axes', () => {
  it('axis=variant,axis=variant runs exactly that cell', async () => {
    const r = await runJson('kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen');
    expect(r.variant).toBe('kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen');
    expect(r.variants).toEqual({ 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'rfc-muen' });
    expectCellFigures(r, 'pre-fix', 'rfc-muen');
  });

  it('the axes may come in any order; the result names the cell canonically', async () => {
    const r = await runJson('nvmx-cr3=pre-fix,kvm-mmu-pml=merged');
    expect(r.variant).toBe('kvm-mmu-pml=merged,nvmx-cr3=pre-fix');
    expectCellFigures(r, 'merged', 'pre-fix');
  });

  it('a partial spec takes the other axes from the default cell (all merged)', async () => {
    const a = await runJson('nvmx-cr3=pre-fix');
    expect(a.variants).toEqual({ 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'pre-fix' });
    expectCellFigures(a, 'merged', 'pre-fix');
    const b = await runJson('kvm-mmu-pml=pre-fix');
    expect(b.variants).toEqual({ 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'merged' });
    expectCellFigures(b, 'pre-fix', 'merged');
  });

  it('no --variant runs the default cell; the text view names it', async () => {
    const r = await cli(['run', 'fake-matrix'], defs);
    expect(r.stdout).toMatch(/^fake-matrix \(x86_64, variant kvm-mmu-pml=merged,nvmx-cr3=merged, seed 0\): ok/);
    expect(r.stdout).toMatch(/stale CR3\s+0/);
  });

  it('--kernel maps each axis through its package\'s kernel-table entry (5.4: PML fixed, GUEST_CR3 not yet)', async () => {
    const r = await cli(['run', 'fake-matrix', '--kernel', '5.4', '--json'], defs);
    const res = runOutputJson.parse(JSON.parse(r.stdout)).result;
    expect(res.variants).toEqual({ 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'pre-fix' });
    expectCellFigures(res, 'merged', 'pre-fix');
    expect(cellForKernel('s', FAKE_AXES, 'x86_64', parseKernelVersion('5.3'))).toEqual({ 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'pre-fix' });
    expect(cellForKernel('s', FAKE_AXES, 'x86_64', parseKernelVersion('5.5'))).toEqual({ 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'merged' });
    expect(() => cellForKernel('s', { 'kvm-mmu-pml': ['merged'] }, 'x86_64', parseKernelVersion('5.3'))).toThrow(/maps axis kvm-mmu-pml to "pre-fix"/);
  });

  const bad: readonly [string, string, RegExp][] = [
    ['unknown axis', 'ept=off', /^kvmlab: no variant axis "ept" \(axes: kvm-mmu-pml, nvmx-cr3\)$/],
    ['inherited property name', 'constructor=merged', /^kvmlab: no variant axis "constructor"/],
    ['unknown value', 'nvmx-cr3=rfc', /^kvmlab: axis nvmx-cr3 has no variant "rfc" \(variants: pre-fix, rfc-muen, merged\)$/],
    ['axis given twice', 'nvmx-cr3=merged,nvmx-cr3=pre-fix', /^kvmlab: variant axis "nvmx-cr3" is given twice$/],
    ['malformed a=', 'nvmx-cr3=', /^kvmlab: "nvmx-cr3=" is not axis=variant \(axes: kvm-mmu-pml, nvmx-cr3\)$/],
    ['a plain name', 'merged', /^kvmlab: scenario fake-matrix has no variant "merged" \(give axis=variant for kvm-mmu-pml, nvmx-cr3, or all\)$/],
  ];
  for (const [name, variant, pattern] of bad) {
    it(`${name}: --variant ${variant} is a usage error naming it`, async () => {
      expectUsageError(await cli(['run', 'fake-matrix', '--variant', variant], defs), pattern);
    });
  }

  it('--kernel that cannot map an axis, and --trace with all, are usage errors', async () => {
    const cube = await cli(['run', 'fake-cube', '--kernel', '5.4'], defs);
    expectUsageError(cube, /--kernel cannot map variant axis a of scenario fake-cube on x86_64/);
    expectUsageError(await cli(['run', 'fake-matrix', '--variant', 'all', '--trace', 't.json'], defs), /--trace records one run/);
  });

  it('a result that names another cell than the one asked for is refused (exit 1)', async () => {
    const liar: ScenarioDef = { ...fakeMatrixScenario, run: (input) => ({ ...fakeMatrixScenario.run(input), variants: { 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'merged' } }) };
    const r = await cli(['run', 'fake-matrix', '--variant', 'kvm-mmu-pml=pre-fix'], [liar]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/asked for variant kvm-mmu-pml=pre-fix,nvmx-cr3=merged but its result says variants/);
  });
});

describe('run --variant all: the matrix', () => {
  it('runs every cell once, in order, and places each at its row (kvm-mmu-pml) and column (nvmx-cr3)', async () => {
    const r = await cli(['run', 'fake-matrix', '--variant', 'all', '--json'], defs);
    expect(r.status, r.stderr).toBe(0);
    const doc = matrixOutputJson.parse(JSON.parse(r.stdout));
    expect(cliOutputJson.parse(doc).kind).toBe('matrix');
    expect(doc.results.map((x) => x.variant)).toEqual(fakeMatrixScenario.variants);
    expect(doc).toMatchObject({ schemaVersion: 1, scenario: 'fake-matrix', arch: 'x86_64', seed: 0, rows: 'kvm-mmu-pml', columns: 'nvmx-cr3' });
    expect(doc.axes).toEqual([
      { name: 'kvm-mmu-pml', values: ['pre-fix', 'merged'] },
      { name: 'nvmx-cr3', values: ['pre-fix', 'rfc-muen', 'merged'] },
    ]);
    expect(doc.cells).toHaveLength(2);
    FAKE_AXES['kvm-mmu-pml'].forEach((pml, i) => {
      expect(doc.cells[i]).toHaveLength(3);
      FAKE_AXES['nvmx-cr3'].forEach((cr3, j) => {
        const c = doc.cells[i]![j]!;
        expect(c.variants).toEqual({ 'kvm-mmu-pml': pml, 'nvmx-cr3': cr3 });
        expect(c.variant).toBe(`kvm-mmu-pml=${pml},nvmx-cr3=${cr3}`);
        expect(c.figures.map((f) => f.label)).toEqual(['stale CR3', 'harvests']);
        expectCellFigures({ headline: c.headline, figures: c.figures }, pml, cr3);
        expect(c.verdict).toBe(pml === 'merged' && cr3 === 'merged' ? 'ok' : 'bug-reproduced');
        // the grid's cell and the full result agree
        const full = doc.results.find((x) => x.variant === c.variant)!;
        expect(c.headline).toEqual(full.headline);
      });
    });
  });

  it('the same seed gives byte-identical matrix JSON; another seed differs', async () => {
    const args = ['run', 'fake-matrix', '--variant', 'all', '--json', '--pattern', 'random'];
    const a = await cli([...args, '--seed', '5'], defs);
    const b = await cli([...args, '--seed', '5'], defs);
    const c = await cli([...args, '--seed', '6'], defs);
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).not.toBe(a.stdout);
  });

  it('each matrix result is byte-for-byte what run prints for that one cell', async () => {
    const all = matrixOutputJson.parse(JSON.parse((await cli(['run', 'fake-matrix', '--variant', 'all', '--json', '--seed', '3'], defs)).stdout));
    const one = await runJson('kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen', '--seed', '3');
    expect(all.results[1]).toEqual(one);
  });

  it('text: a grid, rows = kvm-mmu-pml values, columns = nvmx-cr3 values, each cell verdict and values', async () => {
    const r = await cli(['run', 'fake-matrix', '--variant', 'all'], defs);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('fake-matrix (x86_64, seed 0): 6 variants, kvm-mmu-pml × nvmx-cr3');
    expect(lines[1]).toMatch(/^kvm-mmu-pml \\ nvmx-cr3\s+pre-fix\s+rfc-muen\s+merged$/);
    expect(lines[3]).toMatch(/^pre-fix\s+bug-reproduced \d+ \/ 10 \/ 20\s+bug-reproduced \d+ \/ 4 \/ 20\s+bug-reproduced \d+ \/ 0 \/ 20$/);
    expect(lines[4]).toMatch(/^merged\s+bug-reproduced 0 \/ 10 \/ 20\s+bug-reproduced 0 \/ 4 \/ 20\s+ok 0 \/ 0 \/ 20$/);
    expect(lines[5]).toBe('each cell: verdict, then pages lost / stale CR3 / harvests');
  });

  it('three axes: one row per variant with a column per axis; JSON without rows/columns', async () => {
    const t = await cli(['run', 'fake-cube', '--variant', 'all'], defs);
    const rows = t.stdout.trimEnd().split('\n').slice(3);
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatch(/^x\s+p\s+u\s+bug-reproduced\s+xpu$/);
    expect(rows[5]).toMatch(/^y\s+p\s+v\s+ok\s+ypv$/);
    const j = matrixOutputJson.parse(JSON.parse((await cli(['run', 'fake-cube', '--variant', 'all', '--json'], defs)).stdout));
    expect(j.rows).toBeUndefined();
    expect(j.cells.map((row) => row.map((c) => c.variant))).toEqual(fakeCube.variants.map((v) => [v]));
  });
});

describe('single-axis scenarios keep --variant NAME; --variant all gives a one-row-per-variant matrix', () => {
  it('--variant NAME still runs that variant, as a run document without variants', async () => {
    const r = await cli(['run', 'fake-dirty', '--variant', 'pre-fix', '--json'], defs);
    const res = runOutputJson.parse(JSON.parse(r.stdout)).result;
    expect(res.variant).toBe('pre-fix');
    expect(res.verdict).toBe('bug-reproduced');
    expect('variants' in res).toBe(false);
  });

  it('--variant all runs pre-fix then merged: a table in text, a matrix in JSON', async () => {
    const t = await cli(['run', 'fake-dirty', '--variant', 'all'], defs);
    expect(t.stdout).toMatch(/^fake-dirty \(x86_64, seed 0\): 2 variants\nvariant\s+verdict\s+pages lost\n-+\s+-+\s+-+\npre-fix\s+bug-reproduced\s+[1-9]\d*\nmerged\s+ok\s+0\n$/);
    const j = matrixOutputJson.parse(JSON.parse((await cli(['run', 'fake-dirty', '--variant', 'all', '--json'], defs)).stdout));
    expect(j.axes).toEqual([{ name: 'variant', values: ['pre-fix', 'merged'] }]);
    expect(j.cells.map((row) => row.map((c) => [c.variant, c.variants, c.verdict]))).toEqual([[['pre-fix', { variant: 'pre-fix' }, 'bug-reproduced']], [['merged', { variant: 'merged' }, 'ok']]]);
    expect(j.results.map((x) => x.variant)).toEqual(['pre-fix', 'merged']);
  });

  it('a bad name lists the variants and all', async () => {
    expectUsageError(await cli(['run', 'fake-dirty', '--variant', 'rfc'], defs), /has no variant "rfc" \(variants: pre-fix, merged, or all\)$/);
  });
});

describe('report and list', () => {
  it('--report with all: an HTML grid with one cell per combination, coloured by verdict, above the per-variant sections', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlab-matrix-'));
    const r = await cli(['run', 'fake-matrix', '--variant', 'all', '--report', 'm.html'], defs, dir);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'm.html'), 'utf8');
    const table = /<table class="matrix"[^>]*>[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(table).toContain('<th class="axis">kvm-mmu-pml \\ nvmx-cr3</th><th>pre-fix</th><th>rfc-muen</th><th>merged</th>');
    const rows = [...table.matchAll(/<tr><th>([^<]*)<\/th>(.*?)<\/tr>/g)];
    expect(rows.map((m) => m[1])).toEqual(['pre-fix', 'merged']);
    const cells = rows.map((m) => [...m[2]!.matchAll(/<td class="mcell v-([a-z-]+)" data-variant="([^"]+)">/g)].map((c) => [c[1], c[2]]));
    expect(cells).toEqual(
      FAKE_AXES['kvm-mmu-pml'].map((pml) => FAKE_AXES['nvmx-cr3'].map((cr3) => [pml === 'merged' && cr3 === 'merged' ? 'ok' : 'bug-reproduced', `kvm-mmu-pml=${pml},nvmx-cr3=${cr3}`])),
    );
    expect(table).toContain('<span>stale CR3: 4</span>');
    expect(html.indexOf('<table class="matrix"')).toBeLessThan(html.indexOf('<h3>kvm-mmu-pml=pre-fix,nvmx-cr3=pre-fix'));
  });

  it('the demo shows a grid for the scenario with axes (text and report), and none for single-axis ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmlab-matrix-demo-'));
    const r = await cli(['demo', '--out', 'out'], [fakeScenario, fakeMatrixScenario], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fake-dirty\s+x86_64\s+pre-fix\s+bug-reproduced\s+pages lost: \d+/);
    expect(r.stdout).toMatch(/\nfake-matrix \(x86_64, seed 0\): 6 variants, kvm-mmu-pml × nvmx-cr3\nkvm-mmu-pml \\ nvmx-cr3\s+pre-fix\s+rfc-muen\s+merged\n/);
    expect(r.stdout).not.toContain('fake-dirty (x86_64, seed 0)');
    const html = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
    expect(html.match(/<table class="matrix"/g)).toHaveLength(1);
    expect(html.match(/<td class="mcell /g)).toHaveLength(6);
    expect(html).toContain('data-scenario="fake-matrix"');
  });

  it('list shows the axes instead of every cell name; --json adds variantAxes', async () => {
    const r = await cli(['list'], defs);
    expect(r.stdout).toContain('variants: kvm-mmu-pml: pre-fix|merged × nvmx-cr3: pre-fix|rfc-muen|merged; default kvm-mmu-pml=merged,nvmx-cr3=merged');
    expect(r.stdout).not.toContain('kvm-mmu-pml=pre-fix,nvmx-cr3=pre-fix');
    expect(r.stdout).toContain('variants: pre-fix, merged (default)');
    const j = listOutputJson.parse(JSON.parse((await cli(['list', '--json'], defs)).stdout));
    const d = j.scenarios.find((s) => s.name === 'fake-matrix')!.definitions[0]!;
    expect(d.variantAxes).toEqual([{ name: 'kvm-mmu-pml', values: ['pre-fix', 'merged'] }, { name: 'nvmx-cr3', values: ['pre-fix', 'rfc-muen', 'merged'] }]);
    expect(d.variants).toHaveLength(6);
    expect(j.scenarios.find((s) => s.name === 'fake-dirty')!.definitions[0]).not.toHaveProperty('variantAxes');
  });

  it('kvmlab schema matrix prints the matrix document\'s JSON Schema', async () => {
    const r = await cli(['schema', 'matrix'], defs);
    const s = JSON.parse(r.stdout) as { properties: Record<string, { const?: unknown }>; required: string[] };
    expect(s.properties.kind).toMatchObject({ const: 'matrix' });
    expect(s.required).toEqual(expect.arrayContaining(['axes', 'cells', 'results']));
  });
});

it('UsageError is what --variant errors are (not a RangeError escaping as exit 1)', async () => {
  const { selectRunVariants } = await import('../src/variants.js');
  expect(() => selectRunVariants(fakeMatrixScenario, 'x=y')).toThrow(UsageError);
});
