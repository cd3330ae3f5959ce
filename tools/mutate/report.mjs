#!/usr/bin/env node
// Reads Stryker's JSON reports (reports/mutation/json/*.json, one per target file, written by
// `npm run mutate`) and writes the per-file mutation-score table into the root README, between
// the markers of its "Mutation testing" section. Options: --stdout (print, do not write),
// --min <percent> (exit 1 if a measured file scores below it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { slug, targetFiles } from './targets.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const argv = process.argv.slice(2);
const stdout = argv.includes('--stdout');
const minAt = argv.indexOf('--min');
const min = minAt >= 0 ? Number(argv[minAt + 1]) : undefined;
if (min !== undefined && !Number.isFinite(min)) {
  console.error(`report: --min needs a number, got '${argv[minAt + 1]}'`);
  process.exit(2);
}

// Stryker's definitions (mutation-testing-metrics): detected = killed + timeout; the score is
// detected / (detected + survived + no coverage); compile and runtime errors and ignored
// (disabled) mutants count in neither.
function score(mutants) {
  const n = (s) => mutants.filter((m) => m.status === s).length;
  const c = { killed: n('Killed'), timeout: n('Timeout'), survived: n('Survived'), noCoverage: n('NoCoverage'), ignored: n('Ignored'), errors: n('CompileError') + n('RuntimeError') };
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return { ...c, valid, score: valid === 0 ? undefined : (100 * (c.killed + c.timeout)) / valid };
}

const rows = [];
for (const file of targetFiles(root)) {
  const json = `${root}reports/mutation/json/${slug(file)}.json`;
  const metaPath = `${root}reports/mutation/json/${slug(file)}.meta.json`;
  if (!existsSync(json)) {
    rows.push({ file, missing: true });
    continue;
  }
  const report = JSON.parse(readFileSync(json, 'utf8'));
  const entry = Object.entries(report.files).find(([p]) => p.replaceAll('\\', '/').endsWith(file));
  const meta = existsSync(metaPath) ? JSON.parse(readFileSync(metaPath, 'utf8')) : undefined;
  rows.push({ file, ...score(entry ? entry[1].mutants : []), meta });
}

const pct = (x) => (x === undefined ? 'no mutants' : `${x.toFixed(1)} %`);
const lines = [
  '| file | score | killed | timeout | survived | no coverage | disabled | tests | measured (UTC), commit |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) =>
    r.missing
      ? `| \`${r.file}\` | not measured | | | | | | | |`
      : `| \`${r.file}\` | ${pct(r.score)} | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCoverage} | ${r.ignored} | ${testsOf(r.meta)} | ${r.meta ? `${r.meta.date.slice(0, 16).replace('T', ' ')}, ${r.meta.commit}${r.meta.dirty ? ' (+ uncommitted)' : ''}` : '—'} |`,
  ),
];
/** Which test projects ran against the file's mutants. */
function testsOf(meta) {
  if (meta?.tests === undefined) return '—';
  if (meta.tests.startsWith('focused')) return 'focused';
  return meta.tests.includes(',') ? 'all five' : `${meta.tests} only`;
}
const machines = [...new Set(rows.filter((r) => r.meta).map((r) => r.meta.machine))];
const table = [
  ...lines,
  '',
  `Written by \`node tools/mutate/report.mjs\` from the JSON reports of \`npm run mutate\` (StrykerJS 9, vitest runner, property tests at fixed seed 22), on ${machines.join('; ') || 'an unknown machine'}.`,
].join('\n');

if (stdout) console.log(table);
else {
  const readmePath = `${root}README.md`;
  const readme = readFileSync(readmePath, 'utf8');
  const begin = '<!-- mutation-scores:begin -->';
  const end = '<!-- mutation-scores:end -->';
  const a = readme.indexOf(begin);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) {
    console.error(`report: README.md has no ${begin} … ${end} markers (section "Mutation testing")`);
    process.exit(1);
  }
  writeFileSync(readmePath, `${readme.slice(0, a + begin.length)}\n${table}\n${readme.slice(b)}`);
  console.log(`report: wrote the scores of ${rows.filter((r) => !r.missing).length} file(s) into README.md`);
}
if (min !== undefined) {
  const low = rows.filter((r) => !r.missing && r.score !== undefined && r.score < min);
  for (const r of low) console.error(`report: ${r.file} scores ${pct(r.score)} < ${min} %`);
  if (low.length > 0) process.exit(1);
}
