/**
 * The sweep journal read back after a kill or a crash (src/sweep/store.ts): a line cut short is
 * cut off before the next append, a damaged line is skipped, the last whole line of an index
 * wins, killed runs are tried again, a line of another grid position is not taken for this
 * one's; a directory that holds another shard is refused.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../src/json-output.js';
import type { RunLine, RunStatus } from '../src/sweep/line.js';
import type { SweepPlan } from '../src/sweep/plan.js';
import { appendRun, openSweepDir, scan, writeSortedRuns, type SweepManifest } from '../src/sweep/store.js';

const plan: SweepPlan = {
  kvmlabVersion: '0', scenario: 's', package: 'p', arch: 'x86_64', variants: ['pre-fix', 'merged'], seeds: [[0, 4]],
  set: [], randomize: false, distributions: {}, compact: true, worst: 3,
};
const manifest = (shard: SweepManifest['shard'] = null): SweepManifest => ({ schemaVersion: SCHEMA_VERSION, kind: 'sweep', plan, shard, runs: 10 });
const line = (index: number, status: RunStatus = 'done'): RunLine => ({ index, seed: index >> 1, variant: plan.variants[index % 2]!, options: {}, status, command: `kvmlab run s --seed=${index >> 1}` });
const text = (l: RunLine): string => `${JSON.stringify(l)}\n`;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kvmlab-store-'));

describe('the journal after a kill', () => {
  it('a last line cut short is cut off, so the next run appends a line of its own', () => {
    const dir = tmp();
    openSweepDir(dir, manifest());
    for (const i of [0, 1, 2]) appendRun(dir, line(i));
    const whole = readFileSync(join(dir, 'runs.jsonl'), 'utf8');
    writeFileSync(join(dir, 'runs.jsonl'), `${whole}${text(line(3)).slice(0, 25)}`);
    const opened = openSweepDir(dir, manifest());
    expect([...opened.recorded].sort()).toEqual([0, 1, 2]);
    expect(opened.cutBytes).toBe(25);
    expect(readFileSync(join(dir, 'runs.jsonl'), 'utf8')).toBe(whole);
    appendRun(dir, line(3));
    expect(readFileSync(join(dir, 'runs.jsonl'), 'utf8')).toBe(`${whole}${text(line(3))}`);
  });

  it('a damaged whole line is skipped (its run runs again), not a reason to refuse the directory', () => {
    const dir = tmp();
    openSweepDir(dir, manifest());
    writeFileSync(join(dir, 'runs.jsonl'), `${text(line(0))}{"index":1,"seed":0,"vari\n\u0000\u0000\n${text(line(2))}["not a run"]\n${text(line(4, 'killed'))}`);
    const opened = openSweepDir(dir, manifest());
    expect(opened.damaged).toBe(3);
    expect(opened.cutBytes).toBe(0);
    // Killed runs are tried again; the damaged line's run 1 is simply missing.
    expect([...opened.recorded].sort()).toEqual([0, 2]);
    const out = tmp();
    expect(writeSortedRuns([join(dir, 'runs.jsonl')], out)).toEqual([0, 2, 4]);
    expect(readFileSync(join(out, 'runs.jsonl'), 'utf8')).toBe(`${text(line(0))}${text(line(2))}${text(line(4, 'killed'))}`);
  });

  test.prop([fc.array(fc.tuple(fc.nat(9), fc.constantFrom<RunStatus>('done', 'crashed', 'killed')), { maxLength: 30 }), fc.nat(400)])(
    'whatever a kill leaves, the whole lines read back are the ones written, the last of each index winning',
    (writes, cut) => {
      const full = writes.map(([i, s]) => text(line(i, s))).join('');
      const kept = Buffer.from(full).subarray(0, Math.max(0, full.length - cut));
      const { entries, validEnd, damaged } = scan(kept);
      expect(damaged).toBe(0);
      const whole = kept.subarray(0, validEnd).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as RunLine);
      const last = new Map(whole.map((l) => [l.index, l.status]));
      expect(new Map([...entries].map(([i, e]) => [i, e.status]))).toEqual(last);
    },
  );
});

describe('lines of another grid', () => {
  it('a run line whose index is outside the grid or the shard, or whose seed or variant is not its grid position\'s, is damaged', () => {
    const dir = tmp();
    openSweepDir(dir, manifest({ index: 0, count: 2 }));
    const wrongSeed = { ...line(2), seed: 3 };
    writeFileSync(join(dir, 'runs.jsonl'), `${text(line(0))}${text(line(1))}${text(wrongSeed)}${text(line(10))}${text(line(4))}`);
    const opened = openSweepDir(dir, manifest({ index: 0, count: 2 }));
    expect(opened.damaged).toBe(3);
    expect([...opened.recorded].sort()).toEqual([0, 4]);
    const out = tmp();
    expect(writeSortedRuns([join(dir, 'runs.jsonl')], out, { plan })).toEqual([0, 1, 4]);
  });
});

describe('the directory', () => {
  it('refuses another shard of the same sweep, naming both', () => {
    const dir = tmp();
    openSweepDir(dir, manifest());
    expect(() => openSweepDir(dir, manifest({ index: 1, count: 2 }))).toThrow(`${dir} holds the whole grid of this sweep, not shard 1/2: give each shard its own --out`);
  });
});
