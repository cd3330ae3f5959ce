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
  diagnostics.sort((a, b) => a.line - b.line);
  return { covers, patches, diagnostics };
}
