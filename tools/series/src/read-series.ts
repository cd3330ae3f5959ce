// Reads a whole mbox into cover letters and patch mails, collecting every problem found
// along the way; a bad message is reported and skipped, the rest of the file is still read.
import { classifyMessage, type CoverLetter, type PatchMail } from './cover/cover-letter.js';
import { warning, type Diagnostic } from './mbox/diagnostic.js';
import { parseMessage } from './mbox/parse-message.js';
import { splitMbox } from './mbox/split-mbox.js';

export interface SeriesFile {
  readonly covers: readonly CoverLetter[];
  readonly patches: readonly PatchMail[];
  readonly diagnostics: readonly Diagnostic[];
}

export async function readSeries(text: string): Promise<SeriesFile> {
  const split = splitMbox(text);
  const diagnostics: Diagnostic[] = [...split.diagnostics];
  const covers: CoverLetter[] = [];
  const patches: PatchMail[] = [];
  for (const raw of split.messages) {
    const parsed = await parseMessage(raw);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.message === undefined) continue;
    const c = classifyMessage(parsed.message);
    diagnostics.push(...c.diagnostics);
    if (c.kind === 'cover') covers.push(c.cover);
    else if (c.kind === 'patch') patches.push(c.patch);
  }
  const seen = new Map<string, number>();
  for (const c of covers) {
    const first = seen.get(c.messageId);
    if (first !== undefined) {
      diagnostics.push(warning(c.fromLine, `cover letter ${c.messageId} already appears at line ${first}`));
    } else seen.set(c.messageId, c.fromLine);
  }
  for (const p of patches) {
    // A patch mail belongs to the cover letter it replies to (git send-email threads the
    // series under the cover), or else to a cover of the same version and size listing it.
    const cover =
      covers.find((c) => c.messageId === p.inReplyTo) ??
      covers.find((c) => c.version === p.version && c.total === p.total && c.patches.some((x) => x.title === p.title));
    const label = `patch ${p.index ?? ''}${p.total === undefined ? '' : `/${p.total}`} "${p.title}"`;
    if (cover === undefined) diagnostics.push(warning(p.fromLine, `${label} has no cover letter in this file`));
    else if (!cover.patches.some((x) => x.title === p.title)) {
      diagnostics.push(warning(p.fromLine, `${label} is not in the shortlog of its cover letter "${cover.title}"`));
    }
  }
  diagnostics.sort((a, b) => a.line - b.line);
  return { covers, patches, diagnostics };
}
