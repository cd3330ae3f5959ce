/**
 * guestWriteU64 is guestWrite of leBytes(8, value), byte for byte and exit for exit: the same
 * memory, dirty logs, MMIO exits and exit counts, whatever the address (aligned or not, across a
 * page, in a logging slot, a read-only slot or no slot at all) and with GET_DIRTY_LOG in between.
 */
import { describe, expect } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { createHypervisor, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, leBytes } from '@kvmlab/hypervisor-core';
import { kvmMmuOf, kvmMmuPml } from '../src/host/plugin.js';

const PAGE = 4096n;
/** Slot 0: 16 logging pages at 0; slot 1: 2 read-only pages at 0x20000; nothing at 0x10000 (MMIO). */
function rig(pml: boolean) {
  const hv = createHypervisor({ arch: 'x86_64', seed: 3, plugins: [kvmMmuPml({ variant: 'merged', enablePml: pml })] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 16n * PAGE });
  vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_READONLY, guestPhysAddr: 0x20000n, memorySize: 2n * PAGE });
  const vcpu = vm.createVcpu(0);
  const mmio: string[] = [];
  vm.onMmio = (_v, e) => void mmio.push(`${e.gpa} ${e.isWrite} ${[...(e.data ?? [])].join(',')}`);
  return { vm, vcpu, mmio };
}

type Op = { k: 'store'; gpa: bigint; value: bigint } | { k: 'get' };
const gpa = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 16n * PAGE / 8n - 1n }).map((w) => w * 8n) }, // aligned, in the logging slot
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 16n * PAGE - 8n }) }, // any offset (some across a page)
  { weight: 1, arbitrary: fc.bigInt({ min: 0x10000n, max: 0x10ff8n }) }, // no slot: MMIO
  { weight: 1, arbitrary: fc.bigInt({ min: 0x20000n, max: 0x21ff8n }) }, // read-only slot: MMIO for a write
  { weight: 1, arbitrary: fc.constantFrom(16n * PAGE - 4n, 0x10000n - 4n, 0x20000n - 8n) }, // straddling a slot's end
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('store' as const), gpa, value: fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'get' as const }) },
);

describe('guestWriteU64 against guestWrite(leBytes(8, value))', () => {
  fcTest.prop([fc.array(op, { maxLength: 40 }), fc.boolean()], { numRuns: 150 })('the same memory, logs, MMIO exits and exit counts', (ops, pml) => {
    const a = rig(pml);
    const b = rig(pml);
    const logs: [string[], string[]] = [[], []];
    for (const o of ops) {
      if (o.k === 'get') {
        logs[0].push([...a.vm.getDirtyLog(0)].join(','));
        logs[1].push([...b.vm.getDirtyLog(0)].join(','));
        continue;
      }
      a.vm.mmu.guestWrite(a.vcpu, o.gpa, leBytes(8, o.value));
      b.vm.mmu.guestWriteU64!(b.vcpu, o.gpa, o.value);
    }
    expect(logs[1]).toEqual(logs[0]);
    expect(b.mmio).toEqual(a.mmio);
    const same = (gpa: bigint, n: number): boolean => Buffer.from(b.vm.memory.read(gpa, n)).equals(Buffer.from(a.vm.memory.read(gpa, n)));
    expect(same(0n, Number(16n * PAGE))).toBe(true);
    expect(same(0x20000n, Number(2n * PAGE))).toBe(true);
    const counts = (r: ReturnType<typeof rig>) => {
      const v = kvmMmuOf(r.vm).vcpuVmx(r.vcpu);
      return { exits: { ...v.exits, byReason: [...v.exits.byReason] }, vcpu: r.vcpu.stats.exits, vm: r.vm.stats, pml: [...v.pmlBuffer] };
    };
    expect(counts(b)).toEqual(counts(a));
  });
});
