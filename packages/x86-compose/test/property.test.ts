/**
 * With both fixes, for random subject schedules (work lengths, wake periods), write patterns,
 * vCPU counts and migration timings (start, bandwidth, downtime budget): the destination's
 * memory equals the source's at the stop, page by page, and every subject's vmcs12.GUEST_CR3 on
 * the destination is architectural — right after the restore and after the destination ran.
 */
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { DEFAULT_MIGRATION, runMuenMigration } from '../src/index.js';

const arbitrary = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  cr3: fc.constantFrom('rfc-muen' as const, 'merged' as const),
  vcpus: fc.integer({ min: 1, max: 3 }),
  lo: fc.double({ min: 0.05, max: 0.5, noNaN: true }),
  span: fc.double({ min: 0.05, max: 0.6, noNaN: true }),
  writeChance: fc.double({ min: 0, max: 1, noNaN: true }),
  startMs: fc.double({ min: 0, max: 6, noNaN: true }),
  bandwidthMBps: fc.integer({ min: 20, max: 2000 }),
  downtimeMs: fc.constantFrom(0.05, 1, 300),
  irqPerMs: fc.constantFrom(0, 2, 8),
});

test.prop([arbitrary], { numRuns: 25, seed: 20190926 })('both fixed: destination memory = source memory, every CR3 architectural', (a) => {
  const r = runMuenMigration({
    ...DEFAULT_MIGRATION, pml: 'merged', cr3: a.cr3, seed: a.seed, vcpus: a.vcpus, startMs: a.startMs, bandwidthMBps: a.bandwidthMBps,
    downtimeMs: a.downtimeMs, irqPerMs: a.irqPerMs, destFrames: 30, workload: { workFraction: [a.lo, a.lo + a.span], writeChance: a.writeChance },
  });
  expect(r.memoryDiff).toEqual([]);
  expect(r.precopy.pagesLost).toBe(0);
  expect(r.destCr3WrongAtRestore).toEqual([]);
  expect(r.destCr3WrongAtEnd).toEqual([]);
  expect(r.source.corruptions).toEqual([]);
  expect(r.destination.corruptions).toEqual([]);
  expect(r.saved).toHaveLength(a.vcpus);
});

test.prop([arbitrary], { numRuns: 10, seed: 926 })('pre-fix PML: whatever is lost, Precopy\'s comparison and the whole-slot diff agree', (a) => {
  const r = runMuenMigration({
    ...DEFAULT_MIGRATION, pml: 'pre-fix', cr3: a.cr3, seed: a.seed, vcpus: a.vcpus, startMs: a.startMs, bandwidthMBps: a.bandwidthMBps,
    downtimeMs: a.downtimeMs, irqPerMs: a.irqPerMs, destFrames: 10, workload: { workFraction: [a.lo, a.lo + a.span], writeChance: a.writeChance },
  });
  expect(r.memoryDiff.length).toBe(r.precopy.pagesLost);
  expect(r.memoryDiff.slice(0, 32)).toEqual(r.precopy.lostGfns.slice().sort((x, y) => x - y));
});
