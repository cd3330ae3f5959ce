/**
 * One live migration of an L1 VM under a seeded write workload: nested (L2 writes through
 * L1's non-identity EPT12) or plain (L1 writes the same pages itself). Everything measured
 * here comes from the running model: the dirty log, the exits, the destination's memory.
 */
import { createHypervisor, EXIT_REASON_NAMES, type TraceEvent } from '@kvmlab/hypervisor-core';
import { kvmMmuOf, kvmMmuPml } from '../host/plugin.js';
import type { Variant } from '../host/spte.js';
import { eptAdOffered, GuestDriver, l1BuildEpt12, l2ProgramRip, pickPageNumber, shuffledChunks, type NestedLayout, type WorkloadSpec } from './nested-guest.js';
import { PageSet } from './page-set.js';
import { Precopy, type PrecopyResult } from './precopy.js';

const MiB = 1n << 20n;
const GiB = 1n << 30n;

export interface MigrationRunOptions {
  readonly variant: Variant;
  readonly seed: number;
  readonly workload: 'nested' | 'plain';
  readonly l1MiB: number;
  readonly l2MiB: number;
  readonly wssMiB: number;
  readonly hotMiB: number;
  readonly hotFraction: number;
  /** Page writes per second by L2 (nested) or to the same data pages by L1 (plain). */
  readonly writesPerSec: number;
  /** L1's own writes per second to its kernel memory. */
  readonly l1WritesPerSec: number;
  readonly bandwidthMBps: number;
  readonly downtimeMs: number;
  readonly maxRounds: number;
  readonly enablePml: boolean;
  readonly eptAd: boolean;
  /** EPTP12 bit 6: L1 asks for A/D flags in EPT12. */
  readonly eptp12Ad: boolean;
  /** L1 runs L2 without EPT12 (L2 on L1's TDP: its addresses are L1 GPAs). */
  readonly tdpForL2: boolean;
  /** vCPUs, each running its own L2 (same EPT12) at the rates above (default 1). */
  readonly vcpus?: number;
  /** Record trace events (exits, rounds) into the result. */
  readonly trace?: boolean;
}

export interface MigrationRun {
  readonly workload: 'nested' | 'plain';
  readonly precopy: PrecopyResult;
  /** Exits by reason name (EPT_VIOLATION, PML_FULL, VMCALL, …). */
  readonly exits: Readonly<Record<string, number>>;
  readonly pmlEntriesLogged: number;
  readonly pmlFlushes: number;
  readonly writeProtectFaults: number;
  /** gfns a PML flush or set_spte marked that were in no L1 slot. */
  readonly gfnsDropped: number;
  /** Guest stores during the migration, and distinct L1 pages they hit. */
  readonly guestWrites: number;
  readonly l1PagesWritten: number;
  readonly guestWriteRateMBps: number;
  readonly trace?: readonly TraceEvent[];
}

const TICK_NS = 1_000_000n;

export function runMigration(o: MigrationRunOptions): MigrationRun {
  const l1Bytes = BigInt(o.l1MiB) * MiB;
  const l2Bytes = BigInt(o.l2MiB) * MiB;
  // L1's map: EPT12 tables at 8 MiB, its kernel at 16 MiB, L2's memory from 1 GiB (small L1s:
  // right after the kernel).
  const kernelBytes = l1Bytes >= GiB ? 32n * MiB : 1n * MiB;
  const l1Base = l1Bytes >= GiB + l2Bytes ? GiB : 16n * MiB + kernelBytes;
  const layout0 = { tablesBase: 8n * MiB, kernelBase: 16n * MiB, kernelBytes, l1Base, l2Bytes };
  if (l1Base + l2Bytes > l1Bytes) throw new RangeError(`L1 (${o.l1MiB} MiB) cannot hold L2 (${o.l2MiB} MiB) after its kernel`);
  if (l2Bytes % (2n * MiB) !== 0n) throw new RangeError('L2 size must be a multiple of 2 MiB');
  if (o.wssMiB > o.l2MiB || o.hotMiB > o.wssMiB) throw new RangeError('need hot ≤ wss ≤ L2 size');
  const hv = createHypervisor({ arch: 'x86_64', seed: o.seed, plugins: [kvmMmuPml({ variant: o.variant, enablePml: o.enablePml, eptAd: o.eptAd })] });
  hv.trace.enabled = o.trace === true;
  const rng = hv.sim.rng;
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: l1Bytes });
  const nVcpus = o.vcpus ?? 1;
  if (!Number.isInteger(nVcpus) || nVcpus < 1 || nVcpus > 64) throw new RangeError('vcpus must be 1..64');
  const layout: NestedLayout = { ...layout0, perm: shuffledChunks(rng, Number(l2Bytes / (2n * MiB))) };
  const drivers = Array.from({ length: nVcpus }, (_, i) => new GuestDriver(vm.createVcpu(i), layout, rng, i));
  // The guest image: each vCPU's L2 code, at the address its GUEST_RIP names.
  for (const [i, d] of drivers.entries()) hv.nestedVmx?.loadProgram(vm, l2ProgramRip(i), d.program);
  const g = drivers[0]!;
  const vcpu = g.vcpu;
  const w: WorkloadSpec = { wssBytes: BigInt(o.wssMiB) * MiB, hotBytes: BigInt(o.hotMiB) * MiB, hotFraction: o.hotFraction };
  const nested = o.workload === 'nested';
  const useEpt12 = !o.tdpForL2;

  // Boot: L1 touches its kernel memory; nested: builds EPT12 and launches L2 on every vCPU;
  // vCPU 0 warms the working set.
  for (let p = 0n; p < layout.kernelBytes >> 12n; p++) vcpu.write(layout.kernelBase + (p << 12n), new Uint8Array([1]));
  if (nested) {
    // EPTP12 bit 6 only if L1 asks for it and L0 offers EPT A/D (IA32_VMX_EPT_VPID_CAP bit 21).
    const eptp12 = l1BuildEpt12(vcpu, layout, o.eptp12Ad && eptAdOffered(vcpu));
    for (const d of drivers) if (!d.launch(eptp12, useEpt12)) throw new Error('VMLAUNCH failed');
  }
  for (let p = 0n; p < w.wssBytes >> 12n; p++) {
    if (nested) g.l2Write(p, useEpt12);
    else g.l1WriteData(p);
  }
  // L1 resumes L2 until the whole warm-up queue is stored (one entry for up to 128 MiB).
  if (nested) while (g.queuedL2Stores > 0) if (!g.resumeL2()) throw new Error('VMRESUME failed during the warm-up');

  let running = true;
  const count = (perSec: number): number => {
    const x = (perSec * Number(TICK_NS)) / 1e9;
    return Math.floor(x) + (rng.chance(x - Math.floor(x)) ? 1 : 0);
  };
  const tick = (d: GuestDriver): void => {
    if (!running) return;
    const n2 = count(o.writesPerSec);
    const n1 = count(o.l1WritesPerSec);
    for (let i = 0; i < n2; i++) {
      if (nested) d.l2Write(pickPageNumber(rng, w), useEpt12);
      else d.l1WriteData(pickPageNumber(rng, w));
    }
    if (nested) d.resumeL2(); // L2 runs its stores, then hands the CPU back to L1 with VMCALL
    for (let i = 0; i < n1; i++) d.l1WriteKernel();
    hv.sim.after(TICK_NS, () => tick(d));
  };
  // The vCPUs' ticks are spread over the millisecond.
  drivers.forEach((d, i) => hv.sim.after(TICK_NS + (TICK_NS * BigInt(i)) / BigInt(nVcpus), () => tick(d)));
  hv.sim.runFor(10n * TICK_NS);

  const slot = vm.memslots.get(0, 0)!;
  // Distinct L1 pages written during the migration; the oracle moves each sync's pages here.
  const writtenAll = new PageSet();
  const since = new PageSet(); // reused: each sync reads it before the next one refills it
  const mig = new Precopy(vm, slot, {
    bandwidthBytesPerSec: o.bandwidthMBps * 1e6,
    downtimeNs: BigInt(Math.round(o.downtimeMs * 1e6)), // the budget may be fractional ms (1.5 ms)
    maxRounds: o.maxRounds,
    writtenSinceLastSync: () => {
      since.clear();
      for (const d of drivers) {
        for (const p of d.writtenL1) {
          since.add(p);
          writtenAll.add(p);
        }
        d.writtenL1.clear();
      }
      return since;
    },
  }, () => (running = false));
  for (const d of drivers) d.writtenL1.clear();
  const writesNow = (): number => drivers.reduce((a, d) => a + d.writes, 0);
  const writes0 = writesNow();
  const t0 = hv.sim.now;
  mig.start();
  hv.sim.run(50_000_000);
  const res = mig.result;
  if (res === undefined) throw new Error('migration did not finish');
  const m = kvmMmuOf(vm);
  const byReason = new Map<number, number>();
  const engine = hv.nestedVmx;
  let pmlEntriesLogged = 0;
  let pmlFlushes = 0;
  let writeProtectFaults = 0;
  for (const d of drivers) {
    const v = m.vcpuVmx(d.vcpu);
    for (const [r, n] of v.exits.byReason) byReason.set(r, (byReason.get(r) ?? 0) + n);
    // the exits the nested-VMX engine handled: L1's VMX instructions and L2's VMCALLs
    for (const [r, n] of Object.entries(engine?.state(d.vcpu).stats.exits ?? {})) byReason.set(Number(r), (byReason.get(Number(r)) ?? 0) + n);
    pmlEntriesLogged += v.exits.pmlEntriesLogged;
    pmlFlushes += v.exits.pmlFlushes;
    writeProtectFaults += v.exits.writeProtectFaults;
  }
  const exits: Record<string, number> = {};
  for (const [r, n] of [...byReason].sort((a, b) => a[0] - b[0])) exits[EXIT_REASON_NAMES.get(r) ?? `EXIT_${r}`] = n;
  for (const d of drivers) for (const p of d.writtenL1) writtenAll.add(p); // written after the last sync
  const secs = Number(hv.sim.now - t0) / 1e9;
  const writes = writesNow() - writes0;
  // Both memories are done with (the result holds no page): their blocks serve the next run in this process.
  mig.dest.clear();
  slot.backing.release();
  return {
    workload: o.workload,
    precopy: res,
    exits,
    pmlEntriesLogged,
    pmlFlushes,
    writeProtectFaults,
    gfnsDropped: m.stats.gfnsDropped,
    guestWrites: writes,
    l1PagesWritten: writtenAll.size,
    guestWriteRateMBps: secs > 0 ? (writes * 4096) / secs / 1e6 : 0,
    ...(o.trace === true ? { trace: hv.trace.events } : {}),
  };
}
