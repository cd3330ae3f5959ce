// The bracketed prefix of a patch mail subject: "[RFC PATCH v4 0/6] Enable ptp_kvm for arm64".
// git format-patch writes it as `[<prefix> v<N> <n>/<m>]`; the prefix words (PATCH, RFC,
// RESEND, a tree name such as net-next) are kept in order as tags.

export interface SubjectTags {
  /** Words of the bracketed prefix other than the version and the n/m counter. */
  readonly tags: readonly string[];
  readonly rfc: boolean;
  /** Series version; 1 when the subject carries no vN. */
  readonly version: number;
  /** Position in the series (0 for a cover letter); undefined for a lone patch. */
  readonly index: number | undefined;
  /** Number of patches announced by n/m; undefined for a lone patch. */
  readonly total: number | undefined;
  readonly title: string;
}

export type SubjectParse = { readonly ok: true; readonly value: SubjectTags } | { readonly ok: false; readonly reason: string };

const REPLY = /^(?:re|aw|sv|fwd?)\s*:\s*/i;

/** Parses a subject; the reason says what is missing when it is not a patch subject. */
export function parseSubject(subject: string): SubjectParse {
  let rest = subject.replace(/\s+/g, ' ').trim();
  if (REPLY.test(rest)) return { ok: false, reason: 'a reply (Re:), not a patch or cover letter' };
  const words: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = /^\[([^\]]*)\]\s*/.exec(rest)) !== null) {
    words.push(...(m[1] ?? '').split(/[\s,]+/).filter((w) => w !== ''));
    rest = rest.slice(m[0].length);
  }
  if (words.length === 0) return { ok: false, reason: 'no subject tag such as [PATCH v2 0/3]' };
  const tags: string[] = [];
  let version = 1;
  let index: number | undefined;
  let total: number | undefined;
  for (const w of words) {
    const v = /^v(\d+)$/i.exec(w);
    const nm = /^(\d+)\/(\d+)$/.exec(w);
    if (v !== null) version = Number(v[1]);
    else if (nm !== null) {
      index = Number(nm[1]);
      total = Number(nm[2]);
    } else tags.push(w);
  }
  if (!tags.some((t) => /^(?:patch|rfc)$/i.test(t))) {
    return { ok: false, reason: `subject tag [${words.join(' ')}] has neither PATCH nor RFC` };
  }
  if (index !== undefined && total !== undefined && index > total) {
    return { ok: false, reason: `subject tag counter ${index}/${total} is past the end of the series` };
  }
  if (rest === '') return { ok: false, reason: 'the subject has a tag but no title' };
  return { ok: true, value: { tags, rfc: tags.some((t) => /^rfc$/i.test(t)), version, index, total, title: rest } };
}
