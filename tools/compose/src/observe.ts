/**
 * What the tests look at while L1 runs its L2s: the nested-VMX engine's events ('nested-entry',
 * 'l2-run', 'nested-exit'), with vmcs02's fields read by peek() at each (uncounted, so observing
 * changes no VMCS op count), vmcs02's per-field GUEST_CR3 VMWRITE counter, and — when kvm-mmu-pml
 * is installed — its per-vCPU VcpuVmx: the PML page, what the CPU loaded at the entry (PML on,
 * A/D, the table it walks), PML entries logged and write-protect faults taken during each run.
 */
import {
  EPT_POINTER, GUEST_CR3, GUEST_PML_INDEX, type Hypervisor, type NestedVcpuState, type NvmxEvent, PML_ADDRESS,
  PML_ENTITY_NUM, SECONDARY_EXEC_ENABLE_PML, SECONDARY_VM_EXEC_CONTROL, type Vcpu, type Vm,
} from '@kvmlab/hypervisor-core';
import { kvmMmuOf, type KvmMmuPml, type VcpuVmx } from '@kvmlab/kvm-mmu-pml';
import { MUEN_VMCS_GPA } from '@kvmlab/nvmx-cr3';
import { PAGE } from './rig.js';

/** One nested VM-Enter (the engine's 'nested-entry' event: a squash, or right before the CPU runs L2). */
export interface EntryRecord {
  readonly frame: number;
  readonly subject: number;
  readonly squashed: boolean;
  /** vmcs02.GUEST_CR3 when L1 executed VMLAUNCH/VMRESUME (what the previous nested exit left there). */
  readonly vmcs02Cr3Before: bigint;
  /** vmcs02.GUEST_CR3 when the entry completed. */
  readonly vmcs02Cr3: bigint;
  /** vmcs12.GUEST_CR3 of the L2 entered (what L1 asked for). */
  readonly vmcs12Cr3: bigint;
  /** GUEST_CR3 VMWRITEs into vmcs02 alone during the entry (vmcs02's per-field counter). */
  readonly vmcs02Cr3Vmwrites: number;
  /** The engine's per-entry counts over vmcs01 + vmcs02. */
  readonly cr3Vmwrites: number;
  readonly cr3Vmreads: number;
  readonly vmreads: number;
  readonly vmwrites: number;
}

/** kvm-mmu-pml's view of one L2 run. */
export interface MmuRunView {
  /** vmx->pml_pg of this vCPU. */
  readonly pmlHpa: bigint;
  /** The CPU loaded PML on, and EPT A/D flags, at this entry. */
  readonly pmlOn: boolean;
  readonly adActive: boolean;
  /** The table EPTP02 names: its kind and the EPTP12 it shadows. */
  readonly tableKind: string | undefined;
  readonly tableShadows: bigint | undefined;
  /** The table the CPU walked is the one EPTP02 names. */
  readonly walksEptp02: boolean;
  /** PML entries the CPU logged during the run (counter delta), and the GPAs in the log after it. */
  readonly pmlLogged: number;
  readonly pmlGpas: readonly bigint[];
  /** A PML flush happened inside the run (then pmlGpas can miss entries flushed in between). */
  readonly flushedInside: boolean;
  readonly writeProtectFaults: number;
}

/** One stretch of L2 execution (the engine's 'l2-run' event) and the VMCS the CPU ran it on. */
export interface L2RunRecord {
  readonly frame: number;
  readonly subject: number;
  /** The VMCS loaded while L2 ran is the vCPU's one vmcs02. */
  readonly onVmcs02: boolean;
  readonly guestCr3: bigint;
  readonly pmlAddress: bigint;
  /** vmcs02's secondary controls enable PML (L0's ENABLE_PML, kept in vmcs02). */
  readonly vmcs02PmlEnabled: boolean;
  readonly eptp02: bigint;
  /** The running L2's EPTP12 (its vmcs12's EPT_POINTER). */
  readonly eptp12: bigint;
  /** null without kvm-mmu-pml. */
  readonly mmu: MmuRunView | null;
}

export interface Observer {
  readonly nv: NestedVcpuState;
  readonly mmu: KvmMmuPml | undefined;
  readonly vmx: VcpuVmx | undefined;
  readonly entries: EntryRecord[];
  readonly runs: L2RunRecord[];
  /** The frame (or round) the next records belong to. */
  frame: number;
  /** GUEST_CR3 VMWRITEs into vmcs02 between an entry's completion and the following nested exit. */
  readonly vmcs02Cr3WritesInL2: number;
}

/** L2 index of a vmcs12 pointer (VMCS regions are consecutive pages from MUEN_VMCS_GPA). */
export const subjectOfVmptr = (vmptr: bigint): number => Number((vmptr - MUEN_VMCS_GPA) / PAGE);

export function observe(hv: Hypervisor, vm: Vm, vcpu: Vcpu): Observer {
  const engine = hv.nestedVmx;
  if (engine === undefined) throw new Error('no nested-VMX engine in this hypervisor');
  const nv = engine.state(vcpu);
  const mmu = vm.mmu.name === 'kvm-mmu-pml' ? kvmMmuOf(vm) : undefined;
  const vmx = mmu?.vcpuVmx(vcpu);
  const cr3WritesOf02 = (): number => nv.vmcs02.countsOf(GUEST_CR3).vmwrites;
  let cr3AtExit = nv.vmcs02.peek(GUEST_CR3);
  let writesMark = cr3WritesOf02();
  let inL2 = 0;
  let pmlMark = 0;
  let flushMark = 0;
  let wpMark = 0;
  const markMmu = (): void => {
    if (vmx === undefined) return;
    pmlMark = vmx.exits.pmlEntriesLogged;
    flushMark = vmx.exits.pmlFlushes;
    wpMark = vmx.exits.writeProtectFaults;
  };
  const o: Observer = {
    nv, mmu, vmx, entries: [], runs: [], frame: -1,
    get vmcs02Cr3WritesInL2() {
      return inL2;
    },
  };
  const mmuView = (eptp02: bigint): MmuRunView | null => {
    if (mmu === undefined || vmx === undefined) return null;
    const table = mmu.tableAt(eptp02);
    const idx = Number(nv.vmcs02.peek(GUEST_PML_INDEX));
    const pmlGpas: bigint[] = [];
    for (let i = Math.min(idx, PML_ENTITY_NUM - 1) + 1; i < PML_ENTITY_NUM; i++) pmlGpas.push(vmx.pmlBuffer[i]!);
    return {
      pmlHpa: vmx.pmlHpa, pmlOn: vmx.pmlOn, adActive: vmx.adActive, tableKind: table?.kind, tableShadows: table?.eptp12,
      walksEptp02: table !== undefined && vmx.activeTable === table, pmlLogged: vmx.exits.pmlEntriesLogged - pmlMark, pmlGpas,
      flushedInside: vmx.exits.pmlFlushes !== flushMark, writeProtectFaults: vmx.exits.writeProtectFaults - wpMark,
    };
  };
  nv.listeners.push((e: NvmxEvent) => {
    if (e.kind === 'nested-entry') {
      const writes = cr3WritesOf02();
      o.entries.push({
        frame: o.frame, subject: subjectOfVmptr(e.vmptr), squashed: e.squashed, vmcs02Cr3Before: cr3AtExit,
        vmcs02Cr3: nv.vmcs02.peek(GUEST_CR3), vmcs12Cr3: engine.vmcs12At(vcpu, e.vmptr)?.get(GUEST_CR3) ?? -1n,
        vmcs02Cr3Vmwrites: writes - writesMark, cr3Vmwrites: e.cr3Vmwrites, cr3Vmreads: e.cr3Vmreads, vmreads: e.vmreads, vmwrites: e.vmwrites,
      });
      writesMark = writes;
      markMmu();
    } else if (e.kind === 'l2-run') {
      const v02 = nv.vmcs02;
      const eptp02 = v02.peek(EPT_POINTER);
      o.runs.push({
        frame: o.frame, subject: subjectOfVmptr(e.vmptr), onVmcs02: nv.loaded === v02, guestCr3: v02.peek(GUEST_CR3),
        pmlAddress: v02.peek(PML_ADDRESS), vmcs02PmlEnabled: (v02.peek(SECONDARY_VM_EXEC_CONTROL) & BigInt(SECONDARY_EXEC_ENABLE_PML)) !== 0n,
        eptp02, eptp12: engine.vmcs12At(vcpu, e.vmptr)?.get(EPT_POINTER) ?? -1n, mmu: mmuView(eptp02),
      });
      markMmu();
    } else if (e.kind === 'nested-exit') {
      cr3AtExit = e.vmcs02Cr3;
      const writes = cr3WritesOf02();
      inL2 += writes - writesMark;
      writesMark = writes;
    }
  });
  return o;
}
