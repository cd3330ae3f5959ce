// `kvmlab-series import <mbox> [--out dir]`: one <out>/<series-slug>/series.json per cover
// letter, in the same format as a package's series.json (with an empty `models` map to fill).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative } from 'node:path';
import { formatDiagnostic, hasErrors } from '../mbox/diagnostic.js';
import { recordFromCover, seriesSlug } from '../metadata/series-record.js';
import { readSeries } from '../read-series.js';
import type { Io } from './io.js';

function show(io: Io, path: string): string {
  const r = relative(io.cwd, path);
  return r === '' || r.startsWith('..') || isAbsolute(r) ? path : r;
}

export async function importCommand(mboxPath: string, outDir: string, io: Io): Promise<number> {
  let text: string;
  try {
    text = readFileSync(mboxPath, 'utf8');
  } catch (e) {
    io.err(`kvmlab-series: cannot read ${mboxPath}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const file = await readSeries(text);
  const name = show(io, mboxPath);
  for (const d of file.diagnostics) io.err(formatDiagnostic(d, name));
  for (const c of file.covers) {
    const record = recordFromCover(c);
    const dir = join(outDir, seriesSlug(record));
    mkdirSync(dir, { recursive: true });
    const target = join(dir, 'series.json');
    const doc = { source: basename(mboxPath), series: [record], models: {} };
    writeFileSync(target, `${JSON.stringify(doc, null, 2)}\n`);
    const stat = record.diffstat;
    io.out(
      `${show(io, target)}: ${record.subject} — ${record.author.name}, ${record.patches.length} patch(es)` +
        (stat === null ? '' : `, ${stat.files} files, +${stat.insertions} -${stat.deletions}`),
    );
  }
  io.out(`imported ${file.covers.length} series from ${name}`);
  return hasErrors(file.diagnostics) ? 1 : 0;
}
