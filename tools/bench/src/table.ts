/**
 * `npm run bench:table -- results1.json results2.json …`: the README's performance table from
 * several `npm run bench` runs (copies of bench/results.json), each cell the range over the
 * runs — so a figure in the README is a script's output with its spread, never typed by hand.
 */
import { readFileSync } from 'node:fs';
import type { Figure } from './harness.js';

const args = process.argv.slice(2);
// --demo-line: only the README's sentence on the demo's wall time and RSS (figures demo-wall, demo-peak-rss).
const demoLine = args.includes('--demo-line');
const files = args.filter((a) => a !== '--demo-line');
if (files.length === 0) {
  process.stderr.write('usage: bench:table results1.json [results2.json …]\n');
  process.exit(2);
}
const runs = files.map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { figures: Figure[] }).figures);
const fmt = (v: number): string => (Math.abs(v) >= 1e5 ? v.toExponential(2) : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
const range = (xs: readonly number[]): string => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return fmt(lo) === fmt(hi) ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
};

if (demoLine) {
  const pick = (id: string): Figure[] => runs.map((r) => r.find((x) => x.id === id)).filter((x): x is Figure => x !== undefined);
  const wall = pick('demo-wall');
  const rss = pick('demo-peak-rss');
  if (wall.length === 0 || rss.length === 0) {
    process.stderr.write('bench:table --demo-line: no demo-wall / demo-peak-rss figure in these results\n');
    process.exit(2);
  }
  const reps = wall.reduce((a, f) => a + (f.spread?.reps ?? 1), 0);
  const lo = (fs: Figure[]): number => Math.min(...fs.map((f) => f.spread?.min ?? f.value));
  const hi = (fs: Figure[]): number => Math.max(...fs.map((f) => f.spread?.max ?? f.value));
  console.log(`\`npx kvmlab demo\` (seed 0, all fifteen runs and the report) takes ${range(wall.map((f) => f.value))} s wall (median of each bench run; single runs ${fmt(lo(wall))}–${fmt(hi(wall))} s) with a peak RSS of ${range(rss.map((f) => f.value))} MB (single runs ${fmt(lo(rss))}–${fmt(hi(rss))} MB): ${reps} spawned runs of the built CLI over ${files.length} \`npm run bench\` runs, node ${process.version}, on this shared 2-core machine.`);
  process.exit(0);
}

console.log(`| figure | value | baseline (same run) | ratio (median of pairs) | target | verdicts |`);
console.log('|---|---|---|---|---|---|');
for (const f of runs[0]!) {
  const same = runs.map((r) => r.find((x) => x.id === f.id)).filter((x): x is Figure => x !== undefined);
  const value = `${range(same.map((x) => x.value))} ${f.unit}`;
  const base = f.baseline !== undefined ? `${f.baseline.description}: ${range(same.map((x) => x.baseline!.value))} ${f.baseline.unit}` : '—';
  const ratio = f.ratio !== undefined ? `${range(same.map((x) => x.ratio!))}×` : '—';
  const verdicts = same.map((x) => x.verdict ?? (x.met === undefined ? undefined : x.met ? 'met' : 'missed')).filter((v) => v !== undefined);
  console.log(`| ${f.description} | ${value} | ${base} | ${ratio} | ${f.target ?? '—'} | ${verdicts.length > 0 ? verdicts.join(', ') : '—'} |`);
}
console.log(`\n${files.length} runs of \`npm run bench\`, node ${process.version}.`);
