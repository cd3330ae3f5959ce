/**
 * `kvmlab sweep` as a user runs it (the built binary, real worker threads): the same results
 * with 1 and 2 workers, merged shards byte-identical to the unsharded sweep, resume, crashed
 * and killed runs recorded with their seed while the sweep goes on, reproduce commands, and
 * usage errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runOutputJson } from '../src/json-output.js';
import type { RunLine } from '../src/sweep/line.js';
import type { SweepSummary } from '../src/sweep/summary.js';
import { BIN, expectUsageError, PKG_DIR, type Captured } from './helpers.js';

const FIXTURE = join(PKG_DIR, 'test', 'fixtures', 'sweep-scenarios.mjs');
const FILES = ['sweep.json', 'runs.jsonl', 'summary.json', 'summary.txt'] as const;

function kvmlab(args: readonly string[], env: Readonly<Record<string, string>> = {}): Captured {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: PKG_DIR, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'kvmlab-sweep-'));
const read = (dir: string, f: string): string => readFileSync(join(dir, f), 'utf8');
const lines = (dir: string): RunLine[] => read(dir, 'runs.jsonl').trimEnd().split('\n').map((l) => JSON.parse(l) as RunLine);
const summary = (dir: string): SweepSummary => JSON.parse(read(dir, 'summary.json')) as SweepSummary;

function expectSameFiles(a: string, b: string, files: readonly string[] = FILES): void {
  for (const f of files) expect(read(b, f), f).toBe(read(a, f));
}

beforeAll(() => {
  const err = inject('cliBuildError');
  if (err !== '') throw new Error(err);
});

describe('kvmlab sweep: workers', () => {
  it('--workers 1 and --workers 2 write byte-identical runs, plan and summary (ptp-sync, randomised)', () => {
    const a = join(tmp(), 'w1');
    const b = join(tmp(), 'w2');
    const args = ['sweep', 'ptp-sync', '--arch', 'arm64', '--variant', 'merged', '--randomize', '--seeds', '0..5', '--compact'];
    const r1 = kvmlab([...args, '--workers', '1', '--out', a]);
    const r2 = kvmlab([...args, '--workers', '2', '--out', b]);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r2.status, r2.stderr).toBe(0);
    expectSameFiles(a, b);
    const ls = lines(a);
    expect(ls.map((l) => l.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // The randomised workload differs from seed to seed (and is what each line records).
    expect(new Set(ls.map((l) => l.options['offsetNs'])).size).toBe(6);
    expect(r1.stdout).toContain('randomised workload');
  });
});

describe('kvmlab sweep: shards and merge', () => {
  it('merge of 3 shards equals the unsharded sweep byte for byte, report included', () => {
    const root = tmp();
    const args = ['sweep', 'tiny', '--scenarios', FIXTURE, '--randomize', '--seeds', '0..9', '--set', 'crashEvery=0,4', '--workers', '2', '--report'];
    const whole = kvmlab([...args, '--out', join(root, 'whole')]);
    expect(whole.status).toBe(1); // crashEvery=4 makes seeds 3 and 7 throw
    for (const i of [0, 1, 2]) expect(kvmlab([...args, '--shard', `${i}/3`, '--out', join(root, `shard-${i}`)]).status).toBe(1);
    // Shard i holds runs i, i+3, …: a slice, not the whole grid.
    expect(lines(join(root, 'shard-1')).map((l) => l.index).slice(0, 3)).toEqual([1, 4, 7]);
    const m = kvmlab(['sweep', 'merge', join(root, 'shard-2'), join(root, 'shard-0'), join(root, 'shard-1'), '--out', join(root, 'merged'), '--report']);
    expect(m.status, m.stderr).toBe(1);
    expectSameFiles(join(root, 'whole'), join(root, 'merged'), [...FILES, 'report.html']);
    expect(m.stdout.split('\nwrote ')[0]).toBe(whole.stdout.split('\nwrote ')[0]);
    expect(summary(join(root, 'merged')).recorded).toBe(10 * 2 * 2);
  });

  it('merge refuses a missing shard, a shard given twice and shards of different sweeps (exit 2, one line)', () => {
    const root = tmp();
    const args = ['sweep', 'tiny', '--scenarios', FIXTURE, '--seeds', '0..3', '--workers', '1'];
    for (const i of [0, 1]) kvmlab([...args, '--shard', `${i}/3`, '--out', join(root, `s${i}`)]);
    kvmlab([...args, '--seeds', '0..4', '--shard', '2/3', '--out', join(root, 'other')]);
    expectUsageError(kvmlab(['sweep', 'merge', join(root, 's0'), join(root, 's1'), '--out', join(root, 'm')]), /shard 2\/3 missing/);
    expectUsageError(kvmlab(['sweep', 'merge', join(root, 's0'), join(root, 's0'), '--out', join(root, 'm')]), /given twice/);
    expectUsageError(kvmlab(['sweep', 'merge', join(root, 's0'), join(root, 's1'), join(root, 'other'), '--out', join(root, 'm')]), /different sweep/);
    // An interrupted shard (one run missing) is not merged into a summary.
    kvmlab([...args, '--shard', '2/3', '--out', join(root, 's2')]);
    const cut = read(join(root, 's2'), 'runs.jsonl').trimEnd().split('\n').slice(1);
    writeFileSync(join(root, 's2', 'runs.jsonl'), `${cut.join('\n')}\n`);
    expectUsageError(kvmlab(['sweep', 'merge', join(root, 's0'), join(root, 's1'), join(root, 's2'), '--out', join(root, 'm2')]), /the shards hold 7 of 8 runs: resume/);
    expect(existsSync(join(root, 'm2', 'summary.json'))).toBe(false);
  });
});

describe('kvmlab sweep: resume', () => {
  it('re-running into the same directory skips the runs already recorded and ends with the same files', () => {
    const root = tmp();
    const args = ['sweep', 'tiny', '--scenarios', FIXTURE, '--seeds', '0..7', '--workers', '2'];
    kvmlab([...args, '--out', join(root, 'ref')]);
    const dir = join(root, 'cut');
    const log = join(root, 'ran.log');
    const first = kvmlab([...args, '--out', dir], { SWEEP_FIXTURE_LOG: log });
    expect(first.status).toBe(0);
    expect(read(root, 'ran.log').trimEnd().split('\n')).toHaveLength(16);
    // As if the sweep had been killed: 5 runs missing and half a line written.
    const kept = read(dir, 'runs.jsonl').trimEnd().split('\n').filter((_, i) => ![1, 4, 6, 9, 15].includes(i));
    writeFileSync(join(dir, 'runs.jsonl'), `${kept.join('\n')}\n{"index":3,"seed":1,"varia`);
    writeFileSync(log, '');
    const again = kvmlab([...args, '--out', dir], { SWEEP_FIXTURE_LOG: log });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('11 run(s) already recorded, 5 run now');
    expect(read(root, 'ran.log').trimEnd().split('\n')).toHaveLength(5);
    expectSameFiles(join(root, 'ref'), dir);
    // Nothing left to do: a third run runs nothing.
    writeFileSync(log, '');
    expect(kvmlab([...args, '--out', dir], { SWEEP_FIXTURE_LOG: log }).stderr).toContain('16 run(s) already recorded, 0 run now');
    expect(read(root, 'ran.log')).toBe('');
  });

  it('a directory holding another sweep is refused (exit 2), not mixed', () => {
    const dir = join(tmp(), 'd');
    kvmlab(['sweep', 'tiny', '--scenarios', FIXTURE, '--seeds', '0..1', '--workers', '1', '--out', dir]);
    expectUsageError(kvmlab(['sweep', 'tiny', '--scenarios', FIXTURE, '--seeds', '0..2', '--workers', '1', '--out', dir]), /holds another sweep/);
  });
});

describe('kvmlab sweep: crashed and killed runs', () => {
  it('a run that throws is recorded with its seed and the error, the sweep goes on, exit status 1', () => {
    const dir = join(tmp(), 'c');
    const r = kvmlab(['sweep', 'tiny', '--scenarios', FIXTURE, '--seeds', '0..9', '--set', 'crashEvery=5', '--workers', '2', '--out', dir]);
    expect(r.status).toBe(1);
    const ls = lines(dir);
    expect(ls).toHaveLength(20);
    const crashed = ls.filter((l) => l.status === 'crashed');
    expect(crashed.map((l) => [l.seed, l.variant])).toEqual([[4, 'pre-fix'], [4, 'merged'], [9, 'pre-fix'], [9, 'merged']]);
    expect(crashed[0]!.error).toBe('RangeError: tiny: seed 4 throws on purpose');
    expect(ls.filter((l) => l.status === 'done')).toHaveLength(16);
    const s = summary(dir);
    expect(s.failures.map((f) => f.seed)).toEqual([4, 4, 9, 9]);
    expect(s.failures[0]!.command).toBe('kvmlab run tiny --arch=x86_64 --variant=pre-fix --seed=4 --crash-every=5');
    expect(r.stdout).toContain('#8 seed 4 pre-fix crashed: RangeError: tiny: seed 4 throws on purpose');
  });

  it('a run whose worker exits, and a run past --timeout, are recorded as killed; the others finish', () => {
    const root = tmp();
    const exit = kvmlab(['sweep', 'tiny', '--scenarios', FIXTURE, '--seeds', '0..5', '--variant', 'merged', '--set', 'crashEvery=3', '--set', 'mode=exit', '--workers', '2', '--out', join(root, 'e')]);
    expect(exit.status).toBe(1);
    const le = lines(join(root, 'e'));
    expect(le.filter((l) => l.status === 'killed').map((l) => l.seed)).toEqual([2, 5]);
    expect(le.find((l) => l.status === 'killed')!.error).toMatch(/worker died: .*exited with code: 7/);
    expect(le.filter((l) => l.status === 'done')).toHaveLength(4);
    const hang = kvmlab(['sweep', 'tiny', '--scenarios', FIXTURE, '--seeds', '0..3', '--variant', 'merged', '--set', 'crashEvery=4', '--set', 'mode=hang', '--workers', '2', '--timeout', '2', '--out', join(root, 'h')]);
    expect(hang.status).toBe(1);
    const lh = lines(join(root, 'h'));
    expect(lh.map((l) => l.status)).toEqual(['done', 'done', 'done', 'killed']);
    expect(lh[3]!.error).toBe('timed out after 2 s (worker terminated)');
  });
});

describe('kvmlab sweep: summary and reproduce commands', () => {
  it('per variant: bug rate and figure statistics from the runs; each worst run reproduces with kvmlab run', () => {
    const dir = join(tmp(), 's');
    const r = kvmlab(['sweep', 'tiny', '--scenarios', FIXTURE, '--randomize', '--seeds', '0..19', '--workers', '2', '--out', dir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as SweepSummary;
    expect(s).toEqual(summary(dir));
    const ls = lines(dir);
    const pre = s.cells.find((c) => c.variant === 'pre-fix')!;
    const bugs = ls.filter((l) => l.variant === 'pre-fix' && l.result?.verdict === 'bug-reproduced').length;
    expect(pre.bugRate).toBe(bugs / 20);
    const lost = ls.filter((l) => l.variant === 'pre-fix').map((l) => l.result!.headline.value as number).sort((a, b) => a - b);
    expect(pre.figures.find((f) => f.label === 'lost')).toMatchObject({ n: 20, min: lost[0], median: lost[9], max: lost[19] });
    // Worst first: the largest loss, ties to the earliest run.
    expect(pre.worst[0]!.headline).toBe(`lost: ${lost[19]}`);
    expect(s.cells.find((c) => c.variant === 'merged')!.bugRate).toBe(0);
  });

  it('the reproduce command of a randomised nvmx-hlt-cr3 run prints the same result as the sweep line', () => {
    const dir = join(tmp(), 'n');
    expect(kvmlab(['sweep', 'nvmx-hlt-cr3', '--randomize', '--seeds', '5', '--variant', 'pre-fix', '--workers', '1', '--out', dir]).status).toBe(0);
    const [line] = lines(dir);
    expect(line!.command).toMatch(/^kvmlab run nvmx-hlt-cr3 --arch=x86_64 --variant=pre-fix --seed=5 --frames=\d+/);
    const rerun = kvmlab(line!.command.split(' ').slice(1).concat('--json'));
    expect(runOutputJson.parse(JSON.parse(rerun.stdout)).result).toEqual(line!.result);
  });
});

describe('kvmlab sweep: usage errors (exit 2, one line, nothing run)', () => {
  const dir = (): string => join(tmp(), 'u');
  it.each([
    [['sweep', 'tiny', '--seeds', '5..1'], /option --seeds: range "5..1" runs backwards/],
    [['sweep', 'tiny', '--seeds', 'x'], /option --seeds: "x" is not a seed/],
    [['sweep', 'tiny', '--shard', '3/3'], /option --shard 3\/3: need 0 ≤ i < N/],
    [['sweep', 'tiny', '--set', 'nope=1'], /scenario tiny has no option "nope"/],
    [['sweep', 'tiny', '--set', 'size=0'], /option --size "0": must be ≥ 1/],
    [['sweep', 'tiny', '--variant', 'fixed'], /has no variant "fixed"/],
    [['sweep', 'plain', '--randomize'], /declares no randomised workload/],
    [['sweep', 'tiny', '--workers', '0'], /--workers must be an integer from 1 to 256/],
  ])('%j', (args, pattern) => {
    const out = dir();
    expectUsageError(kvmlab([...args, '--scenarios', FIXTURE, '--out', out]), pattern);
    expect(existsSync(join(out, 'runs.jsonl'))).toBe(false);
  });

  it('an unknown scenario names the known ones', () => {
    expectUsageError(kvmlab(['sweep', 'nope', '--out', dir()]), /unknown scenario "nope" \(known: .*nested-migration/);
  });
});

