/**
 * A sweep's plan: the grid seeds × `--set` value combinations × variants, in one fixed order,
 * so run i is the same run on every machine. The plan is what sweep.json stores; a resumed
 * sweep or a shard must have the same plan, and merge checks that all shards do.
 *
 * Grid order: seed outermost, then the --set combination (last option fastest), then the
 * variant — the variants of one seed and workload sit next to each other.
 */
import type { Arch } from '@kvmlab/hypervisor-core';
import { UsageError } from '../errors.js';
import { seedAt, seedCount, type SeedRange } from './seeds.js';

export type OptionValue = number | boolean | string;

export interface SetAxis {
  /** The scenario's option name (camelCase, as in `kvmlab list --json`). */
  readonly option: string;
  readonly values: readonly OptionValue[];
}

export interface SweepPlan {
  readonly kvmlabVersion: string;
  readonly scenario: string;
  readonly package: string;
  readonly arch: Arch;
  readonly variants: readonly string[];
  readonly seeds: readonly SeedRange[];
  readonly set: readonly SetAxis[];
  /** Workloads drawn from each run's seed (ScenarioDef.randomize). */
  readonly randomize: boolean;
  /** The distributions drawn (`option: text`), when randomize. */
  readonly distributions: Readonly<Record<string, string>>;
  /** Lines without each result's series and details. */
  readonly compact: boolean;
  /** Worst runs listed per cell in the summary. */
  readonly worst: number;
}

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export interface GridRun {
  readonly index: number;
  readonly seed: number;
  readonly variant: string;
  /** This run's --set values (option → value). */
  readonly set: Readonly<Record<string, OptionValue>>;
}

export const combinationCount = (plan: Pick<SweepPlan, 'set'>): number => plan.set.reduce((n, a) => n * a.values.length, 1);

/**
 * A cell is one variant × --set combination (what the summary reports on): cell k of the grid
 * is combination ⌊k / variants⌋ and variant k mod variants, so run i is in cell i mod cells.
 */
export const cellCount = (plan: Pick<SweepPlan, 'set' | 'variants'>): number => combinationCount(plan) * plan.variants.length;

export const gridSize = (plan: Pick<SweepPlan, 'set' | 'seeds' | 'variants'>): number => seedCount(plan.seeds) * cellCount(plan);

/** The c-th --set combination (last axis fastest). */
export function combinationAt(plan: Pick<SweepPlan, 'set'>, c: number): Readonly<Record<string, OptionValue>> {
  const out: Record<string, OptionValue> = {};
  let k = c;
  for (let a = plan.set.length - 1; a >= 0; a--) {
    const axis = plan.set[a]!;
    out[axis.option] = axis.values[k % axis.values.length]!;
    k = Math.floor(k / axis.values.length);
  }
  // Key order = the axes' order, whatever order they were filled in.
  return Object.fromEntries(plan.set.map((axis) => [axis.option, out[axis.option]!]));
}

/** The cell of a variant and a --set combination (the inverse of gridRunAt's split). */
export function cellIndex(plan: Pick<SweepPlan, 'set' | 'variants'>, variant: string, set: Readonly<Record<string, OptionValue>>): number {
  let combo = 0;
  for (const axis of plan.set) combo = combo * axis.values.length + axis.values.indexOf(set[axis.option]!);
  return combo * plan.variants.length + plan.variants.indexOf(variant);
}

/** A run's --set values, from all its options (key order = the axes' order). */
export const setOf = (plan: Pick<SweepPlan, 'set'>, options: Readonly<Record<string, OptionValue>>): Readonly<Record<string, OptionValue>> =>
  Object.fromEntries(plan.set.map((a) => [a.option, options[a.option]!]));

export function gridRunAt(plan: SweepPlan, index: number): GridRun {
  const v = plan.variants.length;
  const cells = cellCount(plan);
  const cell = index % cells;
  return {
    index,
    seed: seedAt(plan.seeds, Math.floor(index / cells)),
    set: combinationAt(plan, Math.floor(cell / v)),
    variant: plan.variants[cell % v]!,
  };
}

/** `--shard i/N`: 0 ≤ i < N (Kubernetes' JOB_COMPLETION_INDEX and `--array=0-(N-1)` in Slurm count from 0). */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) throw new UsageError(`option --shard must be i/N (e.g. 0/4), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`option --shard ${text}: need 0 ≤ i < N`);
  return { index, count };
}

/** Shard i of N takes runs i, i+N, i+2N, … (round robin over the grid; with N prime to the number of variants every shard gets every variant). */
export function* shardIndices(total: number, shard: Shard | undefined): Generator<number> {
  const step = shard?.count ?? 1;
  for (let i = shard?.index ?? 0; i < total; i += step) yield i;
}

export const shardSize = (total: number, shard: Shard | undefined): number =>
  shard === undefined ? total : Math.max(0, Math.ceil((total - shard.index) / shard.count));

/** The plan's identity for comparisons (resume, merge): stable JSON. */
export const planKey = (plan: SweepPlan): string => JSON.stringify(plan);
