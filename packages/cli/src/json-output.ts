/**
 * The `--json` output: one documented schema (zod, so tests and users can validate it), with a
 * `schemaVersion`. No bigint reaches JSON (the scenario contract keeps results bigint-free;
 * anything that slips through becomes a decimal string) and nothing depends on the wall clock,
 * so the same seed prints byte-identical JSON.
 */
import type { ScenarioResult } from '@kvmlab/hypervisor-core';
import { z } from 'zod';

/** Bumped on any incompatible change to the shapes below. */
export const SCHEMA_VERSION = 1;

const scalar = z.union([z.number(), z.string(), z.boolean()]);

export const figureJson = z.object({
  label: z.string(),
  value: z.union([z.number(), z.string(), z.null()]),
  unit: z.string().optional(),
});

export const seriesJson = z.object({
  name: z.string(),
  title: z.string(),
  xLabel: z.string(),
  yLabel: z.string(),
  x: z.array(z.number().nullable()),
  y: z.record(z.string(), z.array(z.number().nullable())),
  caption: z.string(),
  kind: z.enum(['line', 'bar', 'scatter']).optional(),
}).refine((s) => Object.values(s.y).every((col) => col.length === s.x.length), { error: 'every y column must have one value per x' });

/** The CLI's verdict words (verdicts.ts): a scenario's 'pass' is printed as 'ok'. */
export const verdictJson = z.enum(['bug-reproduced', 'ok', 'fail']);

export const resultJson = z.object({
  scenario: z.string(),
  package: z.string(),
  arch: z.enum(['arm64', 'x86_64']),
  variant: z.string(),
  /** A scenario with variant axes: each axis's variant in this cell (absent otherwise). */
  variants: z.record(z.string(), z.string()).optional(),
  seed: z.number().int(),
  options: z.record(z.string(), scalar),
  verdict: verdictJson,
  summary: z.string(),
  headline: figureJson,
  figures: z.array(figureJson),
  series: z.array(seriesJson),
  details: z.record(z.string(), z.unknown()),
  /** Trace events recorded (only when a trace was asked for), else absent. */
  traceEvents: z.number().int().optional(),
});
export type ResultJson = z.infer<typeof resultJson>;

export const runErrorJson = z.object({
  scenario: z.string(),
  arch: z.string(),
  variant: z.string(),
  message: z.string(),
});

export const runOutputJson = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('run'),
  kvmlabVersion: z.string(),
  result: resultJson,
});

export const demoOutputJson = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('demo'),
  kvmlabVersion: z.string(),
  seed: z.number().int(),
  results: z.array(resultJson),
  errors: z.array(runErrorJson),
});

/** One variant axis: a plugin's variants (pre-fix first), or `variant` for a single-axis scenario. */
export const axisJson = z.object({ name: z.string(), values: z.array(z.string()) });

/** One cell of a matrix: what the grid shows, without the series and details. */
export const matrixCellJson = z.object({
  variant: z.string(),
  /** The cell's variant on every axis (`{ variant: name }` for a single-axis scenario). */
  variants: z.record(z.string(), z.string()),
  verdict: verdictJson,
  headline: figureJson,
  /** The scenario's matrixFigures in its order (value null when a result lacks one). */
  figures: z.array(figureJson),
});
export type MatrixCellJson = z.infer<typeof matrixCellJson>;

/**
 * `run --variant all --json`: every variant of one scenario. With two axes `cells` is the grid
 * (cells[r][c] = rows axis value r, columns axis value c); otherwise one row per variant.
 */
export const matrixOutputJson = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('matrix'),
  kvmlabVersion: z.string(),
  scenario: z.string(),
  package: z.string(),
  arch: z.enum(['arm64', 'x86_64']),
  seed: z.number().int(),
  axes: z.array(axisJson),
  rows: z.string().optional(),
  columns: z.string().optional(),
  cells: z.array(z.array(matrixCellJson)),
  /** Every variant's full result (as `run --json` prints it), in the scenario's variant order. */
  results: z.array(resultJson),
});
export type MatrixOutputJson = z.infer<typeof matrixOutputJson>;

export const optionSpecJson = z.discriminatedUnion('type', [
  z.object({ type: z.literal('number'), default: z.number(), min: z.number().optional(), max: z.number().optional(), integer: z.boolean().optional(), unit: z.string().optional(), description: z.string() }),
  z.object({ type: z.literal('boolean'), default: z.boolean(), description: z.string() }),
  z.object({ type: z.literal('enum'), default: z.string(), values: z.array(z.string()), description: z.string() }),
]);

export const listOutputJson = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('list'),
  scenarios: z.array(z.object({
    name: z.string(),
    description: z.string(),
    definitions: z.array(z.object({
      package: z.string(),
      arches: z.array(z.string()),
      variants: z.array(z.string()),
      defaultVariant: z.string(),
      /** Only for a scenario with variant axes (then `variants` lists every cell's name). */
      variantAxes: z.array(axisJson).optional(),
      matrixFigures: z.array(z.string()).optional(),
      options: z.record(z.string(), optionSpecJson),
    })),
  })),
});

export const capsOutputJson = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('caps'),
  arch: z.enum(['arm64', 'x86_64']),
  plugins: z.array(z.string()),
  capabilities: z.array(z.object({ cap: z.number().int(), name: z.string(), system: z.number(), vm: z.number(), owner: z.string().nullable() })),
  hypercalls: z.array(z.object({ id: z.string(), name: z.string(), owner: z.string() })),
  discovery: z.array(z.object({ probe: z.string(), result: z.string(), meaning: z.string() })),
  nestedVmx: z.object({
    params: z.object({ ept: z.boolean(), unrestrictedGuest: z.boolean(), eptAd: z.boolean(), pml: z.boolean(), vpid: z.boolean() }),
    hooks: z.array(z.object({ hook: z.string(), kind: z.enum(['default', 'optional']), owner: z.string().nullable(), models: z.string() })),
  }).nullable(),
});

export const affectedOutputJson = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('affected'),
  kernel: z.string(),
  backports: z.array(z.string()),
  rows: z.array(z.object({
    id: z.string(),
    kind: z.enum(['fix', 'feature']),
    title: z.string(),
    short: z.string(),
    arch: z.string(),
    since: z.string(),
    status: z.enum(['vulnerable', 'not-affected', 'unknown', 'present', 'absent']),
    statusText: z.string(),
    reason: z.string(),
    variant: z.string().nullable(),
    scenarios: z.array(z.string()),
    source: z.string(),
  })),
  runs: z.array(z.object({
    scenario: z.string(),
    arch: z.string(),
    variant: z.string(),
    verdict: z.string(),
    summary: z.string(),
    headline: z.string(),
  })).optional(),
});

/** `kvmlab conform --json`: @kvmlab/linux-kvm's ConformanceReport plus the model's plugins. */
export const conformOutputJson = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  kind: z.literal('conform'),
  plugins: z.array(z.string()),
  uname: z.string(),
  source: z.enum(['live', 'fixture']),
  era: z.record(z.string(), z.unknown()),
  rows: z.array(z.object({
    script: z.string(),
    index: z.number().int(),
    step: z.string(),
    kernel: z.string(),
    model: z.string(),
    match: z.enum(['yes', 'no', 'era']),
    era: z.string().optional(),
  })),
  counts: z.object({ steps: z.number().int(), match: z.number().int(), era: z.number().int(), mismatch: z.number().int() }),
  recordedTo: z.string().optional(),
});

/** Any `--json` document the CLI prints. */
export const cliOutputJson = z.discriminatedUnion('kind', [runOutputJson, matrixOutputJson, demoOutputJson, listOutputJson, capsOutputJson, affectedOutputJson, conformOutputJson]);

/** JSON text (2-space indent, trailing newline); bigint → decimal string, non-finite → null. */
export function stringifyJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

/** The JSON form of one result (the trace is written separately with --trace). */
export function resultToJson(r: ScenarioResult, pkg: string, options: Readonly<Record<string, number | boolean | string>>): ResultJson {
  const out: ResultJson = {
    scenario: r.scenario,
    package: pkg,
    arch: r.arch,
    variant: r.variant,
    ...(r.variants !== undefined ? { variants: { ...r.variants } } : {}),
    seed: r.seed,
    options: { ...options },
    verdict: r.verdict === 'pass' ? 'ok' : r.verdict,
    summary: r.summary,
    headline: { ...r.headline },
    figures: r.figures.map((f) => ({ ...f })),
    series: r.series.map((s) => ({ ...s, x: [...s.x], y: Object.fromEntries(Object.entries(s.y).map(([k, v]) => [k, [...v]])) })),
    details: { ...r.details },
  };
  if (r.trace !== undefined) out.traceEvents = r.trace.length;
  // Round-trip so the object equals what a reader of the printed JSON gets.
  return JSON.parse(stringifyJson(out)) as ResultJson;
}
