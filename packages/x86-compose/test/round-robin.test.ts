/**
 * The one-host-CPU round robin and vm_stop(): a stop requested while a vCPU runs its frame waits
 * for that vCPU's next signal check (KVM_EXIT_INTR) — the guest is stopped only then — and one
 * requested between frames stops at once. Either way the source runs no further frame.
 */
import { createHypervisor, KVM_MEM_LOG_DIRTY_PAGES } from '@kvmlab/hypervisor-core';
import { kvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { MUEN_KERNEL_CR3, MuenKernel, NVMX_SERVICE, nvmxCr3, type NvmxService } from '@kvmlab/nvmx-cr3';
import { describe, expect, it } from 'vitest';
import { muenConfigOf, RoundRobin, saveVcpu, subjectsOf, type MuenCpu } from '../src/index.js';

function rig(vcpus = 2) {
  const hv = createHypervisor({ arch: 'x86_64', seed: 3, plugins: [kvmMmuPml({ variant: 'merged' }), nvmxCr3({ variant: 'merged' })] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 8n << 20n });
  const svc = hv.decoration<NvmxService>(NVMX_SERVICE)!;
  const cpus: MuenCpu[] = [];
  for (let c = 0; c < vcpus; c++) {
    const vcpu = vm.createVcpu(c);
    svc.setSregs(vcpu, { cr3: MUEN_KERNEL_CR3 });
    const muen = new MuenKernel(vcpu, muenConfigOf(c, subjectsOf(c, hv.sim.rng, 100_000), 20_000n));
    expect(muen.boot()).toBe(true);
    cpus.push({ cpu: c, vcpu, muen });
  }
  return { hv, vm, cpus };
}

describe('RoundRobin', () => {
  it('runs the CPUs in turn, one frame each, up to its frame budget', () => {
    const { hv, cpus } = rig(2);
    const rr = new RoundRobin(hv, cpus, 9);
    rr.start(hv.sim.now);
    hv.sim.run(1_000_000);
    expect(rr.framesRun).toBe(9);
    expect(cpus[0]!.muen.framesRun).toBe(5);
    expect(cpus[1]!.muen.framesRun).toBe(4);
    expect(rr.nextTurn).toBe(1);
  });

  it('a stop during a frame completes at the running vCPU\'s next signal check, in guest mode, and nothing runs after it', () => {
    const { hv, cpus } = rig(2);
    const rr = new RoundRobin(hv, cpus, 1000);
    rr.start(hv.sim.now);
    let askedAt = -1n;
    let stoppedAt = -1n;
    let inL2 = false;
    let framesAtStop = -1;
    hv.sim.schedule(hv.sim.now + 1_234_567n, () => {
      askedAt = hv.sim.now;
      rr.stop(() => {
        stoppedAt = hv.sim.now;
        inL2 = cpus.some((c) => c.vcpu.x86.guestMode);
        framesAtStop = cpus[0]!.muen.framesRun + cpus[1]!.muen.framesRun;
        expect(cpus.filter((c) => c.vcpu.x86.guestMode).map((c) => saveVcpu(c.vcpu).nestedState[0]! & 1)).toEqual(inL2 ? [1] : []);
      });
    });
    hv.sim.run(1_000_000);
    expect(rr.stopped).toBe(true);
    expect(inL2).toBe(true);
    expect(stoppedAt).toBeGreaterThanOrEqual(askedAt);
    expect(stoppedAt - askedAt).toBeLessThan(100_000n); // within a tick: the kick ends the L2 run at its next instruction
    expect(cpus[0]!.muen.framesRun + cpus[1]!.muen.framesRun).toBe(framesAtStop);
    expect(hv.nestedVmx!.state(cpus.find((c) => c.vcpu.x86.guestMode)!.vcpu).stats.userspaceExits).toBe(1);
    expect(() => rr.stop(() => undefined)).toThrow(/already/);
  });

  it('a stop between frames (nothing on the host CPU) stops at once', () => {
    const { hv, cpus } = rig(1);
    const rr = new RoundRobin(hv, cpus, 1000);
    let at = -1n;
    rr.stop(() => (at = hv.sim.now));
    expect(at).toBe(hv.sim.now);
    rr.start(hv.sim.now);
    hv.sim.run(1000);
    expect(cpus[0]!.muen.framesRun).toBe(0);
  });
});
