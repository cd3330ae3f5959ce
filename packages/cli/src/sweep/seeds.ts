/**
 * `--seeds`: `0..999`, `7`, `1,5,9` or a mix (`0..9,100..109`). Kept as sorted, disjoint,
 * inclusive ranges, so a 10⁶-seed sweep's plan stays a few bytes.
 */
import { UsageError } from '../errors.js';

export type SeedRange = readonly [from: number, to: number];

const MAX_SEED = 0xffff_ffff;

export function parseSeeds(text: string): readonly SeedRange[] {
  const parts = text.split(',').map((p) => p.trim());
  const ranges: [number, number][] = [];
  for (const p of parts) {
    const m = /^(\d+)(?:\.\.(\d+))?$/.exec(p);
    if (m === null) throw new UsageError(`option --seeds: "${p}" is not a seed or a range a..b (e.g. 0..999)`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > MAX_SEED || to > MAX_SEED) throw new UsageError(`option --seeds: "${p}" is beyond the largest seed ${MAX_SEED}`);
    if (to < from) throw new UsageError(`option --seeds: range "${p}" runs backwards`);
    ranges.push([from, to]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

export const seedCount = (ranges: readonly SeedRange[]): number => ranges.reduce((n, [a, b]) => n + b - a + 1, 0);

/** The i-th seed (0-based) of the ranges. */
export function seedAt(ranges: readonly SeedRange[], i: number): number {
  let k = i;
  for (const [a, b] of ranges) {
    const n = b - a + 1;
    if (k < n) return a + k;
    k -= n;
  }
  throw new RangeError(`seed index ${i} out of range`);
}

/** Canonical text, e.g. `0..999` or `0..9,100..109`. */
export const seedsText = (ranges: readonly SeedRange[]): string => ranges.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`)).join(',');
