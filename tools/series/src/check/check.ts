// `kvmlab-series check`: every feature package's series.json matches its cover letters in
// the mbox, every file its `models` map names exists, and every patch of every series in
// the mbox is modelled by at least one package module.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { diffJson, showValue } from '../metadata/diff.js';
import { parsePackageMeta, type PackageSeriesMeta } from '../metadata/package-meta.js';
import { diffstatNames, recordFromCover, type SeriesRecord } from '../metadata/series-record.js';
import { readSeries } from '../read-series.js';
import { FEATURE_PACKAGES, SERIES_FILE, listPackages } from './workspace.js';

export interface CheckOptions {
  readonly root: string;
  readonly mboxPath: string;
  /** Packages that must have a series.json (default: the feature packages). */
  readonly required?: readonly string[];
}

export interface Claim {
  readonly seriesTitle: string;
  readonly patch: string;
  /** "pkg/src/file.ts" entries of modules that model it. */
  readonly modules: readonly string[];
}

export interface CheckReport {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  readonly claims: readonly Claim[];
  readonly packagesChecked: number;
  readonly seriesCount: number;
}

const MAX_FIELD_DIFFS = 8;

function loadMeta(path: string, file: string, errors: string[]): PackageSeriesMeta | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    errors.push(`${file}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  const parsed = parsePackageMeta(value);
  if (!parsed.ok) {
    errors.push(...parsed.errors.map((m) => `${file}: ${m}`));
    return undefined;
  }
  return parsed.meta;
}

function normTitle(t: string): string {
  return t.toLowerCase().replace(/[.\s]+$/g, '').replace(/\s+/g, ' ');
}

export async function checkWorkspace(opts: CheckOptions): Promise<CheckReport> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const rel = (p: string): string => relative(opts.root, p) || '.';
  const mboxName = rel(opts.mboxPath);
  if (!existsSync(opts.mboxPath)) {
    return { errors: [`${mboxName}: mbox not found`], warnings, claims: [], packagesChecked: 0, seriesCount: 0 };
  }
  const file = await readSeries(readFileSync(opts.mboxPath, 'utf8'));
  for (const d of file.diagnostics) (d.severity === 'error' ? errors : warnings).push(`${mboxName}:${d.line}: ${d.message}`);
  const expected = new Map<string, SeriesRecord>(file.covers.map((c) => [c.messageId, recordFromCover(c)]));
  const modulesOf = new Map<string, Map<string, string[]>>(); // messageId → patch title → modules
  for (const [id, r] of expected) modulesOf.set(id, new Map(r.patches.map((p) => [p.title, []])));
  const claimedBy = new Map<string, string[]>(); // messageId → packages

  const required = opts.required ?? FEATURE_PACKAGES;
  const present = listPackages(opts.root);
  for (const pkg of required) {
    if (!present.includes(pkg)) errors.push(`packages/${pkg}: feature package not found`);
  }
  let checked = 0;
  for (const pkg of present) {
    const pkgDir = join(opts.root, 'packages', pkg);
    const metaFile = join(pkgDir, SERIES_FILE);
    if (!existsSync(metaFile)) {
      if (required.includes(pkg)) errors.push(`${rel(metaFile)}: missing (every feature package names the series it models)`);
      continue;
    }
    checked++;
    const meta = loadMeta(metaFile, rel(metaFile), errors);
    if (meta === undefined) continue;
    const where = rel(metaFile);
    const ownTitles = new Map<string, SeriesRecord>();
    meta.series.forEach((stored, i) => {
      const want = expected.get(stored.messageId);
      if (want === undefined) {
        const sameTitle = file.covers.find((c) => c.title === stored.title);
        errors.push(
          `${where}: series[${i}] ${stored.messageId} is not a cover letter in ${mboxName}` +
            (sameTitle ? ` (the mbox has v${sameTitle.version} of "${sameTitle.title}": run \`kvmlab-series sync\`)` : ''),
        );
        return;
      }
      const diffs = diffJson(want, stored, `series[${i}]`);
      for (const d of diffs.slice(0, MAX_FIELD_DIFFS)) {
        errors.push(`${where}: ${d.path} is ${showValue(d.actual)}, the cover letter says ${showValue(d.expected)}`);
      }
      if (diffs.length > MAX_FIELD_DIFFS) errors.push(`${where}: … and ${diffs.length - MAX_FIELD_DIFFS} more differing field(s)`);
      claimedBy.set(want.messageId, [...(claimedBy.get(want.messageId) ?? []), pkg]);
      for (const p of want.patches) ownTitles.set(p.title, want);
    });
    for (const [title, refs] of Object.entries(meta.models)) {
      const series = ownTitles.get(title);
      if (series === undefined) {
        const near = [...ownTitles.keys()].find((t) => normTitle(t) === normTitle(title));
        errors.push(
          `${where}: models names a patch that is not in this package's series: ${JSON.stringify(title)}` +
            (near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`),
        );
        continue;
      }
      for (const ref of refs) {
        const path = join(pkgDir, ref.file);
        if (!existsSync(path)) errors.push(`${where}: missing file ${rel(path)} (models ${JSON.stringify(title)})`);
        else modulesOf.get(series.messageId)?.get(title)?.push(`${pkg}/${ref.file}`);
        for (const k of ref.kernel ?? []) {
          if (!diffstatNames(series, k)) {
            errors.push(`${where}: ${ref.file} claims kernel file ${k}, which the diffstat of "${series.title}" does not name`);
          }
        }
      }
    }
  }
  const claims: Claim[] = [];
  for (const c of file.covers) {
    if (!claimedBy.has(c.messageId)) errors.push(`series "${c.subject}" (${mboxName}:${c.fromLine}) is claimed by no package`);
    for (const [patch, modules] of modulesOf.get(c.messageId) ?? []) {
      claims.push({ seriesTitle: c.title, patch, modules });
      if (modules.length === 0 && claimedBy.has(c.messageId)) {
        errors.push(`patch "${patch}" of "${c.title}" is modelled by no existing package module`);
      }
    }
  }
  return { errors, warnings, claims, packagesChecked: checked, seriesCount: file.covers.length };
}
