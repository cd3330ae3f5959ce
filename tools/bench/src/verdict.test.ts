import { describe, expect, it } from 'vitest';
import { verdictOf } from './paired.js';
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
