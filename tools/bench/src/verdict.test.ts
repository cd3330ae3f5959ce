import { describe, expect, it } from 'vitest';
import { pairedRatio, verdictOf } from './paired.js';
import { verdictOfRepeated } from './repeated.js';

const atMost2 = (x: number): boolean => x <= 2;

describe('verdicts that hold on a noisy machine', () => {
  it('a narrow spread is judged by its median, on either side of the target', () => {
    expect(verdictOf({ median: 1.5, min: 1.4, max: 1.6 }, atMost2)).toBe('met');
    expect(verdictOf({ median: 2.5, min: 2.4, max: 2.6 }, atMost2)).toBe('missed');
    expect(verdictOf({ median: 2.1, min: 1.9, max: 2.3 }, atMost2)).toBe('missed'); // straddles, but within 1.5×
  });

  it('a wide spread on one side of the target keeps its verdict: no pair could change it', () => {
    expect(verdictOf({ median: 0.5, min: 0.3, max: 1.2 }, atMost2)).toBe('met');
    expect(verdictOf({ median: 100, min: 90, max: 180 }, atMost2)).toBe('missed');
    expect(verdictOfRepeated({ median: 0.04, min: 0.03, max: 0.06, reps: 3 }, (s) => s <= 0.5)).toBe('met');
  });

  it('a wide spread across the target is noisy: the best pair meets it, the worst does not', () => {
    expect(verdictOf({ median: 1.9, min: 1.2, max: 2.4 }, atMost2)).toBe('noisy');
    expect(verdictOf({ median: 1.9, min: 1.5, max: 2.3 }, atMost2, 1.5)).toBe('noisy');
    expect(verdictOf({ median: 1.9, min: 1.6, max: 2.3 }, atMost2, 1.5)).toBe('met'); // 1.44×: within the bound
    expect(verdictOfRepeated({ median: 3.1, min: 2.5, max: 4.0, reps: 3 }, (s) => s <= 3)).toBe('noisy');
    expect(verdictOfRepeated({ median: 3.1, min: 2.9, max: 3.3, reps: 3 }, (s) => s <= 3)).toBe('missed');
  });
});

describe('pairedRatio reports the figure side’s own spread', () => {
  const spin = (ms: number) => (): void => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  it('b is the median, min and max of B’s per-call time over the pairs (for targets on B’s time)', async () => {
    const r = await pairedRatio('spin', spin(0.02), spin(0.2), { reps: 3, timeMs: 15, warmupMs: 5 });
    expect(r.b.median).toBe(r.bMs);
    expect(r.b.min).toBeLessThanOrEqual(r.b.median);
    expect(r.b.max).toBeGreaterThanOrEqual(r.b.median);
    // a 0.2 ms spin is never timed below 0.2 ms, and it is B's time, not A's (0.02 ms)
    expect(r.b.min).toBeGreaterThanOrEqual(0.2);
    expect(r.aMs).toBeLessThan(r.b.min);
  });
});

describe('pairedRatio holds through the machine’s slow phases', () => {
  // A machine whose speed flips every second (4× slower in every other phase), longer than the
  // 300 ms each side gets per pair: one block per side could fall wholly in a fast phase and the
  // other in a slow one (a ratio of 0.5 or 8 for a true 2); chunks in turns see the same phases
  // but where a flip falls between two of them.
  // On a virtual clock, so that the test is about the pairing, not about this machine's load.
  const PHASE_MS = 1000;
  it('every pair’s ratio stays near the true one (2) when the speed changes between and within pairs', async () => {
    let t = 0;
    const work = (ms: number) => (): void => {
      t += ms * (Math.floor(t / PHASE_MS) % 2 === 0 ? 1 : 4);
    };
    const r = await pairedRatio('phases', work(0.05), work(0.1), { reps: 6, timeMs: 300, warmupMs: 5, now: () => t });
    expect(r.ratio.min).toBeGreaterThan(1.6);
    expect(r.ratio.max).toBeLessThan(2.5);
    // each side had its time in every pair: a per-call time, not a block's
    expect(r.aMs).toBeGreaterThanOrEqual(0.05);
    expect(r.aMs).toBeLessThanOrEqual(0.2);
  });
});
