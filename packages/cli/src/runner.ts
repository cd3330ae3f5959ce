/**
 * Runs scenarios for `run` and `demo`: checks the variant against the definition, runs it in
 * virtual time and returns the result with its JSON form.
 */
import type { Arch, ScenarioDef, ScenarioOptionValues, ScenarioResult } from '@kvmlab/hypervisor-core';
import type { ScenarioCatalog } from './catalog.js';
import { UsageError } from './errors.js';
import { releaseAfterRun } from './host/release-memory.js';
import { resultJson as resultSchema, resultToJson, type ResultJson } from './json-output.js';
import type { Progress } from './progress.js';
import { parseScenarioOptions } from './scenario-options.js';
import { runCellOf } from './variants.js';

export interface RunRequest {
  readonly def: ScenarioDef;
  readonly arch: Arch;
  readonly variant: string;
  readonly seed: number;
  readonly options: ScenarioOptionValues;
  readonly trace: boolean;
  readonly onProgress?: (fraction: number) => void;
}

export interface RunOutcome {
  readonly result: ScenarioResult;
  readonly json: ResultJson;
}

export function checkVariant(def: ScenarioDef, variant: string): void {
  if (!def.variants.includes(variant)) {
    throw new UsageError(`scenario ${def.name} has no variant "${variant}" (variants: ${def.variants.join(', ')})`);
  }
}

/**
 * A scenario with variant axes must say which cell ran: its result's `variant` is the cell's
 * name and its `variants` (if given) that cell. Returns the cell in axis order, for the JSON.
 */
function checkCell(def: ScenarioDef, requested: string, cell: Readonly<Record<string, string>>, result: ScenarioResult): Readonly<Record<string, string>> {
  const where = `scenario ${def.name} was asked for variant ${requested} but`;
  if (result.variant !== requested) throw new Error(`${where} its result says variant ${result.variant}`);
  const given = result.variants;
  if (given !== undefined && (Object.keys(given).length !== Object.keys(cell).length || Object.entries(cell).some(([a, v]) => given[a] !== v))) {
    throw new Error(`${where} its result says variants ${JSON.stringify(given)}`);
  }
  return cell;
}

export function runScenario(req: RunRequest): RunOutcome {
  checkVariant(req.def, req.variant);
  const cell = runCellOf(req.def, req.variant);
  const result = req.def.run({
    variant: req.variant,
    ...(cell !== undefined ? { variants: cell } : {}),
    arch: req.arch,
    seed: req.seed,
    options: req.options,
    trace: req.trace,
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
  });
  const reported = cell !== undefined ? { ...result, variants: checkCell(req.def, req.variant, cell, result) } : result;
  const json = resultToJson(reported, req.def.package, req.options);
  // A result outside the contract is the scenario's bug: say where, rather than print it.
  const check = resultSchema.safeParse(json);
  if (!check.success) {
    const issue = check.error.issues[0]!;
    throw new Error(`scenario ${req.def.name} returned a result outside the contract at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { result, json };
}

export interface DemoRun {
  readonly def: ScenarioDef;
  readonly arch: Arch;
  readonly variant: string;
}

/** Every scenario on every arch it runs on, in every variant (definition order: pre-fix first). */
export function demoPlan(catalog: ScenarioCatalog): readonly DemoRun[] {
  return catalog.entries().flatMap((e) => e.defs.flatMap((def) => def.arches.flatMap((arch) => def.variants.map((variant) => ({ def, arch, variant })))));
}

export interface DemoOutcome {
  readonly results: readonly ResultJson[];
  readonly errors: readonly { scenario: string; arch: string; variant: string; message: string }[];
}

/** Runs the demo plan with default options; a run that throws is recorded, the rest go on. */
export function runDemo(catalog: ScenarioCatalog, seed: number, progress: Progress): DemoOutcome {
  const plan = demoPlan(catalog);
  const results: ResultJson[] = [];
  const errors: { scenario: string; arch: string; variant: string; message: string }[] = [];
  plan.forEach((p, i) => {
    const label = `${p.def.name} ${p.arch} ${p.variant}`;
    progress.update(i / plan.length, label);
    try {
      const options = parseScenarioOptions(p.def, {});
      const { json } = runScenario({ ...p, seed, options, trace: false, onProgress: (f) => progress.update((i + f) / plan.length, label) });
      results.push(json);
    } catch (e) {
      errors.push({ scenario: p.def.name, arch: p.arch, variant: p.variant, message: e instanceof Error ? e.message : String(e) });
    }
    // The finished run's memory goes before the next run (or the report) allocates its own.
    releaseAfterRun(plan[i + 1]?.def === p.def);
  });
  progress.update(1);
  progress.stop();
  return { results, errors };
}
