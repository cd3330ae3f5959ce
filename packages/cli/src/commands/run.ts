/**
 * `kvmlab run <scenario>`: one scenario, one variant (or `--variant all`: run-matrix.ts). The
 * scenario's own options become flags
 * of the command: the arguments are scanned for the scenario name (and --arch) first, so
 * `kvmlab run ptp-sync --help` lists them and an unknown flag is a usage error.
 */
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { variantCellName, type Arch, type ScenarioDef, type ScenarioOptionSpec } from '@kvmlab/hypervisor-core';
import type { CatalogEntry } from '../catalog.js';
import { toChromeTrace } from '../chrome-trace.js';
import { ARCHES, parseSeed, type CliContext } from '../context.js';
import { EXIT_FAILED, UsageError } from '../errors.js';
import { providerOf } from '../host/installed.js';
import { checkOutputFile } from '../io/output-paths.js';
import { hangingWrap, wrapText } from '../io/terminal.js';
import { SCHEMA_VERSION, stringifyJson, type ResultJson } from '../json-output.js';
import { cellForKernel, parseKernelVersion, variantForKernel } from '../kernel-table.js';
import { createProgress } from '../progress.js';
import { checkVariant, runScenario } from '../runner.js';
import { camel, checkRunBudget, describeOption, durationKey, durationOption, flagOf, optionFlags, parseLimitFlags, parseScenarioOptions, type OptionFlag } from '../scenario-options.js';
import { formatFigure, textTable } from '../text-table.js';
import { displayVerdict } from '../verdicts.js';
import { describeAxes, isAll, selectRunVariants } from '../variants.js';
import { runMatrix } from './run-matrix.js';

/** run's own options that take a value (for the scan of the arguments). */
const VALUE_FLAGS = new Set(['--variant', '--arch', '--seed', '--duration', '--kernel', '--report', '--trace', '--expect', '--config', '--max-memory-mib', '--max-events']);

/** Finds the scenario name and --arch in run's arguments without parsing them. */
export function scanRunArgs(args: readonly string[]): { scenario?: string; arch?: string } {
  let i = -1;
  for (let j = 0; j < args.length; j++) {
    if (args[j] === '--config') j++;
    else if (!args[j]!.startsWith('-')) {
      i = j;
      break;
    }
  }
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
  expect?: 'fixed' | 'bug';
  [flag: string]: unknown;
}

/** One scenario flag across the scenario's definitions (one per arch). */
interface SharedFlag extends OptionFlag {
  readonly arches: readonly Arch[];
}

/** The scenario's flags over every definition: the union, each with the arches it applies to. */
function scenarioFlags(entry: CatalogEntry): readonly SharedFlag[] {
  const out = new Map<string, { key: string; flag: string; spec: ScenarioOptionSpec; arches: Arch[] }>();
  for (const d of entry.defs) {
    for (const f of optionFlags(d)) {
      const prev = out.get(f.flag);
      if (prev !== undefined) prev.arches.push(...d.arches);
      else out.set(f.flag, { ...f, arches: [...d.arches] });
    }
  }
  return [...out.values()];
}

/**
 * The scenario's options as flags, grouped in the help: those every arch takes, then those of
 * one arch. Its own duration option (`--duration-s`) stays accepted but hidden: `--duration`
 * is the one to use.
 */
function addScenarioOptions(cmd: Command, entry: CatalogEntry, width: number): void {
  const flags = scenarioFlags(entry);
  const durationKeys = new Set(entry.defs.map((d) => durationKey(d)).filter((k) => k !== undefined));
  for (const f of flags) {
    const everywhere = entry.arches.every((a) => f.arches.includes(a));
    const group = everywhere ? `Options of ${entry.name}:` : `Options of ${entry.name} on ${f.arches.join(', ')} only:`;
    const def = entry.defs.find((d) => d.arches.some((a) => f.arches.includes(a)))!;
    const text = describeOption(f.spec, def);
    const hidden = durationKeys.has(f.key);
    const add = (o: Option): void => {
      cmd.addOption(hidden ? o.hideHelp() : o.helpGroup(group));
    };
    if (f.spec.type === 'boolean') {
      add(new Option(`--${f.flag}`, text));
      add(new Option(`--no-${f.flag}`, `turn --${f.flag} off`));
    } else {
      add(new Option(`--${f.flag} <${f.spec.type === 'number' ? 'n' : 'value'}>`, hidden ? `deprecated alias of --duration (${text})` : text));
    }
  }
  const variants = entry.defs.map((d) => {
    const list = describeAxes(d) ?? d.variants.map((v) => (v === d.defaultVariant ? `${v} (default)` : v)).join(', ');
    return hangingWrap('  ', `on ${d.arches.join(', ')} (${d.package}): ${list}`, width);
  });
  const dur = entry.defs.map((d) => durationKey(d)).find((k) => k !== undefined);
  const durText = dur !== undefined ? `\n${wrapText(`--duration sets ${entry.name}'s --${flagOf(dur)} (a bare number is in its unit; or give ns, us, ms, s or min).`, width).join('\n')}\n` : '';
  cmd.addHelpText('after', `\nVariants of ${entry.name} (--variant; all runs every one):\n${variants.join('\n')}\n${durText}`);
}

/** Scenario flags given on the command line, keyed by option name, for this definition only. */
function givenOptions(entry: CatalogEntry | undefined, def: ScenarioDef, arch: Arch, opts: RunOpts, ctx: CliContext): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const own = new Set(Object.keys(def.options));
  for (const f of entry !== undefined ? scenarioFlags(entry) : optionFlags(def)) {
    const v = opts[camel(f.flag)];
    if (v === undefined) continue;
    if (!own.has(f.key)) {
      const on = 'arches' in f ? (f as SharedFlag).arches.join(', ') : 'another arch';
      throw new UsageError(`option --${f.flag} is for ${def.name} on ${on}, and this run is on ${arch} (choose the arch with --arch)`);
    }
    if (durationKey(def) === f.key && opts.duration === undefined) ctx.io.err(`kvmlab: note: --${f.flag} is deprecated; use --duration (e.g. --duration ${String(v)}${f.spec.type === 'number' && f.spec.unit !== undefined ? f.spec.unit : ''})\n`);
    raw[f.key] = v;
  }
  return raw;
}

/** The definition to run, or a UsageError that names the package to install when it is missing. */
function resolveInstalled(ctx: CliContext, name: string, arch: Arch | undefined): { readonly def: ScenarioDef; readonly arch: Arch } {
  const from = providerOf(ctx.installed, 'scenario', name);
  if (!ctx.catalog.has(name) && from !== undefined) throw new UsageError(`scenario ${name} is not installed: it comes with ${ctx.installed.missing.filter((m) => m.scenarios.includes(name)).map((m) => m.package).join(' or ')}`);
  try {
    return ctx.catalog.resolve(name, arch);
  } catch (e) {
    if (e instanceof UsageError && from !== undefined && arch !== undefined) throw new UsageError(`${e.message}; ${from.package} would add it, and it is not installed`);
    throw e;
  }
}

/** The verdict --expect asks for. */
const EXPECTED: Readonly<Record<'fixed' | 'bug', string>> = { fixed: 'ok', bug: 'bug-reproduced' };

function textView(r: ResultJson, files: readonly string[], width: number): string {
  // details.output: what the scenario's program printed, verbatim (vmx-dirty-log: the selftest's TEST_ASSERT failure)
  const output = typeof r.details['output'] === 'string' ? `\n${r.details['output']}` : '\n';
  const head = `${r.scenario} (${r.arch}, variant ${r.variant}, seed ${r.seed}): ${displayVerdict(r.verdict)}\n${r.summary}\n${output}`;
  const figs = [r.headline, ...r.figures.filter((f) => f.label !== r.headline.label)];
  const table = textTable(['figure', 'value'], figs.map((f) => [f.label, formatFigure(f)]), width);
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
    .option('--duration <d>', "how long the scenario runs, e.g. 30, 30s, 500ms (a bare number is in the scenario's own unit)")
    .option('--kernel <version>', 'pick the variant this kernel behaves like: mainline, stable or distribution version (see kvmlab affected)')
    .addOption(new Option('--expect <outcome>', 'exit 1 unless the run shows this outcome: bug (verdict bug-reproduced) or fixed (verdict ok); without it a reproduced bug still exits 0').choices(['fixed', 'bug']))
    .option('--json', 'print the result as JSON (schemaVersion 1, kind "run"; kind "matrix" with --variant all)')
    .option('--report <file.html>', 'write a self-contained HTML report with charts')
    .option('--trace <file.json>', 'write a Chrome trace-event JSON file (open it in Perfetto)')
    .option('--max-memory-mib <n>', 'refuse a run whose estimated peak memory is beyond this (MiB; default 2048)')
    .option('--max-events <n>', 'refuse a run whose estimated work is beyond this many events (default 1e8)');
  const scan = scanRunArgs(args);
  const entry = scan.scenario !== undefined && ctx.catalog.has(scan.scenario) ? ctx.catalog.entry(scan.scenario) : undefined;
  if (entry !== undefined) addScenarioOptions(cmd, entry, ctx.width);
  else cmd.addHelpText('after', '\nScenario options and variants: kvmlab run <scenario> --help (or kvmlab list).');
  cmd.action(async (name: string, opts: RunOpts) => {
    const { def, arch } = resolveInstalled(ctx, name, opts.arch);
    const all = isAll(opts.variant);
    if (all && opts.trace !== undefined) throw new UsageError('--trace records one run: give one --variant, not all');
    if (all && opts.expect !== undefined) throw new UsageError('--expect checks one run: give one --variant, not all');
    const variants = pickVariants(def, arch, opts);
    const variant = variants[0]!;
    for (const v of variants) checkVariant(def, v);
    const raw = givenOptions(entry, def, arch, opts, ctx);
    if (opts.duration !== undefined) {
      const [key, value] = durationOption(def, opts.duration);
      if (raw[key] !== undefined) throw new UsageError(`give --duration or --${flagOf(key)}, not both`);
      raw[key] = value;
    }
    const options = parseScenarioOptions(def, raw);
    checkRunBudget(def, arch, options, parseLimitFlags({ maxMemoryMib: opts['maxMemoryMib'], maxEvents: opts['maxEvents'] }));
    // Where the output goes is checked before the run, not after it.
    const reportFile = opts.report !== undefined ? checkOutputFile('--report', opts.report, ctx.io.cwd) : undefined;
    const traceFile = opts.trace !== undefined ? checkOutputFile('--trace', opts.trace, ctx.io.cwd) : undefined;
    if (all) {
      await runMatrix(ctx, { def, arch, variants, seed: opts.seed, options, json: opts.json === true, ...(reportFile !== undefined ? { report: reportFile } : {}) });
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
    if (reportFile !== undefined) {
      const file = reportFile;
      // Loaded only when asked for: ECharts is most of the CLI's start-up time.
      const { renderReportHtml } = await import('../report/html.js');
      writeFileSync(file, renderReportHtml({ title: `kvmlab run ${def.name} (${arch}, ${variant})`, kvmlabVersion: ctx.version, seed: opts.seed, results: [json] }));
      files.push(file);
    }
    if (traceFile !== undefined) {
      const file = traceFile;
      const events = result.trace ?? [];
      if (events.length === 0) ctx.io.err(`kvmlab: note: scenario ${def.name} recorded no trace events\n`);
      const meta = { title: `kvmlab ${def.name} ${arch} ${variant}`, scenario: def.name, arch, variant, seed: opts.seed };
      writeFileSync(file, JSON.stringify(toChromeTrace(events, meta)));
      files.push(file);
    }
    if (opts.json === true) ctx.io.out(stringifyJson({ schemaVersion: SCHEMA_VERSION, kind: 'run', kvmlabVersion: ctx.version, result: json }));
    else ctx.io.out(textView(json, files, ctx.width));
    if (json.verdict === 'fail') ctx.status = EXIT_FAILED;
    else if (opts.expect !== undefined && json.verdict !== EXPECTED[opts.expect]) {
      // kselftest style: the run worked, but not the way the caller said it should.
      ctx.io.err(`kvmlab: expected ${opts.expect === 'bug' ? 'the bug to reproduce' : 'the fix to hold'} (verdict ${EXPECTED[opts.expect]}), got verdict ${displayVerdict(json.verdict)}\n`);
      ctx.status = EXIT_FAILED;
    }
  });
}
