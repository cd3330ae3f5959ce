import { describe, expect, it } from 'vitest';
import { Rng, drawLatency } from '../src/sim/rng.js';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]): number => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};
const sample = (n: number, f: () => number): number[] => Array.from({ length: n }, f);

describe('Rng distributions', () => {
  const N = 20_000;
  it('uniform, int and bigint stay in range', () => {
    const r = new Rng(7);
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform(5, 6);
      expect(u >= 5 && u < 6).toBe(true);
      const k = r.int(-3, 3);
      expect(k >= -3 && k <= 3 && Number.isInteger(k)).toBe(true);
      const b = r.bigint(1n << 62n, (1n << 62n) + 10n);
      expect(b >= 1n << 62n && b <= (1n << 62n) + 10n).toBe(true);
    }
  });

  it('normal has the requested mean and standard deviation', () => {
    const r = new Rng(1);
    const xs = sample(N, () => r.normal(100, 15));
    expect(mean(xs)).toBeCloseTo(100, 0);
    expect(Math.abs(sd(xs) - 15)).toBeLessThan(0.5);
  });

  it('lognormal has the requested median', () => {
    const r = new Rng(2);
    const xs = sample(N, () => r.lognormalMedian(500, 1.5)).sort((a, b) => a - b);
    expect(Math.abs(xs[N / 2]! - 500)).toBeLessThan(15);
    expect(xs[0]!).toBeGreaterThan(0);
  });

  it('exponential has the requested mean', () => {
    const r = new Rng(3);
    expect(Math.abs(mean(sample(N, () => r.exponential(200))) - 200)).toBeLessThan(6);
  });

  it('forks are independent streams, and reproducible', () => {
    const a = new Rng(9);
    const fa = a.fork();
    const b = new Rng(9);
    const fb = b.fork();
    const s1 = sample(5, () => fa.next());
    expect(sample(5, () => fb.next())).toEqual(s1);
    expect(sample(5, () => a.next())).not.toEqual(s1);
  });

  it('drawLatency rounds to whole non-negative ns', () => {
    const r = new Rng(4);
    expect(drawLatency(r, { kind: 'fixed', ns: 123.4 })).toBe(123n);
    for (let i = 0; i < 200; i++) expect(drawLatency(r, { kind: 'normal', meanNs: 1, sdNs: 50 }) >= 0n).toBe(true);
  });

  it('rejects unsafe seeds', () => {
    expect(() => new Rng(2 ** 60)).toThrow(RangeError);
  });
});
