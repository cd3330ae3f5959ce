/**
 * A picture of everything a public call can change in a hypervisor: memslots and their dirty
 * bitmaps, every byte of guest memory, the VM's counters and flags, every vCPU's registers and
 * counters, the MMU's counters and virtual time. Two equal strings mean nothing observable moved.
 */
import { createHash } from 'node:crypto';
import type { Hypervisor, Vm } from '@kvmlab/hypervisor-core';

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

function memoryDigest(vm: Vm): string {
  const h = createHash('sha1');
  for (const as of [0, 1]) {
    for (const s of vm.memslots.list(as)) {
      h.update(`${as}/${s.id}:`);
      for (const i of s.backing.residentIndices()) {
        const p = s.backing.peek(i);
        if (p === undefined) continue;
        h.update(String(i));
        h.update(p);
      }
    }
  }
  return h.digest('hex');
}

export function vmState(vm: Vm): unknown {
  const slots = [0, 1].flatMap((as) =>
    vm.memslots.list(as).map((s) => ({
      as, id: s.id, base: s.baseGfn, n: s.npages, flags: s.flags,
      bm: s.dirtyBitmap === undefined ? null : `${s.dirtyBitmap.dirtyCount}:${createHash('sha1').update(s.dirtyBitmap.bytes).digest('hex')}`,
    })),
  );
  const mmuStats = (vm.mmu as { stats?: unknown }).stats;
  return {
    slots,
    memory: memoryDigest(vm),
    stats: vm.stats,
    hasRun: vm.hasRun,
    manual: vm.manualDirtyLogProtect,
    mmu: mmuStats,
    vcpus: vm.vcpus.map((v) => ({ id: v.id, x: v.x, x86: v.x86, stats: v.stats })),
  };
}

/** The whole hypervisor (every VM) plus virtual time, as one comparable string. */
export function hypervisorState(hv: Hypervisor): string {
  return JSON.stringify({ now: hv.sim.now, pending: hv.sim.pending, ran: hv.sim.eventsRun, vms: hv.vms.map(vmState) }, big);
}
