// `kvmlab-series sync`: refreshes the `series` records of every packages/*/series.json from
// the mbox (same Message-Id, or the newest posting with the same title), keeping every
// other key — the hand-kept `models` map above all — exactly as it was.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SERIES_FILE, listPackages } from '../check/workspace.js';
import { formatDiagnostic } from '../mbox/diagnostic.js';
import { recordFromCover, type SeriesRecord } from '../metadata/series-record.js';
import { readSeries } from '../read-series.js';
import type { Io } from './io.js';

function isRecordLike(v: unknown): v is { messageId?: unknown; title?: unknown } {
  return typeof v === 'object' && v !== null;
}

export async function syncCommand(root: string, mboxPath: string, io: Io): Promise<number> {
  const file = await readSeries(readFileSync(mboxPath, 'utf8'));
  for (const d of file.diagnostics) io.err(formatDiagnostic(d, relative(root, mboxPath)));
  const byId = new Map<string, SeriesRecord>(file.covers.map((c) => [c.messageId, recordFromCover(c)]));
  let failures = 0;
  for (const pkg of listPackages(root)) {
    const path = join(root, 'packages', pkg, SERIES_FILE);
    if (!existsSync(path)) continue;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      io.err(`${relative(root, path)}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      failures++;
      continue;
    }
    const series = Array.isArray(doc['series']) ? (doc['series'] as unknown[]) : [];
    const next = series.map((s) => {
      if (!isRecordLike(s)) return s;
      const same = typeof s.messageId === 'string' ? byId.get(s.messageId) : undefined;
      if (same !== undefined) return same;
      const newer = [...byId.values()].filter((r) => r.title === s.title).sort((a, b) => b.version - a.version)[0];
      if (newer === undefined) {
        io.err(`${relative(root, path)}: ${String(s.messageId)} is not in the mbox; left as it is`);
        failures++;
        return s;
      }
      io.out(`${relative(root, path)}: "${newer.title}" now follows v${newer.version} (${newer.messageId})`);
      return newer;
    });
    const before = JSON.stringify(doc, null, 2);
    doc['series'] = next;
    const after = JSON.stringify(doc, null, 2);
    if (after !== before) writeFileSync(path, `${after}\n`);
    io.out(`${relative(root, path)}: ${after === before ? 'up to date' : 'updated'}`);
  }
  return failures > 0 ? 1 : 0;
}
