import type { ConformanceReport } from '@kvmlab/linux-kvm';
import { isAvailable } from '@kvmlab/linux-kvm';
import { Parser, type FinalResults } from 'tap-parser';
import { describe, expect, it } from 'vitest';
import { formatConformanceTap, tapExitStatus } from '../src/tap.js';
import { cli } from './helpers.js';

interface Parsed {
  readonly final: FinalResults;
  readonly version: number | undefined;
  readonly asserts: { ok: boolean; id: number; name: string; todo: string | boolean; skip: string | boolean; diag: Record<string, unknown> | null }[];
}

/** Parses a TAP stream with tap-parser (TAP 14). */
function parseTap(text: string): Parsed {
  const asserts: Parsed['asserts'] = [];
  let final: FinalResults | undefined;
  let version: number | undefined;
  const p = new Parser((r) => (final = r));
  p.on('version', (v: number) => (version = v));
  p.on('assert', (a: Parsed['asserts'][number]) => asserts.push(a));
  p.end(text);
  return { final: final!, version, asserts };
}

const report = (over: Partial<ConformanceReport>): ConformanceReport => ({
  uname: '6.18.44-test',
  source: 'fixture',
  era: { name: '6.18' } as ConformanceReport['era'],
  rows: [],
  counts: { steps: 0, match: 0, era: 0, mismatch: 0 },
  skipped: [],
  ...over,
});

describe('TAP 14 output (tap.ts)', () => {
  const r = report({
    rows: [
      { script: 'caps', index: 0, step: 'CHECK_EXTENSION(vm) KVM_CAP_X', kernel: '1', model: '1', match: 'yes' },
      { script: 'caps', index: 1, step: 'CHECK_EXTENSION(vm) #hash', kernel: '4096', model: '0', match: 'era', era: 'added in 5.14' },
      { script: 'kvmclock-msrs', index: 2, step: 'KVM_KVMCLOCK_CTRL', kernel: 'EINVAL', model: '0', match: 'no' },
    ],
    counts: { steps: 3, match: 1, era: 1, mismatch: 1 },
    skipped: [{ script: 'kvmclock-clock', index: 0, step: 'KVM_GET_CLOCK', reason: 'no kvmclock model' }],
  });

  it('a plan, one line per step, TODO for era differences, SKIP with the reason, YAML detail only for failures', () => {
    const text = formatConformanceTap(r);
    const t = parseTap(text);
    expect(t.version).toBe(14);
    expect(t.final.plan).toMatchObject({ start: 1, end: 4 });
    // tap-parser counts the TODO in `fail` and `todo`, but only the real failure in `failures`
    expect(t.final).toMatchObject({ count: 4, pass: 2, fail: 2, todo: 1, skip: 1, ok: false });
    expect(t.final.failures.map((f) => f.id)).toEqual([3]);
    expect(t.asserts.map((a) => [a.id, a.ok])).toEqual([[1, true], [2, false], [3, false], [4, true]]);
    expect(t.asserts[1]!.todo).toBe('added in 5.14');
    expect(t.asserts[1]!.name).toBe('caps/1 CHECK_EXTENSION(vm) #hash'); // the escaped # is not a directive
    expect(t.asserts[3]!.skip).toBe('no kvmclock model');
    expect(t.asserts[2]!.diag).toEqual({ kernel: 'EINVAL', model: '0' });
    expect(t.asserts[0]!.diag).toBeNull();
    expect(tapExitStatus(r)).toBe(1);
  });

  it('--verbose gives every step its kernel/model YAML block', () => {
    const t = parseTap(formatConformanceTap(r, { verbose: true }));
    expect(t.asserts[0]!.diag).toEqual({ kernel: '1', model: '1' });
  });

  it('exit status 0 when only TODO and SKIP are not ok (kselftest)', () => {
    expect(tapExitStatus(report({ counts: { steps: 2, match: 1, era: 1, mismatch: 0 } }))).toBe(0);
  });
});

describe('kvmlab conform prints TAP 14', () => {
  it('the recorded run: parses, plan covers every step, the kvmclock steps are checked, exit 1 exactly when a step fails', async () => {
    const out = await cli(['conform'], []);
    const t = parseTap(out.stdout);
    expect(t.version).toBe(14);
    expect(out.status, out.stderr).toBe(t.final.failures.length > 0 ? 1 : 0);
    expect(t.final.count).toBe(t.asserts.length);
    expect(t.final.plan?.end).toBe(t.asserts.length);
    const kvmclock = t.asserts.filter((a) => a.name.startsWith('kvmclock-'));
    expect(kvmclock.length).toBeGreaterThanOrEqual(40);
    expect(kvmclock.filter((a) => a.skip !== false)).toEqual([]);
    expect(kvmclock.filter((a) => !a.ok).every((a) => typeof a.todo === 'string' && a.todo.length > 0)).toBe(true);
    expect(out.stdout.split('\n').filter((l) => /^(not )?ok \d+ - /.test(l))).toHaveLength(t.asserts.length);
  });

  it.skipIf(!isAvailable().ok)('--live on this machine: 0 failures; documented era differences are TODO', async () => {
    const out = await cli(['conform', '--live'], []);
    const t = parseTap(out.stdout);
    const kvmclock = t.asserts.filter((a) => a.name.startsWith('kvmclock-'));
    expect(kvmclock.length).toBeGreaterThanOrEqual(40);
    expect(kvmclock.filter((a) => !a.ok && a.todo === false).map((a) => a.name)).toEqual([]);
    expect(out.status).toBe(t.final.failures.length > 0 ? 1 : 0);
  });
});
