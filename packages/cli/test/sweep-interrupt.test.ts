/**
 * Stopping a sweep as a user does — Ctrl-C (SIGINT) or a scheduler's SIGTERM while runs are
 * under way — and resuming it: the built binary, real worker threads. The stopped sweep exits
 * 128 + the signal's number with one line saying how to resume; its journal holds whole lines
 * of the finished runs only (the runs under way are dropped, not recorded as killed); the
 * re-run runs exactly the missing runs and ends with the files of a sweep never stopped.
 * The fixture's SWEEP_FIXTURE_HANG_SEEDS makes chosen runs hang, so the signal always finds
 * runs under way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunLine } from '../src/sweep/line.js';
import { BIN, PKG_DIR } from './helpers.js';

const FIXTURE = join(PKG_DIR, 'test', 'fixtures', 'sweep-scenarios.mjs');
const ARGS = ['sweep', 'tiny', '--scenarios', FIXTURE, '--seeds', '0..7', '--variant', 'merged', '--workers', '2'];
const FILES = ['sweep.json', 'runs.jsonl', 'summary.json', 'summary.txt'];

const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
const count = (f: string): number => read(f).split('\n').filter((l) => l !== '').length;

interface Stopped {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Starts the sweep, waits until `ready()` (polling), sends `sig`, and waits for the exit. */
async function sweepUntil(out: string, env: Readonly<Record<string, string>>, ready: () => boolean, sig: NodeJS.Signals): Promise<Stopped> {
  const child = spawn(process.execPath, [BIN, ...ARGS, '--out', out], { cwd: PKG_DIR, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
  const exited = new Promise<Stopped>((res) => child.on('exit', (status, signal) => res({ status, signal, stderr })));
  let done = false;
  void exited.then(() => void (done = true));
  while (!ready() && !done) await sleep(50);
  child.kill(sig);
  return exited;
}

beforeAll(() => {
  const err = inject('cliBuildError');
  if (err !== '') throw new Error(err);
});

describe('kvmlab sweep: Ctrl-C and SIGTERM mid-run, then resume', () => {
  it('stops with whole lines and a resume hint (exit 130, 143); the re-runs end as a sweep never stopped', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kvmlab-sweep-int-'));
    const ref = spawnSync(process.execPath, [BIN, ...ARGS, '--out', join(root, 'ref')], { cwd: PKG_DIR, encoding: 'utf8', timeout: 120_000 });
    expect(ref.status, ref.stderr).toBe(0);
    const dir = join(root, 'd');
    const journal = join(dir, 'runs.jsonl');
    const log = join(root, 'ran.log');
    // Seeds 3 and 7 hang: once all 8 runs have started, the 6 others are recorded and 2 are under way.
    const first = await sweepUntil(dir, { SWEEP_FIXTURE_LOG: log, SWEEP_FIXTURE_HANG_SEEDS: '3,7' }, () => count(log) === 8 && count(journal) === 6, 'SIGINT');
    expect(first.signal).toBeNull();
    expect(first.status).toBe(130);
    expect(first.stderr).toBe(`kvmlab: sweep interrupted by SIGINT: 6 of 8 runs recorded in ${dir} (the runs under way were dropped); run the same command again to resume\n`);
    const kept = read(journal);
    expect(kept.endsWith('\n')).toBe(true);
    const lines = kept.trimEnd().split('\n').map((l) => JSON.parse(l) as RunLine);
    expect(lines.map((l) => l.seed).sort()).toEqual([0, 1, 2, 4, 5, 6]);
    expect(lines.every((l) => l.status === 'done')).toBe(true);
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
    expect(JSON.parse(read(join(dir, 'invocation.json')))).toMatchObject({ workers: 2, ran: 6, skipped: 0, interrupted: true });

    // Resumed, seed 7 hangs again: SIGTERM (a scheduler preempting the job) once seed 3 is recorded.
    writeFileSync(log, '');
    const second = await sweepUntil(dir, { SWEEP_FIXTURE_LOG: log, SWEEP_FIXTURE_HANG_SEEDS: '7' }, () => count(log) === 2 && count(journal) === 7, 'SIGTERM');
    expect(second.status).toBe(143);
    expect(second.stderr).toContain('interrupted by SIGTERM: 7 of 8 runs recorded');
    expect(read(log).trimEnd().split('\n').sort()).toEqual(['merged 3', 'merged 7']);

    writeFileSync(log, '');
    const last = spawnSync(process.execPath, [BIN, ...ARGS, '--out', dir], { cwd: PKG_DIR, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SWEEP_FIXTURE_LOG: log } });
    expect(last.status, last.stderr).toBe(0);
    expect(last.stderr).toBe(`kvmlab: resumed ${dir}: 7 run(s) already recorded, 1 run now\n`);
    expect(read(log)).toBe('merged 7\n');
    for (const f of FILES) expect(read(join(dir, f)), f).toBe(read(join(root, 'ref', f)));
  }, 120_000);
});
