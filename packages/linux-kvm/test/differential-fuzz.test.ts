import { release } from 'node:os';
import { fc, test } from '@fast-check/vitest';
import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { isAvailable } from '../src/available.js';
import { eraFor, machineFacts } from '../src/conform/fixture.js';
import { KernelTarget } from '../src/conform/kernel-target.js';
import { ModelTarget } from '../src/conform/model-target.js';
import { formatResult, type Step } from '../src/conform/script.js';
import { KvmSystem } from '../src/ffi/kvm.js';

const RUNS = process.env['KVMLAB_SOAK'] ? 500 : 25;
const avail = isAvailable();

const hex = (n: number): string => `0x${n.toString(16)}`;
const slotId = fc.constantFrom(0, 1, 2, 3);
const BASES = [0, 0x20000, 0x40000, 0x80000, 0xc0000] as const; // where slots may start
/** A page near where slots are: a base plus up to 64 pages (a few fall outside every slot). */
const page = fc.tuple(fc.constantFrom(...BASES), fc.integer({ min: 0, max: 70 })).map(([b, p]) => b / 4096 + p);

/** Random ABI calls over four small slots; one guest store per step (see below). */
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({
    op: fc.constant('setMemslot' as const), slot: slotId, flags: fc.constantFrom(0, 1, 1, 1, 2, 3),
    gpa: fc.constantFrom(...BASES).map(hex),
    size: fc.constantFrom('0x0', '0x1000', '0x10000', '0x40000', '0x40000', '0x40000', '0x1800'),
  }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('enableCap' as const), cap: fc.constant(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), args: fc.constantFrom([0], [1], [3]) }) },
  // A single store: the kernel's guest stops at its first MMIO exit, the model's writes go on.
  { weight: 4, arbitrary: fc.record({ op: fc.constant('guestWrite' as const), writes: fc.tuple(page, fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 255 }))
    .map(([p, off, v]) => [{ gpa: hex(p * 4096 + off), hex: v.toString(16).padStart(2, '0') }]) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('getDirtyLog' as const), slot: slotId }) },
  { weight: 2, arbitrary: fc.record({
    op: fc.constant('clearDirtyLog' as const), slot: slotId, firstPage: fc.constantFrom(0, 0, 64, 1),
    numPages: fc.constantFrom(0, 1, 16, 64, 64, 128), bits: fc.constantFrom('0-63', '0,5,17', '', '1-2'),
  }) },
);

describe('differential fuzz: random ABI call sequences on the kernel and on the model', () => {
  if (!avail.ok) it.skip(`live /dev/kvm fuzzing skipped: ${avail.reason}`, () => undefined);
  else test.prop([fc.array(step, { minLength: 1, maxLength: 30 })], { numRuns: RUNS })(
    'every call returns the same value, errno, bitmap and memory on both',
    (steps) => {
      const sys = KvmSystem.open();
      try {
        const era = eraFor(release(), machineFacts(sys));
        const k = new KernelTarget({ sys });
        const m = new ModelTarget(era);
        try {
          steps.forEach((s, i) => {
            expect(formatResult(m.run(s)), `step ${i}: ${JSON.stringify(s)}`).toBe(formatResult(k.run(s)));
          });
        } finally {
          k.close();
          m.close();
        }
      } finally {
        sys.close();
      }
    },
  );
});
