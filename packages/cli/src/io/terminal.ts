/**
 * How wide the output may be: the terminal's width when stdout is a TTY; when it is piped or
 * redirected, $COLUMNS if set (as GNU ls does), else 80 columns. Help, `list` and `caps` fit.
 */
export const PIPED_WIDTH = 80;
/** Narrower than this and the wrapped text would be mostly indentation. */
const MIN_WIDTH = 40;

export function outputWidth(stream: { readonly isTTY?: boolean; readonly columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = /^\d+$/.test(env.COLUMNS ?? '') ? Number(env.COLUMNS) : undefined;
  const cols = stream.isTTY === true ? stream.columns : fromEnv;
  return cols !== undefined && cols > 0 ? Math.max(MIN_WIDTH, cols) : PIPED_WIDTH;
}

/**
 * Word-wraps `text` to `width` columns; continuation lines start with `indent` spaces. A word
 * longer than the line is cut (a long variant name or hex string still fits).
 */
export function wrapText(text: string, width: number, indent = 0): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  const room = (): number => width - (lines.length === 0 ? 0 : indent);
  for (const word of text.split(/ +/)) {
    let w = word;
    while (w.length > 0) {
      const sep = line === '' ? '' : ' ';
      if (line.length + sep.length + w.length <= room()) {
        line += sep + w;
        w = '';
      } else if (line === '') {
        line = w.slice(0, room());
        w = w.slice(room());
        lines.push(line);
        line = '';
      } else {
        lines.push(line);
        line = '';
      }
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : pad + l));
}

/** `lead` then `text` wrapped so continuation lines align under the text's start. */
export function hangingWrap(lead: string, text: string, width: number): string {
  const lines = wrapText(text, width - lead.length);
  return lines.map((l, i) => (i === 0 ? lead : ' '.repeat(lead.length)) + l).join('\n');
}
