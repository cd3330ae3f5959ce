// The `git shortlog` block of a cover letter: "Author Name (N):" followed by the N patch
// titles, indented; long titles wrap onto more deeply indented lines.
import { error, type Diagnostic } from '../mbox/diagnostic.js';

export interface PatchEntry {
  readonly author: string;
  readonly title: string;
}

export interface Shortlog {
  readonly patches: readonly PatchEntry[];
  readonly diagnostics: readonly Diagnostic[];
}

const AUTHOR = /^(\S.*?) \((\d+)\):\s*$/;

/** Parses every shortlog group of a body; `firstLine` is the mbox line of the body's first line. */
export function parseShortlog(body: string, firstLine: number): Shortlog {
  const lines = body.split('\n');
  const patches: PatchEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = AUTHOR.exec(lines[i] ?? '');
    if (head === null) continue;
    const author = head[1] ?? '';
    const declared = Number(head[2]);
    const titles: string[] = [];
    let indent = -1;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      if (line.trim() === '') break;
      const lead = line.length - line.trimStart().length;
      if (lead === 0) break;
      if (indent < 0) indent = lead;
      if (lead > indent && titles.length > 0) titles[titles.length - 1] += ` ${line.trim()}`;
      else titles.push(line.trim());
    }
    if (titles.length !== declared) {
      diagnostics.push(
        error(
          firstLine + i,
          `shortlog of ${author} announces ${declared} patch(es) but lists ${titles.length}` +
            (titles.length < declared ? ' (truncated?)' : ''),
        ),
      );
    }
    patches.push(...titles.map((title) => ({ author, title })));
    i = j - 1;
  }
  return { patches, diagnostics };
}
