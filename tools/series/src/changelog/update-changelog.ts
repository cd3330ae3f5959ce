// Puts the series-history block at the top of a CHANGELOG.md, right under the "# name"
// title, and leaves every other line alone. `changeset version` inserts each new release
// right under the title, i.e. above the block; running this again moves the block back to
// the top, so the file always reads: title, series history, then the releases, newest first.
import { BLOCK_END, BLOCK_START } from './series-history.js';

/** Returns the new changelog text; `existing` is undefined when the file does not exist. */
export function upsertSeriesHistory(existing: string | undefined, block: string, packageName: string): string {
  let text = (existing ?? '').replace(/\r\n?/g, '\n');
  const start = text.indexOf(BLOCK_START);
  if (start >= 0) {
    const endAt = text.indexOf(BLOCK_END, start);
    const end = endAt < 0 ? text.length : endAt + BLOCK_END.length;
    const before = text.slice(0, start).replace(/\n+$/, '\n');
    const after = text.slice(end).replace(/^\n+/, '');
    text = before.trim() === '' ? after : after === '' ? before : `${before}\n${after}`;
  }
  const titleMatch = /^# .*\n?/.exec(text);
  const title = titleMatch === null ? `# ${packageName}\n` : titleMatch[0].endsWith('\n') ? titleMatch[0] : `${titleMatch[0]}\n`;
  const rest = (titleMatch === null ? text : text.slice(titleMatch[0].length)).replace(/^\n+/, '');
  return `${title}\n${block}${rest === '' ? '' : `\n${rest}`}`;
}
