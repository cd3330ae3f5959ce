/**
 * `kvmlab sweep merge DIR…`: the shards of one sweep (same plan, shards 0..N-1 of one N, each
 * complete) into one directory whose runs.jsonl, sweep.json and summary are the unsharded
 * sweep's, byte for byte.
 */
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { SCHEMA_VERSION } from '../json-output.js';
import { finishSweep, type Finished } from './finish.js';
import { gridSize, planKey } from './plan.js';
import { readManifest, RUNS_FILE, writeManifest, type SweepManifest } from './store.js';

export function mergeSweeps(dirs: readonly string[], outDir: string): Finished & { readonly plan: SweepManifest['plan'] } {
  if (dirs.length === 0) throw new UsageError('give the shard directories to merge');
  if (dirs.some((d) => resolve(d) === resolve(outDir))) throw new UsageError(`--out ${outDir} is one of the directories to merge: give a new one`);
  const ms = dirs.map((d) => ({ dir: d, m: readManifest(d) }));
  const first = ms[0]!;
  for (const { dir, m } of ms) {
    if (planKey(m.plan) !== planKey(first.m.plan)) throw new UsageError(`${dir} is a different sweep from ${first.dir} (its sweep.json plan differs)`);
    if (m.shard === null && ms.length > 1) throw new UsageError(`${dir} is a whole sweep, not a shard: merge shards only`);
    if (m.shard !== null && m.shard.count !== first.m.shard?.count) throw new UsageError(`${dir} is shard ${m.shard.index}/${m.shard.count}, ${first.dir} is of ${first.m.shard?.count ?? 1}`);
  }
  const count = first.m.shard?.count ?? 1;
  const seen = new Map<number, string>();
  for (const { dir, m } of ms) {
    const i = m.shard?.index ?? 0;
    const other = seen.get(i);
    if (other !== undefined) throw new UsageError(`shard ${i}/${count} given twice: ${other} and ${dir}`);
    seen.set(i, dir);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new UsageError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing`);
  const plan = first.m.plan;
  const total = gridSize(plan);
  const manifest: SweepManifest = { schemaVersion: SCHEMA_VERSION, kind: 'sweep', plan, shard: null, runs: total };
  writeManifest(outDir, manifest);
  const finished = finishSweep(plan, ms.map(({ dir }) => join(dir, RUNS_FILE)), outDir, {
    runs: total,
    fail: (have) => new UsageError(`the shards hold ${have} of ${total} runs: resume the incomplete shard(s) with their own command, then merge again`),
  });
  return { ...finished, plan };
}
