/**
 * The per-vCPU nested state and the small reads every mechanism needs. The shape is the point
 * of the CR3 bug: vmcs01 for L1, **one vmcs02 per vCPU shared by every vmcs12**, and one cached
 * vmcs12 (the current one; the others are in L1's memory).
 */
import type { Vcpu } from '../../vcpu/vcpu.js';
import { GUEST_CR3 } from '../vmcs-fields.js';
import { Vmcs } from '../vmcs.js';
import { KVM_MMU_NUM_PREV_ROOTS } from './kvm-constants.js';
import type { CountMark, KvmMmuContext, KvmMmuName, NestedVcpuState, NvmxEngineState, NvmxEvent } from './shapes.js';
import type { Vmcs12 } from './vmcs12.js';

function newMmu(name: KvmMmuName): KvmMmuContext {
  return { name, root: null, prevRoots: Array.from({ length: KVM_MMU_NUM_PREV_ROOTS }, () => null) };
}

/** models vmx_create_vcpu()'s nested part: a vCPU outside VMX operation, with its own vmcs01 and vmcs02. */
export function createNestedVcpu(vcpu: Vcpu, engine: NvmxEngineState): NestedVcpuState {
  const vmcs01 = new Vmcs(`vcpu${vcpu.id}/vmcs01`);
  const rootMmu = newMmu('root_mmu');
  return {
    vcpu, engine, vmcs01, vmcs02: new Vmcs(`vcpu${vcpu.id}/vmcs02`), loaded: vmcs01,
    vmxon: false, vmxonPtr: -1n, currentVmptr: -1n, cachedVmcs12: null, cachedShadowVmcs12: null,
    vmcs02Initialized: false, dirtyVmcs12: false, needSyncRare: false, regsAvail: ~0, regsDirty: 0, nestedRunPending: false,
    requests: new Set(), rootMmu, guestMmu: newMmu('guest_mmu'), mmu: rootMmu, rootAllocs: 0,
    preemptionTimer: null, preemptionTimerExpires: null, preemptionTimerExpired: false, pendingIrqs: [], nmiPending: 0, scheduledIrqs: [],
    kicked: false, signal: null, spinningForever: false, featureControl: 0n, programs: new Map(),
    stats: {
      nestedEntries: 0, squashedEntries: 0, failedEntries: 0, nestedExits: {}, l0Exits: {}, exits: {}, l2Interrupts: 0,
      l1Interrupts: 0, userspaceExits: 0, entryVmreads: 0, entryVmwrites: 0, entryCr3Vmreads: 0, entryCr3Vmwrites: 0, exitVmreads: 0,
      exitVmwrites: 0, exitCr3Vmreads: 0, exitCr3Vmwrites: 0,
    },
    listeners: [], entryMark: null, entryLaunch: false, exitMark: null, lastExit: null,
  };
}

/** is_guest_mode(). */
export const isGuestMode = (nv: NestedVcpuState): boolean => nv.vcpu.x86.guestMode;

/** get_vmcs12(): the cached current vmcs12. Callers check current_vmptr first, as KVM does. */
export function getVmcs12(nv: NestedVcpuState): Vmcs12 {
  const v = nv.cachedVmcs12;
  if (v === null) throw new Error('nested VMX: no current vmcs12 (model bug: a caller skipped the current_vmptr check)');
  return v;
}

export const now = (nv: NestedVcpuState): bigint => nv.vcpu.vm.hv.sim.now;

export function emit(nv: NestedVcpuState, e: NvmxEvent): void {
  for (const l of nv.listeners) l(e);
}

/** VMREAD+VMWRITE totals over vmcs01 and vmcs02, all fields and GUEST_CR3 only. */
export function countMark(nv: NestedVcpuState): CountMark {
  const a = nv.vmcs01.countsOf(GUEST_CR3);
  const b = nv.vmcs02.countsOf(GUEST_CR3);
  return {
    r: nv.vmcs01.counts.vmreads + nv.vmcs02.counts.vmreads,
    w: nv.vmcs01.counts.vmwrites + nv.vmcs02.counts.vmwrites,
    fr: a.vmreads + b.vmreads,
    fw: a.vmwrites + b.vmwrites,
  };
}
