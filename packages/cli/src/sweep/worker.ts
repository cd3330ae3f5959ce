/**
 * A sweep worker thread (piscina loads it): runs one scenario run per task, exactly as
 * `kvmlab run` would, and returns the result's JSON. A run that throws comes back as an
 * error reply (the sweep records it as crashed and goes on); a worker that dies takes only
 * its current run with it (the pool records that one as killed).
 */
import { threadId } from 'node:worker_threads';
import type { ScenarioCatalog } from '../catalog.js';
import { runScenario } from '../runner.js';
import { loadCatalog, sourceKey } from './scenario-source.js';
import type { WorkerReply, WorkerTask } from './task.js';

const catalogs = new Map<string, Promise<ScenarioCatalog>>();

export default async function runTask(task: WorkerTask): Promise<WorkerReply> {
  const key = sourceKey(task.source);
  let catalog = catalogs.get(key);
  if (catalog === undefined) {
    catalog = loadCatalog(task.source);
    catalogs.set(key, catalog);
  }
  try {
    const { def } = (await catalog).resolve(task.scenario, task.arch);
    const { json } = runScenario({ def, arch: task.arch, variant: task.variant, seed: task.seed, options: task.options, trace: false });
    const { series: _series, details: _details, ...compact } = json;
    return { ok: true, json: JSON.stringify(task.compact ? compact : json), thread: threadId };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), thread: threadId };
  }
}
