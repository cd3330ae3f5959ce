/**
 * Boots the Muen-like L1 on a hypervisor with nvmx-cr3 and records what happened: Muen's log
 * and detected corruptions (the guest's view), and L0's nested entries, squashes and exits
 * with their VMCS operation counts (the host's view), plus a per-frame CR3 timeline.
 */
import { createHypervisor, GUEST_CR3, type NvmxEvent, type NvmxStats, type TraceEvent } from '@kvmlab/hypervisor-core';
import { MUEN_VMCS_GPA, MuenKernel, muenVmcsGpa, type MuenCorruption } from '../guest/muen.js';
import type { NvmxVariant } from '../host/guest-cr3.js';
import { nvmxCr3, NVMX_SERVICE, type NvmxService } from '../host/plugin.js';
import { MUEN_KERNEL_CR3, MUEN_PLAN, muenSubjects } from './muen-system.js';

export interface NvmxHltCr3Options {
  readonly variant: NvmxVariant;
  readonly seed?: number;
  /** Minor frames (scheduler ticks) to run. */
  readonly frames?: number;
  readonly enableEpt?: boolean;
  readonly onCorruption?: 'halt' | 'repair';
  /** Scheduler tick in µs (the VMX-preemption timer per minor frame). */
  readonly tickUs?: number;
  /** Mean device interrupts per ms (external-interrupt exits that wake halted subjects). */
  readonly irqPerMs?: number;
  readonly trace?: boolean;
}

export interface FrameRecord {
  /** Virtual time of the nested exit that ended the frame. */
  readonly at: bigint;
  readonly subject: number;
  readonly exitReason: number;
  readonly squashed: boolean;
  readonly vmcs02Cr3: bigint;
  /** vmcs12.guest_cr3 of every subject after this frame's nested exit. */
  readonly vmcs12Cr3: readonly bigint[];
}

export interface NvmxHltCr3Run {
  readonly log: readonly string[];
  readonly corruptions: readonly MuenCorruption[];
  readonly halted: boolean;
  readonly framesRun: number;
  readonly stats: NvmxStats;
  readonly frames: readonly FrameRecord[];
  readonly simNs: bigint;
  readonly trace: readonly TraceEvent[];
  readonly subjects: readonly number[];
  /** Per subject (same order): the CR3 values it runs with (a native subject's one PML4, a VM subject's own loads). */
  readonly subjectCr3s: readonly (readonly bigint[])[];
}

const subjectOf = (vmptr: bigint): number => Number((vmptr - MUEN_VMCS_GPA) / 0x1000n);

export function runNvmxHltCr3(o: NvmxHltCr3Options): NvmxHltCr3Run {
  const seed = o.seed ?? 1;
  const tickNs = (o.tickUs ?? 100) * 1000;
  const hv = createHypervisor({ arch: 'x86_64', seed, plugins: [nvmxCr3({ variant: o.variant, enableEpt: o.enableEpt ?? true })] });
  hv.trace.enabled = o.trace === true;
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 16n << 20n });
  const vcpu = vm.createVcpu(0);
  const svc = hv.decoration<NvmxService>(NVMX_SERVICE);
  if (svc === undefined) throw new Error('nvmx-cr3 service missing');
  const nv = svc.nested(vcpu);
  const subjects = muenSubjects(hv.sim.rng, tickNs);
  const khz = hv.host.counterHz / 1000n;
  const tickTimerValue = (BigInt(tickNs) * khz) / 1_000_000n >> 5n; // inverse of the emulated timer rate
  const muen = new MuenKernel(vcpu, { subjects, plan: MUEN_PLAN, tickTimerValue, kernelCr3: MUEN_KERNEL_CR3, onCorruption: o.onCorruption ?? 'repair' });
  const frames = o.frames ?? 220;
  // Device interrupts over the run's horizon (exponential inter-arrival times).
  const irqPerMs = o.irqPerMs ?? 2;
  if (irqPerMs > 0) {
    const horizon = BigInt(frames) * BigInt(tickNs) * 2n;
    for (let t = hv.sim.rng.exponential(1e6 / irqPerMs); BigInt(Math.round(t)) < horizon; t += hv.sim.rng.exponential(1e6 / irqPerMs)) {
      svc.raiseInterrupt(vcpu, 0x30, BigInt(Math.round(t)));
    }
  }
  const records: FrameRecord[] = [];
  let squashedThisFrame = false;
  const track = vcpu.track;
  nv.listeners.push((e: NvmxEvent) => {
    if (e.kind === 'nested-entry') {
      squashedThisFrame = e.squashed;
      hv.trace.instant(track, e.squashed ? 'nested VM-Enter (HLT squashed)' : 'nested VM-Enter', e.at, { subject: subjectOf(e.vmptr), cr3Vmwrites: e.cr3Vmwrites });
    } else if (e.kind === 'nested-exit') {
      records.push({
        at: e.at, subject: subjectOf(e.vmptr), exitReason: e.reason, squashed: squashedThisFrame, vmcs02Cr3: e.vmcs02Cr3,
        vmcs12Cr3: subjects.map((_, i) => hv.nestedVmx?.vmcs12At(vcpu, muenVmcsGpa(i))?.get(GUEST_CR3) ?? 0n),
      });
      hv.trace.instant(track, `nested VM-Exit ${e.reason}`, e.at, { subject: subjectOf(e.vmptr), guestCr3: `0x${e.guestCr3.toString(16)}`, vmcs02Cr3: `0x${e.vmcs02Cr3.toString(16)}` });
    } else if (e.kind === 'l2-run') {
      hv.trace.slice(`${track} L2 S${subjectOf(e.vmptr)}`, 'L2 runs', e.at, e.dur, { cr3: `0x${e.cr3.toString(16)}` });
    } else if (e.kind === 'l2-halt') {
      hv.trace.instant(`${track} L2 S${subjectOf(e.vmptr)}`, 'HLT (emulated by L0)', e.at);
    }
  });
  let endNs = 0n;
  hv.sim.schedule(0n, () => {
    svc.setSregs(vcpu, { cr3: MUEN_KERNEL_CR3 });
    if (muen.boot()) muen.run(frames);
    endNs = hv.sim.now;
  }, 'muen');
  hv.sim.run();
  for (const c of muen.corruptions) {
    const at = records[c.frame]?.at ?? hv.sim.now;
    hv.trace.instant(track, `Muen: CR3 of subject ${c.subject} changed`, at, { frame: c.frame, found: `0x${c.found.toString(16)}` });
  }
  return {
    log: muen.log, corruptions: muen.corruptions, halted: muen.halted, framesRun: muen.framesRun, stats: nv.stats,
    frames: records, simNs: endNs, trace: hv.trace.events, subjects: subjects.map((s) => s.id),
    subjectCr3s: subjects.map((s) => (s.kind === 'native' ? [s.cr3] : [...(s.loads ?? [])])),
  };
}
