/**
 * The one seeded PRNG of a hypervisor. The generator is pure-rand's xoroshiro128+ (a well-kept
 * library, not a hand-written generator); this file only adds the distributions latency
 * models need. Same seed ⇒ same sequence, on every machine.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformBigInt } from 'pure-rand/distribution/uniformBigInt';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

export class Rng {
  readonly seed: number;
  private readonly gen: JumpableRandomGenerator;
  private spareNormal: number | undefined;

  constructor(seed: number, gen?: JumpableRandomGenerator) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    this.seed = seed;
    this.gen = gen ?? xoroshiro128plus(seed);
  }

  /** An independent stream: a copy of this generator jumped 2^64 steps ahead. */
  fork(): Rng {
    const g = this.gen.clone() as JumpableRandomGenerator;
    g.jump();
    this.gen.jump();
    this.gen.jump();
    return new Rng(this.seed, g);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform real in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** Uniform integer in [a, b], both included. */
  int(a: number, b: number): number {
    return uniformInt(this.gen, a, b);
  }

  /** Uniform bigint in [a, b], both included. */
  bigint(a: bigint, b: bigint): bigint {
    return uniformBigInt(this.gen, a, b);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Normal(mean, sd), Box–Muller (both values of a pair are used). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + sd * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal: exp(Normal(mu, sigma)); mu and sigma are of the underlying normal. */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }

  /** Log-normal given the median and the geometric standard deviation (≥ 1). */
  lognormalMedian(median: number, gsd: number): number {
    return this.lognormal(Math.log(median), Math.log(gsd));
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Picks one element uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }
}

/** A latency distribution in ns, as scenario options describe one. */
export type Latency =
  | { readonly kind: 'fixed'; readonly ns: number }
  | { readonly kind: 'uniform'; readonly minNs: number; readonly maxNs: number }
  | { readonly kind: 'normal'; readonly meanNs: number; readonly sdNs: number }
  | { readonly kind: 'lognormal'; readonly medianNs: number; readonly gsd: number }
  | { readonly kind: 'exponential'; readonly meanNs: number };

/** Draws one latency, rounded to whole ns and never negative. */
export function drawLatency(rng: Rng, l: Latency): bigint {
  let v: number;
  switch (l.kind) {
    case 'fixed':
      v = l.ns;
      break;
    case 'uniform':
      v = rng.uniform(l.minNs, l.maxNs);
      break;
    case 'normal':
      v = rng.normal(l.meanNs, l.sdNs);
      break;
    case 'lognormal':
      v = rng.lognormalMedian(l.medianNs, l.gsd);
      break;
    case 'exponential':
      v = rng.exponential(l.meanNs);
      break;
  }
  return BigInt(Math.max(0, Math.round(v)));
}
