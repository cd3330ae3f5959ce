// Field-by-field comparison of a stored record with the one computed from the mbox, so the
// check can say exactly which field drifted ("series[0].diffstat.insertions").

export interface FieldDiff {
  readonly path: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Differences between `expected` and `actual` (JSON values), deepest paths first found. */
export function diffJson(expected: unknown, actual: unknown, path = ''): FieldDiff[] {
  if (Object.is(expected, actual)) return [];
  const ke = kind(expected);
  if (ke !== kind(actual)) return [{ path, expected, actual }];
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: FieldDiff[] = [];
    const n = Math.min(expected.length, actual.length);
    for (let i = 0; i < n; i++) out.push(...diffJson(expected[i], actual[i], `${path}[${i}]`));
    if (expected.length !== actual.length) {
      out.push({ path: `${path}.length`, expected: expected.length, actual: actual.length });
    }
    return out;
  }
  if (ke === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const out: FieldDiff[] = [];
    for (const k of new Set([...Object.keys(e), ...Object.keys(a)])) {
      out.push(...diffJson(e[k], a[k], path === '' ? k : `${path}.${k}`));
    }
    return out;
  }
  return [{ path, expected, actual }];
}

export function showValue(v: unknown, max = 70): string {
  const s = v === undefined ? '(missing)' : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
