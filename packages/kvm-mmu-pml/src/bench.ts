/**
 * Benchmarks of the model, as plain tasks (tinybench-compatible objects: name, fn, beforeEach)
 * plus a small runner that times them with performance.now(), so this file needs no
 * benchmarking dependency. `npm run bench` at the root wires them in.
 */
import {
  createHypervisor,
  GUEST_PML_INDEX,
  KVM_MEM_LOG_DIRTY_PAGES,
  leBytes,
  PML_ENTITY_NUM,
  resolveScenarioOptions,
} from '@kvmlab/hypervisor-core';
import { kvmMmuOf, kvmMmuPml } from './host/plugin.js';
import { vmxFlushPmlBuffer } from './host/pml.js';
import type { Variant } from './host/spte.js';
import { runMigration } from './scenarios/migration-run.js';
import { GuestDriver, l1BuildEpt12, l2ProgramRip, shuffledChunks, type NestedLayout } from './scenarios/nested-guest.js';
import { migrationOptions, nestedMigrationScenario } from './scenarios/nested-migration.js';

const MiB = 1n << 20n;
/** Stores per task call. */
export const BATCH = 4096;

export interface BenchTask {
  readonly name: string;
  readonly description: string;
  /** What one call of fn does, for per-operation figures. */
  readonly opsPerCall: number;
  readonly beforeEach?: () => void;
  readonly fn: () => void;
}

function nestedRig(variant: Variant) {
  const hv = createHypervisor({ arch: 'x86_64', seed: 1, plugins: [kvmMmuPml({ variant })] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 128n * MiB });
  const vcpu = vm.createVcpu(0);
  const layout: NestedLayout = { tablesBase: 8n * MiB, kernelBase: 16n * MiB, kernelBytes: 16n * MiB, l1Base: 64n * MiB, l2Bytes: 32n * MiB, perm: shuffledChunks(hv.sim.rng, 16) };
  const g = new GuestDriver(vcpu, layout, hv.sim.rng);
  hv.nestedVmx?.loadProgram(vm, l2ProgramRip(0), g.program);
  return { vm, vcpu, layout, g };
}

/** The tasks: raw stores, tracked L1 stores (PML), tracked L2 stores (write-protect faults), PML flush. */
export function benchTasks(): BenchTask[] {
  const pages = Array.from({ length: BATCH }, () => new Uint8Array(4096));
  const one = leBytes(8, 1n);
  const raw: BenchTask = {
    name: 'raw store',
    description: `${BATCH} 8-byte Uint8Array.set into distinct 4 KiB pages (baseline)`,
    opsPerCall: BATCH,
    fn: () => {
      for (let i = 0; i < BATCH; i++) pages[i]!.set(one, (i * 8) & 4095);
    },
  };

  const l1 = nestedRig('merged');
  // the addresses made once, as the baseline's pages are: both loops time the stores only
  const gpas = Array.from({ length: BATCH }, (_, i) => l1.layout.kernelBase + (BigInt(i) << 12n) + BigInt((i * 8) & 4095));
  for (let i = 0; i < BATCH; i++) l1.vcpu.write(gpas[i]!, one);
  const l1Pml: BenchTask = {
    name: 'L1 tracked store (PML)',
    description: `${BATCH} L1 stores to distinct clean pages after GET_DIRTY_LOG: D 0→1, PML entry, a PML-full exit every 512`,
    opsPerCall: BATCH,
    beforeEach: () => void l1.vm.getDirtyLog(0),
    fn: () => {
      for (let i = 0; i < BATCH; i++) l1.vcpu.write(gpas[i]!, one);
    },
  };

  const l2 = nestedRig('merged');
  if (!l2.g.launch(l1BuildEpt12(l2.vcpu, l2.layout, true), true)) throw new Error('VMLAUNCH failed');
  for (let i = 0; i < BATCH; i++) l2.g.l2Write(BigInt(i), true);
  l2.g.resumeL2();
  const l2Wp: BenchTask = {
    name: 'L2 tracked store (write-protect fault)',
    description: `${BATCH} L2 stores to distinct pages after GET_DIRTY_LOG (merged), in one VMRESUME…VMCALL round trip: EPT violation, EPT12 walk, set_spte`,
    opsPerCall: BATCH,
    beforeEach: () => {
      l2.vm.getDirtyLog(0);
      for (let i = 0; i < BATCH; i++) l2.g.l2Write(BigInt(i), true);
    },
    fn: () => void l2.g.resumeL2(),
  };

  const f = nestedRig('merged');
  const m = kvmMmuOf(f.vm);
  const v = m.vcpuVmx(f.vcpu);
  for (let i = 0; i < PML_ENTITY_NUM; i++) v.pmlBuffer[i] = f.layout.kernelBase + (BigInt(i) << 12n);
  const flush: BenchTask = {
    name: 'PML flush (512 entries)',
    description: 'vmx_flush_pml_buffer() of a full log into the dirty bitmap',
    opsPerCall: 1,
    beforeEach: () => v.current.cpuWrite(GUEST_PML_INDEX, 0xffffn),
    fn: () => vmxFlushPmlBuffer(m, v),
  };
  return [raw, l1Pml, l2Wp, flush];
}

export interface BenchFigure {
  readonly name: string;
  readonly description: string;
  /** Mean time of one operation. */
  readonly nsPerOp: number;
  readonly opsPerSec: number;
}

/** Times each task for about `ms` (fn only; beforeEach is outside the clock). */
export function runBench(ms = 300): BenchFigure[] {
  return benchTasks().map((t) => {
    let total = 0;
    let calls = 0;
    while (total < ms * 1e6 || calls < 3) {
      t.beforeEach?.();
      const a = performance.now();
      t.fn();
      total += (performance.now() - a) * 1e6;
      calls++;
    }
    const nsPerOp = total / (calls * t.opsPerCall);
    return { name: t.name, description: t.description, nsPerOp, opsPerSec: 1e9 / nsPerOp };
  });
}

/** Wall time of the nested migration of an L1 of `l1GiB` (the target: 16 GiB < 5 s). */
export function benchNestedMigration(l1GiB = 16, variant: Variant = 'merged'): { wallMs: number; pagesLost: number; rounds: number } {
  const opts = migrationOptions(variant, 1, resolveScenarioOptions(nestedMigrationScenario, { l1GiB }), 'nested');
  const a = performance.now();
  const r = runMigration(opts);
  return { wallMs: performance.now() - a, pagesLost: r.precopy.pagesLost, rounds: r.precopy.rounds.length };
}

/** A figure in the shape tools/bench's harness prints (structurally its `Figure`). */
export interface KvmMmuPmlBenchFigure {
  readonly suite: 'kvm-mmu-pml';
  readonly id: string;
  readonly description: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: { readonly description: string; readonly value: number; readonly unit: string };
  readonly ratio?: number;
  readonly target?: string;
  readonly met?: boolean;
}

/** Every figure of this package: tracked stores vs raw, the flush, the 16 GiB nested migration. */
export function benchFigures(ms = 300): KvmMmuPmlBenchFigure[] {
  const r = runBench(ms);
  const raw = r[0]!;
  const base = { description: raw.description, value: raw.nsPerOp, unit: 'ns/store' };
  const out: KvmMmuPmlBenchFigure[] = r.slice(1, 3).map((f, i) => ({
    suite: 'kvm-mmu-pml',
    id: i === 0 ? 'l1-pml-store' : 'l2-wp-store',
    description: `${f.description} (${Math.round(f.opsPerSec).toLocaleString('en')} stores/s)`,
    value: f.nsPerOp,
    unit: 'ns/store',
    baseline: base,
    ratio: f.nsPerOp / raw.nsPerOp,
  }));
  out.push({ suite: 'kvm-mmu-pml', id: 'pml-flush-512', description: r[3]!.description, value: r[3]!.nsPerOp / 1000, unit: 'µs/flush' });
  const mig = benchNestedMigration(16);
  out.push({
    suite: 'kvm-mmu-pml',
    id: 'nested-migration-16g',
    description: `nested-migration of a 16 GiB L1 (merged, defaults): ${mig.rounds} rounds, ${mig.pagesLost} pages lost`,
    value: mig.wallMs,
    unit: 'ms',
    target: '< 5000 ms',
    met: mig.wallMs < 5000,
  });
  return out;
}
