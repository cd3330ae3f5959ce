import { resolveScenarioOptions, type TraceEvent } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { scenarios } from '../src/index.js';
import { runMigration } from '../src/scenarios/migration-run.js';
import { L2_STORES_PER_RUN } from '../src/scenarios/nested-guest.js';
import { migrationOptions } from '../src/scenarios/nested-migration.js';
import { syncAsserts } from '../src/scenarios/selftest-assert.js';

/**
 * The EPT violations of a trace as trace-cmd shows them: kvm_page_fault (GPA, exit qualification:
 * bit 1 = write), after kvm_nested_vmexit when L2 faulted.
 */
function eptFaults(trace: readonly TraceEvent[]): { gpa: string; write: boolean; l2: boolean }[] {
  const out: { gpa: string; write: boolean; l2: boolean }[] = [];
  trace.forEach((e, i) => {
    if (e.name !== 'kvm_page_fault' || e.ph !== 'i') return;
    const q = BigInt(String(e.args?.['error_code']));
    out.push({ gpa: String(e.args?.['fault_address']), write: (q & 2n) !== 0n, l2: trace[i - 1]?.name === 'kvm_nested_vmexit' });
  });
  return out;
}

const byName = (n: string) => {
  const s = scenarios.find((x) => x.name === n);
  if (s === undefined) throw new Error(`no scenario ${n}`);
  return s;
};

describe('scenario vmx-dirty-log (the selftest on the model)', () => {
  const def = byName('vmx-dirty-log');
  const run = (variant: string, opts: Record<string, unknown> = {}) =>
    def.run({ variant, arch: 'x86_64', seed: 1, options: resolveScenarioOptions(def, opts) });

  it('pre-fix fails exactly at sync 5 with page 0 clean and page 2 dirty', () => {
    const r = run('pre-fix');
    expect(r.verdict).toBe('bug-reproduced');
    expect(r.headline.value).toBe('4 / 7');
    const syncs = r.details.syncs as { sync: number; reported: string; result: string }[];
    expect(syncs).toHaveLength(5);
    expect(syncs[4]).toMatchObject({ sync: 5, reported: '{2}', result: 'FAIL: Page 0 incorrectly reported clean' });
  });

  it('merged passes all seven syncs and reaches GUEST_DONE', () => {
    const r = run('merged');
    expect(r.verdict).toBe('pass');
    expect(r.headline.value).toBe('7 / 7');
    expect(r.details.done).toBe(true);
  });

  it('pre-fix passes too when L0 has PML off, or when EPTP12 has no A/D', () => {
    expect(run('pre-fix', { enablePml: false }).verdict).toBe('pass');
    expect(run('pre-fix', { eptAd: false }).verdict).toBe('pass');
  });

  it('pre-fix reports the failure as the selftest prints it (lib/assert.c): file:line of the v5.4 test, the expression, the message; merged prints nothing', () => {
    const pre = run('pre-fix');
    expect(pre.details['output']).toBe('==== Test Assertion Failure ====\n  x86_64/vmx_dirty_log_test.c:137: test_bit(0, bmap)\n  Page 0 incorrectly reported clean\n\n');
    expect(pre.details['exitStatus']).toBe(254);
    expect(pre.summary).toContain('fails at sync 5');
    const fix = run('merged');
    expect(fix.details['output']).toBeUndefined();
    expect(fix.details['exitStatus']).toBe(0);
    // page 0 reported dirty when it must be clean is the assertion at line 140
    const asserts = [...syncAsserts(true), ...syncAsserts(false)];
    expect(new Set(asserts.map((a) => a.line)).size).toBe(8);
    expect(syncAsserts(false)[0]).toMatchObject({ line: 140, expr: '!test_bit(0, bmap)', message: 'Page 0 incorrectly reported dirty' });
  });

  it('is deterministic: the same seed gives the same result', () => {
    expect(JSON.stringify(run('pre-fix'))).toBe(JSON.stringify(run('pre-fix')));
  });

  it('with trace on, the exits and syncs are trace events; the EPT violations on the test memory are the three the spec expects', () => {
    const r = def.run({ variant: 'merged', arch: 'x86_64', seed: 1, options: resolveScenarioOptions(def), trace: true });
    const trace = r.trace ?? [];
    const names = trace.map((e) => e.name);
    expect(names.filter((n) => n.startsWith('sync '))).toHaveLength(7);
    const ept = eptFaults(trace);
    // MEM1's read fault (the gpte is dirty: mapped writable), MEM2's first write, and MEM2's write
    // after the harvest write-protected its AD_WRPROT_ONLY leaf
    const onTestMemory = ept.filter((a) => BigInt(a.gpa) >= 0xc0000000n);
    expect(onTestMemory).toEqual([
      { gpa: '0xc0001000', write: false, l2: true },
      { gpa: '0xc0002000', write: true, l2: true },
      { gpa: '0xc0002000', write: true, l2: true },
    ]);
    // the others fault in L1's VMXON region, its VMCS and ucall struct (TDP), then L2's code and ucall pages (shadow EPT)
    expect(ept.map((a) => a.l2)).toEqual([false, false, false, true, true, true, true, true]);
    expect(r.figures.find((f) => f.label.startsWith('EPT-violation exits'))?.value).toBe(ept.length);
    expect(run('merged').trace).toBeUndefined();
  });

  it('pre-fix: the trace ends at sync 5, with no EPT violation for MEM2’s second write (PML logged it instead)', () => {
    const r = def.run({ variant: 'pre-fix', arch: 'x86_64', seed: 1, options: resolveScenarioOptions(def), trace: true });
    const trace = r.trace ?? [];
    expect(trace.filter((e) => e.name.startsWith('sync ')).map((e) => e.name)).toEqual([
      'sync 1: pass', 'sync 2: pass', 'sync 3: pass', 'sync 4: pass', 'sync 5: Page 0 incorrectly reported clean',
    ]);
    const onTestMemory = eptFaults(trace).filter((a) => BigInt(a.gpa) >= 0xc0000000n);
    expect(onTestMemory).toHaveLength(2);
    expect(r.figures.find((f) => f.label === 'PML entries logged')?.value).toBe(1);
  });
});

describe('scenario nested-migration', () => {
  const def = byName('nested-migration');
  const small = { l1GiB: 2, l2MiB: 64, wssMiB: 16, hotMiB: 4, writesPerSec: 20000 };
  const run = (variant: string, opts: Record<string, unknown> = small, seed = 7) =>
    def.run({ variant, arch: 'x86_64', seed, options: resolveScenarioOptions(def, opts) });

  it('pre-fix loses pages of the nested workload and none of the plain one; merged loses none', () => {
    const pre = run('pre-fix');
    const fix = run('merged');
    const lost = (r: ReturnType<typeof run>, label: string) => r.figures.find((f) => f.label.startsWith(label))!.value;
    expect(pre.verdict).toBe('bug-reproduced');
    expect(lost(pre, 'pages lost (nested')).toBeGreaterThan(0);
    expect(lost(pre, 'pages lost (plain')).toBe(0);
    expect(fix.verdict).toBe('ok');
    expect(lost(fix, 'pages lost (nested')).toBe(0);
    expect(lost(fix, 'pages lost (plain')).toBe(0);
    // The fix works by write protection: L2 writes after a harvest fault (exit 48) instead of being logged.
    expect(lost(fix, 'write-protect faults') as number).toBeGreaterThan(0);
    expect(lost(pre, 'write-protect faults')).toBe(0);
  });

  it('with 2 vCPUs (each running an L2 through the same EPT12): pre-fix loses pages, merged none', () => {
    const lost = (variant: string) => {
      const o = resolveScenarioOptions(def, { ...small, vcpus: 2, writesPerSec: 5000 });
      const r = runMigration(migrationOptions(variant as 'pre-fix' | 'merged', 3, o, 'nested'));
      expect(r.exits.VMLAUNCH).toBe(2);
      return r.precopy.pagesLost;
    };
    expect(lost('pre-fix')).toBeGreaterThan(0);
    expect(lost('merged')).toBe(0);
  });

  it('a working set beyond one L2 entry (131 MiB = 33 536 stores) warms up over two entries and migrates (was EBUSY at the first tick)', () => {
    const o = resolveScenarioOptions(def, { l1GiB: 2, l2MiB: 256, wssMiB: 131, hotMiB: 4, writesPerSec: 5000 });
    const pre = runMigration(migrationOptions('pre-fix', 1, o, 'nested'));
    const fix = runMigration(migrationOptions('merged', 1, o, 'nested'));
    // L2 hands the CPU back after L2_STORES_PER_RUN stores, and L1 resumes it for the rest.
    expect(33_536).toBeGreaterThan(L2_STORES_PER_RUN);
    expect(fix.exits.VMLAUNCH).toBe(1);
    expect(pre.precopy.pagesLost).toBeGreaterThan(0);
    expect(fix.precopy.pagesLost).toBe(0);
  });

  it('reports rounds, pages per round and a dirty-pages-per-round series', () => {
    const r = run('merged');
    const s = r.series.find((x) => x.name === 'dirty-pages-per-round')!;
    expect(s.x.length).toBeGreaterThan(0);
    expect(s.y.nested!.length).toBe(s.x.length);
    const nested = r.details.nested as { precopy: { rounds: { pagesSent: number }[] } };
    expect(nested.precopy.rounds[0]!.pagesSent).toBe(2 * 262144); // the bulk stage sends every page of 2 GiB
  });

  it('no bug even pre-fix with PML off, EPTP12 A/D off, or L2 on L1’s TDP (no EPT12)', () => {
    for (const o of [{ enablePml: false }, { eptp12Ad: false }, { tdpForL2: true }]) {
      expect(run('pre-fix', { ...small, ...o }).verdict).toBe('ok');
    }
  });

  it('with trace on, the rounds and the downtime are trace slices, and the EPT violations in the trace are the exits counted', () => {
    const l2Faults = (variant: string) => {
      const r = def.run({ variant, arch: 'x86_64', seed: 7, options: resolveScenarioOptions(def, small), trace: true });
      const trace = r.trace ?? [];
      const names = trace.map((e) => e.name);
      expect(names).toContain('round 1');
      expect(names).toContain('stop-and-copy (downtime)');
      const fig = (label: string) => r.figures.find((f) => f.label === label)?.value;
      const ept = eptFaults(trace);
      expect(trace.filter((e) => e.ph === 'i' && e.name === 'kvm_exit' && e.args?.['exit_reason'] === 'EPT_VIOLATION').length).toBe(fig('exits: EPT_VIOLATION'));
      expect(ept.length).toBe(fig('exits: EPT_VIOLATION'));
      return { l2: ept.filter((a) => a.l2).length, wpFaults: fig('write-protect faults') as number };
    };
    const wssPages = (small.wssMiB << 20) / 4096;
    // pre-fix: L2 faults only at the first touch of each working-set page; merged: also once per
    // page written again after a harvest (the write-protect faults)
    const pre = l2Faults('pre-fix');
    expect(pre).toEqual({ l2: wssPages, wpFaults: 0 });
    const fix = l2Faults('merged');
    expect(fix.wpFaults).toBeGreaterThan(0);
    expect(fix.l2).toBe(wssPages + fix.wpFaults);
  });

  it('is deterministic for a seed', () => {
    expect(JSON.stringify(run('pre-fix'))).toBe(JSON.stringify(run('pre-fix')));
  });

  it('the nested migration of a 16 GiB L1 takes < 5 s of CPU (sparse memory: only touched pages cost)', () => {
    const opts = migrationOptions('merged', 7, resolveScenarioOptions(def, { l1GiB: 16 }), 'nested');
    const c0 = process.cpuUsage();
    const r = runMigration(opts);
    const c = process.cpuUsage(c0);
    expect(r.precopy.pagesLost).toBe(0);
    expect(r.precopy.rounds[0]!.pagesSent).toBe(16 * 262144);
    expect((c.user + c.system) / 1000).toBeLessThan(5000);
  }, 60_000);

  it('rejects an L2 that does not fit in L1', () => {
    expect(() => run('merged', { l1GiB: 2, l2MiB: 2048, wssMiB: 16, hotMiB: 4 })).toThrow(RangeError);
  });
});
