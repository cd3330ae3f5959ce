/** The last step of a sweep and of a merge: runs.jsonl in grid order, then the summary files. */
import { join } from 'node:path';
import { stringifyJson } from '../json-output.js';
import type { SweepPlan } from './plan.js';
import { forEachRun, RUNS_FILE, SUMMARY_JSON, SUMMARY_TXT, writeFileAtomic, writeSortedRuns } from './store.js';
import { summaryText } from './summary-text.js';
import { SummaryBuilder, type SweepSummary } from './summary.js';

export interface Finished {
  readonly summary: SweepSummary;
  readonly text: string;
  /** Indices recorded, in grid order. */
  readonly indices: readonly number[];
}

/** `expect`: the number of runs the directory must hold (merge); fewer throws before any summary is written. */
export function finishSweep(plan: SweepPlan, journals: readonly string[], outDir: string, expect?: { readonly runs: number; readonly fail: (have: number) => Error }): Finished {
  const indices = writeSortedRuns(journals, outDir, { plan });
  if (expect !== undefined && indices.length !== expect.runs) throw expect.fail(indices.length);
  const b = new SummaryBuilder(plan);
  forEachRun(join(outDir, RUNS_FILE), (l) => b.add(l));
  const summary = b.build();
  const text = summaryText(summary);
  writeFileAtomic(join(outDir, SUMMARY_JSON), stringifyJson(summary));
  writeFileAtomic(join(outDir, SUMMARY_TXT), text);
  return { summary, text, indices };
}
