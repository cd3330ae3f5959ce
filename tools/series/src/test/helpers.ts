// Test helpers: the seed's path, temp folders, small mbox builders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MBOX, findRepoRoot } from '../check/workspace.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = findRepoRoot(here) ?? resolve(here, '../../../..');
export const SEED = resolve(REPO_ROOT, DEFAULT_MBOX);

export function tempDir(t: { onTestFinished: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvmlab-series-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface MailSpec {
  readonly subject?: string;
  readonly from?: string;
  readonly messageId?: string;
  readonly date?: string;
  readonly extraHeaders?: readonly string[];
  readonly body: string;
}

/** One mbox message (separator line included), ending with a newline. */
export function mail(spec: MailSpec): string {
  const headers = [
    `From: ${spec.from ?? 'Ada Lovelace <ada@example.org>'}`,
    'To: kvm@vger.kernel.org',
    ...(spec.subject === undefined ? [] : [`Subject: ${spec.subject}`]),
    `Date: ${spec.date ?? 'Thu, 26 Sep 2019 10:00:00 +0000'}`,
    `Message-Id: ${spec.messageId ?? '<1@example.org>'}`,
    'Content-Type: text/plain; charset="utf-8"',
    ...(spec.extraHeaders ?? []),
  ];
  return `From patchwork Thu Sep 26 10:00:00 2019\n${headers.join('\n')}\n\n${spec.body}\n`;
}

/** A cover-letter body with a shortlog and a consistent diffstat. */
export function coverBody(author: string, titles: readonly string[], files: readonly [string, number][]): string {
  const ins = files.reduce((s, [, n]) => s + n, 0);
  return [
    'Some words about the series.',
    '',
    `${author} (${titles.length}):`,
    ...titles.map((t) => `  ${t}`),
    '',
    ...files.map(([p, n]) => ` ${p} | ${n} ${'+'.repeat(Math.min(n, 20))}`),
    ` ${files.length} file${files.length === 1 ? '' : 's'} changed, ${ins} insertion${ins === 1 ? '' : 's'}(+)`,
  ].join('\n');
}
