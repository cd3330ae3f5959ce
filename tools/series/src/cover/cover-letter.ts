// A series cover letter ("[PATCH vN 0/M] title"): who, when, what changed between versions,
// which patches, and the diffstat of the whole series.
import { error, warning, type Diagnostic } from '../mbox/diagnostic.js';
import type { MailMessage, Mailbox } from '../mbox/parse-message.js';
import { clip } from '../mbox/split-mbox.js';
import { parseDiffstat, type Diffstat } from './diffstat.js';
import { parseShortlog, type PatchEntry } from './shortlog.js';
import { parseSubject, type SubjectTags } from './subject.js';
import { parseVersionHistory, type VersionStep } from './version-history.js';

export interface CoverLetter extends SubjectTags {
  /** 1-based mbox line of the message's `From ` separator. */
  readonly fromLine: number;
  readonly subject: string;
  readonly author: Mailbox;
  readonly date: string;
  readonly dateHeader: string;
  readonly messageId: string;
  readonly patchworkId: number | undefined;
  readonly to: readonly Mailbox[];
  readonly cc: readonly Mailbox[];
  readonly body: string;
  readonly history: readonly VersionStep[];
  readonly patches: readonly PatchEntry[];
  readonly diffstat: Diffstat | undefined;
}

/** A numbered patch mail (n/m with n ≥ 1, or a lone [PATCH]). */
export interface PatchMail extends SubjectTags {
  readonly fromLine: number;
  readonly messageId: string | undefined;
  readonly inReplyTo: string | undefined;
}

export type Classified =
  | { readonly kind: 'cover'; readonly cover: CoverLetter; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'patch'; readonly patch: PatchMail; readonly diagnostics: readonly Diagnostic[] }
  | { readonly kind: 'rejected'; readonly diagnostics: readonly Diagnostic[] };

/** Sorts a message into cover letter, patch or rejected, with what is wrong with it. */
export function classifyMessage(msg: MailMessage): Classified {
  const at = (key: string): number => msg.headerLines.get(key) ?? msg.fromLine;
  if (msg.subject === undefined || msg.subject.trim() === '') {
    return { kind: 'rejected', diagnostics: [error(msg.fromLine, 'message has no Subject header')] };
  }
  const parsed = parseSubject(msg.subject);
  if (!parsed.ok) {
    return {
      kind: 'rejected',
      diagnostics: [error(at('subject'), `${parsed.reason}: ${JSON.stringify(clip(msg.subject, 80))}`)],
    };
  }
  const tags = parsed.value;
  if (tags.index !== undefined && tags.index > 0) {
    const patch: PatchMail = { ...tags, fromLine: msg.fromLine, messageId: msg.messageId, inReplyTo: msg.inReplyTo };
    return { kind: 'patch', patch, diagnostics: [] };
  }
  const diagnostics: Diagnostic[] = [];
  if (msg.messageId === undefined) diagnostics.push(error(msg.fromLine, 'cover letter has no Message-Id header'));
  if (msg.from === undefined) diagnostics.push(error(msg.fromLine, 'cover letter has no From header'));
  if (msg.date === undefined) diagnostics.push(error(msg.fromLine, 'cover letter has no Date header'));
  if (msg.messageId === undefined || msg.from === undefined || msg.date === undefined) {
    return { kind: 'rejected', diagnostics };
  }
  const shortlog = parseShortlog(msg.body, msg.bodyLine);
  const stat = parseDiffstat(msg.body, msg.bodyLine);
  diagnostics.push(...shortlog.diagnostics, ...stat.diagnostics);
  if (tags.total !== undefined && shortlog.patches.length !== tags.total) {
    diagnostics.push(
      warning(
        at('subject'),
        `"${tags.title}": the subject announces ${tags.total} patch(es) (0/${tags.total}) ` +
          `but the cover letter's shortlog lists ${shortlog.patches.length}`,
      ),
    );
  }
  if (stat.diffstat === undefined && stat.diagnostics.length === 0) {
    diagnostics.push(warning(msg.bodyLine, `"${tags.title}": cover letter has no diffstat`));
  }
  const cover: CoverLetter = {
    ...tags,
    fromLine: msg.fromLine,
    subject: msg.subject.replace(/\s+/g, ' ').trim(),
    author: msg.from,
    date: msg.date,
    dateHeader: msg.dateHeader ?? msg.date,
    messageId: msg.messageId,
    patchworkId: msg.patchworkId,
    to: msg.to,
    cc: msg.cc,
    body: msg.body,
    history: parseVersionHistory(msg.body),
    patches: shortlog.patches,
    diffstat: stat.diffstat,
  };
  return { kind: 'cover', cover, diagnostics };
}
