/**
 * Randomised workloads for sweeps (`kvmlab sweep --randomize`): a scenario may declare, next to
 * its options, how to draw each run's workload parameters from the run's seed. The draws come
 * from the hypervisor's own PRNG class (pure-rand's xoroshiro128+), on a stream forked from the
 * seed, so the same seed gives the same workload on every machine and for every variant — a
 * pre-fix and a merged run of one seed face the identical workload.
 *
 * Each distribution is data with its own description, so what a scenario documents (`kvmlab
 * list`, the README) is exactly what it draws.
 */
import { Rng } from './sim/rng.js';

export type RandomValue = number | boolean | string;

/** One option's distribution: a description for people, and the draw. */
export interface Distribution<T extends RandomValue = RandomValue> {
  /** e.g. "log-uniform integer in [2, 64]". */
  readonly text: string;
  draw(rng: Rng, drawn: Readonly<Record<string, RandomValue>>): T;
}

/**
 * What ScenarioDef.randomize holds: one distribution per randomised option, drawn in the
 * object's key order (a later one may depend on earlier draws, e.g. hotMiB ≤ wssMiB).
 * Options not listed keep their defaults (or the value a sweep's --set gives).
 */
export type ScenarioRandomize = Readonly<Record<string, Distribution>>;

/** Uniform integer in [a, b], both included. */
export const uniformInt = (a: number, b: number): Distribution<number> => ({
  text: `uniform integer in [${a}, ${b}]`,
  draw: (rng) => rng.int(a, b),
});

/** Uniform real in [a, b), rounded to `digits` decimals (so the value prints exactly). */
export const uniformReal = (a: number, b: number, digits = 3): Distribution<number> => ({
  text: `uniform in [${a}, ${b}), ${digits} decimals`,
  draw: (rng) => roundTo(rng.uniform(a, b), digits),
});

/** Log-uniform in [a, b] (each factor of 2 as likely), rounded to an integer. */
export const logUniformInt = (a: number, b: number): Distribution<number> => ({
  text: `log-uniform integer in [${a}, ${b}]`,
  draw: (rng) => Math.min(b, Math.max(a, Math.round(Math.exp(rng.uniform(Math.log(a), Math.log(b)))))),
});

/** Log-uniform in [a, b], rounded to `digits` significant digits. */
export const logUniform = (a: number, b: number, digits = 3): Distribution<number> => ({
  text: `log-uniform in [${a}, ${b}], ${digits} significant digits`,
  draw: (rng) => Math.min(b, Math.max(a, Number(Math.exp(rng.uniform(Math.log(a), Math.log(b))).toPrecision(digits)))),
});

/** One of the values, each equally likely. */
export const oneOf = <T extends string | number>(values: readonly T[]): Distribution<T> => ({
  text: `one of ${values.join(', ')} (equally likely)`,
  draw: (rng) => rng.pick(values),
});

/** true with probability p. */
export const bernoulli = (p: number): Distribution<boolean> => ({
  text: `true with probability ${p}`,
  draw: (rng) => rng.chance(p),
});

/** A distribution whose bounds depend on earlier draws; `text` says how. */
export const dependent = <T extends RandomValue>(text: string, draw: (rng: Rng, drawn: Readonly<Record<string, RandomValue>>) => T): Distribution<T> => ({ text, draw });

function roundTo(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Salt mixed into the seed for the workload stream, so it never replays the simulation's own
 * stream (which starts from the bare seed).
 */
const WORKLOAD_STREAM_SALT = 0x5eed_5eedn;

/** Draws every randomised option of one run from its seed (key order; same seed ⇒ same values). */
export function drawRandomized(randomize: ScenarioRandomize, seed: number): Readonly<Record<string, RandomValue>> {
  const mixed = Number((BigInt(seed) * 0x9e37_79b9n + WORKLOAD_STREAM_SALT) % 0x1_0000_0000_0000n);
  const rng = new Rng(mixed).fork();
  const drawn: Record<string, RandomValue> = {};
  for (const [option, d] of Object.entries(randomize)) drawn[option] = d.draw(rng, drawn);
  return drawn;
}

/** `option: distribution` lines, for help texts and READMEs. */
export function describeRandomize(randomize: ScenarioRandomize): readonly string[] {
  return Object.entries(randomize).map(([option, d]) => `${option}: ${d.text}`);
}
