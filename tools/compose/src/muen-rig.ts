/**
 * The rig of issue 13: nvmx-cr3's Muen-like L1 on a hypervisor with kvm-mmu-pml and/or nvmx-cr3.
 * Five subjects (four native ones with the report's static CR3s, one VM subject that loads its own
 * CR3s) are round-robined with HLT exiting off, the VMX-preemption timer as the tick and device
 * interrupts as extra wake sources; each increments a word of some of its data pages every time it
 * runs (MuenSubject.writes), through the EPT12 Muen built for it. After every minor frame the VMM
 * takes KVM_GET_DIRTY_LOG of both slots and diffs the data pages. Work lengths, wake periods,
 * written pages and interrupt times come from the hypervisor's seeded PRNG.
 */
import { EPT_POINTER, type Hypervisor, type Vcpu, type Vm, walkEpt } from '@kvmlab/hypervisor-core';
import { MUEN_DATA_GPA, MuenKernel, type MuenCorruption, type MuenSubject, muenVmcsGpa } from '@kvmlab/nvmx-cr3';
import { observe, type Observer } from './observe.js';
import {
  buildHypervisor, changedPages, createLoggingVm, dataSnapshot, harvest, KERNEL_CR3, PAGE, type PluginChoice, setL1Sregs,
} from './rig.js';

/** Data pages per subject (MuenConfig.dataPages). */
export const DATA_PAGES = 4;
/** Native subjects' static PML4s, from Reto Buerki's report (subjects 0–3). */
export const NATIVE_CR3 = [0x18c9000n, 0x189f000n, 0x1834000n, 0x183d000n] as const;
/** The VM subject (4) loads these CR3s itself under EPT (MOV CR3 is not intercepted). */
export const VM_CR3_LOADS = [0x10ff9000n, 0x10ffa000n] as const;
export const SUBJECTS = NATIVE_CR3.length + 1;
/** The major frame: subject 1 follows the VM subject and S3, as in the report. */
export const PLAN: readonly number[] = [0, 4, 1, 2, 3, 1];
export const TICK_NS = 100_000;

export interface MuenRigOptions extends PluginChoice {
  readonly frames?: number;
  /** Mean device interrupts per ms (external-interrupt exits); default 2. */
  readonly irqPerMs?: number;
}

/** A minor frame: what memory shows the subject wrote, and what the GETs right after it reported. */
export interface FrameRecord {
  readonly frame: number;
  readonly subject: number;
  /** L1 gfns of data pages whose contents changed during the frame. */
  readonly changed: readonly number[];
  /** KVM_GET_DIRTY_LOG after the frame, as L1 gfns: the data slot, and L1's own slot. */
  readonly dirtyData: readonly number[];
  readonly dirtyKernel: readonly number[];
}

export interface MuenRun extends Observer {
  readonly hv: Hypervisor;
  readonly vm: Vm;
  readonly vcpu: Vcpu;
  readonly subjects: readonly MuenSubject[];
  readonly muen: MuenKernel;
  readonly corruptions: readonly MuenCorruption[];
  readonly frames: readonly FrameRecord[];
  readonly simNs: bigint;
}

function makeSubjects(hv: Hypervisor): MuenSubject[] {
  const rng = hv.sim.rng;
  const work = (): number => Math.round(TICK_NS * rng.uniform(0.1, 0.6));
  const writes = (): number[] => {
    const w = Array.from({ length: DATA_PAGES }, (_, p) => p).filter(() => rng.chance(0.5));
    return w.length > 0 ? w : [rng.int(0, DATA_PAGES - 1)];
  };
  const out: MuenSubject[] = NATIVE_CR3.map((cr3, id) => ({ id, kind: 'native', cr3, workNs: work(), wakeEvery: rng.int(2, 4), writes: writes() }));
  out.push({ id: NATIVE_CR3.length, kind: 'vm', cr3: 0n, loads: VM_CR3_LOADS, workNs: work(), wakeEvery: rng.int(2, 4), writes: writes() });
  return out;
}

export function runMuen(o: MuenRigOptions): MuenRun {
  const frames = o.frames ?? 48;
  const irqPerMs = o.irqPerMs ?? 2;
  const hv = buildHypervisor(o);
  const { vm, vcpu } = createLoggingVm(hv, SUBJECTS * DATA_PAGES);
  const obs = observe(hv, vm, vcpu);
  const subjects = makeSubjects(hv);
  const khz = hv.host.counterHz / 1000n;
  const tickTimerValue = ((BigInt(TICK_NS) * khz) / 1_000_000n) >> 5n; // inverse of the emulated timer's rate 5
  const muen = new MuenKernel(vcpu, { subjects, plan: PLAN, tickTimerValue, kernelCr3: KERNEL_CR3, onCorruption: 'repair', dataPages: DATA_PAGES });
  if (irqPerMs > 0) {
    const horizon = BigInt(frames) * BigInt(TICK_NS) * 2n;
    const mean = 1e6 / irqPerMs;
    for (let t = hv.sim.rng.exponential(mean); BigInt(Math.round(t)) < horizon; t += hv.sim.rng.exponential(mean)) {
      hv.nestedVmx!.raiseInterrupt(vcpu, 0x30, BigInt(Math.round(t)));
    }
  }
  const records: FrameRecord[] = [];
  let endNs = 0n;
  hv.sim.schedule(0n, () => {
    setL1Sregs(hv, vcpu);
    if (!muen.boot()) throw new Error(`Muen did not boot: ${muen.log.join('; ')}`);
    harvest(vm); // boot's own stores: start clean
    for (let f = 0; f < frames && !muen.halted; f++) {
      obs.frame = f;
      const before = dataSnapshot(vm, SUBJECTS * DATA_PAGES);
      muen.minorFrame(f);
      const changed = changedPages(before, dataSnapshot(vm, SUBJECTS * DATA_PAGES));
      const d = harvest(vm);
      records.push({ frame: f, subject: PLAN[f % PLAN.length]!, changed, dirtyData: d.data, dirtyKernel: d.kernel });
    }
    endNs = hv.sim.now;
  }, 'compose-muen');
  hv.sim.run();
  if (muen.halted) throw new Error(`Muen halted: ${muen.log.filter((l) => l.startsWith('ERROR')).join('; ')}`);
  return Object.assign(obs, { hv, vm, vcpu, subjects, muen, corruptions: muen.corruptions, frames: records, simNs: endNs });
}

/** The L1 address behind L2 GPA `l2Gpa` of subject `i`, walking the EPT12 Muen built (read-only: no A/D updates). */
export function ept12Translate(run: Pick<MuenRun, 'hv' | 'vm' | 'vcpu'>, i: number, l2Gpa: bigint): bigint | null {
  const v12 = run.hv.nestedVmx!.vmcs12At(run.vcpu, muenVmcsGpa(i));
  if (v12 === undefined) return null;
  const w = walkEpt({ readU64: (pa) => run.vm.memory.readU64(pa), writeU64: () => undefined }, v12.get(EPT_POINTER), l2Gpa);
  return w.ok ? w.pa : null;
}

/** Where Muen's constants put subject `i`'s data page `p` in L1: MUEN_DATA_GPA + (i × DATA_PAGES + p) pages. */
export const muenDataL1Gpa = (i: number, p: number): bigint => MUEN_DATA_GPA + BigInt(i * DATA_PAGES + p) * PAGE;
