/**
 * What wakes or kicks a vCPU: the hrtimer that emulates L1's VMX-preemption timer, and
 * external interrupts a device raises. Both live in virtual time (hv.sim).
 */
import { VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE, VMX_PREEMPTION_TIMER_VALUE } from '@kvmlab/hypervisor-core';
import type { NestedVcpu } from './nested-state.js';

/** models vmx_preemption_timer_fn() (arch/x86/kvm/vmx/nested.c). */
export function vmxPreemptionTimerFn(nv: NestedVcpu): void {
  nv.preemptionTimer = null;
  nv.preemptionTimerExpired = true;
  nv.requests.add('EVENT');
  nv.kicked = true; // kvm_vcpu_kick()
}

/** virtual_tsc_khz: the guest TSC runs at the host counter's rate (default scaling ratio). */
export function virtualTscKhz(nv: NestedVcpu): bigint {
  return nv.vcpu.vm.hv.host.counterHz / 1000n;
}

/** The hrtimer period for a preemption timer value: (value << 5) * 1e6 / virtual_tsc_khz ns. */
export function preemptionTimeoutNs(value: bigint, tscKhz: bigint): bigint {
  return ((value << BigInt(VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE)) * 1_000_000n) / tscKhz;
}

/** models vmx_start_preemption_timer() (arch/x86/kvm/vmx/nested.c): a value of 0 fires at once. */
export function vmxStartPreemptionTimer(nv: NestedVcpu, value: bigint): void {
  if (value === 0n) {
    vmxPreemptionTimerFn(nv);
    return;
  }
  const khz = virtualTscKhz(nv);
  if (khz === 0n) return;
  const ns = preemptionTimeoutNs(value, khz);
  nv.preemptionTimer = nv.vcpu.vm.hv.sim.after(ns, () => vmxPreemptionTimerFn(nv), 'nvmx preemption timer');
}

/** hrtimer_cancel(&vmx->nested.preemption_timer). */
export function cancelPreemptionTimer(nv: NestedVcpu): void {
  if (nv.preemptionTimer !== null) nv.vcpu.vm.hv.sim.cancel(nv.preemptionTimer);
  nv.preemptionTimer = null;
}

/** Reads VMX_PREEMPTION_TIMER_VALUE of the current vmcs12. */
export function vmcs12TimerValue(nv: NestedVcpu): bigint {
  return nv.vmcs12?.get(VMX_PREEMPTION_TIMER_VALUE) ?? 0n;
}

/** A device raises interrupt `vector` at absolute time `at` (kvm_set_irq → LAPIC → kick). */
export function scheduleInterrupt(nv: NestedVcpu, vector: number, at: bigint): void {
  const entry = {
    at,
    handle: nv.vcpu.vm.hv.sim.schedule(at, () => {
      const i = nv.scheduledIrqs.indexOf(entry);
      if (i >= 0) nv.scheduledIrqs.splice(i, 1);
      nv.pendingIrqs.push(vector);
      nv.requests.add('EVENT');
      nv.kicked = true;
    }, 'nvmx irq'),
  };
  nv.scheduledIrqs.push(entry);
}

/** kvm_cpu_has_interrupt(). */
export function hasInterrupt(nv: NestedVcpu): boolean {
  return nv.pendingIrqs.length > 0;
}

/** The earliest time something this model knows of can wake the vCPU (null = nothing will). */
export function nextWakeAt(nv: NestedVcpu): bigint | null {
  let t: bigint | null = nv.preemptionTimer?.at ?? null;
  for (const s of nv.scheduledIrqs) if (t === null || s.at < t) t = s.at;
  return t;
}
