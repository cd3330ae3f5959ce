import {
  bitmapPages,
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
  CPU_BASED_VM_EXEC_CONTROL,
  createHypervisor,
  EPT_POINTER,
  EptBuilder,
  KVM_MEM_LOG_DIRTY_PAGES,
  leBytes,
  SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_VM_EXEC_CONTROL,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
  type Vcpu,
  type Vm,
} from '@kvmlab/hypervisor-core';
import { vmlaunch, vmwrite } from '../src/guest/vmx.js';
import type { KvmMmuPml } from '../src/host/kvm-mmu.js';
import { kvmMmuOf, kvmMmuPml } from '../src/host/plugin.js';
import type { Variant } from '../src/host/spte.js';
import type { VcpuVmx } from '../src/host/vcpu-vmx.js';

export const L1_PAGE0 = 0xc0000000n;
export const SLOT1 = 1;

export interface RigOptions {
  readonly enablePml?: boolean;
  readonly eptAd?: boolean;
  /** EPTP12 bit 6. */
  readonly eptp12Ad?: boolean;
  /** vmcs12 enables EPT (default true). */
  readonly useEpt12?: boolean;
  /** L2 GPA mapped to L1 0xc0000000 (default 0xc0001000). */
  readonly l2Gpa?: bigint;
  /** A/D preset in the EPT12 leaf (default A|D). */
  readonly leafAd?: bigint;
  readonly manualProtect?: boolean;
}

export interface Rig {
  readonly vm: Vm;
  readonly vcpu: Vcpu;
  readonly m: KvmMmuPml;
  readonly v: VcpuVmx;
  readonly eptp12: bigint;
  readonly leafAddr: bigint;
  /** Enters L2 (VMLAUNCH from L1). */
  enterL2(): void;
  /** KVM_GET_DIRTY_LOG of slot 1 as page numbers. */
  get(): number[];
  write(gpa: bigint, value?: bigint): void;
}

/** Spec §7's setup: slot 1 = 3 pages at 0xc0000000 logging dirty pages; EPT12 in slot 0. */
export function rig(variant: Variant, o: RigOptions = {}): Rig {
  const hv = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ variant, enablePml: o.enablePml, eptAd: o.eptAd })] });
  const vm = hv.createVm();
  if (o.manualProtect === true) vm.enableManualDirtyLogProtect([1n], 0);
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x400000n });
  vm.setUserMemoryRegion({ slot: SLOT1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: L1_PAGE0, memorySize: 3n * 4096n });
  const vcpu = vm.createVcpu(0);
  let next = 0x1c0000n;
  const ept = new EptBuilder(vm.memory, () => (next += 0x1000n) - 0x1000n);
  const leafAddr = ept.map4k(o.l2Gpa ?? 0xc0001000n, L1_PAGE0, 7n, o.leafAd ?? VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT);
  const eptp12 = ept.eptp(o.eptp12Ad ?? true);
  const m = kvmMmuOf(vm);
  const v = m.vcpuVmx(vcpu);
  return {
    vm,
    vcpu,
    m,
    v,
    eptp12,
    leafAddr,
    enterL2() {
      vmwrite(vcpu, CPU_BASED_VM_EXEC_CONTROL, BigInt(CPU_BASED_ACTIVATE_SECONDARY_CONTROLS));
      vmwrite(vcpu, SECONDARY_VM_EXEC_CONTROL, o.useEpt12 === false ? 0n : BigInt(SECONDARY_EXEC_ENABLE_EPT));
      vmwrite(vcpu, EPT_POINTER, eptp12);
      const r = vmlaunch(vcpu);
      if (r.status !== 'succeed') throw new Error(`VMLAUNCH failed: ${JSON.stringify(r)}`);
    },
    get: () => bitmapPages(vm.getDirtyLog(SLOT1)),
    write: (gpa, value = 1n) => vcpu.write(gpa, leBytes(8, value)),
  };
}

export const exitsOf = (v: VcpuVmx, reason: number): number => v.exits.byReason.get(reason) ?? 0;
