/**
 * hypervisor-core: dirty-log harvest, tracked guest writes, scheduler throughput, sparse memory.
 * Targets from the foundation issue.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createHypervisor,
  KVM_MEM_LOG_DIRTY_PAGES,
  type Vm,
} from '@kvmlab/hypervisor-core';
import { type Figure, type Suite } from '../harness.js';
import { pairedRatio, verdictOf, type PairResult } from '../paired.js';

const GiB = 1n << 30n;
const SLOT_64G_PAGES = 16 * 1024 * 1024;

function vm64g(): Vm {
  const vm = createHypervisor({ arch: 'x86_64' }).createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 64n * GiB });
  return vm;
}

/** A paired figure: value B, baseline A, the median ratio with its spread and a verdict. */
function pairedFigure(id: string, description: string, r: PairResult, value: number, unit: string, baseline: { description: string; value: number; unit: string }, target: string, ok: (ratio: number) => boolean): Figure {
  const verdict = verdictOf(r.ratio, ok);
  return {
    suite: 'core', id, description, value, unit, baseline, ratio: r.ratio.median, spread: { min: r.ratio.min, max: r.ratio.max, reps: r.reps },
    target, verdict, met: verdict === 'met',
  };
}

async function dirtyLogFigures(): Promise<Figure[]> {
  // Baseline: what any GET must at least do, copy a 2 MiB bitmap out and zero it.
  const src = new Uint8Array(2 * 1024 * 1024).fill(0x5a);
  let sink = 0;
  const copyZero = (): void => {
    const out = src.slice();
    src.fill(0);
    sink += out[0]!;
  };
  const out: Figure[] = [];
  for (const pct of [0, 1, 100]) {
    const vm = vm64g();
    const bm = vm.memslots.get(0, 0)!.dirtyBitmap!;
    const step = pct === 0 ? 0 : Math.round(100 / pct);
    const dirty = (): void => {
      if (step === 0) return;
      for (let p = 0; p < SLOT_64G_PAGES; p += step) bm.set(p);
    };
    const r = await pairedRatio(`GET 64 GiB ${pct}%`, copyZero, () => (sink += vm.getDirtyLog(0)[0]!), { beforeEachB: dirty, timeMs: 200 });
    out.push(pairedFigure(
      `get-dirty-log-64g-${pct}pct`, `KVM_GET_DIRTY_LOG of a 64 GiB slot (16 Mi pages), ${pct} % dirty`, r, r.bMs, 'ms',
      { description: 'copy + zero of a 2 MiB buffer', value: r.aMs, unit: 'ms' }, '≤ 2× baseline (median of pairs)', (x) => x <= 2,
    ));
  }
  if (sink === -1) console.log(sink);
  return out;
}

async function trackedWriteFigure(): Promise<Figure> {
  // Batches of 1024 writes per sample: one 100 ns call is below what a timer measures well.
  const BATCH = 1024;
  const page = new Uint8Array(4096).fill(7);
  const raw = Array.from({ length: BATCH }, () => new Uint8Array(4096));
  const vm = vm64g();
  const vcpu = vm.createVcpu(0);
  for (let i = 0; i < BATCH; i++) vcpu.write(BigInt(i) << 12n, page);
  // After each GET the pages are write-protected again: every write below takes the fault path.
  // The GET goes into one reused buffer, as a VMM's ioctl does: a new 2 MiB array per sample made
  // V8 run incremental marking for that garbage inside the timed writes (their mean was 4-7× their
  // median after the dirty-log figures, the raw side's 1.6-2.5×), which is not the write's cost.
  const bitmap = new Uint8Array(vm.memslots.get(0, 0)!.dirtyBitmap!.bytes.length);
  const r = await pairedRatio('tracked 4 KiB write ×1024', () => {
    for (let i = 0; i < BATCH; i++) raw[i]!.set(page);
  }, () => {
    for (let i = 0; i < BATCH; i++) vcpu.write(BigInt(i) << 12n, page);
  }, { beforeEachB: () => void vm.getDirtyLog(0, bitmap) });
  return pairedFigure(
    'tracked-4k-write', 'guest 4 KiB page write through the MMU, each taking the write-protect fault path (per write)', r, r.bMs / BATCH, 'ms',
    { description: 'Uint8Array.set of 4 KiB (per write)', value: r.aMs / BATCH, unit: 'ms' }, '≤ 2× baseline (median of pairs)', (x) => x <= 2, // issue 23 (was 3×)
  );
}

async function schedulerFigure(): Promise<Figure> {
  // Both queues in a fresh process (scheduler-child.ts): here, after the other figures, the
  // Scheduler's call sites are polymorphic and the plain heap's are not.
  const child = fileURLToPath(new URL('../scheduler-child.ts', import.meta.url));
  const c = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx/esm', child], { encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`scheduler child failed: ${c.stderr}`);
  const r = JSON.parse(c.stdout) as PairResult & { events: number };
  const N = r.events;
  const perSec = (N / r.bMs) * 1000;
  const speed = 1 / r.ratio.median; // throughput relative to the plain heap
  const verdict = verdictOf(r.ratio, (x) => x <= 1);
  return {
    suite: 'core', id: 'scheduler-throughput', description: 'discrete-event scheduler, events run per second (64 pending timers), against a plain number binary heap (both in a fresh process)',
    value: perSec, unit: 'events/s', baseline: { description: 'plain binary heap of numbers, same events', value: (N / r.aMs) * 1000, unit: 'events/s' },
    ratio: speed, spread: { min: 1 / r.ratio.max, max: 1 / r.ratio.min, reps: r.reps }, target: '≥ 1× the plain heap (median of pairs)', verdict, met: verdict === 'met',
  };
}

function rssFigure(): Figure {
  const child = fileURLToPath(new URL('../rss-child.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx/esm', child], { encoding: 'utf8' }); // the built packages, as the parent
  if (r.status !== 0) throw new Error(`rss child failed: ${r.stderr}`);
  const { baseRss, rss, residentPages } = JSON.parse(r.stdout) as { baseRss: number; rss: number; residentPages: number };
  const gib = rss / 2 ** 30;
  return {
    suite: 'core',
    id: 'sparse-1t-rss',
    description: `RSS of a process with a 1 TiB slot after 1 GiB of guest writes (${residentPages} pages resident)`,
    value: gib,
    unit: 'GiB',
    baseline: { description: 'RSS of the same process before the writes', value: baseRss / 2 ** 30, unit: 'GiB' },
    ratio: gib / 1,
    target: '≤ 1.3 GiB',
    met: gib <= 1.3,
  };
}

export const coreSuite: Suite = {
  name: 'core',
  async run() {
    return [...(await dirtyLogFigures()), await trackedWriteFigure(), await schedulerFigure(), rssFigure()];
  },
};
