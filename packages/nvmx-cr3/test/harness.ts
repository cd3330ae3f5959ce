/** Test set-up: a hypervisor with nvmx-cr3, and a scriptable L1 that uses only VMX instructions. */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_VM_EXEC_CONTROL, createHypervisor, EPT_POINTER, GUEST_ACTIVITY_STATE,
  GUEST_CR3, GUEST_RFLAGS, GUEST_RIP, HOST_CR3, leBytes, PIN_BASED_EXT_INTR_MASK, PIN_BASED_VM_EXEC_CONTROL,
  PIN_BASED_VMX_PREEMPTION_TIMER, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_VM_EXEC_CONTROL, type Vcpu,
  VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_CONTROLS, VMX_PREEMPTION_TIMER_VALUE,
} from '@kvmlab/hypervisor-core';
import {
  assemble, type AsmLine, NVMX_SERVICE, nvmxCr3, type NvmxEvent, type NvmxService, type NvmxVariant, VM_EXIT_ACK_INTR_ON_EXIT,
  VMCS12_REVISION, vmlaunch, vmptrld, vmread, vmresume, vmwrite, vmxon, type VmxOutcome, X86_EFLAGS_FIXED, X86_EFLAGS_IF,
} from '../src/index.js';

export const L1_CR3 = 0x1000000n;

export interface SubjectDef {
  readonly cr3: bigint;
  readonly code: readonly AsmLine[];
  readonly activity?: number;
  /** VMX-preemption timer value (undefined = timer control off). */
  readonly timer?: bigint;
  readonly extIntExiting?: boolean;
  readonly exec?: number;
  readonly entryIntr?: bigint;
  readonly rflags?: bigint;
  readonly ept12?: boolean;
}

export function makeNested(variant: NvmxVariant, opts: { enableEpt?: boolean; unrestrictedGuest?: boolean; seed?: number } = {}) {
  const hv = createHypervisor({ arch: 'x86_64', seed: opts.seed ?? 1, plugins: [nvmxCr3({ variant, enableEpt: opts.enableEpt, unrestrictedGuest: opts.unrestrictedGuest })] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 16n << 20n });
  const vcpu = vm.createVcpu(0);
  const svc = hv.decoration<NvmxService>(NVMX_SERVICE)!;
  const nv = svc.nested(vcpu);
  const events: NvmxEvent[] = [];
  nv.listeners.push((e) => events.push(e));
  svc.setSregs(vcpu, { cr3: L1_CR3 });
  const l1 = new TestL1(vcpu);
  return { hv, vm, vcpu, svc, nv, l1, events };
}

/** A scripted L1: each subject gets a VMCS region and code page. */
export class TestL1 {
  readonly vcpu: Vcpu;
  private next = 0;
  readonly vmcs = new Map<string, bigint>();
  private readonly launched = new Set<string>();

  constructor(vcpu: Vcpu) {
    this.vcpu = vcpu;
    vcpu.write(0x10000n, leBytes(4, BigInt(VMCS12_REVISION)));
    if (vmxon(vcpu, 0x10000n).status !== 'ok') throw new Error('VMXON failed');
  }

  define(name: string, d: SubjectDef): bigint {
    const i = BigInt(this.next++);
    const vmcs = 0x20000n + i * 0x1000n;
    const code = 0x100000n + i * 0x1000n;
    this.vcpu.write(vmcs, leBytes(4, BigInt(VMCS12_REVISION)));
    this.vcpu.write(code, assemble(d.code));
    this.must(vmptrld(this.vcpu, vmcs));
    let pin = d.extIntExiting === false ? 0 : PIN_BASED_EXT_INTR_MASK;
    if (d.timer !== undefined) pin |= PIN_BASED_VMX_PREEMPTION_TIMER;
    const w = (f: number, v: bigint): void => this.must(vmwrite(this.vcpu, f, v));
    w(PIN_BASED_VM_EXEC_CONTROL, BigInt(pin));
    w(CPU_BASED_VM_EXEC_CONTROL, BigInt(((d.exec ?? 0) | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) >>> 0));
    w(SECONDARY_VM_EXEC_CONTROL, d.ept12 === false ? 0n : BigInt(SECONDARY_EXEC_ENABLE_EPT));
    w(VM_EXIT_CONTROLS, BigInt(VM_EXIT_ACK_INTR_ON_EXIT));
    w(EPT_POINTER, 0x200000n + i * 0x1000n + 0x1en);
    w(GUEST_CR3, d.cr3);
    w(GUEST_RIP, code);
    w(GUEST_RFLAGS, d.rflags ?? X86_EFLAGS_FIXED | X86_EFLAGS_IF);
    w(GUEST_ACTIVITY_STATE, BigInt(d.activity ?? 0));
    w(VMX_PREEMPTION_TIMER_VALUE, d.timer ?? 0n);
    w(VM_ENTRY_INTR_INFO_FIELD, d.entryIntr ?? 0n);
    w(HOST_CR3, L1_CR3);
    this.vmcs.set(name, vmcs);
    return code;
  }

  private must(o: VmxOutcome): void {
    if (o.status !== 'ok') throw new Error(`VMX instruction failed: ${o.status}`);
  }

  /** VMPTRLD + VMLAUNCH (first time) or VMRESUME. */
  enter(name: string): VmxOutcome {
    this.must(vmptrld(this.vcpu, this.vmcs.get(name)!));
    const r = this.launched.has(name) ? vmresume(this.vcpu) : vmlaunch(this.vcpu);
    if (r.status === 'ok') this.launched.add(name);
    return r;
  }

  read(name: string, field: number): bigint {
    this.must(vmptrld(this.vcpu, this.vmcs.get(name)!));
    return vmread(this.vcpu, field).value;
  }

  write(name: string, field: number, value: bigint): void {
    this.must(vmptrld(this.vcpu, this.vmcs.get(name)!));
    this.must(vmwrite(this.vcpu, field, value));
  }
}

/** L2 code: some work, then VMCALL (exit 18), then idle. */
export const WORK_VMCALL: readonly AsmLine[] = [{ op: 'work', ns: 500 }, { op: 'vmcall' }, { op: 'hlt' }, { op: 'jmp-start' }];
/** ~1 ms of preemption timer at 2.5 GHz: (v << 5) * 1e6 / 2.5e6 ns. */
export const TIMER_1MS = 78125n;
