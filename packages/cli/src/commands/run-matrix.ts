/**
 * `kvmlab run <scenario> --variant all`: every variant (every cell of a scenario with variant
 * axes) from the same seed and options, printed as one matrix — a grid for two axes, a table
 * otherwise — or as one `matrix` JSON document, and drawn as a grid above the report's sections.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Arch, ScenarioDef, ScenarioOptionValues } from '@kvmlab/hypervisor-core';
import type { CliContext } from '../context.js';
import { EXIT_FAILED } from '../errors.js';
import { stringifyJson, type ResultJson } from '../json-output.js';
import { renderMatrixText } from '../matrix-text.js';
import { buildMatrix, matrixDocument } from '../matrix.js';
import { createProgress } from '../progress.js';
import { runScenario } from '../runner.js';

export interface MatrixRunRequest {
  readonly def: ScenarioDef;
  readonly arch: Arch;
  readonly variants: readonly string[];
  readonly seed: number;
  readonly options: ScenarioOptionValues;
  readonly json: boolean;
  readonly report?: string;
}

export async function runMatrix(ctx: CliContext, req: MatrixRunRequest): Promise<void> {
  const { def, arch, variants, seed, options } = req;
  const progress = createProgress(!req.json, ctx.io.progressStream);
  const results: ResultJson[] = [];
  try {
    variants.forEach((variant, i) => {
      const label = `${def.name} ${arch} ${variant}`;
      const onProgress = (f: number): void => progress.update((i + f) / variants.length, label);
      results.push(runScenario({ def, arch, variant, seed, options, trace: false, onProgress }).json);
    });
  } finally {
    progress.stop();
  }
  const grid = buildMatrix(def, arch, seed, results);
  const files: string[] = [];
  if (req.report !== undefined) {
    const file = resolve(ctx.io.cwd, req.report);
    const { renderReportHtml } = await import('../report/html.js');
    writeFileSync(file, renderReportHtml({ title: `kvmlab run ${def.name} (${arch}, all ${variants.length} variants)`, kvmlabVersion: ctx.version, seed, results, matrices: [grid] }));
    files.push(file);
  }
  if (req.json) ctx.io.out(stringifyJson(matrixDocument(grid, ctx.version, results)));
  else ctx.io.out(renderMatrixText(grid) + files.map((f) => `wrote ${f}\n`).join(''));
  if (results.some((r) => r.verdict === 'fail')) ctx.status = EXIT_FAILED;
}
