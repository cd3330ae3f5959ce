/**
 * `kvmlab run <scenario>`: one scenario, one variant (or `--variant all`: run-matrix.ts). The
 * scenario's own options become flags
 * of the command: the arguments are scanned for the scenario name (and --arch) first, so
 * `kvmlab run ptp-sync --help` lists them and an unknown flag is a usage error.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { variantCellName, type Arch, type ScenarioDef } from '@kvmlab/hypervisor-core';
import { toChromeTrace } from '../chrome-trace.js';
import { ARCHES, parseSeed, type CliContext } from '../context.js';
import { EXIT_FAILED, UsageError } from '../errors.js';
import { SCHEMA_VERSION, stringifyJson, type ResultJson } from '../json-output.js';
import { cellForKernel, parseKernelVersion, variantForKernel } from '../kernel-table.js';
import { createProgress } from '../progress.js';
import { checkVariant, runScenario } from '../runner.js';
import { camel, describeOption, durationOption, optionFlags, parseScenarioOptions } from '../scenario-options.js';
import { formatFigure, textTable } from '../text-table.js';
import { isAll, selectRunVariants } from '../variants.js';
import { runMatrix } from './run-matrix.js';

/** run's own options that take a value (for the scan of the arguments). */
const VALUE_FLAGS = new Set(['--variant', '--arch', '--seed', '--duration', '--kernel', '--report', '--trace']);

/** Finds the scenario name and --arch in run's arguments without parsing them. */
export function scanRunArgs(args: readonly string[]): { scenario?: string; arch?: string } {
  const i = args.findIndex((a) => !a.startsWith('-'));
  if (i < 0 || args[i] !== 'run') return {};
  let scenario: string | undefined;
  let arch: string | undefined;
  for (let j = i + 1; j < args.length; j++) {
    const a = args[j]!;
    if (a === '--') {
      scenario ??= args[j + 1];
      break;
    }
    if (a.startsWith('--arch=')) arch = a.slice(7);
    else if (VALUE_FLAGS.has(a)) {
      if (a === '--arch') arch = args[j + 1];
      j++;
    } else if (!a.startsWith('-')) scenario ??= a;
  }
  return { ...(scenario !== undefined ? { scenario } : {}), ...(arch !== undefined ? { arch } : {}) };
}

interface RunOpts {
  variant?: string;
  arch?: Arch;
  seed: number;
  duration?: string;
  kernel?: string;
  json?: boolean;
  report?: string;
  trace?: string;
  [flag: string]: unknown;
}

function addScenarioOptions(cmd: Command, def: ScenarioDef): void {
  for (const f of optionFlags(def)) {
    if (f.spec.type === 'boolean') {
      cmd.addOption(new Option(`--${f.flag}`, describeOption(f.spec)));
      cmd.addOption(new Option(`--no-${f.flag}`, `turn ${f.key} off`));
    } else {
      cmd.addOption(new Option(`--${f.flag} <${f.spec.type === 'number' ? 'n' : 'value'}>`, describeOption(f.spec)));
    }
  }
}

function textView(r: ResultJson, files: readonly string[]): string {
  // details.output: what the scenario's program printed, verbatim (vmx-dirty-log: the selftest's TEST_ASSERT failure)
  const output = typeof r.details['output'] === 'string' ? `\n${r.details['output']}` : '\n';
  const head = `${r.scenario} (${r.arch}, variant ${r.variant}, seed ${r.seed}): ${r.verdict}\n${r.summary}\n${output}`;
  const figs = [r.headline, ...r.figures.filter((f) => f.label !== r.headline.label)];
  const table = textTable(['figure', 'value'], figs.map((f) => [f.label, formatFigure(f)]));
  const series = r.series.length > 0 ? `\nseries: ${r.series.map((s) => `${s.name} (${s.x.length} points)`).join(', ')}\n` : '';
  return head + table + series + files.map((f) => `wrote ${f}\n`).join('');
}

/** The variants to run: --kernel's (per axis for a scenario with axes), or what --variant selects. */
function pickVariants(def: ScenarioDef, arch: Arch, opts: RunOpts): readonly string[] {
  if (opts.kernel !== undefined && opts.variant !== undefined) throw new UsageError('give --variant or --kernel, not both');
  if (opts.kernel === undefined) return selectRunVariants(def, opts.variant ?? def.defaultVariant);
  const kernel = parseKernelVersion(opts.kernel);
  const axes = def.variantAxes;
  return [axes !== undefined ? variantCellName(axes, cellForKernel(def.name, axes, arch, kernel)) : variantForKernel(def.name, arch, kernel)];
}

export function registerRun(program: Command, ctx: CliContext, args: readonly string[]): void {
  const cmd = program
    .command('run')
    .description('run one scenario and print its figures (a table, or JSON with --json)')
    .argument('<scenario>', 'scenario name (see kvmlab list)')
    .option('--variant <v>', "variant to run: a name, axis=variant[,axis=variant…] for a scenario with variant axes (others default), or all (default: the scenario's default, usually merged)")
    .addOption(new Option('--arch <arch>', 'architecture (default: the first the scenario runs on)').choices(ARCHES))
    .option('--seed <n>', 'PRNG seed; the same seed gives the same result', parseSeed, 0)
    .option('--duration <d>', "sets the scenario's duration option, e.g. 30, 30s, 500ms (in the option's unit without a suffix)")
    .option('--kernel <version>', 'pick the variant this kernel behaves like: mainline, stable or distribution version (see kvmlab affected)')
    .option('--json', 'print the result as JSON (schemaVersion 1, kind "run"; kind "matrix" with --variant all)')
    .option('--report <file.html>', 'write a self-contained HTML report with charts')
    .option('--trace <file.json>', 'write a Chrome trace-event JSON file (open it in Perfetto)')
    .addHelpText('after', '\nScenario options: kvmlab run <scenario> --help lists them (or kvmlab list).');
  const scan = scanRunArgs(args);
  if (scan.scenario !== undefined && ctx.catalog.has(scan.scenario)) {
    const arch = scan.arch !== undefined && (ARCHES as readonly string[]).includes(scan.arch) ? scan.arch : undefined;
    try {
      addScenarioOptions(cmd, ctx.catalog.resolve(scan.scenario, arch).def);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e; // reported again by the action
    }
  }
  cmd.action(async (name: string, opts: RunOpts) => {
    const { def, arch } = ctx.catalog.resolve(name, opts.arch);
    const variants = pickVariants(def, arch, opts);
    const all = isAll(opts.variant);
    if (all && opts.trace !== undefined) throw new UsageError('--trace records one run: give one --variant, not all');
    const variant = variants[0]!;
    for (const v of variants) checkVariant(def, v);
    const raw: Record<string, unknown> = {};
    for (const f of optionFlags(def)) if (opts[camel(f.flag)] !== undefined) raw[f.key] = opts[camel(f.flag)];
    if (opts.duration !== undefined) {
      const [key, value] = durationOption(def, opts.duration);
      if (raw[key] !== undefined) throw new UsageError(`give --duration or the scenario's own ${key} option, not both`);
      raw[key] = value;
    }
    const options = parseScenarioOptions(def, raw);
    if (all) {
      await runMatrix(ctx, { def, arch, variants, seed: opts.seed, options, json: opts.json === true, ...(opts.report !== undefined ? { report: opts.report } : {}) });
      return;
    }
    const progress = createProgress(opts.json !== true, ctx.io.progressStream);
    const label = `${def.name} ${arch} ${variant}`;
    let outcome;
    try {
      outcome = runScenario({ def, arch, variant, seed: opts.seed, options, trace: opts.trace !== undefined, onProgress: (f) => progress.update(f, label) });
    } finally {
      progress.stop();
    }
    const { result, json } = outcome;
    const files: string[] = [];
    if (opts.report !== undefined) {
      const file = resolve(ctx.io.cwd, opts.report);
      // Loaded only when asked for: ECharts is most of the CLI's start-up time.
      const { renderReportHtml } = await import('../report/html.js');
      writeFileSync(file, renderReportHtml({ title: `kvmlab run ${def.name} (${arch}, ${variant})`, kvmlabVersion: ctx.version, seed: opts.seed, results: [json] }));
      files.push(file);
    }
    if (opts.trace !== undefined) {
      const file = resolve(ctx.io.cwd, opts.trace);
      const events = result.trace ?? [];
      if (events.length === 0) ctx.io.err(`kvmlab: note: scenario ${def.name} recorded no trace events\n`);
      const meta = { title: `kvmlab ${def.name} ${arch} ${variant}`, scenario: def.name, arch, variant, seed: opts.seed };
      writeFileSync(file, JSON.stringify(toChromeTrace(events, meta)));
      files.push(file);
    }
    if (opts.json === true) ctx.io.out(stringifyJson({ schemaVersion: SCHEMA_VERSION, kind: 'run', kvmlabVersion: ctx.version, result: json }));
    else ctx.io.out(textView(json, files));
    if (json.verdict === 'fail') ctx.status = EXIT_FAILED;
  });
}
