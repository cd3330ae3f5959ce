// The "## Series history" block that opens each feature package's CHANGELOG.md: the
// version history its cover letter(s) give, oldest step first, then the patches of the
// posted version and the module of this package that models each one.
import type { PackageSeriesMeta } from '../metadata/package-meta.js';
import type { SeriesRecord } from '../metadata/series-record.js';

export const BLOCK_START = '<!-- kvmlab-series:start (generated from series.json by `kvmlab-series changelog`; edit series.json, not this block) -->';
export const BLOCK_END = '<!-- kvmlab-series:end -->';

/** Escapes what markdown (and prettier) would otherwise read as emphasis or markup. */
function md(text: string): string {
  // An underscore inside a word (ptp_kvm) is never emphasis in CommonMark: leave it readable.
  return text.replace(/([\\`*<>[\]])/g, '\\$1').replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** Which other packages model a patch: key `claimKey(messageId, title)` → package names. */
export type Elsewhere = ReadonlyMap<string, readonly string[]>;

export function claimKey(messageId: string, title: string): string {
  return `${messageId}\u0000${title}`;
}

function seriesSection(r: SeriesRecord, meta: PackageSeriesMeta, elsewhere: Elsewhere): string[] {
  const out: string[] = [];
  const day = r.date.slice(0, 10);
  out.push(`### ${md(r.subject)}`, '');
  out.push(`${md(r.author.name)} (${code(r.author.address)}), ${day}, Message-Id ${code(r.messageId)}.`, '');
  const steps = [...r.history].sort((a, b) => a.from - b.from || a.to - b.to);
  if (steps.length === 0) {
    out.push(`v${r.version} is the first posting: the cover letter gives no earlier versions.`, '');
  } else {
    const chain = [steps[0]?.from ?? 1, ...steps.map((s) => s.to)].map((v) => `v${v}`).join(' → ');
    out.push(`Versions: ${chain}.`, '');
  }
  for (const s of steps) {
    out.push(`#### v${s.from} → v${s.to}`, '');
    out.push(...s.items.map((item) => `- ${md(item)}`), '');
  }
  out.push(`#### Patches in v${r.version}`, '');
  for (const p of r.patches) {
    const refs = meta.models[p.title] ?? [];
    const others = (elsewhere.get(claimKey(r.messageId, p.title)) ?? []).filter((n) => n !== meta.package);
    const where =
      refs.length > 0
        ? `modelled by ${refs.map((x) => code(x.file)).join(', ')}`
        : others.length > 0
          ? `modelled in ${others.map(code).join(', ')}`
          : 'not modelled in this package';
    out.push(`- ${md(p.title)} (${md(p.author)}): ${where}`);
  }
  out.push('');
  return out;
}

/** The whole block, markers included, ending with a newline. */
export function renderSeriesHistory(meta: PackageSeriesMeta, elsewhere: Elsewhere = new Map()): string {
  const lines = [BLOCK_START, '', '## Series history', ''];
  lines.push(
    meta.series.length === 1
      ? 'This package models the patch series below, as its cover letter tells its history.'
      : 'This package models the patch series below, as their cover letters tell their history.',
    '',
  );
  for (const r of meta.series) lines.push(...seriesSection(r, meta, elsewhere));
  lines.push(BLOCK_END);
  return `${lines.join('\n')}\n`;
}
