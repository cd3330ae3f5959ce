/**
 * KVM_GET_NESTED_STATE → KVM_SET_NESTED_STATE into a fresh VM, per variant. In guest mode KVM
 * syncs vmcs02 into vmcs12 before copying the state out (sync_vmcs02_to_vmcs12 reads GUEST_CR3
 * from vmcs02 with EPT), and a SET enters L2 again through nested_vmx_enter_non_root_mode()
 * without a hardware entry — so where GUEST_CR3 is written decides whether a state saved right
 * after a restore is still right: with 5.3/5.4's handling it is stale until the next KVM_RUN.
 * The VMM restores the vCPU's mp_state with KVM_SET_MP_STATE as well (QEMU does).
 */
import { fc, test } from '@fast-check/vitest';
import { createHypervisor, GUEST_CR3, readLe, vmreadz } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { NVMX_VARIANTS, type NvmxVariant } from '../src/host/guest-cr3.js';
import { nvmxCr3 } from '../src/host/plugin.js';
import { codeGpa, L1_CR3, makeNested, vmcsGpa, VMXON_GPA } from './harness.js';

const HDR = 128;
const GUEST_CR3_OFFSET = 432; // struct vmcs12 (vmcs12.h CHECK_OFFSET)

/** An L1 whose L2 halted for good after storing: the vCPU stays in guest mode (VMLAUNCH reports hung). */
function savedInGuestMode(variant: NvmxVariant, cr3: bigint) {
  const n = makeNested(variant);
  n.l1.define('A', { cr3, code: [{ op: 'work', ns: 200 }, { op: 'hlt' }], extIntExiting: false });
  expect(n.l1.enter('A').hung).toBe(true);
  expect(n.vcpu.x86.guestMode).toBe(true);
  return { n, saved: n.vcpu.getNestedState() };
}

function restoreInto(variant: NvmxVariant, from: ReturnType<typeof makeNested>, saved: Uint8Array) {
  const hv = createHypervisor({ arch: 'x86_64', seed: 1, plugins: [nvmxCr3({ variant })] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 16n << 20n });
  for (const gpa of [VMXON_GPA, vmcsGpa(0), codeGpa(0), 0x200000n, 0x201000n, 0x202000n, 0x203000n]) {
    vm.memory.write(gpa, from.vm.memory.read(gpa, 0x1000)); // what a migration carries
  }
  const vcpu = vm.createVcpu(0);
  hv.nestedVmx!.setSregs(vcpu, { cr3: L1_CR3 });
  vcpu.setNestedState(saved);
  // KVM_SET_MP_STATE, as a VMM restores it too: a halted L2 is HALTED, and sync_vmcs02_to_vmcs12()
  // derives vmcs12's activity state from it
  vcpu.setMpState(from.vcpu.getMpState());
  return { hv, vm, vcpu };
}

describe.each(NVMX_VARIANTS)('nested state round trip in guest mode (%s)', (variant) => {
  const exact = variant !== 'pre-fix';

  it(exact ? 'GET after SET gives the saved state byte for byte' : 'GET after SET, before KVM_RUN, carries a stale GUEST_CR3 (only)', () => {
    const { n, saved } = savedInGuestMode(variant, 0xa000n);
    expect(readLe(saved, HDR + GUEST_CR3_OFFSET, 8)).toBe(0xa000n);
    const b = restoreInto(variant, n, saved);
    expect(b.vcpu.x86.guestMode).toBe(true);
    const again = b.vcpu.getNestedState();
    if (exact) {
      expect(again).toEqual(saved);
    } else {
      expect(readLe(again, HDR + GUEST_CR3_OFFSET, 8)).not.toBe(0xa000n);
      const repaired = again.slice();
      repaired.set(saved.subarray(HDR + GUEST_CR3_OFFSET, HDR + GUEST_CR3_OFFSET + 8), HDR + GUEST_CR3_OFFSET);
      expect(repaired).toEqual(saved);
    }
  });

  it(exact ? 'the restored, halted L2 is woken by an interrupt: the exit reports its own CR3'
    : 'the restored, halted L2 is woken by an interrupt: the exit, with no hardware entry since the restore, reports a stale CR3', () => {
    const { n, saved } = savedInGuestMode(variant, 0xa000n);
    const b = restoreInto(variant, n, saved);
    expect(b.vcpu.getMpState()).toBe(3); // KVM_MP_STATE_HALTED
    // L1 asks for external-interrupt exits now (a VMWRITE it made before the migration, say)
    b.hv.nestedVmx!.state(b.vcpu).cachedVmcs12!.set(0x4000 /* PIN_BASED_VM_EXEC_CONTROL */, 0x17n);
    b.hv.nestedVmx!.raiseInterrupt(b.vcpu, 0x30, b.hv.sim.now + 1000n);
    expect(b.hv.nestedVmx!.runNested(b.vcpu)).toBe(true); // KVM_RUN: vcpu_block, then the nested exit
    expect(b.vcpu.x86.guestMode).toBe(false);
    if (exact) expect(vmreadz(b.vcpu, GUEST_CR3)).toBe(0xa000n);
    else expect(vmreadz(b.vcpu, GUEST_CR3)).not.toBe(0xa000n); // the bug, reached through migration
  });

  test.prop([fc.bigInt({ min: 1n, max: (1n << 34n) - 1n }).map((v) => v << 12n)], { numRuns: 15, seed: 926 })(
    exact ? 'any L2 CR3: the round trip is exact' : 'any L2 CR3: the round trip loses exactly GUEST_CR3',
    (cr3) => {
      const { n, saved } = savedInGuestMode(variant, cr3);
      const again = restoreInto(variant, n, saved).vcpu.getNestedState();
      const differs = [...again].flatMap((b, i) => (b !== saved[i] ? [i] : []));
      if (exact) expect(differs).toEqual([]);
      else {
        expect(differs.length).toBeGreaterThan(0);
        expect(differs.every((i) => i >= HDR + GUEST_CR3_OFFSET && i < HDR + GUEST_CR3_OFFSET + 8)).toBe(true);
      }
    },
  );
});
