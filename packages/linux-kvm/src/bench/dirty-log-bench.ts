/**
 * Racing the kernel: the same dirty-log work on /dev/kvm and on hypervisor-core's model, timed
 * in one run. Each figure is the median of `iterations` timed calls of the ioctl (kernel) or
 * the Vm method (model); set-up (slot creation, re-arming) is never inside the timed region.
 */
import {
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  KVM_MEM_LOG_DIRTY_PAGES,
  createHypervisor,
  type Vm,
} from '@kvmlab/hypervisor-core';
import { isAvailable } from '../available.js';
import { KvmSystem, type KvmVm } from '../ffi/kvm.js';
import { HostMapping } from '../ffi/mapping.js';
import { runGuestWrites } from '../guest/run-guest.js';

export const GiB = 1n << 30n;
const MANUAL_INIT = BigInt(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);

export type BenchWork = 'get-64g-clean' | 'get-64g-all-dirty' | 'clear-64g-all' | 'guest-1pct-1g' | 'get-1pct-1g';

export interface BenchRow {
  readonly work: BenchWork;
  readonly title: string;
  /** Median milliseconds; null when the kernel cannot be used here. */
  readonly kernelMs: number | null;
  /**
   * GET only: the kernel copying into a fresh, never-touched user buffer each call (so it pays
   * the page faults), which is what the model's API does: it returns a new array every call.
   */
  readonly kernelFreshBufferMs: number | null;
  readonly modelMs: number;
  /** model / kernel. */
  readonly ratio: number | null;
  /** The goal: the model within `maxRatio` × the kernel's time. */
  readonly maxRatio: number | null;
  readonly met: boolean | null;
}

export interface BenchOptions {
  readonly iterations?: number;
  /** Time the kernel too (default: when /dev/kvm is usable). */
  readonly live?: boolean;
  /** Size of the big slot (default 64 GiB). */
  readonly bigSlot?: bigint;
  /** Size of the guest-dirtied slot (default 1 GiB). */
  readonly smallSlot?: bigint;
}

export interface BenchReport {
  readonly uname: string | null;
  readonly kernelSkipped: string | null;
  readonly iterations: number;
  readonly rows: readonly BenchRow[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times `fn` after `arm` (untimed) `n` times; median ms. */
function timeMs(n: number, arm: () => void, fn: () => void): number {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    arm();
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(out);
}

/** One page in a hundred, spread over the slot: the 1 % pattern. */
export function onePercentPages(npages: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < npages; p += 100) out.push(p);
  return out;
}

type Timings = Record<BenchWork, number>;
type FreshTimings = Partial<Record<BenchWork, number>>;

/** GET into a freshly mapped buffer each time (mapping and unmapping untimed). */
function timeFreshGet(n: number, vm: KvmVm, bytes: number, arm: () => void = () => undefined): number {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    arm();
    const b = HostMapping.anonymous(BigInt(Math.ceil(bytes / 4096) * 4096));
    const t0 = process.hrtime.bigint();
    vm.getDirtyLogAt(0, b.addr);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    b.release();
  }
  return median(out);
}

const SMALL_BASE = 0x1000_0000n; // the 1 GiB slot at 256 MiB, below 4 GiB for flat32 guest code
const BIG_BASE = 0x10_0000_0000n; // the 64 GiB slot at 64 GiB

function modelTimings(n: number, big: bigint, small: bigint): Timings {
  const bigPages = Number(big >> 12n);
  const mk = (initiallySet: boolean): Vm => {
    const vm = createHypervisor({ arch: 'x86_64', kernel: '6.18' }).createVm();
    if (initiallySet) vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [MANUAL_INIT]);
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: BIG_BASE, memorySize: big });
    return vm;
  };
  // Like the kernel side, GET copies into one caller buffer reused across calls.
  const buf = new Uint8Array(Math.ceil(bigPages / 64) * 8);
  const clean = mk(false);
  const getClean = timeMs(n, () => undefined, () => clean.getDirtyLog(0, buf));
  const dirty = mk(true);
  const getAll = timeMs(n, () => undefined, () => dirty.getDirtyLog(0, buf));
  const ones = new Uint8Array(Math.ceil(bigPages / 64) * 8).fill(0xff);
  const rearm = (): void => {
    dirty.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: BIG_BASE, memorySize: big });
    dirty.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: BIG_BASE, memorySize: big });
  };
  const clearAll = timeMs(n, rearm, () => dirty.clearDirtyLog({ slot: 0, firstPage: 0, numPages: bigPages, bitmap: ones }));
  const vm = createHypervisor({ arch: 'x86_64', kernel: '6.18' }).createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: SMALL_BASE, memorySize: small });
  const vcpu = vm.createVcpu(0);
  const pages = onePercentPages(Number(small >> 12n));
  const one = Uint8Array.of(1);
  const guest = timeMs(n, () => vm.getDirtyLog(0), () => {
    for (const p of pages) vcpu.write(SMALL_BASE + (BigInt(p) << 12n), one);
  });
  const smallBuf = new Uint8Array(Math.ceil(Number(small >> 12n) / 64) * 8);
  const get1 = timeMs(n, () => {
    for (const p of pages) vcpu.write(SMALL_BASE + (BigInt(p) << 12n), one);
  }, () => vm.getDirtyLog(0, smallBuf));
  return { 'get-64g-clean': getClean, 'get-64g-all-dirty': getAll, 'clear-64g-all': clearAll, 'guest-1pct-1g': guest, 'get-1pct-1g': get1 };
}

function kernelTimings(n: number, big: bigint, small: bigint, fresh: FreshTimings): Timings {
  const sys = KvmSystem.open();
  try {
    const bigPages = Number(big >> 12n);
    const bytes = Math.ceil(bigPages / 64) * 8;
    const mk = (initiallySet: boolean): { vm: KvmVm; addr: bigint } => {
      const vm = sys.createVm();
      if (initiallySet) vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [MANUAL_INIT]);
      const mem = vm.mapAnonymous(big);
      vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: BIG_BASE, memorySize: big, userspaceAddr: mem.addr });
      return { vm, addr: mem.addr };
    };
    const { vm: clean } = mk(false);
    const buf = clean.scratch(bytes);
    const getClean = timeMs(n, () => undefined, () => clean.getDirtyLogAt(0, buf.addr));
    fresh['get-64g-clean'] = timeFreshGet(n, clean, bytes);
    const { vm: dirty, addr: dirtyAddr } = mk(true);
    const dbuf = dirty.scratch(bytes);
    const getAll = timeMs(n, () => undefined, () => dirty.getDirtyLogAt(0, dbuf.addr));
    fresh['get-64g-all-dirty'] = timeFreshGet(n, dirty, bytes);
    const region = (flags: number) => ({ slot: 0, flags, guestPhysAddr: BIG_BASE, memorySize: big, userspaceAddr: dirtyAddr });
    // Logging off and on again: a fresh all-set bitmap (INITIALLY_SET) for the next CLEAR.
    const rearm = (): void => {
      dirty.setUserMemoryRegion(region(0));
      dirty.setUserMemoryRegion(region(KVM_MEM_LOG_DIRTY_PAGES));
      dbuf.view.fill(0xff);
    };
    const clearAll = timeMs(n, rearm, () => dirty.clearDirtyLogAt(0, 0n, bigPages, dbuf.addr));
    clean.close();
    dirty.close();

    const vm = sys.createVm();
    const mem = vm.mapAnonymous(small);
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: SMALL_BASE, memorySize: small, userspaceAddr: mem.addr });
    const vcpu = vm.createVcpu(0);
    const pages = onePercentPages(Number(small >> 12n));
    const writes = pages.map((p) => ({ gpa: SMALL_BASE + (BigInt(p) << 12n), bytes: Uint8Array.of(1) }));
    const sbuf = vm.scratch(Math.ceil(Number(small >> 12n) / 64) * 8);
    const occupied = [{ gpa: SMALL_BASE, size: small }];
    const guest = timeMs(n, () => vm.getDirtyLogAt(0, sbuf.addr), () => {
      runGuestWrites(vm, vcpu, 'flat32', writes, 1, occupied);
    });
    const get1 = timeMs(n, () => runGuestWrites(vm, vcpu, 'flat32', writes, 1, occupied), () => vm.getDirtyLogAt(0, sbuf.addr));
    fresh['get-1pct-1g'] = timeFreshGet(n, vm, Math.ceil(Number(small >> 12n) / 64) * 8, () => runGuestWrites(vm, vcpu, 'flat32', writes, 1, occupied));
    vm.close();
    return { 'get-64g-clean': getClean, 'get-64g-all-dirty': getAll, 'clear-64g-all': clearAll, 'guest-1pct-1g': guest, 'get-1pct-1g': get1 };
  } finally {
    sys.close();
  }
}

const TITLES: Record<BenchWork, [string, number | null]> = {
  'get-64g-clean': ['GET_DIRTY_LOG, 64 GiB slot, 0 % dirty', 2],
  'get-64g-all-dirty': ['GET_DIRTY_LOG, 64 GiB slot, all dirty (INITIALLY_SET)', 2],
  'clear-64g-all': ['CLEAR_DIRTY_LOG of all 16 Mi pages', 1],
  'guest-1pct-1g': ['guest dirties 1 % of a 1 GiB slot (kernel: KVM_RUN incl. code slot set-up)', null],
  'get-1pct-1g': ['GET_DIRTY_LOG after the 1 % pattern (harvest + re-protect)', 2],
};

/** Runs the race; the lead's `npm run bench` prints `formatBenchTable` of this. */
export function runDirtyLogBench(opts: BenchOptions = {}): BenchReport {
  const n = opts.iterations ?? 5;
  const big = opts.bigSlot ?? 64n * GiB;
  const small = opts.smallSlot ?? GiB;
  const avail = isAvailable();
  const live = opts.live ?? avail.ok;
  if (live && !avail.ok) throw new Error(`kernel timing needs /dev/kvm: ${avail.reason}`);
  const fresh: FreshTimings = {};
  const k = live ? kernelTimings(n, big, small, fresh) : null;
  const m = modelTimings(n, big, small);
  const rows = (Object.keys(TITLES) as BenchWork[]).map((work): BenchRow => {
    const [title, maxRatio] = TITLES[work];
    const kernelMs = k?.[work] ?? null;
    const ratio = kernelMs === null ? null : m[work] / kernelMs;
    return { work, title, kernelMs, kernelFreshBufferMs: fresh[work] ?? null, modelMs: m[work], ratio, maxRatio, met: ratio === null || maxRatio === null ? null : ratio <= maxRatio };
  });
  return { uname: avail.ok ? avail.uname : null, kernelSkipped: live ? null : avail.ok ? 'not requested' : avail.reason, iterations: n, rows };
}

export function formatBenchTable(r: BenchReport): string {
  const f = (x: number | null, d = 3): string => (x === null ? '—' : x.toFixed(d));
  const lines = [
    `dirty-log race, median of ${r.iterations}${r.uname ? `, kernel ${r.uname}` : ''}${r.kernelSkipped ? ` (kernel skipped: ${r.kernelSkipped})` : ''}`,
    '| work | kernel ms | kernel ms, fresh buffer | model ms | model/kernel | target | met |',
    '|---|---:|---:|---:|---:|---|---|',
  ];
  for (const row of r.rows) {
    const target = row.maxRatio === null ? '—' : row.maxRatio === 1 ? 'faster' : `≤ ${row.maxRatio}×`;
    lines.push(`| ${row.title} | ${f(row.kernelMs)} | ${f(row.kernelFreshBufferMs)} | ${f(row.modelMs)} | ${f(row.ratio, 2)} | ${target} | ${row.met === null ? '—' : row.met ? 'yes' : 'no'} |`);
  }
  return lines.join('\n');
}
