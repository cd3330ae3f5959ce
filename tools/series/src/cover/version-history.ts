// The per-version change log of a cover letter ("change log:\nfrom v3 to v4:\n (1) …").
// Recognised headings: "from vA to vB:", "vA -> vB:", "Changes in vB:", "Changes since vA:",
// "vB:"; items are "(1) text", "1) text", "1. text", "- text" or "* text", and an item
// continues on the following lines (indented or not) until a blank line or the next item.

export interface VersionStep {
  readonly from: number;
  readonly to: number;
  readonly items: readonly string[];
}

const STEP_HEADINGS: readonly ((s: string) => readonly [number, number] | undefined)[] = [
  (s) => pair(/^from\s+v(\d+)\s+to\s+v(\d+)\s*:?$/i.exec(s)),
  (s) => pair(/^v(\d+)\s*(?:->|→|=>|-->|\.\.)\s*v(\d+)\s*:?$/i.exec(s)),
  (s) => {
    const m = /^changes\s+(?:in|for)\s+v(\d+)\s*:?$/i.exec(s);
    return m === null ? undefined : [Number(m[1]) - 1, Number(m[1])];
  },
  (s) => {
    const m = /^changes\s+since\s+v(\d+)\s*:?$/i.exec(s);
    return m === null ? undefined : [Number(m[1]), Number(m[1]) + 1];
  },
  (s) => {
    const m = /^v(\d+)\s*:$/i.exec(s);
    return m === null ? undefined : [Number(m[1]) - 1, Number(m[1])];
  },
];

const ITEM = /^(?:\(\d+\)|\d+[.)]|[-*•])\s+(.*)$/;

function pair(m: RegExpExecArray | null): readonly [number, number] | undefined {
  return m === null ? undefined : [Number(m[1]), Number(m[2])];
}

function stepHeading(line: string): readonly [number, number] | undefined {
  const s = line.trim();
  for (const h of STEP_HEADINGS) {
    const r = h(s);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** Extracts every version step of a cover-letter body, in the order the letter gives them. */
export function parseVersionHistory(body: string): VersionStep[] {
  const steps: { from: number; to: number; items: string[] }[] = [];
  let step: { from: number; to: number; items: string[] } | undefined;
  let item: string[] | undefined;
  const flush = (): void => {
    if (step !== undefined && item !== undefined) step.items.push(item.join(' ').replace(/\s+/g, ' ').trim());
    item = undefined;
  };
  for (const line of body.split('\n')) {
    const heading = stepHeading(line);
    if (heading !== undefined) {
      flush();
      step = { from: heading[0], to: heading[1], items: [] };
      steps.push(step);
      continue;
    }
    if (step === undefined) continue;
    if (line.trim() === '') {
      flush();
      continue;
    }
    const m = ITEM.exec(line.trim());
    if (m !== null) {
      flush();
      item = [m[1] ?? ''];
    } else if (item !== undefined) {
      item.push(line.trim());
    } else if (step.items.length > 0 || !/^\s/.test(line)) {
      // Unindented prose after a blank line: the change log is over.
      step = undefined;
    } else {
      item = [line.trim()];
    }
  }
  flush();
  return steps;
}
