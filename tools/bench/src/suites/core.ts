/**
 * hypervisor-core: dirty-log harvest, tracked guest writes, scheduler throughput, sparse memory.
 * Targets from the foundation issue.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createHypervisor,
  KVM_MEM_LOG_DIRTY_PAGES,
  Scheduler,
  type Vm,
} from '@kvmlab/hypervisor-core';
import { meanMs, ratioFigure, type Figure, type Suite } from '../harness.js';

const GiB = 1n << 30n;
const SLOT_64G_PAGES = 16 * 1024 * 1024;

function vm64g(): Vm {
  const vm = createHypervisor({ arch: 'x86_64' }).createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 64n * GiB });
  return vm;
}

async function dirtyLogFigures(): Promise<Figure[]> {
  // Baseline: what any GET must at least do, copy a 2 MiB bitmap out and zero it.
  const src = new Uint8Array(2 * 1024 * 1024).fill(0x5a);
  let sink = 0;
  const baseline = await meanMs('copy+zero 2 MiB', () => {
    const out = src.slice();
    src.fill(0);
    sink += out[0]!;
  });
  const out: Figure[] = [];
  for (const pct of [0, 1, 100]) {
    const vm = vm64g();
    const bm = vm.memslots.get(0, 0)!.dirtyBitmap!;
    const step = pct === 0 ? 0 : Math.round(100 / pct);
    const dirty = (): void => {
      if (step === 0) return;
      for (let p = 0; p < SLOT_64G_PAGES; p += step) bm.set(p);
    };
    const ms = await meanMs(`GET 64 GiB ${pct}%`, () => (sink += vm.getDirtyLog(0)[0]!), { beforeEach: dirty, timeMs: 600 });
    out.push(
      ratioFigure(
        {
          suite: 'core',
          id: `get-dirty-log-64g-${pct}pct`,
          description: `KVM_GET_DIRTY_LOG of a 64 GiB slot (16 Mi pages), ${pct} % dirty`,
          value: ms,
          unit: 'ms',
          baseline: { description: 'copy + zero of a 2 MiB buffer', value: baseline, unit: 'ms' },
        },
        2,
      ),
    );
  }
  if (sink === -1) console.log(sink);
  return out;
}

async function trackedWriteFigure(): Promise<Figure> {
  // Batches of 1024 writes per sample: one 100 ns call is below what a timer measures well.
  const BATCH = 1024;
  const page = new Uint8Array(4096).fill(7);
  const raw = Array.from({ length: BATCH }, () => new Uint8Array(4096));
  const rawMs = await meanMs('raw 4 KiB set ×1024', () => {
    for (let i = 0; i < BATCH; i++) raw[i]!.set(page);
  });
  const vm = vm64g();
  const vcpu = vm.createVcpu(0);
  for (let i = 0; i < BATCH; i++) vcpu.write(BigInt(i) << 12n, page);
  // After each GET the pages are write-protected again: every write below takes the fault path.
  const ms = await meanMs('tracked 4 KiB guest write ×1024', () => {
    for (let i = 0; i < BATCH; i++) vcpu.write(BigInt(i) << 12n, page);
  }, { beforeEach: () => void vm.getDirtyLog(0) });
  return ratioFigure(
    {
      suite: 'core',
      id: 'tracked-4k-write',
      description: 'guest 4 KiB page write through the MMU, each taking the write-protect fault path (per write)',
      value: ms / BATCH,
      unit: 'ms',
      baseline: { description: 'Uint8Array.set of 4 KiB (per write)', value: rawMs / BATCH, unit: 'ms' },
    },
    3,
  );
}

async function schedulerFigure(): Promise<Figure> {
  const N = 200_000;
  const ms = await meanMs('scheduler 200k events', () => {
    const s = new Scheduler();
    let n = 0;
    // A self-rescheduling workload with 64 interleaved timers, as a model's vCPUs and timers are.
    const tick = (): void => {
      if (++n < N) s.after(BigInt((n * 7919) % 1000) + 1n, tick);
    };
    for (let i = 0; i < 64; i++) s.schedule(BigInt(i), tick);
    s.run();
  }, { timeMs: 1500, iterations: 5 });
  const perSec = (N / ms) * 1000;
  return { suite: 'core', id: 'scheduler-throughput', description: 'discrete-event scheduler, events run per second (64 pending timers)', value: perSec, unit: 'events/s', target: '≥ 5 M events/s', met: perSec >= 5e6 };
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
