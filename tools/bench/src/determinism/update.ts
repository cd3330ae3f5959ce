/**
 * `npm run determinism:update`: builds, then rewrites every fixture of the determinism test
 * (tools/bench/fixtures/determinism) from the built CLI, and deletes fixtures of cases that no
 * longer exist. `-- --results` or `-- --traces` rewrites one kind only (a trace-name change
 * should not touch the results). Review the diff: a changed result is a changed model.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, listScenarios, resultCases, traceCases } from './cases.js';
import { resultText, traceText } from './run.js';

const argv = process.argv.slice(2);
const doResults = !argv.includes('--traces');
const doTraces = !argv.includes('--results');
mkdirSync(FIXTURES, { recursive: true });
const list = listScenarios();
const keep = new Set<string>();
const jobs = [
  ...(doResults ? resultCases(list).map((c) => ({ c, text: () => resultText(c) })) : []),
  ...(doTraces ? traceCases(list).map((c) => ({ c, text: () => traceText(c) })) : []),
];
for (const { c, text } of jobs) {
  process.stderr.write(`${c.id}\n`);
  writeFileSync(join(FIXTURES, `${c.id}.json`), text());
  keep.add(`${c.id}.json`);
}
for (const f of readdirSync(FIXTURES)) {
  const isTrace = f.startsWith('trace.');
  if (!keep.has(f) && ((isTrace && doTraces) || (!isTrace && doResults))) rmSync(join(FIXTURES, f));
}
console.log(`wrote ${jobs.length} fixtures to ${FIXTURES}`);
