/**
 * State invariants of a composed hypervisor that must hold after every ABI step, whatever
 * plugins are installed: slots never overlap, bitmaps match their slots, the set-bit count is
 * exact, and a snapshot to show that a failed call changed nothing.
 */
import { popcount32, type Vm } from '@kvmlab/hypervisor-core';

export function snapshot(vm: Vm): string {
  const slots = [0, 1].flatMap((as) =>
    vm.memslots.list(as).map((s) => `${as}/${s.id}@${s.baseGfn}+${s.npages}:${s.flags}:${s.dirtyBitmap ? Buffer.from(s.dirtyBitmap.bytes).toString('base64') : '-'}`),
  );
  return JSON.stringify({ slots, manual: vm.manualDirtyLogProtect, vcpus: vm.vcpus.map((v) => v.id) });
}

/** Returns the first violated invariant, or undefined. */
export function violation(vm: Vm): string | undefined {
  for (const as of [0, 1]) {
    const list = vm.memslots.list(as);
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!;
      const b = list[i]!;
      if (a.baseGfn + BigInt(a.npages) > b.baseGfn) return `slots ${a.id} and ${b.id} overlap`;
    }
    for (const s of list) {
      if ((s.dirtyBitmap !== undefined) !== s.logsDirty) return `slot ${s.id}: bitmap presence ≠ KVM_MEM_LOG_DIRTY_PAGES`;
      if (s.dirtyBitmap) {
        if (s.dirtyBitmap.bytes.length !== Math.ceil(s.npages / 64) * 8) return `slot ${s.id}: bitmap size`;
        let bits = 0;
        for (let l = 0; l < s.dirtyBitmap.laneCount; l++) bits += popcount32(s.dirtyBitmap.lane(l));
        if (bits !== s.dirtyBitmap.dirtyCount) return `slot ${s.id}: dirty count ${s.dirtyBitmap.dirtyCount} ≠ ${bits} set bits`;
        const tail = s.dirtyBitmap.npages;
        for (let p = tail; p < s.dirtyBitmap.laneCount * 32; p++) if (s.dirtyBitmap.test(p)) return `slot ${s.id}: bit ${p} past the slot end`;
      }
    }
  }
  return undefined;
}

/**
 * No page lost from tracking: after the MMU's logs are flushed (a vCPU kick), every page an L1
 * write touched in a writable logging slot has its bit set.
 */
export function lostPages(vm: Vm, gpa: bigint, len: number): bigint[] {
  vm.mmu.flushLogs?.();
  const lost: bigint[] = [];
  for (let gfn = gpa >> 12n; gfn <= (gpa + BigInt(len) - 1n) >> 12n; gfn++) {
    const s = vm.memslots.findByGfn(gfn);
    if (s?.dirtyBitmap && !s.readonly && !s.dirtyBitmap.test(Number(gfn - s.baseGfn))) lost.push(gfn);
  }
  return lost;
}
