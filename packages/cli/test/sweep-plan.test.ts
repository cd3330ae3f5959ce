/**
 * The pieces of a sweep that need no worker: seed lists, the grid's order, shards, the
 * randomised draws of every installed scenario, the summary's statistics and the reproduce
 * command.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { drawRandomized, resolveScenarioOptions } from '@kvmlab/hypervisor-core';
import { installedScenarios } from '../src/index.js';
import { cellCount, cellIndex, gridRunAt, gridSize, parseShard, setOf, shardIndices, type SweepPlan } from '../src/sweep/plan.js';
import { etaText } from '../src/sweep/progress.js';
import { reproduceCommand } from '../src/sweep/reproduce.js';
import { runOptions } from '../src/sweep/run-sweep.js';
import { parseSeeds, seedAt, seedCount, seedsText } from '../src/sweep/seeds.js';
import { SummaryBuilder } from '../src/sweep/summary.js';
import type { RunLine } from '../src/sweep/line.js';

const plan = (over: Partial<SweepPlan> = {}): SweepPlan => ({
  kvmlabVersion: '0', scenario: 's', package: 'p', arch: 'x86_64', variants: ['pre-fix', 'merged'], seeds: [[0, 9]],
  set: [], randomize: false, distributions: {}, compact: false, worst: 3, ...over,
});

describe('--seeds', () => {
  it('ranges, single seeds and lists merge into sorted disjoint ranges', () => {
    expect(parseSeeds('0..999')).toEqual([[0, 999]]);
    expect(parseSeeds('7')).toEqual([[7, 7]]);
    expect(parseSeeds('100..109, 0..9,5,10')).toEqual([[0, 10], [100, 109]]);
    expect(seedsText(parseSeeds('3,1,2,9'))).toBe('1..3,9');
  });
  test.prop([fc.array(fc.tuple(fc.nat(500), fc.nat(40)), { minLength: 1, maxLength: 6 })])('seedAt walks every seed of the list once, in order', (parts) => {
    const text = parts.map(([a, n]) => `${a}..${a + n}`).join(',');
    const r = parseSeeds(text);
    const want = [...new Set(parts.flatMap(([a, n]) => Array.from({ length: n + 1 }, (_, i) => a + i)))].sort((x, y) => x - y);
    expect(Array.from({ length: seedCount(r) }, (_, i) => seedAt(r, i))).toEqual(want);
  });
});

describe('the grid and its shards', () => {
  it('seed outermost, then the --set combination (last option fastest), then the variant', () => {
    const p = plan({ seeds: [[5, 6]], set: [{ option: 'a', values: [1, 2] }, { option: 'b', values: ['x', 'y', 'z'] }] });
    expect(gridSize(p)).toBe(2 * 6 * 2);
    expect(gridRunAt(p, 0)).toEqual({ index: 0, seed: 5, set: { a: 1, b: 'x' }, variant: 'pre-fix' });
    expect(gridRunAt(p, 3)).toEqual({ index: 3, seed: 5, set: { a: 1, b: 'y' }, variant: 'merged' });
    expect(gridRunAt(p, 10)).toEqual({ index: 10, seed: 5, set: { a: 2, b: 'z' }, variant: 'pre-fix' });
    expect(gridRunAt(p, 12)).toEqual({ index: 12, seed: 6, set: { a: 1, b: 'x' }, variant: 'pre-fix' });
  });
  test.prop([fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 17 })])('the shards of N partition the grid: every run in exactly one shard', (total, n) => {
    const all = Array.from({ length: n }, (_, i) => [...shardIndices(total, { index: i, count: n })]).flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
  });
  test.prop([fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }), fc.integer({ min: 1, max: 3 }), fc.nat(500)])(
    'cellIndex undoes gridRunAt: run i is in cell i mod cells, found again from its variant and --set values',
    (sizes, nv, i) => {
      const p = plan({ variants: ['a', 'b', 'c'].slice(0, nv), seeds: [[0, 99]], set: sizes.map((n, k) => ({ option: `o${k}`, values: Array.from({ length: n }, (_, j) => j * 10 + k) })) });
      const index = i % gridSize(p);
      const g = gridRunAt(p, index);
      expect(cellIndex(p, g.variant, setOf(p, { ...g.set, other: 1 }))).toBe(index % cellCount(p));
    },
  );
  it('--shard i/N needs 0 ≤ i < N', () => {
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/need 0 ≤ i < N/);
    expect(() => parseShard('1-4')).toThrow(/must be i\/N/);
  });
});

describe('randomised workloads of the installed scenarios', () => {
  const randomized = installedScenarios.filter((d) => d.randomize !== undefined);
  it('nested-migration, vmx-dirty-log, nvmx-hlt-cr3 and both ptp-sync declare one', () => {
    expect(randomized.map((d) => `${d.name}/${d.arches.join('+')}`).sort()).toEqual(['nested-migration/x86_64', 'nvmx-hlt-cr3/x86_64', 'ptp-sync/arm64', 'ptp-sync/x86_64', 'vmx-dirty-log/x86_64']);
  });
  for (const def of randomized) {
    test.prop([fc.integer({ min: 0, max: 0xffff_ffff })], { numRuns: 300 })(`${def.name} (${def.arches[0]}): every seed draws options inside their declared ranges`, (seed) => {
      const drawn = drawRandomized(def.randomize!, seed);
      expect(Object.keys(drawn).every((k) => k in def.options)).toBe(true);
      expect(() => resolveScenarioOptions(def, drawn)).not.toThrow();
      // Same seed, same workload (the variants of one seed are compared on it).
      expect(drawRandomized(def.randomize!, seed)).toEqual(drawn);
    });
  }
  it('nested-migration keeps hot ≤ wss ≤ L2 ≤ L1 − 1 GiB and 2 MiB multiples, and the draws spread', () => {
    const def = randomized.find((d) => d.name === 'nested-migration')!;
    const ds = Array.from({ length: 400 }, (_, s) => drawRandomized(def.randomize!, s) as Record<string, number>);
    for (const d of ds) {
      expect(d['hotMiB']!).toBeLessThanOrEqual(d['wssMiB']!);
      expect(d['wssMiB']!).toBeLessThanOrEqual(d['l2MiB']!);
      expect(d['l2MiB']!).toBeLessThanOrEqual((d['l1GiB']! - 1) * 1024);
      expect(d['l2MiB']! % 2).toBe(0);
    }
    expect(new Set(ds.map((d) => d['l1GiB'])).size).toBe(5);
    expect(Math.min(...ds.map((d) => d['writesPerSec']!))).toBeLessThan(8000);
    expect(Math.max(...ds.map((d) => d['writesPerSec']!))).toBeGreaterThan(40000);
  });
  it('--set values override the draws; without --randomize the defaults stay', () => {
    const def = randomized.find((d) => d.name === 'nvmx-hlt-cr3')!;
    const p = plan({ randomize: true });
    expect(runOptions(def, p, 3, { frames: 9 })['frames']).toBe(9);
    expect(runOptions(def, p, 3, {})['frames']).toBe(drawRandomized(def.randomize!, 3)['frames']);
    expect(runOptions(def, plan(), 3, {})).toEqual(resolveScenarioOptions(def, {}));
  });
});

describe('summary statistics', () => {
  const line = (index: number, variant: string, lost: number, status: RunLine['status'] = 'done'): RunLine => ({
    index, seed: index, variant, options: {}, status, command: `kvmlab run s --seed=${index}`,
    ...(status === 'done'
      ? { result: { scenario: 's', package: 'p', arch: 'x86_64', variant, seed: index, options: {}, verdict: lost > 0 ? 'bug-reproduced' : 'ok', summary: '', headline: { label: 'lost', value: lost }, figures: [{ label: 'lost', value: lost }, { label: 'name', value: 'x' }], series: [], details: {} } }
      : { error: 'Error: boom' }),
  });
  it('bug rate, nearest-rank min / median / p99 / max, worst first, failures with their seed', () => {
    const b = new SummaryBuilder(plan({ worst: 2 }));
    const lost = [0, 5, 3, 0, 9, 1, 0, 2, 7, 4];
    lost.forEach((v, i) => b.add(line(i, 'pre-fix', v)));
    b.add(line(10, 'pre-fix', 0, 'crashed'));
    b.add(line(11, 'merged', 0));
    const s = b.build();
    const pre = s.cells[0]!;
    expect(pre).toMatchObject({ variant: 'pre-fix', runs: 11, done: 10, crashed: 1, bugRate: 0.7 });
    expect(pre.figures).toEqual([{ label: 'lost', n: 10, min: 0, median: 2, p99: 9, max: 9 }]);
    // A crashed run is worse than any result; then the largest loss.
    expect(pre.worst.map((w) => w.index)).toEqual([10, 4]);
    expect(s.failures).toEqual([{ index: 10, seed: 10, variant: 'pre-fix', status: 'crashed', error: 'Error: boom', command: 'kvmlab run s --seed=10' }]);
    expect(s.cells[1]).toMatchObject({ variant: 'merged', bugRate: 0, runs: 1 });
  });
});

describe('progress bar ETA', () => {
  it('no estimate before the first run; then the remaining runs at the rate so far', () => {
    expect(etaText(8, 0, 3)).toBe('-');
    expect(etaText(5, 3, 6)).toBe('10s');
    expect(etaText(997, 3, 6)).toBe('33m 14s');
    expect(etaText(99_000, 1000, 200)).toBe('5h 30m');
  });
});

describe('reproduce command', () => {
  it('spells out every option that differs from its default, booleans as --x / --no-x, values after =', () => {
    const def = installedScenarios.find((d) => d.name === 'nested-migration')!;
    const o = resolveScenarioOptions(def, { l1GiB: 2, enablePml: false, hotFraction: 0.55 });
    expect(reproduceCommand(def, 'x86_64', 'pre-fix', 12, o)).toBe('kvmlab run nested-migration --arch=x86_64 --variant=pre-fix --seed=12 --l1-gib=2 --hot-fraction=0.55 --no-enable-pml');
  });
});
