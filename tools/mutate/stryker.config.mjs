// StrykerJS 9.x (Node 20) with the vitest runner. Driven file by file by tools/mutate/run.mjs,
// which names the file in KVMLAB_MUTATE_FILE; each file has its own incremental file and report.
import { slug, TYPE_ONLY } from './targets.mjs';

const file = process.env.KVMLAB_MUTATE_FILE;
if (!file) throw new Error('run Stryker through `npm run mutate` (tools/mutate/run.mjs), which names the file to mutate');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // `related`: only the tests that import the mutated file. A file with types only (no runtime
  // code, so no mutants) is imported by none, and Stryker stops on an empty dry run; for those
  // (TYPE_ONLY in targets.mjs) the focused tests run unfiltered, so the report says "no mutants".
  vitest: { configFile: 'tools/mutate/vitest.mutate.config.mjs', related: !TYPE_ONLY.has(file) },
  coverageAnalysis: 'perTest',
  // The worktree's node_modules links the workspace packages by relative path, so a sandbox copy
  // would import the unmutated sources through them: mutate in place (run.mjs restores on exit).
  inPlace: true,
  // The machine is shared: two workers at most, and nice -n 10 (run.mjs).
  concurrency: 2,
  mutate: [file],
  // --focused (run.mjs): only these test files run against the mutants (see targets.mjs).
  ...(process.env.KVMLAB_MUTATE_TEST_FILES ? { testFiles: process.env.KVMLAB_MUTATE_TEST_FILES.split(',') } : {}),
  // One incremental file per target file: a run over one file keeps every other file's results.
  // Static mutants (module-level constants such as the host-era records) are only evaluated when
  // a module loads; the vitest runner keeps modules loaded between mutant runs, so such a mutant
  // is never active and would be reported as surviving. They are left out of the score.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: `reports/mutation/incremental/${slug(file)}.json`,
  jsonReporter: { fileName: `reports/mutation/json/${slug(file)}.json` },
  // Type errors of a mutant are not checked (no typescript-checker; vitest strips types), so
  // Stryker need not add `// @ts-nocheck` to every source file, which in place would mean
  // rewriting (and later restoring) the whole worktree.
  disableTypeChecks: false,
  reporters: ['json', 'clear-text', 'progress'],
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // A mutant that loops forever is a timeout (detected); 10 s over the test's own time is plenty.
  timeoutMS: 10000,
  timeoutFactor: 2,
  tempDirName: '.scratch/stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
