// Splits an mbox (or a patchwork "mbox in markdown" export such as the seed file, where each
// message sits in a ``` fence under a `#### [PATCH …]` heading) into raw messages.
import { error, warning, type Diagnostic } from './diagnostic.js';

export interface RawMessage {
  /** 1-based line of the `From ` separator line. */
  readonly fromLine: number;
  /** The separator line itself, e.g. `From patchwork Thu Sep 26 11:42:07 2019`. */
  readonly envelope: string;
  /** 1-based line of the first header line (fromLine + 1). */
  readonly firstLine: number;
  /** The message lines after the separator, with mboxrd `>From ` quoting undone. */
  readonly lines: readonly string[];
}

export interface SplitResult {
  readonly messages: readonly RawMessage[];
  readonly diagnostics: readonly Diagnostic[];
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
// The mbox separator: `From <envelope-sender> <asctime date>`, optionally with a zone before
// the year. Requiring the asctime date keeps body lines such as "From v3 to v4:" or a
// quoted "From someone …" from being taken for a separator.
const FROM_LINE = new RegExp(
  `^From \\S+ +${DAY} ${MONTH} +\\d{1,2} \\d{1,2}:\\d{2}(?::\\d{2})? (?:[A-Z]{1,5} |[+-]\\d{4} )?\\d{4}\\s*$`,
);
const FENCE = /^\s*(```|~~~)/;
// Lines of a patchwork markdown export that sit between messages.
const WRAPPER = /^#{1,6}\s/;

export function isFromLine(line: string): boolean {
  return FROM_LINE.test(line);
}

/** Splits mbox text into messages; never throws, reports what it could not make sense of. */
export function splitMbox(text: string): SplitResult {
  const all = text.replace(/\r\n?/g, '\n').split('\n');
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  const messages: RawMessage[] = [];
  const diagnostics: Diagnostic[] = [];
  let current: { fromLine: number; envelope: string; lines: string[] } | undefined;
  // Set while inside a ``` fence opened between messages (a markdown export); a fence seen
  // inside a plain mbox message is just body text.
  let fenceOpenedAt = 0;
  let inStrayRun = false;

  const close = (): void => {
    if (current === undefined) return;
    const lines = current.lines;
    while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
    messages.push({ fromLine: current.fromLine, envelope: current.envelope, firstLine: current.fromLine + 1, lines });
    current = undefined;
  };

  all.forEach((line, i) => {
    const n = i + 1;
    if (isFromLine(line)) {
      close();
      current = { fromLine: n, envelope: line, lines: [] };
      inStrayRun = false;
      return;
    }
    if (FENCE.test(line)) {
      if (fenceOpenedAt !== 0) {
        // The closing fence ends the message of a markdown export.
        fenceOpenedAt = 0;
        close();
        inStrayRun = false;
        return;
      }
      if (current === undefined) {
        fenceOpenedAt = n;
        return;
      }
    }
    if (current !== undefined) {
      // mboxrd: a body line starting with ">From " (any number of ">") was quoted on write.
      current.lines.push(/^>+From /.test(line) ? line.slice(1) : line);
      return;
    }
    if (line.trim() === '' || (fenceOpenedAt === 0 && WRAPPER.test(line))) return;
    if (fenceOpenedAt !== 0) {
      // Inside an export's fence but before any separator: a message we cannot delimit.
      if (!inStrayRun) {
        inStrayRun = true;
        diagnostics.push(error(n, `message without a 'From ' separator line is skipped: ${JSON.stringify(clip(line))}`));
      }
      return;
    }
    if (!inStrayRun) {
      inStrayRun = true;
      diagnostics.push(warning(n, `text outside any message is ignored: ${JSON.stringify(clip(line))}`));
    }
  });
  if (fenceOpenedAt !== 0 && current !== undefined) {
    diagnostics.push(
      error(all.length, `truncated file: the code fence opened at line ${fenceOpenedAt} is never closed`),
    );
  }
  close();
  if (messages.length === 0) {
    diagnostics.unshift(
      error(1, "not an mbox: no 'From ' separator line (such as 'From patchwork Thu Sep 26 11:42:07 2019') found"),
    );
  }
  return { messages, diagnostics };
}

export function clip(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
