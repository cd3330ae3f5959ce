// @kvmlab/cli: the `kvmlab` command, and the pieces it is made of for programmatic use.
export { runCli, KVMLAB_VERSION, processIo, type RunCliOptions } from './program.js';
export { ScenarioCatalog, type CatalogEntry } from './catalog.js';
export { defaultCatalog, installedScenarios } from './scenarios.js';
export { UsageError, EXIT_OK, EXIT_FAILED, EXIT_USAGE } from './errors.js';
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
export { capsReport, selectPlugins, type CapsReport } from './caps.js';
export { PLUGIN_FACTORIES, type PluginFactory } from './plugins.js';
