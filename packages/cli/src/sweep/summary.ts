/**
 * The sweep summary, computed from the plan and the runs in grid order only — nothing about
 * shards, workers or wall time — so the summary of merged shards is byte-identical to the
 * unsharded sweep's. Per cell (variant × --set combination): how many runs reproduced the bug,
 * min / median / p99 / max of every numeric figure (nearest rank: each is a measured value),
 * and the worst runs with the command that reproduces each.
 */
import { SCHEMA_VERSION } from '../json-output.js';
import type { RunLine } from './line.js';
import { seedCount } from './seeds.js';
import { cellIndex, gridSize, setOf, type OptionValue, type SweepPlan } from './plan.js';

export interface FigureStats {
  readonly label: string;
  readonly unit?: string;
  /** Runs that reported this figure as a number. */
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p99: number;
  readonly max: number;
}

/** Where a run is and how to replay it: the fields of its line that the summary repeats. */
type RunRef = Pick<RunLine, 'index' | 'seed' | 'status' | 'command'>;

export interface WorstRun extends RunRef {
  readonly verdict: string | null;
  readonly headline: string;
}

export interface SweepFailure extends RunRef {
  readonly variant: string;
  readonly error: string;
}

export interface CellSummary {
  readonly variant: string;
  readonly set: Readonly<Record<string, OptionValue>>;
  readonly runs: number;
  /** Runs with a result, and by verdict. */
  readonly done: number;
  readonly verdicts: Readonly<Record<string, number>>;
  readonly crashed: number;
  readonly killed: number;
  /** bug-reproduced / done (0 when nothing finished). */
  readonly bugRate: number;
  readonly headline: string;
  readonly figures: readonly FigureStats[];
  readonly worst: readonly WorstRun[];
}

/** The plan's fields the summary repeats (its JSON keeps them in build()'s order). */
type PlanEcho = Pick<SweepPlan, 'kvmlabVersion' | 'scenario' | 'package' | 'arch' | 'randomize' | 'distributions' | 'set'>;

export interface SweepSummary extends PlanEcho {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly kind: 'sweep-summary';
  readonly seeds: number;
  readonly gridRuns: number;
  /** Runs recorded (less than gridRuns for a shard, or a sweep still under way). */
  readonly recorded: number;
  readonly cells: readonly CellSummary[];
  /** Every crashed or killed run (index order), with its seed and command. */
  readonly failures: readonly SweepFailure[];
}

const VERDICT_RANK: Readonly<Record<string, number>> = { fail: 3, 'bug-reproduced': 2, ok: 1, pass: 1 };

interface Acc {
  variant: string;
  set: Readonly<Record<string, OptionValue>>;
  runs: number;
  verdicts: Record<string, number>;
  crashed: number;
  killed: number;
  headline: string;
  figures: Map<string, { unit: string | undefined; values: number[] }>;
  worst: { key: readonly number[]; run: WorstRun }[];
}

/** Sort key of a run's badness: killed/crashed, then verdict, then numeric headline; earlier index on ties. */
function badness(l: RunLine): readonly number[] {
  if (l.result === undefined) return [2, 0, 0];
  const h = l.result.headline.value;
  return [l.status === 'done' ? 0 : 1, VERDICT_RANK[l.result.verdict] ?? 0, typeof h === 'number' ? h : 0];
}

const worse = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
};

/** Nearest-rank percentile of sorted values. */
const rank = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

export class SummaryBuilder {
  /** By cell index (plan.ts): sorted, they are in the plan's order. */
  private readonly cells = new Map<number, Acc>();
  private readonly failures: SweepFailure[] = [];
  private recorded = 0;

  constructor(private readonly plan: SweepPlan) {}

  /** Lines must come in grid order (ties in the worst list go to the earlier run). */
  add(l: RunLine): void {
    this.recorded++;
    const set = setOf(this.plan, l.options);
    const key = cellIndex(this.plan, l.variant, set);
    let c = this.cells.get(key);
    if (c === undefined) {
      c = { variant: l.variant, set, runs: 0, verdicts: {}, crashed: 0, killed: 0, headline: '', figures: new Map(), worst: [] };
      this.cells.set(key, c);
    }
    c.runs++;
    if (l.status === 'crashed') c.crashed++;
    if (l.status === 'killed') c.killed++;
    if (l.status !== 'done') this.failures.push({ index: l.index, seed: l.seed, variant: l.variant, status: l.status, error: l.error ?? '', command: l.command });
    const r = l.result;
    if (r !== undefined) {
      c.verdicts[r.verdict] = (c.verdicts[r.verdict] ?? 0) + 1;
      if (c.headline === '') c.headline = r.headline.label;
      // The headline is usually one of the figures too: count it once.
      const figs = r.figures.some((g) => g.label === r.headline.label) ? r.figures : [r.headline, ...r.figures];
      for (const f of figs) {
        if (typeof f.value !== 'number' || !Number.isFinite(f.value)) continue;
        let s = c.figures.get(f.label);
        if (s === undefined) {
          s = { unit: f.unit, values: [] };
          c.figures.set(f.label, s);
        }
        s.values.push(f.value);
      }
    }
    const key2 = badness(l);
    const h = r?.headline;
    const run: WorstRun = {
      index: l.index,
      seed: l.seed,
      status: l.status,
      verdict: r?.verdict ?? null,
      headline: h !== undefined ? `${h.label}: ${h.value}${h.unit !== undefined ? ` ${h.unit}` : ''}` : (l.error ?? ''),
      command: l.command,
    };
    const pos = c.worst.findIndex((w) => worse(key2, w.key));
    if (pos >= 0) c.worst.splice(pos, 0, { key: key2, run });
    else c.worst.push({ key: key2, run });
    if (c.worst.length > this.plan.worst) c.worst.length = this.plan.worst;
  }

  build(): SweepSummary {
    const p = this.plan;
    // Cells in the plan's order: --set combinations, then variants.
    const cells = [...this.cells].sort(([a], [b]) => a - b).map(([, c]): CellSummary => {
      const done = Object.values(c.verdicts).reduce((x, y) => x + y, 0);
      return {
        variant: c.variant,
        set: c.set,
        runs: c.runs,
        done,
        verdicts: Object.fromEntries(Object.entries(c.verdicts).sort(([a], [b]) => a.localeCompare(b))),
        crashed: c.crashed,
        killed: c.killed,
        bugRate: done === 0 ? 0 : (c.verdicts['bug-reproduced'] ?? 0) / done,
        headline: c.headline,
        figures: [...c.figures].map(([label, s]) => {
          const v = [...s.values].sort((x, y) => x - y);
          return { label, ...(s.unit !== undefined ? { unit: s.unit } : {}), n: v.length, min: v[0] ?? NaN, median: v.length ? rank(v, 50) : NaN, p99: v.length ? rank(v, 99) : NaN, max: v[v.length - 1] ?? NaN };
        }).filter((f) => f.n > 0),
        worst: c.worst.map((w) => w.run),
      };
    });
    return {
      schemaVersion: SCHEMA_VERSION,
      kind: 'sweep-summary',
      kvmlabVersion: p.kvmlabVersion,
      scenario: p.scenario,
      package: p.package,
      arch: p.arch,
      seeds: seedCount(p.seeds),
      gridRuns: gridSize(p),
      recorded: this.recorded,
      randomize: p.randomize,
      distributions: p.distributions,
      set: p.set,
      cells,
      failures: this.failures,
    };
  }
}
