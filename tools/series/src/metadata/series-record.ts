// The JSON form of a cover letter as stored in a package's series.json: everything the
// check compares against the mbox. JSON has no undefined, so absent values are null.
import type { CoverLetter } from '../cover/cover-letter.js';
import type { Mailbox } from '../mbox/parse-message.js';

export interface SeriesRecord {
  readonly messageId: string;
  readonly patchworkId: number | null;
  readonly subject: string;
  readonly tags: readonly string[];
  readonly rfc: boolean;
  readonly version: number;
  readonly total: number | null;
  readonly title: string;
  readonly author: { readonly name: string; readonly address: string };
  readonly date: string;
  readonly dateHeader: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly history: readonly { readonly from: number; readonly to: number; readonly items: readonly string[] }[];
  readonly patches: readonly { readonly author: string; readonly title: string }[];
  readonly diffstat: {
    readonly files: number;
    readonly insertions: number;
    readonly deletions: number;
    readonly entries: readonly { readonly path: string; readonly changes: number; readonly binary: boolean }[];
    readonly renames: readonly { readonly from: string; readonly to: string; readonly similarity: number }[];
    readonly created: readonly string[];
    readonly deleted: readonly string[];
  } | null;
  readonly body: string;
}

export function formatMailbox(m: Mailbox): string {
  return m.name === '' ? m.address : `${m.name} <${m.address}>`;
}

/** The record the check expects for a cover letter (field order is the file's order). */
export function recordFromCover(c: CoverLetter): SeriesRecord {
  return {
    messageId: c.messageId,
    patchworkId: c.patchworkId ?? null,
    subject: c.subject,
    tags: [...c.tags],
    rfc: c.rfc,
    version: c.version,
    total: c.total ?? null,
    title: c.title,
    author: { name: c.author.name, address: c.author.address },
    date: c.date,
    dateHeader: c.dateHeader,
    to: c.to.map(formatMailbox),
    cc: c.cc.map(formatMailbox),
    history: c.history.map((h) => ({ from: h.from, to: h.to, items: [...h.items] })),
    patches: c.patches.map((p) => ({ author: p.author, title: p.title })),
    diffstat:
      c.diffstat === undefined
        ? null
        : {
            files: c.diffstat.files,
            insertions: c.diffstat.insertions,
            deletions: c.diffstat.deletions,
            entries: c.diffstat.entries.map((e) => ({ path: e.path, changes: e.changes, binary: e.binary })),
            renames: c.diffstat.renames.map((r) => ({ ...r })),
            created: [...c.diffstat.created],
            deleted: [...c.diffstat.deleted],
          },
    body: c.body,
  };
}

/** Every kernel path the diffstat names: plain paths, both sides of renames, created/deleted. */
export function diffstatPaths(r: SeriesRecord): readonly string[] {
  if (r.diffstat === null) return [];
  const out = new Set<string>();
  for (const e of r.diffstat.entries) out.add(e.path);
  for (const x of r.diffstat.renames) {
    out.add(x.from);
    out.add(x.to);
  }
  for (const p of [...r.diffstat.created, ...r.diffstat.deleted]) out.add(p);
  return [...out];
}

/** Whether a kernel path is in the diffstat; git shortens long paths to ".../tail". */
export function diffstatNames(r: SeriesRecord, path: string): boolean {
  return diffstatPaths(r).some((p) => p === path || (p.startsWith('.../') && path.endsWith(p.slice(3))));
}

/** A stable directory name for a series: "enable-ptp-kvm-for-arm64-v4". */
export function seriesSlug(r: Pick<SeriesRecord, 'title' | 'version'>): string {
  const base = r.title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/g, '');
  return `${base === '' ? 'series' : base}-v${r.version}`;
}
