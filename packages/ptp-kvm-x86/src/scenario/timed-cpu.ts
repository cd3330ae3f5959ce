/**
 * A vCPU whose VMCALL takes virtual time: the exit to the host and the return to the guest
 * each last a drawn latency, and host events due meanwhile (kvmclock updates) run at their
 * own time. Everything else is instantaneous. Guest code sees only the X86GuestCpu shape.
 */
import { drawLatency, type Simulation, type Vcpu } from '@kvmlab/hypervisor-core';
import { drawSteal, type HypercallLatency } from '@kvmlab/ptp-kvm-core';
import type { X86GuestCpu } from '../guest/cpu.js';

/** `entry`: guest VMCALL → KVM's handler runs; `exit`: handler done → the guest resumes. */
export type VmcallTiming = HypercallLatency;

export class TimedX86Cpu implements X86GuestCpu {
  readonly vcpu: Vcpu;
  private readonly sim: Simulation;
  private readonly timing: VmcallTiming;

  constructor(vcpu: Vcpu, sim: Simulation, timing: VmcallTiming) {
    this.vcpu = vcpu;
    this.sim = sim;
    this.timing = timing;
  }

  get x86(): { readonly longMode: boolean } {
    return this.vcpu.x86;
  }

  cpuid(leaf: number, subleaf?: number): readonly [bigint, bigint, bigint, bigint] {
    return this.vcpu.cpuid(leaf, subleaf);
  }

  wrmsr(index: number, value: bigint): boolean {
    return this.vcpu.wrmsr(index, value);
  }

  rdtsc(): bigint {
    return this.vcpu.rdtsc();
  }

  read(gpa: bigint, length: number): Uint8Array {
    return this.vcpu.read(gpa, length);
  }

  /**
   * The trap and the resume carry the kernel's tracepoints (arch/x86/kvm/trace.h) at their real
   * virtual times: core's vmcall emits kvm_exit and kvm_hypercall when KVM starts handling the
   * exit (after the `entry` latency); kvm_entry marks the re-entry (the `exit` latency, and any
   * steal, follow).
   */
  vmcall(nr: bigint | number, args?: readonly bigint[]): bigint {
    const trace = this.vcpu.vm.hv.trace;
    this.sim.elapse(drawLatency(this.sim.rng, this.timing.entry));
    const rax = this.vcpu.vmcall(nr, args);
    if (trace.enabled) trace.tracepoint(this.vcpu.track, 'kvm_entry', this.sim.now, { vcpu_id: this.vcpu.id });
    this.sim.elapse(drawLatency(this.sim.rng, this.timing.exit) + drawSteal(this.sim.rng, this.timing.steal));
    return rax;
  }
}
