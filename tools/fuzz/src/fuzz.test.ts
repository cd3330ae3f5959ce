/**
 * ABI fuzzing of composed hypervisors (issue 8): random sequences of memslot changes, dirty-log
 * GET/CLEAR, KVM_ENABLE_CAP, guest writes and virtual time, plus SMCCC calls and firmware
 * registers (arm64) or VMCALLs, MSRs, CPUID and nested VMX instructions (x86), with every
 * plugin installed or a random subset. Each step succeeds, fails with a KvmError that leaves
 * the VM unchanged, or returns a guest-visible error value; after every step the invariants hold.
 */
import { describe, expect } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import {
  createHypervisor, invept, invvpid, KvmError, loadVmcs, PIN_BASED_VMX_PREEMPTION_TIMER, prepareForVmxOperation, prepareVmcs,
  vmptrst, vmxoff, type Plugin, type Vm, type Vcpu,
} from '@kvmlab/hypervisor-core';
import { kvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { nvmxCr3, vmclear, vmlaunch, vmptrld, vmread, vmresume, vmwrite, vmxon } from '@kvmlab/nvmx-cr3';
import { KVM_REG_ARM_VENDOR_HYP_BMAP, psciConduit } from '@kvmlab/psci-conduit';
import { ptpKvmArm64 } from '@kvmlab/ptp-kvm-arm64';
import { ptpKvmX86 } from '@kvmlab/ptp-kvm-x86';
import { lostPages, snapshot, violation } from './invariants.js';
import { arm64Steps, memorySteps, nestedSteps, x86Steps } from './steps.js';

const SOAK = process.env.KVMLAB_SOAK ? 100 : 1;
const U64_MAX = (1n << 64n) - 1n;
const counts = { steps: 0, kvmErrors: 0, runs: 0, nestedEntries: 0, l2Exits: 0 };

type Step = { k: string } & Record<string, unknown>;

function memoryStep(vm: Vm, vcpu: Vcpu, st: Step): void {
  switch (st.k) {
    case 'region':
      return vm.setUserMemoryRegion({ slot: st.slot as number, flags: st.flags as number, guestPhysAddr: st.gpa as bigint, memorySize: st.size as bigint });
    case 'get':
      return void vm.getDirtyLog(st.slot as number);
    case 'clear':
      return vm.clearDirtyLog({ slot: st.slot as number, firstPage: st.first as number, numPages: st.num as number, bitmap: new Uint8Array(st.len as number).fill(0x5a) });
    case 'cap':
      return vm.enableCap(st.cap as number, [st.arg as number]);
    case 'time':
      return void vm.hv.sim.runFor(st.ns as bigint);
    case 'write': {
      const gpa = st.gpa as bigint;
      const len = st.len as number;
      vcpu.write(gpa, new Uint8Array(len).fill(0xc3));
      if (!vcpu.x86.guestMode) expect(lostPages(vm, gpa, len)).toEqual([]);
    }
  }
}

function x86Step(vcpu: Vcpu, st: Step): void {
  switch (st.k) {
    case 'vmcall': {
      const rax = vcpu.vmcall(st.nr as bigint, st.args as bigint[], { cpl: st.cpl as number, longMode: st.longMode as boolean });
      expect(rax >= 0n && rax <= (st.longMode ? U64_MAX : 0xffff_ffffn)).toBe(true);
      return;
    }
    case 'wrmsr':
      return void vcpu.wrmsr(st.msr as number, st.value as bigint);
    case 'rdmsr':
      return void vcpu.rdmsr(st.msr as number);
    case 'cpuid':
      return void vcpu.cpuid(st.leaf as number);
    case 'vmx': {
      const op = st.operand as bigint;
      const out = {
        vmxon: () => vmxon(vcpu, op),
        vmptrld: () => vmptrld(vcpu, op),
        vmclear: () => vmclear(vcpu, op),
        vmread: () => vmread(vcpu, Number(op & 0xffffn)),
        vmwrite: () => vmwrite(vcpu, Number(op & 0xffffn), st.value as bigint),
        vmlaunch: () => vmlaunch(vcpu),
        vmresume: () => vmresume(vcpu),
        vmxoff: () => vmxoff(vcpu),
        vmptrst: () => vmptrst(vcpu),
        invept: () => invept(vcpu, Number(op & 7n), st.value as bigint),
        invvpid: () => invvpid(vcpu, Number(op & 7n), (st.value as bigint) & 0x1ffffn, st.value as bigint),
      }[st.insn as string]!();
      expect(['ok', 'fail-invalid', 'fail-valid', 'ud', 'gp']).toContain(out.status);
      return;
    }
    case 'vmx-prepare':
      return void prepareForVmxOperation(vcpu, st.region as bigint);
    case 'vmx-launch': {
      // L1 may have no VMX at all here, or a VMCS at an unusable address: every step reports, none throws.
      vcpu.write(st.rip as bigint, st.code as Uint8Array);
      if (loadVmcs(vcpu, st.vmcs as bigint) &&
        prepareVmcs(vcpu, { guestRip: st.rip as bigint, pin: PIN_BASED_VMX_PREEMPTION_TIMER, preemptionTimer: st.timer as bigint })) {
        expect(['ok', 'fail-invalid', 'fail-valid']).toContain(vmlaunch(vcpu).status);
      }
      return;
    }
    case 'mov-cr':
      return void vcpu.movToCr(st.cr as 0 | 4, st.value as bigint);
    case 'nested-state': {
      const saved = vcpu.getNestedState();
      const buf = saved.slice(0, Math.min(saved.length, st.shrink as number));
      for (const f of st.flips as { at: number; value: number }[]) if (f.at < buf.length) buf[f.at] = f.value;
      try {
        vcpu.setNestedState(buf);
      } catch (e) {
        if (!(e instanceof KvmError)) throw e;
        expect(vcpu.getNestedState()).toEqual(saved); // a refused SET changes nothing
      }
      return;
    }
  }
}

function arm64Step(vcpu: Vcpu, st: Step): void {
  if (st.k === 'smccc') {
    const x = [st.fid as bigint, ...(st.args as bigint[])];
    const r = st.conduit === 'hvc' ? vcpu.hvc(x, st.imm as number) : vcpu.smc(x, st.imm as number);
    expect(r).toHaveLength(4);
    for (const v of r) expect(v >= 0n && v <= U64_MAX).toBe(true);
    return;
  }
  // KVM_SET_ONE_REG of the vendor-hyp bitmap: on failure the register keeps its value.
  let before: bigint | undefined;
  try {
    before = vcpu.getOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP);
  } catch (e) {
    if (!(e instanceof KvmError)) throw e;
  }
  try {
    vcpu.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, st.value as bigint);
  } catch (e) {
    if (!(e instanceof KvmError)) throw e;
    if (before !== undefined) expect(vcpu.getOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP)).toBe(before);
    throw e;
  }
}

function runSequence(arch: 'arm64' | 'x86_64', plugins: Plugin[], steps: Step[], l1Memory = false): void {
  const hv = createHypervisor({ arch, seed: 7, plugins });
  const vm = hv.createVm();
  if (l1Memory) vm.setUserMemoryRegion({ slot: 0, flags: 1, guestPhysAddr: 0n, memorySize: 16n << 20n }); // logged
  const vcpu = vm.createVcpu(0);
  if (l1Memory) hv.nestedVmx?.setSregs(vcpu, { cr3: 0x10_0000n });
  counts.runs++;
  for (const st of steps) {
    const before = snapshot(vm);
    try {
      if (st.k === 'smccc' || st.k === 'fwreg') arm64Step(vcpu, st);
      else if (['vmcall', 'wrmsr', 'rdmsr', 'cpuid', 'vmx', 'vmx-prepare', 'vmx-launch', 'mov-cr', 'nested-state'].includes(st.k)) x86Step(vcpu, st);
      else memoryStep(vm, vcpu, st);
    } catch (e) {
      if (!(e instanceof KvmError)) throw e;
      counts.kvmErrors++;
      if (['region', 'get', 'clear', 'cap'].includes(st.k)) expect(snapshot(vm)).toBe(before);
    }
    expect(violation(vm)).toBeUndefined();
    counts.steps++;
  }
  const nested = hv.nestedVmx?.state(vcpu).stats;
  counts.nestedEntries += nested?.nestedEntries ?? 0;
  counts.l2Exits += Object.values(nested?.nestedExits ?? {}).reduce((a, b) => a + b, 0);
}

const x86Plugins = [() => kvmMmuPml(), () => nvmxCr3(), () => ptpKvmX86()];
const subset = (mask: number) => x86Plugins.filter((_, i) => mask & (1 << i)).map((f) => f());

describe('ABI fuzz of composed hypervisors', () => {
  fcTest.prop([fc.array(fc.oneof(...memorySteps, ...x86Steps), { minLength: 50, maxLength: 120 })], { numRuns: 60 * SOAK })(
    'x86_64 with every plugin: steps succeed or fail cleanly; invariants hold',
    (steps) => runSequence('x86_64', subset(7), steps as Step[]),
  );
  fcTest.prop([fc.integer({ min: 0, max: 7 }), fc.array(fc.oneof(...memorySteps, ...x86Steps), { minLength: 50, maxLength: 120 })], { numRuns: 40 * SOAK })(
    'x86_64 with a random subset of plugins',
    (mask, steps) => runSequence('x86_64', subset(mask), steps as Step[]),
  );
  fcTest.prop([fc.integer({ min: 0, max: 7 }), fc.array(fc.oneof(...nestedSteps), { minLength: 20, maxLength: 80 })], { numRuns: 40 * SOAK })(
    'x86_64 nested VMX: an L1 with 16 MiB runs random VMX instructions, L2 code and nested-state round trips',
    (mask, steps) => runSequence('x86_64', subset(mask | 2), steps as Step[], true),
  );
  fcTest.prop([fc.array(fc.oneof(...memorySteps, ...arm64Steps), { minLength: 50, maxLength: 120 })], { numRuns: 50 * SOAK })(
    'arm64 with psci-conduit and ptp-kvm-arm64 (merged and RFC v4)',
    (steps) => {
      runSequence('arm64', [psciConduit(), ptpKvmArm64()], steps as Step[]);
      runSequence('arm64', [psciConduit(), ptpKvmArm64({ variant: 'rfc-v4' })], steps as Step[]);
    },
  );
  fcTest.prop([fc.boolean(), fc.array(fc.oneof(...memorySteps, ...arm64Steps), { minLength: 50, maxLength: 120 })], { numRuns: 20 * SOAK })(
    'arm64 with a subset (none, or psci-conduit alone)',
    (withPsci, steps) => runSequence('arm64', withPsci ? [psciConduit()] : [], steps as Step[]),
  );
  fcTest('ran at least 10 000 steps in all', () => {
    console.log(`ABI fuzz: ${counts.steps} steps in ${counts.runs} sequences, ${counts.kvmErrors} KvmErrors, ${counts.nestedEntries} nested entries, ${counts.l2Exits} nested exits`);
    expect(counts.steps).toBeGreaterThanOrEqual(10_000);
    expect(counts.nestedEntries).toBeGreaterThan(0); // the VMX steps reached L2, not only #UD
  });
});
