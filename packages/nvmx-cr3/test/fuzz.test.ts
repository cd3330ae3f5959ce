/**
 * Nothing L1 passes can crash the host model: random VMX instruction sequences with random
 * operands, fields, values and L2 code bytes never throw, and every instruction that returns
 * leaves the vCPU back in L1 on vmcs01 (or reports that L2 never gives control back). The three
 * VMCS regions start as valid L2s (one on EPT12, one without, one blank), so random edits reach
 * real nested entries, squashes and exits rather than only the entry checks.
 */
import {
  CPU_BASED_VM_EXEC_CONTROL, GUEST_ACTIVITY_STATE, GUEST_CR3, GUEST_RIP, HOST_CR3, leBytes, PIN_BASED_VM_EXEC_CONTROL,
  PIN_BASED_VMX_PREEMPTION_TIMER, SECONDARY_VM_EXEC_CONTROL, VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_REASON,
  VMX_PREEMPTION_TIMER_VALUE,
} from '@kvmlab/hypervisor-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NVMX_VARIANTS, VMCS12_REVISION, vmclear, vmlaunch, vmptrld, vmread, vmresume, vmwrite, vmxon } from '../src/index.js';
import { codeGpa, makeNested, vmcsGpa } from './harness.js';

const NUM_RUNS = process.env['KVMLAB_SOAK'] !== undefined ? 500 : 30;
const FIELDS = [GUEST_ACTIVITY_STATE, GUEST_CR3, GUEST_RIP, HOST_CR3, PIN_BASED_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL, VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_REASON, 0x7fff, 0x1001];
const PTRS = [0x10000n, vmcsGpa(0), vmcsGpa(1), vmcsGpa(2), 0x20008n, 0x5000000n, 1n << 50n];
const op = fc.oneof(
  fc.record({ k: fc.constantFrom('vmxon', 'vmclear', 'vmptrld'), p: fc.constantFrom(...PTRS) }),
  fc.record({ k: fc.constant('vmread'), f: fc.constantFrom(...FIELDS) }),
  fc.record({ k: fc.constant('vmwrite'), f: fc.constantFrom(...FIELDS), v: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0n, 1n, 0x41n, codeGpa(1), 0x80000000n)) }),
  fc.record({ k: fc.constant('timer'), v: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ k: fc.constantFrom('vmlaunch', 'vmresume') }),
);

describe('fuzz: L1 VMX instruction sequences', () => {
  it.each(NVMX_VARIANTS)('%s: never throws; returns to L1 on vmcs01 unless hung', (variant) => {
    let entries = 0;
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), (ops, code) => {
      const { vcpu, nv, l1 } = makeNested(variant);
      l1.define('ept12', { cr3: 0xa000n, code: [{ op: 'vmcall' }], timer: 1000n });
      l1.define('flat', { cr3: 0xb000n, code: [{ op: 'hlt' }], ept12: false, activity: 1, timer: 1000n });
      vcpu.write(vmcsGpa(2), leBytes(4, BigInt(VMCS12_REVISION)));
      vcpu.write(codeGpa(1), code); // the random bytes run as L2 code of the L2 without EPT12
      for (const o of ops) {
        if (vcpu.x86.guestMode) break; // hung: L1 is gone
        let r;
        if (o.k === 'vmxon') r = vmxon(vcpu, o.p);
        else if (o.k === 'vmclear') r = vmclear(vcpu, o.p);
        else if (o.k === 'vmptrld') r = vmptrld(vcpu, o.p);
        else if (o.k === 'vmread') r = vmread(vcpu, o.f);
        else if (o.k === 'vmwrite') r = vmwrite(vcpu, o.f, o.v);
        else if (o.k === 'timer') {
          vmwrite(vcpu, PIN_BASED_VM_EXEC_CONTROL, vmread(vcpu, PIN_BASED_VM_EXEC_CONTROL).value | BigInt(PIN_BASED_VMX_PREEMPTION_TIMER));
          r = vmwrite(vcpu, VMX_PREEMPTION_TIMER_VALUE, BigInt(o.v));
        } else r = o.k === 'vmlaunch' ? vmlaunch(vcpu) : vmresume(vcpu);
        if (!r.hung) {
          expect(vcpu.x86.guestMode).toBe(false);
          expect(nv.loaded).toBe(nv.vmcs01);
        }
      }
      entries += nv.stats.nestedEntries;
    }), { numRuns: NUM_RUNS, seed: 5 });
    expect(entries).toBeGreaterThan(0); // the sequences did reach nested entries
  });
});
