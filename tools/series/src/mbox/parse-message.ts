// One mail message of an mbox, parsed with postal-mime (headers, folded lines, RFC 2047
// encoded words, transfer encodings), with the line numbers needed to report problems.
import PostalMime, { type Address } from 'postal-mime';
import { error, warning, type Diagnostic } from './diagnostic.js';
import { clip, type RawMessage } from './split-mbox.js';

export interface Mailbox {
  readonly name: string;
  readonly address: string;
}

export interface MailMessage {
  readonly fromLine: number;
  readonly envelope: string;
  /** Lowercase header name → 1-based line of its first occurrence in the mbox. */
  readonly headerLines: ReadonlyMap<string, number>;
  /** 1-based mbox line of the first body line. */
  readonly bodyLine: number;
  readonly subject: string | undefined;
  readonly from: Mailbox | undefined;
  readonly to: readonly Mailbox[];
  readonly cc: readonly Mailbox[];
  /** ISO 8601 (UTC) as postal-mime gives it. */
  readonly date: string | undefined;
  /** The Date header as written (keeps the sender's zone). */
  readonly dateHeader: string | undefined;
  readonly messageId: string | undefined;
  readonly inReplyTo: string | undefined;
  readonly patchworkId: number | undefined;
  /** The decoded text/plain body, lines separated by "\n". */
  readonly body: string;
}

export interface ParsedMessage {
  readonly message: MailMessage | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

const HEADER = /^([!-9;-~]+):/;

function mailboxes(list: readonly Address[] | undefined): Mailbox[] {
  const out: Mailbox[] = [];
  for (const a of list ?? []) {
    if (a.group !== undefined) out.push(...a.group.map((m) => ({ name: m.name, address: m.address })));
    else out.push({ name: a.name, address: a.address });
  }
  return out;
}

/** Parses one raw message; a message that cannot be read at all yields no message. */
export async function parseMessage(raw: RawMessage): Promise<ParsedMessage> {
  const diagnostics: Diagnostic[] = [];
  const headerLines = new Map<string, number>();
  let blank = -1;
  for (let i = 0; i < raw.lines.length; i++) {
    const line = raw.lines[i] ?? '';
    const n = raw.firstLine + i;
    if (line.trim() === '') {
      blank = i;
      break;
    }
    if (/^[ \t]/.test(line)) {
      if (i === 0) diagnostics.push(warning(n, 'the message starts with a folded (indented) line'));
      continue;
    }
    const m = HEADER.exec(line);
    if (m === null) {
      diagnostics.push(warning(n, `not a header line (no "Name:"): ${JSON.stringify(clip(line))}`));
      continue;
    }
    const key = (m[1] ?? '').toLowerCase();
    if (!headerLines.has(key)) headerLines.set(key, n);
  }
  if (headerLines.size === 0) {
    diagnostics.push(error(raw.fromLine, 'message has no headers'));
    return { message: undefined, diagnostics };
  }
  if (blank < 0) {
    const last = raw.firstLine + raw.lines.length - 1;
    diagnostics.push(error(last, 'truncated message: the headers never end (no blank line, no body)'));
  }
  let email;
  try {
    email = await PostalMime.parse(raw.lines.join('\n') + '\n');
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    diagnostics.push(error(raw.fromLine, `postal-mime could not parse the message: ${why}`));
    return { message: undefined, diagnostics };
  }
  const from = mailboxes(email.from === undefined ? undefined : [email.from])[0];
  const pwId = email.headers.find((h) => h.key === 'x-patchwork-id')?.value.trim();
  const message: MailMessage = {
    fromLine: raw.fromLine,
    envelope: raw.envelope,
    headerLines,
    bodyLine: blank < 0 ? raw.firstLine + raw.lines.length : raw.firstLine + blank + 1,
    subject: email.subject,
    from,
    to: mailboxes(email.to),
    cc: mailboxes(email.cc),
    date: email.date,
    dateHeader: email.headers.find((h) => h.key === 'date')?.value.trim(),
    messageId: email.messageId,
    inReplyTo: email.inReplyTo,
    patchworkId: pwId !== undefined && /^\d+$/.test(pwId) ? Number(pwId) : undefined,
    body: (email.text ?? '').replace(/\r\n?/g, '\n'),
  };
  return { message, diagnostics };
}
