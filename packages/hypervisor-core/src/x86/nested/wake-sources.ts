/**
 * What wakes or kicks a vCPU: the hrtimer that emulates L1's VMX-preemption timer
 * (arch/x86/kvm/vmx/nested.c of v5.4), external interrupts and NMIs a device or the VMM raises
 * (KVM_IRQ_LINE / KVM_NMI → the local APIC → a kick). All live in virtual time.
 */
import { VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE } from '../vmx-controls.js';
import { VMX_PREEMPTION_TIMER_VALUE } from '../vmcs-fields.js';
import type { NestedVcpuState } from './shapes.js';

const sim = (nv: NestedVcpuState) => nv.vcpu.vm.hv.sim;

/** models vmx_preemption_timer_fn() (nested.c). */
export function vmxPreemptionTimerFn(nv: NestedVcpuState): void {
  nv.preemptionTimer = null;
  nv.preemptionTimerExpired = true;
  nv.requests.add('EVENT');
  nv.kicked = true; // kvm_vcpu_kick()
}

/** vcpu->arch.virtual_tsc_khz: the guest TSC runs at the host counter's rate (no scaling in the model's nVMX). */
export const virtualTscKhz = (nv: NestedVcpuState): bigint => nv.vcpu.vm.hv.host.counterHz / 1000n;

/** The hrtimer period for a preemption timer value: (value << 5) * 1e6 / virtual_tsc_khz ns. */
export function preemptionTimeoutNs(value: bigint, tscKhz: bigint): bigint {
  return ((value << BigInt(VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE)) * 1_000_000n) / tscKhz;
}

/** models vmx_start_preemption_timer() (nested.c): a value of 0 fires at once. */
export function vmxStartPreemptionTimer(nv: NestedVcpuState, value: bigint): void {
  if (value === 0n) {
    nv.preemptionTimerExpires = sim(nv).now;
    vmxPreemptionTimerFn(nv);
    return;
  }
  const khz = virtualTscKhz(nv);
  if (khz === 0n) return;
  nv.preemptionTimerExpires = sim(nv).now + preemptionTimeoutNs(value, khz);
  nv.preemptionTimer = sim(nv).after(preemptionTimeoutNs(value, khz), () => vmxPreemptionTimerFn(nv), 'nvmx preemption timer');
}

/**
 * models vmx_get_preemption_timer_value() (nested.c): the remaining time in timer ticks.
 * nested_vmx_vmexit() cancels the hrtimer before sync_vmcs02_to_vmcs12() asks, and
 * hrtimer_get_remaining() still answers from the expiry, so the expiry is what counts here.
 */
export function vmxGetPreemptionTimerValue(nv: NestedVcpuState): bigint {
  const expires = nv.preemptionTimerExpires;
  if (expires === null) return 0n;
  const remaining = expires - sim(nv).now;
  if (remaining <= 0n) return 0n;
  return BigInt.asUintN(32, ((remaining * virtualTscKhz(nv)) / 1_000_000n) >> BigInt(VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE));
}

/** hrtimer_cancel(&vmx->nested.preemption_timer). */
export function cancelPreemptionTimer(nv: NestedVcpuState): void {
  if (nv.preemptionTimer !== null) sim(nv).cancel(nv.preemptionTimer);
  nv.preemptionTimer = null;
}

/** VMX_PREEMPTION_TIMER_VALUE of the current vmcs12. */
export const vmcs12TimerValue = (nv: NestedVcpuState): bigint => nv.cachedVmcs12?.get(VMX_PREEMPTION_TIMER_VALUE) ?? 0n;

/** A device raises interrupt `vector` at absolute time `at` (kvm_set_irq → LAPIC → kick). */
export function scheduleInterrupt(nv: NestedVcpuState, vector: number, at: bigint): void {
  const entry = {
    at,
    handle: sim(nv).schedule(at, () => {
      const i = nv.scheduledIrqs.indexOf(entry);
      if (i >= 0) nv.scheduledIrqs.splice(i, 1);
      nv.pendingIrqs.push(vector);
      nv.requests.add('EVENT');
      nv.kicked = true;
    }, 'nvmx irq'),
  };
  nv.scheduledIrqs.push(entry);
}

/** KVM_NMI: an NMI is pending now (process_nmi → KVM_REQ_EVENT, kick). */
export function queueNmi(nv: NestedVcpuState): void {
  nv.nmiPending = Math.min(nv.nmiPending + 1, 2); // process_nmi(): at most one pending and one in service
  nv.requests.add('EVENT');
  nv.kicked = true;
}

/** kvm_cpu_has_interrupt(). */
export const hasInterrupt = (nv: NestedVcpuState): boolean => nv.pendingIrqs.length > 0;

/** The earliest time something the model knows of can wake the vCPU (null = nothing will). */
export function nextWakeAt(nv: NestedVcpuState): bigint | null {
  let t: bigint | null = nv.preemptionTimer?.at ?? null;
  for (const s of nv.scheduledIrqs) if (t === null || s.at < t) t = s.at;
  return t;
}
