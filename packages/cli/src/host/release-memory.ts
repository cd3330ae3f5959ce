/**
 * Between the demo's runs: give back what a finished scenario no longer needs before the next
 * one allocates. The block pool (hypervisor-core's guest-page blocks kept for reuse) is kept
 * while the same definition runs again (the second nested-migration variant reuses the first's
 * blocks instead of page-faulting fresh ones) and emptied after it. A full collection follows
 * only when it frees a lot (a big heap, or pooled blocks just let go): a finished 4 GiB run's
 * garbage is then gone before the next run grows the heap on top of it — V8 otherwise lets it
 * sit, and the demo's peak RSS was the second nested-migration run on top of the first's
 * garbage. (A forced collection after every small run cost more than it gave: each ages the
 * compiled code, and the next runs were slower.) Results are unchanged: no model reads this.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { blockPoolBytes, trimBlockPool } from '@kvmlab/hypervisor-core';

/** A heap this big after a run is mostly the run's garbage: collect it. */
const COLLECT_HEAP_BYTES = 64 * 1024 * 1024;

let collect: (() => void) | null | undefined;

/** global.gc without starting node with --expose-gc (null if this V8 will not give it). */
function collector(): (() => void) | null {
  if (collect !== undefined) return collect;
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === 'function') return (collect = own);
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    collect = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    collect = null;
  }
  return collect;
}

/** After a run: `sameDefinitionNext` keeps the block pool for the next run of that definition. */
export function releaseAfterRun(sameDefinitionNext: boolean): void {
  const pooled = sameDefinitionNext ? 0 : blockPoolBytes();
  if (!sameDefinitionNext) trimBlockPool();
  if (pooled > 0 || getHeapStatistics().used_heap_size > COLLECT_HEAP_BYTES) collector()?.();
}
