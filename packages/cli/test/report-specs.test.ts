/**
 * The lead figures' specs against the real scenarios' results (no browser): each lead draws
 * what its scenario measured — the cell the selftest failed on, one cross per corruption Muen
 * caught, the pages really written per round next to the reported ones, the offsets after the
 * servo converged — and the new result fields it reads hold what the model did.
 */
import { describe, expect, it } from 'vitest';
import { defaultCatalogAsync } from '../src/scenarios.js';
import { runScenario } from '../src/runner.js';
import { parseScenarioOptions } from '../src/scenario-options.js';
import { runDemo } from '../src/runner.js';
import { ScenarioCatalog } from '../src/catalog.js';
import { SILENT_PROGRESS } from '../src/progress.js';
import { demoMatrices } from '../src/matrix.js';
import type { ResultJson } from '../src/json-output.js';
import { chartSpecs, leadFor, type BitGridPanel, type LanesPanel, type LeadFigure, type XyPanel } from '../src/report/chart-specs/index.js';
import { fakeMatrixScenario, fakeScenario } from './fake-scenario.js';

const catalog = await defaultCatalogAsync();

function runAll(name: string, arch?: string, raw: Record<string, unknown> = {}): ResultJson[] {
  const { def, arch: a } = catalog.resolve(name, arch);
  return def.variants.map((variant) => runScenario({ def, arch: a, variant, seed: 0, options: parseScenarioOptions(def, raw), trace: false }).json);
}

function figureOf(rs: readonly ResultJson[]): LeadFigure {
  const lead = leadFor(rs, [], chartSpecs(rs));
  if (lead?.kind !== 'figure') throw new Error(`no lead figure for ${rs[0]?.scenario}`);
  return lead.figure;
}

const value = (r: ResultJson, label: string): number | string | null | undefined => (r.headline.label === label ? r.headline : r.figures.find((f) => f.label === label))?.value;

describe('vmx-dirty-log: the sync × page grid', () => {
  const rs = runAll('vmx-dirty-log');
  const [pre, merged] = figureOf(rs).panels as BitGridPanel[];

  it('pre-fix: page 0 expected dirty and reported clean at sync 5 is the one failed cell; page 2 reported dirty; syncs 6–7 never ran', () => {
    expect(pre!.rows).toEqual(['0xc0000000', '0xc0001000', '0xc0002000']);
    expect(pre!.columns).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(pre!.cells.filter((c) => c.failed).map((c) => [c.column + 1, c.row])).toEqual([[5, 0]]);
    const cell = (sync: number, page: number) => pre!.cells.find((c) => c.column === sync - 1 && c.row === page)!;
    expect(cell(5, 0)).toMatchObject({ expected: 1, reported: 0 });
    expect(cell(5, 2)).toMatchObject({ expected: 0, reported: 1 });
    expect(cell(6, 0)).toMatchObject({ expected: null, reported: null });
    expect(pre!.message).toBe(rs[0]!.summary);
    expect(pre!.message).toContain('Page 0 incorrectly reported clean');
  });

  it('merged: every one of the 21 cells reported as expected, nothing failed', () => {
    expect(merged!.cells).toHaveLength(21);
    expect(merged!.cells.every((c) => c.expected !== null && c.reported === c.expected && !c.failed)).toBe(true);
    expect(merged!.cells.filter((c) => c.expected === 1).map((c) => c.column + 1)).toEqual([2, 4, 5]);
  });
});

describe('nvmx-hlt-cr3: subject lanes per variant', () => {
  const rs = runAll('nvmx-hlt-cr3');
  const panels = figureOf(rs).panels as LanesPanel[];

  it('one lane set per variant, a lane per subject named with its CR3 in hex', () => {
    expect(panels.map((p) => p.title.split(':')[0])).toEqual(['pre-fix', 'rfc-muen', 'merged']);
    for (const p of panels) {
      expect(p.lanes).toHaveLength(10);
      expect(p.lanes[1]!.label).toBe('S1  0x189f000');
      expect(p.lanes.filter((l) => /^S\d {2}0x[0-9a-f]+$/.test(l.label))).toHaveLength(8);
      expect(p.x).toMatchObject({ min: 0, max: 219 });
    }
  });

  it('a mark per frame run, per squashed entry and per corruption caught — the counts the scenario reports', () => {
    rs.forEach((r, i) => {
      const marks = panels[i]!.marks;
      expect(marks.filter((m) => m.mark === 'ran')).toHaveLength(value(r, 'minor frames run') as number);
      expect(marks.filter((m) => m.mark === 'squashed')).toHaveLength(value(r, 'HLT-squashed entries') as number);
      expect(marks.filter((m) => m.mark === 'corruption')).toHaveLength(r.headline.value as number);
    });
    expect(rs[0]!.headline.value).toBeGreaterThan(50);
    expect(rs[1]!.headline.value).toBe(0);
  });

  it('the frames follow Muen’s plan, and each corruption found another subject’s CR3', () => {
    const d = rs[0]!.details as { frames: { subject: number[]; corruption: number[]; foundCr3Of: (number | null)[] }; subjectCr3s: Record<string, string[]> };
    const plan = [0, 8, 1, 2, 3, 1, 4, 9, 5, 6, 7];
    expect(d.frames.subject).toEqual(d.frames.subject.map((_, f) => plan[f % plan.length]));
    const caught = d.frames.corruption.flatMap((c, f) => (c === 1 ? [f] : []));
    expect(caught).toHaveLength(rs[0]!.headline.value as number);
    for (const f of caught) {
      const owner = d.frames.foundCr3Of[f];
      expect(owner, `frame ${f}`).not.toBeNull();
      expect(owner).not.toBe(d.frames.subject[f]);
    }
    expect(d.frames.foundCr3Of.filter((o, f) => o !== null && d.frames.corruption[f] === 0)).toEqual([]);
    // the first one is the report's: subject 1 handed subject 3's PML4
    expect(panels[0]!.lanes[1]!.note).toMatch(/first 0x183d000 \(S3's\)$/);
    expect(panels[0]!.note).toContain('CR3 of subject 1 changed: 16#000000000183d000#');
    expect(d.subjectCr3s['3']).toEqual(['0x183d000']);
  });
});

describe('nested-migration: pages lost, and reported vs really written per round', () => {
  const rs = runAll('nested-migration', undefined, { l1GiB: '2' });
  const [lost, rounds] = figureOf(rs).panels as XyPanel[];

  it('pages lost per variant are the scenario’s figures, labelled (0 too)', () => {
    expect(lost!.y.categories).toEqual(['pre-fix', 'merged']);
    const nested = lost!.series.find((s) => s.name === 'nested L2 workload')!;
    expect(nested.points.map(([, y]) => y)).toEqual(rs.map((r) => value(r, 'pages lost (nested L2 workload)')));
    expect(nested.points[1]![1]).toBe(0);
    expect(nested.points[0]![1]).toBeGreaterThan(0);
    expect(lost!.series.every((s) => s.label === 'value')).toBe(true);
  });

  it('merged reports exactly the pages written each round; pre-fix leaves most of them unreported', () => {
    type Round = { dirtyPagesAtSync: number; pagesWritten: number; writtenNotReported: number };
    const roundsOf = (r: ResultJson) => (r.details as { nested: { precopy: { rounds: Round[] } } }).nested.precopy.rounds;
    for (const x of roundsOf(rs[1]!)) {
      expect(x.pagesWritten).toBe(x.dirtyPagesAtSync);
      expect(x.writtenNotReported).toBe(0);
    }
    const first = roundsOf(rs[0]!)[0]!;
    expect(first.writtenNotReported).toBeGreaterThan(first.pagesWritten / 2);
    const missed = rounds!.series.find((s) => s.name === 'written, not reported')!;
    expect(missed.points.map(([, y]) => y)).toEqual([...roundsOf(rs[0]!), ...roundsOf(rs[1]!)].map((x) => x.writtenNotReported));
    expect(rounds!.y.categories![0]).toBe('pre-fix, round 1');
    // the plain L1 workload: the log reports every written page in both variants
    for (const r of rs) for (const x of (r.details as { plain: { precopy: { rounds: Round[] } } }).plain.precopy.rounds) expect(x.writtenNotReported).toBe(0);
  });
});

describe('ptp-sync: offsets after convergence, belief, start-up', () => {
  it.each(['arm64', 'x86_64'])('%s: after-convergence lines start at the convergence time; the belief bars are the scenario’s means', (arch) => {
    const rs = runAll('ptp-sync', arch, { durationS: '120' });
    const [after, start, belief] = figureOf(rs).panels as XyPanel[];
    // Every ptp_kvm method of every variant, named `variant: method`; the NTP-only guest (variant none) has a panel of its own.
    type M = { method: string; label: string; convergenceS: number; offset: { meanNs: number }; measured: { meanNs: number } };
    const methods = rs.flatMap((r) => (r.details as { methods: M[] }).methods.filter((m) => m.method !== 'ntp').map((m) => ({ ...m, label: `${r.variant}: ${m.label}` })));
    expect(rs.map((r) => r.variant)[0]).toBe('none');
    expect(figureOf(rs).panels).toHaveLength(4);
    const conv = Math.max(...methods.map((m) => m.convergenceS));
    expect(after!.series.map((s) => s.name)).toEqual(methods.map((m) => m.label));
    for (const s of after!.series) {
      expect(s.label).toBe('end');
      expect(Math.min(...s.points.map(([x]) => x))).toBeGreaterThanOrEqual(conv);
    }
    // the 500 µs start-up step is in its own panel only
    expect(Math.max(...after!.series.flatMap((s) => s.points.map(([, y]) => Math.abs(y ?? 0))))).toBeLessThan(5_000);
    expect(Math.max(...start!.series[0]!.points.map(([, y]) => y ?? 0))).toBeGreaterThan(400); // µs
    expect(belief!.y.categories).toEqual(methods.map((m) => m.label));
    expect(belief!.series[0]!.points.map(([, y]) => y)).toEqual(methods.map((m) => Math.round(m.offset.meanNs * 10) / 10));
    expect(belief!.series[1]!.points.map(([, y]) => y)).toEqual(methods.map((m) => Math.round(m.measured.meanNs * 10) / 10));
  });
});

describe('fallbacks', () => {
  it('a scenario without a figure of its own leads with its key figure per variant', () => {
    const { results } = runDemo(new ScenarioCatalog([fakeScenario]), 1, SILENT_PROGRESS);
    const lead = leadFor(results, [], chartSpecs(results));
    expect(lead?.kind).toBe('chart');
    expect(lead?.kind === 'chart' && lead.chart.headline).toBe(true);
  });

  it('a scenario with variant axes leads with its grid; its per-variant headline chart is not drawn again', () => {
    const c = new ScenarioCatalog([fakeMatrixScenario]);
    const { results } = runDemo(c, 1, SILENT_PROGRESS);
    const lead = leadFor(results, demoMatrices(c, 1, results), chartSpecs(results));
    expect(lead?.kind === 'figure' && lead.figure.panels[0]!.kind).toBe('matrix');
    expect(chartSpecs(results).some((s) => s.headline === true)).toBe(false);
  });

  it('a result without the details a lead needs falls back instead of drawing something wrong', () => {
    const rs = runAll('vmx-dirty-log').map((r) => ({ ...r, details: {} }));
    expect(leadFor(rs, [], chartSpecs(rs))?.kind).toBe('chart');
  });
});
