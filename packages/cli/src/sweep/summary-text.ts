/** summary.txt (and what `kvmlab sweep` prints): the summary as tables a person reads. */
import { textTable } from '../text-table.js';
import type { CellSummary, SweepSummary } from './summary.js';

const pct = (x: number): string => `${(x * 100).toFixed(x === 0 || x === 1 ? 0 : 1)} %`;

const num = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));

function cellName(c: CellSummary): string {
  const set = Object.entries(c.set).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  return `variant ${c.variant}${set !== '' ? `, ${set}` : ''}`;
}

function cellText(c: CellSummary): string {
  const verdicts = Object.entries(c.verdicts).map(([v, n]) => `${v} ${n}`).join(', ');
  const lost = c.crashed + c.killed > 0 ? `; crashed ${c.crashed}, killed ${c.killed}` : '';
  const head = `${cellName(c)}: ${c.runs} runs; bug reproduced in ${c.verdicts['bug-reproduced'] ?? 0} of ${c.done} (${pct(c.bugRate)}); ${verdicts || 'no results'}${lost}\n`;
  const table = c.figures.length > 0 ? textTable(['figure', 'n', 'min', 'median', 'p99', 'max'], c.figures.map((f) => [`${f.label}${f.unit !== undefined ? ` (${f.unit})` : ''}`, String(f.n), num(f.min), num(f.median), num(f.p99), num(f.max)])) : '';
  const worst = c.worst.length > 0 ? `worst runs:\n${c.worst.map((w) => `  #${w.index} seed ${w.seed} ${w.status === 'done' ? (w.verdict ?? '') : w.status}: ${w.headline}\n    ${w.command}`).join('\n')}\n` : '';
  return `${head}${table}${worst}`;
}

export function summaryText(s: SweepSummary): string {
  const dist = s.randomize ? `randomised workload (drawn from each run's seed):\n${Object.entries(s.distributions).map(([k, t]) => `  ${k}: ${t}`).join('\n') || '  (the scenario draws nothing: seeds only)'}\n` : '';
  const set = s.set.length > 0 ? `--set: ${s.set.map((a) => `${a.option}=${a.values.map(String).join(',')}`).join(' ')}\n` : '';
  const head = `sweep ${s.scenario} (${s.arch}, ${s.package}): ${s.recorded} of ${s.gridRuns} runs recorded, ${s.seeds} seeds\n${set}${dist}`;
  const failures = s.failures.length > 0
    ? `\n${s.failures.length} run(s) crashed or were killed:\n${s.failures.slice(0, 20).map((f) => `  #${f.index} seed ${f.seed} ${f.variant} ${f.status}: ${f.error}\n    ${f.command}`).join('\n')}${s.failures.length > 20 ? `\n  … ${s.failures.length - 20} more in summary.json` : ''}\n`
    : '';
  return `${head}\n${s.cells.map(cellText).join('\n')}${failures}`;
}
