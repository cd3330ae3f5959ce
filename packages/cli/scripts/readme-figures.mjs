#!/usr/bin/env node
// Regenerates the README's "Figures" block from real runs: the built `kvmlab demo --seed 0`
// three times, its summary table from the first run and the wall time of each (min–max,
// median), with the machine it ran on. Usage (after `npx tsc -b`):
//   npm run readme-figures -w @kvmlab/cli        (or: node packages/cli/scripts/readme-figures.mjs)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = join(pkg, 'README.md');
const RUNS = 3;
const START = '<!-- readme-figures:start -->';
const END = '<!-- readme-figures:end -->';

const walls = [];
let table = '';
for (let i = 0; i < RUNS; i++) {
  const out = mkdtempSync(join(tmpdir(), 'kvmlab-figures-'));
  const t0 = performance.now();
  // Wide COLUMNS: the table as one row per run, not wrapped to 80 columns.
  const r = spawnSync(process.execPath, [join(pkg, 'bin', 'kvmlab.js'), 'demo', '--seed', '0', '--out', out], { encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
  walls.push((performance.now() - t0) / 1000);
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`kvmlab demo exited ${r.status}: ${r.stderr}`);
  if (i === 0) table = r.stdout.split('\n').filter((l) => !l.startsWith('wrote ')).join('\n').trimEnd();
}
const sorted = [...walls].sort((a, b) => a - b);
const s = (x) => x.toFixed(1);
const machine = `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${process.platform}/${process.arch}`;
const block = `${START}
\`kvmlab demo --seed 0\` took ${s(sorted[0])}–${s(sorted.at(-1))} s of wall time over ${RUNS} runs (median
${s(sorted[Math.floor(RUNS / 2)])} s; ${machine}; the machine is shared, so the spread is mostly other load) and printed:

\`\`\`
${table}
\`\`\`

Measured by \`scripts/readme-figures.mjs\` on ${new Date().toISOString().slice(0, 10)}; rerun it to refresh this block.
${END}`;
const text = readFileSync(readme, 'utf8');
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < 0) throw new Error(`README.md has no ${START} … ${END} block`);
writeFileSync(readme, text.slice(0, a) + block + text.slice(b + END.length));
console.log(`README figures: ${walls.map(s).join(', ')} s`);
