// @kvmlab/cli: the `kvmlab` command, and the pieces it is made of for programmatic use.
// The feature packages are optional peers: importing this module loads the installed ones
// (top-level await), so the synchronous names below (installedScenarios, defaultCatalog,
// PLUGIN_FACTORIES, capsReport, selectPlugins) cover exactly what is installed.
import type { Arch } from '@kvmlab/hypervisor-core';
import { capsReportOn, selectPlugins as selectFrom, type CapsReport } from './caps-report.js';
import { ScenarioCatalog } from './catalog.js';
import { capsHost } from './commands/caps.js';
import type { PluginFactory } from './host/feature-packages.js';
import { loadInstalled } from './host/installed.js';

export { runCli, KVMLAB_VERSION, processIo, type RunCliOptions } from './program.js';
export { ScenarioCatalog, type CatalogEntry } from './catalog.js';
export { installedScenarioDefs, defaultCatalogAsync } from './scenarios.js';
export { UsageError, EXIT_OK, EXIT_FAILED, EXIT_USAGE } from './errors.js';
export { userMistake } from './user-errors.js';
export type { CliIo } from './context.js';
export * from './json-output.js';
export { toChromeTrace, nsToUs, type ChromeTrace, type ChromeTraceEvent } from './chrome-trace.js';
export { renderReportHtml, type ReportInput } from './report/html.js';
export { chartSpecs, renderChartSvg, type ChartSpec } from './report/charts.js';
export { KERNEL_TABLE, cellForKernel, kernelRows, parseKernelVersion, variantForKernel, type KernelTableEntry } from './kernel-table.js';
export { buildMatrix, demoMatrices, matrixDocument, type GridCell, type MatrixGrid } from './matrix.js';
export { renderMatrixText } from './matrix-text.js';
export { axesOf, selectRunVariants, type Axis } from './variants.js';
export { runScenario, runDemo, demoPlan, type RunRequest, type DemoOutcome } from './runner.js';
export { parseScenarioOptions, optionSchema, durationOption } from './scenario-options.js';
export { capsReportOn, type CapsHost, type CapsReport } from './caps-report.js';
export { FEATURE_PACKAGES, type FeaturePackage, type PluginFactory } from './host/feature-packages.js';
export { loadInstalled, missingNote, type Installed, type MissingPackage, type LoadInstalledOptions } from './host/installed.js';
export { defineConfig, CONFIG_FILES, type KvmlabConfig, type ConfigPlugin } from './host/config.js';
export { checkOutputFile, prepareOutputDir } from './io/output-paths.js';
export { formatFigure, formatNumber, UNIT_DECIMALS } from './text-table.js';
export { VERDICTS, displayVerdict, type Verdict } from './verdicts.js';

const installed = await loadInstalled({ cwd: process.cwd(), useConfig: false });

/** The installed feature packages' scenarios (the names 0.1 exported; now only what is installed). */
export const installedScenarios = installed.scenarios;
export function defaultCatalog(): ScenarioCatalog {
  return new ScenarioCatalog(installed.scenarios);
}
/** The installed plugin factories. */
export const PLUGIN_FACTORIES: readonly PluginFactory[] = installed.plugins;
export function capsReport(arch: Arch, pluginNames: readonly string[]): CapsReport {
  return capsReportOn(capsHost(installed), arch, pluginNames);
}
export function selectPlugins(arch: Arch, list: string | undefined): readonly string[] {
  return selectFrom(arch, list, installed.plugins);
}
