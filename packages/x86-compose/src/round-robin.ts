/**
 * The host side of running a multi-CPU Muen: L0 runs the L1's vCPU threads on one host CPU,
 * one minor frame at a time in turn (as QEMU's single-threaded TCG runs its vCPUs round robin).
 * The model's L1 is JS code that calls VMX instructions synchronously, and a vCPU inside
 * VMRESUME waits in virtual time on the stack; running one vCPU's frame at a time keeps virtual
 * time moving forward. Each vCPU's own time is continuous within its frames; between them it is
 * descheduled (in L1, no timer armed).
 *
 * vm_stop(): a vCPU that is not running is stopped already (between two frames, in L1); the
 * running one gets a signal and leaves KVM_RUN at its next check in guest mode (the engine's
 * requestUserspaceExit). Once every vCPU is out, `whenStopped` runs (the VMM's work with a
 * stopped guest: the last dirty-log sync, saving vCPU state). The source never runs again: the
 * running vCPU's stack is abandoned with SourceStopped, as QEMU's cpu_loop_exit() unwinds a
 * vCPU's execution with a longjmp.
 */
import type { Hypervisor, Vcpu } from '@kvmlab/hypervisor-core';
import type { MuenKernel } from '@kvmlab/nvmx-cr3';

export interface MuenCpu {
  readonly cpu: number;
  readonly vcpu: Vcpu;
  readonly muen: MuenKernel;
}

/** Thrown through a stopped source vCPU's L1 code; the round robin catches it. */
export class SourceStopped extends Error {
  constructor() {
    super('the source VM stopped for good (migration switch-over)');
    this.name = 'SourceStopped';
  }
}

export class RoundRobin {
  private turn = 0;
  private running: MuenCpu | null = null;
  private stopping: (() => void) | null = null;
  private stoppedFlag = false;
  /** Minor frames completed by all CPUs (on this host). */
  framesRun = 0;
  /** A vCPU whose L2 can never be left (KVM_RUN would not return): the turns end. */
  hung: MuenCpu | null = null;

  constructor(private readonly hv: Hypervisor, private readonly cpus: readonly MuenCpu[], private readonly maxFrames: number) {}

  /** Starts the turns at virtual time `at`. */
  start(at: bigint, firstTurn = 0): void {
    this.turn = firstTurn % this.cpus.length;
    this.hv.sim.schedule(at, () => this.step(), 'muen round robin');
  }

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** The CPU whose turn is next (where a destination continues). */
  get nextTurn(): number {
    return this.turn;
  }

  /** vm_stop(): stop every vCPU, then run `whenStopped` (once). */
  stop(whenStopped: () => void): void {
    if (this.stopping !== null || this.stoppedFlag) throw new Error('the guest is already stopping');
    const r = this.running;
    if (r === null) {
      this.finishStop(whenStopped);
      return;
    }
    this.stopping = whenStopped;
    this.hv.nestedVmx!.requestUserspaceExit(r.vcpu, () => {
      this.finishStop(whenStopped);
      throw new SourceStopped();
    });
  }

  private finishStop(whenStopped: () => void): void {
    this.stoppedFlag = true;
    this.stopping = null;
    whenStopped();
  }

  /**
   * One CPU's minor frame, or the rest of one in flight: a vCPU restored in guest mode is inside
   * L1's VMLAUNCH/VMRESUME, so KVM_RUN finishes the L2 run and L1 continues after the instruction.
   * (L1 reads nothing before that: while the vCPU is in guest mode, L1 does not run.)
   */
  private runFrame(c: MuenCpu): void {
    if (c.vcpu.x86.guestMode) {
      if (this.hv.nestedVmx!.runNested(c.vcpu)) c.muen.completeFrame();
      else this.hung = c;
    } else {
      c.muen.minorFrame(c.muen.nextFrame);
    }
  }

  private step(): void {
    if (this.stoppedFlag) return;
    const c = this.cpus[this.turn]!;
    this.turn = (this.turn + 1) % this.cpus.length;
    this.running = c;
    try {
      this.runFrame(c);
    } catch (e) {
      this.running = null;
      if (e instanceof SourceStopped) return;
      throw e;
    }
    this.running = null;
    this.framesRun++;
    const engine = this.hv.nestedVmx!;
    if (this.stopping !== null) {
      // The signal came while the vCPU was in L1 and its frame ended without another entry:
      // it is out of L2 and between frames now, a consistent point to stop at.
      engine.cancelUserspaceExit(c.vcpu);
      this.finishStop(this.stopping);
      return;
    }
    if (this.hung !== null || this.cpus.some((x) => x.muen.halted)) return;
    if (this.framesRun < this.maxFrames) this.hv.sim.after(0n, () => this.step(), 'muen round robin');
  }
}
