/**
 * Model-based fuzz of the whole public API (issue 22): fast-check command sequences of valid
 * and invalid calls — memslots, dirty log GET/CLEAR, KVM_ENABLE_CAP, vCPU creation, guest
 * reads and writes, hypercalls and instructions with any register values, virtual time —
 * against every plugin combination of both arches. Invariants: a valid call does what the
 * model (model.ts: the kernel's rules) says; an invalid one throws the typed error (KvmError
 * with the expected errno, SimulationError for time) and leaves `hypervisorState` unchanged;
 * nothing ever throws anything else.
 */
import { describe, expect } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import {
  bitmapPages, createHypervisor, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KvmError, SimulationError, type Hypervisor, type Plugin, type Vcpu, type Vm,
} from '@kvmlab/hypervisor-core';
import { kvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { nvmxCr3 } from '@kvmlab/nvmx-cr3';
import { psciConduit } from '@kvmlab/psci-conduit';
import { ptpKvmArm64 } from '@kvmlab/ptp-kvm-arm64';
import { ptpKvmX86 } from '@kvmlab/ptp-kvm-x86';
import { applyRegion, applyWrite, modelRead, newModel, PAGE, regionOutcome, SPACE_PAGES, type Model } from './model.js';
import { hypervisorState } from './state.js';

const SOAK = process.env.KVMLAB_SOAK ? 100 : 1;
const U64 = 1n << 64n;
const tally = { steps: 0, valid: 0, invalid: 0, rawErrors: 0, changedOnFailure: 0 };

interface Real {
  readonly hv: Hypervisor;
  readonly vm: Vm;
  readonly vcpu: Vcpu;
}

/** Runs a call that must fail with `errno` (or SimulationError) and leave the state as it was. */
function expectRefused(r: Real, errno: string, call: () => unknown): void {
  const before = hypervisorState(r.hv);
  let err: unknown;
  try {
    call();
  } catch (e) {
    err = e;
  }
  tally.invalid++;
  const typed = errno === 'SimulationError' ? err instanceof SimulationError : err instanceof KvmError;
  if (!typed) tally.rawErrors++;
  expect(typed, `expected ${errno}, got ${String(err)}`).toBe(true);
  if (errno !== 'SimulationError') expect((err as KvmError).errno).toBe(errno);
  const after = hypervisorState(r.hv);
  if (after !== before) tally.changedOnFailure++;
  expect(after).toBe(before);
}

type Cmd = fc.Command<Model, Real>;
const cmd = (name: string, check: (m: Readonly<Model>) => boolean, run: (m: Model, r: Real) => void): Cmd => ({
  check,
  run: (m, r) => {
    tally.steps++;
    run(m, r);
  },
  toString: () => name,
});
const always = (): boolean => true;
const text = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

// --- memslots -------------------------------------------------------------------------------
const slotId = fc.integer({ min: 0, max: 5 });
const pageCount = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constant(512));
const basePage = fc.integer({ min: 0, max: SPACE_PAGES - 1 });

const validRegion = fc.record({ id: slotId, flags: fc.constantFrom(0, 1, 1, 2, 3), base: basePage, pages: pageCount, misalign: fc.constantFrom(0n, 0n, 0n, 0n, 512n) })
  .map((a) => cmd(`region(${text(a)})`, always, (m, r) => {
    const gpa = BigInt(a.base * PAGE) + a.misalign;
    const size = BigInt(a.pages * PAGE);
    const expected = regionOutcome(m, a.id, a.flags, gpa, size);
    if (expected !== 'ok') return expectRefused(r, expected, () => r.vm.setUserMemoryRegion({ slot: a.id, flags: a.flags, guestPhysAddr: gpa, memorySize: size }));
    tally.valid++;
    r.vm.setUserMemoryRegion({ slot: a.id, flags: a.flags, guestPhysAddr: gpa, memorySize: size });
    applyRegion(m, a.id, a.flags, gpa, size);
    const s = r.vm.memslots.get(0, a.id);
    expect(s === undefined ? null : [s.baseGfnNumber, s.npages, s.flags, s.dirtyBitmap?.dirtyCount ?? null]).toEqual(
      m.slots.has(a.id) ? [m.slots.get(a.id)!.base, m.slots.get(a.id)!.npages, a.flags, m.slots.get(a.id)!.dirty?.size ?? null] : null);
  }));

/** Fields of the wrong C type (each one alone): EINVAL; a struct that is not an object: EFAULT. */
const badRegion = fc.oneof(
  fc.constantFrom<[string, Record<string, unknown>]>(
    ['EINVAL', { memorySize: 4096 }], ['EINVAL', { memorySize: Number.NaN }], ['EINVAL', { memorySize: U64 }], ['EINVAL', { memorySize: -4096n }],
    ['EINVAL', { guestPhysAddr: 0 }], ['EINVAL', { guestPhysAddr: U64 }], ['EINVAL', { flags: undefined }], ['EINVAL', { flags: 1.5 }],
    ['EINVAL', { flags: 4 }], ['EINVAL', { slot: '0' }], ['EINVAL', { slot: -1 }], ['EINVAL', { slot: 2 ** 32 }], ['EINVAL', { slot: 'KVM_USER_MEM_SLOTS' }],
    ['EINVAL', { slot: 2 << 16 }], ['EINVAL', { slot: Number.NaN }],
  ),
  fc.constant<[string, Record<string, unknown> | null]>(['EFAULT', null]),
).map(([errno, patch]) => cmd(`badRegion(${errno}, ${String(patch && Object.keys(patch))})`, always, (_m, r) =>
  expectRefused(r, errno, () => r.vm.setUserMemoryRegion((patch === null ? null : {
    slot: 1, flags: 0, guestPhysAddr: 0n, memorySize: 4096n, ...patch,
    ...(patch['slot'] === 'KVM_USER_MEM_SLOTS' ? { slot: r.vm.memslots.maxUserSlots } : {}),
  }) as never))));

// --- dirty log -------------------------------------------------------------------------------
const getLog = fc.record({ id: slotId, into: fc.constantFrom('none', 'buffer', 'short') }).map((a) => cmd(`get(${a.id}, ${a.into})`, always, (m, r) => {
  const s = m.slots.get(a.id);
  if (s?.dirty === undefined) return expectRefused(r, 'ENOENT', () => r.vm.getDirtyLog(a.id));
  const need = Math.ceil(s.npages / 64) * 8;
  if (a.into === 'short' && need > 0) {
    if (m.manual !== 0) return expectRefused(r, 'EFAULT', () => r.vm.getDirtyLog(a.id, new Uint8Array(need - 1)));
    // Without manual protect the harvest happens before copy_to_user(): EFAULT, and the bits are gone.
    expect(() => r.vm.getDirtyLog(a.id, new Uint8Array(need - 1))).toThrow(KvmError);
    m.harvested += s.dirty.size;
    s.dirty.clear();
    return;
  }
  tally.valid++;
  const bm = r.vm.getDirtyLog(a.id, a.into === 'buffer' ? new Uint8Array(need + 3) : undefined);
  expect(bitmapPages(bm).filter((p) => p < s.npages)).toEqual([...s.dirty].sort((x, y) => x - y));
  if (m.manual === 0) {
    m.harvested += s.dirty.size;
    s.dirty.clear();
  }
  expect(r.vm.stats.pagesHarvested).toBe(m.harvested);
}));

const badGetLog = fc.constantFrom<[string, unknown, unknown]>(
  ['EFAULT', 0, []], ['EFAULT', 0, new Array(64).fill(0)], ['EFAULT', 0, 'bits'], ['EINVAL', 0.5, undefined], ['EINVAL', -1, undefined],
  ['EINVAL', '0', undefined], ['EINVAL', 2 << 16, undefined], ['EINVAL', 0xffff, undefined],
).map(([errno, slot, into]) => cmd(`badGet(${errno}, ${String(slot)})`, always, (_m, r) =>
  expectRefused(r, errno, () => r.vm.getDirtyLog(slot as number, into as Uint8Array))));

const clearLog = fc.record({ id: slotId, first: fc.integer({ min: 0, max: 9 }).map((x) => x * 64), num: fc.integer({ min: 0, max: 600 }), fill: fc.integer({ min: 0, max: 255 }) })
  .map((a) => cmd(`clear(${text(a)})`, always, (m, r) => {
    const s = m.slots.get(a.id);
    const need = Math.ceil(a.num / 64) * 8;
    const args = { slot: a.id, firstPage: a.first, numPages: a.num, bitmap: new Uint8Array(need).fill(a.fill) };
    if (s?.dirty === undefined) return expectRefused(r, 'ENOENT', () => r.vm.clearDirtyLog(args));
    if (a.first > s.npages || a.num > s.npages - a.first || (a.num < s.npages - a.first && a.num % 64 !== 0)) {
      return expectRefused(r, 'EINVAL', () => r.vm.clearDirtyLog(args));
    }
    tally.valid++;
    r.vm.clearDirtyLog(args);
    for (let i = 0; i < a.num; i++) if ((a.fill >> (i % 8)) & 1) s.dirty.delete(a.first + i);
  }));

const badClearLog = fc.constantFrom<[string, Record<string, unknown> | null]>(
  ['EFAULT', { bitmap: [255] }], ['EFAULT', { bitmap: undefined }], ['EINVAL', { numPages: 64n }], ['EINVAL', { numPages: -1 }],
  ['EINVAL', { firstPage: -64 }], ['EINVAL', { firstPage: 1.5 }], ['EINVAL', { firstPage: 3 }], ['EINVAL', { slot: '0' }],
  ['EFAULT', { bitmap: new Uint8Array(0) }], ['EFAULT', null],
).map(([errno, patch]) => cmd(`badClear(${errno})`, always, (m, r) => {
  // The short-bitmap case is EFAULT only once the slot logs and the range fits: give it one.
  const logging = [...m.slots.entries()].find(([, s]) => s.dirty !== undefined && s.npages >= 64);
  if (patch?.['bitmap'] instanceof Uint8Array && logging === undefined) return;
  const slot = logging?.[0] ?? 0;
  const args = patch === null ? null : { slot, firstPage: 0, numPages: 64, bitmap: new Uint8Array(8), ...patch };
  if (errno === 'EINVAL' && patch !== null && 'firstPage' in patch && logging === undefined && typeof patch['firstPage'] === 'number' && Number.isInteger(patch['firstPage']) && (patch['firstPage'] as number) >= 0) return;
  expectRefused(r, errno, () => r.vm.clearDirtyLog(args as never));
}));

const enableManual = fc.integer({ min: 0, max: 5 }).map((arg) => cmd(`manual(${arg})`, always, (m, r) => {
  // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 on 5.7: 0, 1 or 3.
  if (![0, 1, 3].includes(arg)) return expectRefused(r, 'EINVAL', () => r.vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [arg]));
  tally.valid++;
  r.vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [arg]);
  m.manual = arg;
}));

const badEnableCap = fc.constantFrom<unknown[]>(
  [1.5, []], [-1, []], ['x', []], [KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1n << 64n]], [KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [0.5]],
  [KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [0, 0, 0, 0, 0]], [KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1], 1], [99999, []],
).map((a) => cmd(`badCap(${String(a[0])})`, always, (_m, r) => {
  const cap = a[0] as number;
  const args = a[1] as bigint[];
  expectRefused(r, 'EINVAL', () => r.vm.enableCap(cap, args, (a[2] as number | undefined) ?? 0));
}));

// --- guest memory ----------------------------------------------------------------------------
const guestWrite = fc.record({ page: fc.integer({ min: 0, max: SPACE_PAGES }), off: fc.integer({ min: 0, max: PAGE - 1 }), len: fc.integer({ min: 1, max: 6000 }), v: fc.integer({ min: 1, max: 255 }) })
  .map((a) => cmd(`write(${text(a)})`, always, (m, r) => {
    tally.valid++;
    const gpa = a.page * PAGE + a.off;
    const bytes = new Uint8Array(a.len).fill(a.v);
    r.vcpu.write(BigInt(gpa), bytes);
    applyWrite(m, gpa, bytes);
    expect(r.vm.hasRun).toBe(true);
    expect(Buffer.from(r.vcpu.read(BigInt(gpa), a.len)).equals(Buffer.from(modelRead(m, gpa, a.len)))).toBe(true);
  }));

const badAccess = fc.constantFrom<[string, string, unknown, unknown]>(
  ['EINVAL', 'write', U64, new Uint8Array(1)], ['EINVAL', 'write', -1n, new Uint8Array(1)], ['EINVAL', 'write', 0, new Uint8Array(1)],
  ['EFAULT', 'write', 0n, [1, 2]], ['EFAULT', 'write', 0n, undefined], ['EINVAL', 'read', U64 + 4096n, 1], ['EINVAL', 'read', 0n, 1.5],
  ['EINVAL', 'read', 0n, -1], ['EINVAL', 'read', '0', 1],
).map(([errno, op, gpa, x]) => cmd(`bad${op}(${errno})`, always, (_m, r) =>
  expectRefused(r, errno, () => (op === 'write' ? r.vcpu.write(gpa as bigint, x as Uint8Array) : r.vcpu.read(gpa as bigint, x as number)))));

// --- vCPUs and instructions ------------------------------------------------------------------
const createVcpu = fc.integer({ min: -2, max: 6 }).map((id) => cmd(`createVcpu(${id})`, always, (m, r) => {
  if (id < 0) return expectRefused(r, 'EINVAL', () => r.vm.createVcpu(id));
  if (m.vcpuIds.has(id)) return expectRefused(r, 'EEXIST', () => r.vm.createVcpu(id));
  tally.valid++;
  expect(r.vm.createVcpu(id).id).toBe(id);
  m.vcpuIds.add(id);
}));

const reg = fc.oneof(fc.bigInt({ min: -(1n << 63n), max: U64 - 1n }), fc.constantFrom(0n, 0x80000000n, 0x84000000n, 0x86000001n, 0xc6000001n, 1n, 9n, U64 - 1n, -1n));
const guestCall = fc.record({ regs: fc.array(reg, { minLength: 1, maxLength: 6 }), imm: fc.integer({ min: 0, max: 0xffff }), kind: fc.constantFrom('a', 'b', 'c') })
  .map((a) => cmd(`guestCall(${a.kind}, ${a.regs.length} regs)`, always, (m, r) => {
    tally.valid++;
    if (m.arch === 'arm64') {
      const out = a.kind === 'a' ? r.vcpu.hvc(a.regs, a.imm) : r.vcpu.smc(a.regs, a.imm);
      expect(out).toHaveLength(4);
      for (const x of out) expect(x >= 0n && x < U64, `register ${x}`).toBe(true);
    } else if (a.kind === 'a') {
      const rax = r.vcpu.vmcall(a.regs[0]!, a.regs.slice(1, 5));
      expect(rax >= 0n && rax < U64, `RAX ${rax}`).toBe(true);
    } else if (a.kind === 'b') {
      r.vcpu.wrmsr(Number(BigInt.asUintN(32, a.regs[0]!)), a.regs[1] ?? 0n);
      r.vcpu.rdmsr(Number(BigInt.asUintN(32, a.regs[0]!)));
    } else {
      r.vcpu.cpuid(Number(BigInt.asUintN(32, a.regs[0]!)));
    }
    m.hasRun = true;
    expect(r.vm.hasRun, 'hasRun').toBe(true);
  }));

const badGuestCall = fc.constantFrom<[string, unknown[]]>(
  ['hvc', [[0x80000000]]], ['hvc', [[U64]]], ['hvc', [[0n], 0x10000]], ['hvc', [[0n], -1]], ['smc', ['regs']], ['hvc', [Array(32).fill(0n)]],
  ['vmcall', [1.5]], ['vmcall', [1n, [U64]]], ['vmcall', [1n, [], { cpl: 7 }]], ['vmcall', [1n, [], { longMode: 'yes' }]], ['vmcall', [1n, [1n, 2n, 3n, 4n, 5n]]],
  ['wrmsr', [Number.NaN, 0n]], ['wrmsr', [0x10, 1]], ['rdmsr', [2 ** 32]], ['cpuid', [0.5]], ['io', [0x10000, 1, 'in']], ['io', [0x80, 3, 'in']],
  ['movToCr', [3, 0n]], ['vmx', ['vmfunc']], ['vmx', ['vmxon', 5]], ['setOneReg', [-1n, 0n]], ['getOneReg', [1]],
).map(([insn, args]) => cmd(`bad ${insn}`, (m) => m.arch === (['hvc', 'smc'].includes(insn) ? 'arm64' : 'x86_64') || ['setOneReg', 'getOneReg'].includes(insn), (_m, r) =>
  expectRefused(r, 'EINVAL', () => (r.vcpu[insn as 'hvc'] as (...a: unknown[]) => unknown).apply(r.vcpu, args))));

// --- virtual time ----------------------------------------------------------------------------
const time = fc.bigInt({ min: 0n, max: 3_000_000n }).map((ns) => cmd(`time(${ns})`, always, (_m, r) => {
  tally.valid++;
  const t = r.hv.sim.now;
  r.hv.sim.runFor(ns);
  expect(r.hv.sim.now).toBe(t + ns);
}));

const badTime = fc.constantFrom<[string, unknown[]]>(
  ['schedule', [undefined, () => undefined]], ['schedule', [10n ** 15n, 'fn']], ['schedule', [-1n, () => undefined]], ['runUntil', ['abc']],
  ['runUntil', [-1n]], ['runFor', [1]], ['runFor', [-5n]], ['after', [1.5, () => undefined]], ['elapse', [undefined]], ['run', [Number.NaN]],
).map(([fn, args]) => cmd(`bad ${fn}`, always, (_m, r) =>
  expectRefused(r, 'SimulationError', () => (r.hv.sim[fn as 'runFor'] as (...a: unknown[]) => unknown).apply(r.hv.sim, args))));

const commands = [
  validRegion, validRegion, badRegion, getLog, badGetLog, clearLog, badClearLog, enableManual, badEnableCap,
  guestWrite, guestWrite, badAccess, createVcpu, guestCall, badGuestCall, time, badTime,
];

// --- plugin combinations -----------------------------------------------------------------------
interface Combo {
  readonly name: string;
  readonly arch: 'arm64' | 'x86_64';
  readonly plugins: () => Plugin[];
}
const x86Factories: [string, () => Plugin][] = [
  ['kvm-mmu-pml', () => kvmMmuPml()], ['kvm-mmu-pml(pre-fix, no PML)', () => kvmMmuPml({ variant: 'pre-fix', enablePml: false })],
  ['nvmx-cr3', () => nvmxCr3()], ['ptp-kvm-x86', () => ptpKvmX86()],
];
const combos: Combo[] = [
  { name: 'arm64 core', arch: 'arm64', plugins: () => [] },
  { name: 'arm64 psci-conduit', arch: 'arm64', plugins: () => [psciConduit()] },
  { name: 'arm64 psci-conduit + ptp-kvm-arm64', arch: 'arm64', plugins: () => [psciConduit(), ptpKvmArm64()] },
  { name: 'arm64 psci-conduit + ptp-kvm-arm64 rfc-v4', arch: 'arm64', plugins: () => [psciConduit(), ptpKvmArm64({ variant: 'rfc-v4' })] },
];
// Every subset of the x86 plugins (one kvm-mmu-pml at most).
for (let mask = 0; mask < 16; mask++) {
  if ((mask & 3) === 3) continue;
  const chosen = x86Factories.filter((_, i) => mask & (1 << i));
  combos.push({ name: `x86_64 ${chosen.map((c) => c[0]).join(' + ') || 'core'}`, arch: 'x86_64', plugins: () => chosen.map((c) => c[1]()) });
}

describe('model-based fuzz of the public API', () => {
  for (const combo of combos) {
    fcTest.prop([fc.commands(commands, { maxCommands: 150, size: 'max' })], { numRuns: 10 * SOAK })(
      `${combo.name}: valid calls follow the model, invalid ones throw the typed error and change nothing`,
      (cmds) => {
        const hv = createHypervisor({ arch: combo.arch, seed: 3, kernel: combo.arch === 'arm64' ? '5.13' : '5.7', plugins: combo.plugins() });
        const vm = hv.createVm();
        const vcpu = vm.createVcpu(0);
        const model = newModel(combo.arch);
        model.vcpuIds.add(0);
        fc.modelRun(() => ({ model, real: { hv, vm, vcpu } }), cmds);
      },
    );
  }
  fcTest('ran ≥ 10 000 steps, with 0 raw errors and 0 state changes on failure', () => {
    console.log(`API model fuzz: ${tally.steps} steps (${tally.valid} valid, ${tally.invalid} invalid), ${tally.rawErrors} raw errors, ${tally.changedOnFailure} state changes on failure`);
    expect(tally.steps).toBeGreaterThanOrEqual(10_000 * SOAK);
    expect(tally.rawErrors).toBe(0);
    expect(tally.changedOnFailure).toBe(0);
  });
});
