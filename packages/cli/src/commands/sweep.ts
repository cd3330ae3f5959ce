/**
 * `kvmlab sweep <scenario>`: the grid seeds × variants × --set values (optionally with a
 * randomised workload per seed) on a pool of worker threads, into a directory: one JSON line
 * per run, a summary, the worst runs with the command that reproduces each; `--shard i/N` for
 * one slice of the grid on a cluster, and `kvmlab sweep merge` to put the slices together.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { describeRandomize } from '@kvmlab/hypervisor-core';
import { ARCHES, type CliContext } from '../context.js';
import { EXIT_FAILED, UsageError } from '../errors.js';
import { stringifyJson } from '../json-output.js';
import { checkVariant } from '../runner.js';
import { kebab, optionFlags, parseScenarioOptions } from '../scenario-options.js';
import { isAll, selectRunVariants } from '../variants.js';
import { mergeSweeps } from '../sweep/merge.js';
import { gridSize, parseShard, shardSize, type OptionValue, type SetAxis, type SweepPlan } from '../sweep/plan.js';
import { interruption } from '../sweep/interruption.js';
import { createSweepProgress } from '../sweep/progress.js';
import { runSweep } from '../sweep/run-sweep.js';
import { loadCatalog, scenariosModuleUrl, type ScenarioSource } from '../sweep/scenario-source.js';
import { parseSeeds } from '../sweep/seeds.js';
import type { SweepSummary } from '../sweep/summary.js';
import { prepareOutputDir } from '../io/output-paths.js';

interface SweepOpts {
  arch?: string;
  seeds: string;
  variant: string;
  set: string[];
  randomize?: boolean;
  workers?: number;
  out?: string;
  shard?: string;
  report?: boolean;
  json?: boolean;
  compact?: boolean;
  worst: number;
  timeout?: number;
  scenarios?: string;
}

const positiveInt = (what: string, max: number) => (text: string): number => {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > max) throw new InvalidArgumentError(`${what} must be an integer from 1 to ${max}.`);
  return Number(text);
};

const seconds = (text: string): number => {
  const v = Number(text);
  if (!/^\s*\d+(\.\d*)?\s*$/.test(text) || !(v > 0)) throw new InvalidArgumentError('must be a number of seconds > 0.');
  return v;
};

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** `--variant`: all, one variant, a comma list (single-axis scenarios), or axis=variant,… */
function sweepVariants(def: ScenarioDef, text: string): readonly string[] {
  if (isAll(text)) return def.variants;
  if (def.variantAxes === undefined && text.includes(',')) {
    const vs = text.split(',').map((v) => v.trim());
    for (const v of vs) checkVariant(def, v);
    return def.variants.filter((v) => vs.includes(v));
  }
  return selectRunVariants(def, text);
}

/** `--set option=a,b,c`: the option by its name or its flag; each value validated as `run` would. */
function parseSet(def: ScenarioDef, texts: readonly string[]): readonly SetAxis[] {
  const flags = optionFlags(def);
  const axes: SetAxis[] = [];
  for (const t of texts) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new UsageError(`option --set must be option=value[,value…], got "${t}"`);
    const name = t.slice(0, eq).trim().replace(/^--/, '');
    const f = flags.find((x) => x.key === name || x.flag === name || kebab(x.key) === name);
    if (f === undefined) throw new UsageError(`option --set: scenario ${def.name} has no option "${name}" (options: ${flags.map((x) => x.key).join(', ')})`);
    if (axes.some((a) => a.option === f.key)) throw new UsageError(`option --set: ${f.key} given twice`);
    const values = t.slice(eq + 1).split(',').map((v) => v.trim());
    const typed = values.map((v): OptionValue => {
      let raw: unknown = v;
      if (f.spec.type === 'boolean') {
        if (!['true', 'false', 'on', 'off', '1', '0'].includes(v)) throw new UsageError(`option --set ${f.key}: "${v}" is not true or false`);
        raw = v === 'true' || v === 'on' || v === '1';
      }
      return parseScenarioOptions(def, { [f.key]: raw })[f.key]!;
    });
    if (new Set(typed).size !== typed.length) throw new UsageError(`option --set ${f.key}: a value is given twice`);
    axes.push({ option: f.key, values: typed });
  }
  return axes;
}

function report(ctx: CliContext, summary: SweepSummary, text: string, json: boolean, files: readonly string[]): void {
  if (json) ctx.io.out(stringifyJson(summary));
  else ctx.io.out(`${text}\n${files.map((f) => `wrote ${f}\n`).join('')}`);
  const failed = summary.failures.length > 0 || summary.cells.some((c) => (c.verdicts['fail'] ?? 0) > 0);
  if (failed) ctx.status = EXIT_FAILED;
}

export function registerSweep(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('sweep')
    .description('run a scenario over many seeds, variants and option values on all cores; statistics, worst runs, shards for clusters')
    .argument('<scenario>', 'scenario name (see kvmlab list)')
    .addOption(new Option('--arch <arch>', 'architecture (default: the first the scenario runs on)').choices(ARCHES))
    .option('--seeds <list>', 'seeds: a..b, n, or a comma list of those', '0..99')
    .option('--variant <v>', 'variants: all, one, a comma list, or axis=variant,…', 'all')
    .option('--set <option=a,b,…>', 'sweep an option over these values too (repeatable; the grid is the product)', collect, [])
    .option('--randomize', "draw each run's workload from its seed (the distributions the scenario declares)")
    .option('--workers <n>', 'worker threads (default: the machine\'s cores)', positiveInt('--workers', 256))
    .option('--out <dir>', 'directory for sweep.json, runs.jsonl and the summary (default kvmlab-sweep/<scenario>-<arch>); re-running into it resumes')
    .option('--shard <i/N>', 'run only slice i of N of the grid (runs i, i+N, …); merge the slices with kvmlab sweep merge')
    .option('--report', 'also write report.html: histograms of the key figures, bug rate by drawn option')
    .option('--json', 'print the summary as JSON (kind "sweep-summary")')
    .option('--compact', "leave each result's series and details out of runs.jsonl")
    .option('--worst <n>', 'worst runs listed per variant', positiveInt('--worst', 1000), 3)
    .option('--timeout <s>', 'stop a run after this many seconds (it is recorded as killed)', seconds)
    .option('--scenarios <module.js>', 'take the scenarios from this ES module (exporting `scenarios`) instead of the installed packages and kvmlab.config')
    .addHelpText('after', `
The same seed draws the same workload for every variant, so variants are compared on identical
workloads. Exit status 1 if any run crashed, was killed or failed a check.
On a cluster: kvmlab sweep … --shard "$JOB_COMPLETION_INDEX/N" --out shared/shard-$JOB_COMPLETION_INDEX,
then kvmlab sweep merge shared/shard-* --out shared/merged (see the CLI README, "Sweeps").`);

  cmd.action(async (name: string, opts: SweepOpts) => {
    // The same hosting as `run`: the installed packages and the kvmlab.config file program.ts
    // loaded (ctx.catalog); the workers load that same file again. --scenarios replaces both.
    const source: ScenarioSource = opts.scenarios !== undefined
      ? { kind: 'module', url: scenariosModuleUrl(ctx.io.cwd, opts.scenarios) }
      : { kind: 'installed', ...(ctx.installed.config !== undefined ? { configFile: ctx.installed.config.file } : {}) };
    // A catalog handed to runCli lives in this thread only: the workers could not find its scenarios.
    if (source.kind === 'installed' && !ctx.hostedCatalog) throw new UsageError('sweep runs its scenarios in worker threads, which cannot see a catalog given to runCli: give the scenarios as an ES module with --scenarios');
    const catalog = source.kind === 'module' ? await loadCatalog(source) : ctx.catalog;
    const { def, arch } = catalog.resolve(name, opts.arch);
    if (opts.randomize === true && def.randomize === undefined) throw new UsageError(`scenario ${def.name} declares no randomised workload: sweep it without --randomize (or with --set)`);
    const plan: SweepPlan = {
      kvmlabVersion: ctx.version,
      scenario: def.name,
      package: def.package,
      arch,
      variants: sweepVariants(def, opts.variant),
      seeds: parseSeeds(opts.seeds),
      set: parseSet(def, opts.set),
      randomize: opts.randomize === true,
      distributions: opts.randomize === true && def.randomize !== undefined ? Object.fromEntries(describeRandomize(def.randomize).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)])) : {},
      compact: opts.compact === true,
      worst: opts.worst,
    };
    const shard = opts.shard !== undefined ? parseShard(opts.shard) : undefined;
    // Checked (and created one level at a time) before any run: never a recursive mkdir under /proc.
    const dir = prepareOutputDir('--out', opts.out ?? `kvmlab-sweep/${def.name}-${arch}`, ctx.io.cwd);
    const workers = opts.workers ?? availableParallelism();
    const progress = createSweepProgress(`${def.name} ${arch}`, ctx.io.progressStream, process.stdout.isTTY === true && ctx.io.progressStream !== undefined);
    const stop = interruption();
    let out: Awaited<ReturnType<typeof runSweep>>;
    try {
      out = await runSweep({ def, plan, ...(shard ? { shard } : {}), dir, workers, ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout * 1000 } : {}), source, progress, signal: stop.signal });
    } finally {
      stop.dispose();
    }
    const journal = `${dir}/runs.jsonl`;
    if (out.cutBytes > 0) ctx.io.err(`kvmlab: ${journal}: its last line was cut short (the sweep was killed while writing it): cut off, that run runs again\n`);
    if (out.damaged > 0) ctx.io.err(`kvmlab: ${journal}: skipped ${out.damaged} damaged line(s) that are not a sweep run; their runs run again\n`);
    const sig = stop.seen();
    if (out.finished === undefined) {
      const have = out.skipped + out.ran;
      ctx.io.err(`kvmlab: sweep interrupted by ${sig ?? 'a signal'}: ${have} of ${shardSize(gridSize(plan), shard)} runs recorded in ${dir} (the runs under way were dropped); run the same command again to resume\n`);
      ctx.status = stop.exitStatus();
      return;
    }
    if (out.skipped > 0) ctx.io.err(`kvmlab: resumed ${dir}: ${out.skipped} run(s) already recorded, ${out.ran} run now\n`);
    const files = [journal, `${dir}/summary.json`, `${dir}/summary.txt`];
    if (opts.report === true) {
      const { writeSweepReport } = await import('../sweep/report.js');
      files.push(writeSweepReport(dir, out.finished.summary, ctx.version));
    }
    report(ctx, out.finished.summary, out.finished.text, opts.json === true, files);
  });

  // `kvmlab` parses options across subcommands, so `sweep merge … --out D --report --json`
  // arrive as sweep's own --out, --report and --json: merge reads them from there.
  cmd
    .command('merge')
    .description('merge the shard directories of one sweep; the result is byte-identical to the unsharded sweep')
    .argument('<dirs...>', 'the shard directories (each written with --shard i/N)')
    .addHelpText('after', '\nOptions: --out <dir> (required) the merged sweep\'s directory; --report also write report.html; --json print the summary as JSON.')
    .action(async (dirs: string[], _opts: unknown, self: Command) => {
      const opts = self.optsWithGlobals<{ out?: string; report?: boolean; json?: boolean }>();
      if (opts.out === undefined) throw new UsageError('sweep merge needs --out <dir> for the merged sweep');
      const outDir = prepareOutputDir('--out', opts.out, ctx.io.cwd);
      const m = mergeSweeps(dirs.map((d) => resolve(ctx.io.cwd, d)), outDir);
      const files = [`${outDir}/runs.jsonl`, `${outDir}/summary.json`, `${outDir}/summary.txt`];
      if (opts.report === true) {
        const { writeSweepReport } = await import('../sweep/report.js');
        files.push(writeSweepReport(outDir, m.summary, ctx.version));
      }
      report(ctx, m.summary, m.text, opts.json === true, files);
    });
}
