// `kvmlab-series changelog [--check]`: writes (or, with --check, only verifies) the
// "## Series history" block at the top of each packages/*/CHANGELOG.md that has a series.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SERIES_FILE, listPackages } from '../check/workspace.js';
import { claimKey, renderSeriesHistory } from '../changelog/series-history.js';
import { upsertSeriesHistory } from '../changelog/update-changelog.js';
import { parsePackageMeta, type PackageSeriesMeta } from '../metadata/package-meta.js';
import type { Io } from './io.js';

function packageName(dir: string, fallback: string): string {
  try {
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return typeof pj.name === 'string' ? pj.name : fallback;
  } catch {
    return fallback;
  }
}

export function changelogCommand(root: string, checkOnly: boolean, io: Io): number {
  let problems = 0;
  const metas: { dir: string; meta: PackageSeriesMeta }[] = [];
  for (const pkg of listPackages(root)) {
    const dir = join(root, 'packages', pkg);
    const metaPath = join(dir, SERIES_FILE);
    if (!existsSync(metaPath)) continue;
    let parsed;
    try {
      parsed = parsePackageMeta(JSON.parse(readFileSync(metaPath, 'utf8')));
    } catch (e) {
      parsed = { ok: false as const, errors: [`not valid JSON: ${e instanceof Error ? e.message : String(e)}`] };
    }
    if (!parsed.ok) {
      for (const m of parsed.errors) io.err(`${relative(root, metaPath)}: ${m}`);
      problems++;
      continue;
    }
    metas.push({ dir, meta: { ...parsed.meta, package: packageName(dir, pkg) } });
  }
  // Which package models which patch, so each block can send the reader to the right one.
  const elsewhere = new Map<string, string[]>();
  for (const { meta } of metas) {
    for (const r of meta.series) {
      for (const p of r.patches) {
        if ((meta.models[p.title] ?? []).length === 0) continue;
        const key = claimKey(r.messageId, p.title);
        elsewhere.set(key, [...(elsewhere.get(key) ?? []), meta.package ?? '']);
      }
    }
  }
  for (const { dir, meta } of metas) {
    const path = join(dir, 'CHANGELOG.md');
    const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    const next = upsertSeriesHistory(existing, renderSeriesHistory(meta, elsewhere), meta.package ?? '');
    const state = existing === undefined ? 'created' : existing === next ? 'up to date' : 'updated';
    if (checkOnly) {
      if (state !== 'up to date') {
        io.err(`${relative(root, path)}: series history is stale (run \`kvmlab-series changelog\`)`);
        problems++;
      } else io.out(`${relative(root, path)}: up to date`);
      continue;
    }
    if (state !== 'up to date') writeFileSync(path, next);
    io.out(`${relative(root, path)}: ${state}`);
  }
  return problems > 0 ? 1 : 0;
}
