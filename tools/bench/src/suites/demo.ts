/**
 * Issue 23's whole-program figures: `kvmlab demo` wall time and peak RSS, measured by spawning
 * the built CLI as a user runs it (peak RSS from getrusage in the child, peak-rss-preload.mjs),
 * and nested-migration per variant at its default size (4 GiB L1), in process. Each repeated;
 * median, min–max and a verdict (targets: demo ≤ 3 s and ≤ 300 MB; nested-migration ≤ 1 s).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveScenarioOptions } from '@kvmlab/hypervisor-core';
import { nestedMigrationScenario } from '@kvmlab/kvm-mmu-pml';
import type { Figure, Suite } from '../harness.js';
import { repeated, verdictOfRepeated, type Repeated } from '../repeated.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'kvmlab.js');
const PRELOAD = fileURLToPath(new URL('../peak-rss-preload.mjs', import.meta.url));
const DEMO_RUNS = 3;
const MIGRATION_RUNS = 3;
const DEMO_TARGET_S = 3;
const DEMO_TARGET_MB = 300;
const MIGRATION_TARGET_S = 1;

function figure(id: string, description: string, r: Repeated, unit: string, target: string, ok: (x: number) => boolean): Figure {
  const verdict = verdictOfRepeated(r, ok);
  return { suite: 'demo', id, description, value: r.median, unit, spread: { min: r.min, max: r.max, reps: r.reps }, target, verdict, met: verdict === 'met' };
}

function demoOnce(): { wallS: number; rssMB: number; cpuS: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlab-bench-demo-'));
  try {
    const rssFile = join(dir, 'rss');
    const a = performance.now();
    const r = spawnSync(process.execPath, ['--import', PRELOAD, BIN, 'demo', '--seed', '0', '--out', join(dir, 'out')], {
      encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', KVMLAB_BENCH_RSS_FILE: rssFile }, maxBuffer: 64 << 20,
    });
    const wallS = (performance.now() - a) / 1000;
    if (r.status !== 0) throw new Error(`kvmlab demo exited ${r.status}: ${r.stderr}`);
    const u = JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRssKiB: number; cpuUs: number };
    return { wallS, rssMB: (u.maxRssKiB * 1024) / 1e6, cpuS: u.cpuUs / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function demoFigures(): Figure[] {
  const runs = Array.from({ length: DEMO_RUNS }, demoOnce);
  return [
    figure('demo-wall', `kvmlab demo (built CLI, seed 0, every scenario × variant), ${DEMO_RUNS} spawned runs`, repeated(runs.map((x) => x.wallS)), 's wall',
      `≤ ${DEMO_TARGET_S} s (median)`, (s) => s <= DEMO_TARGET_S),
    // On a shared machine the wall time includes waiting for a core; the CPU time mostly does not.
    { suite: 'demo', id: 'demo-cpu', description: `kvmlab demo CPU time of the CLI process (user + system), ${DEMO_RUNS} spawned runs (no target: what the wall time would be on an idle core)`,
      value: repeated(runs.map((x) => x.cpuS)).median, unit: 's CPU', spread: { min: Math.min(...runs.map((x) => x.cpuS)), max: Math.max(...runs.map((x) => x.cpuS)), reps: DEMO_RUNS } },
    figure('demo-peak-rss', `kvmlab demo peak RSS (getrusage maxrss of the CLI process), ${DEMO_RUNS} spawned runs`, repeated(runs.map((x) => x.rssMB)), 'MB',
      `≤ ${DEMO_TARGET_MB} MB (median)`, (mb) => mb <= DEMO_TARGET_MB),
  ];
}

function migrationFigures(): Figure[] {
  const def = nestedMigrationScenario;
  const options = resolveScenarioOptions(def, {});
  return def.variants.flatMap((variant) => {
    const walls: number[] = [];
    const cpus: number[] = [];
    let headline = '';
    for (let i = 0; i < MIGRATION_RUNS; i++) {
      const c = process.cpuUsage();
      const a = performance.now();
      const r = def.run({ variant, arch: 'x86_64', seed: 0, options });
      walls.push((performance.now() - a) / 1000);
      const d = process.cpuUsage(c);
      cpus.push((d.user + d.system) / 1e6);
      headline = `${r.headline.label} = ${r.headline.value}`;
    }
    const what = `nested-migration at its default size (${String(options.l1GiB)} GiB L1, nested + plain runs), ${variant}, seed 0`;
    const cpu = repeated(cpus);
    return [
      figure(`nested-migration-default-${variant}`, `${what}: ${headline}`, repeated(walls), 's wall', `≤ ${MIGRATION_TARGET_S} s (median)`, (s) => s <= MIGRATION_TARGET_S),
      { suite: 'demo', id: `nested-migration-default-${variant}-cpu`, description: `${what}: CPU time of the bench process (no target)`, value: cpu.median, unit: 's CPU', spread: { min: cpu.min, max: cpu.max, reps: cpu.reps } },
    ];
  });
}

export const demoSuite: Suite = {
  name: 'demo',
  async run() {
    return [...demoFigures(), ...migrationFigures()];
  },
};
