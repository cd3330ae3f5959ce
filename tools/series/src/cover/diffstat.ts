// The `git diff --stat --summary` block that ends a cover letter: one line per file
// ("path | N +++--" or "path | Bin a -> b bytes"), the totals line ("13 files changed,
// 262 insertions(+), 61 deletions(-)") and the summary lines (create/delete mode, rename,
// copy, mode change). Renamed paths use git's brace form "dir/{old => new}".
import { error, type Diagnostic } from '../mbox/diagnostic.js';

export interface DiffstatFile {
  /** The path as git printed it (may be shortened with a leading ".../"). */
  readonly path: string;
  /** Lines changed (insertions + deletions); 0 for a binary file. */
  readonly changes: number;
  readonly binary: boolean;
}

export interface Rename {
  readonly from: string;
  readonly to: string;
  /** Similarity index in percent. */
  readonly similarity: number;
}

export interface Diffstat {
  readonly files: number;
  readonly insertions: number;
  readonly deletions: number;
  readonly entries: readonly DiffstatFile[];
  readonly renames: readonly Rename[];
  readonly created: readonly string[];
  readonly deleted: readonly string[];
}

export interface DiffstatParse {
  readonly diffstat: Diffstat | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

const FILE_LINE = /^ (\S.*?)\s+\|\s+(?:(\d+)(?: [+-]+)?|Bin \d+ -> \d+ bytes)\s*$/;
const TOTALS = /^ (\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?\s*$/;
const CREATE_DELETE = /^ (create|delete) mode \d+ (.+)$/;
const RENAME = /^ (?:rename|copy) (.+) \((\d+)%\)$/;

/** Expands git's "a/{b => c}/d" form into its two paths. */
export function expandRename(spec: string): { readonly from: string; readonly to: string } {
  const m = /^(.*)\{(.*) => (.*)\}(.*)$/.exec(spec);
  if (m === null) {
    const plain = /^(.*) => (.*)$/.exec(spec);
    return plain === null ? { from: spec, to: spec } : { from: plain[1] ?? '', to: plain[2] ?? '' };
  }
  const [pre, a, b, post] = [m[1] ?? '', m[2] ?? '', m[3] ?? '', m[4] ?? ''];
  const join = (mid: string): string => `${pre}${mid}${post}`.replace(/\/\/+/g, '/');
  return { from: join(a), to: join(b) };
}

/** Finds the diffstat of a body; `firstLine` is the mbox line of the body's first line. */
export function parseDiffstat(body: string, firstLine: number): DiffstatParse {
  const lines = body.split('\n');
  const start = lines.findIndex((l) => FILE_LINE.test(l));
  if (start < 0) return { diffstat: undefined, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const entries: DiffstatFile[] = [];
  let i = start;
  for (; i < lines.length; i++) {
    const m = FILE_LINE.exec(lines[i] ?? '');
    if (m === null) break;
    entries.push({ path: m[1] ?? '', changes: m[2] === undefined ? 0 : Number(m[2]), binary: m[2] === undefined });
  }
  const totals = TOTALS.exec(lines[i] ?? '');
  if (totals === null) {
    diagnostics.push(
      error(firstLine + i, `diffstat of ${entries.length} file(s) has no totals line ("N files changed, …") (truncated?)`),
    );
    return { diffstat: undefined, diagnostics };
  }
  const totalsLine = firstLine + i;
  const files = Number(totals[1]);
  const insertions = totals[2] === undefined ? 0 : Number(totals[2]);
  const deletions = totals[3] === undefined ? 0 : Number(totals[3]);
  const renames: Rename[] = [];
  const created: string[] = [];
  const deleted: string[] = [];
  for (i += 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const cd = CREATE_DELETE.exec(line);
    const rn = RENAME.exec(line);
    if (cd !== null) (cd[1] === 'create' ? created : deleted).push(cd[2] ?? '');
    else if (rn !== null) renames.push({ ...expandRename(rn[1] ?? ''), similarity: Number(rn[2]) });
    else if (!/^ mode change /.test(line)) break;
  }
  if (entries.length !== files) {
    diagnostics.push(error(totalsLine, `diffstat lists ${entries.length} file(s) but its totals line says ${files}`));
  }
  const sum = entries.reduce((s, e) => s + e.changes, 0);
  if (sum !== insertions + deletions) {
    diagnostics.push(
      error(totalsLine, `diffstat does not add up: the files' changes sum to ${sum}, the totals to ${insertions + deletions}`),
    );
  }
  return { diffstat: { files, insertions, deletions, entries, renames, created, deleted }, diagnostics };
}
