/**
 * Muen's scheduler state lives in L1's memory: a MuenKernel can be rebuilt from memory and vCPU
 * state alone (MuenKernel.resume), its stores are L1 stores (dirty logging sees them), and
 * per-CPU placement (MuenConfig.cpu) lets several kernels share one VM.
 */
import {
  createHypervisor, EPT_POINTER, KVM_MEM_LOG_DIRTY_PAGES, bitmapPages, readLe, type Vcpu, type Vm,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  MUEN_KERNEL_CR3, MUEN_MAX_CPUS, MUEN_PLAN, MuenKernel, muenEptGpa, muenStateGpa, muenSubjects, muenVmcsGpa, muenVmxonGpa,
  NVMX_SERVICE, nvmxCr3, type MuenConfig, type MuenCorruption, type MuenSubject, type NvmxService, type NvmxVariant,
} from '../src/index.js';

const TICK_NS = 100_000;
const PAGE = 0x1000n;
/** 64 EPT table pages per CPU (muen.ts). */
const EPT_BYTES_PER_CPU = 0x40000n;

interface Setup {
  readonly vm: Vm;
  readonly vcpus: Vcpu[];
  readonly svc: NvmxService;
  readonly subjects: MuenSubject[];
  readonly tickTimerValue: bigint;
  readonly hv: ReturnType<typeof createHypervisor>;
}

/** As run-muen.ts sets up a run, from top-level code: the hypervisor, the subjects, device interrupts on vCPU 0. */
function setup(variant: NvmxVariant, o: { seed?: number; vcpus?: number; logDirty?: boolean; irqs?: boolean; frames?: number } = {}): Setup {
  const hv = createHypervisor({ arch: 'x86_64', seed: o.seed ?? 1, plugins: [nvmxCr3({ variant, enableEpt: true })] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: o.logDirty === true ? KVM_MEM_LOG_DIRTY_PAGES : 0, guestPhysAddr: 0n, memorySize: 16n << 20n });
  const vcpus = Array.from({ length: o.vcpus ?? 1 }, (_, i) => vm.createVcpu(i));
  const svc = hv.decoration<NvmxService>(NVMX_SERVICE)!;
  const subjects = muenSubjects(hv.sim.rng, TICK_NS);
  const khz = hv.host.counterHz / 1000n;
  const tickTimerValue = ((BigInt(TICK_NS) * khz) / 1_000_000n) >> 5n;
  if (o.irqs !== false) {
    const horizon = BigInt(o.frames ?? 100) * BigInt(TICK_NS) * 2n;
    for (let t = hv.sim.rng.exponential(5e5); BigInt(Math.round(t)) < horizon; t += hv.sim.rng.exponential(5e5)) {
      svc.raiseInterrupt(vcpus[0]!, 0x30, BigInt(Math.round(t)));
    }
  }
  for (const v of vcpus) svc.setSregs(v, { cr3: MUEN_KERNEL_CR3 });
  return { hv, vm, vcpus, svc, subjects, tickTimerValue };
}

const config = (s: Setup, extra: Partial<MuenConfig> = {}): MuenConfig => ({
  subjects: s.subjects, plan: MUEN_PLAN, tickTimerValue: s.tickTimerValue, kernelCr3: MUEN_KERNEL_CR3, onCorruption: 'repair', ...extra,
});

interface Outcome {
  readonly corruptions: MuenCorruption[];
  /** How many of them each kernel detected. */
  readonly perKernel: number[];
  readonly framesRun: number;
  readonly halted: boolean;
  readonly now: bigint;
  readonly knownCr3: bigint[];
  readonly state: Uint8Array;
}

const outcome = (s: Setup, kernels: MuenKernel[]): Outcome => {
  const last = kernels[kernels.length - 1]!;
  return {
    corruptions: kernels.flatMap((k) => k.corruptions),
    perKernel: kernels.map((k) => k.corruptions.length),
    framesRun: last.framesRun,
    halted: kernels.some((k) => k.halted),
    now: s.hv.sim.now,
    knownCr3: s.subjects.map((x) => last.knownCr3(x.id)),
    state: s.vm.memory.read(muenStateGpa(0), 0x1000),
  };
};

/** N frames with one kernel. */
function straight(variant: NvmxVariant, frames: number): Outcome {
  const s = setup(variant, { frames });
  const k = new MuenKernel(s.vcpus[0]!, config(s));
  expect(k.boot()).toBe(true);
  k.run(frames);
  return outcome(s, [k]);
}

/** `split` frames with one kernel, then a kernel rebuilt from memory on the same vCPU runs the rest. */
function resumed(variant: NvmxVariant, frames: number, split: number, midFrame = false): Outcome {
  const s = setup(variant, { frames });
  const a = new MuenKernel(s.vcpus[0]!, config(s));
  expect(a.boot()).toBe(true);
  a.run(split);
  if (midFrame) expect(a.beginFrame(split)).toBe(true); // stopped after VMLAUNCH/VMRESUME returned, before Muen's check
  const b = MuenKernel.resume(s.vcpus[0]!, config(s));
  expect(b.framesRun).toBe(split);
  expect(b.nextFrame).toBe(midFrame ? split + 1 : split);
  expect(b.inFrame).toBe(midFrame);
  if (midFrame) b.completeFrame();
  for (let f = b.nextFrame; f < frames && !b.halted; f++) b.minorFrame(f);
  return outcome(s, [a, b]);
}

const FRAMES = 60;

describe.each(['pre-fix', 'merged'] as const)('MuenKernel.resume (%s)', (variant) => {
  const base = straight(variant, FRAMES);

  it('the straight run is what the scenario expects of this variant', () => {
    expect(base.framesRun).toBe(FRAMES);
    expect(base.halted).toBe(false);
    if (variant === 'pre-fix') expect(base.corruptions.length).toBeGreaterThan(0);
    else expect(base.corruptions).toEqual([]);
    expect(Number(readLe(base.state, 0, 4))).toBe(FRAMES); // framesRun, in memory
  });

  it.each([1, 7, 23, 59])('split after %i frames: same corruptions, frames run, known CR3s, time and state page', (split) => {
    const r = resumed(variant, FRAMES, split);
    expect(r.corruptions).toEqual(base.corruptions);
    // pre-fix both kernels see some: the resumed one detects on its own (seed 1: frames 5 … 59)
    if (variant === 'pre-fix') expect(r.perKernel.every((n) => n > 0)).toBe(split > 5);
    else expect(r.perKernel).toEqual([0, 0]);
    expect(r.framesRun).toBe(base.framesRun);
    expect(r.halted).toBe(false);
    expect(r.knownCr3).toEqual(base.knownCr3);
    expect(r.now).toBe(base.now);
    expect(r.state).toEqual(base.state);
  });

  it.each([3, 30])('split inside frame %i (after the entry returned): the resumed kernel completes it, same outcome', (split) => {
    const r = resumed(variant, FRAMES, split, true);
    expect(r.corruptions).toEqual(base.corruptions);
    expect(r.framesRun).toBe(base.framesRun);
    expect(r.knownCr3).toEqual(base.knownCr3);
    expect(r.now).toBe(base.now);
  });
});

describe('Muen’s state page is L1 memory', () => {
  it('after boot and some frames the page at muenStateGpa(0) holds the counters; GET_DIRTY_LOG reports it dirty', () => {
    const s = setup('merged', { logDirty: true, irqs: false });
    const k = new MuenKernel(s.vcpus[0]!, config(s));
    expect(s.vm.memory.read(muenStateGpa(0), 0x1000).some((b) => b !== 0)).toBe(false);
    expect(k.boot()).toBe(true);
    k.run(5);
    const page = s.vm.memory.read(muenStateGpa(0), 0x1000);
    expect(page.some((b) => b !== 0)).toBe(true);
    expect(Number(readLe(page, 0, 4))).toBe(5); // framesRun @0
    expect(Number(readLe(page, 24, 4))).toBe(5); // next frame @24
    expect(k.framesRun).toBe(5);
    expect(k.nextFrame).toBe(5);
    const gfn = Number(muenStateGpa(0) / PAGE);
    expect(bitmapPages(s.vm.getDirtyLog(0))).toContain(gfn);
    // the log was harvested: one more frame dirties the state page again, and not cpu 1's
    expect(bitmapPages(s.vm.getDirtyLog(0))).not.toContain(gfn);
    k.minorFrame(5);
    const dirty = bitmapPages(s.vm.getDirtyLog(0));
    expect(dirty).toContain(gfn);
    expect(dirty).not.toContain(Number(muenStateGpa(1) / PAGE));
    expect(k.framesRun).toBe(6);
  });

  it('the known CR3 of each subject is the one in the state page (what knownCr3 reads)', () => {
    const s = setup('merged', { irqs: false });
    const k = new MuenKernel(s.vcpus[0]!, config(s));
    k.boot();
    k.run(3);
    s.subjects.forEach((x, slot) => {
      const fromMemory = readLe(s.vm.memory.read(muenStateGpa(0) + 64n + BigInt(slot) * 32n + 8n, 8), 0, 8);
      expect(k.knownCr3(x.id)).toBe(fromMemory);
    });
    expect(k.knownCr3(1)).toBe(s.subjects[1]!.cr3);
    expect(() => k.knownCr3(42)).toThrow(RangeError);
  });
});

describe('two Muen CPUs in one VM (MuenConfig.cpu)', () => {
  const split = (subjects: readonly MuenSubject[]) => ({
    a: subjects.filter((x) => x.id <= 4),
    b: subjects.filter((x) => x.id >= 5),
  });

  const PLAN0 = [0, 1, 2, 3, 1, 4];
  const PLAN1 = [5, 8, 6, 9, 7];
  const FR = 40;
  const alternate = (k0: MuenKernel, k1: MuenKernel) => {
    for (let f = 0; f < FR; f++) {
      k0.minorFrame(f);
      k1.minorFrame(f);
    }
  };

  it('boot without overlapping memory, and each runs frames with 0 corruptions (merged)', () => {
    const s = setup('merged', { vcpus: 2, irqs: false });
    const [v0, v1] = s.vcpus as [Vcpu, Vcpu];
    const { a, b } = split(s.subjects);
    expect(a.map((x) => x.id)).toEqual([0, 1, 2, 3, 4]);
    expect(b.map((x) => x.id)).toEqual([5, 6, 7, 8, 9]);
    const k0 = new MuenKernel(v0, config(s, { cpu: 0, subjects: a, plan: PLAN0 }));
    const k1 = new MuenKernel(v1, config(s, { cpu: 1, subjects: b, plan: PLAN1 }));
    // placement
    expect(muenVmxonGpa(0)).not.toBe(muenVmxonGpa(1));
    expect(muenStateGpa(0)).not.toBe(muenStateGpa(1));
    expect(muenEptGpa(0) + EPT_BYTES_PER_CPU).toBeLessThanOrEqual(muenEptGpa(1));
    expect(k0.boot()).toBe(true);
    const eptArea0 = s.vm.memory.read(muenEptGpa(0), Number(EPT_BYTES_PER_CPU));
    const vmxon0 = s.vm.memory.read(muenVmxonGpa(0), 0x1000);
    const state0 = s.vm.memory.read(muenStateGpa(0), 0x1000);
    expect(k1.boot()).toBe(true);
    // cpu 1's boot wrote none of cpu 0's pages
    expect(s.vm.memory.read(muenEptGpa(0), Number(EPT_BYTES_PER_CPU))).toEqual(eptArea0);
    expect(s.vm.memory.read(muenVmxonGpa(0), 0x1000)).toEqual(vmxon0);
    expect(s.vm.memory.read(muenStateGpa(0), 0x1000)).toEqual(state0);
    // each vCPU's VMXON region is its CPU's (KVM_GET_NESTED_STATE vmxon_pa)
    expect(readLe(v0.getNestedState(), 8, 8)).toBe(muenVmxonGpa(0));
    expect(readLe(v1.getNestedState(), 8, 8)).toBe(muenVmxonGpa(1));
    // every subject's EPT tables are in its CPU's range
    const inRange = (v: Vcpu, id: number, cpu: number) => {
      const pml4 = s.hv.nestedVmx!.vmcs12At(v, muenVmcsGpa(id))!.get(EPT_POINTER) & ~0xfffn;
      return pml4 >= muenEptGpa(cpu) && pml4 < muenEptGpa(cpu) + EPT_BYTES_PER_CPU;
    };
    for (const x of a) expect(inRange(v0, x.id, 0)).toBe(true);
    for (const x of b) expect(inRange(v1, x.id, 1)).toBe(true);
    // alternate, one frame at a time
    alternate(k0, k1);
    for (const k of [k0, k1]) {
      expect(k.halted).toBe(false);
      expect(k.corruptions).toEqual([]);
      expect(k.framesRun).toBe(FR);
      expect(k.log.filter((l) => l.startsWith('ERROR'))).toEqual([]);
    }
    expect(Number(readLe(s.vm.memory.read(muenStateGpa(0), 4), 0, 4))).toBe(FR);
    expect(Number(readLe(s.vm.memory.read(muenStateGpa(1), 4), 0, 4))).toBe(FR);
    // the VM subjects of cpu 1 loaded their own CR3s, and Muen on cpu 1 tracked them
    expect([k1.knownCr3(8), k1.knownCr3(9)].some((c) => c !== 0n)).toBe(true);
    expect(() => k0.knownCr3(8)).toThrow(RangeError); // not a subject of cpu 0
  });

  it('the same two CPUs pre-fix: Muen detects corruptions (the 0 above is the fix, not a setup that cannot show the bug)', () => {
    const s = setup('pre-fix', { vcpus: 2, irqs: false });
    const [v0, v1] = s.vcpus as [Vcpu, Vcpu];
    const { a, b } = split(s.subjects);
    const k0 = new MuenKernel(v0, config(s, { cpu: 0, subjects: a, plan: PLAN0 }));
    const k1 = new MuenKernel(v1, config(s, { cpu: 1, subjects: b, plan: PLAN1 }));
    expect(k0.boot() && k1.boot()).toBe(true);
    alternate(k0, k1);
    expect(k0.corruptions.length + k1.corruptions.length).toBeGreaterThan(0);
    for (const c of [...k0.corruptions, ...k1.corruptions]) expect(c.found).not.toBe(c.expected);
    for (const c of k0.corruptions) expect(a.map((x) => x.id)).toContain(c.subject);
    for (const c of k1.corruptions) expect(b.map((x) => x.id)).toContain(c.subject);
    expect([k0.framesRun, k1.framesRun]).toEqual([FR, FR]); // 'repair' goes on
  });

  // muenEptGpa(cpu) gives each CPU 64 table pages (16 subjects × 4): a 17th subject would put its
  // tables in the next CPU's range. Fix-agnostic check (refuse, or place them elsewhere).
  it('more subjects than a CPU’s EPT range holds never overwrite the next CPU’s tables', () => {
    const s = setup('merged', { vcpus: 2, irqs: false });
    const [v0, v1] = s.vcpus as [Vcpu, Vcpu];
    const native = (id: number): MuenSubject => ({ id, kind: 'native', cr3: 0x100_0000n + BigInt(id) * PAGE, workNs: 1000, wakeEvery: 0 });
    const k1 = new MuenKernel(v1, config(s, { cpu: 1, subjects: [native(40)], plan: [40] }));
    expect(k1.boot()).toBe(true);
    const tables1 = s.vm.memory.read(muenEptGpa(1), Number(EPT_BYTES_PER_CPU));
    try {
      new MuenKernel(v0, config(s, { cpu: 0, subjects: Array.from({ length: 17 }, (_, i) => native(i)), plan: [0] })).boot();
    } catch {
      // refusing the configuration is a fix too
    }
    expect(s.vm.memory.read(muenEptGpa(1), Number(EPT_BYTES_PER_CPU))).toEqual(tables1);
    k1.run(3);
    expect(k1.log.filter((l) => l.startsWith('ERROR'))).toEqual([]);
  });
});

describe('MuenConfig.cpu and the frame protocol', () => {
  it.each([-1, MUEN_MAX_CPUS, MUEN_MAX_CPUS + 5, 1.5, Number.NaN])('cpu %s → RangeError (constructor and resume)', (cpu) => {
    const s = setup('merged', { irqs: false });
    expect(() => new MuenKernel(s.vcpus[0]!, config(s, { cpu }))).toThrow(RangeError);
    expect(() => MuenKernel.resume(s.vcpus[0]!, config(s, { cpu }))).toThrow(RangeError);
  });

  it.each([0, MUEN_MAX_CPUS - 1])('cpu %i is accepted; its VMXON region is muenVmxonGpa(cpu)', (cpu) => {
    const s = setup('merged', { irqs: false });
    const k = new MuenKernel(s.vcpus[0]!, config(s, { cpu }));
    expect(k.boot()).toBe(true);
    expect(readLe(s.vcpus[0]!.getNestedState(), 8, 8)).toBe(muenVmxonGpa(cpu));
    k.run(2);
    expect(k.framesRun).toBe(2);
    expect(Number(readLe(s.vm.memory.read(muenStateGpa(cpu), 4), 0, 4))).toBe(2);
  });

  it('completeFrame() with no frame in flight throws (before any frame, and after a whole one)', () => {
    const s = setup('merged', { irqs: false });
    const k = new MuenKernel(s.vcpus[0]!, config(s));
    expect(k.boot()).toBe(true);
    expect(k.inFrame).toBe(false);
    expect(() => k.completeFrame()).toThrow(/no minor frame in flight/);
    k.minorFrame(0);
    expect(k.inFrame).toBe(false);
    expect(() => k.completeFrame()).toThrow(/no minor frame in flight/);
    expect(k.framesRun).toBe(1);
    expect(k.beginFrame(1)).toBe(true);
    expect(k.inFrame).toBe(true);
    expect(k.framesRun).toBe(1); // not completed yet
    k.completeFrame();
    expect(k.inFrame).toBe(false);
    expect(k.framesRun).toBe(2);
    expect(() => k.completeFrame()).toThrow(/no minor frame in flight/);
    expect(k.framesRun).toBe(2); // the refused call changed nothing
  });
});

describe('a halted Muen stays halted across a resume', () => {
  it('"Halting CPU" is in Muen\'s memory: a kernel resumed from it reports halted and runs no frame', () => {
    const s = setup('pre-fix');
    const k = new MuenKernel(s.vcpus[0]!, config(s, { onCorruption: 'halt' }));
    expect(k.boot()).toBe(true);
    expect(k.halted).toBe(false);
    k.run(200);
    expect(k.halted).toBe(true); // pre-fix: the check fired and Muen halted, as in the report
    const frames = k.framesRun;
    const again = MuenKernel.resume(s.vcpus[0]!, config(s, { onCorruption: 'halt' }));
    expect(again.halted).toBe(true);
    again.run(10);
    expect(again.framesRun).toBe(frames);
  });
});
