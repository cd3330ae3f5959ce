/**
 * `npm run bench`: every suite, one table, and bench/results.json, measured on the built packages
 * (dist/, what npm users run; the script builds first). Figures, ratios against a
 * baseline measured in the same run, and the targets from the issues. Never a test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure, Suite } from './harness.js';
import { suites } from './suites/index.js';

const only = process.argv.slice(2);
const chosen: readonly Suite[] = only.length > 0 ? suites.filter((s) => only.includes(s.name)) : suites;
const figures: Figure[] = [];
for (const s of chosen) {
  process.stderr.write(`running suite ${s.name}…\n`);
  figures.push(...(await s.run()));
}

const fmt = (v: number): string => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4));
console.table(
  figures.map((f) => ({
    figure: f.id,
    // a repeated figure (no baseline): the median with the repetitions' min–max
    value: `${fmt(f.value)} ${f.unit}${f.ratio === undefined && f.spread ? ` [${fmt(f.spread.min)}–${fmt(f.spread.max)}, ${f.spread.reps} runs]` : ''}`,
    baseline: f.baseline ? `${fmt(f.baseline.value)} ${f.baseline.unit}` : '',
    ratio: f.ratio !== undefined ? `${f.ratio.toFixed(2)}×${f.spread ? ` [${f.spread.min.toFixed(2)}–${f.spread.max.toFixed(2)}, ${f.spread.reps} pairs]` : ''}` : '',
    target: f.target ?? '',
    met: f.verdict !== undefined ? (f.verdict === 'met' ? 'yes' : f.verdict === 'missed' ? 'NO' : 'noisy') : f.met === undefined ? '' : f.met ? 'yes' : 'NO',
  })),
);
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const out = join(root, 'bench', 'results.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ node: process.version, date: new Date().toISOString(), figures }, null, 2) + '\n');
console.log(`wrote ${out}`);
