/**
 * Random sequences of KVM calls, valid and invalid, against one VM. Every step either succeeds
 * or throws a KvmError and leaves the VM as it was; after every step the invariants hold.
 */
import { afterAll, describe, expect } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 } from '../src/constants.js';
import { KvmError } from '../src/errors.js';
import { createHypervisor } from '../src/hypervisor.js';
import type { Arch } from '../src/plugin/types.js';
import type { Vm } from '../src/vm/vm.js';
import { popcount32 } from '../src/vm/dirty-bitmap.js';

const MiB = 1n << 20n;
const gpaArb = fc.oneof(
  fc.integer({ min: 0, max: 63 }).map((i) => BigInt(i) * MiB),
  fc.bigInt({ min: 0n, max: 64n * MiB }),
  fc.constantFrom((1n << 64n) - 4096n, 1n << 52n),
);
const sizeArb = fc.oneof(fc.integer({ min: 0, max: 8 }).map((i) => BigInt(i) * MiB), fc.bigInt({ min: 0n, max: 8n * MiB }), fc.constant(1n << 45n));
const slotArb = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(508, 509, 0xffff, 1 << 16, (2 << 16) | 1, -1));

const stepArb = fc.oneof(
  fc.record({ k: fc.constant('region' as const), slot: slotArb, flags: fc.integer({ min: 0, max: 7 }), gpa: gpaArb, size: sizeArb }),
  fc.record({ k: fc.constant('get' as const), slot: slotArb }),
  fc.record({ k: fc.constant('clear' as const), slot: slotArb, first: fc.oneof(fc.integer({ min: 0, max: 40 }).map((i) => i * 64), fc.nat(3000)), num: fc.nat(3000), len: fc.nat(400) }),
  fc.record({ k: fc.constant('cap' as const), cap: fc.constantFrom(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 3, 166, 201, 9999), arg: fc.integer({ min: 0, max: 7 }), flags: fc.constantFrom(0, 0, 1) }),
  fc.record({ k: fc.constant('write' as const), gpa: gpaArb, len: fc.integer({ min: 1, max: 10000 }) }),
  fc.record({ k: fc.constant('vcpu' as const), id: fc.integer({ min: -1, max: 300 }) }),
);
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function snapshot(vm: Vm): string {
  const slots = [0, 1].flatMap((as) =>
    vm.memslots.list(as).map((s) => `${as}/${s.id}@${s.baseGfn}+${s.npages}:${s.flags}:${s.dirtyBitmap ? Buffer.from(s.dirtyBitmap.bytes).toString('base64') : '-'}`),
  );
  return JSON.stringify({ slots, manual: vm.manualDirtyLogProtect, vcpus: vm.vcpus.map((v) => v.id) });
}

function checkInvariants(vm: Vm): void {
  for (const as of [0, 1]) {
    const list = vm.memslots.list(as);
    for (let i = 1; i < list.length; i++) {
      expect(list[i - 1]!.baseGfn + BigInt(list[i - 1]!.npages) <= list[i]!.baseGfn).toBe(true);
    }
    for (const s of list) {
      expect(s.dirtyBitmap !== undefined).toBe(s.logsDirty);
      if (s.dirtyBitmap) {
        expect(s.dirtyBitmap.bytes.length).toBe(Math.ceil(s.npages / 64) * 8);
        let bits = 0;
        for (let l = 0; l < s.dirtyBitmap.laneCount; l++) bits += popcount32(s.dirtyBitmap.lane(l));
        expect(bits).toBe(s.dirtyBitmap.dirtyCount);
      }
    }
  }
}

function apply(vm: Vm, st: Step): void {
  switch (st.k) {
    case 'region':
      return vm.setUserMemoryRegion({ slot: st.slot, flags: st.flags, guestPhysAddr: st.gpa, memorySize: st.size });
    case 'get':
      return void vm.getDirtyLog(st.slot);
    case 'clear':
      return vm.clearDirtyLog({ slot: st.slot, firstPage: st.first, numPages: st.num, bitmap: new Uint8Array(st.len).fill(0xa5) });
    case 'cap':
      return vm.enableCap(st.cap, [st.arg], st.flags);
    case 'vcpu':
      return void vm.createVcpu(st.id);
    case 'write': {
      const v = vm.vcpus[0] ?? vm.createVcpu(0);
      v.write(st.gpa, new Uint8Array(st.len).fill(1));
      // No page lost from tracking: every page written in a logging slot is dirty now.
      for (let a = st.gpa >> 12n; a <= (st.gpa + BigInt(st.len) - 1n) >> 12n; a++) {
        const s = vm.memslots.findByGfn(a);
        if (s?.dirtyBitmap && !s.readonly) expect(s.dirtyBitmap.test(Number(a - s.baseGfn))).toBe(true);
      }
    }
  }
}

const STEPS = process.env.KVMLAB_SOAK ? 100 : 1;
let stepsRun = 0;
afterAll(() => console.log(`core ABI fuzz: ${stepsRun} steps`));
describe('ABI fuzz (hypervisor-core alone)', () => {
  for (const arch of ['x86_64', 'arm64'] as Arch[]) {
    fcTest.prop([fc.array(stepArb, { minLength: 20, maxLength: 100 })], { numRuns: 100 * STEPS })(
      `${arch}: every step succeeds or fails with a KvmError and changes nothing; invariants hold`,
      (steps) => {
        const vm = createHypervisor({ arch, seed: 1 }).createVm();
        for (const st of steps) {
          const before = snapshot(vm);
          try {
            apply(vm, st);
          } catch (e) {
            if (!(e instanceof KvmError)) throw e;
            if (st.k !== 'write') expect(snapshot(vm)).toBe(before);
          }
          checkInvariants(vm);
          stepsRun++;
        }
      },
    );
  }
  fcTest('ran at least 5000 steps', () => {
    expect(stepsRun).toBeGreaterThanOrEqual(5000);
  });
});
