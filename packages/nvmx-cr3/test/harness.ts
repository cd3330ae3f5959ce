/**
 * Test set-up: a hypervisor with nvmx-cr3 (hypervisor-core's nested-VMX engine plus the variant's
 * GUEST_CR3 hooks), and a scriptable L1 that uses only guest instructions — the core guest VMX
 * library (VMXON preparation, VMCLEAR/VMPTRLD, the selftests' VMCS set-up) and its own stores
 * (L2 code, EPT12 tables).
 */
import {
  createHypervisor, EptBuilder, GUEST_ACTIVITY_STATE, leBytes, loadVmcs, type EptMemory, makeEptp,
  MSR_IA32_VMX_PROCBASED_CTLS2, PIN_BASED_EXT_INTR_MASK, PIN_BASED_VMX_PREEMPTION_TIMER, prepareForVmxOperation,
  prepareVmcs, readLe, SECONDARY_EXEC_ENABLE_EPT, type Vcpu, VM_ENTRY_INTR_INFO_FIELD,
} from '@kvmlab/hypervisor-core';
import {
  assemble, type AsmLine, NVMX_SERVICE, nvmxCr3, type NvmxEvent, type NvmxService, type NvmxVariant, VM_EXIT_ACK_INTR_ON_EXIT,
  vmptrld, vmread, vmresume, vmwrite, vmlaunch, type VmxOutcome, X86_EFLAGS_FIXED, X86_EFLAGS_IF,
} from '../src/index.js';

export const L1_CR3 = 0x1000000n;
export const VMXON_GPA = 0x10000n;
/** Subject i: VMCS region, code page (L1 GPA = L2 GPA: EPT12 maps it 1:1), and 16 pages of EPT12 tables. */
export const vmcsGpa = (i: number): bigint => 0x20000n + BigInt(i) * 0x1000n;
export const codeGpa = (i: number): bigint => 0x100000n + BigInt(i) * 0x1000n;
const eptArea = (i: number): bigint => 0x200000n + BigInt(i) * 0x10000n;

export interface SubjectDef {
  readonly cr3: bigint;
  readonly code: readonly AsmLine[];
  readonly activity?: number;
  /** VMX-preemption timer value (undefined = timer control off). */
  readonly timer?: bigint;
  readonly extIntExiting?: boolean;
  /** Primary processor-based controls added to the default1 bits. */
  readonly exec?: number;
  /** Pin-based controls added to the ones above. */
  readonly pin?: number;
  readonly entryIntr?: bigint;
  readonly rflags?: bigint;
  /** EPT12 for this L2 (default: whenever L0 offers EPT to L1). */
  readonly ept12?: boolean;
}

export interface NestedOpts {
  readonly enableEpt?: boolean;
  readonly unrestrictedGuest?: boolean;
  readonly seed?: number;
}

export function makeNested(variant: NvmxVariant, opts: NestedOpts = {}) {
  const hv = createHypervisor({
    arch: 'x86_64', seed: opts.seed ?? 1,
    plugins: [nvmxCr3({ variant, enableEpt: opts.enableEpt, unrestrictedGuest: opts.unrestrictedGuest })],
  });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 16n << 20n });
  const vcpu = vm.createVcpu(0);
  const svc = hv.decoration<NvmxService>(NVMX_SERVICE);
  if (svc === undefined) throw new Error('nvmx-cr3 did not decorate its service');
  const nv = svc.nested(vcpu);
  const events: NvmxEvent[] = [];
  nv.listeners.push((e) => events.push(e));
  svc.setSregs(vcpu, { cr3: L1_CR3 });
  const l1 = new TestL1(vcpu);
  return { hv, vm, vcpu, svc, nv, l1, events };
}

export type Nested = ReturnType<typeof makeNested>;

/** A scripted L1: each subject gets a VMCS region, a code page and (with EPT) its own EPT12. */
export class TestL1 {
  readonly vcpu: Vcpu;
  /** L0 offers EPT to L1 (IA32_VMX_PROCBASED_CTLS2 allowed-1). */
  readonly eptOffered: boolean;
  readonly vmcs = new Map<string, bigint>();
  readonly eptp = new Map<string, bigint>();
  private next = 0;
  private readonly launched = new Set<string>();

  constructor(vcpu: Vcpu) {
    this.vcpu = vcpu;
    if (!prepareForVmxOperation(vcpu, VMXON_GPA)) throw new Error('VMXON failed');
    this.eptOffered = (((vcpu.rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) ?? 0n) >> 32n) & BigInt(SECONDARY_EXEC_ENABLE_EPT)) !== 0n;
  }

  /** L1's own loads and stores, for building EPT12. */
  private tableMemory(): EptMemory {
    return { readU64: (pa) => readLe(this.vcpu.read(pa, 8), 0, 8), writeU64: (pa, v) => this.vcpu.write(pa, leBytes(8, v)) };
  }

  /** EPT12 of subject i: its code page, identity-mapped. */
  private buildEpt12(i: number): bigint {
    let page = eptArea(i);
    const alloc = (): bigint => {
      const pa = page;
      page += 0x1000n;
      this.vcpu.write(pa, new Uint8Array(4096));
      return pa;
    };
    const ept = new EptBuilder(this.tableMemory(), alloc);
    ept.map4k(codeGpa(i), codeGpa(i));
    return makeEptp(ept.pml4, false);
  }

  define(name: string, d: SubjectDef): bigint {
    const i = this.next++;
    const vmcs = vmcsGpa(i);
    const code = codeGpa(i);
    this.vcpu.write(code, assemble(d.code));
    const eptp = (d.ept12 ?? this.eptOffered) ? this.buildEpt12(i) : undefined;
    if (!loadVmcs(this.vcpu, vmcs)) throw new Error('VMCLEAR/VMPTRLD failed');
    let pin = (d.extIntExiting === false ? 0 : PIN_BASED_EXT_INTR_MASK) | (d.pin ?? 0);
    if (d.timer !== undefined) pin |= PIN_BASED_VMX_PREEMPTION_TIMER;
    const ok = prepareVmcs(this.vcpu, {
      guestRip: code, guestCr3: d.cr3, hostCr3: L1_CR3, pin, primary: d.exec ?? 0, exit: VM_EXIT_ACK_INTR_ON_EXIT,
      guestRflags: d.rflags ?? X86_EFLAGS_FIXED | X86_EFLAGS_IF, activity: d.activity ?? 0, preemptionTimer: d.timer ?? 0n,
      ...(eptp !== undefined ? { eptp } : {}),
    });
    if (!ok) throw new Error('VMWRITE failed');
    if (d.entryIntr !== undefined) this.must(vmwrite(this.vcpu, VM_ENTRY_INTR_INFO_FIELD, d.entryIntr));
    if (eptp !== undefined) this.eptp.set(name, eptp);
    this.vmcs.set(name, vmcs);
    return code;
  }

  private ptr(name: string): bigint {
    const p = this.vmcs.get(name);
    if (p === undefined) throw new Error(`no subject ${name}`);
    return p;
  }

  private must(o: VmxOutcome): void {
    if (o.status !== 'ok') throw new Error(`VMX instruction failed: ${o.status}`);
  }

  /** VMPTRLD + VMLAUNCH (first time) or VMRESUME. */
  enter(name: string): VmxOutcome {
    this.must(vmptrld(this.vcpu, this.ptr(name)));
    const r = this.launched.has(name) ? vmresume(this.vcpu) : vmlaunch(this.vcpu);
    if (r.status === 'ok') this.launched.add(name);
    return r;
  }

  read(name: string, field: number): bigint {
    this.must(vmptrld(this.vcpu, this.ptr(name)));
    const r = vmread(this.vcpu, field);
    this.must(r);
    return r.value;
  }

  write(name: string, field: number, value: bigint): void {
    this.must(vmptrld(this.vcpu, this.ptr(name)));
    this.must(vmwrite(this.vcpu, field, value));
  }

  /** Sets or clears `bits` of a control field, keeping the rest (the default1 bits among them). */
  setBits(name: string, field: number, bits: number, on: boolean): void {
    const v = this.read(name, field);
    const b = BigInt(bits >>> 0);
    this.write(name, field, on ? v | b : v & ~b);
  }

  activity(name: string): number {
    return Number(this.read(name, GUEST_ACTIVITY_STATE));
  }
}

/** L2 code: some work, then VMCALL (exit 18), then idle. */
export const WORK_VMCALL: readonly AsmLine[] = [{ op: 'work', ns: 500 }, { op: 'vmcall' }, { op: 'hlt' }, { op: 'jmp-start' }];
/** ~1 ms of preemption timer at 2.5 GHz: (v << 5) * 1e6 / 2.5e6 ns. */
export const TIMER_1MS = 78125n;
