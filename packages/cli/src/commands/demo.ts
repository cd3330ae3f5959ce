/**
 * `kvmlab demo`: every scenario on every arch in every variant (pre-fix next to the fix), one
 * summary table, and report.html + demo.json in the output folder. A scenario with variant axes
 * also gets its grid, under the table and at the top of its report section.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseSeed, type CliContext } from '../context.js';
import { EXIT_FAILED } from '../errors.js';
import { prepareOutputDir } from '../io/output-paths.js';
import { SCHEMA_VERSION, stringifyJson } from '../json-output.js';
import { renderMatrixText } from '../matrix-text.js';
import { demoMatrices } from '../matrix.js';
import { createProgress } from '../progress.js';
import { runDemo } from '../runner.js';
import { formatFigure, textTable } from '../text-table.js';
import { displayVerdict } from '../verdicts.js';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run every scenario in every variant, print a summary and write report.html + demo.json')
    .option('--out <dir>', 'output folder', 'kvmlab-out')
    .option('--seed <n>', 'PRNG seed for every run', parseSeed, 0)
    .option('--json', 'print the results as JSON (schemaVersion 1, kind "demo") instead of the table')
    .action(async (opts: { out: string; seed: number; json?: boolean }) => {
      // The folder is made (and proven writable) before the first run, not after the last.
      const outDir = prepareOutputDir('--out', opts.out, ctx.io.cwd);
      const { renderReportHtml } = await import('../report/html.js');
      const { results, errors } = runDemo(ctx.catalog, opts.seed, createProgress(opts.json !== true, ctx.io.progressStream));
      const doc = { schemaVersion: SCHEMA_VERSION, kind: 'demo' as const, kvmlabVersion: ctx.version, seed: opts.seed, results, errors };
      const jsonText = stringifyJson(doc);
      const matrices = demoMatrices(ctx.catalog, opts.seed, results);
      const reportFile = join(outDir, 'report.html');
      const jsonFile = join(outDir, 'demo.json');
      writeFileSync(jsonFile, jsonText);
      writeFileSync(reportFile, renderReportHtml({ title: 'kvmlab demo: four KVM patch series of 26 September 2019', kvmlabVersion: ctx.version, seed: opts.seed, results, errors, matrices }));
      if (opts.json === true) ctx.io.out(jsonText);
      else {
        const rows = results.map((r) => [r.scenario, r.arch, r.variant, displayVerdict(r.verdict), `${r.headline.label}: ${formatFigure(r.headline)}`]);
        for (const e of errors) rows.push([e.scenario, e.arch, e.variant, 'error', e.message.split('\n')[0]!]);
        const body = rows.length > 0 ? textTable(['scenario', 'arch', 'variant', 'verdict', 'key figure'], rows, ctx.width) : 'No scenarios installed.\n';
        const grids = matrices.map((m) => `\n${renderMatrixText(m)}`).join('');
        ctx.io.out(`${body}${grids}\nwrote ${reportFile}\nwrote ${jsonFile}\n`);
      }
      for (const e of errors) ctx.io.err(`kvmlab: ${e.scenario} (${e.arch}, ${e.variant}) failed: ${e.message.split('\n')[0]!}\n`);
      if (errors.length > 0 || results.some((r) => r.verdict === 'fail')) ctx.status = EXIT_FAILED;
    });
}
