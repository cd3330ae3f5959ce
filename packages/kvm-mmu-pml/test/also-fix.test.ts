/**
 * The "also fix" items of issue 13 that meet this package, each a named test: what the earlier
 * private nested VMX got wrong against v5.3/v5.4, checked through the kvm-mmu-pml plugin on
 * hypervisor-core's engine. (The engine-only items have their own tests in hypervisor-core.)
 */
import {
  EPT_POINTER, invept, loadVmcs, MSR_IA32_VMX_EPT_VPID_CAP, MSR_IA32_VMX_PROCBASED_CTLS2, PIN_BASED_VM_EXEC_CONTROL, prepareVmcs,
  SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_PML, VMX_EPT_AD_BIT, VMX_EPT_IPAT_BIT, vmInstructionError, vmlaunch, vmptrld,
  vmresume, vmwrite, VMXERR_ENTRY_INVALID_CONTROL_FIELD,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { UCALL_PIO_PORT } from '../src/constants.js';
import { ucallAsm, guestSync } from '../src/guest/ucall.js';
import { RAM_MT_MASK } from '../src/host/set-spte.js';
import { L1_PAGE0, L2_RIP, rig, VMCS_GPA } from './helpers.js';

const L2_PAGE = 0xc0001000n;

describe('also fix: INVEPT does not zap shadow-EPT leaves (handle_invept() of 5.3/5.4 does nothing after its checks)', () => {
  // With a zap, L2's next store would fault and set_spte() would mark the right L1 gfn, hiding the bug.
  for (const [variant, expected] of [['pre-fix', [1]], ['merged', [0]]] as const) {
    it(`${variant}: L2 store, harvest, L1 INVEPT, L2 store again → dirty log {${expected}}`, () => {
      const r = rig(variant);
      r.write(L2_PAGE, 1n);
      expect(r.get()).toEqual([0]); // first write: the EPT violation path marks L1 page 0
      expect(invept(r.vcpu).status).toBe('ok');
      const zapped = r.m.stats.zapped;
      r.write(L2_PAGE, 2n);
      expect(r.m.stats.zapped).toBe(zapped);
      // pre-fix: the leaf kept W and lost only D, PML logs L2 GPA 0xc0001000 = L1 page 1 of the slot
      expect(r.get()).toEqual(expected);
    });
  }
});

describe('also fix: VMPTRLD of another vmcs12 frees guest_mmu’s roots (nested_release_vmcs12)', () => {
  it('the shadow-EPT root is dropped from the engine’s guest_mmu and found again at the next entry (same shadow table)', () => {
    const r = rig('merged');
    r.write(L2_PAGE);
    const nv = r.nested.state(r.vcpu);
    const root = nv.guestMmu.root;
    expect(root).not.toBeNull();
    const table = r.m.tableAt(root!.hpa);
    expect(table?.kind).toBe('shadow-ept');
    expect(loadVmcs(r.vcpu, 0x13000n)).toBe(true); // another vmcs12: the current one is released
    expect(nv.guestMmu.root).toBeNull();
    expect(nv.guestMmu.prevRoots.every((p) => p === null)).toBe(true);
    expect(vmptrld(r.vcpu, VMCS_GPA).status).toBe('ok');
    expect(vmresume(r.vcpu).status).toBe('ok');
    expect(nv.guestMmu.root?.hpa).toBe(root!.hpa); // rebuilt: mmu_alloc_roots() finds the same shadow page
    expect(r.m.tableAt(nv.vmcs02.peek(EPT_POINTER))).toBe(table);
  });
});

describe('also fix: EPT A/D and PML are offered to L1 only when L0 has EPT A/D bits', () => {
  it('eptAd: false → no VMX_EPT_AD_BIT, no SECONDARY_EXEC_ENABLE_PML for L1; EPT itself still offered', () => {
    for (const eptAd of [true, false]) {
      const r = rig('merged', { eptAd });
      const sec = Number(r.vcpu.rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2)! >> 32n);
      expect((sec & SECONDARY_EXEC_ENABLE_PML) !== 0).toBe(eptAd);
      expect((sec & SECONDARY_EXEC_ENABLE_EPT) !== 0).toBe(true);
      expect((r.vcpu.rdmsr(MSR_IA32_VMX_EPT_VPID_CAP)! & VMX_EPT_AD_BIT) !== 0n).toBe(eptAd);
      expect(r.nested.params.pml).toBe(eptAd); // hardware_setup(): PML needs A/D
    }
  });

  it('enablePml: false keeps L0 off PML but L1 is still offered emulated PML (it needs only A/D)', () => {
    const r = rig('merged', { enablePml: false });
    expect(r.nested.params.pml).toBe(false);
    expect(Number(r.vcpu.rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2)! >> 32n) & SECONDARY_EXEC_ENABLE_PML).not.toBe(0);
  });
});

describe('also fix: VM-entry checks take the controls L1 builds from default1 (the selftest library’s way)', () => {
  it('prepareVmcs() starts from the TRUE_* MSRs’ default1 bits and the entry succeeds; clearing them fails with 7', () => {
    const r = rig('merged');
    r.write(L2_PAGE);
    expect(r.launched()).toBe(true);
    expect(loadVmcs(r.vcpu, 0x13000n) && prepareVmcs(r.vcpu, { guestRip: L2_RIP })).toBe(true);
    expect(vmwrite(r.vcpu, PIN_BASED_VM_EXEC_CONTROL, 0n).status).toBe('ok');
    expect(vmlaunch(r.vcpu).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(VMXERR_ENTRY_INVALID_CONTROL_FIELD);
  });
});

describe('also fix: the selftest’s ucall is an IN from port 0x1000, not an OUT', () => {
  it('L1’s GUEST_SYNC reaches the VMM as KVM_EXIT_IO, direction in, 1 byte, port 0x1000; L2’s machine code uses IN AL, DX', () => {
    const seen: { port: number; write: boolean; size: number }[] = [];
    const r = rig('merged', { onIo: (_v, e) => void seen.push({ port: Number(e.port), write: e.isWrite === true, size: Number(e.length) }) });
    guestSync(r.vcpu, 0x30000n, true);
    expect(UCALL_PIO_PORT).toBe(0x1000);
    expect(seen).toEqual([{ port: 0x1000, write: false, size: 1 }]);
    expect(r.vcpu.x86.regs.rdi).toBe(0x30000n);
    const asm = ucallAsm(0x30000n, 1);
    expect(asm.at(-1)).toEqual({ op: 'in', port: 0x1000 });
    expect(asm.some((l) => l.op === 'out')).toBe(false);
  });
});

describe('also fix: RAM SPTEs carry IPAT and write-back memory type (vmx_get_mt_mask)', () => {
  it('TDP and shadow-EPT leaves alike', () => {
    const r = rig('merged');
    r.write(L2_PAGE);
    for (const leaf of r.m.rmap.get(Number(L1_PAGE0 >> 12n))) {
      expect(leaf.value & VMX_EPT_IPAT_BIT).toBe(VMX_EPT_IPAT_BIT);
      expect(leaf.value & RAM_MT_MASK).toBe(RAM_MT_MASK);
    }
  });
});
