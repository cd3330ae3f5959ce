/**
 * Per-vCPU VMX state L0 keeps: vmcs01, one vmcs02, the cached vmcs12 of the L2 that L1 runs,
 * the 512-entry PML page, and which EPT the CPU walks now. The CPU model reads the *current*
 * VMCS exactly as hardware would (EPT_POINTER, secondary controls, GUEST_PML_INDEX).
 */
import {
  EPT_ADDR_MASK,
  EPT_POINTER,
  eptpAdEnabled,
  GUEST_PML_INDEX,
  PML_ENTITY_NUM,
  SECONDARY_EXEC_ENABLE_EPT,
  SECONDARY_EXEC_ENABLE_PML,
  SECONDARY_VM_EXEC_CONTROL,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
  VMX_EPT_READABLE_MASK,
  Vmcs,
  type Vcpu,
} from '@kvmlab/hypervisor-core';
import { PT_WRITABLE_MASK } from '../constants.js';
import type { SpteTable } from './mmu-pages.js';

export interface VcpuExitCounts {
  /** Exits by VMX basic exit reason number. */
  readonly byReason: Map<number, number>;
  pmlEntriesLogged: number;
  pmlFlushes: number;
  /** gfns the flushes passed to kvm_vcpu_mark_page_dirty (in a slot or not). */
  pmlGfnsFlushed: number;
  writeProtectFaults: number;
}

export class VcpuVmx {
  readonly vcpu: Vcpu;
  readonly vmcs01 = new Vmcs('vmcs01');
  readonly vmcs02 = new Vmcs('vmcs02');
  /** L1's vmcs12 (KVM's cached copy). Field stores by KVM use cpuWrite: they are not VMWRITEs. */
  readonly vmcs12 = new Vmcs('vmcs12');
  /** The loaded VMCS. */
  current: Vmcs;
  /** The PML page: 512 GPAs (u64), host memory at `pmlHpa`. */
  readonly pmlBuffer = new BigUint64Array(PML_ENTITY_NUM);
  readonly pmlHpa: bigint;
  /** The table the CPU walks: the one whose root EPT_POINTER of the current VMCS names. */
  activeTable: SpteTable;
  /** vmx->secondary_exec_control: L0's secondary controls for L1 (vmcs02 starts from them). */
  secondaryExecControl = 0n;
  /** vmcs02's constant state (PML address and index) has been written. */
  vmcs02Ready = false;
  /** Whether L2 runs with EPT12 (mmu = guest_mmu) while in guest mode. */
  nestedEpt = false;
  readonly exits: VcpuExitCounts = {
    byReason: new Map(),
    pmlEntriesLogged: 0,
    pmlFlushes: 0,
    pmlGfnsFlushed: 0,
    writeProtectFaults: 0,
  };

  constructor(vcpu: Vcpu, pmlHpa: bigint, tdp: SpteTable) {
    this.vcpu = vcpu;
    this.pmlHpa = pmlHpa;
    this.current = this.vmcs01;
    this.activeTable = tdp;
  }

  /** EPTP of the loaded VMCS enables A/D flags (bit 6), as the CPU loaded it at VM entry. */
  adActive = false;
  /** The loaded VMCS enables PML (secondary controls ENABLE_EPT and ENABLE_PML). */
  pmlOn = false;
  /** Bits an SPTE needs for a write to go through without A/D updates: W, plus A|D with A/D on. */
  writeFastMask = 0n;
  readFastMask = 0n;

  /**
   * VM entry: the CPU (re)loads the current VMCS's EPT_POINTER and secondary controls. KVM
   * calls this after it switches VMCS or writes those fields.
   */
  loadCpu(tableAt: (hpa: bigint) => SpteTable | undefined): void {
    const eptp = this.current.peek(EPT_POINTER);
    const sec = this.current.peek(SECONDARY_VM_EXEC_CONTROL);
    this.adActive = eptpAdEnabled(eptp);
    this.pmlOn = (sec & BigInt(SECONDARY_EXEC_ENABLE_PML)) !== 0n && (sec & BigInt(SECONDARY_EXEC_ENABLE_EPT)) !== 0n;
    const t = tableAt(eptp & EPT_ADDR_MASK);
    if (t !== undefined) this.activeTable = t;
    this.writeFastMask = PT_WRITABLE_MASK | (this.adActive ? VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT : 0n);
    this.readFastMask = VMX_EPT_READABLE_MASK | (this.adActive ? VMX_EPT_ACCESS_BIT : 0n);
  }

  countExit(reason: number): void {
    this.exits.byReason.set(reason, (this.exits.byReason.get(reason) ?? 0) + 1);
  }

  /** The PML index of the loaded VMCS as the CPU sees it. */
  get pmlIndex(): number {
    return Number(this.current.peek(GUEST_PML_INDEX));
  }
}
