/**
 * The worker-thread pool of a sweep: piscina (Node.js's widely used pool, from the Node.js
 * core team; it rejects a task whose worker exits or runs out of memory and starts a new
 * worker, which is what lets a sweep record a killed run and go on). One task per worker at a
 * time: runs are CPU-bound.
 */
import { Piscina } from 'piscina';
import type { WorkerReply, WorkerTask } from './task.js';

export type PoolReply = WorkerReply | { readonly ok: false; readonly killed: true; readonly error: string };

export interface SweepPool {
  /** Runs one task; never rejects (a dead worker or a timeout becomes a `killed` reply). */
  run(task: WorkerTask, timeoutMs?: number): Promise<PoolReply>;
  close(): Promise<void>;
}

/**
 * The worker module: bin/sweep-worker.cjs, a CommonJS entry that import()s the built worker.js
 * (why CommonJS: that file's comment), or in a source checkout the tsx bootstrap.
 */
function workerFile(): { filename: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { filename: new URL('./worker-source.mjs', here).href, execArgv: ['--conditions=@kvmlab/source'] };
  return { filename: new URL('../../bin/sweep-worker.cjs', here).href, execArgv: [] };
}

export function createPool(workers: number): SweepPool {
  const { filename, execArgv } = workerFile();
  const pool = new Piscina({ filename, execArgv, minThreads: workers, maxThreads: workers, concurrentTasksPerWorker: 1, idleTimeout: 60_000 });
  // Errors that belong to no task (a worker failing while idle) must not end the sweep.
  pool.on('error', () => undefined);
  return {
    async run(task, timeoutMs) {
      try {
        const signal = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
        return (await pool.run(task, signal !== undefined ? { signal } : {})) as WorkerReply;
      } catch (e) {
        const timedOut = e instanceof Error && e.name === 'AbortError';
        const why = timedOut ? `timed out after ${(timeoutMs ?? 0) / 1000} s (worker terminated)` : e instanceof Error ? `worker died: ${e.message}` : `worker died: ${String(e)}`;
        return { ok: false, killed: true, error: why };
      }
    },
    close: () => pool.destroy(),
  };
}
