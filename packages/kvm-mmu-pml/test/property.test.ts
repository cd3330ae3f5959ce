/**
 * Invariants, by property: with the merged fix, no L1 page a guest writes is ever missing from
 * the harvested dirty bitmaps, whatever mix of L2 and L1 writes, nested exits, INVEPT, GET and
 * CLEAR; and a pre-copy migration's destination equals its source. Pre-fix breaks the first.
 */
import { bitmapPages, createHypervisor, KVM_MEM_LOG_DIRTY_PAGES } from '@kvmlab/hypervisor-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invept } from '../src/guest/vmx.js';
import { kvmMmuPml } from '../src/host/plugin.js';
import type { Variant } from '../src/host/spte.js';
import { runMigration } from '../src/scenarios/migration-run.js';
import { GuestDriver, l1BuildEpt12, l1LaunchL2, shuffledChunks, type NestedLayout } from '../src/scenarios/nested-guest.js';

const SOAK = process.env.KVMLAB_SOAK !== undefined;
const MiB = 1n << 20n;

type Op =
  | { readonly op: 'l2w'; readonly page: number }
  | { readonly op: 'l1w'; readonly n: number }
  | { readonly op: 'exit' }
  | { readonly op: 'resume' }
  | { readonly op: 'invept' }
  | { readonly op: 'harvest' };

const opArbFor = (pageArb: fc.Arbitrary<number>): fc.Arbitrary<Op> => fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('l2w' as const), page: pageArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('l1w' as const), n: fc.integer({ min: 1, max: 700 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'exit' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'resume' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'invept' as const }) },
  { weight: 3, arbitrary: fc.constant({ op: 'harvest' as const }) },
);
const opArb = opArbFor(fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 2047 })));

/** Runs the ops; returns the L1 pages written and never reported by a later harvest. */
function missedPages(variant: Variant, seed: number, manual: boolean, eptp12Ad: boolean, ops: readonly Op[]): number[] {
  const hv = createHypervisor({ arch: 'x86_64', seed, plugins: [kvmMmuPml({ variant })] });
  const vm = hv.createVm();
  if (manual) vm.enableManualDirtyLogProtect([1n], 0);
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 64n * MiB });
  const vcpu = vm.createVcpu(0);
  const layout: NestedLayout = { tablesBase: 8n * MiB, kernelBase: 16n * MiB, kernelBytes: 4n * MiB, l1Base: 20n * MiB, l2Bytes: 8n * MiB, perm: shuffledChunks(hv.sim.rng, 4) };
  const g = new GuestDriver(vcpu, layout, hv.sim.rng);
  if (!l1LaunchL2(vcpu, l1BuildEpt12(vcpu, layout, eptp12Ad), true)) throw new Error('VMLAUNCH failed');
  const harvest = (): void => {
    const bm = vm.getDirtyLog(0);
    if (manual) vm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: 16384, bitmap: bm });
    for (const p of bitmapPages(bm)) g.writtenL1.delete(p);
  };
  for (const o of ops) {
    const inL2 = vcpu.x86.guestMode;
    if (o.op === 'l2w') {
      if (!inL2) g.resumeL2();
      g.l2Write(BigInt(o.page), true);
    } else if (o.op === 'l1w') {
      if (inL2) g.exitToL1();
      for (let i = 0; i < o.n; i++) g.l1WriteKernel();
    } else if (o.op === 'exit') {
      if (inL2) g.exitToL1();
    } else if (o.op === 'resume') {
      if (!inL2) g.resumeL2();
    } else if (o.op === 'invept') {
      if (inL2) g.exitToL1();
      invept(vcpu);
    } else {
      harvest();
    }
  }
  harvest();
  return [...g.writtenL1];
}

const runs = (n: number): number => (SOAK ? n * 10 : n);

describe('dirty-log invariants (property)', () => {
  it('merged: no written L1 page is ever missing from the harvested bitmaps (nested workloads, GET/CLEAR, INVEPT)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 30 }), fc.boolean(), fc.boolean(), fc.array(opArb, { maxLength: 60 }), (seed, manual, ad, ops) => {
        expect(missedPages('merged', seed, manual, ad, ops)).toEqual([]);
      }),
      { numRuns: runs(150) },
    );
  }, 60_000);

  it('pre-fix: the same property finds L2 writes the dirty log misses', () => {
    const r = fc.check(
      fc.property(
        fc.integer({ min: 0, max: 1 << 30 }),
        fc.array(opArbFor(fc.integer({ min: 0, max: 3 })), { minLength: 8, maxLength: 40 }),
        (seed, ops) => missedPages('pre-fix', seed, false, true, ops).length === 0,
      ),
      { numRuns: 200, seed: 42 },
    );
    expect(r.failed).toBe(true);
  });

  it('merged: the migrated memory equals the source for every seed (≥ 200 seeds)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 << 30 }),
        fc.constantFrom('nested' as const, 'plain' as const),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1_000, max: 20_000 }),
        fc.integer({ min: 100, max: 400 }),
        fc.boolean(),
        fc.boolean(),
        (seed, workload, wssMiB, writesPerSec, bandwidthMBps, tdpForL2, enablePml) => {
          const r = runMigration({
            variant: 'merged', seed, workload, l1MiB: 32, l2MiB: 8, wssMiB, hotMiB: Math.min(1, wssMiB), hotFraction: 0.8,
            writesPerSec, l1WritesPerSec: 2000, bandwidthMBps, downtimeMs: 300, maxRounds: 10,
            enablePml, eptAd: true, eptp12Ad: true, tdpForL2,
          });
          expect(r.precopy.pagesLost).toBe(0);
        },
      ),
      { numRuns: runs(200) },
    );
  }, 120_000);
});
