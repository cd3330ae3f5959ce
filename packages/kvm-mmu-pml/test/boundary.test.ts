/**
 * The nested VMX boundary as this package's MMU sees it: VMX failures are status values (RFLAGS
 * and VM_INSTRUCTION_ERROR), EPT12 misses are L1's EPT violations, and guest garbage — random
 * VMX instruction streams, garbage written into EPT12 and vmcs12 — never throws out of the model.
 */
import {
  bitmapPages,
  CompositionError,
  createHypervisor,
  CPU_BASED_VM_EXEC_CONTROL,
  definePlugin,
  EPT_POINTER,
  EXIT_QUALIFICATION,
  EXIT_REASON_EPT_VIOLATION,
  GUEST_PHYSICAL_ADDRESS,
  GUEST_PML_INDEX,
  GUEST_RIP,
  invept,
  KVM_CAP_NESTED_STATE,
  leBytes,
  PML_ADDRESS,
  SECONDARY_VM_EXEC_CONTROL,
  vmclear,
  vmInstructionError,
  vmlaunch,
  vmptrld,
  vmread,
  vmreadz,
  vmresume,
  vmwrite,
  vmxon,
  VMXERR_ENTRY_INVALID_CONTROL_FIELD,
  VMXERR_UNSUPPORTED_VMCS_COMPONENT,
  VMXERR_VMRESUME_NONLAUNCHED_VMCS,
} from '@kvmlab/hypervisor-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvmMmuPmlOptions } from '../src/host/config.js';
import { kvmMmuOf, kvmMmuPml } from '../src/host/plugin.js';
import type { Variant } from '../src/host/spte.js';
import { EPT12_TABLES, rig, SLOT1 } from './helpers.js';

describe('L1 VMX instructions at the boundary', () => {
  it('VMREAD/VMWRITE of an invalid field fail valid with error 12; VMRESUME before VMLAUNCH with error 5', () => {
    const r = rig('merged');
    expect(vmwrite(r.vcpu, 0x1002, 1n)).toEqual({ status: 'fail-valid', value: 0n, hung: false });
    expect(vmInstructionError(r.vcpu)).toBe(VMXERR_UNSUPPORTED_VMCS_COMPONENT);
    expect(vmread(r.vcpu, 0x8000)).toEqual({ status: 'fail-valid', value: 0n, hung: false });
    expect(vmInstructionError(r.vcpu)).toBe(VMXERR_UNSUPPORTED_VMCS_COMPONENT);
    expect(vmresume(r.vcpu).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(VMXERR_VMRESUME_NONLAUNCHED_VMCS);
    expect(r.vcpu.x86.guestMode).toBe(false);
    expect(vmwrite(r.vcpu, EPT_POINTER, 0x1234n)).toEqual({ status: 'ok', value: 0n, hung: false });
    expect(vmread(r.vcpu, EPT_POINTER)).toMatchObject({ status: 'ok', value: 0x1234n });
  });

  it('an EPTP12 with A/D when L0 has ept_ad off fails VM entry (invalid control field, 7) and L1 stays in charge', () => {
    const r = rig('merged', { eptAd: false, eptp12Ad: true });
    expect(r.l2({ op: 'store', gpa: 0xc0001000n, value: 1n }).status).toBe('fail-valid');
    expect(vmInstructionError(r.vcpu)).toBe(VMXERR_ENTRY_INVALID_CONTROL_FIELD);
    expect(r.vcpu.x86.guestMode).toBe(false);
    expect(r.launched()).toBe(false);
    expect(r.m.rmap.get(0xc0000)).toEqual([]); // L2 never ran
    // the same L1 without A/D in EPTP12 runs L2
    const ok = rig('merged', { eptAd: false, eptp12Ad: false });
    ok.write(0xc0001000n);
    expect(ok.get()).toEqual([0]);
  });

  it('without nested VMX in the hypervisor the instructions raise #UD and there is no nested state', () => {
    const vm = createHypervisor({ arch: 'x86_64' }).createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1n << 20n });
    const vcpu = vm.createVcpu(0);
    expect(vmxon(vcpu, 0x1000n).status).toBe('ud');
    expect(vmlaunch(vcpu).status).toBe('ud');
    expect(vcpu.x86.guestMode).toBe(false);
    expect(vm.checkExtension(KVM_CAP_NESTED_STATE)).toBe(0);
    expect(rig('merged').vm.checkExtension(KVM_CAP_NESTED_STATE)).toBeGreaterThan(0);
  });

  it('an L2 access EPT12 does not map is L1’s EPT violation (reflected: exit reason 48, the L2 GPA, the access in the qualification)', () => {
    const r = rig('merged');
    expect(r.l2({ op: 'store', gpa: 0x5000_0000n, value: 1n }).status).toBe('ok');
    expect(r.vcpu.x86.guestMode).toBe(false);
    expect(r.exitReason()).toBe(EXIT_REASON_EPT_VIOLATION);
    expect(vmreadz(r.vcpu, GUEST_PHYSICAL_ADDRESS)).toBe(0x5000_0000n);
    expect(vmreadz(r.vcpu, EXIT_QUALIFICATION) & 7n).toBe(2n); // a data write
    expect(r.m.shadowTable(r.eptp12).entries.size).toBe(0); // no EPT02 leaf was made for it
    // L1 maps nothing and resumes: the interrupted store is executed again and faults again
    expect(r.l2().status).toBe('ok');
    expect(r.exitReason()).toBe(EXIT_REASON_EPT_VIOLATION);
  });
});

describe('composing the plugin', () => {
  it('it is x86-only, takes only its two variants, and kvmMmuOf() refuses a VM without it', () => {
    expect(() => createHypervisor({ arch: 'arm64', plugins: [kvmMmuPml()] })).toThrow(CompositionError);
    expect(() => kvmMmuPml({ variant: 'rfc' as Variant })).toThrow(RangeError);
    expect(() => kvmMmuOf(createHypervisor({ arch: 'x86_64' }).createVm())).toThrow(TypeError);
  });

  it('it fixes kvm_intel ept, ept_ad and pml for the nested-VMX engine and fills the MMU and PML hooks', () => {
    const params = (o: KvmMmuPmlOptions) => createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml(o)] }).nestedVmx?.params;
    expect(params({})).toMatchObject({ ept: true, eptAd: true, pml: true });
    expect(params({ enablePml: false })).toMatchObject({ ept: true, eptAd: true, pml: false });
    expect(params({ eptAd: false })).toMatchObject({ ept: true, eptAd: false, pml: false }); // PML needs A/D bits
    const hv = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml()] });
    expect([...(hv.nestedVmx?.opsOwners ?? [])].filter(([, o]) => o === 'kvm-mmu-pml').map(([k]) => k).sort()).toEqual(
      ['flushPml', 'hardwareEntry', 'mmuAllocRoot', 'nestedEptInit', 'nestedEptUninit', 'pmlAddress'],
    );
    // another plugin fixing ept_ad the other way is a composition error
    const other = definePlugin({ name: 'other', arch: 'x86_64', setup: (ctx) => void ctx.nestedVmx({ params: { eptAd: true } }) });
    expect(() => createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ eptAd: false }), other] })).toThrow(/eptAd/);
  });
});

/** The vmcs12 fields a fuzzing L1 scribbles on: those that steer L2's MMU and PML, and any encoding. */
const FIELDS = [EPT_POINTER, SECONDARY_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL, GUEST_RIP, GUEST_PML_INDEX, PML_ADDRESS];
type FuzzOp = readonly [kind: number, a: number, b: bigint];

describe('garbage from the guests never throws', () => {
  it('random VMX instruction streams, EPT12 scribbles and L2 accesses with garbage operands', () => {
    const opArb: fc.Arbitrary<FuzzOp> = fc.tuple(
      fc.integer({ min: 0, max: 9 }),
      fc.oneof(fc.constantFrom(...FIELDS), fc.integer({ min: -5, max: 0x9000 })),
      fc.oneof(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), fc.bigInt({ min: 0n, max: 0xc0003000n })),
    );
    fc.assert(
      fc.property(fc.constantFrom('pre-fix' as const, 'merged' as const), fc.array(opArb, { maxLength: 30 }), (variant, ops) => {
        const r = rig(variant);
        for (const [k, a, b] of ops) {
          const gpa = BigInt.asUintN(40, b) & ~7n;
          if (k === 0) vmwrite(r.vcpu, a, b);
          else if (k === 1) vmread(r.vcpu, a);
          else if (k === 2) r.l2({ op: 'store', gpa: (b & 1n) === 0n ? 0xc0001000n : gpa, value: b });
          else if (k === 3) r.l2({ op: 'load', gpa });
          else if (k === 4) invept(r.vcpu, a, b);
          else if (k === 5) r.l1Write(EPT12_TABLES + (BigInt.asUintN(14, b) & ~7n), b); // garbage into EPT12
          else if (k === 6) void ((a & 1) === 0 ? vmptrld(r.vcpu, gpa) : vmclear(r.vcpu, gpa));
          else if (k === 7) r.vcpu.write(gpa, leBytes(8, BigInt.asUintN(64, b)));
          else if (k === 8) bitmapPages(r.vm.getDirtyLog(SLOT1));
          else r.vcpu.read(gpa, 8);
        }
        // the MMU is still consistent: every TDP leaf is on the rmap of the gfn it maps
        const m = kvmMmuOf(r.vm);
        for (const s of m.tdp.entries.values()) expect(m.rmap.get(s.gfn)).toContain(s);
        r.vm.getDirtyLog(SLOT1);
      }),
      { numRuns: 100 },
    );
  });
});
