/**
 * One live migration of a multi-CPU Muen-like L1 between two hypervisors built from kvm-mmu-pml
 * and nvmx-cr3 (any variant of each). The source boots Muen on every vCPU and runs it; QEMU-like
 * pre-copy (kvm-mmu-pml's Precopy) sends L1's memory over the dirty log while Muen keeps running,
 * then stops the vCPUs, takes the last dirty log and copies the rest; the VMM saves every vCPU
 * (KVM_GET_NESTED_STATE …). The destination — a fresh VM with the same plugins — gets the copied
 * memory and the saved vCPUs (KVM_SET_NESTED_STATE …), and Muen resumes there from its memory,
 * finishing the minor frame that was in flight. Muen's CR3 check runs after every exit on both
 * sides. Every figure is counted from the running model.
 */
import {
  bytesEqual, createHypervisor, GUEST_CR3, type Hypervisor, PAGE_BYTES, type Plugin, type TraceEvent, type Vcpu, type Vm,
} from '@kvmlab/hypervisor-core';
import { kvmMmuOf, kvmMmuPml, Precopy, type PrecopyResult, type RoundRecord, type Variant as PmlVariant } from '@kvmlab/kvm-mmu-pml';
import {
  MUEN_KERNEL_CR3, MuenKernel, muenVmcsGpa, NVMX_SERVICE, nvmxCr3, type MuenConfig, type MuenCorruption, type MuenSubject,
  type NvmxService, type NvmxVariant,
} from '@kvmlab/nvmx-cr3';
import { cr3IsArchitectural, DEFAULT_WORKLOAD, MAX_CPUS, muenConfigOf, subjectsOf, type SmpWorkload } from './muen-smp.js';
import { RoundRobin, type MuenCpu } from './round-robin.js';
import { restoreVcpu, saveVcpu, savedGuestCr3, type VcpuSnapshot } from './vcpu-state.js';

/** L1's memory: one slot at GPA 0 (Muen's kernel, VMCS regions, EPT tables, subject code and data). */
export const L1_BYTES = 8n << 20n;
const SLOT = 0;
const IRQ_VECTOR = 0x30;
/** Frames a source may run at most (a migration that never converges still ends). */
const SOURCE_FRAME_CAP = 200_000;

export interface MuenMigrationOptions {
  readonly pml: PmlVariant;
  readonly cr3: NvmxVariant;
  readonly seed: number;
  /** vCPUs of L1, each running Muen with its own subjects (1..MAX_CPUS). */
  readonly vcpus: number;
  /** Scheduler tick (the VMX-preemption timer per minor frame), µs. */
  readonly tickUs: number;
  /** Mean device interrupts per ms per vCPU (external-interrupt exits). */
  readonly irqPerMs: number;
  /** Virtual time Muen runs before the migration starts, ms. */
  readonly startMs: number;
  /** Minor frames the destination runs after the switch-over (all CPUs together). */
  readonly destFrames: number;
  readonly bandwidthMBps: number;
  readonly downtimeMs: number;
  readonly maxRounds: number;
  /** kvm_intel.enable_pml in L0 (both hosts). */
  readonly enablePml: boolean;
  readonly workload?: SmpWorkload;
  /** Record trace events on both hosts (tracks "source/…" and "destination/…", each host in its own virtual time). */
  readonly trace?: boolean;
}

export const DEFAULT_MIGRATION: Omit<MuenMigrationOptions, 'pml' | 'cr3' | 'seed'> = {
  vcpus: 2, tickUs: 100, irqPerMs: 2, startMs: 2, destFrames: 60, bandwidthMBps: 125, downtimeMs: 300, maxRounds: 30, enablePml: true,
};

/** One side of the migration, as its Muen and its L0 saw it. */
export interface SideFigures {
  readonly framesRun: number;
  /** Muen's CR3 check fired (per corruption: frame, subject, expected, found, exit reason). */
  readonly corruptions: readonly MuenCorruption[];
  readonly nestedEntries: number;
  readonly squashedEntries: number;
  readonly nestedExits: number;
  readonly pmlEntriesLogged: number;
  readonly writeProtectFaults: number;
  readonly userspaceExits: number;
  readonly simMs: number;
}

/** One vCPU's saved state as the stop-and-copy took it. */
export interface SavedVcpuFigures {
  readonly vcpu: number;
  readonly guestMode: boolean;
  /** The L2 that was current (its subject id), and the GUEST_CR3 its vmcs12 carried. */
  readonly subject: number | null;
  readonly savedGuestCr3: bigint | null;
  /** That CR3 is not the subject's architectural one (another subject's: a stale vmcs02.GUEST_CR3). */
  readonly staleCr3: boolean;
  readonly mpState: number;
}

export interface MuenMigrationRun {
  readonly pml: PmlVariant;
  readonly cr3: NvmxVariant;
  readonly precopy: PrecopyResult;
  readonly rounds: readonly RoundRecord[];
  readonly source: SideFigures;
  readonly destination: SideFigures;
  readonly saved: readonly SavedVcpuFigures[];
  /** Subjects whose vmcs12.GUEST_CR3 on the destination, right after the restore, is not architectural. */
  readonly destCr3WrongAtRestore: readonly number[];
  /** The same at the end of the destination's run. */
  readonly destCr3WrongAtEnd: readonly number[];
  /**
   * Pages (gfns) whose contents differ between the source at the stop and the destination right
   * after the restore — a check of the whole slot independent of Precopy's own comparison.
   */
  readonly memoryDiff: readonly number[];
  /** Virtual time from the stop request until every vCPU was out (the running one reaches its next check), µs. */
  readonly stopLatencyUs: number;
  /** With `trace`: the source's events, then the destination's (its clock starts at its own boot). */
  readonly trace?: readonly TraceEvent[];
}

interface Side {
  readonly hv: Hypervisor;
  readonly vm: Vm;
  readonly cpus: MuenCpu[];
}

function buildSide(o: MuenMigrationOptions, seed: number): { hv: Hypervisor; vm: Vm; vcpus: Vcpu[] } {
  const plugins: Plugin[] = [kvmMmuPml({ variant: o.pml, enablePml: o.enablePml }), nvmxCr3({ variant: o.cr3 })];
  const hv = createHypervisor({ arch: 'x86_64', seed, plugins });
  hv.trace.enabled = o.trace === true;
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: SLOT, flags: 0, guestPhysAddr: 0n, memorySize: L1_BYTES });
  const vcpus = Array.from({ length: o.vcpus }, (_, i) => vm.createVcpu(i));
  return { hv, vm, vcpus };
}

/** Device interrupts for each vCPU from `from` over `horizonNs` (exponential inter-arrival times). */
function scheduleDeviceIrqs(hv: Hypervisor, vcpus: readonly Vcpu[], irqPerMs: number, from: bigint, horizonNs: bigint): void {
  if (irqPerMs <= 0) return;
  const mean = 1e6 / irqPerMs;
  for (const v of vcpus) {
    for (let t = hv.sim.rng.exponential(mean); BigInt(Math.round(t)) < horizonNs; t += hv.sim.rng.exponential(mean)) {
      hv.nestedVmx!.raiseInterrupt(v, IRQ_VECTOR, from + BigInt(Math.round(t)));
    }
  }
}

function sideFigures(s: Side, rr: RoundRobin): SideFigures {
  const mmu = kvmMmuOf(s.vm);
  let nestedEntries = 0;
  let squashedEntries = 0;
  let nestedExits = 0;
  let pmlEntriesLogged = 0;
  let writeProtectFaults = 0;
  let userspaceExits = 0;
  for (const c of s.cpus) {
    const st = s.hv.nestedVmx!.state(c.vcpu).stats;
    nestedEntries += st.nestedEntries;
    squashedEntries += st.squashedEntries;
    nestedExits += Object.values(st.nestedExits).reduce((a, b) => a + b, 0);
    userspaceExits += st.userspaceExits;
    const x = mmu.vcpuVmx(c.vcpu).exits;
    pmlEntriesLogged += x.pmlEntriesLogged;
    writeProtectFaults += x.writeProtectFaults;
  }
  return {
    framesRun: rr.framesRun, corruptions: s.cpus.flatMap((c) => c.muen.corruptions), nestedEntries, squashedEntries, nestedExits,
    pmlEntriesLogged, writeProtectFaults, userspaceExits, simMs: Number(s.hv.sim.now) / 1e6,
  };
}

const isZero = (p: Uint8Array | undefined): boolean => p === undefined || p.every((b) => b === 0);

/** Gfns whose page differs between two VMs' slot 0 (untouched pages are zeros). */
function memoryDiff(a: Vm, b: Vm): number[] {
  const sa = a.memslots.get(0, SLOT)!;
  const sb = b.memslots.get(0, SLOT)!;
  const pages = new Set([...sa.backing.residentIndices(), ...sb.backing.residentIndices()]);
  const out: number[] = [];
  for (const i of [...pages].sort((x, y) => x - y)) {
    const pa = sa.backing.peek(i);
    const pb = sb.backing.peek(i);
    const same = isZero(pa) ? isZero(pb) : pb !== undefined && bytesEqual(pa!, pb);
    if (!same) out.push(sa.baseGfnNumber + i);
  }
  return out;
}

/** Subjects (by id) whose vmcs12.GUEST_CR3 is not architectural on this side now. */
function wrongCr3s(s: Side, subjects: readonly (readonly MuenSubject[])[]): number[] {
  const out: number[] = [];
  for (const c of s.cpus) {
    for (const subj of subjects[c.cpu]!) {
      const cr3 = s.hv.nestedVmx!.vmcs12At(c.vcpu, muenVmcsGpa(subj.id))?.get(GUEST_CR3);
      if (cr3 === undefined || !cr3IsArchitectural(subj, cr3)) out.push(subj.id);
    }
  }
  return out;
}

function savedFigures(snap: VcpuSnapshot, subjects: readonly MuenSubject[], vcpu: Vcpu): SavedVcpuFigures {
  const cr3 = savedGuestCr3(snap);
  const vmptr = vcpu.vm.hv.nestedVmx!.state(vcpu).currentVmptr;
  const subj = cr3 === null ? undefined : subjects.find((s) => muenVmcsGpa(s.id) === vmptr);
  return {
    vcpu: snap.id, guestMode: cr3 !== null, subject: subj?.id ?? null, savedGuestCr3: cr3,
    staleCr3: cr3 !== null && subj !== undefined && !cr3IsArchitectural(subj, cr3), mpState: snap.mpState,
  };
}

/** A host's trace events with its name in front of each track. */
function onHost(name: string, hv: Hypervisor): TraceEvent[] {
  return hv.trace.events.map((e) => ({ ...e, track: `${name}/${e.track}` }));
}

export function runMuenMigration(o: MuenMigrationOptions): MuenMigrationRun {
  if (!Number.isInteger(o.vcpus) || o.vcpus < 1 || o.vcpus > MAX_CPUS) throw new RangeError(`vcpus must be 1..${MAX_CPUS}, got ${o.vcpus}`);
  const tickNs = Math.round(o.tickUs * 1000);
  const w = o.workload ?? DEFAULT_WORKLOAD;

  // The source: Muen boots on every vCPU (one after the other: the L1's boot CPU brings up the rest).
  const src = buildSide(o, o.seed);
  const khz = src.hv.host.counterHz / 1000n;
  const tickTimerValue = ((BigInt(tickNs) * khz) / 1_000_000n) >> 5n; // inverse of the emulated timer's rate 5
  const subjects = src.vcpus.map((_, c) => subjectsOf(c, src.hv.sim.rng, tickNs, w));
  const configs: MuenConfig[] = subjects.map((s, c) => muenConfigOf(c, s, tickTimerValue));
  const svc = src.hv.decoration<NvmxService>(NVMX_SERVICE)!;
  const source: Side = { hv: src.hv, vm: src.vm, cpus: [] };
  for (const [c, vcpu] of src.vcpus.entries()) {
    svc.setSregs(vcpu, { cr3: MUEN_KERNEL_CR3 });
    const muen = new MuenKernel(vcpu, configs[c]!);
    if (!muen.boot()) throw new Error(`Muen did not boot on CPU ${c}: ${muen.log.join('; ')}`);
    source.cpus.push({ cpu: c, vcpu, muen });
  }
  const startAt = src.hv.sim.now + BigInt(Math.round(o.startMs * 1e6));
  scheduleDeviceIrqs(src.hv, src.vcpus, o.irqPerMs, src.hv.sim.now, startAt + 2_000_000_000n);
  const srcRr = new RoundRobin(src.hv, source.cpus, SOURCE_FRAME_CAP);
  srcRr.start(src.hv.sim.now);

  // Pre-copy of the one slot; at the switch-over the VMM stops the vCPUs, then saves them.
  let snapshots: VcpuSnapshot[] | undefined;
  let saved: SavedVcpuFigures[] = [];
  let stopAskedAt = 0n;
  let stoppedAt = 0n;
  const slot = src.vm.memslots.get(0, SLOT)!;
  const mig = new Precopy(src.vm, slot, {
    bandwidthBytesPerSec: o.bandwidthMBps * 1e6, downtimeNs: BigInt(Math.round(o.downtimeMs * 1e6)), maxRounds: o.maxRounds,
    stopGuest: (whenStopped) => {
      stopAskedAt = src.hv.sim.now;
      srcRr.stop(() => {
        stoppedAt = src.hv.sim.now;
        whenStopped();
        snapshots = source.cpus.map((c) => saveVcpu(c.vcpu));
        saved = snapshots.map((s, i) => savedFigures(s, subjects[i]!, source.cpus[i]!.vcpu));
      });
    },
  }, () => undefined);
  src.hv.sim.schedule(startAt, () => mig.start(), 'migration start');
  src.hv.sim.runUntilOr(startAt + 10_000_000_000n, () => mig.result !== undefined && snapshots !== undefined);
  const precopy = mig.result;
  if (precopy === undefined || snapshots === undefined) throw new Error('the migration did not finish');
  if (source.cpus.some((c) => c.muen.halted)) throw new Error(`Muen halted on the source: ${source.cpus.flatMap((c) => c.muen.log.filter((l) => l.startsWith('ERROR'))).join('; ')}`);
  const sourceFigures = sideFigures(source, srcRr);

  // The destination: the copied memory, the saved vCPUs, and Muen resumed from its memory.
  const dst = buildSide(o, o.seed + 1);
  for (const [gfn, page] of mig.dest) dst.vm.memory.write(BigInt(gfn) * BigInt(PAGE_BYTES), page);
  const destination: Side = { hv: dst.hv, vm: dst.vm, cpus: [] };
  for (const [c, vcpu] of dst.vcpus.entries()) {
    restoreVcpu(vcpu, snapshots[c]!);
    destination.cpus.push({ cpu: c, vcpu, muen: MuenKernel.resume(vcpu, configs[c]!) });
  }
  const destCr3WrongAtRestore = wrongCr3s(destination, subjects);
  const diff = memoryDiff(src.vm, dst.vm);
  scheduleDeviceIrqs(dst.hv, dst.vcpus, o.irqPerMs, dst.hv.sim.now, BigInt(o.destFrames) * BigInt(tickNs) * 2n);
  const dstRr = new RoundRobin(dst.hv, destination.cpus, o.destFrames);
  const inFlight = destination.cpus.findIndex((c) => c.vcpu.x86.guestMode);
  dstRr.start(dst.hv.sim.now, inFlight >= 0 ? inFlight : srcRr.nextTurn);
  dst.hv.sim.runUntilOr(BigInt(o.destFrames + 10) * BigInt(tickNs) * 10n, () => dstRr.framesRun >= o.destFrames || dstRr.hung !== null || destination.cpus.some((c) => c.muen.halted));
  if (dstRr.hung !== null) throw new Error(`the destination's CPU ${dstRr.hung.cpu} never left L2`);
  if (destination.cpus.some((c) => c.muen.halted)) throw new Error(`Muen halted on the destination: ${destination.cpus.flatMap((c) => c.muen.log.filter((l) => l.startsWith('ERROR'))).join('; ')}`);
  return {
    pml: o.pml, cr3: o.cr3, precopy, rounds: precopy.rounds, source: sourceFigures, destination: sideFigures(destination, dstRr), saved,
    destCr3WrongAtRestore, destCr3WrongAtEnd: wrongCr3s(destination, subjects), memoryDiff: diff, stopLatencyUs: Number(stoppedAt - stopAskedAt) / 1e3,
    ...(o.trace === true ? { trace: [...onHost('source', src.hv), ...onHost('destination', dst.hv)] } : {}),
  };
}
