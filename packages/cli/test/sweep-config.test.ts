/**
 * `kvmlab sweep` of a scenario from the user's kvmlab.config.ts (test/fixtures/sweep-config: one
 * file, one scenario with a randomised workload), run from that folder as a user runs it: the
 * main thread finds the scenario and every worker thread loads the same config to run it, so
 * 1 and 2 workers give the same files, and merged shards equal the unsharded sweep byte for
 * byte. `--config` names the file from elsewhere; `--no-config` leaves it out. A catalog
 * handed to runCli in-process cannot reach the workers: refused.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunLine } from '../src/sweep/line.js';
import { fakeScenario } from './fake-scenario.js';
import { cli, expectUsageError, PKG_DIR, spawnCli } from './helpers.js';

const CONFIG_DIR = join(PKG_DIR, 'test', 'fixtures', 'sweep-config');
const ARGS = ['sweep', 'ring-drop', '--randomize', '--seeds', '0..5', '--report'];
const FILES = ['sweep.json', 'runs.jsonl', 'summary.json', 'summary.txt', 'report.html'];

const read = (dir: string, f: string): string => readFileSync(join(dir, f), 'utf8');
const lines = (dir: string): RunLine[] => read(dir, 'runs.jsonl').trimEnd().split('\n').map((l) => JSON.parse(l) as RunLine);

function expectSameFiles(a: string, b: string): void {
  for (const f of FILES) expect(read(b, f), f).toBe(read(a, f));
}

beforeAll(() => {
  const err = inject('cliBuildError');
  if (err !== '') throw new Error(err);
});

describe('kvmlab sweep: a scenario of kvmlab.config.ts', () => {
  const root = mkdtempSync(join(tmpdir(), 'kvmlab-sweep-cfg-'));
  const one = join(root, 'w1');

  it('runs in the worker threads: --workers 1 and --workers 2 write the same files', () => {
    const r1 = spawnCli([...ARGS, '--workers', '1', '--out', one], CONFIG_DIR);
    const r2 = spawnCli([...ARGS, '--workers', '2', '--out', join(root, 'w2')], CONFIG_DIR);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r2.status, r2.stderr).toBe(0);
    expectSameFiles(one, join(root, 'w2'));
    const ls = lines(one);
    expect(ls).toHaveLength(12);
    // Every run finished in a worker, with the config scenario's own result and drawn workload.
    expect(ls.every((l) => l.status === 'done' && l.result?.package === 'kvmlab.config.ts')).toBe(true);
    expect(new Set(ls.map((l) => l.options['slots'])).size).toBeGreaterThan(1);
    expect(ls.filter((l) => l.variant === 'pre-fix').some((l) => l.result?.verdict === 'bug-reproduced')).toBe(true);
    expect(r1.stdout).toMatch(/^sweep ring-drop \(x86_64, kvmlab\.config\.ts\): 12 of 12 runs recorded, 6 seeds$/m);
    expect(JSON.parse(read(join(root, 'w2'), 'invocation.json'))).toMatchObject({ workers: 2, ran: 12 });
  });

  it('shards 0/2 and 1/2 merged (from the config folder) equal the unsharded sweep byte for byte', () => {
    for (const i of [0, 1]) {
      const r = spawnCli([...ARGS, '--workers', '2', '--shard', `${i}/2`, '--out', join(root, `shard-${i}`)], CONFIG_DIR);
      expect(r.status, r.stderr).toBe(0);
    }
    const m = spawnCli(['sweep', 'merge', join(root, 'shard-1'), join(root, 'shard-0'), '--out', join(root, 'merged'), '--report'], CONFIG_DIR);
    expect(m.status, m.stderr).toBe(0);
    expectSameFiles(one, join(root, 'merged'));
  });

  it('--config names the file from another folder (same files); --no-config leaves the scenario out', () => {
    const other = join(root, 'by-flag');
    const r = spawnCli(['--config', join(CONFIG_DIR, 'kvmlab.config.ts'), ...ARGS, '--workers', '2', '--out', other]);
    expect(r.status, r.stderr).toBe(0);
    expectSameFiles(one, other);
    expectUsageError(spawnCli([...ARGS, '--no-config', '--out', join(root, 'none')], CONFIG_DIR), /unknown scenario "ring-drop"/);
  });
});

describe('kvmlab sweep embedded: runCli with a catalog of its own', () => {
  it('is refused before any run (exit 2): its scenarios cannot reach the worker threads', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kvmlab-sweep-emb-')), 'o');
    const r = await cli(['sweep', fakeScenario.name, '--seeds', '0..1', '--out', out], [fakeScenario]);
    expectUsageError(r, /^kvmlab: sweep runs its scenarios in worker threads, which cannot see a catalog given to runCli: give the scenarios as an ES module with --scenarios$/);
    expect(existsSync(out)).toBe(false);
  });
});
