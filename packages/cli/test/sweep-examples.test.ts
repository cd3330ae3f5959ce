/**
 * The cluster examples in examples/sweep/, run locally with the repo's own binary: every
 * shard command of the Kubernetes Indexed Job (JOB_COMPLETION_INDEX = 0..completions−1) and of
 * the Slurm array script (SLURM_ARRAY_TASK_ID), then each example's merge step; the merged
 * sweep must equal the sweep run unsharded on one machine, byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BIN, PKG_DIR } from './helpers.js';

const EXAMPLES = join(PKG_DIR, 'examples', 'sweep');
const FILES = ['sweep.json', 'runs.jsonl', 'summary.json', 'summary.txt'];
/** Small enough for a test: the examples' own SEEDS is 0..999. */
const LOCAL = { SCENARIO: 'vmx-dirty-log', SEEDS: '0..6', KVMLAB: `${process.execPath} ${BIN}` }; // word-split by the scripts: paths without spaces

interface Container {
  env: { name: string; value: string }[];
  command: string[];
  args: string[];
}
interface JobDoc {
  spec: { completions?: number; completionMode?: string; template: { spec: { containers: Container[] } } };
}

const job = (file: string): JobDoc => parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8'))[0]!.toJS() as JobDoc;

function sh(script: string, env: Readonly<Record<string, string>>, args: readonly string[] = [], shell = 'sh'): { status: number; out: string } {
  const r = spawnSync(shell, [...(shell === 'sh' ? ['-c', script, 'sh'] : [script]), ...args], { encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** The container's command as a pod runs it: its env list, then ours on top. */
function runContainer(c: Container, env: Readonly<Record<string, string>>): { status: number; out: string } {
  expect(c.command).toEqual(['sh', '-c']);
  const base = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
  return sh(c.args[0]!, { ...base, ...env });
}

function unsharded(results: string, scenario: string): string {
  const dir = join(results, 'whole');
  const r = spawnSync(process.execPath, [BIN, 'sweep', scenario, '--randomize', '--variant', 'all', '--seeds', LOCAL.SEEDS, '--compact', '--workers', '2', '--out', dir], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

const read = (dir: string, f: string): string => readFileSync(join(dir, f), 'utf8');

beforeAll(() => {
  const err = inject('cliBuildError');
  if (err !== '') throw new Error(err);
});

describe('examples/sweep: Kubernetes Indexed Job', () => {
  it('the indexed pods shard the sweep and the merge Job gives the unsharded result', () => {
    const spec = job('k8s-indexed-job.yaml').spec;
    expect(spec.completionMode).toBe('Indexed');
    const container = spec.template.spec.containers[0]!;
    const shards = Number(container.env.find((e) => e.name === 'SHARDS')!.value);
    expect(spec.completions).toBe(shards);
    const results = mkdtempSync(join(tmpdir(), 'kvmlab-k8s-'));
    for (let k = 0; k < shards; k++) {
      const r = runContainer(container, { ...LOCAL, RESULTS: results, JOB_COMPLETION_INDEX: String(k) });
      expect(r.status, r.out).toBe(0);
    }
    const merge = runContainer(job('k8s-merge-job.yaml').spec.template.spec.containers[0]!, { ...LOCAL, RESULTS: results });
    expect(merge.status, merge.out).toBe(0);
    const whole = unsharded(results, LOCAL.SCENARIO);
    for (const f of FILES) expect(read(join(results, LOCAL.SCENARIO, 'merged'), f), f).toBe(read(whole, f));
    expect(read(join(results, LOCAL.SCENARIO, 'merged'), 'report.html')).toContain('<svg');
  });
});

describe('examples/sweep: Slurm job array', () => {
  it('each array task runs its shard and `slurm-array.sh merge` gives the unsharded result', () => {
    const script = join(EXAMPLES, 'slurm-array.sh');
    const text = readFileSync(script, 'utf8');
    const array = /^#SBATCH --array=0-(\d+)$/m.exec(text);
    expect(array).not.toBeNull();
    const count = Number(array![1]) + 1;
    const results = mkdtempSync(join(tmpdir(), 'kvmlab-slurm-'));
    const env = { ...LOCAL, RESULTS: results, SLURM_ARRAY_TASK_COUNT: String(count), SLURM_CPUS_PER_TASK: '1' };
    for (let k = 0; k < count; k++) {
      const r = sh(script, { ...env, SLURM_ARRAY_TASK_ID: String(k) }, [], 'bash');
      expect(r.status, r.out).toBe(0);
    }
    const merge = sh(script, env, ['merge'], 'bash');
    expect(merge.status, merge.out).toBe(0);
    const whole = unsharded(results, LOCAL.SCENARIO);
    for (const f of FILES) expect(read(join(results, LOCAL.SCENARIO, 'merged'), f), f).toBe(read(whole, f));
  });

  it('outside sbatch the script says what is missing instead of sweeping', () => {
    const r = sh(join(EXAMPLES, 'slurm-array.sh'), { ...LOCAL, RESULTS: mkdtempSync(join(tmpdir(), 'kvmlab-slurm-')) }, [], 'bash');
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('SLURM_ARRAY_TASK_ID');
  });
});
