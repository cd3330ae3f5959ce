#!/usr/bin/env node
// The README's sweep statistics (root README, "Sweeps"): reads the runs.jsonl of one or more
// sweep directories of one scenario (e.g. the seed chunks readme-sweeps.sh writes) and prints,
// per variant, the runs, how many reproduced the bug, and min / median / max of the figures
// the README's claims are about. Usage: node sweep-stats.mjs DIR…
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const CLAIM_FIGURES = [
  'pages lost (nested L2 workload)', 'pages lost (plain L1 workload)', 'CR3 corruptions detected by Muen',
  'syncs passed', 'PTP_SYS_OFFSET_PRECISE: max |offset|', 'PTP_SYS_OFFSET_PRECISE: p99 |offset|', 'PTP_SYS_OFFSET_PRECISE: RMS offset',
];

const runs = process.argv.slice(2).flatMap((dir) =>
  readFileSync(join(dir, 'runs.jsonl'), 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l)));
if (runs.length === 0) throw new Error('no runs');
const byVariant = new Map();
for (const r of runs) {
  const k = r.variant;
  if (!byVariant.has(k)) byVariant.set(k, []);
  byVariant.get(k).push(r);
}
const rank = (s, p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
const seeds = runs.map((r) => r.seed);
console.log(`${runs[0].result?.scenario ?? '?'} ${runs[0].result?.arch ?? ''}: ${runs.length} runs, seeds ${Math.min(...seeds)}–${Math.max(...seeds)} (${new Set(seeds).size} distinct)`);
for (const [variant, rs] of byVariant) {
  const done = rs.filter((r) => r.status === 'done');
  const bug = done.filter((r) => r.result.verdict === 'bug-reproduced').length;
  const verdicts = {};
  for (const r of done) verdicts[r.result.verdict] = (verdicts[r.result.verdict] ?? 0) + 1;
  console.log(`  ${variant}: ${rs.length} runs, ${rs.length - done.length} crashed/killed; bug reproduced in ${bug} (${((100 * bug) / Math.max(1, done.length)).toFixed(1)} %); verdicts ${JSON.stringify(verdicts)}`);
  for (const label of CLAIM_FIGURES) {
    const v = done.map((r) => r.result.figures.find((f) => f.label === label)?.value).filter((x) => typeof x === 'number').sort((a, b) => a - b);
    if (v.length === 0) continue;
    const worst = done.reduce((w, r) => ((r.result.figures.find((f) => f.label === label)?.value ?? -Infinity) > (w.result.figures.find((f) => f.label === label)?.value ?? -Infinity) ? r : w));
    console.log(`    ${label}: n ${v.length}, min ${v[0]}, median ${rank(v, 50)}, p99 ${rank(v, 99)}, max ${v[v.length - 1]} (max at seed ${worst.seed}: ${worst.command})`);
    if (label.includes('PRECISE: max')) console.log(`      runs above 2 ns: ${v.filter((x) => x > 2).length}`);
  }
  // ptp-sync swept with convergeNs=2: when every PRECISE offset has stayed within ±2 ns.
  for (const label of ['PTP_SYS_OFFSET_PRECISE: convergence', 'PTP_SYS_OFFSET: convergence']) {
    const c = done.map((r) => ({ r, v: r.result.figures.find((f) => f.label === label)?.value })).filter((x) => x.v !== undefined);
    if (c.length === 0) continue;
    const never = c.filter((x) => x.v === 'never');
    const t = c.filter((x) => typeof x.v === 'number').map((x) => x.v).sort((a, b) => a - b);
    const late = c.filter((x) => typeof x.v === 'number' && x.v > x.r.options.durationS / 2);
    console.log(`    ${label} (within convergeNs ${done[0].options.convergeNs} ns): never ${never.length} of ${c.length}${t.length ? `; time min ${t[0]} s, median ${rank(t, 50)} s, p99 ${rank(t, 99)} s, max ${t[t.length - 1]} s` : ''}; settled only in the run's second half: ${late.length}`);
    for (const x of late.slice(0, 5)) console.log(`      seed ${x.r.seed}: ${x.v} s of ${x.r.options.durationS} s — ${x.r.command}`);
  }
}
