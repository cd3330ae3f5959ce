/**
 * TAP version 14 (testanything.org/tap-version-14-specification.html) for `kvmlab conform`, in
 * the shape kselftest prints: the version line, the plan, one `ok N - …` / `not ok N - …` line
 * per step, `# SKIP reason` for steps not run, `# TODO` for documented era differences, and a
 * YAML block (indented `---` … `...`) with the kernel's and the model's answers for failures,
 * or for every step with `verbose`.
 */
import type { ConformanceReport } from '@kvmlab/linux-kvm';

/** A directive or description must not contain an unescaped `#` (TAP 14: escape with `\`). */
const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/#/g, '\\#');

/** A YAML block scalar-safe line: JSON strings are valid YAML flow scalars. */
const yaml = (fields: Readonly<Record<string, string>>): string[] => [
  '  ---',
  ...Object.entries(fields).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
  '  ...',
];

export interface TapOptions {
  /** The kernel/model detail for every step, not only for failures and era differences. */
  readonly verbose?: boolean;
}

/** The conformance report as a TAP 14 stream (ends with a newline). */
export function formatConformanceTap(r: ConformanceReport, opts: TapOptions = {}): string {
  const total = r.rows.length + r.skipped.length;
  const out = ['TAP version 14', `1..${total}`, `# kernel ${r.uname} (${r.source}) vs model (kernel era ${r.era.name})`];
  let n = 0;
  for (const row of r.rows) {
    n++;
    const desc = esc(`${row.script}/${row.index} ${row.step}`);
    if (row.match === 'yes') out.push(`ok ${n} - ${desc}`);
    else if (row.match === 'era') out.push(`not ok ${n} - ${desc} # TODO ${esc(row.era ?? 'documented era difference')}`);
    else out.push(`not ok ${n} - ${desc}`);
    if (row.match !== 'yes' || opts.verbose === true) out.push(...yaml({ kernel: row.kernel, model: row.model, ...(row.era !== undefined ? { era: row.era } : {}) }));
  }
  for (const s of r.skipped) {
    n++;
    out.push(`ok ${n} - ${esc(`${s.script}/${s.index} ${s.step}`)} # SKIP ${esc(s.reason)}`);
  }
  const c = r.counts;
  out.push(`# ${c.steps} steps: ${c.match} match, ${c.era} known era differences, ${c.mismatch} mismatches, ${r.skipped.length} skipped`);
  return `${out.join('\n')}\n`;
}

/** kselftest's exit status: 0 when no step failed (TODO and SKIP do not fail), else 1. */
export const tapExitStatus = (r: ConformanceReport): 0 | 1 => (r.counts.mismatch > 0 ? 1 : 0);
