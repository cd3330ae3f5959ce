/**
 * Per-vCPU nested VMX state (struct nested_vmx and the parts of struct kvm_vcpu_arch the CR3
 * story touches). The shape is the point of the bug: vmcs01 for L1, **one vmcs02 per vCPU
 * shared by every vmcs12**, and a vmcs12 per L1 VMCS pointer.
 */
import { Vmcs, type EventHandle, type Vcpu } from '@kvmlab/hypervisor-core';
import { KVM_MP_STATE_RUNNABLE, X86_CR0_PG } from '../constants.js';
import type { KvmMmu } from './mmu-roots.js';
import { newMmu } from './mmu-roots.js';
import type { Vmcs12 } from './vmcs12.js';
import type { CountMark } from './op-counts.js';

export type NvmxVariant = 'pre-fix' | 'rfc-muen' | 'merged';
export const NVMX_VARIANTS: readonly NvmxVariant[] = ['pre-fix', 'rfc-muen', 'merged'];

export interface NvmxConfig {
  readonly variant: NvmxVariant;
  /** kvm_intel.ept */
  readonly enableEpt: boolean;
  /** kvm_intel.unrestricted_guest (forced off without EPT, as vmx hardware_setup does) */
  readonly unrestrictedGuest: boolean;
  /** Virtual ns L0 spends handling one exit from L1 or L2 (a VM exit + entry round trip). */
  readonly exitCostNs: bigint;
}

/** KVM requests this model uses (arch/x86/include/asm/kvm_host.h KVM_REQ_*). */
export type KvmRequest = 'MMU_RELOAD' | 'LOAD_CR3' | 'EVENT';

/** Something the model did, for scenarios, charts and tests (not seen by guests). */
export type NvmxEvent =
  | { readonly kind: 'nested-entry'; readonly at: bigint; readonly vmptr: bigint; readonly launch: boolean; readonly squashed: boolean; readonly vmreads: number; readonly vmwrites: number; readonly cr3Vmreads: number; readonly cr3Vmwrites: number }
  | { readonly kind: 'nested-exit'; readonly at: bigint; readonly vmptr: bigint; readonly reason: number; readonly guestCr3: bigint; readonly vmcs02Cr3: bigint; readonly vmreads: number; readonly vmwrites: number; readonly cr3Vmreads: number; readonly cr3Vmwrites: number }
  | { readonly kind: 'l2-run'; readonly at: bigint; readonly dur: bigint; readonly vmptr: bigint; readonly cr3: bigint }
  | { readonly kind: 'l2-halt'; readonly at: bigint; readonly vmptr: bigint }
  | { readonly kind: 'hw-exit'; readonly at: bigint; readonly vmptr: bigint; readonly reason: number; readonly reflected: boolean };

export interface NvmxStats {
  nestedEntries: number;
  squashedEntries: number;
  failedEntries: number;
  /** Nested VM exits by basic exit reason. */
  readonly nestedExits: Record<number, number>;
  /** Hardware exits from L2 handled by L0 (not reflected), by reason. */
  readonly l0Exits: Record<number, number>;
  l2Interrupts: number;
  l1Interrupts: number;
  /** VMREAD/VMWRITE on vmcs01/vmcs02 during nested entries and exits (totals, and GUEST_CR3 only). */
  entryVmreads: number;
  entryVmwrites: number;
  entryCr3Vmreads: number;
  entryCr3Vmwrites: number;
  exitVmreads: number;
  exitVmwrites: number;
  exitCr3Vmreads: number;
  exitCr3Vmwrites: number;
}

export class NestedVcpu {
  readonly vcpu: Vcpu;
  readonly cfg: NvmxConfig;
  readonly vmcs01 = new Vmcs('vmcs01');
  /** vmx->nested.vmcs02: one per vCPU, reused for every vmcs12 L1 runs. */
  readonly vmcs02 = new Vmcs('vmcs02');
  /** vmx->loaded_vmcs: the VMCS VMREAD/VMWRITE act on. */
  loaded: Vmcs = this.vmcs01;
  vmxon = false;
  vmxonPtr = -1n;
  /** vmx->nested.current_vmptr (-1 = none). */
  currentVmptr = -1n;
  readonly vmcs12s = new Map<bigint, Vmcs12>();
  /** vcpu->arch.cr3: L1's CR3 in L1 mode, L2's while in guest mode. */
  cr3 = 0n;
  /** L1's CR0 (only PG matters here). */
  cr0 = X86_CR0_PG;
  regsAvail = 0;
  regsDirty = 0;
  mpState = KVM_MP_STATE_RUNNABLE;
  nestedRunPending = false;
  readonly requests = new Set<KvmRequest>();
  readonly rootMmu: KvmMmu = newMmu('root_mmu');
  readonly guestMmu: KvmMmu = newMmu('guest_mmu');
  /** vcpu->arch.mmu */
  mmu: KvmMmu = this.rootMmu;
  /** The emulated VMX-preemption timer (an hrtimer) and its expired flag. */
  preemptionTimer: EventHandle | null = null;
  preemptionTimerExpired = false;
  /** Interrupt vectors pending in the local APIC (oldest first). */
  readonly pendingIrqs: number[] = [];
  /** Times of interrupts a device will raise (wake sources a blocked vCPU waits for). */
  readonly scheduledIrqs: { at: bigint; handle: EventHandle }[] = [];
  /** A kick arrived (vcpu_kick): the running guest leaves at its next instruction boundary. */
  kicked = false;
  /** L2 loops without end and nothing can interrupt it: VMLAUNCH/VMRESUME never completes. */
  spinningForever = false;
  readonly stats: NvmxStats = {
    nestedEntries: 0, squashedEntries: 0, failedEntries: 0, nestedExits: {}, l0Exits: {},
    l2Interrupts: 0, l1Interrupts: 0, entryVmreads: 0, entryVmwrites: 0, entryCr3Vmreads: 0,
    entryCr3Vmwrites: 0, exitVmreads: 0, exitVmwrites: 0, exitCr3Vmreads: 0, exitCr3Vmwrites: 0,
  };
  readonly listeners: ((e: NvmxEvent) => void)[] = [];
  /** VMCS operation counts when the nested entry / exit being measured began. */
  entryMark: CountMark | null = null;
  entryLaunch = false;
  exitMark: CountMark | null = null;
  /** The last nested exit (for reports). */
  lastExit: { vmptr: bigint; reason: number; guestCr3: bigint } | null = null;

  constructor(vcpu: Vcpu, cfg: NvmxConfig) {
    this.vcpu = vcpu;
    this.cfg = cfg;
  }

  get guestMode(): boolean {
    return this.vcpu.x86.guestMode;
  }

  /** The vmcs12 at current_vmptr (get_vmcs12()), if any. */
  get vmcs12(): Vmcs12 | undefined {
    return this.currentVmptr === -1n ? undefined : this.vmcs12s.get(this.currentVmptr);
  }

  get now(): bigint {
    return this.vcpu.vm.hv.sim.now;
  }

  emit(e: NvmxEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** VMREAD+VMWRITE totals over vmcs01 and vmcs02, all fields and GUEST_CR3 only. */
  vmcsOps(field: number): { r: number; w: number; fr: number; fw: number } {
    const a = this.vmcs01.countsOf(field);
    const b = this.vmcs02.countsOf(field);
    return {
      r: this.vmcs01.counts.vmreads + this.vmcs02.counts.vmreads,
      w: this.vmcs01.counts.vmwrites + this.vmcs02.counts.vmwrites,
      fr: a.vmreads + b.vmreads,
      fw: a.vmwrites + b.vmwrites,
    };
  }
}
