/**
 * What every rig of this workspace shares: the hypervisor built from kvm-mmu-pml and/or nvmx-cr3
 * (any variant of each, either install order), a VM whose two memslots log dirty pages, and the
 * VMM's side — KVM_GET_DIRTY_LOG of both slots and a diff of the data pages' contents.
 *
 * Memory: slot 0 = [0, 4 MiB), L1's own pages (VMXON region, vmcs12s at 0x20000, L2 code at
 * 0x100000, EPT12 tables at 0x200000); slot 1 = the L2s' data pages from MUEN_DATA_GPA
 * (0x400000). Both log dirty pages. An L2 sees its data pages at L2 GPA 0x100000 on through its
 * EPT12, so the L2 GFN of a data page is also an L1 GFN of slot 0 (an L2 code page): a log that
 * takes L2 GPAs for L1 GFNs marks the wrong page, in the other slot.
 */
import { bitmapPages, createHypervisor, type Hypervisor, KVM_MEM_LOG_DIRTY_PAGES, type Plugin, type Vcpu, type Vm, X86_CR0_PG } from '@kvmlab/hypervisor-core';
import { kvmMmuPml, type Variant as PmlVariant } from '@kvmlab/kvm-mmu-pml';
import { MUEN_DATA_GPA, MUEN_SUBJECT_DATA_GPA, NVMX_SERVICE, nvmxCr3, type NvmxService, type NvmxVariant } from '@kvmlab/nvmx-cr3';

export type { PmlVariant, NvmxVariant };
export const PML_VARIANTS: readonly PmlVariant[] = ['pre-fix', 'merged'];
export const CR3_VARIANTS: readonly NvmxVariant[] = ['pre-fix', 'rfc-muen', 'merged'];
/** The 2 × 3 matrix of the issue. */
export const COMBINATIONS: readonly (readonly [PmlVariant, NvmxVariant])[] = PML_VARIANTS.flatMap((p) => CR3_VARIANTS.map((c) => [p, c] as const));

export const PAGE = 0x1000n;
export const SLOT_KERNEL = 0;
export const SLOT_DATA = 1;
const KERNEL_BYTES = 4n << 20n;
/** First gfn of the data slot. */
export const DATA_BASE_GFN = Number(MUEN_DATA_GPA >> 12n);
/** L1's own page tables (HOST_CR3; GUEST_CR3 of L1). */
export const KERNEL_CR3 = 0x1000000n;

export interface PluginChoice {
  /** kvm-mmu-pml's variant; absent = kvm-mmu-pml not installed. */
  readonly pml?: PmlVariant | undefined;
  /** nvmx-cr3's variant; absent = nvmx-cr3 not installed (the engine keeps Linux 5.4's own GUEST_CR3 handling). */
  readonly cr3?: NvmxVariant | undefined;
  readonly seed?: number;
  /** Plugin install order (default kvm-mmu-pml first). */
  readonly order?: 'pml-first' | 'cr3-first';
}

export function buildHypervisor(o: PluginChoice): Hypervisor {
  const pml: Plugin[] = o.pml !== undefined ? [kvmMmuPml({ variant: o.pml })] : [];
  const cr3: Plugin[] = o.cr3 !== undefined ? [nvmxCr3({ variant: o.cr3 })] : [];
  const plugins = o.order === 'cr3-first' ? [...cr3, ...pml] : [...pml, ...cr3];
  if (plugins.length === 0) throw new Error('compose rig: install kvm-mmu-pml, nvmx-cr3 or both');
  return createHypervisor({ arch: 'x86_64', seed: o.seed ?? 1, plugins });
}

/** The VM: slot 0 (L1's own 4 MiB) and slot 1 (`dataPages` data pages at MUEN_DATA_GPA), both logging dirty pages. */
export function createLoggingVm(hv: Hypervisor, dataPages: number): { readonly vm: Vm; readonly vcpu: Vcpu } {
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: SLOT_KERNEL, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: KERNEL_BYTES });
  vm.setUserMemoryRegion({ slot: SLOT_DATA, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: MUEN_DATA_GPA, memorySize: BigInt(dataPages) * PAGE });
  return { vm, vcpu: vm.createVcpu(0) };
}

/** KVM_SET_SREGS of L1's CR3 and CR0.PG: through nvmx-cr3's service when installed, else the engine's own. */
export function setL1Sregs(hv: Hypervisor, vcpu: Vcpu, cr3 = KERNEL_CR3): void {
  const svc = hv.decoration<NvmxService>(NVMX_SERVICE);
  if (svc !== undefined) svc.setSregs(vcpu, { cr3 });
  else hv.nestedVmx!.setSregs(vcpu, { cr3, cr0: vcpu.x86.cr0 | X86_CR0_PG });
}

/** KVM_GET_DIRTY_LOG of both slots, as L1 gfns. */
export function harvest(vm: Vm): { readonly data: number[]; readonly kernel: number[] } {
  const data = bitmapPages(vm.getDirtyLog(SLOT_DATA)).map((p) => p + DATA_BASE_GFN);
  const kernel = bitmapPages(vm.getDirtyLog(SLOT_KERNEL));
  return { data, kernel };
}

/** The data slot's contents as the VMM sees them (not a guest access: not dirty-tracked). */
export const dataSnapshot = (vm: Vm, dataPages: number): Uint8Array => vm.memory.read(MUEN_DATA_GPA, dataPages * 4096);

/** L1 gfns of the data pages whose contents differ between two snapshots. */
export function changedPages(before: Uint8Array, after: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p * 4096 < before.length; p++) {
    for (let k = p * 4096; k < (p + 1) * 4096; k++) {
      if (before[k] !== after[k]) {
        out.push(DATA_BASE_GFN + p);
        break;
      }
    }
  }
  return out;
}

/** An L2's data page `p` as the L2 addresses it. */
export const l2DataGpa = (p: number): bigint => MUEN_SUBJECT_DATA_GPA + BigInt(p) * PAGE;
